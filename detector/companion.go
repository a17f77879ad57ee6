package detector

// Companions: an incident by a new principal (a stolen key creating users,
// attaching policies, adding inline policies) spans several APIs in the
// same minutes. On an API nobody calls, its first calls stand out at once;
// on an API that deploys also burst on (PutRolePolicy by CloudFormation),
// the novelty test inherits that burstiness, and ten calls by a newcomer
// are "a cluster, by a newcomer": rare, but not rare enough for start_p.
// Once one API's Insight holds calls by new principals, the new
// principals' calls to the other APIs of that account and Region are a
// hypothesis of their own ("is this the same incident?"), tested only
// while that Insight is open: one test per API per incident, not a search
// over every window of every series, so it is held to companionP, as a
// sibling drop is to siblingP (sibling.go).
//
// Everything the rule reads (novelty rings, open Insights) is in the
// snapshot, and of several open Insights the first API name is named, so a
// restored Engine decides as the original did.

// companionP is the tail probability below which calls by new principals
// confirm another API's open Insight of new principals' calls: suspectP,
// the level at which a series is already watched closely.
const companionP = suspectP

// CompanionP is companionP, for explanations.
const CompanionP = companionP

// companion returns another call series of s's account and Region whose
// open spike Insight holds at least min_count calls by new principals
// since it started, or nil.
func (e *Engine) companion(s *series, m int64) *series {
	var by *series
	for o, r := range e.novel {
		if o == s || o.reg != s.reg || o.al == nil || o.al.dir != Spike {
			continue
		}
		if r.sum(o.al.start, m) < float64(e.cfg.MinCount) {
			continue
		}
		if by == nil || e.namedBefore(o, by) {
			by = o
		}
	}
	return by
}

// Leader companions: a principal's incident spans several APIs too when the
// principal is known (a CI role or an operator provisioning at scale:
// RunInstances and the CreateTags of its tag specifications, CreateVolume
// and AttachVolume), and on a rare API each of them reaches start_p in its
// own time, minutes apart. Once one API's spike Insight is open and one
// principal leads it, that principal leading a spike on another API of the
// account and Region is the same hypothesis as above ("is this the same
// incident?"), held to companionP. The routine rules still excuse it (a
// principal's usual peak, a request), and it reads only what the snapshot
// holds (hot attributions, open Insights).

// leaderCompanion returns another call series of s's account and Region
// with an open spike Insight led by the principal that leads s's unusual
// calls, or nil. Of several, the first by API name is named, as companion
// names it.
func (e *Engine) leaderCompanion(s *series, from, m int64) *series {
	var by *series
	var id uint32
	led := 0 // s's leader: 0 not yet looked for, 1 found, -1 none
	for _, cs := range s.reg.calls {
		o := &cs.series
		if o == s || o.al == nil || o.al.dir != Spike {
			continue
		}
		// Most suspect windows have no open spike beside them: s's
		// leader is looked for only once one is.
		if led == 0 {
			led = -1
			if lid, _, _, ok := e.leader(s, from, m); ok {
				id, led = lid, 1
			}
		}
		if led < 0 {
			return nil
		}
		if lid, _, _, ok := e.leader(o, o.al.start, m); !ok || lid != id {
			continue
		}
		if by == nil || e.namedBefore(o, by) {
			by = o
		}
	}
	return by
}

// namedBefore reports whether series a comes before b by API name, then
// eventSource: of several open Insights a companion names the first, so a
// restored Engine names the one the original did.
func (e *Engine) namedBefore(a, b *series) bool {
	na, nb := e.vals.strs[a.id.name], e.vals.strs[b.id.name]
	return na < nb || a.id.name == b.id.name && e.vals.strs[a.id.source] < e.vals.strs[b.id.source]
}
