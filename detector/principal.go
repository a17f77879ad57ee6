package detector

import (
	"math"

	"github.com/trailsight/trailsight/baseline"
)

// Routine bursts: automation (a CI role deploying, an autoscaler) makes
// bursts of calls across many APIs at random times. Per API such a burst
// can look unusual, above all on an API the automation rarely touches; per
// principal it is the principal's everyday behaviour. Each account-Region
// therefore also tracks the write calls of each of its principals, all APIs
// together, and the largest 10-minute burst each has made recently. A
// spike of an API whose calls come mostly from one principal starts an
// Insight only if that principal is doing more than it has done before:
// more than RoutineFactor times its recent peak. This is the detector's
// automatic version of the per-principal allow-lists users ask for
// (detection notes, "alert fatigue from automation"), and it is
// nonparametric on purpose: burst sizes (a deploy of 20 or of 100 calls)
// have tails no one-parameter count law fits. A new principal has no peak,
// so its bursts are never routine.
//
// A principal that acts for an AWS service (a stack's service role, a
// service-linked role: its calls carry userIdentity.invokedBy) has no
// behaviour of its own to learn: it does what it is asked. Its burst is
// routine when the account's known principals asked that service to act
// (onRequest), new or not: the request is what is judged.

// RoutineFactor is how far beyond its recent peak a principal's burst may
// go and still be routine: the peak of a few weeks is only a sample of its
// bursts, and the next one may well be somewhat larger.
const RoutineFactor = 2

// peakMemory is the decay time (minutes) of a principal's peak: bursts
// older than a few weeks are forgotten.
const peakMemory = 14 * 1440

// principalSeries counts one principal's write calls in one account and
// Region.
type principalSeries struct {
	counts baseline.Counts
	peak   float64 // largest recent 10-minute sum, decayed
	last   int64   // minute of the last peak update
	// agent is the interned name of the AWS service the principal last
	// acted for (userIdentity.invokedBy), 0 when it calls on its own.
	agent uint32
}

func (reg *region) principalSeries(id uint32) *principalSeries {
	if reg.actors == nil {
		reg.actors = map[uint32]*principalSeries{}
	}
	p := reg.actors[id]
	if p == nil {
		p = &principalSeries{}
		reg.actors[id] = p
	}
	return p
}

// learnPrincipals updates the principals' peaks, every ten minutes, with
// the 10-minute windows ending in the last ten closed minutes (up to t).
// routine compares a burst's sliding 10-minute sum with the peak, so the
// peak is a sliding maximum too: windows aligned to ten minutes split a
// burst that straddles a boundary, and took a principal's peak for as
// little as half of its bursts.
func (reg *region) learnPrincipals(t int64) {
	if t < reg.first || (t+1)%10 != 0 {
		return
	}
	for _, p := range reg.actors {
		if p.last != 0 {
			p.peak *= math.Exp(-float64(t-p.last) / peakMemory)
		}
		p.last = t
		w := p.counts.Sum(t-18, t-9)
		best := w
		for end := t - 8; end <= t; end++ {
			w += p.counts.Get(end) - p.counts.Get(end-10)
			best = max(best, w)
		}
		p.peak = max(p.peak, best)
	}
}

// routine reports whether the spike of s over [from, to] is explained by
// its leading principal's usual behaviour, or by a request to the service
// it acts for (workOnRequest). An explained window is excused.
func (e *Engine) routine(s *series, from, to int64) bool {
	id, calls, peak, ok := e.leader(s, from, to)
	if !ok {
		return false
	}
	if peak > 0 && calls <= RoutineFactor*peak || e.asked(s.reg, id, to) {
		e.excuse(s, from, to)
		return true
	}
	return false
}

// excuse records that the minutes [from, to] of s held a significant burst
// the routine rules explained: its minutes are learned by the series' own
// model (it is the series' normal), but not lent to the region's
// dispersion priors (callSeries.learn). One span per series: a window
// joins the recorded span while any of it is still to be learned (the
// minutes between are few, and lending them matters little), else it
// replaces it.
func (e *Engine) excuse(s *series, from, to int64) {
	r, ok := e.excused[s]
	if !ok || int64(r[1]) < e.closed-learnLag {
		r = [2]int32{int32(from), int32(to)}
	} else {
		r = [2]int32{min(r[0], int32(from)), max(r[1], int32(to))}
	}
	e.excused[s] = r
}

// excusedIn reports whether any minute of [from, to] of s was part of an
// excused burst.
func (e *Engine) excusedIn(s *series, from, to int64) bool {
	r, ok := e.excused[s]
	return ok && to >= int64(r[0]) && from <= int64(r[1])
}

// forgetExcused drops the excused bursts the model has learned past (its
// minutes are learned learnLag after they close).
func (e *Engine) forgetExcused(closed int64) {
	for s, r := range e.excused {
		if int64(r[1]) < closed-learnLag {
			delete(e.excused, s)
		}
	}
}

// agent returns the interned name of the AWS service the principal id
// acts for in reg (0: it calls on its own, or reg has no calls of it).
func (reg *region) agent(id uint32) uint32 {
	if p := reg.actors[id]; p != nil {
		return p.agent
	}
	return 0
}

// asked reports whether the principal id acts for an AWS service that
// reg's account asked to act by minute to (onRequest).
func (e *Engine) asked(reg *region, id uint32, to int64) bool {
	a := reg.agent(id)
	return a != 0 && e.onRequest(reg.account, a, to)
}

// actsForService reports whether the leading principal of the spike of s
// over [from, to] acts for an AWS service. Such a spike does not start on
// a single call (early, per event): a log file's records come in no
// particular order (CloudTrail does not sort them), so the request that
// explains the service's work may be further on in the same file. The
// windowed tests, run once the file or message is in (earlyWindows), judge
// it with the request seen.
func (e *Engine) actsForService(s *series, from, to int64) bool {
	id, _, _, ok := e.leader(s, from, to)
	return ok && s.reg.agent(id) != 0
}

// workOnRequest reports whether the leading principal of the unusual calls
// of s over [from, to] acts for an AWS service that the account's known
// principals asked to act; if so, the burst is excused.
func (e *Engine) workOnRequest(s *series, from, to int64) bool {
	id, _, _, ok := e.leader(s, from, to)
	if !ok || !e.asked(s.reg, id, to) {
		return false
	}
	e.excuse(s, from, to)
	return true
}

// requestWindow is how long (minutes) the work an AWS service does on the
// account's behalf may follow the request that asked for it: a stack
// update or a rolling deployment takes minutes to an hour. The novelty
// ring, which tells who made the requests, holds 64 minutes.
const requestWindow = 60

// onRequest reports whether the AWS service agent (the interned name in a
// userIdentity.invokedBy) was asked to act in account, in the last
// requestWindow minutes to minute to, by write calls to it, none of them by
// a principal new to the account. Calls a service makes on the account's
// behalf (a stack's service role for CloudFormation, ECS's service-linked
// role registering a deployment's tasks, CodeDeploy's role swapping
// targets) are the work of such a request, not of a principal of its own:
// a deploy role's routine release makes CloudFormation touch whatever the
// template holds, however rarely those APIs are called otherwise. The
// request decides whether it is unusual: made by a principal new to the
// account it is no excuse, and its own API is judged as any other. (The
// request may be recorded in another Region than the work: IAM's calls
// are recorded in us-east-1 whatever the stack's Region.)
func (e *Engine) onRequest(account string, agent uint32, to int64) bool {
	asked := false
	for _, r := range e.byAccount[account] {
		for _, c := range r.calls {
			if c.id.source != agent || c.counts.Sum(to-requestWindow+1, to) == 0 {
				continue
			}
			if n := e.novel[&c.series]; n != nil && n.sum(to-requestWindow+1, to) > 0 {
				return false
			}
			asked = true
		}
	}
	return asked
}

// leader returns the principal (its interned id) that made most of the
// unusual calls of a call-rate series s (at least half of them), its write
// calls in the 10 minutes ending at to (within [from, to]; all APIs) and
// its recent peak (0 for a principal with none). ok is false when no
// principal leads.
func (e *Engine) leader(s *series, from, to int64) (id uint32, calls, peak float64, ok bool) {
	h := s.attrs.hot
	if h == nil || s.id.typ != APICallRate {
		return 0, 0, 0, false
	}
	// The calls by principal: the sessions of a role (one per instance of
	// a fleet, say) are the role, as in learnPrincipals, so a fleet's
	// agents lead together.
	by := map[uint32]float64{}
	var sum float64
	for v, n := range h.vals[0] {
		sum += n
		by[e.vals.id(principal(e.vals.strs[v]))] += n
	}
	var top uint32
	var topN float64
	for v, n := range by {
		if n > topN || (n == topN && v < top) {
			top, topN = v, n
		}
	}
	if sum == 0 || topN < sum/2 {
		return 0, 0, 0, false // no leading principal
	}
	p := s.reg.actors[top]
	if p == nil {
		return top, 0, 0, true
	}
	// The principal's calls in the 10 minutes ending at to, all APIs.
	return top, p.counts.Sum(max(from, to-9), to), p.peak, true
}
