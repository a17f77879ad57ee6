package models

import "math"

// Slot is a minute's place in the week, in the account's local time: Hour is
// the hour of day (0-23) plus 24 on a weekend day, Minute the minute of the
// hour. Callers compute it with the account's time zone, so daylight-saving
// shifts move the slot with the people who cause the activity.
type Slot struct {
	Hour   uint8
	Minute uint8
}

// SlotOf returns the Slot of a local hour, minute and weekday (0 = Sunday).
func SlotOf(hour, minute, weekday int) Slot {
	h := uint8(hour)
	if weekday == 0 || weekday == 6 {
		h += 24
	}
	return Slot{Hour: h, Minute: uint8(minute)}
}

// Weekend reports whether s falls on a Saturday or Sunday.
func (s Slot) Weekend() bool { return s.Hour >= 24 }

// SeasonalConfig holds the constants of the Seasonal model. The zero value
// is not usable; DefaultSeasonalConfig returns the documented defaults
// (docs/DESIGN.md explains each).
type SeasonalConfig struct {
	// ProfileWeeks is how many weeks of a slot's own minutes the hourly
	// profile remembers (the EWMA's effective window).
	ProfileWeeks float64
	// LevelMinutes is the effective window of the level factor that lets
	// the expectation follow a lasting change within about a day.
	LevelMinutes float64
	// LevelPrior is the pseudo-count (calls) that holds the level at 1 for
	// series too sparse to estimate it.
	LevelPrior float64
	// DispersionMinutes is the effective window of the dispersion estimate.
	DispersionMinutes float64
	// DispersionPrior is the variance-to-mean ratio of single minutes
	// assumed before data, DispersionPriorBlock that of 10- and 60-minute
	// sums, each with DispersionPriorCalls calls of weight. The detector
	// sets them per account and Region from its sparse APIs.
	DispersionPrior, DispersionPriorBlock, DispersionPriorCalls float64
	// SlotPrior is the weight, in calls, of the series' overall rate in
	// each hour slot's estimate.
	SlotPrior float64
	// HourPrior is the pseudo-count per minute of the hour that shrinks the
	// minute-of-hour shares toward uniform for sparse series.
	HourPrior float64
	// HourMinutes is the effective window of the minute-of-hour shares.
	HourMinutes float64
	// Clip is the band, in standard deviations, outside which an
	// observation is winsorised before it updates the model, so an anomaly
	// cannot teach the model that it is normal.
	Clip float64
	// MinRelError is the floor of the relative model error (rho).
	MinRelError float64
}

// DefaultSeasonalConfig returns the defaults used by the detector.
func DefaultSeasonalConfig() SeasonalConfig {
	return SeasonalConfig{
		ProfileWeeks:         3,
		LevelMinutes:         360,
		LevelPrior:           20,
		DispersionMinutes:    7 * 1440,
		DispersionPrior:      1.5,
		DispersionPriorBlock: 1.5,
		DispersionPriorCalls: 20,
		SlotPrior:            2,
		HourPrior:            1,
		HourMinutes:          7 * 1440,
		Clip:                 4,
		MinRelError:          0.05,
	}
}

// Seasonal is the expected per-minute count of one series: an hourly
// profile over the week (24 hours x weekday/weekend), times a fast level
// factor, times a minute-of-hour share that captures cron-like periodic
// work.
//
// It answers two questions with two variances. For spikes it compares a
// minute with the hour's average rate, and its dispersion (phiHour) has
// learned how clustered the calls are: the runs of an hourly cron job, a
// human's sessions. For drops it compares a minute (or a window) with the
// minute-of-hour expectation, whose dispersion (phiMinute) may be below 1:
// a job that runs like clockwork is more regular than Poisson, so its
// missed runs are strong evidence. Both variances add rho^2*mean^2, the
// learned relative error of the model over whole hours.
type Seasonal struct {
	prof  [48]float32 // expected calls per minute in each hour slot
	hours [48]uint8   // hours learned per slot, saturating at 255 (warm start)

	// moh holds decayed calls per minute of the hour, times mohScale. It is
	// allocated once the series has made mohMinCalls calls: below that the
	// prior keeps the shares uniform anyway, and most series are sparse.
	moh      *[60]float32
	mohSum   float32
	mohScale float32
	calls    uint32 // calls seen, saturating

	lc, lb float32 // fast EWMAs of calls and of level-free expectation
	level  float32
	// slow follows level with a day's memory. The winsorising band uses
	// it, so a burst cannot widen its own band minute by minute: the band
	// grows at most day by day, which is how fast a lasting change is
	// meant to be learned.
	slow float32

	resH, resM, resMu float32 // EWMAs of squared residuals (hour, minute) and of the mean
	nM                uint32  // minutes behind resM (restarts when moh appears)

	// Dispersion of 10-minute and 60-minute sums: calls are correlated
	// across minutes (a deploy lasts several minutes, a job's calls vary
	// from run to run), so the variance of a window's sum is not the sum
	// of the minutes' variances. Each block scale keeps its own.
	b10, b60 block

	all float32 // overall mean, for slots not seen yet
	n   uint32  // minutes observed
}

// mohMinCalls is how many calls a series makes before it tracks its
// minute-of-hour shares (the prior is worth 60 calls).
const mohMinCalls = 60

// Calls returns the calls the model has learned from (winsorised,
// saturating).
func (m *Seasonal) Calls() uint32 { return m.calls }

// Minutes returns how many minutes the model has learned from.
func (m *Seasonal) Minutes() int { return int(m.n) }

// SlotMinutes returns how many whole hours' minutes of hour slot h the
// model has learned (saturating at 255 hours).
func (m *Seasonal) SlotMinutes(h uint8) int { return 60 * int(m.hours[h]) }

func (m *Seasonal) seen(h uint8) bool { return m.hours[h] > 0 || m.prof[h] != 0 }

// share returns 60 times the share of an hour's calls expected in minute mi
// (1 for a flat series).
func (m *Seasonal) share(c *SeasonalConfig, mi uint8) float64 {
	if m.moh == nil {
		return 1
	}
	prior := c.HourPrior * float64(m.mohScale)
	return 60 * (float64(m.moh[mi]) + prior) / (float64(m.mohSum) + 60*prior)
}

// profile returns the hour slot's expected calls per minute. A slot's own
// estimate is shrunk toward the series' overall rate by a Gamma prior worth
// SlotPrior calls (empirical Bayes): a busy series keeps its daily rhythm,
// while a series that makes a few calls a week has no reliable rhythm, and
// a call at an hour it happened not to use yet is no surprise. The overall
// rate itself is never below half a call over the minutes watched: a series
// that has stayed at zero is not certain never to be called.
func (m *Seasonal) profile(c *SeasonalConfig, s Slot) float64 {
	all := float64(m.all)
	if m.n > 0 {
		all = max(all, 0.5/float64(m.n))
	}
	h := s.Hour
	if !m.seen(h) {
		if other := (h + 24) % 48; m.seen(other) {
			h = other
		} else {
			return all
		}
	}
	perWeek := 300.0
	if h >= 24 {
		perWeek = 120
	}
	exposure := min(60*float64(m.hours[h])+float64(s.Minute)+1, c.ProfileWeeks*perWeek)
	if all <= 0 {
		return float64(m.prof[h])
	}
	calls := float64(m.prof[h]) * exposure
	return (calls + c.SlotPrior) / (exposure + c.SlotPrior/all)
}

func (m *Seasonal) lvl() float64 {
	if m.level == 0 {
		return 1
	}
	return float64(m.level)
}

// ExpectHour returns the expected count of a minute in slot s judged by the
// hour's average rate: the yardstick for spikes.
func (m *Seasonal) ExpectHour(c *SeasonalConfig, s Slot) float64 {
	return m.lvl() * m.profile(c, s)
}

// Share returns 60 times the share of an hour's calls expected in minute mi
// of the hour (1 for a flat series): Expect is ExpectHour times Share.
func (m *Seasonal) Share(c *SeasonalConfig, mi uint8) float64 { return m.share(c, mi) }

// Expect returns the expected count of a minute in slot s including the
// minute-of-hour rhythm: the yardstick for drops.
func (m *Seasonal) Expect(c *SeasonalConfig, s Slot) float64 {
	return m.lvl() * m.profile(c, s) * m.share(c, s.Minute)
}

// block accumulates the sums of one block scale and the dispersion of
// those sums around the spike (hour-average) and drop (minute-of-hour)
// expectations.
type block struct {
	obs, expH, expM float32 // sums of the block in progress
	resH, resM, mu  float32 // EWMAs over blocks
	n               uint32  // blocks learned
}

func (b *block) add(v, muH, muM float64) {
	b.obs += float32(v)
	b.expH += float32(muH)
	b.expM += float32(muM)
}

// close ends a block of the given length (minutes) and learns from it.
func (b *block) close(c *SeasonalConfig, minutes float64, learn bool) {
	if learn {
		b.n++
		a := max(1/float64(b.n), minutes/c.DispersionMinutes)
		dH, dM := float64(b.obs-b.expH), float64(b.obs-b.expM)
		b.resH += float32(a * (dH*dH - float64(b.resH)))
		b.resM += float32(a * (dM*dM - float64(b.resM)))
		b.mu += float32(a * (float64(b.expH) - float64(b.mu)))
	}
	b.obs, b.expH, b.expM = 0, 0, 0
}

func (b *block) phi(c *SeasonalConfig, res float32, minutes, prior float64) float64 {
	k := c.DispersionPriorCalls / c.DispersionMinutes * minutes
	return (float64(res) + prior*k) / (float64(b.mu) + k)
}

// ExpectSpan returns the expected count of n consecutive minutes starting at
// slot s, all in s's hour (a quarter hour, say).
func (m *Seasonal) ExpectSpan(c *SeasonalConfig, s Slot, n int) float64 {
	sum := 0.0
	for k := 0; k < n && int(s.Minute)+k < 60; k++ {
		sum += m.share(c, s.Minute+uint8(k))
	}
	return m.lvl() * m.profile(c, s) * sum
}

// SpikeVariance returns the variance of the sum over a window of the given
// minutes whose hour-average expectation is mean. The dispersion is the
// one learned at the largest block scale the window spans, and never below
// Poisson.
func (m *Seasonal) SpikeVariance(c *SeasonalConfig, mean float64, minutes int) float64 {
	phi := m.phi(c, m.resH, c.DispersionPrior)
	switch {
	case minutes >= 60:
		phi = max(phi, m.b60.phi(c, m.b60.resH, 60, c.DispersionPriorBlock))
	case minutes >= 10:
		phi = max(phi, m.b10.phi(c, m.b10.resH, 10, c.DispersionPriorBlock))
	}
	return max(1, phi)*mean + c.MinRelError*c.MinRelError*mean*mean
}

// DropVariance returns the variance of the sum over a window of the given
// minutes whose minute-of-hour expectation is mean. It may be below the
// mean: a job that runs like clockwork is more regular than Poisson. Its
// prior is Poisson, not the account's pooled burst sizes: those describe
// how bursts look, not how regular a series' silences are.
func (m *Seasonal) DropVariance(c *SeasonalConfig, mean float64, minutes int) float64 {
	phi := m.phi(c, m.resM, 1)
	switch {
	case minutes >= 60:
		phi = m.b60.phi(c, m.b60.resM, 60, 1)
	case minutes >= 10:
		phi = max(phi, m.b10.phi(c, m.b10.resM, 10, 1))
	}
	return max(minDropDispersion, phi)*mean + c.MinRelError*c.MinRelError*mean*mean
}

// minDropDispersion is the most regular a series is believed to be: a job
// that misses about one run in fifty (phi = miss rate for one-call runs).
const minDropDispersion = 0.02

func (m *Seasonal) phi(c *SeasonalConfig, res float32, prior float64) float64 {
	k := c.DispersionPriorCalls / c.DispersionMinutes
	return (float64(res) + prior*k) / (float64(m.resMu) + k)
}

// Clamp winsorises an observation to [mean - clip*sd, mean + clip*sd + 1]
// before it is learned from.
func Clamp(clip, v, mean, variance float64) float64 {
	sd := math.Sqrt(variance)
	return max(mean-clip*sd, min(mean+clip*sd+1, v))
}

// Update learns from the count v observed in a minute of slot s.
// Observations outside the Clip band are winsorised, so an anomaly moves the
// model only as fast as a lasting change should. suspect says the caller
// found the minute unusual (an Insight is open, or the evidence is close):
// such a minute still moves the expectation, winsorised, so that a lasting
// change is learned, but not the dispersion, which would otherwise learn
// from the anomaly that the series is erratic and hide it.
func (m *Seasonal) Update(c *SeasonalConfig, s Slot, v float64, suspect bool) {
	muH := m.ExpectHour(c, s)
	muM := m.Expect(c, s)
	cv := max(0, v)
	if m.n > 0 {
		slow := float64(m.slow)
		if slow == 0 {
			slow = 1
		}
		bH, bM := muH/m.lvl()*slow, muM/m.lvl()*slow
		hi := max(bH, bM) + c.Clip*math.Sqrt(max(m.SpikeVariance(c, bH, 1), m.DropVariance(c, bM, 1))) + 1
		lo := bM - c.Clip*math.Sqrt(m.DropVariance(c, bM, 1))
		cv = max(lo, min(hi, cv))
	}
	m.n++
	if m.level == 0 {
		m.level = 1
	}

	// Hourly profile: mean calls per minute of the hour slot, learned from
	// the raw counts so that it anchors the model; the level factor only
	// bridges the weeks the profile needs to follow a lasting change. Its
	// expectation over an hour is unaffected by the minute-of-hour shares,
	// which average to 1.
	perWeek := 300.0 // weekday slot: 5 days x 60 minutes
	if s.Weekend() {
		perWeek = 120
	}
	h := s.Hour
	// Warm start: an exact running mean until the slot has seen
	// ProfileWeeks of its own minutes, then an EWMA with that memory.
	a := max(1/float64(60*int(m.hours[h])+int(s.Minute)+1), 1/(c.ProfileWeeks*perWeek))
	if s.Minute == 59 && m.hours[h] < math.MaxUint8 {
		m.hours[h]++
	}
	m.prof[h] += float32(a * (cv - float64(m.prof[h])))
	m.all += float32(max(1/float64(m.n), 1/(c.ProfileWeeks*10080)) * (cv - float64(m.all)))

	// Minute-of-hour shares, with lazy exponential decay: rather than
	// decaying all 60 cells each minute, new mass is scaled up.
	if m.calls < math.MaxUint32-uint32(min(cv, 1e6)) {
		m.calls += uint32(min(cv, 1e6))
	}
	if m.moh == nil && m.calls >= mohMinCalls {
		m.moh = new([60]float32)
		m.mohScale = 1
		// The minute-level dispersion so far was measured against flat
		// shares; it restarts with the shares.
		m.resM, m.nM = 0, 0
	}
	if m.moh != nil {
		m.moh[s.Minute] += float32(cv) * m.mohScale
		m.mohSum += float32(cv) * m.mohScale
		m.mohScale *= float32(1 / (1 - 1/c.HourMinutes))
	}
	if m.mohScale > 1e6 {
		inv := 1 / m.mohScale
		for i := range m.moh {
			m.moh[i] *= inv
		}
		m.mohSum *= inv
		m.mohScale = 1
	}

	// Level: ratio of recent calls to the profile's expectation, shrunk
	// toward 1 by a prior worth LevelPrior calls.
	base := muH / m.lvl()
	if m.n == 1 {
		base = cv
	}
	al := max(1/float64(m.n), 1/c.LevelMinutes)
	m.lc += float32(al * (cv - float64(m.lc)))
	m.lb += float32(al * (base - float64(m.lb)))
	k := c.LevelPrior / c.LevelMinutes
	m.level = float32((float64(m.lc) + k) / (float64(m.lb) + k))
	if m.slow == 0 {
		m.slow = 1
	}
	m.slow += float32(max(1/float64(m.n), 1/1440.0) * float64(m.level-m.slow))

	// Block sums, closed on the minute grid (10 and 60 minutes).
	// Dispersion learns from the raw count: winsorising it would make a
	// bursty series look tame and its routine bursts anomalies forever.
	// Minutes of an open Insight (suspect) do not count at all.
	raw := max(0, v)
	m.b10.add(raw, muH, muM)
	m.b60.add(raw, muH, muM)
	if (s.Minute+1)%10 == 0 {
		m.b10.close(c, 10, !suspect)
	}
	if s.Minute == 59 {
		m.b60.close(c, 60, !suspect)
	}
	if suspect {
		return
	}
	// Dispersion of single minutes around both expectations.
	ad := max(1/float64(m.n), 1/c.DispersionMinutes)
	dH, dM := raw-muH, raw-muM
	m.resH += float32(ad * (dH*dH - float64(m.resH)))
	m.nM++
	adM := max(1/float64(m.nM), 1/c.DispersionMinutes)
	m.resM += float32(adM * (dM*dM - float64(m.resM)))
	m.resMu += float32(ad * (muH - float64(m.resMu)))
}

// SeedZeros makes a new model behave as if it had watched the series stay
// at zero for the given number of minutes: an API that has never been
// called while trailsight watched its account has a baseline of 0, and its
// first burst must not become its own baseline.
func (m *Seasonal) SeedZeros(minutes int) {
	if minutes <= 0 || m.n > 0 {
		return
	}
	m.n = uint32(minutes)
	weeks := float64(minutes) / 10080
	for h := range m.hours {
		n := weeks * 5 // a weekday hour slot is seen 5 times a week
		if h >= 24 {
			n = weeks * 2
		}
		m.hours[h] = uint8(min(n, math.MaxUint8))
	}
	m.nM = uint32(minutes)
	m.b10.n, m.b60.n = uint32(minutes/10), uint32(minutes/60)
	m.level = 1
}
