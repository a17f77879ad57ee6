package detector

import (
	"math"

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

// values interns attribution values for one Engine.
type values struct {
	ids  map[string]uint32
	strs []string
}

func newValues() *values { return &values{ids: map[string]uint32{}, strs: []string{""}} }

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
// rate, 2 for error rate); insight averages from the hot counts scaled to
// total calls over duration minutes; baseline averages from the sketches
// over baseMinutes of history.
// The sketch's values are rescaled, when needed, so that they add up to no
// more than baseAvg, the baseline statistic itself: the sketch decays over a
// week and may still hold calls of the Insight's first minutes, while the
// record must stay consistent (no attribution above its total).
func (a *attrs) build(vals *values, n int, total float64, duration int, baseMinutes, baseAvg float64) []cloudtrail.Attribution {
	out := make([]cloudtrail.Attribution, n)
	tauEff := sketchTau * (1 - math.Exp(-baseMinutes/sketchTau))
	for i := 0; i < n; i++ {
		out[i].Attribute = attrNames[i]
		out[i].Insight = []cloudtrail.AttributionValue{}
		out[i].Baseline = []cloudtrail.AttributionValue{}
		hot := map[uint32]float64(nil)
		if a.hot != nil {
			hot = a.hot.vals[i]
			sum := 0.0
			for _, c := range hot {
				sum += c
			}
			// An Insight without calls (a drop to zero) lists no values:
			// the calls counted were before it.
			for v, c := range hot {
				if c > 0 && sum > 0 && duration > 0 && total > 0 {
					out[i].Insight = append(out[i].Insight, cloudtrail.AttributionValue{Value: vals.strs[v], Average: c * total / sum / float64(duration)})
				}
			}
		}
		for _, e := range a.base[i].e {
			if e.value == 0 {
				continue
			}
			// The sketch also counted the Insight's own calls; they are
			// not part of the baseline.
			c := float64(e.count) - hot[e.value]
			if c > 0.5 && tauEff > 0 {
				out[i].Baseline = append(out[i].Baseline, cloudtrail.AttributionValue{Value: vals.strs[e.value], Average: c / tauEff})
			}
		}
		sum := 0.0
		for _, v := range out[i].Baseline {
			sum += v.Average
		}
		if sum > baseAvg {
			kept := out[i].Baseline[:0]
			for _, v := range out[i].Baseline {
				v.Average *= baseAvg / sum
				if v.Average > 0 {
					kept = append(kept, v)
				}
			}
			out[i].Baseline = kept
		}
		out[i].Insight = cloudtrail.SortAttributionValues(out[i].Insight)
		out[i].Baseline = cloudtrail.SortAttributionValues(out[i].Baseline)
	}
	return out
}
