package detector

// Drops of one client's calls come together: an agent, an SDK client or a
// service integration that stops makes every API it calls go quiet at the
// same minute. A drop found on one API of a service is strong evidence for
// the same drop on the other APIs of that service in the account and
// Region, and their own silence, too short or too sparse to stand on its
// own, need only confirm it. Each sibling is one hypothesis per open drop,
// tested as its window grows, not a search over every window of every day,
// so it is held to siblingP, not to start_p: a threshold that low on every
// window of every series would cost false Starts by the thousand.
//
// A confirmed sibling is a drop like any other and confirms others in turn:
// a restored Engine cannot tell them apart (the snapshot does not say
// which drop was confirmed how), and it must go on as the original did.

// siblingP is the tail probability below which a sibling's silence since
// an open drop's start confirms it: suspectP, the level at which a series
// is already watched closely.
const siblingP = suspectP

// SiblingP is siblingP, for explanations.
const SiblingP = siblingP

// Sibling windows: at least minSiblingWindow minutes of evidence, and no
// longer tested than maxSiblingWindow after the open drop's start: a
// sibling that has not dropped by then has not dropped with it, and the
// minute ring (baseline.MinutesKept) holds little more.
const (
	minSiblingWindow = 10
	maxSiblingWindow = 120
)

// addDrop registers s, whose drop Insight just opened (emitStart; Restore
// for open ones), with its account and Region.
func (r *region) addDrop(s *series) { r.drops = append(r.drops, s) }

// removeDrop forgets s once its Insight has ended.
func (r *region) removeDrop(s *series) {
	for i, o := range r.drops {
		if o == s {
			last := len(r.drops) - 1
			r.drops[i] = r.drops[last]
			r.drops[last] = nil
			r.drops = r.drops[:last]
			return
		}
	}
}

// testSiblings tests minute m of series s, a call series with no open
// Insight, against the open drops of the other APIs of its service: the
// window from a drop's start to m. Of several such drops, the strongest
// evidence counts (the order they opened in must not matter: a restored
// Engine lists them in another order). It reports whether it started an
// Insight.
func (e *Engine) testSiblings(s *series, m int64) bool {
	bestP, bestW := 1.0, int64(0)
	var by *series
	for _, o := range s.reg.drops {
		if o == s || o.id.source != s.id.source {
			continue
		}
		from := max(o.al.start, int64(s.rearm))
		w := m - from + 1
		if w < minSiblingWindow || m-o.al.start >= maxSiblingWindow || s.reg.lastGap >= from {
			continue
		}
		mu, v := s.kind.dropWindow(e, from, m)
		if mu < minDropExpected {
			continue
		}
		p := lowTail(s.counts.Sum(from, m), mu, v)
		// Ties (drops that began at the same minute) go to the longer
		// window, then to the first API name: never to the list order.
		if p < bestP || p == bestP && (w > bestW || w == bestW && e.vals.strs[o.id.name] < e.vals.strs[by.id.name]) {
			bestP, bestW, by = p, w, o
		}
	}
	if bestP < suspectP {
		s.attrs.heat(m-bestW+1, m+keepAttrs)
	}
	if bestP >= siblingP {
		return false
	}
	e.startWith(s, Drop, bestW, m, func(int64) float64 { return siblingP })
	// startWith emitted the Start last.
	e.out[len(e.out)-1].SiblingOf = e.vals.strs[by.id.name]
	return true
}
