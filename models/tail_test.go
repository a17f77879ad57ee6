package models

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

func TestTailsMatchPoisson(t *testing.T) {
	for _, mean := range []float64{0.01, 0.5, 3, 20, 200} {
		d := distuv.Poisson{Lambda: mean}
		for _, k := range []float64{0, 1, 2, 5, 10, 30, 250} {
			wantLow := d.CDF(k)
			if got := LowerTail(k, mean, mean); math.Abs(got-wantLow) > 1e-9*math.Max(1, 1/wantLow) && math.Abs(got-wantLow) > 1e-12 {
				t.Errorf("LowerTail(%v, %v) = %v, want %v", k, mean, got, wantLow)
			}
			wantUp := 1.0
			if k > 0 {
				wantUp = 1 - d.CDF(k-1)
			}
			if got := UpperTail(k, mean, mean); math.Abs(got-wantUp) > 1e-9 {
				t.Errorf("UpperTail(%v, %v) = %v, want %v", k, mean, got, wantUp)
			}
		}
	}
}

// nbPMF is the negative binomial pmf written out directly, as an independent
// check of the incomplete-beta formulas.
func nbPMF(k int, mean, variance float64) float64 {
	p := mean / variance
	r := mean * mean / (variance - mean)
	lg1, _ := math.Lgamma(float64(k) + r)
	lg2, _ := math.Lgamma(r)
	lg3, _ := math.Lgamma(float64(k) + 1)
	return math.Exp(lg1 - lg2 - lg3 + r*math.Log(p) + float64(k)*math.Log(1-p))
}

func TestTailsMatchNegBinSums(t *testing.T) {
	cases := []struct{ mean, variance float64 }{{0.2, 1}, {3, 9}, {20, 80}, {0.0002, 0.001}}
	for _, c := range cases {
		cdf := 0.0
		for k := 0; k <= 60; k++ {
			up := 1 - cdf // P(X >= k)
			if got := UpperTail(float64(k), c.mean, c.variance); math.Abs(got-up) > 1e-7 {
				t.Errorf("UpperTail(%d, %v, %v) = %v, want %v", k, c.mean, c.variance, got, up)
			}
			cdf += nbPMF(k, c.mean, c.variance)
			if got := LowerTail(float64(k), c.mean, c.variance); math.Abs(got-cdf) > 1e-7 {
				t.Errorf("LowerTail(%d, %v, %v) = %v, want %v", k, c.mean, c.variance, got, cdf)
			}
		}
	}
}

func TestCheapChecksAreConservative(t *testing.T) {
	for _, mean := range []float64{0.001, 0.3, 2, 15, 400} {
		for _, phi := range []float64{1, 2, 10} {
			v := mean * phi
			for k := 0.0; k < 3*mean+60; k++ {
				if UpperTail(k, mean, v) < 1e-3 && !MayBeHigh(k, mean, v) {
					t.Errorf("MayBeHigh(%v, %v, %v) = false but tail %g", k, mean, v, UpperTail(k, mean, v))
				}
				if LowerTail(k, mean, v) < 1e-3 && !MayBeLow(k, mean, v) {
					t.Errorf("MayBeLow(%v, %v, %v) = false but tail %g", k, mean, v, LowerTail(k, mean, v))
				}
			}
		}
	}
}

func TestTailsMatchBinomial(t *testing.T) {
	// Integer n: mean = n p, variance = n p (1-p).
	for _, c := range []struct {
		n int
		p float64
	}{{12, 0.9}, {4, 0.75}, {30, 0.5}} {
		d := distuv.Binomial{N: float64(c.n), P: c.p}
		mean, variance := float64(c.n)*c.p, float64(c.n)*c.p*(1-c.p)
		for k := 0; k <= c.n; k++ {
			if got, want := LowerTail(float64(k), mean, variance), d.CDF(float64(k)); math.Abs(got-want) > 1e-9 {
				t.Errorf("LowerTail(%d | B(%d,%v)) = %v, want %v", k, c.n, c.p, got, want)
			}
			want := 1.0
			if k > 0 {
				want = 1 - d.CDF(float64(k-1))
			}
			if got := UpperTail(float64(k), mean, variance); math.Abs(got-want) > 1e-9 {
				t.Errorf("UpperTail(%d | B(%d,%v)) = %v, want %v", k, c.n, c.p, got, want)
			}
		}
	}
}

// Degenerate laws never panic (the incomplete beta function takes only
// positive parameters) and keep their limits: a vanishing mean puts all the
// mass at 0.
func TestTailsOfDegenerateLaws(t *testing.T) {
	for _, c := range []struct{ k, mean, variance, upper, lower float64 }{
		{5, 1e-300, 1e-200, 0, 1}, // mean^2 underflows
		{5, 1e-320, 1, 0, 1},      // denormal mean
		{5, 1e-10, 1e300, 0, 1},   // p = mean/variance: 1-p rounds to 1
		{5, 1e-10, 1e308, 0, 1},   // p underflows
		{1, 1e-170, 2e-170, 0, 1}, // overdispersed, tiny
		{0, 1e-300, 1e-200, 1, 1}, // P(X >= 0) = 1; P(X <= 0) ≈ 1
	} {
		up, lo := UpperTail(c.k, c.mean, c.variance), LowerTail(c.k, c.mean, c.variance)
		if math.Abs(up-c.upper) > 1e-9 || math.Abs(lo-c.lower) > 1e-9 {
			t.Errorf("k=%g mean=%g variance=%g: upper %g, lower %g; want %g, %g", c.k, c.mean, c.variance, up, lo, c.upper, c.lower)
		}
	}
}
