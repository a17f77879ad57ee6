package eval

import (
	"context"
	"runtime"
	"time"

	"github.com/trailsight/trailsight/cloudtrail"
	"github.com/trailsight/trailsight/consumers"
)

// Counts holds a dataset's true per-minute counts, counted independently
// of the detector: every distinct eventID once, write management calls per
// API, errors per API and code. It implements Truth.
type Counts struct {
	calls map[countKey]map[int64]float64
}

type countKey struct{ account, region, source, name, code string }

var _ Truth = (*Counts)(nil)

// CountTruth reads the trail files under paths and counts them.
func CountTruth(ctx context.Context, paths []string) (*Counts, error) {
	files, err := consumers.ListFiles(paths)
	if err != nil {
		return nil, err
	}
	t := &Counts{calls: map[countKey]map[int64]float64{}}
	seen := map[string]struct{}{}
	add := func(k countKey, m int64) {
		mm := t.calls[k]
		if mm == nil {
			mm = map[int64]float64{}
			t.calls[k] = mm
		}
		mm[m]++
	}
	err = consumers.ReadFiles(ctx, files, runtime.GOMAXPROCS(0), func(b *consumers.Batch) error {
		for i := range b.Events {
			ev := &b.Events[i]
			if ev.IsInsight() || !ev.IsManagement() {
				continue
			}
			if _, dup := seen[ev.EventID]; dup {
				continue
			}
			seen[ev.EventID] = struct{}{}
			if ev.EventType == "AwsServiceEvent" {
				continue
			}
			m := ev.EventTime / 60
			if ev.IsWrite() {
				add(countKey{ev.RecipientAccountID, ev.AWSRegion, ev.EventSource, ev.EventName, ""}, m)
			}
			if ev.ErrorCode != "" {
				add(countKey{ev.RecipientAccountID, ev.AWSRegion, ev.EventSource, ev.EventName, ev.ErrorCode}, m)
			}
		}
		return nil
	})
	return t, err
}

// Count implements eval.Truth.
func (t *Counts) Count(account, region, source, name, errorCode, insightType string, from, to time.Time) (float64, int) {
	code := ""
	if insightType == cloudtrail.APIErrorRateInsight {
		code = errorCode
	}
	mm := t.calls[countKey{account, region, source, name, code}]
	a, b := from.Unix()/60, to.Unix()/60
	n := 0.0
	for m := a; m < b; m++ {
		n += mm[m]
	}
	return n, int(b - a)
}
