package detector

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/trailsight/trailsight/cloudtrail"
)

// dropStream is eight days of one account-Region: Busy (EC2, 8 writes a
// minute) and, unless alone, SSM reads and writes (12 calls a minute).
// Busy stops for an hour at stop (if stop > 0). The events of minutes in
// held are held back and delivered after minute release's, as a late log
// file would be, each with probability share.
type dropStream struct {
	alone   bool
	stop    int
	held    [2]int // minutes [held[0], held[1])
	share   float64
	release int
}

// dropRun is what the Engine said of Busy, and the watermark when it did.
type dropRun struct {
	starts, ends []Insight
	startMark    time.Time // the watermark when the Start came
	other        int       // Insights of other series
}

func (d dropStream) run(t *testing.T, seed uint64) dropRun {
	t.Helper()
	e, sink := newTestEngine(t)
	rng := rand.New(rand.NewPCG(seed, seed))
	t0 := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	ctx := context.Background()
	var late []cloudtrail.Event
	seq := 0
	add := func(i, n int, source, name string, write bool) {
		for range n {
			seq++
			ev := roleCall(t0, i, rng, fmt.Sprintf("ed-%d", seq), source, name, name, write)
			if i >= d.held[0] && i < d.held[1] && rng.Float64() < d.share {
				late = append(late, ev)
				continue
			}
			e.Observe(&ev)
		}
	}
	var r dropRun
	seen := 0
	const days = 8
	for i := range days * 1440 {
		if err := e.Advance(ctx, t0.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
		for _, in := range sink.got[seen:] {
			switch {
			case in.Key.EventName != "Busy":
				r.other++
			case in.State == StateStart:
				r.starts = append(r.starts, in)
				r.startMark = e.Watermark()
			default:
				r.ends = append(r.ends, in)
			}
		}
		seen = len(sink.got)
		n := poissonN(rng, 8)
		if d.stop > 0 && i >= d.stop && i < d.stop+60 {
			n = 0
		}
		add(i, n, "ec2.amazonaws.com", "Busy", true)
		if !d.alone {
			add(i, poissonN(rng, 10), "ssm.amazonaws.com", "GetParameter", false)
			add(i, poissonN(rng, 2), "ssm.amazonaws.com", "PutParameter", true)
		}
		if i == d.release {
			for k := range late {
				if e.Observe(&late[k]) == Late {
					t.Fatalf("a held event of %s came after its minute closed", time.Unix(late[k].EventTime, 0).UTC().Format("15:04"))
				}
			}
			late = nil
		}
	}
	return r
}

// A drop is started on its delivered minutes, before the allowed lateness
// has closed them, and the Insight is one: the minutes it was judged on do
// not end it as they close.
func TestEngineDropStartsOnDeliveredMinutes(t *testing.T) {
	const stop = 7*1440 + 600
	t0 := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	for seed := uint64(1); seed <= 3; seed++ {
		r := dropStream{stop: stop}.run(t, seed)
		if len(r.starts) != 1 || len(r.ends) != 1 {
			t.Fatalf("seed %d: %d Starts and %d Ends for Busy's hour of silence, want 1 and 1", seed, len(r.starts), len(r.ends))
		}
		st, end := r.starts[0], r.ends[0]
		judged := st.Start.Add(time.Duration(st.Duration-1) * time.Minute) // the newest minute of its evidence
		if !r.startMark.Before(judged) {
			t.Errorf("seed %d: the Start (judged on minutes to %s) came with the watermark at %s; want before it, on delivered open minutes",
				seed, judged.Format("15:04"), r.startMark.Format("15:04"))
		}
		want := t0.Add(stop * time.Minute)
		if d := st.Start.Sub(want); d < -2*time.Minute || d > 2*time.Minute {
			t.Errorf("seed %d: Start at %s, want %s ± 2m", seed, st.Start.Format("15:04"), want.Format("15:04"))
		}
		if end.Duration < 56 || end.Duration > 64 {
			t.Errorf("seed %d: End duration %d (from %s), want the hour (±4, the CUSUM's end at 8 calls a minute)", seed, end.Duration, end.Start.Format("15:04"))
		}
		if r.other != 0 {
			t.Errorf("seed %d: %d Insights of the APIs that went on", seed, r.other)
		}
	}
}

// Where the rest of the account-Region is too quiet to show whether its
// files are in, the drop waits for the close.
func TestEngineDropOfALoneServiceWaitsForTheClose(t *testing.T) {
	r := dropStream{alone: true, stop: 7*1440 + 600}.run(t, 1)
	if len(r.starts) != 1 {
		t.Fatalf("%d Starts for Busy's hour of silence, want 1", len(r.starts))
	}
	st := r.starts[0]
	if judged := st.Start.Add(time.Duration(st.Duration-1) * time.Minute); r.startMark.Before(judged) {
		t.Errorf("the Start came with the watermark at %s, before its minutes (to %s) closed", r.startMark.Format("15:04"), judged.Format("15:04"))
	}
}

// A late log file is no drop: twelve minutes of the account-Region's
// events, all of them or three in four of them (one of several files of
// each cycle), come up to thirteen minutes late, within the allowed
// lateness. Minutes newer than them are delivered, so only the empty
// minutes (all of them late) or the region's other services (three in
// four) can tell that the files of these are not in.
func TestEngineLateFileStartsNoEarlyDrop(t *testing.T) {
	const at = 7*1440 + 600
	for _, share := range []float64{1, 0.75} {
		for seed := uint64(1); seed <= 3; seed++ {
			r := dropStream{held: [2]int{at, at + 12}, share: share, release: at + 13}.run(t, seed)
			for _, in := range r.starts {
				t.Errorf("share %.2f, seed %d: a %s Start at %s (scale %d, p=%.2g) for a late file", share, seed, in.Direction, in.Start.Format("15:04"), in.Scale, in.PValue)
			}
			if r.other != 0 {
				t.Errorf("share %.2f, seed %d: %d Insights of other APIs", share, seed, r.other)
			}
		}
	}
}
