package detector

import (
	"time"

	"github.com/trailsight/trailsight/baseline"
	"github.com/trailsight/trailsight/models"
)

// Point is what the Engine saw and expected for one series in one closed
// minute: the material of plots and explanations.
type Point struct {
	Minute time.Time
	Count  float64
	// Expected and Band are the spike yardstick (hour-average expectation
	// and one standard deviation); ExpectedMinute and BandMinute the drop
	// yardstick (minute-of-hour expectation). For error-rate series,
	// Calls is the API's calls in the minute.
	Expected, Band             float64
	ExpectedMinute, BandMinute float64
	Calls                      float64
	// SpikeP and DropP are the tail probabilities of the windows ending at
	// the minute (the spike and drop scales of the engine);
	// 1 where a test did not apply.
	SpikeP [len(spikeScales)]float64
	DropP  [len(dropScales)]float64
	// BlockDropP are the drop tests over quarter-hour blocks (2, 3 and 3.75
	// hours), at block boundaries; 1 elsewhere.
	BlockDropP [len(blockScales)]float64
	Gap        bool // the account-Region minute looked like a delivery gap
	Open       bool // an Insight was open after the minute
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
	p := Point{Minute: minuteTime(m), Count: c, Gap: s.reg.isGap(m), Open: s.al != nil}
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
	for i, w := range spikeScales {
		p.SpikeP[i] = 1
		if obs := s.counts.Sum(m-w+1, m); obs > 0 {
			mu, v := s.kind.spikeWindow(e, m-w+1, m)
			p.SpikeP[i] = models.UpperTail(obs, mu, v)
		}
	}
	for i, w := range dropScales {
		p.DropP[i] = 1
		if s.kind.dropsAllowed(e, m) {
			mu, v := s.kind.dropWindow(e, m-w+1, m)
			p.DropP[i] = models.LowerTail(s.counts.Sum(m-w+1, m), mu, v)
		}
	}
	for i, nb := range blockScales {
		p.BlockDropP[i] = 1
		if (m+1)%baseline.BlockMinutes == 0 && s.kind.dropsAllowed(e, m) {
			b1 := m / baseline.BlockMinutes
			mu, v := s.kind.dropBlocks(e, b1-nb+1, b1)
			p.BlockDropP[i] = models.LowerTail(s.counts.BlockSum(b1-nb+1, b1), mu, v)
		}
	}
	fn(p)
}
