package detector

import (
	"time"

	"github.com/trailsight/trailsight/baseline"
	"github.com/trailsight/trailsight/models"
)

// Point is what the Engine saw and expected for one series in one closed
// minute: the material of plots and explanations.
type Point struct {
	Minute time.Time `json:"minute"`
	Count  float64   `json:"count"`
	// Expected and Band are the spike yardstick (hour-average expectation
	// and one standard deviation); ExpectedMinute and BandMinute the drop
	// yardstick (minute-of-hour expectation). For error-rate series,
	// Calls is the API's calls in the minute.
	Expected       float64 `json:"expected"`
	Band           float64 `json:"band"`
	ExpectedMinute float64 `json:"expected_minute"`
	BandMinute     float64 `json:"band_minute"`
	Calls          float64 `json:"calls"`
	// SpikeP and DropP are the tail probabilities of the windows ending at
	// the minute (the spike and drop scales of the engine);
	// 1 where a test did not apply.
	SpikeP [len(spikeScales)]float64 `json:"spike_p"`
	DropP  [len(dropScales)]float64  `json:"drop_p"`
	// BlockDropP are the drop tests over quarter-hour blocks (2, 3 and 3.75
	// hours), at block boundaries; 1 elsewhere.
	BlockDropP [len(blockScales)]float64 `json:"block_drop_p"`
	// NoveltyP are the novelty tests of the calls by principals new to the
	// account (novelty.go) over 10 and 30 minutes; 1 where the series had
	// no such calls.
	NoveltyP [len(noveltyScales)]float64 `json:"novelty_p"`
	Gap      bool                        `json:"gap"`  // the account-Region minute looked like a delivery gap
	Open     bool                        `json:"open"` // an Insight was open after the minute
}

// Trace calls fn for every closed minute of the series with key k, from
// now on; several series may be traced at once. A nil fn stops the trace
// of k.
func (e *Engine) Trace(k Key, fn func(Point)) {
	if fn == nil {
		delete(e.traces, k)
		return
	}
	if e.traces == nil {
		e.traces = map[Key]func(Point){}
	}
	e.traces[k] = fn
}

func (e *Engine) trace(s *series, m int64, c float64) {
	if len(e.traces) == 0 {
		return
	}
	fn := e.traces[e.key(s.id)]
	if fn == nil {
		return
	}
	fn(e.point(s, m, c, s.al != nil))
}

// Recent returns the closed minutes that series k still holds one by one
// (at most the last two hours: baseline.MinutesKept), oldest first, as the
// model sees them now: what a running instance can show of a series
// without having traced it. Minutes older than learnLag were learned since
// they closed, so their expectations are those of the model that learned
// them, a little nearer their counts than a trace taken at the time; a
// window test that reaches past the minutes held is left at 1. ok is false
// when the Engine has no such series.
func (e *Engine) Recent(k Key) (pts []Point, ok bool) {
	s := e.find(k)
	if s == nil || e.closed == 0 {
		return nil, s != nil
	}
	// The last MinutesKept closed minutes, or fewer when the series holds
	// fewer: after its newest call (Head) every minute is known to be 0,
	// before the ring nothing is known.
	from := max(e.closed, s.counts.Head()) - baseline.MinutesKept + 1
	from = max(from, s.reg.first)
	for m := from; m <= e.closed; m++ {
		open := s.al != nil && m >= s.al.start
		pts = append(pts, e.point(s, m, s.counts.Get(m), open))
	}
	return pts, true
}

// find returns the series of k, nil when there is none.
func (e *Engine) find(k Key) *series {
	ak := apiKey{account: k.Account, region: k.Region, source: k.EventSource, name: k.EventName}
	switch k.Type {
	case APICallRate:
		if s := e.calls.get(ak, e.vals.strs); s != nil {
			return &s.series
		}
	case APIErrorRate:
		if s := e.errs[errKey{ak, k.ErrorCode}]; s != nil {
			return &s.series
		}
	}
	return nil
}

// point is what the Engine expects of series s at closed minute m with
// count c; open says whether an Insight was open after it.
func (e *Engine) point(s *series, m int64, c float64, open bool) Point {
	p := Point{Minute: minuteTime(m), Count: c, Gap: s.reg.isGap(m), Open: open}
	switch k := s.kind.(type) {
	case *callSeries:
		sl := s.reg.slot(m)
		p.Expected = k.model.ExpectHour(&s.reg.cfg, sl)
		p.Band = sqrt(k.model.SpikeVariance(&s.reg.cfg, p.Expected, 1))
		p.ExpectedMinute = k.model.Expect(&s.reg.cfg, sl)
		p.BandMinute = sqrt(k.model.DropVariance(&s.reg.cfg, p.ExpectedMinute, 1))
	case *errSeries:
		p.Calls = k.api.Get(m)
		mu, v := k.spike(e, s.reg.slot(m), m)
		p.Expected, p.Band = mu, sqrt(v)
	}
	// held reports whether the minutes [from, m] are all still held.
	oldest := s.counts.Head() - baseline.MinutesKept + 1
	held := func(from int64) bool { return from >= oldest }
	for i, w := range spikeScales {
		p.SpikeP[i] = 1
		if !held(m - w + 1) {
			continue
		}
		if obs := s.counts.Sum(m-w+1, m); obs > 0 {
			mu, v := s.kind.spikeWindow(e, m-w+1, m)
			p.SpikeP[i] = models.UpperTail(obs, mu, v)
		}
	}
	for i, w := range dropScales {
		p.DropP[i] = 1
		if held(m-w+1) && s.kind.dropsAllowed(e, m) {
			mu, v := s.kind.dropWindow(e, m-w+1, m)
			p.DropP[i] = models.LowerTail(s.counts.Sum(m-w+1, m), mu, v)
		}
	}
	r := e.novel[s]
	for i, w := range noveltyScales {
		p.NoveltyP[i] = 1
		if r == nil {
			continue
		}
		if obs := r.sum(m-w+1, m); obs > 0 {
			mu, v := e.noveltyLaw(s, m-w+1, m)
			p.NoveltyP[i] = models.UpperTail(obs, mu, v)
		}
	}
	for i, nb := range blockScales {
		p.BlockDropP[i] = 1
		b1 := m / baseline.BlockMinutes
		if (m+1)%baseline.BlockMinutes == 0 && b1-nb+1 >= s.counts.OldestBlock() && s.kind.dropsAllowed(e, m) {
			mu, v := s.kind.dropBlocks(e, b1-nb+1, b1)
			p.BlockDropP[i] = models.LowerTail(s.counts.BlockSum(b1-nb+1, b1), mu, v)
		}
	}
	return p
}
