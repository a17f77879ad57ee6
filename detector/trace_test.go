package detector

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/trailsight/trailsight/baseline"
)

// TestRecentAgreesWithTrace runs a spike through an engine that traces the
// series, then asks the engine for the minutes it still holds, as a
// running instance's live view does: the same minutes and counts, the open
// Insight marked, and expectations near the traced ones (the model has
// learned some of those minutes since).
func TestRecentAgreesWithTrace(t *testing.T) {
	e, sink := newTestEngine(t)
	k := Key{Account: "111122223333", Region: "us-east-1", EventSource: "ec2.amazonaws.com", EventName: "RunInstances", Type: APICallRate}
	traced := map[time.Time]Point{}
	e.Trace(k, func(p Point) { traced[p.Minute] = p })
	s := &stream{e: e, t0: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), rng: rand.New(rand.NewPCG(2, 2)), label: "r"}
	ctx := context.Background()
	spikeAt := 8*1440 + 600
	last := spikeAt + 20 // the spike is still on: its Insight is open
	for i := 0; i <= last; i++ {
		n := poissonN(s.rng, 3)
		if i >= spikeAt {
			n = 60
		}
		if err := e.Advance(ctx, s.t0.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
		s.minute(i, n, "RunInstances", "", "arn:aws:iam::111122223333:role/app", true)
	}
	// One Start at the spike's first minute. (The early window test used
	// to date it back into the ordinary minutes before the burst, which
	// then ended it before the burst's minutes closed: Start, End, Start.)
	if len(sink.got) != 1 || sink.got[0].State != StateStart || !sink.got[0].Start.Equal(s.t0.Add(time.Duration(spikeAt)*time.Minute)) {
		for _, in := range sink.got {
			t.Logf("%s %s from %s for %d min", in.Key, in.State, in.Start, in.Duration)
		}
		t.Fatalf("got %d transitions, want one Start at the spike's first minute", len(sink.got))
	}
	pts, ok := e.Recent(k)
	if !ok || len(pts) == 0 {
		t.Fatalf("Recent: %d points, ok=%v", len(pts), ok)
	}
	if got := pts[len(pts)-1].Minute; !got.Equal(e.Watermark()) {
		t.Errorf("newest point %s, want the watermark %s", got, e.Watermark())
	}
	if len(pts) < baseline.MinutesKept-20 {
		t.Errorf("%d points; the series holds about %d minutes", len(pts), baseline.MinutesKept)
	}
	start := sink.got[0].Start
	for i, p := range pts {
		if i > 0 && p.Minute.Sub(pts[i-1].Minute) != time.Minute {
			t.Fatalf("points %s and %s are not consecutive minutes", pts[i-1].Minute, p.Minute)
		}
		tp, ok := traced[p.Minute]
		if !ok {
			t.Fatalf("minute %s was never traced", p.Minute)
		}
		if p.Count != tp.Count {
			t.Errorf("%s: count %v, the trace saw %v", p.Minute, p.Count, tp.Count)
		}
		if want := !p.Minute.Before(start); p.Open != want {
			t.Errorf("%s: open=%v, want %v (Insight from %s)", p.Minute, p.Open, want, start)
		}
		if math.Abs(p.Expected-tp.Expected) > 0.25*tp.Expected+0.5 {
			t.Errorf("%s: expected %.2f now, %.2f when traced", p.Minute, p.Expected, tp.Expected)
		}
	}
	// The spike's minutes are far outside the band, now as then.
	if p := pts[len(pts)-1]; p.Count != 60 || p.SpikeP[1] > 1e-6 {
		t.Errorf("newest minute: count %v, 10-minute spike p = %.2g; want 60 and tiny", p.Count, p.SpikeP[1])
	}
	other := k
	other.EventName = "TerminateInstances"
	if pts, ok := e.Recent(other); ok || pts != nil {
		t.Errorf("Recent of an unknown series: %d points, ok=%v", len(pts), ok)
	}

	// Five hours on, with only another API called, the series holds its
	// last two hours: silent, and no more than that.
	for i := last + 1; i <= last+300; i++ {
		if err := e.Advance(ctx, s.t0.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
		s.minute(i, 2, "CreateTags", "", "arn:aws:iam::111122223333:role/app", true)
	}
	pts, _ = e.Recent(k)
	if len(pts) != baseline.MinutesKept || !pts[len(pts)-1].Minute.Equal(e.Watermark()) {
		t.Fatalf("an idle series: %d points up to %s; want %d up to the watermark %s", len(pts), pts[len(pts)-1].Minute, baseline.MinutesKept, e.Watermark())
	}
	for _, p := range pts {
		if p.Count != 0 {
			t.Fatalf("%s: count %v in the silent hours", p.Minute, p.Count)
		}
	}
}
