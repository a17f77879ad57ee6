package detector

import (
	"context"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/trailsight/trailsight/cloudtrail"
)

// startAttrWorld runs nine days of steady traffic, then delivers the
// calls of mallory's burst (per minute: counts[i] calls to api) as one log
// file: its minutes in the given order, then the clock moves past them, as
// a replay does, for a few minutes: the Insight is still open. It returns
// the Insights and the Engine.
func startAttrWorld(t *testing.T, api string, counts []int, order []int) ([]Insight, *Engine) {
	t.Helper()
	e, sink := newTestEngine(t)
	s := &stream{e: e, t0: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), rng: rand.New(rand.NewPCG(3, 3)), label: "a"}
	ctx := context.Background()
	last := 8*1440 + 700
	for i := 0; i < last; i++ {
		_ = e.Advance(ctx, s.t0.Add(time.Duration(i)*time.Minute))
		s.minute(i, poissonN(s.rng, 5), "DescribeInstances", "", "arn:aws:iam::111122223333:role/app", false)
		s.minute(i, poissonN(s.rng, 3), "UpdateInstanceInformation", "", "arn:aws:sts::111122223333:assumed-role/agent/i-1", true)
	}
	for _, k := range order {
		s.minute(last+k, counts[k], api, "", "arn:aws:iam::111122223333:user/mallory", true)
	}
	for i := last; i <= last+5; i++ {
		_ = e.Advance(ctx, s.t0.Add(time.Duration(i+5)*time.Minute))
		s.minute(i, poissonN(s.rng, 5), "DescribeInstances", "", "arn:aws:iam::111122223333:role/app", false)
		s.minute(i, poissonN(s.rng, 3), "UpdateInstanceInformation", "", "arn:aws:sts::111122223333:assumed-role/agent/i-1", true)
	}
	return sink.got, e
}

// A Start record attributes its calls, and exactly: the first a reader
// sees of an Insight has to say who made them (spec §2.9 #3: Start
// attributions cover the minutes seen so far). On a rarely called API a
// slow burst (a call or two a minute) makes no single minute look unusual;
// a window test finds it once its log file is in, and the calls before it
// were not counted, so the Start attributed a few of its calls scaled up,
// or none (3 spike Starts of the standard dataset had empty attributions).
// Now a rare series counts every call's values while it is active.
func TestStartRecordsAttributeTheirCalls(t *testing.T) {
	for _, tc := range []struct {
		name   string
		api    string
		counts []int
		order  []int
	}{
		{"a call a minute", "CreateAccessKey", []int{1, 1, 2, 1, 2}, []int{0, 1, 2, 3, 4}},
		{"a call a minute, out of order", "CreateAccessKey", []int{1, 1, 2, 1, 2}, []int{4, 2, 0, 3, 1}},
		{"a burst, its later minutes first in the file", "ModifyTargetGroupAttributes", []int{14, 10, 9, 15, 3}, []int{3, 4, 0, 1, 2}},
	} {
		got, e := startAttrWorld(t, tc.api, tc.counts, tc.order)
		var start *Insight
		for i := range got {
			if got[i].Key.EventName == tc.api && got[i].State == StateStart {
				start = &got[i]
				break
			}
		}
		if start == nil {
			t.Errorf("%s: no Start on %s (%d Insights)", tc.name, tc.api, len(got))
			continue
		}
		for _, a := range start.Attributions {
			sum := 0.0
			for _, v := range a.Insight {
				sum += v.Average
			}
			if len(a.Insight) == 0 || sum < start.InsightAverage*(1-1e-9) || sum > start.InsightAverage*(1+1e-9) {
				t.Errorf("%s: Start's %s attributions %v do not add up to its average %g", tc.name, a.Attribute, a.Insight, start.InsightAverage)
			}
		}
		if top := start.Attributions[0].Insight; len(top) == 0 || top[0].Value != "arn:aws:iam::111122223333:user/mallory" {
			t.Errorf("%s: Start's principals %v, want mallory", tc.name, top)
		}
		// Exact: the values counted are every call of the Insight's
		// minutes (calls of minutes before its Start that came after it
		// are not the Insight's).
		s := e.calls.get(apiKey{"111122223333", "us-east-1", "ec2.amazonaws.com", tc.api}, e.vals.strs)
		first := int(start.Start.Sub(time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)).Minutes()) - (8*1440 + 700)
		want := 0
		for k, n := range tc.counts {
			if k >= first {
				want += n
			}
		}
		counted := 0.0
		if s.attrs.hot != nil {
			for _, n := range s.attrs.hot.vals[0] {
				counted += n
			}
		}
		if counted != float64(want) {
			t.Errorf("%s: %v calls counted for the attributions, want all %d from the Start (minute %d of the burst)", tc.name, counted, want, first)
		}
	}
}

// A call of an earlier minute that comes after a later one (log files are
// not sorted) is counted once its minute is unusual too.
func TestHeatCountsFromTheEarliestUnusualMinute(t *testing.T) {
	var s series
	vals := newValues()
	ids := [3]uint32{vals.id("arn:aws:iam::1:user/a"), vals.id("cli"), vals.id("null")}
	const m = 29010100
	s.attrs.heat(m+3, m+33)
	s.observeAttrs(m+3, &ids, 1)
	s.attrs.heat(m, m+30)
	s.observeAttrs(m, &ids, 1)
	if got := s.attrs.hot.vals[0][ids[0]]; got != 2 {
		t.Errorf("counted %v calls, want 2: the earlier minute's call was left out", got)
	}
	if s.attrs.hot.calm != m+33 {
		t.Errorf("calm = %d, want the later of the two, %d", s.attrs.hot.calm, m+33)
	}
}

// A record's attributions add up to its statistics, as AWS's do (spec
// §2.4: while a side has at most five values, a lone "null" error code
// equals the statistic), and each value's average is a whole number of
// calls over the side's minutes (spec §2.3). The baseline side was the
// sketch's decayed counts over an effective window, which added up to
// anything up to the statistic: on seed 1, 192 of 904 attribute lists
// did not.
func TestAttributionsAddUpToTheirStatistics(t *testing.T) {
	e, sink := newTestEngine(t)
	s := &stream{e: e, t0: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), rng: rand.New(rand.NewPCG(5, 5)), label: "a"}
	ctx := context.Background()
	const (
		alice   = "arn:aws:iam::111122223333:user/alice"
		bob     = "arn:aws:iam::111122223333:user/bob"
		mallory = "arn:aws:iam::111122223333:user/mallory"
	)
	burst := 8*1440 + 700
	calls := map[string]float64{} // each principal's calls before the burst
	for i := 0; i < burst+60; i++ {
		_ = e.Advance(ctx, s.t0.Add(time.Duration(i)*time.Minute))
		s.minute(i, poissonN(s.rng, 3), "UpdateInstanceInformation", "", "arn:aws:sts::111122223333:assumed-role/agent/i-1", true)
		// A call a minute at most, so that no minute of theirs looks
		// unusual and the Insight's counts start with mallory's burst.
		who := map[int]string{0: alice, 3: alice, 6: bob}[i%10]
		switch {
		case i >= burst && i < burst+5:
			s.minute(i, 40, "CreateTags", "", mallory, true)
		case who != "":
			s.minute(i, 1, "CreateTags", "", who, true)
			// The §2.6 window: from 00:00 UTC seven days before the
			// start day to the start.
			if i >= (burst/1440-7)*1440 && i < burst {
				calls[who]++
			}
		}
	}
	n := 0
	for _, in := range sink.got {
		if in.Key.EventName != "CreateTags" {
			continue
		}
		n++
		for _, a := range in.Attributions {
			for _, side := range []struct {
				name    string
				vals    []cloudtrail.AttributionValue
				avg     float64
				minutes int
			}{{"insight", a.Insight, in.InsightAverage, in.Duration}, {"baseline", a.Baseline, in.BaselineAverage, in.BaselineDuration}} {
				sum := 0.0
				for _, v := range side.vals {
					sum += v.Average
					if c := v.Average * float64(side.minutes); math.Abs(c-math.Round(c)) > 1e-6 {
						t.Errorf("%s %s %s %q: average %g is %g calls in %d minutes, not a whole number", in.State, a.Attribute, side.name, v.Value, v.Average, c, side.minutes)
					}
				}
				if math.Abs(sum-side.avg) > 1e-9*side.avg {
					t.Errorf("%s %s %s: %v add up to %g, want the statistic %g", in.State, a.Attribute, side.name, side.vals, sum, side.avg)
				}
			}
		}
		// The baseline's principals in the window's proportions (the
		// sketch weighs recent calls more; the traffic is even).
		for _, v := range in.Attributions[0].Baseline {
			if got, want := v.Average*float64(in.BaselineDuration), calls[v.Value]; math.Abs(got-want) > 0.05*want {
				t.Errorf("%s: %s made %g baseline calls, listed as %g", in.State, v.Value, want, got)
			}
		}
		if got := in.Attributions[0].Baseline; len(got) != 2 {
			t.Errorf("%s: baseline principals %v, want alice and bob", in.State, got)
		}
		if got := in.Attributions[0].Insight; len(got) != 1 || got[0].Value != mallory {
			t.Errorf("%s: Insight principals %v, want mallory alone", in.State, got)
		}
	}
	if n != 2 {
		t.Fatalf("%d CreateTags records, want a Start and an End", n)
	}
}

// apportion gives out exactly the calls, in proportion, the same whatever
// the order of its input.
func TestApportion(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    []share
		calls float64
		want  map[string]float64
	}{
		{"proportional", []share{{"a", 6}, {"b", 3}, {"c", 1}}, 20, map[string]float64{"a": 12, "b": 6, "c": 2}},
		{"largest remainders", []share{{"a", 1}, {"b", 1}, {"c", 1}}, 10, map[string]float64{"a": 4, "b": 3, "c": 3}},
		{"ties to the smaller value", []share{{"c", 1}, {"b", 1}, {"a", 1}}, 1, map[string]float64{"a": 1, "b": 0, "c": 0}},
		{"whole calls", []share{{"a", 0.7}, {"b", 0.3}}, 2.4, map[string]float64{"a": 1, "b": 1}},
		{"weights that are no calls", []share{{"a", -2}, {"b", 0}, {"c", 0.1}}, 3, map[string]float64{"c": 3}},
		{"no calls", []share{{"a", 1}}, 0, map[string]float64{}},
	} {
		reversed := slices.Clone(tc.in)
		slices.Reverse(reversed)
		for _, in := range [][]share{tc.in, reversed} {
			got := map[string]float64{}
			for _, x := range apportion(slices.Clone(in), tc.calls) {
				if x.w > 0 {
					got[x.value] = x.w
				}
			}
			for k, v := range tc.want {
				if v == 0 {
					delete(tc.want, k)
				}
			}
			if !maps.Equal(got, tc.want) {
				t.Errorf("%s: apportion(%v, %g) = %v, want %v", tc.name, in, tc.calls, got, tc.want)
			}
		}
	}
}

// The hot counts run from the first unusual call to now; the calls among
// them that are not the Insight's (before its change point, in its
// cool-down) are no principal of the Insight's, and stay in the baseline.
func TestAttributionsListTheInsightsOwnCalls(t *testing.T) {
	vals := newValues()
	alice := [3]uint32{vals.id("arn:aws:iam::1:user/alice"), vals.id("cli"), vals.id("null")}
	mallory := [3]uint32{vals.id("arn:aws:iam::1:user/mallory"), vals.id("cli"), vals.id("null")}
	const m = 29010100
	world := func() *series {
		var s series
		for k := int64(0); k < 168; k++ { // a call an hour for a week
			s.observeAttrs(m-10080+60*k, &alice, 1)
		}
		return &s
	}
	names := func(v []cloudtrail.AttributionValue) map[string]float64 {
		out := map[string]float64{}
		for _, x := range v {
			out[x.Value] = x.Average
		}
		return out
	}

	s := world()
	s.attrs.heat(m, m+30)
	s.observeAttrs(m, &alice, 2)      // before the change point
	s.observeAttrs(m+1, &mallory, 20) // the Insight, [m+1, m+6)
	s.observeAttrs(m+8, &alice, 3)    // its cool-down
	out := s.attrs.build(vals, 3, tally{calls: 20, minutes: 5, since: 23, after: 3, baseAvg: 170.0 / 10080, baseDur: 10080})
	if got, want := names(out[0].Insight), map[string]float64{"arn:aws:iam::1:user/mallory": 4}; !maps.Equal(got, want) {
		t.Errorf("Insight principals %v, want %v", got, want)
	}
	if got, want := names(out[0].Baseline), map[string]float64{"arn:aws:iam::1:user/alice": 170.0 / 10080}; !maps.Equal(got, want) {
		t.Errorf("baseline principals %v, want %v", got, want)
	}

	// A drop found late: its counting began in its cool-down, and none of
	// the calls counted is the Insight's.
	s = world()
	s.attrs.heat(m+8, m+30)
	s.observeAttrs(m+8, &alice, 3)
	out = s.attrs.build(vals, 3, tally{calls: 2, minutes: 30, since: 5, after: 3, baseAvg: 168.0 / 10080, baseDur: 10080})
	for _, a := range out {
		if len(a.Insight) != 0 {
			t.Errorf("%s: Insight values %v, want none: the calls counted were its cool-down's", a.Attribute, a.Insight)
		}
	}
}
