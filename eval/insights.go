package eval

import (
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
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	recs, err := cloudtrail.DecodeInsightFile(b)
	if err != nil {
		return nil, fmt.Errorf("eval: %s: %w", path, err)
	}
	return recs, nil
}
