package detector

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trailsight/trailsight/cloudtrail"
)

type collect struct{ got []Insight }

func (c *collect) Emit(_ context.Context, b []Insight) error {
	c.got = append(c.got, b...)
	return nil
}

// stream feeds an engine minute by minute, advancing the clock as a live
// stream would, with counts(minute index) write calls per minute.
type stream struct {
	e     *Engine
	t0    time.Time
	rng   *rand.Rand
	seq   int
	label string
}

func (s *stream) minute(i int, n int, name, errorCode, arn string, write bool) {
	t := s.t0.Add(time.Duration(i) * time.Minute)
	for k := 0; k < n; k++ {
		s.seq++
		ev := cloudtrail.Event{
			EventTime: t.Unix() + int64(k%60), EventID: fmt.Sprintf("%s-%d", s.label, s.seq),
			EventSource: "ec2.amazonaws.com", EventName: name, AWSRegion: "us-east-1",
			RecipientAccountID: "111122223333", EventType: "AwsApiCall", EventCategory: "Management",
			UserIdentityARN: arn, UserAgent: "aws-cli/2", ErrorCode: errorCode, ReadOnly: cloudtrail.True,
		}
		if write {
			ev.ReadOnly = cloudtrail.False
		}
		s.e.Observe(&ev)
	}
}

// roleCall is a management call to us-east-1 of account 111122223333 by
// role, at a random second of minute i after t0 (one draw of rng).
func roleCall(t0 time.Time, i int, rng *rand.Rand, id, source, name, role string, write bool) cloudtrail.Event {
	ev := cloudtrail.Event{
		EventTime: t0.Unix() + int64(i*60+rng.IntN(60)), EventID: id,
		EventSource: source, EventName: name, AWSRegion: "us-east-1", RecipientAccountID: "111122223333",
		EventType: "AwsApiCall", EventCategory: "Management", UserIdentityARN: "arn:aws:iam::111122223333:role/" + role,
		UserAgent: "aws-cli/2", ReadOnly: cloudtrail.True,
	}
	if write {
		ev.ReadOnly = cloudtrail.False
	}
	return ev
}

func poissonN(rng *rand.Rand, l float64) int {
	n := 0
	for p := rng.Float64(); p > expNeg(l); p *= rng.Float64() {
		n++
	}
	return n
}

func expNeg(l float64) float64 {
	r := 1.0
	for i := 0; i < 40; i++ {
		r *= 1 - l/40
	}
	return r
}

func newTestEngine(t *testing.T) (*Engine, *collect) {
	t.Helper()
	cfg := DefaultConfig()
	sink := &collect{}
	e, err := New(cfg, sink, nil)
	if err != nil {
		t.Fatal(err)
	}
	return e, sink
}

func TestEngineSpikeStartsEarlyAndEnds(t *testing.T) {
	e, sink := newTestEngine(t)
	s := &stream{e: e, t0: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), rng: rand.New(rand.NewPCG(1, 1)), label: "a"}
	ctx := context.Background()
	days := 9
	spikeAt := 8*1440 + 600 // day 9, 10:00
	for i := 0; i < days*1440; i++ {
		n := poissonN(s.rng, 3)
		arn := "arn:aws:iam::111122223333:role/app"
		if i >= spikeAt && i < spikeAt+20 {
			n = 60
			arn = "arn:aws:iam::111122223333:user/mallory"
		}
		if err := e.Advance(ctx, s.t0.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
		s.minute(i, n, "RunInstances", "", arn, true)
	}
	if err := e.Advance(ctx, s.t0.Add(time.Duration(days*1440)*time.Minute)); err != nil {
		t.Fatal(err)
	}
	var starts, ends []Insight
	for _, in := range sink.got {
		if in.State == StateStart {
			starts = append(starts, in)
		} else {
			ends = append(ends, in)
		}
	}
	if len(starts) != 1 || len(ends) != 1 {
		for _, in := range sink.got {
			t.Logf("%s %s start=%s dur=%d avg=%.2f base=%.3f", in.Key, in.State, in.Start, in.Duration, in.InsightAverage, in.BaselineAverage)
		}
		t.Fatalf("got %d starts and %d ends, want 1 and 1", len(starts), len(ends))
	}
	want := s.t0.Add(time.Duration(spikeAt) * time.Minute)
	if !starts[0].Start.Equal(want) {
		t.Errorf("Start at %s, want %s", starts[0].Start, want)
	}
	if starts[0].Emitted.After(want.Add(time.Minute)) {
		t.Errorf("Start emitted at %s, want within the spike's first minute (early Start)", starts[0].Emitted)
	}
	end := ends[0]
	if end.Duration != 20 {
		t.Errorf("End duration = %d, want 20", end.Duration)
	}
	if end.InsightAverage != 60 {
		t.Errorf("End insight average = %v, want 60", end.InsightAverage)
	}
	if end.BaselineAverage < 2.7 || end.BaselineAverage > 3.3 {
		t.Errorf("baseline average = %v, want ≈ 3", end.BaselineAverage)
	}
	if end.BaselineDuration != 10080+600 {
		t.Errorf("baseline duration = %d, want %d", end.BaselineDuration, 10080+600)
	}
	if top := end.Attributions[0].Insight[0].Value; top != "arn:aws:iam::111122223333:user/mallory" {
		t.Errorf("top principal = %q, want mallory", top)
	}
}

func TestEngineQuietOnSteadyTraffic(t *testing.T) {
	e, sink := newTestEngine(t)
	s := &stream{e: e, t0: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), rng: rand.New(rand.NewPCG(2, 2)), label: "b"}
	ctx := context.Background()
	for i := 0; i < 12*1440; i++ {
		_ = e.Advance(ctx, s.t0.Add(time.Duration(i)*time.Minute))
		s.minute(i, poissonN(s.rng, 8), "CreateTags", "", "arn:aws:iam::111122223333:role/app", true)
		if i%15 == 0 {
			s.minute(i, 3, "CreateSnapshot", "", "arn:aws:iam::111122223333:role/backup", true)
		}
	}
	for _, in := range sink.got {
		t.Errorf("unexpected %s %s at %s (p=%g, scale %d, %s)", in.Key, in.State, in.Start, in.PValue, in.Scale, in.Direction)
	}
}

func TestEngineCronGapIsADrop(t *testing.T) {
	e, sink := newTestEngine(t)
	s := &stream{e: e, t0: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), rng: rand.New(rand.NewPCG(3, 3)), label: "c"}
	ctx := context.Background()
	gapFrom, gapTo := 9*1440+180, 9*1440+360 // 3 hours without runs
	for i := 0; i < 10*1440; i++ {
		_ = e.Advance(ctx, s.t0.Add(time.Duration(i)*time.Minute))
		s.minute(i, poissonN(s.rng, 20), "DescribeInstances", "", "arn:aws:iam::111122223333:role/app", false)
		if i%15 == 0 && (i < gapFrom || i >= gapTo) {
			s.minute(i, 3, "CreateSnapshot", "", "arn:aws:iam::111122223333:role/backup", true)
		}
	}
	if len(sink.got) != 2 {
		for _, in := range sink.got {
			t.Logf("%s %s at %s dur %d (p=%g, scale %d, %s)", in.Key, in.State, in.Start, in.Duration, in.PValue, in.Scale, in.Direction)
		}
		t.Fatalf("got %d transitions, want a Start and an End", len(sink.got))
	}
	st := sink.got[0]
	if st.Direction != Drop || st.Key.EventName != "CreateSnapshot" {
		t.Fatalf("got %s %s, want a drop of CreateSnapshot", st.Key, st.Direction)
	}
	if d := st.Start.Sub(s.t0.Add(time.Duration(gapFrom) * time.Minute)); d < -15*time.Minute || d > 15*time.Minute {
		t.Errorf("drop starts %s from the first missed run, want within 15m", d)
	}
	// No call in the Insight: no value is attributed any (the backup
	// role's last run, counted as the drop was suspected, was before it).
	for _, in := range sink.got {
		if in.InsightAverage != 0 {
			continue
		}
		for _, a := range in.Attributions {
			if len(a.Insight) != 0 {
				t.Errorf("%s: %s lists %v for an Insight without calls, want []", in.State, a.Attribute, a.Insight)
			}
		}
	}
}

func TestEngineErrorSurge(t *testing.T) {
	e, sink := newTestEngine(t)
	s := &stream{e: e, t0: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), rng: rand.New(rand.NewPCG(4, 4)), label: "d"}
	ctx := context.Background()
	surge := 8*1440 + 100
	for i := 0; i < 9*1440; i++ {
		_ = e.Advance(ctx, s.t0.Add(time.Duration(i)*time.Minute))
		n := poissonN(s.rng, 20)
		errs := 0
		if s.rng.Float64() < 0.05 {
			errs = 1
		}
		if i >= surge && i < surge+15 {
			errs = n / 2
		}
		s.minute(i, n-errs, "DescribeInstances", "", "arn:aws:iam::111122223333:role/app", false)
		s.minute(i, errs, "DescribeInstances", "Client.UnauthorizedOperation", "arn:aws:iam::111122223333:role/app", false)
	}
	if len(sink.got) < 1 || sink.got[0].Key.Type != APIErrorRate {
		t.Fatalf("got %v, want an error-rate Insight", sink.got)
	}
	if got := sink.got[0].Start; !got.Equal(s.t0.Add(time.Duration(surge) * time.Minute)) {
		t.Errorf("Start = %s, want the surge's first minute", got)
	}
}

// Stats counts the account-Regions still warming up, and their history,
// until the warm-up has passed.
func TestStatsWarming(t *testing.T) {
	cfg := DefaultConfig()
	cfg.WarmUp = 2 * time.Hour
	e, err := New(cfg, &collect{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	ctx := context.Background()
	if st := e.Stats(); st.Warming != 0 {
		t.Errorf("an empty Engine counts %d account-Regions warming", st.Warming)
	}
	for i := 0; i <= 4*60; i++ {
		at := t0.Add(time.Duration(i) * time.Minute)
		if err := e.Advance(ctx, at); err != nil {
			t.Fatal(err)
		}
		for _, r := range []string{"us-east-1", "eu-west-1"} {
			if r == "eu-west-1" && i < 60 {
				continue // an hour later
			}
			ev := cloudtrail.Event{EventTime: at.Unix(), EventID: fmt.Sprint(r, i), EventSource: "ec2.amazonaws.com", EventName: "RunInstances",
				AWSRegion: r, RecipientAccountID: "111122223333", EventType: "AwsApiCall", EventCategory: "Management", ReadOnly: cloudtrail.False}
			e.Observe(&ev)
		}
		st := e.Stats()
		closed := i - 15 // the allowed lateness
		var want int
		var hist time.Duration
		if closed >= 0 && closed < 120 { // us-east-1, from minute 0
			want, hist = 1, time.Duration(closed+1)*time.Minute
		}
		if i >= 60 && closed < 180 { // eu-west-1, from minute 60
			want++
			hist = max(hist, time.Duration(closed-60+1)*time.Minute)
		}
		if i > 20 && (st.Warming != want || st.WarmingHistory != hist) {
			t.Fatalf("minute %d: %d account-Regions warming with %s of history, want %d with %s", i, st.Warming, st.WarmingHistory, want, hist)
		}
	}
}

func TestEngineDuplicatesAndLate(t *testing.T) {
	e, _ := newTestEngine(t)
	ev := cloudtrail.Event{EventTime: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC).Unix(), EventID: "x", EventSource: "s", EventName: "n",
		AWSRegion: "r", RecipientAccountID: "a", EventType: "AwsApiCall", EventCategory: "Management", ReadOnly: cloudtrail.False}
	if got := e.Observe(&ev); got != Counted {
		t.Fatalf("first = %v, want counted", got)
	}
	if got := e.Observe(&ev); got != Duplicate {
		t.Fatalf("second = %v, want duplicate", got)
	}
	_ = e.Advance(context.Background(), time.Unix(ev.EventTime, 0).Add(time.Hour))
	ev.EventID = "y"
	if got := e.Observe(&ev); got != Late {
		t.Fatalf("late = %v, want late", got)
	}
	ev.EventID = "z"
	ev.EventTime += 3 * 3600
	if got := e.Observe(&ev); got != FromFuture {
		t.Fatalf("future = %v, want from_future", got)
	}
}

func TestAttributionsNeverExceedTheirStatistics(t *testing.T) {
	var s series
	a := &s.attrs
	vals := newValues()
	ids := [3]uint32{vals.id("arn:aws:iam::1:user/a"), vals.id("cli"), vals.id("null")}
	// A week of calls, then the Insight's first calls before the series
	// became hot: the sketch holds both.
	for m := int64(1); m <= 10080; m += 60 {
		s.observeAttrs(29000000+m, &ids, 1)
	}
	a.heat(29010100, 29010130)
	s.observeAttrs(29010100, &ids, 40)
	for _, tc := range []struct {
		name    string
		baseAvg float64
	}{{"zero baseline", 0}, {"small baseline", 0.001}, {"ample baseline", 1}} {
		out := a.build(vals, 3, tally{calls: 40, minutes: 1, since: 40, baseAvg: tc.baseAvg, baseDur: 10080})
		for _, at := range out {
			sum := 0.0
			for _, v := range at.Baseline {
				sum += v.Average
			}
			if sum > tc.baseAvg+1e-12 {
				t.Errorf("%s: %s baseline attributions add up to %g, above the baseline average %g", tc.name, at.Attribute, sum, tc.baseAvg)
			}
			if tc.baseAvg == 0 && len(at.Baseline) != 0 {
				t.Errorf("%s: %s has baseline values %v, want none", tc.name, at.Attribute, at.Baseline)
			}
		}
		if tc.baseAvg == 1 && len(out[0].Baseline) == 0 {
			t.Errorf("%s: no baseline principal, want the week's caller", tc.name)
		}
	}
}

// TestEngineOpenInsights lists the Insight open during a spike, with the
// Start's key and start and the statistics so far, and nothing after it
// ends; a restored Engine lists the same.
func TestEngineOpenInsights(t *testing.T) {
	e, sink := newTestEngine(t)
	s := &stream{e: e, t0: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), rng: rand.New(rand.NewPCG(1, 1)), label: "a"}
	ctx := context.Background()
	spikeAt := 8*1440 + 600
	var during []Insight
	for i := 0; i < 9*1440; i++ {
		n := poissonN(s.rng, 3)
		if i >= spikeAt && i < spikeAt+20 {
			n = 60
		}
		if err := e.Advance(ctx, s.t0.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if i == spikeAt+10 {
			during = e.OpenInsights()
			var buf bytes.Buffer
			if err := e.Snapshot(&buf); err != nil {
				t.Fatal(err)
			}
			r, err := Restore(e.cfg, nil, nil, &buf)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(during, r.OpenInsights()); diff != "" {
				t.Errorf("a restored Engine lists other open Insights (-before +after):\n%s", diff)
			}
		}
		s.minute(i, n, "RunInstances", "", "arn:aws:iam::111122223333:role/app", true)
	}
	if len(during) != 1 {
		t.Fatalf("open during the spike: %d Insights, want 1", len(during))
	}
	start := sink.got[0]
	in := during[0]
	if in.Key != start.Key || !in.Start.Equal(start.Start) || in.State != StateStart {
		t.Errorf("open Insight %s %s at %s, want the Start %s at %s", in.Key, in.State, in.Start, start.Key, start.Start)
	}
	if in.Duration < 5 || in.InsightAverage < 50 || in.BaselineAverage > 3.5 {
		t.Errorf("open Insight statistics: %d minutes at %.1f a minute over a baseline of %.2f; want the spike so far", in.Duration, in.InsightAverage, in.BaselineAverage)
	}
	if err := e.Advance(ctx, s.t0.Add(9*1440*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if open := e.OpenInsights(); len(open) != 0 {
		t.Errorf("open after the spike ended: %d Insights", len(open))
	}
}

// A slow spike of a rare API, a call every other minute for 50 minutes,
// ends where it ends: the CUSUM's allowance is the logarithmic mean of the
// expected rate and the Insight's, not a fixed half call, which the spike's
// first pause (0 calls) outweighed, reporting it as a few minutes long.
func TestEngineSlowSpikeEndsWhereItEnds(t *testing.T) {
	e, sink := newTestEngine(t)
	s := &stream{e: e, t0: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), rng: rand.New(rand.NewPCG(12, 12)), label: "slow"}
	ctx := context.Background()
	from, dur := 9*1440+600, 50
	for i := 0; i < 10*1440; i++ {
		_ = e.Advance(ctx, s.t0.Add(time.Duration(i)*time.Minute))
		s.minute(i, poissonN(s.rng, 10), "DescribeInstances", "", "arn:aws:iam::111122223333:role/app", false)
		n := poissonN(s.rng, 0.003)
		if i >= from && i < from+dur && (i-from)%2 == 0 {
			n = 1
		}
		s.minute(i, n, "AttachVolume", "", "arn:aws:iam::111122223333:role/ops", true)
	}
	var st, end *Insight
	for i := range sink.got {
		in := &sink.got[i]
		t.Logf("%s %s %s at %s dur %d (p=%.2g, scale %d)", in.Key.EventName, in.State, in.Direction, in.Start.Format("01-02T15:04"), in.Duration, in.PValue, in.Scale)
		switch {
		case in.Key.EventName != "AttachVolume":
			t.Errorf("unexpected Insight of %s", in.Key.EventName)
		case in.State == StateStart && st == nil:
			st = in
		case in.State == StateEnd && end == nil:
			end = in
		default:
			t.Errorf("a second %s", in.State)
		}
	}
	if st == nil || end == nil {
		t.Fatalf("Start %v, End %v; want both", st != nil, end != nil)
	}
	if d := st.Start.Sub(s.t0.Add(time.Duration(from) * time.Minute)); d.Abs() > 2*time.Minute {
		t.Errorf("Start %s from the spike's first call, want within 2m", d)
	}
	if end.Duration < dur-5 || end.Duration > dur+3 {
		t.Errorf("End duration %d, want about %d (the spike's length)", end.Duration, dur)
	}
}
