package detector

import (
	"time"

	"github.com/trailsight/trailsight/models"
)

// region is the state of one account and Region: when it was first seen
// (warm-up), its local time zone, and a model of its total event count,
// which tells a delivery gap (every API silent at once: late or lost log
// files) from a real drop of one API.
type region struct {
	account, name string
	loc           *time.Location
	first         int64 // first minute seen

	total   ring
	model   models.Seasonal
	gaps    [ringSize / 64]uint64 // bit per closed minute: treated as a gap
	gapRun  int                   // consecutive gap minutes so far
	lastGap int64                 // newest gap minute

	slotAt   [ringSize]int64 // minute each cached slot belongs to
	slotMemo [ringSize]models.Slot
}

// slot returns minute m's place in the week in the account's time zone.
func (r *region) slot(m int64) models.Slot {
	i := m & (ringSize - 1)
	if r.slotAt[i] == m {
		return r.slotMemo[i]
	}
	t := time.Unix(m*60, 0).In(r.loc)
	s := models.SlotOf(t.Hour(), t.Minute(), int(t.Weekday()))
	r.slotAt[i], r.slotMemo[i] = m, s
	return s
}

func (r *region) close(cfg *Config, m int64) {
	c := r.total.get(m)
	s := r.slot(m)
	mu := r.model.Expect(&cfg.Seasonal, s)
	gap := r.model.Minutes() > 1440 && mu >= 4 && c < gapShare*mu
	i, bit := (m&(ringSize-1))/64, uint64(1)<<(m&63)
	if gap {
		r.gaps[i] |= bit
		r.gapRun++
		r.lastGap = m
	} else {
		r.gaps[i] &^= bit
		r.gapRun = 0
	}
	if !gap || r.gapRun > maxGap {
		r.model.Update(&cfg.Seasonal, s, c, false)
	}
}

// gapShare is the share of its expected events below which an
// account-Region minute counts as a delivery gap: late files leave a minute
// nearly empty, while one API's real drop leaves the other APIs' events.
const gapShare = 0.1

func (r *region) isGap(m int64) bool {
	return r.gaps[(m&(ringSize-1))/64]&(uint64(1)<<(m&63)) != 0 && r.gapRun <= maxGap
}

func (r *region) gapIn(from, to int64) bool {
	for m := from; m <= to; m++ {
		if r.isGap(m) {
			return true
		}
	}
	return false
}

// alarm is the Start/End state of one series, modelled on Prometheus'
// alerting rules: inactive until strong evidence, firing until CoolDown
// normal minutes in a row, then resolved.
type alarm struct {
	dir   Direction
	start int64 // first unusual minute
	scale int
	p     float64

	last               int64 // newest minute folded in
	sum, exp           float64
	cusum, best        float64
	end                int64 // exclusive end at the CUSUM's maximum
	sumAtEnd, expAtEnd float64
	calm               int

	startTotal float64 // early Start: the partial count that fired it

	baseAvg  float64
	baseDur  int
	baseHist float64 // minutes of history behind the baseline
}

// seriesKind is what differs between call-rate and error-rate series.
type seriesKind interface {
	// spike returns the expected count of one minute and its variance.
	spike(e *Engine, s models.Slot, m int64) (mean, variance float64)
	// spikeWindow and dropWindow return the expectation and variance of
	// the sum over minutes [from, to].
	spikeWindow(e *Engine, from, to int64) (mean, variance float64)
	dropWindow(e *Engine, from, to int64) (mean, variance float64)
	// dropBlocks is dropWindow over quarter-hour blocks [b0, b1].
	dropBlocks(e *Engine, b0, b1 int64) (mean, variance float64)
	// dropsAllowed reports whether the series' rhythm is known well enough
	// to call a drop at minute m.
	dropsAllowed(e *Engine, m int64) bool
	// learn updates the model with the closed minute's count; suspect
	// minutes do not teach the model how erratic the series is.
	learn(e *Engine, s models.Slot, m int64, count float64, suspect bool)
}

// keyID is a Key with its strings interned in the Engine's table: 24 bytes
// instead of 88, in every series.
type keyID struct {
	account, region, source, name, code uint32
	typ                                 InsightType
}

// series is the state shared by both kinds.
type series struct {
	id     keyID
	reg    *region
	kind   seriesKind
	counts ring // calls (call rate) or errors (error rate) per minute
	attrs  attrs
	al     *alarm // nil while no Insight is open
	rearm  int32  // no new Start before this minute
}

// baseline returns the §2.6 statistics for an Insight starting at minute
// start: the average per minute over [00:00 UTC seven days before the start
// day, start), the window's length, and the minutes of history behind it
// (shorter when less history exists, spec §2.9 #4).
func (s *series) baseline(start int64) (avg float64, dur int, hist float64) {
	day := start / 1440
	dur = 10080 + int(start-day*1440)
	count := 0.0
	for d := day - 7; d < day; d++ {
		count += s.counts.day(d)
	}
	today := s.counts.day(day) - s.counts.sum(start, s.counts.head())
	if today > 0 {
		count += today
	}
	hist = float64(start - s.reg.first)
	if hist < float64(dur) {
		dur = int(hist)
		if dur < 1 {
			dur = 1
		}
	}
	return count / float64(dur), dur, hist
}

// callSeries counts write calls of one API; its counts double as the
// denominator of the API's error rates (readOnly is a property of the API).
type callSeries struct {
	series
	model models.Seasonal
}

func (c *callSeries) spike(e *Engine, s models.Slot, m int64) (float64, float64) {
	mu := c.model.ExpectHour(s)
	return mu, c.model.SpikeVariance(&e.cfg.Seasonal, mu, 1)
}

func (c *callSeries) spikeWindow(e *Engine, from, to int64) (float64, float64) {
	mu := 0.0
	for m := from; m <= to; m++ {
		mu += c.model.ExpectHour(c.reg.slot(m))
	}
	return mu, c.model.SpikeVariance(&e.cfg.Seasonal, mu, int(to-from+1))
}

func (c *callSeries) dropWindow(e *Engine, from, to int64) (float64, float64) {
	mu := 0.0
	for m := from; m <= to; m++ {
		mu += c.model.Expect(&e.cfg.Seasonal, c.reg.slot(m))
	}
	return mu, c.model.DropVariance(&e.cfg.Seasonal, mu, int(to-from+1))
}

func (c *callSeries) dropBlocks(e *Engine, b0, b1 int64) (float64, float64) {
	mu := 0.0
	for b := b0; b <= b1; b++ {
		m := b * blockMinutes
		sl := c.reg.slot(m)
		mu += c.model.ExpectSpan(&e.cfg.Seasonal, sl, blockMinutes)
	}
	return mu, c.model.DropVariance(&e.cfg.Seasonal, mu, int(b1-b0+1)*blockMinutes)
}

// minDropHistory is how much history (minutes) a series needs, in total and
// in the hour slot at hand, before a drop can be called.
const (
	minDropHistory     = 3 * 1440
	minDropSlotMinutes = 120
)

func (c *callSeries) dropsAllowed(_ *Engine, m int64) bool {
	return c.model.Minutes() >= minDropHistory && c.model.SlotMinutes(c.reg.slot(m).Hour) >= minDropSlotMinutes
}

func (c *callSeries) learn(e *Engine, s models.Slot, _ int64, count float64, suspect bool) {
	c.model.Update(&e.cfg.Seasonal, s, count, suspect)
}

// apiSeries counts the calls of a read-only API, the denominator of its
// error rates.
type apiSeries struct {
	counts ring
	total  float64 // calls so far, to seed new error series
}

// errSeries counts the calls of one API that failed with one error code.
type errSeries struct {
	series
	api   *ring // the API's calls per minute
	model models.Rate
}

func (c *errSeries) spike(e *Engine, _ models.Slot, m int64) (float64, float64) {
	return c.model.Expect(&e.cfg.Rate, c.api.get(m))
}

func (c *errSeries) spikeWindow(e *Engine, from, to int64) (float64, float64) {
	return c.model.Expect(&e.cfg.Rate, c.api.sum(from, to))
}

func (c *errSeries) dropWindow(*Engine, int64, int64) (float64, float64) { return 0, 0 }

func (c *errSeries) dropBlocks(*Engine, int64, int64) (float64, float64) { return 0, 0 }

// dropsAllowed is false: fewer errors than usual is good news.
func (c *errSeries) dropsAllowed(*Engine, int64) bool { return false }

func (c *errSeries) learn(e *Engine, _ models.Slot, m int64, count float64, suspect bool) {
	calls := c.api.get(m)
	mu, v := c.model.Expect(&e.cfg.Rate, calls)
	c.model.Update(&e.cfg.Rate, count, calls, mu, v, suspect)
}
