package models

import (
	"math"

	"gonum.org/v1/gonum/mathext"
)

// Counts are overdispersed: per-minute API calls arrive in clusters (a human
// session, a deploy, a retry storm), so a Poisson tail calls every second
// cluster an anomaly. The negative binomial with the same mean and a larger
// variance is the compound-Poisson view of the same data: rare clusters of
// typical size stay unsurprising, while a cluster far larger than usual is
// still extremely unlikely. Both tails are exact through gonum's regularised
// incomplete beta (NB) and gamma (Poisson) functions.

// A count more regular than Poisson (variance below the mean: a job that
// makes the same calls every run) follows the binomial law with that mean
// and variance, with a real-valued number of trials n = mean^2/(mean-var).

// UpperTail returns P(X >= k) for a count X with the given mean and
// variance. k <= 0 gives 1.
func UpperTail(k, mean, variance float64) float64 {
	if k <= 0 {
		return 1
	}
	if mean <= 0 {
		return 0
	}
	if variance < mean*(1-1e-9) {
		n, p := binomial(mean, variance)
		if k > n {
			return 0
		}
		return clamp01(mathext.RegIncBeta(k, n-k+1, p))
	}
	if variance <= mean*(1+1e-9) {
		// P(X >= k) = P(k, mean), the regularised lower incomplete gamma.
		return clamp01(mathext.GammaIncReg(k, mean))
	}
	p, r, ok := negBin(mean, variance)
	if !ok {
		return 0 // all but a vanishing share of the law is at 0, and k >= 1
	}
	// P(X >= k) = 1 - I_p(r, k) = I_{1-p}(k, r), unless 1-p rounds to 1.
	if q := 1 - p; q < 1 {
		return clamp01(mathext.RegIncBeta(k, r, q))
	}
	return clamp01(1 - mathext.RegIncBeta(r, k, p))
}

// LowerTail returns P(X <= k) for a count X with the given mean and variance.
func LowerTail(k, mean, variance float64) float64 {
	if k < 0 {
		return 0
	}
	if mean <= 0 {
		return 1
	}
	if variance < mean*(1-1e-9) {
		n, p := binomial(mean, variance)
		if k >= n {
			return 1
		}
		return clamp01(mathext.RegIncBeta(n-k, k+1, 1-p))
	}
	if variance <= mean*(1+1e-9) {
		// P(X <= k) = Q(k+1, mean), the regularised upper incomplete gamma.
		return clamp01(mathext.GammaIncRegComp(k+1, mean))
	}
	p, r, ok := negBin(mean, variance)
	if !ok {
		return 1
	}
	return clamp01(mathext.RegIncBeta(r, k+1, p))
}

// negBin returns the negative binomial's p = mean/variance and
// r = mean^2/(variance-mean) (variance > mean). ok is false where either
// underflows to 0 (a vanishing mean, or a variance beyond any use): the law
// is then all but entirely at 0, and the incomplete beta function, which
// takes only positive parameters, panics on it. (FuzzNABModel found it: a
// mean under 1e-162 squared to 0.)
func negBin(mean, variance float64) (p, r float64, ok bool) {
	p = mean / variance
	r = mean * mean / (variance - mean)
	if r == 0 || math.IsInf(r, 0) {
		r = mean / (variance/mean - 1) // the same, without squaring mean
	}
	return p, r, p > 0 && r > 0 && !math.IsInf(r, 0)
}

func binomial(mean, variance float64) (n, p float64) {
	variance = max(variance, 1e-3*mean)
	p = 1 - variance/mean
	return mean / p, p
}

func clamp01(v float64) float64 {
	switch {
	case math.IsNaN(v):
		return 1
	case v < 0:
		return 0
	case v > 1:
		return 1
	}
	return v
}

// MayBeHigh is a cheap pre-check: it reports whether P(X >= k) could be
// below 1e-3, so callers evaluate the exact tail only for the rare minutes
// that need it. Any count within two standard deviations of the mean has an
// upper tail far above 1e-3 for the unimodal count laws used here (checked
// over a grid of means and dispersions by TestCheapChecksAreConservative).
func MayBeHigh(k, mean, variance float64) bool {
	t := k - mean
	return k >= 1 && t > 0 && t*t >= 4*variance
}

// MayBeLow is the lower-tail counterpart of MayBeHigh.
func MayBeLow(k, mean, variance float64) bool {
	t := mean - k
	return t > 0 && t*t >= 4*variance
}
