package detector

import "math"

// rhythm follows the runs of a scheduled job in a call-rate series: a job
// that calls every P minutes is clockwork in its runs, not in its calls.
// The count model takes the run-to-run variation of calls (1 to 3 a run)
// as dispersion, so three missed runs of an hourly job are only P ≈ 1e-3
// to it; as missed runs of a job that has kept its schedule for a day,
// they are P ≈ 1e-5. A run is the first active minute after at least
// runQuiet quiet ones.
//
// Eight bytes, inline in callSeries: the series is 888 bytes, which with
// the 8-byte header Go puts on allocations over 512 bytes fills the
// 896-byte size class exactly, so a series costs no more heap than before
// (TestCallSeriesSizeClass).
type rhythm struct {
	last   int32 // first minute of the newest run on the rhythm (or of a candidate)
	period uint8 // minutes between runs; 0 while no candidate
	runs   uint8 // runs on the rhythm, decayed with missed at rhythmMaxRuns
	missed uint8 // expected runs that did not come, among them
	flags  uint8
}

const (
	// rhythmReported marks a gap already reported: no second gap Insight
	// until the job runs again.
	rhythmReported = 1 << iota
	// rhythmLong and rhythmShort mark that the last interval of one
	// period was longer (shorter) than the period.
	rhythmLong
	rhythmShort
	// rhythmSlow0 is the low bit of a two-bit count (0 to
	// rhythmSlowRuns-1) of intervals in a row of exactly two periods.
	rhythmSlow0
	rhythmSlow  = rhythmSlow0 | rhythmSlow0<<1
	rhythmFlags = rhythmReported | rhythmLong | rhythmShort | rhythmSlow
)

// rhythmSlowRuns is how many intervals in a row of exactly two periods
// double the period: a job skipping runs at random rarely skips every
// other run three times in a row, and if it does, its runs at the old
// period wear the doubled rhythm out again.
const rhythmSlowRuns = 3

const (
	// minRhythmPeriod and maxRhythmPeriod bound the periods learnt.
	// Shorter jobs leave gaps the count model's minute windows see anyway;
	// longer ones make too few runs a day to learn a rhythm from.
	minRhythmPeriod = 5
	maxRhythmPeriod = 120
	// rhythmRuns is how many runs on the rhythm a series needs before a
	// missed run is evidence: a day of an hourly job.
	rhythmRuns = 24
	// rhythmMaxRuns bounds the memory: runs and missed are cut to three
	// quarters there, so the miss rate follows the job's last ~200-250
	// runs, and a perfect record estimates it at 1 in 380-510.
	rhythmMaxRuns = 255
	// runQuiet is how many quiet minutes separate two runs: a run whose
	// calls spill over a few minutes stays one run.
	runQuiet = 3
)

// rhythmTolerance is how many minutes a run may come after (or before)
// its time and still be on the rhythm: schedulers start jobs within
// seconds, but a run's first call may fall in the next minute, and longer
// periods drift more.
func rhythmTolerance(p int64) int64 { return 1 + p/30 }

// observe learns closed minute m, which has calls. quiet reports whether
// the runQuiet minutes before it were empty (m starts a run). expected,
// when not nil, says how many of the k-1 runs between the last run and
// one k periods later the job was expected to make, and so missed; nil
// counts all of them.
func (r *rhythm) observe(m int64, quiet bool, expected func(last, period, k int64) int64) {
	if !quiet {
		return
	}
	if r.last == 0 {
		r.last = int32(m)
		return
	}
	d := m - int64(r.last)
	if p := int64(r.period); p > 0 {
		k := (d + p/2) / p
		if k >= 1 && abs64(d-k*p) <= rhythmTolerance(p) {
			missed := k - 1
			switch {
			case k == 1:
				r.refine(d)
			case k == 2 && r.slowedDown(p):
				missed = 0 // the job's new period: nothing missed
			default:
				if k > 2 {
					r.flags &^= rhythmSlow
				}
				if expected != nil {
					missed = expected(int64(r.last), p, k)
				}
			}
			r.onRhythm(missed)
			r.last = int32(m)
			return
		}
		if r.flags&rhythmReported != 0 {
			// Back after a reported gap, at another minute: the job
			// restarted or was rescheduled. The gap is over (gapOver
			// sees the run), and the rhythm goes on from this run.
			r.last = int32(m)
			r.flags &^= rhythmFlags
			return
		}
		if r.runs >= rhythmRuns {
			// A run off the rhythm of an established job: another
			// caller, or the job rescheduled. Each one erodes the
			// rhythm; enough of them and it is learnt anew.
			r.runs -= max(1, r.runs/4)
			return
		}
	}
	// No rhythm yet, or a candidate broken: this interval is the new
	// candidate.
	*r = rhythm{last: int32(m)}
	if d >= minRhythmPeriod && d <= maxRhythmPeriod {
		r.period, r.runs = uint8(d), 1
	}
}

// slowedDown counts an interval of exactly two periods p, and after
// rhythmSlowRuns of them in a row doubles the period: the job now runs
// half as often (a schedule changed from hourly to every two hours), and
// the runs it seemed to miss meanwhile are taken back. Without it such a
// job kept the old period with a miss in every interval, its miss rate
// climbing towards one, blind to its later gaps. An interval of one
// period (refine) or of three or more ends the streak.
func (r *rhythm) slowedDown(p int64) bool {
	n := (r.flags&rhythmSlow)/rhythmSlow0 + 1
	if n < rhythmSlowRuns || 2*p > maxRhythmPeriod {
		r.flags = r.flags&^rhythmSlow | min(n, rhythmSlowRuns-1)*rhythmSlow0
		return false
	}
	r.period = uint8(2 * p)
	r.missed -= min(r.missed, rhythmSlowRuns-1)
	r.flags &^= rhythmSlow | rhythmLong | rhythmShort
	return true
}

// refine moves the period a minute towards d after two intervals in a row
// on the same side of it. The first interval fixes the period, and it may
// be a minute off: a run's first call falls in one of two minutes. Jitter
// alternates sides and leaves it; a period a minute off does not.
func (r *rhythm) refine(d int64) {
	r.flags &^= rhythmSlow
	p := int64(r.period)
	switch {
	case d > p && r.flags&rhythmLong != 0:
		r.period++
		r.flags &^= rhythmLong
	case d > p:
		r.flags = r.flags&^rhythmShort | rhythmLong
	case d < p && r.flags&rhythmShort != 0:
		r.period--
		r.flags &^= rhythmShort
	case d < p:
		r.flags = r.flags&^rhythmLong | rhythmShort
	default:
		r.flags &^= rhythmLong | rhythmShort
	}
	r.period = uint8(min(maxRhythmPeriod, max(minRhythmPeriod, int(r.period))))
}

// onRhythm counts a run on the rhythm after missed runs.
func (r *rhythm) onRhythm(missed int64) {
	r.runs++
	r.missed = uint8(min(255, int64(r.missed)+missed))
	if r.runs >= rhythmMaxRuns {
		r.runs = r.runs / 4 * 3
		r.missed = r.missed / 4 * 3
	}
	r.flags &^= rhythmReported
}

// established reports whether missed runs are evidence.
func (r *rhythm) established() bool {
	return r.period > 0 && r.runs >= rhythmRuns && r.flags&rhythmReported == 0
}

// missRate is the share of runs the job misses: its own record, with half
// a miss of prior (1 in 50 when the rhythm is just established, 1 in
// 380-510 after a long perfect record). Real schedulers do skip runs
// (deploys, throttling, a host restarting), and a job that does shows it
// in its record: its misses raise its rate and its gaps need more of them.
func (r *rhythm) missRate() float64 {
	return (float64(r.missed) + 0.5) / (float64(r.runs) + 1)
}

// missedAt returns how many runs have been missed by closed minute m, when
// m is the last minute a run could still have come on time (its
// deadline); 0 otherwise.
func (r *rhythm) missedAt(m int64) int64 {
	p := int64(r.period)
	d := m - int64(r.last) - rhythmTolerance(p)
	if p == 0 || d <= 0 || d%p != 0 {
		return 0
	}
	return d / p
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// testRhythm runs the missed-runs test on minute m of a call series with
// no open Insight, at the deadline of each missed run, and starts a drop
// Insight on strong evidence. It reports whether it started one. Minutes
// up to closed are closed; those after it are open but delivered
// (earlyDrops): the calls counted in them show that a run came.
//
// k missed runs in a row have probability q^k under the job's miss rate q;
// the test is made once per period, not every minute, and is held to the
// same threshold as a drop window of the same length (alpha of the minutes
// since the last run), so it spends less of the false-alarm budget than
// the window tests do.
func (e *Engine) testRhythm(c *callSeries, m, closed int64) bool {
	r := &c.rhythm
	if !r.established() {
		return false
	}
	k := r.missedAt(m)
	if k < 2 {
		return false
	}
	s := &c.series
	from := int64(r.last) + 1
	if from < int64(s.rearm) || s.reg.lastGap >= from {
		return false // an Insight or a delivery gap since the last run
	}
	// Missed, not late: no call since the first missed run could have
	// come. A run outside the tolerance is off the rhythm, not a run on
	// it, but the job did run.
	p := int64(r.period)
	if s.counts.Head() >= int64(r.last)+p-rhythmTolerance(p) {
		return false
	}
	// The count model must expect the runs here too (half a call a run at
	// least): a job that pauses at night or at weekends misses no run
	// then.
	if mu, _ := c.dropWindow(e, from, m); mu < 0.5*float64(k) {
		return false
	}
	q := math.Pow(r.missRate(), float64(k))
	if q >= e.alpha(m-int64(r.last)) {
		return false
	}
	start := int64(r.last) + p // the first missed run
	s.al = &alarm{dir: Drop, gap: true, start: start, scale: int(m - start + 1), p: q, last: start - 1}
	for t := start; t <= min(m, closed); t++ {
		e.fold(s, t)
	}
	s.al.judged(m, closed)
	r.flags |= rhythmReported
	mu, _ := c.dropWindow(e, start, m)
	e.emitStart(s, start, s.counts.Sum(start, m), int(m-start+1), mu/float64(m-start+1))
	return true
}

// gapOver reports whether minute m is normal for a gap Insight: the job
// ran again, or the count model no longer expects its runs over the
// Insight's scale, by the test's own measure of half a call a run (quiet
// hours, or a job gone long enough to be learnt).
func (c *callSeries) gapOver(e *Engine, a *alarm, m int64) bool {
	r := &c.rhythm
	if int64(r.last) >= a.start || r.period == 0 {
		return true
	}
	mu, _ := c.dropWindow(e, m-int64(a.scale)+1, m)
	return mu < 0.5*float64(a.scale)/float64(r.period)
}

// observeRun feeds closed minute m, which has calls, to the job rhythm.
// Minutes without calls teach it nothing, so the minute-closing loop calls
// it only for those with calls.
func (c *callSeries) observeRun(e *Engine, m int64) {
	c.rhythm.observe(m, c.counts.Sum(m-runQuiet, m-1) == 0, func(last, period, k int64) int64 {
		return c.expectedRuns(e, last, period, k)
	})
}

// expectedRuns counts, of the k-1 runs a job skipped between its run at
// minute last and one k periods later, those the count model expected:
// half a call or more in the run's period, the missed-runs test's own
// measure, once the account-Region is warm. A job that runs in office
// hours does not miss its runs at night or at weekends, which would
// otherwise raise its miss rate above one and blind the test; before the
// model knows the job's hours no miss is counted.
func (c *callSeries) expectedRuns(e *Engine, last, period, k int64) int64 {
	n := int64(0)
	for j := int64(1); j < k; j++ {
		from := last + (j-1)*period + 1
		if !e.warm(c.reg, from) {
			continue
		}
		if mu, _ := c.dropWindow(e, from, last+j*period); mu >= 0.5 {
			n++
		}
	}
	return n
}
