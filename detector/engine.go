package detector

import (
	"context"
	"log/slog"
	"math"
	"sort"
	"time"

	"github.com/trailsight/trailsight/baseline"
	"github.com/trailsight/trailsight/cloudtrail"
	"github.com/trailsight/trailsight/models"
)

// Sink receives Insight transitions. Emit must be idempotent on the
// record IDs: after a crash or a rebalance the same transition may be
// emitted again.
type Sink interface {
	Emit(ctx context.Context, batch []Insight) error
}

// Result says what the Engine did with one event.
type Result uint8

// Results of Observe.
const (
	_             Result = iota
	Counted              // a write management call: counted for call rate (and errors)
	CountedError         // a read call with an errorCode: counted for error rate only
	NotWrite             // a read management call without error: counted as an API call only
	NotAnalysed          // data events, service events, other categories
	InsightRecord        // an Insights record: never analysed
	Duplicate            // an eventID seen within the dedup window
	Late                 // counted in a minute already evaluated (spec §2.9 #17)
	TooOld               // older than the series keep: set aside
	FromFuture           // far ahead of the engine clock: set aside
	numResults
)

var resultNames = [numResults]string{"", "counted", "counted_error", "not_write", "not_analysed", "insight_record", "duplicate", "late", "too_old", "from_future"}

// String returns the snake_case name used as a metrics label.
func (r Result) String() string {
	if r < numResults {
		return resultNames[r]
	}
	return "unknown"
}

// Stats are the Engine's counters.
type Stats struct {
	Events         [numResults]int64
	Series         int // call-rate series
	ErrorSeries    int
	Regions        int
	Open           int // Insights open now
	Started, Ended [3]int64
	ClosedMinutes  int64
	GapMinutes     int64 // account-Region minutes treated as delivery gaps
	// Warming is how many account-Regions have less history than the
	// warm-up at the newest minute evaluated: they start no Insight yet
	// (spec §2.9 #4). WarmingHistory is the longest history among them.
	Warming        int
	WarmingHistory time.Duration
}

// EventsBy returns the count of events with result r.
func (s *Stats) EventsBy(r Result) int64 { return s.Events[r] }

type regionKey struct{ account, region string }

type apiKey struct{ account, region, source, name string }

type errKey struct {
	apiKey
	code string
}

// Engine turns CloudTrail events into Insights. It buckets events per key
// and minute, closes minutes behind the watermark, scores them against the
// series' baselines and runs the Start/End state machine. An Engine is not
// safe for concurrent use: one goroutine owns it (one per partition or
// replay shard).
type Engine struct {
	cfg  Config
	sink Sink
	log  *slog.Logger

	regions map[regionKey]*region
	calls   callIndex
	apis    map[apiKey]*apiSeries
	errs    map[errKey]*errSeries
	// Iteration order must not depend on map order: Insights of one
	// minute are emitted in a deterministic order.
	callList []*callSeries
	errList  []*errSeries
	regList  []*region
	// byAccount lists each account's regions, in regList's order.
	byAccount map[string][]*region

	dedup *dedup
	vals  *values

	maxMinute int64 // newest event minute seen
	minMinute int64 // oldest event minute seen before the first close
	clock     int64 // processing clock (minute): delivery time in a replay
	closed    int64 // newest minute evaluated; 0 = none yet

	lateness int64
	warmUp   int64

	out   []Insight
	stats Stats

	traces map[Key]func(Point) // Trace hooks by series

	// dirty lists the series that got events in open minutes since the
	// last Advance, for the early window test.
	dirty    []*series
	dirtySet map[*series]struct{}
	// touched and checked are scratch for earlyWindows and earlyDrops.
	touched []*region
	checked []sourceCheck

	// novel counts calls by new principals, for the few series that get
	// them (novelty.go).
	novel map[*series]*novelRing
	// accounts knows each account's principals (novelty.go).
	accounts map[string]*account
	// excused holds, for the few series that had one lately, the minutes
	// of a burst the routine rules explained (principal.go).
	excused map[*series][2]int32
	tz      map[string]*time.Location
}

// New returns an Engine that sends Insights to sink. logger may be nil.
func New(cfg Config, sink Sink, logger *slog.Logger) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	e := &Engine{
		cfg:       cfg,
		sink:      sink,
		log:       logger.With("component", "detector"),
		regions:   map[regionKey]*region{},
		byAccount: map[string][]*region{},
		calls:     newCallIndex(),
		apis:      map[apiKey]*apiSeries{},
		errs:      map[errKey]*errSeries{},
		dedup:     newDedup(int64(cfg.DedupWindow / time.Minute)),
		vals:      newValues(),
		dirtySet:  map[*series]struct{}{},
		novel:     map[*series]*novelRing{},
		accounts:  map[string]*account{},
		excused:   map[*series][2]int32{},
		lateness:  int64(cfg.AllowedLateness / time.Minute),
		warmUp:    int64(cfg.WarmUp / time.Minute),
		tz:        map[string]*time.Location{},
	}
	for acct, name := range cfg.TimeZones {
		loc, _ := time.LoadLocation(name) // validated
		e.tz[acct] = loc
	}
	return e, nil
}

// Stats returns a copy of the counters.
func (e *Engine) Stats() Stats {
	s := e.stats
	s.Series, s.ErrorSeries, s.Regions = e.calls.len(), len(e.errs), len(e.regions)
	open := 0
	for _, c := range e.callList {
		if c.al != nil {
			open++
		}
	}
	for _, c := range e.errList {
		if c.al != nil {
			open++
		}
	}
	s.Open = open
	if e.closed != 0 {
		for _, r := range e.regList {
			if !e.warm(r, e.closed) {
				s.Warming++
				s.WarmingHistory = max(s.WarmingHistory, time.Duration(e.closed-r.first+1)*time.Minute)
			}
		}
	}
	return s
}

// OpenInsights returns the Insights open now, each as its Start with the
// statistics of the minutes folded in so far, in the order Flush sends
// transitions. A new owner of a partition announces from it what its
// restored state holds open (the Insights' gauges), and the old owner what
// it lets go.
func (e *Engine) OpenInsights() []Insight {
	var out []Insight
	add := func(s *series) {
		if s.al == nil {
			return
		}
		a := s.al
		if a.last >= a.start { // closed minutes folded in
			out = append(out, e.insight(s, StateStart, a.start, int(a.last-a.start+1), a.sum))
			return
		}
		// Started early, on still-open minutes: what they hold so far, as
		// the Start record counted them.
		to := max(s.counts.Head(), a.start)
		out = append(out, e.insight(s, StateStart, a.start, int(to-a.start+1), s.counts.Sum(a.start, to)))
	}
	for _, c := range e.callList {
		add(&c.series)
	}
	for _, c := range e.errList {
		add(&c.series)
	}
	sort.SliceStable(out, func(i, j int) bool { return lessInsight(&out[i], &out[j]) })
	return out
}

// Watermark returns the newest minute the Engine has evaluated.
func (e *Engine) Watermark() time.Time { return minuteTime(e.closed) }

// now is the engine's clock minute: the processing clock, or the newest
// event time when no clock is given (JSON Lines on stdin).
func (e *Engine) now() int64 {
	if e.clock > e.maxMinute {
		return e.clock
	}
	return e.maxMinute
}

// keyID interns the strings of a key.
func (e *Engine) keyID(k apiKey, code string, typ InsightType) keyID {
	id := keyID{account: e.vals.id(k.account), region: e.vals.id(k.region), source: e.vals.id(k.source), name: e.vals.id(k.name), typ: typ}
	if code != "" {
		id.code = e.vals.id(code)
	}
	return id
}

// key returns the Key of an interned key.
func (e *Engine) key(id keyID) Key {
	v := e.vals.strs
	return Key{Account: v[id.account], Region: v[id.region], EventSource: v[id.source], EventName: v[id.name], Type: id.typ, ErrorCode: v[id.code]}
}

func sqrt(v float64) float64 { return math.Sqrt(v) }

func minuteTime(m int64) time.Time { return time.Unix(m*60, 0).UTC() }

func (e *Engine) region(account, name string, minute int64) *region {
	k := regionKey{account, name}
	r := e.regions[k]
	if r == nil {
		loc := e.tz[account]
		if loc == nil {
			loc = time.UTC
		}
		r = &region{account: account, name: name, loc: loc, first: minute, cfg: e.cfg.Seasonal}
		e.regions[k] = r
		e.regList = append(e.regList, r)
		e.byAccount[account] = append(e.byAccount[account], r)
	}
	if minute < r.first {
		r.first = minute
	}
	return r
}

// Observe counts one event. Early Starts it triggers are sent to the sink
// by the next Advance or Flush.
func (e *Engine) Observe(ev *cloudtrail.Event) Result {
	r := e.observe(ev)
	e.stats.Events[r]++
	return r
}

func (e *Engine) counted(ev *cloudtrail.Event) bool {
	switch ev.EventType {
	case "AwsApiCall", "AwsConsoleAction", "AwsConsoleSignIn", "":
		return true
	case "AwsServiceEvent":
		return e.cfg.ServiceEvents
	}
	return false
}

func (e *Engine) observe(ev *cloudtrail.Event) Result {
	if ev.IsInsight() {
		return InsightRecord
	}
	m := ev.EventTime / 60
	if e.clock != 0 && m > e.clock+60 {
		return FromFuture
	}
	if e.closed != 0 && m <= e.closed-baseline.MinutesKept {
		return TooOld
	}
	now := e.clock
	if e.maxMinute > now {
		now = e.maxMinute
	}
	if now == 0 {
		now = m
	}
	if e.dedup.seen(ev.EventID, now) {
		return Duplicate
	}
	if m > e.maxMinute {
		e.maxMinute = m
	}
	if e.closed == 0 && (e.minMinute == 0 || m < e.minMinute) {
		e.minMinute = m
	}
	late := e.closed != 0 && m <= e.closed

	acct := ev.RecipientAccountID
	reg := e.region(acct, ev.AWSRegion, m)
	reg.total.Add(m, 1)
	if !ev.IsManagement() || !e.counted(ev) {
		return NotAnalysed
	}
	k := apiKey{acct, ev.AWSRegion, ev.EventSource, ev.EventName}
	// The calls of an API, the denominator of its error rates: the
	// call-rate series itself for write APIs (readOnly is a property of
	// the API), a count-only series for read APIs.
	var calls *baseline.Counts
	var cs *callSeries
	var total float64
	if ev.IsWrite() {
		cs = e.callSeries(k, reg, m)
		calls = &cs.counts
		total = float64(cs.model.Calls())
	} else {
		api := e.apis[k]
		if api == nil {
			api = &apiSeries{}
			e.apis[k] = api
		}
		calls = &api.counts
		api.total++
		total = api.total
	}
	calls.Add(m, 1)

	arn, ua := ev.UserIdentityARN, ev.UserAgent
	if arn == "" {
		arn = "null"
	}
	if ua == "" {
		ua = "null"
	}
	// Each value is interned once per event; the principal is the ARN
	// itself except for assumed-role sessions.
	arnID, uaID := e.vals.id(arn), e.vals.id(ua)
	pid := arnID
	if p := principal(arn); p != arn {
		pid = e.vals.id(p)
	}
	firstSeen := e.seePrincipal(acct, pid, m)
	res := NotWrite
	if ev.ErrorCode != "" {
		s := e.errSeries(k, ev.ErrorCode, reg, calls, total, m)
		s.counts.Add(m, 1)
		vals := [3]uint32{arnID, uaID, 0}
		res = CountedError
		e.early(&s.series, m, reg, &vals, late)
	}
	if cs != nil {
		code := ev.ErrorCode
		if code == "" {
			code = "null"
		}
		vals := [3]uint32{arnID, uaID, e.vals.id(code)}
		var agent uint32
		if ev.InvokedBy != "" {
			agent = e.vals.id(ev.InvokedBy)
		}
		e.observeNovelty(reg, &cs.series, pid, agent, firstSeen, m)
		res = Counted
		e.early(&cs.series, m, reg, &vals, late)
	}
	if late {
		return Late
	}
	return res
}

func (e *Engine) callSeries(k apiKey, reg *region, m int64) *callSeries {
	s := e.calls.get(k, e.vals.strs)
	if s == nil {
		s = &callSeries{series: series{id: e.keyID(k, "", APICallRate), reg: reg}}
		s.series.kind = s
		// An API first seen after its account and Region have been
		// watched has had a baseline of zero all along.
		if e.closed != 0 && e.closed > reg.first {
			s.model.SeedZeros(int(e.closed - reg.first))
		}
		e.calls.put(k, s)
		e.callList = append(e.callList, s)
		reg.calls = append(reg.calls, s)
	}
	return s
}

func (e *Engine) errSeries(k apiKey, code string, reg *region, api *baseline.Counts, calls float64, m int64) *errSeries {
	ek := errKey{k, code}
	s := e.errs[ek]
	if s == nil {
		s = &errSeries{series: series{id: e.keyID(k, code, APIErrorRate), reg: reg}, api: api}
		s.series.kind = s
		// The API's calls so far carried no error of this code.
		if e.closed != 0 && e.closed > reg.first {
			s.model.SeedCalls(calls, int(e.closed-reg.first))
		}
		e.errs[ek] = s
		e.errList = append(e.errList, s)
	}
	return s
}

// Advance moves the engine clock to now (the delivery time of the data
// about to be or just observed, or the wall clock in a live service),
// evaluates every minute that fell behind the watermark, and sends the
// resulting Insights to the sink. The watermark is the newest of the event
// times seen and the clock, minus the allowed lateness, so idle streams do
// not stall time.
func (e *Engine) Advance(ctx context.Context, now time.Time) error {
	ticked := false
	if c := now.Unix() / 60; c > e.clock {
		e.clock, ticked = c, e.clock != 0
	}
	target := e.maxMinute
	if e.clock > target {
		target = e.clock
	}
	target -= e.lateness
	if e.maxMinute == 0 {
		return e.Flush(ctx)
	}
	if e.closed == 0 {
		e.closed = e.minMinute - 1
	}
	for m := e.closed + 1; m <= target; m++ {
		e.closeMinute(m)
		e.closed = m
		if m%60 == 0 {
			e.compactValues()
		}
	}
	e.earlyWindows(ticked)
	return e.Flush(ctx)
}

// earlyWindows runs the windowed spike tests on the series that got events
// in still-open minutes: a sustained rise over several minutes is as
// certain before the watermark passes as after, since counts only grow.
// Then the early drop tests of their account-Regions, and, when the clock
// ticked to a new minute, the missed-runs tests of every account-Region.
func (e *Engine) earlyWindows(ticked bool) {
	regs := e.touched[:0]
	starts := e.stats.Started[APICallRate]
	for _, s := range e.dirty {
		delete(e.dirtySet, s)
		if r := s.reg; !r.touched {
			r.touched = true
			regs = append(regs, r)
		}
		e.earlySpikeTests(s)
	}
	if e.stats.Started[APICallRate] > starts {
		// A Start makes weaker evidence on the account-Region's other
		// APIs a companion's (companion.go): those tested before it are
		// tested again, so the order of the series does not decide.
		for _, s := range e.dirty {
			if s.id.typ == APICallRate {
				e.earlySpikeTests(s)
			}
		}
	}
	e.dirty = e.dirty[:0]
	if ticked {
		// Each minute of the clock, the jobs of every account-Region:
		// one whose writes are few (reads, data events, a job) has its
		// files delivered all the same, and a job's runs are missed
		// without a write to say so. (Its windowed drop tests wait for
		// writes or the close: run every minute everywhere, they cost a
		// fifth of replay's time.)
		for _, r := range e.regList {
			e.earlyDrops(r, !r.touched)
		}
	} else {
		for _, r := range regs {
			e.earlyDrops(r, false)
		}
	}
	for _, r := range regs {
		r.touched = false
	}
	clear(regs)
	e.touched = regs[:0]
	if e.closed%60 == 0 {
		e.forgetNovelty(e.closed)
		e.forgetExcused(e.closed)
	}
}

// earlySpikeTests runs the novelty and windowed spike tests of s on its
// newest minute while that minute is still open.
func (e *Engine) earlySpikeTests(s *series) {
	m := min(s.counts.Head(), e.maxMinute)
	if s.al != nil || m <= e.closed || !e.warm(s.reg, m) {
		return
	}
	if !e.testNovelty(s, m) {
		e.spikeTests(s, m, spikeScales[1:])
	}
}

// earlyDrops runs the drop tests of the windows ending at the delivered
// minutes of account-Region r that are still open. A drop shows in minutes
// that are complete, and a minute is complete once its log files are in,
// not once the allowed lateness has passed: CloudTrail delivers an
// account-Region's records about every five minutes (spec §4.4), so once r
// has events deliveryCycle minutes newer than minute d, the files holding
// d have come too, unless they are late; and a late file leaves every
// service of the region short, which delivered checks. Drops are found up
// to AllowedLateness - deliveryCycle minutes sooner than at the close;
// what this does not test is tested when the minute closes. With jobsOnly,
// only the missed-runs tests of the jobs (rhythm.go) run.
func (e *Engine) earlyDrops(r *region, jobsOnly bool) {
	// Events ahead of the clock (a skewed one) say nothing of delivery.
	d := min(r.total.Head(), e.clock) - deliveryCycle
	from := e.closed + 1
	if d < from || !e.warm(r, d) || r.model.Minutes() <= 1440 {
		return
	}
	for m := from; m <= d; m++ {
		if r.looksLikeGap(r.total.Get(m), r.slot(m)) {
			// A minute the close would hold as a delivery gap
			// (region.close; the gap bits of open minutes are not set).
			return
		}
	}
	checked := e.checked[:0]
	for _, cs := range r.calls {
		s := &cs.series
		if s.al != nil || jobsOnly && !cs.rhythm.established() || !s.kind.dropsAllowed(e, d) {
			continue
		}
		ok, seen := false, false
		for _, c := range checked {
			if c.source == s.id.source {
				ok, seen = c.ok, true
				break
			}
		}
		if !seen {
			ok = e.delivered(r, s.id.source, from, d)
			checked = append(checked, sourceCheck{s.id.source, ok})
		}
		if !ok {
			continue
		}
		// The minutes of the newest delivery cycle, oldest first, as the
		// close would: a file brings five minutes at once, and testing
		// only the newest would date a drop by a window that began after
		// it did. Older open minutes were tested when their own files
		// came.
		lo := max(from, d-deliveryCycle+1, int64(s.rearm))
		if lo > d {
			continue
		}
		// Where even the longest window expects too few calls to test
		// (most of a region's APIs are rare), skip the windows' sums;
		// a job's missed runs are tested all the same.
		few := jobsOnly
		if !few {
			mu, _ := s.kind.dropWindow(e, lo-dropScales[len(dropScales)-1]+1, d)
			few = mu < minDropExpected
		}
		if few && !cs.rhythm.established() {
			continue
		}
		for m := lo; m <= d && s.al == nil; m++ {
			if !s.kind.dropsAllowed(e, m) {
				continue
			}
			if few || !e.dropTests(s, m, e.closed) {
				e.testRhythm(cs, m, e.closed)
			}
		}
	}
	e.checked = checked[:0]
}

// sourceCheck caches delivered for one service of a region.
type sourceCheck struct {
	source uint32
	ok     bool
}

// deliveryCycle is how many minutes newer than a minute an account-Region's
// events must be before the minute counts as delivered: one log file
// delivery cycle (spec §4.4).
const deliveryCycle = 5

// completeP is the tail probability below which the events of the other
// services of an account-Region in still-open minutes look incompletely
// delivered: a file still on its way (of several for one cycle, or all of
// them) leaves every service short, and a drop called then could be the
// delivery's.
const completeP = 1e-2

// delivered reports whether the open minutes from..to of account-Region r
// look completely delivered to judge a drop of service source: no minute
// looks like a delivery gap (checked by the caller), and the events of the
// region's other services are not improbably few. The service itself is
// left out: a client that stops silences all its APIs of a service at
// once (sibling.go), and where it makes most of a region's events, the
// region's total looks short because of the very drop to be judged.
func (e *Engine) delivered(r *region, source uint32, from, to int64) bool {
	obs, mu := r.total.Sum(from, to), 0.0
	for m := from; m <= to; m++ {
		mu += r.model.Expect(&r.cfg, r.slot(m))
	}
	for _, cs := range r.calls {
		if cs.id.source == source {
			own, _ := cs.dropWindow(e, from, to)
			obs -= cs.counts.Sum(from, to)
			mu -= own
		}
	}
	if mu < minRestEvents {
		return false // too few events elsewhere to tell
	}
	return lowTail(max(obs, 0), mu, r.model.DropVariance(&r.cfg, mu, int(to-from+1))) >= completeP
}

// minRestEvents is how many events the rest of an account-Region must
// expect in the open minutes for their count to show a delivery short.
const minRestEvents = 10

// Flush sends pending Insights to the sink, in a deterministic order.
func (e *Engine) Flush(ctx context.Context) error {
	if len(e.out) == 0 || e.sink == nil {
		return nil
	}
	sort.SliceStable(e.out, func(i, j int) bool { return lessInsight(&e.out[i], &e.out[j]) })
	err := e.sink.Emit(ctx, e.out)
	if err != nil {
		return err
	}
	e.out = e.out[:0]
	return nil
}

func lessInsight(a, b *Insight) bool {
	if !a.Emitted.Equal(b.Emitted) {
		return a.Emitted.Before(b.Emitted)
	}
	ka, kb := a.Key, b.Key
	switch {
	case ka.Account != kb.Account:
		return ka.Account < kb.Account
	case ka.Region != kb.Region:
		return ka.Region < kb.Region
	case ka.EventSource != kb.EventSource:
		return ka.EventSource < kb.EventSource
	case ka.EventName != kb.EventName:
		return ka.EventName < kb.EventName
	case ka.Type != kb.Type:
		return ka.Type < kb.Type
	case ka.ErrorCode != kb.ErrorCode:
		return ka.ErrorCode < kb.ErrorCode
	case !a.Start.Equal(b.Start):
		return a.Start.Before(b.Start)
	}
	return a.State < b.State
}

func (e *Engine) closeMinute(m int64) {
	e.stats.ClosedMinutes++
	for _, r := range e.regList {
		r.learnPrincipals(m - learnLag)
		r.close(&e.cfg, m)
		if r.isGap(m) {
			e.stats.GapMinutes++
		}
	}
	for _, s := range e.callList {
		e.evaluate(&s.series, m)
	}
	for _, s := range e.errList {
		e.evaluate(&s.series, m)
	}
}

func (e *Engine) warm(r *region, m int64) bool { return m-r.first >= e.warmUp }

// suspectP is the tail probability below which a series starts counting
// its attribution values exactly, in case an Insight follows.
const suspectP = 1e-3

// keepAttrs is how long a hot attribution state outlives its last
// suspicious minute.
const keepAttrs = 30

// early counts a call's attribution values and checks its still-open
// minute for a spike: counts only grow within a minute, so once the partial
// count is beyond the Start threshold the spike is certain (detection-notes:
// open-minute early Start). Late calls are only counted.
func (e *Engine) early(s *series, m int64, reg *region, vals *[3]uint32, late bool) {
	if late || s.al != nil || m < int64(s.rearm) || !e.warm(reg, m) {
		s.observeAttrs(m, vals, 1)
		return
	}
	c := s.counts.Get(m)
	if _, ok := e.dirtySet[s]; !ok {
		e.dirtySet[s] = struct{}{}
		e.dirty = append(e.dirty, s)
	}
	mu, v := s.kind.spike(e, reg.slot(m), m)
	high := models.MayBeHigh(c, mu, v)
	// Count attribution values from the first unusual call on, this one
	// included, so that a Start found later (a window, novelty) names the
	// principals of its first minutes too. On a series that expects less
	// than a call in watchMinutes any call may begin a burst: a window test
	// that finds one once a log file is in would otherwise know nothing of
	// the calls before it (and a Start record would attribute none of its
	// calls: 3 spike Starts of the standard dataset did).
	switch {
	case high:
		s.attrs.heat(m, m+keepAttrs)
	case mu*watchMinutes < 1:
		s.attrs.heat(m, m+watchMinutes)
	}
	s.observeAttrs(m, vals, 1)
	if !high || c < float64(e.cfg.MinCount) {
		return
	}
	p := models.UpperTail(c, mu, v)
	if p < e.cfg.StartP && !e.routine(s, m, m) && !e.actsForService(s, m, m) && e.loudEnough(s, c, mu, v, e.cfg.StartP, false) {
		s.al = &alarm{dir: Spike, start: m, scale: 1, p: p, last: m - 1, end: m + 1}
		e.emitStart(s, m, c, 1, mu)
	}
}

// watchMinutes is how long a call to a rarely called series keeps its
// attribution values counted (see early): as long as the shortest spike
// window but one, and each further call extends it, so a burst stays
// counted while it lasts.
const watchMinutes = 10

// spikeScales and dropScales are the window lengths (minutes) tested.
var (
	spikeScales = [...]int64{1, 10, 30, 60}
	dropScales  = [...]int64{10, 20, 40, 80}
	// blockScales are the longer drop windows, in quarter-hour blocks
	// (2, 3 and 3.75 hours: the ring holds 16 blocks and the newest one is still open), tested at block boundaries: a job that runs every
	// half hour makes a few calls an hour, and only hours of silence make
	// strong evidence.
	blockScales = [...]int64{8, 12, 15}
)

// learnLag is how many minutes a closed minute waits before the model
// learns it. An anomaly gets that long to be recognised before its first
// minutes could teach the model that it is normal; once an Insight is
// open, its minutes are learned only winsorised and never as dispersion.
const learnLag = 30

func (e *Engine) evaluate(s *series, m int64) {
	reg := s.reg
	c := s.counts.Get(m)
	if cs, ok := s.kind.(*callSeries); ok && c > 0 {
		cs.observeRun(e, m)
	}
	if s.al != nil {
		e.track(s, m)
	} else if m >= int64(s.rearm) && e.warm(reg, m) {
		e.test(s, m)
	}
	if h := s.attrs.hot; h != nil && s.al == nil && m > h.calm {
		s.attrs.hot = nil
	}
	e.trace(s, m, c)
	t := m - learnLag
	if t < reg.first {
		return // nothing was watched yet
	}
	if !reg.isGap(t) || reg.gapRun > maxGap {
		// Minutes of an open (or just ended) Insight are suspect; merely
		// unusual minutes are learned in full, or routine bursts would
		// slowly be forgotten and become Insights.
		suspect := (s.al != nil && t >= s.al.start) || t < int64(s.rearm)
		s.kind.learn(e, reg.slot(t), t, s.counts.Get(t), suspect)
	}
}

// maxGap is how many consecutive account-Region minutes may be treated as
// a delivery gap; a longer silence is taken as real.
const maxGap = 120

// test runs the spike and drop tests on minute m of a series with no open
// Insight, and starts one on strong evidence.
func (e *Engine) test(s *series, m int64) {
	if e.testNovelty(s, m) {
		return
	}
	if e.spikeTests(s, m, spikeScales[:]) {
		return
	}
	if !s.kind.dropsAllowed(e, m) || e.dropTests(s, m, m) {
		return
	}
	if len(s.reg.drops) > 0 && e.testSiblings(s, m) {
		return
	}
	if cs, ok := s.kind.(*callSeries); ok && e.testRhythm(cs, m, m) {
		return
	}
	if (m+1)%baseline.BlockMinutes != 0 {
		return
	}
	b1 := m / baseline.BlockMinutes
	for _, nb := range blockScales {
		b0 := b1 - nb + 1
		from := b0 * baseline.BlockMinutes
		if from < int64(s.rearm) || s.reg.lastGap >= from || b0 < s.counts.OldestBlock() {
			return
		}
		mu, v := s.kind.dropBlocks(e, b0, b1)
		if mu < minDropExpected {
			continue
		}
		p := lowTail(s.counts.BlockSum(b0, b1), mu, v)
		if p < suspectP {
			s.attrs.heat(from, m+keepAttrs)
		}
		if p < e.alpha(nb*baseline.BlockMinutes) {
			e.startBlocks(s, b0, b1, m)
			return
		}
	}
}

// dropTests runs the drop tests of the windows ending at minute m and
// starts an Insight on the first with strong evidence. Minutes up to
// closed are closed, with their gaps known; those after it are still open
// but delivered (earlyDrops checked them).
func (e *Engine) dropTests(s *series, m, closed int64) bool {
	nested := s.kind.dropNested(e, m)
	for i, w := range dropScales {
		from := m - w + 1
		if from < int64(s.rearm) || s.reg.gapIn(from, min(m, closed)) {
			break // longer windows hold the same minutes; blocks are judged on their own
		}
		mu := nested[i]
		v := s.kind.dropVariance(e, mu, w)
		if mu < minDropExpected {
			continue
		}
		p := lowTail(s.counts.Sum(from, m), mu, v)
		if p < suspectP {
			s.attrs.heat(from, m+keepAttrs)
		}
		if p < e.alpha(w) {
			e.start(s, Drop, w, m)
			s.al.judged(m, closed)
			return true
		}
	}
	return false
}

// minDropExpected is the fewest calls a window must expect for its drop
// test: fewer missing calls are no evidence of anything.
const minDropExpected = 3

// lowTail is the lower tail probability of obs where mu (variance v) is
// expected, or 1 where obs is plainly not low.
func lowTail(obs, mu, v float64) float64 {
	if !models.MayBeLow(obs, mu, v) {
		return 1
	}
	return models.LowerTail(obs, mu, v)
}

// startBlocks opens a drop Insight whose evidence is the blocks [b0, b1]:
// it starts at the earliest block from which the rest is still significant.
func (e *Engine) startBlocks(s *series, b0, b1, m int64) {
	j0, p := b1, 1.0
	for j := b0; j <= b1; j++ {
		mu, v := s.kind.dropBlocks(e, j, b1)
		q := models.LowerTail(s.counts.BlockSum(j, b1), mu, v)
		if q < e.alpha((b1-j+1)*baseline.BlockMinutes) {
			j0, p = j, q
			break
		}
	}
	start := j0 * baseline.BlockMinutes
	s.al = &alarm{dir: Drop, start: start, scale: int((b1 - j0 + 1) * baseline.BlockMinutes), p: p, last: start - 1}
	// Blocks older than the minute ring are folded whole.
	inRing := s.counts.Head() - baseline.MinutesKept + 1
	for b := j0; (b+1)*baseline.BlockMinutes <= inRing && b <= b1; b++ {
		mu, _ := s.kind.dropBlocks(e, b, b)
		e.foldSpan(s, (b+1)*baseline.BlockMinutes-1, s.counts.Block(b), mu)
	}
	for t := s.al.last + 1; t <= min(m, e.closed); t++ {
		e.fold(s, t)
	}
	obs, exp := s.al.sum, s.al.exp
	e.emitStart(s, start, obs, int(m-start+1), exp/float64(m-start+1))
}

// spikeTests runs the spike tests of the windows of the given scales ending
// at minute m (closed or still open) and starts an Insight on the first
// with strong evidence that is not a routine burst. It reports whether it
// started one.
func (e *Engine) spikeTests(s *series, m int64, scales []int64) bool {
	for _, w := range scales {
		from := max(m-w+1, int64(s.rearm))
		obs := s.counts.Sum(from, m)
		if obs < float64(e.cfg.MinCount) {
			continue
		}
		mu, v := s.kind.spikeWindow(e, from, m)
		if !models.MayBeHigh(obs, mu, v) {
			continue
		}
		p := models.UpperTail(obs, mu, v)
		if p < suspectP {
			s.attrs.heat(from, m+keepAttrs)
		}
		threshold := e.alpha(m - from + 1)
		var by *series
		if p >= threshold {
			// Weaker evidence may still be another API of an incident
			// already open (companion.go).
			if p >= companionP || s.id.typ != APICallRate {
				continue
			}
			if by = e.leaderCompanion(s, from, m); by == nil {
				continue
			}
			threshold = companionP
		}
		if e.routine(s, from, m) || !e.loudEnough(s, obs, mu, v, threshold, false) {
			continue
		}
		if by == nil {
			e.start(s, Spike, m-from+1, m)
			return true
		}
		e.startWith(s, Spike, m-from+1, m, func(int64) float64 { return companionP })
		// startWith emitted the Start last.
		e.out[len(e.out)-1].CompanionOf = e.vals.strs[by.id.name]
		return true
	}
	return false
}

// alpha is the Start threshold of a window of w minutes. A series is tested
// every minute at every scale, but windows of w minutes overlap, so they
// make only about 1440/w independent tests a day: scaling StartP by w
// spends the same false-alarm budget per hour at every scale
// (a Bonferroni split over time), instead of making long windows w times
// stricter than short ones.
func (e *Engine) alpha(w int64) float64 { return e.cfg.StartP * float64(w) }

// start opens an Insight whose evidence is the window of w minutes ending
// at m. The Insight starts at the change point: of the minutes from which
// the rest of the window is still significant on its own, the one whose
// rest stands out most (the largest standardised excess, which does not
// underflow as tail probabilities do). The earliest significant minute
// would do for a clean step, but a short burst at the end of a window
// is significant from every minute before it too, and would be dated back
// into the ordinary minutes before it, which then end the Insight before
// the burst's own minutes have even closed.
func (e *Engine) start(s *series, dir Direction, w, m int64) {
	e.startWith(s, dir, w, m, e.alpha)
}

// startWith is start with the threshold alpha of a window of w minutes.
func (e *Engine) startWith(s *series, dir Direction, w, m int64, alpha func(w int64) float64) {
	from := m - w + 1
	start, p, best := m, 1.0, math.Inf(-1)
	for j := from; j <= m; j++ {
		obs := s.counts.Sum(j, m)
		var q, z float64
		if dir == Spike {
			if obs < float64(e.cfg.MinCount) {
				break
			}
			mu, v := s.kind.spikeWindow(e, j, m)
			q, z = models.UpperTail(obs, mu, v), (obs-mu)/math.Sqrt(v)
		} else {
			mu, v := s.kind.dropWindow(e, j, m)
			q, z = models.LowerTail(obs, mu, v), (mu-obs)/math.Sqrt(v)
		}
		if q < alpha(m-j+1) && z > best {
			start, p, best = j, q, z
		}
	}
	// Leading minutes that add no evidence are not part of the Insight.
	for start < m {
		c := s.counts.Get(start)
		if dir == Spike {
			if mu, _ := s.kind.spikeWindow(e, start, start); c > mu {
				break
			}
		} else if mu, _ := s.kind.dropWindow(e, start, start); c < mu {
			break
		}
		start++
	}
	s.al = &alarm{dir: dir, start: start, scale: int(w), p: p, last: start - 1}
	// Minutes still open are folded in when they close.
	for t := start; t <= min(m, e.closed); t++ {
		e.fold(s, t)
	}
	obs := s.counts.Sum(start, m)
	mu, _ := s.kind.spikeWindow(e, start, m)
	if dir == Drop {
		mu, _ = s.kind.dropWindow(e, start, m)
	}
	e.emitStart(s, start, obs, int(m-start+1), mu/float64(m-start+1))
}

// fold adds closed minute t to an open Insight: its count, and a CUSUM
// whose maximum marks where the unusual activity ended. The allowance
// (spikeAllowance; for drops three quarters of the expectation) makes the
// CUSUM fall once activity is back to normal, so its argmax is the change
// point, not the detection time.
func (e *Engine) fold(s *series, t int64) {
	if t <= s.al.last {
		return
	}
	var mu float64
	if s.al.dir == Spike {
		mu, _ = s.kind.spikeWindow(e, t, t)
	} else {
		mu, _ = s.kind.dropWindow(e, t, t)
	}
	e.foldSpan(s, t, s.counts.Get(t), mu)
}

// foldSpan folds the minutes up to t, with count c and expectation mu.
func (e *Engine) foldSpan(s *series, t int64, c, mu float64) {
	a := s.al
	if t <= a.last {
		return
	}
	a.last = t
	a.sum += c
	var inc float64
	if a.dir == Spike {
		inc = c - spikeAllowance(mu, a.sum/float64(t-a.start+1))
	} else {
		inc = 0.75*mu - c
	}
	a.exp += mu
	a.cusum += inc
	if a.cusum >= a.best || a.end == 0 {
		a.best = a.cusum
		a.end = t + 1
		a.sumAtEnd, a.expAtEnd = a.sum, a.exp
	}
}

// spikeAllowance is what a minute of an open spike must exceed to extend
// it: the logarithmic mean of the expected rate mu and the Insight's rate
// so far r, the rate at which a minute is as likely under either (the
// Poisson log-likelihood-ratio CUSUM), so the CUSUM's maximum is where the
// higher rate most likely ended. It is never under 1.5 mu. A fixed
// allowance of half a call (the first rule) ended a slow spike of a rare
// API, a call every other minute, at its first pause: a 50-minute spike
// reported as 5 minutes long.
func spikeAllowance(mu, r float64) float64 {
	floor := 1.5 * mu
	m := max(mu, minAllowanceRate)
	if r <= m*(1+1e-9) {
		return floor // (and the logarithmic mean's 0/0 is avoided)
	}
	return max(floor, (r-m)/math.Log(r/m))
}

// minAllowanceRate stands in for an expectation of (nearly) zero, whose
// logarithm would make every call extend the Insight.
const minAllowanceRate = 1e-3

// track folds minute m into an open Insight and ends it after CoolDown
// consecutive normal minutes.
func (e *Engine) track(s *series, m int64) {
	a := s.al
	if m < a.start {
		// An early Start opened the Insight on a minute still ahead of
		// the watermark.
		return
	}
	e.fold(s, m)
	if a.calm < 0 {
		a.calm++ // a minute an early Start was judged on (dropTests)
		return
	}
	normal := true
	if a.dir == Spike {
		for _, w := range spikeScales {
			if w > int64(a.scale) && w > 1 {
				break
			}
			from := m - w + 1
			if from < a.start {
				from = a.start
			}
			obs := s.counts.Sum(from, m)
			mu, v := s.kind.spikeWindow(e, from, m)
			if models.MayBeHigh(obs, mu, v) && models.UpperTail(obs, mu, v) < e.cfg.EndP {
				normal = false
				break
			}
		}
	} else if a.gap {
		normal = s.kind.(*callSeries).gapOver(e, a, m)
	} else {
		from := m - int64(a.scale) + 1
		obs := s.counts.Sum(from, m)
		mu, v := s.kind.dropWindow(e, from, m)
		if models.MayBeLow(obs, mu, v) && models.LowerTail(obs, mu, v) < e.cfg.EndP {
			normal = false
		}
	}
	if !normal {
		a.calm = 0
		s.attrs.heat(a.start, m+keepAttrs)
		return
	}
	a.calm++
	if a.calm < e.cfg.CoolDown {
		return
	}
	e.emitEnd(s)
	s.rearm = int32(m + 1)
	if a.dir == Drop {
		s.reg.removeDrop(s)
	}
	s.al = nil
}

func (e *Engine) emitStart(s *series, start int64, obs float64, minutes int, expected float64) {
	if s.al.dir == Drop && !s.al.gap {
		s.reg.addDrop(s) // its siblings are tested against it (sibling.go)
	}
	s.al.baseAvg, s.al.baseDur = s.baseline(start)
	in := e.insight(s, StateStart, start, minutes, obs)
	in.Expected = expected
	if s.al.dir == Spike {
		to := start + int64(minutes) - 1
		if id, calls, peak, ok := e.leader(s, to-9, to); ok {
			in.Leader, in.LeaderCalls, in.LeaderPeak = e.vals.strs[id], calls, peak
			in.LeaderAgent = e.vals.strs[s.reg.agent(id)]
		}
	}
	if cs, ok := s.kind.(*callSeries); ok && s.al.gap {
		in.Period = int(cs.rhythm.period)
	}
	e.out = append(e.out, in)
	e.stats.Started[s.id.typ]++
}

func (e *Engine) emitEnd(s *series) {
	a := s.al
	dur := int(a.end - a.start)
	if dur < 1 {
		dur = 1
	}
	in := e.insight(s, StateEnd, a.start, dur, a.sumAtEnd)
	in.Expected = a.expAtEnd / float64(dur)
	e.out = append(e.out, in)
	e.stats.Ended[s.id.typ]++
}

func (e *Engine) insight(s *series, st State, start int64, minutes int, obs float64) Insight {
	a := s.al
	n := 3
	if s.id.typ == APIErrorRate {
		n = 2
	}
	// The calls since the start: those folded, and those of the minutes
	// still open; an End's calls since its end are its cool-down's.
	t := tally{calls: obs, minutes: minutes, baseAvg: a.baseAvg, baseDur: a.baseDur}
	t.since = a.sum + s.counts.Sum(a.last+1, s.counts.Head())
	if st == StateEnd {
		t.after = t.since - obs
	}
	return Insight{
		Key:              e.key(s.id),
		State:            st,
		Start:            minuteTime(start),
		Duration:         minutes,
		BaselineAverage:  a.baseAvg,
		BaselineDuration: a.baseDur,
		InsightAverage:   obs / float64(minutes),
		Attributions:     s.attrs.build(e.vals, n, t),
		Emitted:          minuteTime(e.now()),
		Direction:        a.dir,
		Scale:            a.scale,
		PValue:           a.p,
	}
}
