package detector

import (
	"path"

	"github.com/trailsight/trailsight/models"
)

// Quiet principals (Config.QuietPrincipals) are the automation a user
// names: its calls are no evidence of a spike. The routine-burst rule
// (principal.go) learns something like it from a principal's history; the
// list is for what history cannot say (a CI role whose next release is ten
// times the last) and for principals new to the account that the user
// expects.
//
// A spike is judged on the calls of everyone else: the count of its window
// less the share of the series' unusual calls (counted since it first
// looked unusual) that quiet principals made. A deploy alone starts
// nothing; someone else's burst during a deploy is judged on its own calls
// rather than hidden by the deploy's.

// quietShare returns the share of the unusual calls (or errors) counted in
// h, from the series' first unusual minute on, that principals matching a
// quiet pattern made, among those that only passes (all of them, for
// nil). A pattern is matched against the userIdentity ARN as the
// attributions show it (an assumed role's session ARN) and against the
// principal it stands for (the role).
func (e *Engine) quietShare(h *hotAttrs, only func(arn string) bool) float64 {
	if len(e.cfg.QuietPrincipals) == 0 || h == nil {
		return 0
	}
	var sum, q float64
	for v, n := range h.vals[0] {
		arn := e.vals.strs[v]
		if only != nil && !only(arn) {
			continue
		}
		sum += n
		if e.quietARN(arn) {
			q += n
		}
	}
	if sum == 0 {
		return 0
	}
	return q / sum
}

func (e *Engine) quietARN(arn string) bool {
	role := principal(arn)
	for _, pat := range e.cfg.QuietPrincipals {
		// Validate checked the patterns: Match cannot fail.
		if ok, _ := path.Match(pat, arn); ok {
			return true
		}
		if role != arn {
			if ok, _ := path.Match(pat, role); ok {
				return true
			}
		}
	}
	return false
}

// loudEnough reports whether a window of obs calls whose tail probability
// passed threshold still does without the quiet principals' share of them.
// For the novelty test (novel), obs counts the calls of new principals
// only, and so does the share.
func (e *Engine) loudEnough(s *series, obs, mu, v, threshold float64, novel bool) bool {
	if len(e.cfg.QuietPrincipals) == 0 {
		return true
	}
	var only func(string) bool
	if novel {
		only = func(arn string) bool { return e.isNew(s.reg, arn) }
	}
	share := e.quietShare(s.attrs.hot, only)
	if share == 0 {
		return true
	}
	obs *= 1 - share
	return obs >= float64(e.cfg.MinCount) && models.MayBeHigh(obs, mu, v) && models.UpperTail(obs, mu, v) < threshold
}
