package models

import (
	"math"
	"math/rand/v2"
	"testing"
)

// week feeds the model minutes of a week-long pattern: rate(hour, minute,
// weekend) calls per minute, drawn from a Poisson law.
func feed(m *Seasonal, c *SeasonalConfig, rng *rand.Rand, days int, rate func(h, mi int, weekend bool) float64) {
	feedWith(m, c, days, func(h, mi int, weekend bool) float64 { return poisson(rng, rate(h, mi, weekend)) })
}

// feedWith feeds exact counts.
func feedWith(m *Seasonal, c *SeasonalConfig, days int, count func(h, mi int, weekend bool) float64) {
	for d := 0; d < days; d++ {
		wd := d % 7
		for h := 0; h < 24; h++ {
			for mi := 0; mi < 60; mi++ {
				s := SlotOf(h, mi, wd)
				m.Update(c, s, count(h, mi, s.Weekend()), false)
			}
		}
	}
}

func poisson(rng *rand.Rand, l float64) float64 {
	if l <= 0 {
		return 0
	}
	if l > 50 {
		return math.Max(0, math.Round(l+math.Sqrt(l)*rng.NormFloat64()))
	}
	L, k, p := math.Exp(-l), 0.0, 1.0
	for {
		p *= rng.Float64()
		if p <= L {
			return k
		}
		k++
	}
}

func TestSeasonalLearnsDailyAndWeeklyRhythm(t *testing.T) {
	c := DefaultSeasonalConfig()
	var m Seasonal
	rng := rand.New(rand.NewPCG(1, 2))
	rate := func(h, mi int, weekend bool) float64 {
		switch {
		case weekend:
			return 0.2
		case h >= 9 && h < 17:
			return 10
		default:
			return 1
		}
	}
	feed(&m, &c, rng, 21, rate)
	for _, tc := range []struct {
		s    Slot
		want float64
	}{
		{SlotOf(10, 5, 2), 10}, {SlotOf(3, 5, 2), 1}, {SlotOf(10, 5, 6), 0.2},
	} {
		if got := m.ExpectHour(&c, tc.s); math.Abs(got-tc.want) > 0.15*tc.want {
			t.Errorf("ExpectHour(%+v) = %.3f, want %.3f ± 15%%", tc.s, got, tc.want)
		}
	}
	// A Poisson series has dispersion close to 1 and a count of 40 in a
	// busy minute is far in the tail.
	mu := m.ExpectHour(&c, SlotOf(10, 5, 2))
	if p := UpperTail(40, mu, m.SpikeVariance(&c, mu, 1)); p > 1e-7 {
		t.Errorf("UpperTail(40 | busy hour) = %g, want < 1e-7", p)
	}
	if p := UpperTail(16, mu, m.SpikeVariance(&c, mu, 1)); p < 1e-3 {
		t.Errorf("UpperTail(16 | busy hour) = %g, want a normal fluctuation", p)
	}
}

func TestSeasonalCronRunsAreRegularAndMissesAreVisible(t *testing.T) {
	c := DefaultSeasonalConfig()
	var m Seasonal
	cron := func(h, mi int, weekend bool) float64 {
		if mi%15 == 0 {
			return 3
		}
		return 0
	}
	feedWith(&m, &c, 14, cron) // a job that makes exactly 3 calls a run
	run, idle := SlotOf(4, 30, 3), SlotOf(4, 31, 3)
	if got := m.Expect(&c, run); got < 2 || got > 4 {
		t.Errorf("Expect(run minute) = %.3f, want ≈ 3", got)
	}
	if got := m.Expect(&c, idle); got > 0.2 {
		t.Errorf("Expect(idle minute) = %.3f, want ≈ 0", got)
	}
	// Four missed runs in an hour (expected 12 calls) must be strong evidence.
	e := 0.0
	for mi := 0; mi < 60; mi++ {
		e += m.Expect(&c, SlotOf(4, mi, 3))
	}
	if p := LowerTail(0, e, m.DropVariance(&c, e, 60)); p > 1e-7 {
		t.Errorf("LowerTail(0 | hour of runs, E=%.1f) = %g, want < 1e-7", e, p)
	}
	// A run at its usual size, judged against the hour's average rate, is
	// no spike.
	mu := m.ExpectHour(&c, run)
	if p := UpperTail(4, mu, m.SpikeVariance(&c, mu, 1)); p < 1e-4 {
		t.Errorf("UpperTail(4 | run vs hour average) = %g, want unsurprising", p)
	}
}

func TestSeasonalAdaptsToLevelShiftWithinADay(t *testing.T) {
	c := DefaultSeasonalConfig()
	var m Seasonal
	rng := rand.New(rand.NewPCG(5, 6))
	feed(&m, &c, rng, 14, func(int, int, bool) float64 { return 20 })
	feed(&m, &c, rng, 1, func(int, int, bool) float64 { return 60 })
	if got := m.ExpectHour(&c, SlotOf(12, 0, 1)); got < 45 {
		t.Errorf("ExpectHour after a day at 3x = %.1f, want >= 45", got)
	}
}

func TestSeasonalIsRobustToAShortSpike(t *testing.T) {
	c := DefaultSeasonalConfig()
	var m Seasonal
	rng := rand.New(rand.NewPCG(7, 8))
	feed(&m, &c, rng, 14, func(int, int, bool) float64 { return 5 })
	before := m.ExpectHour(&c, SlotOf(12, 0, 1))
	for mi := 0; mi < 30; mi++ {
		m.Update(&c, SlotOf(12, mi, 1), 500, true)
	}
	after := m.ExpectHour(&c, SlotOf(12, 0, 1))
	if after > 1.5*before {
		t.Errorf("30 minutes at 100x moved the expectation from %.2f to %.2f, want < +50%%", before, after)
	}
}

func TestSeedZerosKeepsFirstBurstOutOfBaseline(t *testing.T) {
	c := DefaultSeasonalConfig()
	var m Seasonal
	m.SeedZeros(7 * 1440)
	for mi := 0; mi < 10; mi++ {
		m.Update(&c, SlotOf(3, mi, 2), 40, true)
	}
	if got := m.ExpectHour(&c, SlotOf(3, 11, 2)); got > 0.5 {
		t.Errorf("ExpectHour after a first burst = %.3f, want near 0", got)
	}
}
