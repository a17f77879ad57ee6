package detector

import (
	"strings"

	"github.com/trailsight/trailsight/baseline"
	"github.com/trailsight/trailsight/models"
)

// Novelty: most of an account's write calls come from a few principals
// (automation roles, CI, a handful of people). Calls to an API by a
// principal the account has not seen before are the signature of the
// incidents users most want to hear of (a new key's owner creating users,
// a stolen role provisioning), and they are rare: their expected count is
// the API's expected count times the account's share of calls by new
// principals. An API whose calls by new principals exceed that starts an
// ApiCallRateInsight even when its total calls, bursty by nature, do not.
// Deploy bursts by the usual CI role stay quiet however large.

// noveltyMinutes is how long a principal counts as new after its first
// call in an account (any Region, any call).
const noveltyMinutes = 24 * 60

// principal returns the identity an attribution value stands for: an
// assumed-role session ARN (arn:aws:sts::acct:assumed-role/Role/session)
// is the role, since every session of a role has its own ARN.
func principal(arn string) string {
	const marker = ":assumed-role/"
	i := strings.Index(arn, marker)
	if i < 0 {
		return arn
	}
	if j := strings.IndexByte(arn[i+len(marker):], '/'); j >= 0 {
		return arn[:i+len(marker)+j]
	}
	return arn
}

// novelRing counts one series' calls by new principals over the last
// minutes.
type novelRing struct {
	c    [64]uint16
	head int64
}

func (r *novelRing) add(m int64) {
	if m > r.head {
		for t := max(r.head+1, m-63); t <= m; t++ {
			r.c[t&63] = 0
		}
		r.head = m
	}
	if m > r.head-64 {
		r.c[m&63] = baseline.Sat16(int(r.c[m&63]) + 1)
	}
}

func (r *novelRing) sum(from, to int64) float64 {
	s := 0.0
	for m := max(from, r.head-63); m <= min(to, r.head); m++ {
		s += float64(r.c[m&63])
	}
	return s
}

// first returns the first minute in [from, to] with a call, or to.
func (r *novelRing) first(from, to int64) int64 {
	for m := max(from, r.head-63); m <= min(to, r.head); m++ {
		if r.c[m&63] > 0 {
			return m
		}
	}
	return to
}

// account holds what is known of an account across its Regions: IAM
// identities are global, so a role seen in one Region during the warm-up is
// no newcomer in another.
type account struct {
	first      int64            // first minute the account was seen
	principals map[uint32]int32 // principal -> first minute seen (any call)
}

// seePrincipal records a call by a principal (interned id) and returns the
// minute the principal was first seen in the account.
func (e *Engine) seePrincipal(acct string, id uint32, m int64) int64 {
	a := e.accounts[acct]
	if a == nil {
		a = &account{first: m, principals: map[uint32]int32{}}
		e.accounts[acct] = a
	}
	if m < a.first {
		a.first = m
	}
	first, ok := a.principals[id]
	if !ok || int32(m) < first {
		first = int32(m)
		a.principals[id] = first
	}
	return int64(first)
}

// observeNovelty records a write call to s by the principal id, first seen
// at minute first, and counts it as novel when the principal is new to the
// account.
func (e *Engine) observeNovelty(reg *region, s *series, id, agent uint32, first, m int64) {
	p := reg.principalSeries(id)
	p.counts.Add(m, 1)
	p.agent = agent
	if !e.warm(reg, m) {
		return
	}
	reg.writes++
	if !e.newAt(e.accounts[reg.account], first, m) {
		return
	}
	// A service role new to the account, acting on a request (the first
	// CodeDeploy deployment of an account), is no new actor: the request's
	// principal is, and its calls are judged as such.
	if agent != 0 && e.onRequest(reg.account, agent, m) {
		return
	}
	reg.novelWrites++
	r := e.novel[s]
	if r == nil {
		r = &novelRing{}
		e.novel[s] = r
	}
	r.add(m)
}

// newAt reports whether a principal of account a first seen at minute
// first is new at minute m: first seen after the account's warm-up (not
// during it) and less than noveltyMinutes before m.
func (e *Engine) newAt(a *account, first, m int64) bool {
	return first-a.first >= e.warmUp && m-first < noveltyMinutes
}

// isNew reports whether arn's principal is new to reg's account now, the
// newest minute the Engine has seen (as observeNovelty counts it).
func (e *Engine) isNew(reg *region, arn string) bool {
	a := e.accounts[reg.account]
	if a == nil {
		return false
	}
	id, ok := e.vals.ids[principal(arn)]
	if !ok {
		return false
	}
	first, ok := a.principals[id]
	return ok && e.newAt(a, int64(first), e.maxMinute)
}

// novelShare is the account-Region's share of write calls by new
// principals, with a prior of half a call in a hundred.
func (reg *region) novelShare() float64 {
	return (reg.novelWrites + 0.5) / (reg.writes + 100)
}

// noveltyScales are the windows of the novelty test: a new principal may
// act in a quick burst or one call a minute for a quarter of an hour.
var noveltyScales = [...]int64{10, 30}

// testNovelty runs the novelty tests on the windows ending at m and starts
// an Insight on strong evidence. It reports whether it did.
func (e *Engine) testNovelty(s *series, m int64) bool {
	if e.novel[s] == nil {
		return false
	}
	for _, w := range noveltyScales {
		if e.testNoveltyWindow(s, w, m) {
			return true
		}
	}
	return false
}

// noveltyLaw returns the expectation and variance of the calls by new
// principals to s over [from, to]: the series' own, times the
// account-Region's share of calls by new principals.
func (e *Engine) noveltyLaw(s *series, from, to int64) (mean, variance float64) {
	mu, v := s.kind.spikeWindow(e, from, to)
	q := s.reg.novelShare()
	return mu * q, v * q
}

func (e *Engine) testNoveltyWindow(s *series, w, m int64) bool {
	r := e.novel[s]
	from := max(m-w+1, int64(s.rearm))
	obs := r.sum(from, m)
	if obs < float64(e.cfg.MinCount) {
		return false
	}
	mu, v := e.noveltyLaw(s, from, m)
	if !models.MayBeHigh(obs, mu, v) {
		return false
	}
	p := models.UpperTail(obs, mu, v)
	var by *series
	threshold := e.alpha(m - from + 1)
	if p >= threshold {
		if p >= companionP {
			return false
		}
		if by = e.companion(s, m); by == nil {
			return false
		}
		threshold = companionP
	}
	if !e.loudEnough(s, obs, mu, v, threshold, true) {
		return false
	}
	// Calls counted as a new principal's as they came may be a service
	// role's work whose request was further on in the same file (records
	// come in no order): judged with the whole file in, they are no new
	// actor's (observeNovelty).
	if e.workOnRequest(s, from, m) {
		return false
	}
	start := r.first(from, m)
	s.attrs.heat(start, m+keepAttrs)
	s.al = &alarm{dir: Spike, start: start, scale: int(m - from + 1), p: p, last: start - 1}
	for t := start; t <= min(m, e.closed); t++ {
		e.fold(s, t)
	}
	exp, _ := s.kind.spikeWindow(e, start, m)
	e.emitStart(s, start, s.counts.Sum(start, m), int(m-start+1), exp/float64(m-start+1))
	// emitStart emitted the Start last.
	in := &e.out[len(e.out)-1]
	in.Novel = true
	if by != nil {
		in.CompanionOf = e.vals.strs[by.id.name]
	}
	return true
}

// forgetNovelty drops the novelty counts of series that have had no call by
// a new principal for an hour.
func (e *Engine) forgetNovelty(m int64) {
	for s, r := range e.novel {
		if r.head < m-60 && s.al == nil {
			delete(e.novel, s)
		}
	}
}
