package detector

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unsafe"
)

// feed observes runs (minute indexes, from 0) of a job on r, minute by
// minute as the engine does, over n minutes.
func feed(r *rhythm, base int64, n int, run func(i int) bool) {
	quiet := 0
	for i := range n {
		active := run(i)
		if active {
			r.observe(base+int64(i), quiet >= runQuiet, nil)
			quiet = 0
		} else {
			quiet++
		}
	}
}

func TestRhythmLearnsAJobWithJitter(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	// An hourly job whose first call falls at :37 or :38; the first
	// interval (38 -> 37) makes the candidate period 59.
	jitter := map[int]int{0: 1, 1: 0}
	var r rhythm
	const base = 29_000_000
	feed(&r, base, 30*60, func(i int) bool {
		h, m := i/60, i%60
		j, ok := jitter[h]
		if !ok {
			j = rng.IntN(2)
			jitter[h] = j
		}
		return m == 37+j
	})
	if r.period != 60 {
		t.Errorf("period %d, want 60", r.period)
	}
	if !r.established() || r.missed != 0 {
		t.Errorf("rhythm %+v after 30 punctual runs, want established with no misses", r)
	}
	if q := r.missRate(); q <= 0 || q > 0.5/25 {
		t.Errorf("miss rate %g after %d punctual runs, want under 1 in 50", q, r.runs)
	}
	// The deadlines of missed runs: the period plus the tolerance (3
	// minutes for an hour) after the last run, and every period after.
	last := int64(r.last)
	for _, tc := range []struct {
		after int64
		want  int64
	}{{60, 0}, {62, 0}, {63, 1}, {64, 0}, {123, 2}, {183, 3}, {184, 0}} {
		if got := r.missedAt(last + tc.after); got != tc.want {
			t.Errorf("missedAt(last+%d) = %d, want %d", tc.after, got, tc.want)
		}
	}
}

func TestRhythmMissesAndOtherCallers(t *testing.T) {
	const base = 29_000_000
	var r rhythm
	// A job every 30 minutes for two days.
	feed(&r, base, 2*1440, func(i int) bool { return i%30 == 3 })
	if r.period != 30 || !r.established() {
		t.Fatalf("rhythm %+v, want an established 30-minute period", r)
	}
	runs := r.runs
	// It misses two runs, then runs again: on the rhythm, two misses.
	r.observe(base+2*1440+3+60, true, nil)
	if r.missed != 2 || r.runs != runs+1 || int64(r.last) != base+2*1440+63 {
		t.Errorf("after a run two periods late: %+v, want 2 missed and the run counted", r)
	}
	// Another caller between runs erodes the rhythm but does not move it.
	last, runs := r.last, r.runs
	r.observe(int64(last)+12, true, nil)
	if r.last != last || r.runs >= runs || r.period != 30 {
		t.Errorf("after a call off the rhythm: %+v, want the same last run and period, fewer runs", r)
	}
	// A job rescheduled to another phase is learnt anew, once its runs
	// off the old rhythm have worn it out.
	var moved rhythm
	feed(&moved, base, 2*1440, func(i int) bool { return i%30 == 3 })
	feed(&moved, base+2*1440, 1440, func(i int) bool { return i%30 == 17 })
	if moved.period != 30 || int64(moved.last)%30 != (base+2*1440+17)%30 {
		t.Errorf("rescheduled job: %+v, want the new phase learnt", moved)
	}
	// A gap reported is not reported again until the job runs.
	r.flags |= rhythmReported
	if r.established() {
		t.Error("established after a reported gap")
	}
	r.observe(int64(r.last)+30, true, nil)
	if !r.established() {
		t.Error("not established after the job ran again")
	}
}

func TestRhythmFollowsASlowdown(t *testing.T) {
	const base = 29_000_000
	var r rhythm
	// Hourly for two days, then every two hours at the same minute.
	feed(&r, base, 3*1440, func(i int) bool { return i%60 == 7 && (i < 2*1440 || i%120 == 7) })
	if r.period != 120 || !r.established() {
		t.Fatalf("rhythm %+v, want an established 120-minute period", r)
	}
	if q := r.missRate(); q > 0.02 {
		t.Errorf("miss rate %g after the slowdown, want the runs it seemed to miss taken back", q)
	}
	// A job that skips every other run three times in a row by chance
	// gets its period doubled, and its hourly runs wear that out again.
	var flaky rhythm
	feed(&flaky, base, 2*1440, func(i int) bool { return i%60 == 7 && (i < 1440 || i >= 1440+6*60 || i%120 == 7) })
	if flaky.period != 60 {
		t.Errorf("rhythm %+v after three skipped runs and a day of hourly runs, want the hourly period back", flaky)
	}
}

// cronStream runs an engine over days of a noisy busy API plus a job making
// calls calls every period minutes at minute offset, where run(i) says
// whether the run at minute i of the stream happens, and returns the
// Insights.
func cronStream(t *testing.T, days, period, offset, calls int, run func(i int) bool) []Insight {
	t.Helper()
	e, sink := newTestEngine(t)
	s := &stream{e: e, t0: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), rng: rand.New(rand.NewPCG(9, 9)), label: "cron"}
	ctx := context.Background()
	for i := 0; i < days*1440; i++ {
		_ = e.Advance(ctx, s.t0.Add(time.Duration(i)*time.Minute))
		s.minute(i, poissonN(s.rng, 20), "DescribeInstances", "", "arn:aws:iam::111122223333:role/app", false)
		if i%period == offset && run(i) {
			s.minute(i, calls, "CreateSnapshot", "", "arn:aws:iam::111122223333:role/backup", true)
		}
	}
	_ = e.Advance(ctx, s.t0.Add(time.Duration(days*1440+60)*time.Minute))
	return sink.got
}

// startAndEnd fails the test unless got is one Start and its End.
func startAndEnd(t *testing.T, got []Insight) {
	t.Helper()
	if len(got) == 2 && got[0].State == StateStart && got[1].State == StateEnd {
		return
	}
	for _, in := range got {
		t.Logf("%s %s at %s dur %d (p=%g, scale %d, %s)", in.Key, in.State, in.Start, in.Duration, in.PValue, in.Scale, in.Direction)
	}
	t.Fatalf("got %d transitions, want a Start and an End", len(got))
}

func TestEngineMissedRunsOfAnHourlyJob(t *testing.T) {
	// One call an hour: three missed runs are no evidence to the count
	// model (3 expected, 0 seen: P = 0.05), but the job had not missed
	// a run in nine days.
	gapFrom := 9*1440 + 5*60
	got := cronStream(t, 10, 60, 7, 1, func(i int) bool { return i < gapFrom || i >= gapFrom+180 })
	startAndEnd(t, got)
	st, end := got[0], got[1]
	first := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC).Add(time.Duration(gapFrom+7) * time.Minute)
	if st.Direction != Drop || st.Key.EventName != "CreateSnapshot" || !st.Start.Equal(first) {
		t.Fatalf("got %s %s from %s, want a drop of CreateSnapshot from the first missed run, %s", st.Key, st.Direction, st.Start, first)
	}
	// Found at the second run's deadline (3 minutes of tolerance), once
	// the account-Region's events are a delivery cycle (5 minutes) newer
	// than it, not once the watermark (15 minutes of lateness) passes it:
	// two misses in a row of a job with a record of 200 punctual runs are
	// P ≈ 5e-6. (The stream's events of a minute come after the Advance
	// to it, hence the sixth minute.) The region has only reads beside the
	// job: it is tested as its clock ticks, not only as writes come.
	if want := first.Add(time.Hour + 3*time.Minute + 6*time.Minute); !st.Emitted.Equal(want) {
		t.Errorf("Start emitted at %s, want %s", st.Emitted, want)
	}
	if st.Period != 60 || end.Period != 0 {
		t.Errorf("Period %d on the Start, %d on the End; want 60 (an hourly job), 0", st.Period, end.Period)
	}
	if end.State != StateEnd || end.Duration != 180 {
		t.Errorf("End %s of %d minutes, want 180: the gap ends when the job runs again", end.State, end.Duration)
	}
}

func TestEngineGapEndsWhenTheJobResumesAtAnotherMinute(t *testing.T) {
	// An hourly job at :07 stops for three hours and comes back at :37
	// (restarted, or rescheduled): the gap ends with its first run, not
	// once its old rhythm has worn out.
	gapFrom := 9*1440 + 5*60
	got := cronStream(t, 10, 30, 7, 1, func(i int) bool {
		if i < gapFrom {
			return i%60 == 7
		}
		return i >= gapFrom+180 && i%60 == 37
	})
	startAndEnd(t, got)
	first := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC).Add(time.Duration(gapFrom+7) * time.Minute)
	back := first.Add(210 * time.Minute)
	if st, end := got[0], got[1]; !st.Start.Equal(first) || end.State != StateEnd || end.Duration != 210 {
		t.Errorf("%s from %s, %s after %d minutes; want a Start at %s and an End after 210 minutes, at the first run at :37", st.State, st.Start, end.State, end.Duration, first)
	}
	// Sent once the cool-down's normal minutes are past the watermark
	// (15 minutes of lateness), not hours later.
	if end := got[1]; end.Emitted.After(back.Add(30 * time.Minute)) {
		t.Errorf("End emitted at %s, %s after the job came back", end.Emitted.Format("15:04"), end.Emitted.Sub(back))
	}
}

func TestEngineMissedRunsAfterASlowdown(t *testing.T) {
	// Hourly until day 4, every two hours after; on day 9 it misses two
	// runs. Two missed runs of a job whose rhythm had stayed hourly were
	// four "missed" hours among many: no evidence.
	gapFrom := 9*1440 + 4*60
	got := cronStream(t, 10, 60, 7, 1, func(i int) bool {
		if i >= 4*1440 && i%120 != 7 {
			return false
		}
		return i < gapFrom || i >= gapFrom+240
	})
	startAndEnd(t, got)
	first := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC).Add(time.Duration(gapFrom+7) * time.Minute)
	if st := got[0]; !st.Start.Equal(first) || st.Period != 120 {
		t.Errorf("Start at %s, period %d; want %s, 120", st.Start, st.Period, first)
	}
}

// officeHours reports whether minute i of a stream from Monday 2026-01-05
// falls from 09:00 to 17:00 UTC on a weekday.
func officeHours(i int) bool {
	wd := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute).Weekday()
	h := i % 1440 / 60
	return h >= 9 && h < 17 && wd != time.Saturday && wd != time.Sunday
}

func TestEngineMissedRunsOfAnOfficeHoursJob(t *testing.T) {
	// Every 20 minutes in office hours. Its nights and weekends are not
	// misses (the count model expects no run then), so its record stays
	// clean and three runs missed on a Wednesday morning are a gap: the
	// count model alone sees 0 calls against 6 expected, P = 2.5e-3.
	gapFrom := 9*1440 + 11*60
	got := cronStream(t, 10, 20, 0, 2, func(i int) bool { return officeHours(i) && (i < gapFrom || i >= gapFrom+60) })
	startAndEnd(t, got)
	st := got[0]
	first := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC).Add(time.Duration(gapFrom) * time.Minute)
	if st.Direction != Drop || st.Key.EventName != "CreateSnapshot" || !st.Start.Equal(first) || st.Period != 20 {
		t.Fatalf("got %s %s from %s, period %d; want a drop of CreateSnapshot from the first missed run, %s, period 20", st.Key, st.Direction, st.Start, st.Period, first)
	}
}

func TestEngineJobRhythmsStayQuiet(t *testing.T) {
	// A job that skips one run in six at random: three missed runs in a
	// row happen every few days.
	flaky := rand.New(rand.NewPCG(4, 4))
	// Hourly, each run up to 8 minutes early or late: many runs fall
	// outside the rhythm's tolerance, but the job never stops.
	jitter := rand.New(rand.NewPCG(5, 5))
	jittered := map[int]bool{}
	for h := range 10 * 24 {
		jittered[h*60+30+jitter.IntN(17)-8] = true
	}
	// Hourly at :07; on day 9 two runs in a row come at :13, outside the
	// tolerance of 3 minutes: late, not missed.
	late := 9*24 + 5
	for _, tc := range []struct {
		name                        string
		days, period, offset, calls int
		run                         func(i int) bool
	}{
		{"two missed runs of a job with a record of misses", 10, 30, 3, 1, func(int) bool { return flaky.IntN(6) != 0 }},
		{"a punctual job late twice", 10, 1, 0, 1, func(i int) bool {
			if h := i / 60; h == late || h == late+1 {
				return i%60 == 13
			}
			return i%60 == 7
		}},
		{"a job with minutes of jitter", 10, 1, 0, 1, func(i int) bool { return jittered[i] }},
		// Every 20 minutes from 09:00 to 17:00 UTC, weekdays: its nights
		// and weekends are no gaps.
		{"a job that runs only in office hours", 14, 20, 0, 2, officeHours},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, in := range cronStream(t, tc.days, tc.period, tc.offset, tc.calls, tc.run) {
				t.Errorf("unexpected %s %s at %s (p=%g, scale %d, %s)", in.Key, in.State, in.Start, in.PValue, in.Scale, in.Direction)
			}
		})
	}
}

// TestCallSeriesSizeClass keeps a call-rate series in Go's 896-byte size
// class: allocations over 512 bytes carry an 8-byte header, so the struct
// must stay at 888 bytes or less, or every series costs 128 bytes more
// (BenchmarkMemoryPerSeries measures the whole: 934 bytes a series).
func TestCallSeriesSizeClass(t *testing.T) {
	const class, header = 896, 8
	if got := unsafe.Sizeof(callSeries{}); got+header > class {
		t.Errorf("callSeries is %d bytes: with the %d-byte allocation header it leaves the %d-byte size class", got, header, class)
	}
}

// TestRestoreRejectsBadRhythms: a snapshot whose rhythm or gap alarm no
// Engine could have written is refused, naming what is wrong.
func TestRestoreRejectsBadRhythms(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(c *callSeries, er *errSeries)
		msg  string
	}{
		{"period too short", func(c *callSeries, _ *errSeries) { c.rhythm.period = minRhythmPeriod - 1 }, "rhythm period 4 outside [5, 120]"},
		{"period too long", func(c *callSeries, _ *errSeries) { c.rhythm.period = maxRhythmPeriod + 1 }, "rhythm period 121"},
		{"runs", func(c *callSeries, _ *errSeries) { c.rhythm.runs = rhythmMaxRuns }, "rhythm runs 255, at most 254"},
		{"unknown flag", func(c *callSeries, _ *errSeries) { c.rhythm.flags = 1 << 5 }, "rhythm flags 0x20"},
		{"slow streak of 3", func(c *callSeries, _ *errSeries) { c.rhythm.flags = rhythmSlow }, "rhythm flags 0x18"},
		{"long and short", func(c *callSeries, _ *errSeries) { c.rhythm.flags = rhythmLong | rhythmShort }, "rhythm flags 0x6"},
		{"negative last run", func(c *callSeries, _ *errSeries) { c.rhythm.last = -5 }, "rhythm last run -5"},
		{"gap on a spike", func(c *callSeries, _ *errSeries) {
			c.al = &alarm{dir: Spike, gap: true, start: 29_000_000, scale: 1, last: 29_000_000 - 1}
		}, "a gap alarm must be a drop"},
		{"gap on an error rate", func(_ *callSeries, er *errSeries) {
			er.al = &alarm{dir: Drop, gap: true, start: 29_000_000, scale: 10, last: 29_000_000 - 1}
		}, "a gap flag without a call-rate alarm"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, _ := newTestEngine(t)
			s := &stream{e: e, t0: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), rng: rand.New(rand.NewPCG(1, 1)), label: "r"}
			s.minute(0, 2, "CreateSnapshot", "", "arn:aws:iam::111122223333:role/backup", true)
			s.minute(1, 1, "CreateSnapshot", "Throttling", "arn:aws:iam::111122223333:role/backup", true)
			if len(e.callList) != 1 || len(e.errList) != 1 {
				t.Fatalf("%d call and %d error series, want 1 and 1", len(e.callList), len(e.errList))
			}
			var b bytes.Buffer
			if err := e.Snapshot(&b); err != nil {
				t.Fatal(err)
			}
			if _, err := Restore(e.cfg, nil, nil, bytes.NewReader(b.Bytes())); err != nil {
				t.Fatalf("the unedited snapshot: %v", err)
			}
			tc.edit(e.callList[0], e.errList[0])
			b.Reset()
			if err := e.Snapshot(&b); err != nil {
				t.Fatal(err)
			}
			_, err := Restore(e.cfg, nil, nil, &b)
			if !errors.Is(err, ErrBadSnapshot) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("Restore: %v; want ErrBadSnapshot naming %q", err, tc.msg)
			}
		})
	}
}
