package detector_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trailsight/trailsight/cloudtrail"
	"github.com/trailsight/trailsight/detector"
)

// churned returns ds with the churn of a long-lived service's trail: every
// assumed-role session is a new one each hour (an instance, a task, a
// pipeline run) and the user agents change daily (SDK releases). Principals
// stay the roles they were.
func churned(ds []delivery) []delivery {
	out := make([]delivery, len(ds))
	for i, d := range ds {
		evs := slices.Clone(d.events)
		for k := range evs {
			ev := &evs[k]
			hour := ev.EventTime / 3600
			if _, session, ok := strings.Cut(ev.UserIdentityARN, ":assumed-role/"); ok && strings.Contains(session, "/") {
				ev.UserIdentityARN += fmt.Sprintf("-%d", hour)
			}
			if ev.UserAgent != "" {
				ev.UserAgent += fmt.Sprintf(" build/%d", hour/24)
			}
		}
		out[i] = delivery{at: d.at, events: evs}
	}
	return out
}

// runCompacting replays ds into an Engine that compacts its value table
// from size from (below zero: never). With cut, wherever a compaction
// shrank the table, the Engine is replaced by one restored from its
// snapshot (checked by snapshotRestore). It returns the Insights, the
// final Stats and table size, and how many compactions it saw.
func runCompacting(t *testing.T, cfg detector.Config, ds []delivery, end time.Time, from int, cut bool) ([]detector.Insight, detector.Stats, int, int) {
	t.Helper()
	ctx := context.Background()
	sink := &recorder{}
	e, err := detector.New(cfg, sink, nil)
	if err != nil {
		t.Fatal(err)
	}
	detector.SetValueCompaction(e, from)
	compactions := 0
	advance := func(at time.Time, i int) {
		before := detector.ValueTableLen(e)
		if err := e.Advance(ctx, at); err != nil {
			t.Fatal(err)
		}
		if detector.ValueTableLen(e) < before {
			compactions++
			if cut {
				e = snapshotRestore(t, e, cfg, sink, fmt.Sprintf("after the compaction at delivery %d", i))
				detector.SetValueCompaction(e, from)
			}
		}
	}
	for i, d := range ds {
		advance(d.at, i)
		for k := range d.events {
			e.Observe(&d.events[k])
		}
		if err := e.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		advance(d.at, i)
	}
	advance(end, len(ds))
	return sink.got, e.Stats(), detector.ValueTableLen(e), compactions
}

// Compacting the value table changes no result: on the tiny dataset with
// sessions and user agents churning, an Engine that compacts at every hour
// (and, in a second run, is snapshotted and restored after each
// compaction) writes the same
// Insights, attributions included, and ends with the same Stats as one
// that never compacts, with a fraction of its table. An id that compaction
// failed to renumber would name another value: another principal (novelty,
// routine bursts), agent, key or attribution.
func TestValueCompactionChangesNoResult(t *testing.T) {
	ds, cfg := loadTinyTrail(t)
	ds = churned(ds)
	end := ds[len(ds)-1].at.Add(3 * time.Hour)
	want, wantSt, wantLen, n := runCompacting(t, cfg, ds, end, -1, false)
	if n != 0 {
		t.Fatalf("an Engine that never compacts shrank its table %d times", n)
	}
	if c := count(want); c.start[detector.APICallRate] < 2 || c.start[detector.APIErrorRate] < 2 {
		t.Fatalf("the run has Starts %v by type; want at least 2 of each, or the comparison proves little", c.start)
	}
	// Without cuts too: a restore rebuilds the table's index from the
	// table, and would hide a compaction that left the index wrong.
	for _, cut := range []bool{false, true} {
		t.Run(fmt.Sprintf("restored after each=%v", cut), func(t *testing.T) {
			got, gotSt, gotLen, n := runCompacting(t, cfg, ds, end, 0, cut)
			checkSame(t, got, want, gotSt, wantSt)
			if n < 3 || gotLen*2 > wantLen {
				t.Errorf("%d compactions, table of %d values against %d uncompacted; want several and at most half", n, gotLen, wantLen)
			}
			t.Logf("%d compactions; value table %d against %d", n, gotLen, wantLen)
		})
	}
}

// A service that meets a new session every minute keeps a bounded value
// table: three days of one role's calls, each minute's from a new session
// with a new user agent, leave at most twice the compaction size, where
// without compaction the table holds every one of them.
func TestValueTableStaysBounded(t *testing.T) {
	const days = 3
	run := func(from int) int {
		e, err := detector.New(detector.DefaultConfig(), &recorder{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if from != 0 {
			detector.SetValueCompaction(e, from)
		}
		t0 := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
		ctx := context.Background()
		for m := range days * 1440 {
			at := t0.Add(time.Duration(m) * time.Minute)
			if err := e.Advance(ctx, at); err != nil {
				t.Fatal(err)
			}
			for k := range 3 {
				ev := cloudtrail.Event{
					EventTime: at.Unix() + int64(k*20), EventID: fmt.Sprintf("ev-%d-%d", m, k),
					EventSource: "ssm.amazonaws.com", EventName: "UpdateInstanceInformation", AWSRegion: "us-east-1",
					RecipientAccountID: "111122223333", EventType: "AwsApiCall", EventCategory: "Management",
					UserIdentityARN: fmt.Sprintf("arn:aws:sts::111122223333:assumed-role/Fleet/i-%08x", m),
					UserAgent:       fmt.Sprintf("amazon-ssm-agent/3.3.%d", m), ReadOnly: cloudtrail.False,
				}
				e.Observe(&ev)
			}
		}
		if err := e.Advance(ctx, t0.Add(days*24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		return detector.ValueTableLen(e)
	}
	if n := run(-1); n < 2*days*1440 {
		t.Errorf("without compaction the table holds %d values, want every session and user agent (%d)", n, 2*days*1440)
	}
	// Between two compactions an hour adds 120 values.
	if n, most := run(0), 2*4096+120; n > most {
		t.Errorf("with compaction the table holds %d values, want at most %d", n, most)
	}
}
