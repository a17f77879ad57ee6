package detector

import "path"

// Quiet principals (Config.QuietPrincipals) are the automation a user
// names: its bursts start no spike Insight. The routine-burst rule
// (principal.go) learns the same from a principal's history; the list is
// for what history cannot say (a CI role whose next release is ten times
// the last) and for principals new to the account that the user expects.

// quiet reports whether the unusual calls (or errors) counted in h, from
// the series' first unusual minute on, come mostly (over half) from
// principals that match a quiet pattern. A pattern is matched against the
// userIdentity ARN as the attributions show it (an assumed role's session
// ARN) and against the principal it stands for (the role).
func (e *Engine) quiet(h *hotAttrs) bool {
	if len(e.cfg.QuietPrincipals) == 0 || h == nil {
		return false
	}
	var sum, q float64
	for v, n := range h.vals[0] {
		sum += n
		if e.quietARN(e.vals.strs[v]) {
			q += n
		}
	}
	return sum > 0 && q > sum/2
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
