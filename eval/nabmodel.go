package eval

import (
	"math"
	"slices"
	"time"

	"github.com/trailsight/trailsight/models"
)

// NABModel runs trailsight's seasonal count model on a NAB series: values
// are arbitrary floats, so they are mapped onto a count-like scale fixed
// from the first rows (offset at their minimum, unit at their median
// absolute deviation), and the model's settings are converted from minutes
// to rows of the series' step. The anomaly score of a row is the strongest
// evidence among the spike and drop tests over 1 and 6 rows, as -log10 of
// the tail probability divided by 10, clamped to [0, 1].
type NABModel struct {
	cfg   models.SeasonalConfig
	m     models.Seasonal
	step  time.Duration
	warm  []float64 // first rows, before the scale is fixed
	off   float64
	unit  float64
	hist  [6]float64 // last rows (scaled), newest at hist[n%6]
	slots [6]models.Slot
	n     int
}

// nabScaleRows is how many rows fix the value scale.
const nabScaleRows = 50

// NewNABModel returns a model for a series with the given step.
func NewNABModel(step time.Duration) *NABModel {
	if step <= 0 {
		step = 5 * time.Minute
	}
	rows := step.Minutes()
	c := models.DefaultSeasonalConfig()
	c.ProfileWeeks /= rows
	c.LevelMinutes /= rows
	c.DispersionMinutes /= rows
	c.HourMinutes /= rows
	return &NABModel{cfg: c, step: step}
}

// Observe implements NABDetector.
func (d *NABModel) Observe(t time.Time, v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	if d.unit == 0 {
		d.warm = append(d.warm, v)
		if len(d.warm) < nabScaleRows {
			return 0
		}
		d.fixScale()
		for i, w := range d.warm {
			d.push(t.Add(-time.Duration(len(d.warm)-1-i)*d.step), w, false)
		}
		d.warm = nil
		return 0
	}
	return d.push(t, v, true)
}

func (d *NABModel) fixScale() {
	lo, med := math.Inf(1), median(d.warm)
	dev := make([]float64, len(d.warm))
	for i, w := range d.warm {
		lo = math.Min(lo, w)
		dev[i] = math.Abs(w - med)
	}
	mad := median(dev)
	if mad <= 0 {
		mad = math.Max(math.Abs(med)*0.01, 1e-9)
	}
	// One unit of MAD becomes about 3 "calls": enough resolution for
	// the count laws, while the learned dispersion absorbs the rest.
	d.off, d.unit = lo-2*mad, mad/3
}

func (d *NABModel) push(t time.Time, v float64, score bool) float64 {
	x := math.Max(0, (v-d.off)/d.unit)
	t = t.UTC()
	s := models.SlotOf(t.Hour(), t.Minute(), int(t.Weekday()))
	i := d.n % len(d.hist)
	d.hist[i], d.slots[i] = x, s
	d.n++
	out := 0.0
	if score {
		p := 1.0
		for _, w := range []int{1, 6} {
			if w > d.n {
				break
			}
			obs, muH, muM := 0.0, 0.0, 0.0
			for k := 0; k < w; k++ {
				j := (d.n - 1 - k) % len(d.hist)
				obs += d.hist[j]
				muH += d.m.ExpectHour(&d.cfg, d.slots[j])
				muM += d.m.Expect(&d.cfg, d.slots[j])
			}
			p = math.Min(p, models.UpperTail(math.Round(obs), muH, d.m.SpikeVariance(&d.cfg, muH, w)))
			p = math.Min(p, models.LowerTail(math.Round(obs), muM, d.m.DropVariance(&d.cfg, muM, w)))
		}
		if p > 0 {
			out = math.Min(1, -math.Log10(p)/10)
		} else {
			out = 1
		}
	}
	d.m.Update(&d.cfg, s, x, out > 0.3)
	return out
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	c := slices.Sorted(slices.Values(v))
	if len(c)%2 == 1 {
		return c[len(c)/2]
	}
	return (c[len(c)/2-1] + c[len(c)/2]) / 2
}
