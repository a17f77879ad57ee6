package consumers_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trailsight/trailsight/consumers"
	"github.com/trailsight/trailsight/detector"
)

// collect is a Sink that keeps every Insight.
type collect struct{ got []detector.Insight }

func (c *collect) Emit(_ context.Context, batch []detector.Insight) error {
	c.got = append(c.got, batch...)
	return nil
}

// replayConfig is the default detector with a short warm-up, so the two days
// of the generated trail can produce Insights.
func replayConfig() detector.Config {
	cfg := detector.DefaultConfig()
	cfg.WarmUp = time.Hour
	return cfg
}

// replay lists root and replays it into a new Engine.
func replay(t *testing.T, root string, opt consumers.ReplayOptions) (consumers.ReplayStats, *detector.Engine, []detector.Insight) {
	t.Helper()
	files, err := consumers.ListFiles([]string{root})
	if err != nil {
		t.Fatalf("ListFiles: %v", err)
	}
	sink := &collect{}
	e, err := detector.New(replayConfig(), sink, nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := consumers.Replay(context.Background(), files, e, opt)
	if err != nil {
		t.Fatalf("Replay: %v", err)
	}
	return st, e, sink.got
}

// The subtests share one generated tree, which takes a while to write.
func TestReplay(t *testing.T) {
	tr := genTrail(t)

	t.Run("stats", func(t *testing.T) {
		var progress []consumers.Progress
		st, _, _ := replay(t, tr.root, consumers.ReplayOptions{Workers: 2, Progress: func(p consumers.Progress) {
			progress = append(progress, p)
		}})
		want := consumers.ReplayStats{
			Files:        tr.files,
			FilesFailed:  tr.failed,
			DigestFiles:  tr.digests,
			InsightFiles: tr.insights,
			Bytes:        tr.bytes,
			Records:      tr.records,
			Invalid:      tr.invalid,
			Newest:       tr.newest,
		}
		if diff := cmp.Diff(want, st); diff != "" {
			t.Errorf("ReplayStats (-want +got):\n%s", diff)
		}
		// Progress comes after every file that is not a digest or
		// Insights file, with a clock that never runs back.
		if got, want := len(progress), tr.files-tr.digests-tr.insights; got != want {
			t.Errorf("Progress called %d times, want %d", got, want)
		}
		for i := 1; i < len(progress); i++ {
			p, q := progress[i-1], progress[i]
			if q.Position.Before(p.Position) || q.Records < p.Records || q.Files <= p.Files || q.Total != tr.files {
				t.Fatalf("progress %d after %d: %+v after %+v", i, i-1, q, p)
			}
		}
		if n := len(progress); n > 0 && progress[n-1].Records != tr.records {
			t.Errorf("last progress: %d records, want %d", progress[n-1].Records, tr.records)
		}
	})

	t.Run("clock follows delivery", func(t *testing.T) {
		_, e, got := replay(t, tr.root, consumers.ReplayOptions{Workers: 2})
		if len(got) == 0 {
			t.Fatal("no Insights; the planted spike should start one")
		}
		// Every transition happens when a file arrives: Emitted is the
		// delivery time of a log file, never an event time.
		for _, in := range got {
			if !tr.deliveries[in.Emitted] {
				t.Errorf("%s %s (start %s) emitted at %s, not a delivery time", in.Key, in.State, in.Start, in.Emitted)
			}
		}
		// The spike's Start is found as soon as the file with its first
		// minute arrives.
		var start *detector.Insight
		for i, in := range got {
			if in.State == detector.StateStart && in.Key.EventName == "RunInstances" && in.Key.Type == detector.APICallRate && in.Start.Equal(tr.spikeStart) {
				start = &got[i]
			}
		}
		if start == nil {
			t.Fatalf("no RunInstances Start at %s among %s", tr.spikeStart, describe(got))
		}
		if !start.Emitted.Equal(tr.spikeFile) {
			t.Errorf("spike Start emitted at %s, want %s, the delivery of the file with its first minute", start.Emitted, tr.spikeFile)
		}
		// A burst that only a window of minutes reveals is found as soon
		// as the file that completes the evidence arrives, not when the
		// next file does.
		var slow *detector.Insight
		for i, in := range got {
			if in.State == detector.StateStart && in.Key.EventName == "CreateSnapshot" {
				slow = &got[i]
			}
		}
		if slow == nil {
			t.Fatalf("no CreateSnapshot Start among %s", describe(got))
		}
		if !slow.Emitted.Equal(tr.slowFile) || !slow.Start.Equal(tr.slowStart) {
			t.Errorf("slow burst Start at %s emitted at %s, want at %s emitted at %s, the delivery of the file with its first five minutes", slow.Start, slow.Emitted, tr.slowStart, tr.slowFile)
		}
		// The replay ends with the watermark at the last delivery less
		// the allowed lateness.
		if got, want := e.Watermark(), tr.newest.Add(-replayConfig().AllowedLateness); !got.Equal(want) {
			t.Errorf("watermark after the replay = %s, want %s", got, want)
		}
	})

	t.Run("deterministic", func(t *testing.T) {
		tests := []struct {
			name    string
			workers int
		}{
			{"one worker", 1},
			{"two workers", 2},
			{"two workers again", 2},
		}
		var first []string
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, _, ins := replay(t, tr.root, consumers.ReplayOptions{Workers: tt.workers})
				got := records(ins)
				if first == nil {
					first = got
					if len(first) == 0 {
						t.Fatal("no Insights to compare")
					}
					return
				}
				if diff := cmp.Diff(first, got); diff != "" {
					t.Errorf("Insights differ from the first replay (-first +this):\n%s", diff)
				}
			})
		}
	})
}

// records returns each Insight's emission minute and record JSON.
func records(ins []detector.Insight) []string {
	var out []string
	for i := range ins {
		r := ins[i].Record()
		out = append(out, ins[i].Emitted.Format(time.RFC3339)+" "+string(r.AppendJSON(nil)))
	}
	return out
}

func describe(ins []detector.Insight) string {
	s := ""
	for _, in := range ins {
		s += fmt.Sprintf("\n\t%s %s start=%s dur=%d emitted=%s", in.Key, in.State, in.Start, in.Duration, in.Emitted)
	}
	return s
}
