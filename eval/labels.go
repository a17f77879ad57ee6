package eval

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Label is one labelled window of a dataset: an anomaly the detector should
// report, or a trap (activity that must not produce an Insight). It has the
// JSON shape of datasets/<name>/labels.json.
type Label struct {
	ID          string `json:"id"`
	Account     string `json:"account"`
	Region      string `json:"region"`
	EventSource string `json:"event_source"`
	EventName   string `json:"event_name"`
	ErrorCode   string `json:"error_code,omitempty"`
	// Type is the Insight type the anomaly should produce
	// (ApiCallRateInsight or ApiErrorRateInsight), or "" for labels that
	// are not detection targets (traps, level shifts).
	Type string `json:"type"`
	// Kind names the planted pattern, e.g. provisioning_spike or
	// trap_readonly_spike.
	Kind      string    `json:"kind"`
	Trap      bool      `json:"trap"`
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	Principal string    `json:"principal"`
	Group     string    `json:"group"`
}

// Target reports whether l must be detected: it is not a trap and names an
// Insight type. Labels that are neither targets nor traps (level shifts)
// are tolerated: an Insight matching one is not a false positive.
func (l *Label) Target() bool { return !l.Trap && l.Type != "" }

// LabelSet is the content of a dataset's labels.json. Keys other than
// these are ignored.
type LabelSet struct {
	Dataset   string    `json:"dataset"`
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	WarmupEnd time.Time `json:"warmup_end"`
	Labels    []Label   `json:"labels"`
}

// LoadLabels reads <dir>/labels.json.
func LoadLabels(dir string) (*LabelSet, error) {
	path := filepath.Join(dir, "labels.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var ls LabelSet
	if err := json.Unmarshal(b, &ls); err != nil {
		return nil, fmt.Errorf("eval: %s: %w", path, err)
	}
	for i := range ls.Labels {
		l := &ls.Labels[i]
		if l.End.Before(l.Start) {
			return nil, fmt.Errorf("eval: %s: label %q ends (%s) before it starts (%s)", path, l.ID, l.End, l.Start)
		}
	}
	return &ls, nil
}
