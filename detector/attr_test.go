package detector

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"
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
