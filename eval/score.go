package eval

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/trailsight/trailsight/cloudtrail"
)

// Truth gives a dataset's true counts, to check the statistics Insights
// report. Count returns the calls (call rate) or the errors with errorCode
// (error rate) of one API in [from, to), and how many minutes of that range
// the dataset covers.
type Truth interface {
	Count(account, region, source, name, errorCode string, insightType string, from, to time.Time) (count float64, minutes int)
}

// DefaultTolerance is the Options.Tolerance used when none is set.
const DefaultTolerance = 30 * time.Minute

// Options tune Score.
type Options struct {
	// Tolerance widens every label window on both sides: an Insight
	// matches a label of the same key when its [start, end) overlaps
	// [label.Start-Tolerance, label.End+Tolerance). Zero means
	// DefaultTolerance.
	Tolerance time.Duration
	// SeriesDays is the number of series-days evaluated, the denominator
	// of the false Start rate. Zero leaves that rate at 0.
	SeriesDays float64
	// End is the end of the dataset: an Insight with a Start record and no
	// End record is open until End. Zero means the latest time found in
	// the labels and records.
	End time.Time
}

// Key identifies the series an Insight is about: account, Region, API,
// Insight type and, for error rate only, the error code.
type Key struct {
	Account     string `json:"account"`
	Region      string `json:"region"`
	EventSource string `json:"event_source"`
	EventName   string `json:"event_name"`
	InsightType string `json:"insight_type"`
	ErrorCode   string `json:"error_code,omitempty"`
}

func (k Key) String() string {
	s := k.Account + "/" + k.Region + "/" + k.EventSource + "/" + k.EventName + "/" + k.InsightType
	if k.ErrorCode != "" {
		s += "/" + k.ErrorCode
	}
	return s
}

// RecordKey returns the series an Insights record is about.
func RecordKey(r *cloudtrail.InsightRecord) Key {
	k := Key{
		Account:     r.RecipientAccountID,
		Region:      r.AWSRegion,
		EventSource: r.EventSource,
		EventName:   r.EventName,
		InsightType: r.InsightType,
	}
	if r.InsightType == cloudtrail.APIErrorRateInsight {
		k.ErrorCode = r.ErrorCode
	}
	return k
}

// covers reports whether the label is about series k. An empty label field
// matches anything, so a trap that names only an account and Region covers
// every series there.
func (l *Label) covers(k Key) bool {
	eq := func(want, got string) bool { return want == "" || want == got }
	return eq(l.Account, k.Account) && eq(l.Region, k.Region) &&
		eq(l.EventSource, k.EventSource) && eq(l.EventName, k.EventName) &&
		eq(l.Type, k.InsightType) && eq(l.ErrorCode, k.ErrorCode)
}

func (l *Label) matches(in *insight, tol time.Duration) bool {
	return l.covers(in.key) && in.start.Before(l.End.Add(tol)) && l.Start.Add(-tol).Before(in.end)
}

// insight is one Insight: the earliest delivered Start and End records
// sharing a sharedEventID.
type insight struct {
	key              Key
	id               string
	start, end       time.Time // [start, end); end is the dataset end while open
	startRec, endRec *Delivered
	matched          bool     // overlaps a non-trap label
	trapKinds        []string // kinds of the trap labels it overlaps, if not matched
}

// notified is when a reader first learnt of the Insight: delivery of the
// Start record, or of the End record when no Start was seen.
func (in *insight) notified() time.Time {
	if in.startRec != nil {
		return in.startRec.Delivery
	}
	return in.endRec.Delivery
}

// final returns the authoritative record: End when there is one.
func (in *insight) final() *cloudtrail.InsightRecord {
	if in.endRec != nil {
		return &in.endRec.Record
	}
	return &in.startRec.Record
}

func durationMinutes(n int) time.Duration { return time.Duration(max(n, 1)) * time.Minute }

// pairInsights groups records by sharedEventID, keeping the earliest
// delivered copy of each state, and orders the Insights by start.
func pairInsights(ds []Delivered, end time.Time) []*insight {
	byID := make(map[string]*insight)
	var out []*insight
	for i := range ds {
		d := &ds[i]
		in := byID[d.Record.SharedEventID]
		if in == nil {
			in = &insight{id: d.Record.SharedEventID, key: RecordKey(&d.Record)}
			byID[in.id] = in
			out = append(out, in)
		}
		slot := &in.startRec
		if d.Record.State == cloudtrail.StateEnd {
			slot = &in.endRec
		}
		if *slot == nil || d.Delivery.Before((*slot).Delivery) {
			*slot = d
		}
	}
	for _, in := range out {
		if in.startRec != nil {
			in.start = in.startRec.Record.EventTime
		} else {
			e := &in.endRec.Record
			in.start = e.EventTime.Add(-durationMinutes(e.InsightDuration))
		}
		if in.endRec != nil {
			in.end = in.endRec.Record.EventTime
		} else {
			in.end = end
		}
		if !in.end.After(in.start) {
			in.end = in.start.Add(durationMinutes(in.final().InsightDuration))
		}
	}
	slices.SortFunc(out, func(a, b *insight) int {
		return cmp.Or(a.start.Compare(b.start), cmp.Compare(a.key.String(), b.key.String()), cmp.Compare(a.id, b.id))
	})
	return out
}

// inferEnd returns the latest time in the labels and records.
func inferEnd(labels []Label, ds []Delivered) time.Time {
	var end time.Time
	later := func(t time.Time) {
		if t.After(end) {
			end = t
		}
	}
	for i := range labels {
		later(labels[i].End)
	}
	for i := range ds {
		r := &ds[i].Record
		later(ds[i].Delivery)
		later(r.EventTime)
		if r.State != cloudtrail.StateEnd {
			later(r.EventTime.Add(durationMinutes(r.InsightDuration)))
		}
	}
	return end
}

// match returns, per label, the Insights matching it (by start), and the
// Insights matched only as another API of a labelled incident, with that
// label's index. It marks every matched Insight.
//
// An Insight on another API of a labelled incident, in the same account
// and Region, during the incident, led by the incident's principal, is
// the incident seen from another API: not a false positive, though it
// detects no label (labels name only the APIs the incident hit hard).
func match(labels []Label, ins []*insight, tol time.Duration) (hits [][]*insight, incident map[*insight]int) {
	hits = make([][]*insight, len(labels))
	for i := range labels {
		for _, in := range ins {
			if labels[i].matches(in, tol) {
				hits[i] = append(hits[i], in)
				in.matched = in.matched || !labels[i].Trap
			}
		}
	}
	incident = map[*insight]int{}
	for _, in := range ins {
		if in.matched {
			continue
		}
		for i := range labels {
			l := &labels[i]
			if l.Trap || !l.Target() || l.Group == "" || l.Principal == "" ||
				l.Account != in.key.Account || l.Region != in.key.Region ||
				!in.start.Before(l.End.Add(tol)) || !l.Start.Add(-tol).Before(in.end) {
				continue
			}
			if topPrincipal(in.final()) == l.Principal {
				in.matched = true
				incident[in] = i
				break
			}
		}
	}
	return hits, incident
}

// Matches tells which Insights (by sharedEventID) match which labels.
type Matches struct {
	// ByLabel[i] lists the Insights matching labels[i], earliest first.
	ByLabel [][]string
	// Incident maps an Insight matched only as another API of a labelled
	// incident to that label's index.
	Incident map[string]int
}

// Match applies Score's matching rules and returns the pairs, for tools
// that show Insights beside labels.
func Match(labels []Label, insights []Delivered, opt Options) Matches {
	tol := opt.Tolerance
	if tol == 0 {
		tol = DefaultTolerance
	}
	end := opt.End
	if end.IsZero() {
		end = inferEnd(labels, insights)
	}
	hits, incident := match(labels, pairInsights(insights, end), tol)
	m := Matches{ByLabel: make([][]string, len(labels)), Incident: map[string]int{}}
	for i, hs := range hits {
		for _, in := range hs {
			m.ByLabel[i] = append(m.ByLabel[i], in.id)
		}
	}
	for in, i := range incident {
		m.Incident[in.id] = i
	}
	return m
}

// Score matches Insights against labels. Labels of the same key whose
// window, widened by the tolerance, overlaps an Insight's [start, end) are
// matched by it; see Report for what is counted.
func Score(labels []Label, insights []Delivered, truth Truth, opt Options) *Report {
	tol := opt.Tolerance
	if tol == 0 {
		tol = DefaultTolerance
	}
	end := opt.End
	if end.IsZero() {
		end = inferEnd(labels, insights)
	}
	ins := pairInsights(insights, end)
	r := &Report{
		ToleranceMinutes:  tol.Minutes(),
		Insights:          len(ins),
		SeriesDays:        opt.SeriesDays,
		FalsePositiveList: []FalsePositive{},
		Missed:            []Label{},
		Detections:        []Detection{},
	}

	hits, incident := match(labels, ins, tol)
	r.IncidentMatched = len(incident)
	r.Traps, r.TrapInsights = scoreTraps(labels, hits, ins)
	r.Kinds = scoreLabels(r, labels, hits)

	for _, in := range ins {
		for _, d := range [...]*Delivered{in.startRec, in.endRec} {
			if d != nil {
				r.Attribution.Records++
				if attributionsShort(&d.Record) {
					r.Attribution.Short++
				}
			}
		}
		if in.endRec == nil {
			r.OpenInsights++
		}
		if in.startRec == nil {
			r.EndOnlyInsights++
		}
		if in.matched {
			r.Matched++
			continue
		}
		rec := in.final()
		r.FalsePositiveList = append(r.FalsePositiveList, FalsePositive{
			Key:             in.key,
			SharedEventID:   in.id,
			Start:           in.start,
			DurationMinutes: int(in.end.Sub(in.start) / time.Minute),
			Open:            in.endRec == nil,
			BaselineAverage: rec.BaselineAverage,
			InsightAverage:  rec.InsightAverage,
			Traps:           in.trapKinds,
		})
	}
	r.FalsePositives = r.Insights - r.Matched
	r.Precision = ratio(r.Matched, r.Insights)
	r.Recall = ratio(r.Detected, r.Labels)
	if r.Precision+r.Recall > 0 {
		r.F1 = 2 * r.Precision * r.Recall / (r.Precision + r.Recall)
	}
	if opt.SeriesDays > 0 {
		r.FalseStartsPer1000SeriesDays = float64(r.FalsePositives) * 1000 / opt.SeriesDays
	}
	r.Attribution.Accuracy = ratio(r.Attribution.Correct, r.Attribution.Labels)
	r.Attribution.StartAccuracy = ratio(r.Attribution.StartCorrect, r.Attribution.Labels)
	if truth != nil {
		r.StatsError = statsError(ins, truth)
	}
	return r
}

// scoreTraps attributes each false positive to the kinds of the traps it
// overlaps and counts them per kind, sorted by kind.
func scoreTraps(labels []Label, hits [][]*insight, ins []*insight) (rows []TrapScore, caused int) {
	traps := make(map[string]*TrapScore)
	for i := range labels {
		l := &labels[i]
		if !l.Trap {
			continue
		}
		t := traps[l.Kind]
		if t == nil {
			t = &TrapScore{Kind: l.Kind}
			traps[l.Kind] = t
		}
		t.Labels++
		triggered := false
		for _, in := range hits[i] {
			if in.matched {
				continue // explained by a real label
			}
			triggered = true
			if !slices.Contains(in.trapKinds, l.Kind) {
				in.trapKinds = append(in.trapKinds, l.Kind)
			}
		}
		if triggered {
			t.Triggered++
		}
	}
	for _, in := range ins {
		for _, k := range in.trapKinds {
			traps[k].Insights++
		}
		if len(in.trapKinds) > 0 {
			caused++
		}
	}
	rows = []TrapScore{}
	for _, t := range traps {
		rows = append(rows, *t)
	}
	slices.SortFunc(rows, func(a, b TrapScore) int { return cmp.Compare(a.Kind, b.Kind) })
	return rows, caused
}

// scoreLabels fills r's recall, delay and attribution totals and returns
// the rows per kind: targets first, then tolerated kinds, each by kind.
func scoreLabels(r *Report, labels []Label, hits [][]*insight) []KindScore {
	type kindKey struct {
		kind   string
		target bool
	}
	kinds := make(map[kindKey]*KindScore)
	kindDelays := make(map[kindKey][]float64)
	var delays, startErrs, endErrs []float64
	for i := range labels {
		l := &labels[i]
		if l.Trap {
			continue
		}
		kk := kindKey{l.Kind, l.Target()}
		k := kinds[kk]
		if k == nil {
			k = &KindScore{Kind: l.Kind, Target: kk.target}
			kinds[kk] = k
		}
		k.Labels++
		if kk.target {
			r.Labels++
		}
		if len(hits[i]) == 0 {
			if kk.target {
				r.Missed = append(r.Missed, *l)
			}
			continue
		}
		k.Detected++
		if !kk.target {
			continue
		}
		r.Detected++
		first := hits[i][0] // the matching Insight notified first
		for _, in := range hits[i][1:] {
			if in.notified().Before(first.notified()) {
				first = in
			}
		}
		d := first.notified().Sub(l.Start).Minutes()
		delays = append(delays, d)
		det := Detection{Label: l.ID, Kind: l.Kind, Key: first.key, SharedEventID: first.id, DelayMinutes: d,
			StartMinutes: first.start.Sub(l.Start).Minutes()}
		startErrs = append(startErrs, math.Abs(det.StartMinutes))
		if first.endRec != nil {
			e := first.end.Sub(l.End).Minutes()
			det.EndMinutes = &e
			endErrs = append(endErrs, math.Abs(e))
		}
		r.Detections = append(r.Detections, det)
		kindDelays[kk] = append(kindDelays[kk], d)
		if l.Principal != "" {
			r.Attribution.Labels++
			if topPrincipal(first.final()) == l.Principal {
				r.Attribution.Correct++
			}
			if first.startRec != nil && topPrincipal(&first.startRec.Record) == l.Principal {
				r.Attribution.StartCorrect++
			}
		}
	}
	r.Delay = delayStats(delays)
	r.Bounds = BoundsError{Start: delayStats(startErrs), End: delayStats(endErrs)}

	rows := []KindScore{}
	for kk, k := range kinds {
		k.Recall = ratio(k.Detected, k.Labels)
		k.Delay = delayStats(kindDelays[kk])
		rows = append(rows, *k)
	}
	slices.SortFunc(rows, func(a, b KindScore) int {
		if a.Target != b.Target {
			if a.Target {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.Kind, b.Kind)
	})
	return rows
}

// ratio is n/d, or 1 when d is 0: no Insights means no wrong Insight, and
// no labels means nothing was missed.
func ratio(n, d int) float64 {
	if d == 0 {
		return 1
	}
	return float64(n) / float64(d)
}

func topPrincipal(r *cloudtrail.InsightRecord) string {
	for _, a := range r.Attributions {
		if a.Attribute == cloudtrail.AttrUserIdentityARN && len(a.Insight) > 0 {
			return a.Insight[0].Value
		}
	}
	return ""
}

// statsError compares the averages of matched Insights with the truth:
// the End record's insight.average over [start, end), and baseline.average
// over the spec §2.6 window [00:00 UTC seven days before the start day,
// start).
func statsError(ins []*insight, truth Truth) *StatsError {
	var ie, be errorAcc
	for _, in := range ins {
		if !in.matched {
			continue
		}
		k := in.key
		count := func(from, to time.Time) (float64, int) {
			return truth.Count(k.Account, k.Region, k.EventSource, k.EventName, k.ErrorCode, k.InsightType, from, to)
		}
		if in.endRec != nil {
			c, m := count(in.start, in.end)
			ie.add(in.endRec.Record.InsightAverage, c, m)
		}
		day := in.start.UTC().Truncate(24 * time.Hour)
		c, m := count(day.AddDate(0, 0, -7), in.start)
		be.add(in.final().BaselineAverage, c, m)
	}
	return &StatsError{Insight: ie.stats(), Baseline: be.stats()}
}

type errorAcc struct {
	errs      []float64
	undefined int
}

func (a *errorAcc) add(reported, count float64, minutes int) {
	if minutes <= 0 {
		return
	}
	truth := count / float64(minutes)
	switch {
	case truth != 0:
		a.errs = append(a.errs, math.Abs(reported-truth)/truth)
	case reported == 0:
		a.errs = append(a.errs, 0)
	default:
		a.undefined++
	}
}

func (a *errorAcc) stats() ErrorStats {
	slices.Sort(a.errs)
	return ErrorStats{N: len(a.errs), Undefined: a.undefined, Median: quantile(a.errs, 0.5), P90: quantile(a.errs, 0.9)}
}

func delayStats(minutes []float64) DelayStats {
	s := slices.Sorted(slices.Values(minutes))
	return DelayStats{N: len(s), MedianMinutes: quantile(s, 0.5), P90Minutes: quantile(s, 0.9)}
}

// quantile returns the q-quantile of sorted xs by linear interpolation
// between order statistics (R type 7, numpy's default), or 0 for no data.
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	h := q * float64(len(xs)-1)
	lo := int(math.Floor(h))
	if lo+1 >= len(xs) {
		return xs[len(xs)-1]
	}
	// The conversion stops the compiler fusing the multiply-add, so the
	// result is the same on every architecture.
	return xs[lo] + float64((h-float64(lo))*(xs[lo+1]-xs[lo]))
}

// attributionsShort reports whether a list of rec's attributions with at
// most five values does not add up to its statistic (within the ten
// decimals records are written with).
func attributionsShort(rec *cloudtrail.InsightRecord) bool {
	for _, a := range rec.Attributions {
		for _, side := range [...]struct {
			vals []cloudtrail.AttributionValue
			avg  float64
		}{{a.Insight, rec.InsightAverage}, {a.Baseline, rec.BaselineAverage}} {
			if len(side.vals) >= cloudtrail.MaxAttributionValues {
				continue
			}
			sum := 0.0
			for _, v := range side.vals {
				sum += v.Average
			}
			if math.Abs(sum-side.avg) > 1e-9*float64(len(side.vals)+1)+1e-9*side.avg {
				return true
			}
		}
	}
	return false
}
