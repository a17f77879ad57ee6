package detector

import (
	"time"

	"github.com/trailsight/trailsight/baseline"
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

	total   baseline.Counts
	model   models.Seasonal
	gaps    [baseline.MinutesKept / 64]uint64 // bit per closed minute: treated as a gap
	gapRun  int                               // consecutive gap minutes so far
	lastGap int64                             // newest gap minute

	slotAt   [baseline.MinutesKept]int64 // minute each cached slot belongs to
	slotMemo [baseline.MinutesKept]models.Slot

	// cfg is the Engine's model configuration with the dispersion priors
	// of this account and Region: how clustered the calls of its sparse
	// APIs are, pooled over all of them (empirical Bayes). An API with
	// little history of its own, or none, borrows them: in an account
	// whose deploys touch many APIs a few calls at a time, a few calls of
	// a rarely used API are routine, while a burst far larger than the
	// account's clusters is not.
	cfg  models.SeasonalConfig
	pool dispersionPool

	// writes and novelWrites count write calls after the warm-up, and
	// those by principals new to the account.
	writes, novelWrites float64
	// actors models each principal's write calls (principal.go).
	actors map[uint32]*principalSeries
	// drops are the call series with an open drop Insight, except gaps in
	// a job's runs: the other APIs of their service are tested against
	// them (sibling.go).
	drops []*series
	// calls are the region's call series, for earlyDrops.
	calls []*callSeries
	// touched marks the region in Engine.touched.
	touched bool
}

// dispersionPool accumulates, over the sparse series of a region, the
// first two moments of non-zero minute and 10-minute counts: for rare
// clusters, E[c^2]/E[c] is about the variance-to-mean ratio.
type dispersionPool struct {
	minute, block moments
}

// moments are running first and second moments over the last poolMemory
// observations (an EWMA once that many were seen).
type moments struct{ m1, m2, n float64 }

// poolMemory bounds the memory of the pool (in non-zero observations).
const poolMemory = 500

// add learns c and returns E[c^2]/E[c].
func (p *moments) add(c float64) float64 {
	p.n = min(p.n+1, poolMemory)
	p.m1 += (c - p.m1) / p.n
	p.m2 += (c*c - p.m2) / p.n
	return p.m2 / p.m1
}

func (r *region) poolMinute(c float64) {
	r.cfg.DispersionPrior = min(50, max(1, r.pool.minute.add(c)))
}

func (r *region) poolBlock(c float64) {
	r.cfg.DispersionPriorBlock = min(100, max(1, r.pool.block.add(c)))
}

// slot returns minute m's place in the week in the account's time zone.
func (r *region) slot(m int64) models.Slot {
	i := m & (baseline.MinutesKept - 1)
	if r.slotAt[i] == m {
		return r.slotMemo[i]
	}
	t := time.Unix(m*60, 0).In(r.loc)
	s := models.SlotOf(t.Hour(), t.Minute(), int(t.Weekday()))
	r.slotAt[i], r.slotMemo[i] = m, s
	return s
}

func (r *region) close(cfg *Config, m int64) {
	c := r.total.Get(m)
	s := r.slot(m)
	gap := r.looksLikeGap(c, s)
	i, bit := (m&(baseline.MinutesKept-1))/64, uint64(1)<<(m&63)
	if gap {
		r.gaps[i] |= bit
		r.gapRun++
		r.lastGap = m
	} else {
		r.gaps[i] &^= bit
		r.gapRun = 0
	}
	if !gap || r.gapRun > maxGap {
		r.model.Update(&r.cfg, s, c, false)
	}
}

// looksLikeGap reports whether c events in a minute of slot s look like a
// delivery gap: far below the minute's expectation and improbably so (a
// quiet account at night has empty minutes by chance).
func (r *region) looksLikeGap(c float64, s models.Slot) bool {
	mu := r.model.Expect(&r.cfg, s)
	return r.model.Minutes() > 1440 && c < gapShare*mu &&
		models.LowerTail(c, mu, r.model.DropVariance(&r.cfg, mu, 1)) < gapP
}

// gapShare is the share of its expected events below which an
// account-Region minute counts as a delivery gap: late files leave a minute
// nearly empty, while one API's real drop leaves the other APIs' events.
const gapShare = 0.1

// gapP is the tail probability below which an account-Region minute that
// far below its expectation counts as a delivery gap.
const gapP = 1e-4

func (r *region) isGap(m int64) bool {
	return r.gaps[(m&(baseline.MinutesKept-1))/64]&(uint64(1)<<(m&63)) != 0 && r.gapRun <= maxGap
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
	gap   bool  // a drop opened by missed runs of a scheduled job (rhythm.go)
	start int64 // first unusual minute
	scale int
	p     float64

	last               int64 // newest minute folded in
	sum, exp           float64
	cusum, best        float64
	end                int64 // exclusive end at the CUSUM's maximum
	sumAtEnd, expAtEnd float64
	calm               int // normal minutes in a row; below zero, minutes an early drop Start judged, still to close

	baseAvg float64
	baseDur int
}

// judged notes that an Insight started on the evidence of minutes up to m
// while minutes after closed were still open (an early Start): as they
// close, they are its evidence, not normal minutes that end it.
func (a *alarm) judged(m, closed int64) {
	if m > closed {
		a.calm = -int(m - max(a.start, closed+1) + 1)
	}
}

// seriesKind is what differs between call-rate and error-rate series.
type seriesKind interface {
	// spike returns the expected count of one minute and its variance.
	spike(e *Engine, s models.Slot, m int64) (mean, variance float64)
	// spikeWindow and dropWindow return the expectation and variance of
	// the sum over minutes [from, to].
	spikeWindow(e *Engine, from, to int64) (mean, variance float64)
	dropWindow(e *Engine, from, to int64) (mean, variance float64)
	// dropNested returns dropWindow's expectations for the windows of
	// dropScales ending at m, in one pass.
	dropNested(e *Engine, m int64) [len(dropScales)]float64
	// dropVariance is the variance of a w-minute drop window whose
	// expectation is mean.
	dropVariance(e *Engine, mean float64, w int64) float64
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
	counts baseline.Counts // calls (call rate) or errors (error rate) per minute
	attrs  attrs
	al     *alarm // nil while no Insight is open
	rearm  int32  // no new Start before this minute
	// decayed is the minute attrs' sketches were last decayed to.
	decayed int32
}

// baseline returns the §2.6 statistics for an Insight starting at minute
// start: the average per minute over [00:00 UTC seven days before the start
// day, start) and the window's length (shorter when less history exists,
// spec §2.9 #4).
func (s *series) baseline(start int64) (avg float64, dur int) {
	day := start / 1440
	dur = 10080 + int(start-day*1440)
	count := 0.0
	for d := day - 7; d < day; d++ {
		count += s.counts.Day(d)
	}
	today := s.counts.Day(day) - s.counts.Sum(start, s.counts.Head())
	if today > 0 {
		count += today
	}
	hist := float64(start - s.reg.first)
	if hist < float64(dur) {
		dur = int(hist)
		if dur < 1 {
			dur = 1
		}
	}
	return count / float64(dur), dur
}

// callSeries counts write calls of one API; its counts double as the
// denominator of the API's error rates (readOnly is a property of the API).
type callSeries struct {
	series
	model  models.Seasonal
	rhythm rhythm
}

func (c *callSeries) spike(e *Engine, s models.Slot, m int64) (float64, float64) {
	mu := c.model.ExpectHour(&c.reg.cfg, s)
	return mu, c.model.SpikeVariance(&c.reg.cfg, mu, 1)
}

func (c *callSeries) spikeWindow(e *Engine, from, to int64) (float64, float64) {
	mu := 0.0
	var rate float64
	hour := uint8(255)
	for m := from; m <= to; m++ {
		// The hour's rate is the same for all its minutes.
		if s := c.reg.slot(m); s.Hour != hour {
			hour, rate = s.Hour, c.model.ExpectHour(&c.reg.cfg, s)
		}
		mu += rate
	}
	return mu, c.model.SpikeVariance(&c.reg.cfg, mu, int(to-from+1))
}

func (c *callSeries) dropWindow(e *Engine, from, to int64) (float64, float64) {
	mu := 0.0
	var rate float64
	hour := uint8(255)
	for m := from; m <= to; m++ {
		s := c.reg.slot(m)
		if s.Hour != hour {
			hour, rate = s.Hour, c.model.ExpectHour(&c.reg.cfg, s)
		}
		mu += rate * c.model.Share(&c.reg.cfg, s.Minute)
	}
	return mu, c.model.DropVariance(&c.reg.cfg, mu, int(to-from+1))
}

func (c *callSeries) dropBlocks(e *Engine, b0, b1 int64) (float64, float64) {
	mu := 0.0
	for b := b0; b <= b1; b++ {
		m := b * baseline.BlockMinutes
		sl := c.reg.slot(m)
		mu += c.model.ExpectSpan(&c.reg.cfg, sl, baseline.BlockMinutes)
	}
	return mu, c.model.DropVariance(&c.reg.cfg, mu, int(b1-b0+1)*baseline.BlockMinutes)
}

func (c *callSeries) dropNested(e *Engine, m int64) [len(dropScales)]float64 {
	var out [len(dropScales)]float64
	mu, i := 0.0, 0
	var rate float64
	hour := uint8(255)
	for k := int64(0); i < len(dropScales); k++ {
		s := c.reg.slot(m - k)
		if s.Hour != hour {
			hour, rate = s.Hour, c.model.ExpectHour(&c.reg.cfg, s)
		}
		mu += rate * c.model.Share(&c.reg.cfg, s.Minute)
		if k+1 == dropScales[i] {
			out[i] = mu
			i++
		}
	}
	return out
}

func (c *callSeries) dropVariance(_ *Engine, mean float64, w int64) float64 {
	return c.model.DropVariance(&c.reg.cfg, mean, int(w))
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

func (c *callSeries) learn(e *Engine, s models.Slot, t int64, count float64, suspect bool) {
	// A sparse series (under one call in ten minutes) lends its clusters
	// to the region's dispersion priors, but for the bursts the routine
	// rules explained (principal.go, excuse): those are a principal's
	// habit or a request's work, which the rules judge on their own, and
	// lent to the priors they would make every sparse API of the account
	// look as bursty as its deploys.
	if !suspect && c.model.ExpectHour(&c.reg.cfg, s)*10 < 1 && c.model.Minutes() > 0 {
		if count > 0 && !e.excusedIn(&c.series, t, t) {
			c.reg.poolMinute(count)
		}
		if (s.Minute+1)%10 == 0 {
			if obs := c.counts.Sum(t-9, t); obs > 0 && !e.excusedIn(&c.series, t-9, t) {
				c.reg.poolBlock(obs)
			}
		}
	}
	c.model.Update(&c.reg.cfg, s, count, suspect)
}

// apiSeries counts the calls of a read-only API, the denominator of its
// error rates.
type apiSeries struct {
	counts baseline.Counts
	total  float64 // calls so far, to seed new error series
}

// errSeries counts the calls of one API that failed with one error code.
type errSeries struct {
	series
	api   *baseline.Counts // the API's calls per minute
	model models.Rate
}

func (c *errSeries) spike(e *Engine, _ models.Slot, m int64) (float64, float64) {
	return c.model.Expect(&e.cfg.Rate, c.api.Get(m))
}

func (c *errSeries) spikeWindow(e *Engine, from, to int64) (float64, float64) {
	return c.model.Expect(&e.cfg.Rate, c.api.Sum(from, to))
}

func (c *errSeries) dropWindow(*Engine, int64, int64) (float64, float64) { return 0, 0 }

func (c *errSeries) dropBlocks(*Engine, int64, int64) (float64, float64) { return 0, 0 }

func (c *errSeries) dropVariance(*Engine, float64, int64) float64 { return 0 }

func (c *errSeries) dropNested(*Engine, int64) [len(dropScales)]float64 {
	return [len(dropScales)]float64{}
}

// dropsAllowed is false: fewer errors than usual is good news.
func (c *errSeries) dropsAllowed(*Engine, int64) bool { return false }

func (c *errSeries) learn(e *Engine, _ models.Slot, m int64, count float64, suspect bool) {
	calls := c.api.Get(m)
	mu, v := c.model.Expect(&e.cfg.Rate, calls)
	c.model.Update(&e.cfg.Rate, count, calls, mu, v, suspect)
}
