package datasets

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// event is one CloudTrail record before rendering. Everything random about
// its text derives from seed, so an event renders identically wherever and
// however often it is written (duplicates share eventID and body).
type event struct {
	t     int64  // eventTime, Unix seconds
	seed  uint64 // drives every random detail of the record
	api   uint16 // index into catalog.apis
	actor uint16 // index into stream.actors
	proc  uint16 // generating process, for anomalies that remove or alter its calls
	err   uint16 // catalog.errCodes index + 1; 0 = success
	flags uint8
}

const (
	flagNewNames     uint8 = 1 << iota // IAM names refer to what the caller just created
	flagLoginFailure                   // ConsoleLogin that failed (reported in responseElements only)
	flagAddendum                       // delivered late: carries addendum DELIVERY_DELAY
)

// gen is the state shared by all streams of one Generate call (read-only
// once built).
type gen struct {
	cfg *Config
	cat *catalog
}

// stream generates the records of one account+Region.
type stream struct {
	g         *gen
	acct      *AccountSpec
	region    string
	scale     float64 // this Region's volume multiplier
	acctScale float64 // sum over the account's Regions: drives global services
	global    bool    // us-east-1: IAM, STS, Route 53 and sign-in are recorded here
	loc       *time.Location
	start     int64 // Unix seconds of minute 0
	minutes   int
	warm      int // first minute after warm-up

	// Local time of every minute.
	lmod  []int16 // minute of the local day
	ldow  []uint8 // local weekday
	lday  []int16 // local calendar day, counted from the local day of minute 0
	human []float32
	app   []float32
	// humanDay is the integral of the human profile over a local weekday, in
	// minutes at peak rate; it turns "n per day" into per-minute rates.
	humanDay float64

	res    *resources
	actors []*actor
	humans []human
	procs  []string
	events []event

	steady     []*steadySeries
	crons      []*cronJob
	fleetBase  float64
	fleetExtra []float32 // autoscaled instances in service, per minute

	// Planting state.
	labels  []Label
	busy    []busyWindow
	late    map[int]int // 5-minute window -> extra delivery delay (minutes)
	dups    []dupWindow
	kinds   map[string]*KindCount
	skipped []string
	groups  int
	newSeq  int
}

type busyWindow struct {
	api      int // -1: a delivery trap, exclusive of every labelled anomaly
	from, to int // minutes
	labelled bool
}

type dupWindow struct {
	from, to int // minutes, [from, to)
	delay    int // minutes after the end of the last regular window
}

func newStream(g *gen, acct *AccountSpec, ri int) *stream {
	cfg := g.cfg
	loc, err := time.LoadLocation(acct.TimeZone)
	if err != nil { // Validate checked it
		panic("BUG: datasets: " + err.Error())
	}
	s := &stream{
		g: g, acct: acct, region: acct.Regions[ri].Name, scale: acct.Regions[ri].Scale, loc: loc,
		start: cfg.Start.Unix(), minutes: cfg.Days * 1440, warm: cfg.WarmupDays * 1440,
		late: map[int]int{}, kinds: map[string]*KindCount{},
	}
	if s.scale == 0 {
		s.scale = 1
	}
	for _, r := range acct.Regions {
		s.acctScale += cmp.Or(r.Scale, 1)
	}
	s.global = s.region == "us-east-1"
	s.localTime()
	return s
}

// rng returns the generator of one named process of this stream.
func (s *stream) rng(name string) *rand.Rand {
	return newRand(s.g.cfg.Seed, s.g.cfg.Preset, s.acct.ID, s.region, name)
}

// proc registers a process name and returns its id.
func (s *stream) proc(name string) uint16 {
	s.procs = append(s.procs, name)
	return uint16(len(s.procs) - 1)
}

// addActor registers an actor and returns its index.
func (s *stream) addActor(a *actor) uint16 {
	s.actors = append(s.actors, a)
	return uint16(len(s.actors) - 1)
}

// localTime fills the per-minute local clock and the rate profiles.
func (s *stream) localTime() {
	n := s.minutes
	s.lmod, s.ldow, s.lday = make([]int16, n), make([]uint8, n), make([]int16, n)
	s.human, s.app = make([]float32, n), make([]float32, n)
	t0 := time.Unix(s.start, 0).In(s.loc)
	day0 := time.Date(t0.Year(), t0.Month(), t0.Day(), 0, 0, 0, 0, time.UTC)
	for m := 0; m < n; m++ {
		lt := time.Unix(s.start+int64(m)*60, 0).In(s.loc)
		mod := lt.Hour()*60 + lt.Minute()
		s.lmod[m], s.ldow[m] = int16(mod), uint8(lt.Weekday())
		d := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, time.UTC)
		s.lday[m] = int16(d.Sub(day0).Hours() / 24)
		s.human[m] = float32(humanProfile(lt.Weekday(), mod))
		s.app[m] = float32(appProfile(lt.Weekday(), mod))
	}
	for mod := 0; mod < 1440; mod++ {
		s.humanDay += humanProfile(time.Wednesday, mod)
	}
}

// humanProfile is the relative rate of human activity at a local time:
// 1 at the weekday morning peak, a lunch dip, a slower afternoon, a tail
// into the evening, near zero at night, and little at weekends.
func humanProfile(wd time.Weekday, mod int) float64 {
	h := float64(mod) / 60
	g := func(mu, sd float64) float64 { return math.Exp(-0.5 * (h - mu) * (h - mu) / (sd * sd)) }
	switch wd {
	case time.Saturday, time.Sunday:
		return 0.005 + 0.06*g(14, 3)
	}
	v := 0.008 + 0.95*g(10.5, 1.5) + 0.85*g(15, 1.7) + 0.12*g(20.5, 1.5)
	if wd == time.Friday {
		v *= 0.85 - 0.25*g(16.5, 1.5)
	}
	return v
}

// appProfile is the relative load of customer-facing applications: a broad
// afternoon peak, never below half of it, a little lower at weekends.
func appProfile(wd time.Weekday, mod int) float64 {
	h := float64(mod) / 60
	d := math.Abs(h - 14.5)
	if d > 12 {
		d = 24 - d
	}
	v := 0.55 + 0.45*math.Exp(-0.5*d*d/(4.5*4.5))
	if wd == time.Saturday || wd == time.Sunday {
		v *= 0.75
	}
	return v
}

// localAt returns the Unix time of a local wall-clock time on local day
// index d (0 = the local day of minute 0).
func (s *stream) localAt(d, mod, sec int) int64 {
	t0 := time.Unix(s.start, 0).In(s.loc)
	return time.Date(t0.Year(), t0.Month(), t0.Day()+d, 0, mod, sec, 0, s.loc).Unix()
}

// localWeekday returns the weekday of local day index d.
func (s *stream) localWeekday(d int) time.Weekday {
	t0 := time.Unix(s.start, 0).In(s.loc)
	return time.Date(t0.Year(), t0.Month(), t0.Day()+d, 12, 0, 0, 0, time.UTC).Weekday()
}

// localDays is the number of local days touched by the dataset.
func (s *stream) localDays() int { return int(s.lday[s.minutes-1]) + 1 }

// minuteOf returns the minute index of a Unix time.
func (s *stream) minuteOf(t int64) int { return int((t - s.start) / 60) }

// emit appends one call at time t, drawing its normal error (if the API has
// one) from r. Calls outside the dataset are dropped.
func (s *stream) emit(r *rand.Rand, t int64, api, actor, proc uint16) {
	if t < s.start || t >= s.start+int64(s.minutes)*60 {
		return
	}
	e := event{t: t, seed: r.Uint64(), api: api, actor: actor, proc: proc}
	for _, es := range s.g.cat.apis[api].errs {
		if r.Float64() < es.p {
			e.err = s.g.cat.errIndex[es.code]
			break
		}
	}
	s.events = append(s.events, e)
}

// emitOK appends a successful call (planted activity never fails).
func (s *stream) emitOK(r *rand.Rand, t int64, api, actor, proc uint16, flags uint8) {
	if t < s.start || t >= s.start+int64(s.minutes)*60 {
		return
	}
	s.events = append(s.events, event{t: t, seed: r.Uint64(), api: api, actor: actor, proc: proc, flags: flags})
}

// sortEvents orders events by time (then seed, for a total order).
func (s *stream) sortEvents() {
	slices.SortFunc(s.events, func(a, b event) int {
		return cmp.Or(cmp.Compare(a.t, b.t), cmp.Compare(a.seed, b.seed))
	})
}

// counts returns the per-minute number of calls of api matching keep.
func (s *stream) counts(api uint16, keep func(*event) bool) []int32 {
	c := make([]int32, s.minutes)
	for i := range s.events {
		e := &s.events[i]
		if e.api == api && (keep == nil || keep(e)) {
			c[s.minuteOf(e.t)]++
		}
	}
	return c
}

// sum adds c over [from, to), clipped to the dataset.
func sum(c []int32, from, to int) int {
	var n int
	for m := max(from, 0); m < min(to, len(c)); m++ {
		n += int(c[m])
	}
	return n
}
