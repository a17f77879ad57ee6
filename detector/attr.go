package detector

import (
	"cmp"
	"math"
	"slices"
	"strings"

	"github.com/trailsight/trailsight/cloudtrail"
)

// sketchSize is how many values per attribute a series remembers for its
// baseline attributions: the record lists at most 5 (spec §2.4). (Six
// would keep a newcomer from evicting a regular a little longer, but
// would push a series past the 896-byte allocation class.)
const sketchSize = 5

// sketchTau is the decay time (minutes) of the baseline attribution counts:
// the §2.6 window is about a week.
const sketchTau = 10080

// sketchEntry is 8 bytes: values are interned per Engine (principals and
// user agents are few next to the series that share them).
type sketchEntry struct {
	value uint32 // index into the Engine's value table; 0 = empty
	count float32
}

// sketch keeps the heavy hitters of one attribute with exponentially
// decayed counts (space-saving: a newcomer replaces the smallest entry and
// inherits its count, so counts are over- rather than under-estimates).
type sketch struct {
	e [sketchSize]sketchEntry
}

func (s *sketch) add(v uint32, n float32) {
	min := 0
	for i := range s.e {
		switch s.e[i].value {
		case v:
			s.e[i].count += n
			return
		case 0:
			s.e[i] = sketchEntry{v, n}
			return
		}
		if s.e[i].count < s.e[min].count {
			min = i
		}
	}
	s.e[min] = sketchEntry{v, s.e[min].count + n}
}

func (s *sketch) decay(f float32) {
	for i := range s.e {
		s.e[i].count *= f
	}
}

// attrs is the attribution state of one series: a sketch per attribute for
// the baseline, and while the series is hot, exact counts for the Insight.
// The minute the sketches were last decayed to is the series' decayed
// field: here, it would pad attrs by 4 bytes and push a call series past
// its Go size class (BenchmarkMemoryPerSeries).
type attrs struct {
	base [3]sketch
	hot  *hotAttrs
}

// hotAttrs counts values exactly from the minute a series became
// suspicious until its Insight ends or it calms down.
type hotAttrs struct {
	since int64
	calm  int64 // minute after which an idle hot state is dropped
	vals  [3]map[uint32]float64
}

// values interns the strings of one Engine's state: key parts,
// principals, agents and attribution values (compact.go drops those no
// longer used).
type values struct {
	ids  map[string]uint32
	strs []string
	// compactFrom is the table size from which compactValues compacts;
	// tests set it, below zero to never compact.
	compactFrom int
	// inUse is how many values were in use at the last pass that counted
	// them (0: none yet): no pass is due before the table is twice that.
	inUse int
}

func newValues() *values {
	return &values{ids: map[string]uint32{}, strs: []string{""}, compactFrom: minCompactValues}
}

func (v *values) id(s string) uint32 {
	if id, ok := v.ids[s]; ok {
		return id
	}
	id := uint32(len(v.strs))
	v.strs = append(v.strs, s)
	v.ids[s] = id
	return id
}

// observeAttrs counts n calls in minute with attribute values vals.
func (s *series) observeAttrs(minute int64, vals *[3]uint32, n int) {
	a := &s.attrs
	if minute > int64(s.decayed) {
		if s.decayed != 0 {
			f := float32(math.Exp(-float64(minute-int64(s.decayed)) / sketchTau))
			for i := range a.base {
				a.base[i].decay(f)
			}
		}
		s.decayed = int32(minute)
	}
	for i, v := range vals {
		if v != 0 {
			a.base[i].add(v, float32(n))
		}
	}
	if h := a.hot; h != nil && minute >= h.since {
		for i, v := range vals {
			if v != 0 {
				h.vals[i][v] += float64(n)
			}
		}
	}
}

func (a *attrs) heat(since, until int64) {
	if a.hot == nil {
		a.hot = &hotAttrs{since: since}
		for i := range a.hot.vals {
			a.hot.vals[i] = map[uint32]float64{}
		}
	}
	// A call of an earlier minute may come after a later one (log files
	// are not sorted, and records arrive late): the hot state then counts
	// from the earliest unusual minute.
	if since < a.hot.since {
		a.hot.since = since
	}
	if until > a.hot.calm {
		a.hot.calm = until
	}
}

// attrNames are the attribution names in wire order.
var attrNames = [3]string{cloudtrail.AttrUserIdentityARN, cloudtrail.AttrUserAgent, cloudtrail.AttrErrorCode}

// build returns the attributions of an Insight: n attributes (3 for call
// rate, 2 for error rate), each value's calls as a whole number over the
// minutes of its side, as AWS's records are (spec §2.3: every AWS average
// times its duration is a whole number of calls).
//
// The insight side shares the Insight's calls among the values of the hot
// counts, in their proportions: exact when the series was hot for exactly
// the Insight's minutes. It is hot from the first unusual call on, so the
// counts may lack the Insight's first calls (taken to be made as the rest
// were), and hold calls from before its change point or from its
// cool-down: those are ordinary calls, taken to be made as the baseline's
// were (as the counted ones were, on a series without a baseline of its
// own), and taken out before sharing. A drop is only suspected once some
// of its minutes are past: if none of its calls were counted, none are
// listed.
//
// The baseline side shares the window's calls (baseAvg × baseDur) among
// the sketch's values, in proportion to their decayed counts less their
// calls since the window ended (the Insight's start). Space-saving keeps
// the sum of its counts equal to all it was given, so while a series has
// had at most five values the shares are its values' (week-weighted)
// shares and the list adds up to baseline.average, a lone "null" error code
// to the statistic itself (spec §2.4). A series with more values than the
// sketch keeps lists its five heaviest with what the values they displaced
// left them.
func (a *attrs) build(vals *values, n int, t tally) []cloudtrail.Attribution {
	out := make([]cloudtrail.Attribution, n)
	total, since := t.calls, t.since
	baseCalls := t.baseAvg * float64(t.baseDur)
	for i := 0; i < n; i++ {
		out[i].Attribute = attrNames[i]
		hot := map[uint32]float64(nil)
		if a.hot != nil {
			hot = a.hot.vals[i]
		}
		counted := 0.0
		for _, c := range hot {
			counted += c
		}
		// The mix of ordinary calls: the baseline's, the sketch without
		// the hot calls.
		mix := map[uint32]float64{}
		mixSum := 0.0
		for _, e := range a.base[i].e {
			if w := float64(e.count) - hot[e.value]; e.value != 0 && w > 0 {
				mix[e.value] = w
				mixSum += w
			}
		}
		if mixSum > 0 {
			for v := range mix {
				mix[v] /= mixSum
			}
		} else if counted > 0 {
			// No baseline of its own: ordinary calls are made as the
			// counted ones were.
			for v, c := range hot {
				mix[v] = c / counted
			}
		}
		before := max(0, counted-since) // counted before the start
		after := max(0, t.after)        // since the end
		// sinceOf scales a value's hot calls less those before the start
		// to all its calls since the start.
		sinceOf := 0.0
		if counted > before {
			sinceOf = since / (counted - before)
		}
		// The Insight's values, unless none of the counted calls is its
		// own (a drop whose counting began in its cool-down).
		var in, base []share
		if counted-before-after >= 0.5 {
			for v, c := range hot {
				in = append(in, share{vals.strs[v], c - (before+after)*mix[v]})
			}
		}
		for _, e := range a.base[i].e {
			if e.value != 0 {
				base = append(base, share{vals.strs[e.value], float64(e.count) - (hot[e.value]-before*mix[e.value])*sinceOf})
			}
		}
		out[i].Insight = averages(apportion(in, total), t.minutes)
		out[i].Baseline = averages(apportion(base, baseCalls), t.baseDur)
	}
	return out
}

// tally is what a record says of an Insight's calls, for its attributions.
type tally struct {
	calls   float64 // the Insight's calls
	minutes int     // its duration
	since   float64 // calls from its start to now
	after   float64 // calls since its end (an End's cool-down), none for a Start
	baseAvg float64 // baseline.average
	baseDur int     // baselineDuration
}

// share is an attribution value and its weight, then its calls.
type share struct {
	value string
	w     float64
}

// apportion shares calls (rounded to whole calls) among the values in
// proportion to their positive weights, by largest remainder, so that the
// shares add up to calls exactly; ties go to the heavier weight, then to
// the smaller value, so that a restored Engine writes the same record.
func apportion(s []share, calls float64) []share {
	calls = math.Round(calls)
	s = slices.DeleteFunc(s, func(x share) bool { return !(x.w > 0) })
	// Sorted before summing too: a float sum depends on its order, and
	// the values may come from a map.
	slices.SortFunc(s, func(a, b share) int {
		if c := cmp.Compare(b.w, a.w); c != 0 {
			return c
		}
		return strings.Compare(a.value, b.value)
	})
	total := 0.0
	for _, x := range s {
		total += x.w
	}
	if calls <= 0 || total <= 0 {
		return nil
	}
	rem := make([]float64, len(s))
	given := 0.0
	for k := range s {
		q := s[k].w / total * calls
		s[k].w = math.Floor(q)
		rem[k] = q - s[k].w
		given += s[k].w
	}
	idx := make([]int, len(s))
	for k := range idx {
		idx[k] = k
	}
	// Stable: equal remainders keep the weight order above.
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(rem[b], rem[a]) })
	for _, k := range idx[:min(int(calls-given), len(idx))] {
		s[k].w++
	}
	return s
}

// averages turns calls into the record's values: calls over minutes, the
// top five (spec §2.4), never a value with no calls; an empty list, not
// nil, for the wire's [].
func averages(s []share, minutes int) []cloudtrail.AttributionValue {
	out := []cloudtrail.AttributionValue{}
	if minutes < 1 {
		return out
	}
	for _, x := range s {
		if x.w > 0 {
			out = append(out, cloudtrail.AttributionValue{Value: x.value, Average: x.w / float64(minutes)})
		}
	}
	return cloudtrail.SortAttributionValues(out)
}
