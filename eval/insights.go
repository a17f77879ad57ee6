package eval

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/trailsight/trailsight/cloudtrail"
)

// Delivered is an Insights record with the simulated delivery minute of the
// file it was written in.
type Delivered struct {
	Record   cloudtrail.InsightRecord
	Delivery time.Time
}

// insightFileName matches an Insights object name (spec §4.1):
// <account>_CloudTrail-Insight_<region>_<YYYYMMDDTHHmmZ>_<unique16>.json.gz.
var insightFileName = regexp.MustCompile(`^[0-9]+_CloudTrail-Insight_[A-Za-z0-9-]+_([0-9]{8}T[0-9]{4}Z)_[A-Za-z0-9]{16}\.json\.gz$`)

// LoadInsightsDir reads every Insights file under a CloudTrail-Insight/
// folder of the trail output tree rooted at dir. Each record's Delivery is
// the minute in its file name. The result is ordered by delivery, then by
// path and position in the file.
func LoadInsightsDir(dir string) ([]Delivered, error) {
	var out []Delivered
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		m := insightFileName.FindStringSubmatch(d.Name())
		if m == nil || !strings.Contains(filepath.ToSlash(path), "/CloudTrail-Insight/") {
			return nil
		}
		delivery, err := time.Parse("20060102T1504Z", m[1])
		if err != nil {
			return fmt.Errorf("eval: %s: %w", path, err)
		}
		recs, err := readInsightsFile(path)
		if err != nil {
			return err
		}
		for _, r := range recs {
			out = append(out, Delivered{Record: r, Delivery: delivery})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(out, func(a, b Delivered) int { return a.Delivery.Compare(b.Delivery) })
	return out, nil
}

func readInsightsFile(path string) ([]cloudtrail.InsightRecord, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("eval: %s: %w", path, err)
	}
	var body struct {
		Records []wireInsight `json:"Records"`
	}
	if err := json.NewDecoder(zr).Decode(&body); err != nil {
		return nil, fmt.Errorf("eval: %s: %w", path, err)
	}
	recs := make([]cloudtrail.InsightRecord, 0, len(body.Records))
	for i := range body.Records {
		r, err := body.Records[i].record()
		if err != nil {
			return nil, fmt.Errorf("eval: %s: record %d: %w", path, i, err)
		}
		recs = append(recs, r)
	}
	return recs, nil
}

// wireInsight is the JSON shape of an Insights record (spec §2). It is
// eval's own small decoder so that this package does not depend on the
// decoding API of package cloudtrail.
type wireInsight struct {
	EventVersion       string    `json:"eventVersion"`
	EventTime          time.Time `json:"eventTime"`
	AWSRegion          string    `json:"awsRegion"`
	EventID            string    `json:"eventID"`
	EventType          string    `json:"eventType"`
	RecipientAccountID string    `json:"recipientAccountId"`
	SharedEventID      string    `json:"sharedEventID"`
	InsightDetails     struct {
		State          string `json:"state"`
		EventSource    string `json:"eventSource"`
		EventName      string `json:"eventName"`
		InsightType    string `json:"insightType"`
		ErrorCode      string `json:"errorCode"`
		InsightContext struct {
			Statistics struct {
				Baseline         wireAverage `json:"baseline"`
				Insight          wireAverage `json:"insight"`
				InsightDuration  int         `json:"insightDuration"`
				BaselineDuration int         `json:"baselineDuration"`
			} `json:"statistics"`
			Attributions []struct {
				Attribute string      `json:"attribute"`
				Insight   []wireValue `json:"insight"`
				Baseline  []wireValue `json:"baseline"`
			} `json:"attributions"`
		} `json:"insightContext"`
	} `json:"insightDetails"`
}

type wireAverage struct {
	Average float64 `json:"average"`
}

type wireValue struct {
	Value   string  `json:"value"`
	Average float64 `json:"average"`
}

func (w *wireInsight) record() (cloudtrail.InsightRecord, error) {
	d := &w.InsightDetails
	if w.EventType != cloudtrail.InsightEventType {
		return cloudtrail.InsightRecord{}, fmt.Errorf("eventType %q, want %q", w.EventType, cloudtrail.InsightEventType)
	}
	if d.State != cloudtrail.StateStart && d.State != cloudtrail.StateEnd {
		return cloudtrail.InsightRecord{}, fmt.Errorf("insightDetails.state %q", d.State)
	}
	if w.EventTime.IsZero() {
		return cloudtrail.InsightRecord{}, fmt.Errorf("no eventTime")
	}
	if w.SharedEventID == "" {
		return cloudtrail.InsightRecord{}, fmt.Errorf("no sharedEventID")
	}
	st := &d.InsightContext.Statistics
	r := cloudtrail.InsightRecord{
		EventVersion:       w.EventVersion,
		EventTime:          w.EventTime.UTC(),
		AWSRegion:          w.AWSRegion,
		EventID:            w.EventID,
		RecipientAccountID: w.RecipientAccountID,
		SharedEventID:      w.SharedEventID,
		State:              d.State,
		EventSource:        d.EventSource,
		EventName:          d.EventName,
		InsightType:        d.InsightType,
		ErrorCode:          d.ErrorCode,
		BaselineAverage:    st.Baseline.Average,
		InsightAverage:     st.Insight.Average,
		InsightDuration:    st.InsightDuration,
		BaselineDuration:   st.BaselineDuration,
	}
	for _, a := range d.InsightContext.Attributions {
		r.Attributions = append(r.Attributions, cloudtrail.Attribution{
			Attribute: a.Attribute,
			Insight:   attributionValues(a.Insight),
			Baseline:  attributionValues(a.Baseline),
		})
	}
	return r, nil
}

func attributionValues(ws []wireValue) []cloudtrail.AttributionValue {
	vs := make([]cloudtrail.AttributionValue, len(ws))
	for i, w := range ws {
		vs[i] = cloudtrail.AttributionValue{Value: w.Value, Average: w.Average}
	}
	return vs
}
