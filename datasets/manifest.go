package datasets

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// ManifestFile is the name of the manifest in a dataset directory.
const ManifestFile = "labels.json"

// Manifest describes a generated dataset: what it covers, how big it is and
// where the anomalies and traps are. It is written to outDir/labels.json.
type Manifest struct {
	Dataset          string        `json:"dataset"`
	GeneratorVersion string        `json:"generator_version"`
	Seed             int64         `json:"seed"`
	Start            time.Time     `json:"start"`
	End              time.Time     `json:"end"`
	WarmupEnd        time.Time     `json:"warmup_end"`
	Accounts         []AccountInfo `json:"accounts"`
	Counts           Counts        `json:"counts"`
	Labels           []Label       `json:"labels"`
}

// AccountInfo is an account as recorded in the manifest.
type AccountInfo struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	TimeZone string   `json:"time_zone"`
	Regions  []string `json:"regions"`
}

// Counts are generation statistics.
type Counts struct {
	// Events is the number of records written, duplicates included;
	// UniqueEvents counts distinct eventIDs.
	Events       int64 `json:"events"`
	UniqueEvents int64 `json:"unique_events"`
	// ManagementWrites, ManagementReads and DataEvents split the unique
	// events; Errors counts unique events with an errorCode.
	ManagementWrites int64 `json:"management_writes"`
	ManagementReads  int64 `json:"management_reads"`
	DataEvents       int64 `json:"data_events"`
	Errors           int64 `json:"errors"`
	Files            int64 `json:"files"`
	// Bytes is the compressed size of the log files; JSONBytes their
	// uncompressed size.
	Bytes     int64 `json:"bytes"`
	JSONBytes int64 `json:"json_bytes"`
	// Kinds holds, per label kind, the incidents planted, the labels they
	// produced and the events they added, removed, turned into errors,
	// delayed or duplicated.
	Kinds map[string]KindCount `json:"kinds"`
	// Skipped lists incidents that found no room or no suitable target.
	Skipped []string `json:"skipped,omitempty"`
}

// KindCount summarises one label kind.
type KindCount struct {
	Incidents int `json:"incidents"`
	Labels    int `json:"labels"`
	Events    int `json:"events"`
}

// Label is one expected outcome. For anomalies (Trap false) an Insight of
// Type on the key is expected within [Start, End); for traps (Trap true,
// Type "") nothing should be emitted because of the activity in the window.
type Label struct {
	ID          string `json:"id"`
	Account     string `json:"account"`
	Region      string `json:"region"`
	EventSource string `json:"event_source"`
	EventName   string `json:"event_name"`
	ErrorCode   string `json:"error_code,omitempty"`
	// Type is ApiCallRateInsight or ApiErrorRateInsight, or "" for traps.
	Type  string    `json:"type"`
	Kind  string    `json:"kind"`
	Trap  bool      `json:"trap"`
	Start time.Time `json:"start"` // minute-aligned UTC, inclusive
	End   time.Time `json:"end"`   // minute-aligned UTC, exclusive
	// Principal is the expected top userIdentity.arn of the activity, when
	// one principal dominates it.
	Principal string `json:"principal,omitempty"`
	// Group is shared by the labels one incident produced.
	Group string `json:"group,omitempty"`
}

// LoadManifest reads dir/labels.json.
func LoadManifest(dir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("decode manifest %s: %w", filepath.Join(dir, ManifestFile), err)
	}
	return &m, nil
}

// write stores m as indented JSON in dir/labels.json.
func (m *Manifest) write(dir string) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("encode manifest: %w", err)
	}
	b = append(b, '\n')
	if err := os.WriteFile(filepath.Join(dir, ManifestFile), b, 0o644); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	return nil
}

// TimeZones returns the accounts' time zones, as detector.Config.TimeZones
// takes them.
func (m *Manifest) TimeZones() map[string]string {
	tz := make(map[string]string, len(m.Accounts))
	for _, a := range m.Accounts {
		tz[a.ID] = a.TimeZone
	}
	return tz
}
