package models

// RateConfig holds the constants of the Rate model.
type RateConfig struct {
	// Minutes is the effective window of the error-rate estimate.
	Minutes float64
	// PriorErrors and PriorCalls form the Beta prior of the error rate:
	// before any data the rate is PriorErrors/PriorCalls, with the weight
	// of PriorCalls calls.
	PriorErrors, PriorCalls float64
	// DispersionPrior is the variance-to-mean ratio of error counts assumed
	// before data: 1 (Poisson), the honest default; overdispersion must be
	// learned.
	DispersionPrior float64
	// Clip is the winsorising band in standard deviations (see
	// SeasonalConfig.Clip).
	Clip float64
	// MinRelError is the floor of the relative error of the rate.
	MinRelError float64
}

// DefaultRateConfig returns the defaults used by the detector.
func DefaultRateConfig() RateConfig {
	return RateConfig{
		Minutes:         7 * 1440,
		PriorErrors:     0.5,
		PriorCalls:      50,
		DispersionPrior: 1,
		Clip:            4,
		MinRelError:     0.1,
	}
}

// Rate is the expected error count of one (API, error code) given the
// number of calls the API received: calls times a Beta-smoothed error rate.
// A rate of 1 error in 1 call is no anomaly; the prior and the dispersion
// keep small counts honest, as a beta-binomial would.
type Rate struct {
	errs, calls float32 // EWMAs per minute
	res2, resMu float32 // residual dispersion, as in Seasonal
	n           uint32
}

// ErrorRate returns the smoothed error rate per call.
func (r *Rate) ErrorRate(c *RateConfig) float64 {
	w := c.Minutes
	if float64(r.n) < w {
		w = float64(r.n)
	}
	return (float64(r.errs)*w + c.PriorErrors) / (float64(r.calls)*w + c.PriorCalls)
}

// Expect returns the expected error count and its variance for a minute in
// which the API received calls calls.
func (r *Rate) Expect(c *RateConfig, calls float64) (mean, variance float64) {
	mean = calls * r.ErrorRate(c)
	return mean, r.Variance(c, mean)
}

// Variance returns the variance of an error count with expectation mean.
func (r *Rate) Variance(c *RateConfig, mean float64) float64 {
	k := 20 / c.Minutes
	phi := max(1, (float64(r.res2)+c.DispersionPrior*k)/(float64(r.resMu)+k))
	return phi*mean + c.MinRelError*c.MinRelError*mean*mean
}

// Update learns from a minute with the given errors and calls; mean and
// variance are what Expect returned for it. A suspect minute (see
// Seasonal.Update) moves the rate, winsorised, but not the dispersion.
func (r *Rate) Update(c *RateConfig, errors, calls, mean, variance float64, suspect bool) {
	if r.n > 0 {
		errors = Clamp(c.Clip, errors, mean, variance)
	}
	errors = max(0, min(errors, calls))
	r.n++
	a := max(1/float64(r.n), 1/c.Minutes)
	r.errs += float32(a * (errors - float64(r.errs)))
	r.calls += float32(a * (calls - float64(r.calls)))
	if suspect {
		return
	}
	d := errors - mean
	r.res2 += float32(a * (d*d - float64(r.res2)))
	r.resMu += float32(a * (mean - float64(r.resMu)))
}

// SeedCalls makes a new model behave as if it had watched calls calls over
// the given minutes without one error: the first errors of a code on a busy
// API are judged against a rate near zero, not against the prior.
func (r *Rate) SeedCalls(calls float64, minutes int) {
	if minutes <= 0 || r.n > 0 {
		return
	}
	r.n = uint32(minutes)
	r.calls = float32(calls / float64(minutes))
}
