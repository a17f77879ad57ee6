package eval

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trailsight/trailsight/cloudtrail"
	goldenfile "github.com/trailsight/trailsight/internal/golden"
)

const (
	acct   = "111122223333"
	region = "us-east-1"
	call   = cloudtrail.APICallRateInsight
	errs   = cloudtrail.APIErrorRateInsight
)

// day is the scenario's day; at("10:05") is that minute of it.
var day = time.Date(2026, 1, 12, 0, 0, 0, 0, time.UTC)

func at(hhmm string) time.Time {
	t, err := time.Parse("15:04", hhmm)
	if err != nil {
		panic(err)
	}
	return day.Add(time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute)
}

// api is "source name" with an optional " errorCode".
type api struct{ source, name, typ, code string }

var (
	runInstances = api{"ec2.amazonaws.com", "RunInstances", call, ""}
	lifecycle    = api{"autoscaling.amazonaws.com", "CompleteLifecycleAction", call, ""}
	attachDenied = api{"iam.amazonaws.com", "AttachUserPolicy", errs, "AccessDenied"}
	attachThrot  = api{"iam.amazonaws.com", "AttachUserPolicy", errs, "ThrottlingException"}
	putPolicy    = api{"s3.amazonaws.com", "PutBucketPolicy", call, ""}
	describe     = api{"ec2.amazonaws.com", "DescribeInstances", call, ""}
	assumeRole   = api{"sts.amazonaws.com", "AssumeRole", call, ""}
)

func label(id, kind string, a api, from, to string) Label {
	return Label{ID: id, Account: acct, Region: region, EventSource: a.source, EventName: a.name, ErrorCode: a.code, Type: a.typ, Kind: kind, Start: at(from), End: at(to)}
}

// record builds one Insights record; delivered at the minute deliver.
func record(id, state string, a api, eventTime string, dur int, base, avg float64, principal, deliver string) Delivered {
	r := cloudtrail.InsightRecord{
		EventTime: at(eventTime), AWSRegion: region, RecipientAccountID: acct, SharedEventID: id,
		State: state, EventSource: a.source, EventName: a.name, InsightType: a.typ, ErrorCode: a.code,
		BaselineAverage: base, InsightAverage: avg, InsightDuration: dur, BaselineDuration: 10080,
	}
	if principal != "" {
		r.Attributions = []cloudtrail.Attribution{{
			Attribute: cloudtrail.AttrUserIdentityARN,
			Insight:   []cloudtrail.AttributionValue{{Value: principal, Average: avg}, {Value: "arn:aws:iam::111122223333:user/zz", Average: avg / 2}},
		}}
	}
	return Delivered{Record: r, Delivery: at(deliver)}
}

const (
	deployer = "arn:aws:sts::111122223333:assumed-role/Deployer/ci"
	mallory  = "arn:aws:iam::111122223333:user/mallory"
	other    = "arn:aws:iam::111122223333:user/other"
)

// scenario is a day with three target labels, a tolerated level shift and
// two traps, and eight Insights:
//
//	i1 RunInstances 10:05-10:25, Start delivered 10:12 (and again 10:20), matches l1 (12 min delay, principal right
//	   on the End, missing on the Start first delivered)
//	i2 RunInstances 10:50-11:00: after l1 ends at 10:30 but within the 30m tolerance: matched, not a second detection
//	i3 AttachUserPolicy/AccessDenied from 13:40, still open: matches l3 from before its start (delay -15 min, principal wrong)
//	i4 AttachUserPolicy/ThrottlingException 14:05-14:08: other error code, false positive
//	i5 PutBucketPolicy 16:00-16:30: matches the tolerated level shift l4
//	i6 DescribeInstances 18:10-18:15: false positive caused by the read-only trap l5
//	i7 AssumeRole 20:05-20:07: false positive caused by the account-wide duplicate-delivery trap l6
//	i8 RunInstances End-only 02:00-02:10: false positive
func scenario() ([]Label, []Delivered) {
	l1 := label("l1", "provisioning_spike", runInstances, "10:00", "10:30")
	l1.Principal = deployer
	l3 := label("l3", "error_surge_write", attachDenied, "14:00", "14:20")
	l3.Principal = mallory
	l4 := label("l4", "level_shift", putPolicy, "16:00", "23:00")
	l4.Type = ""
	l5 := label("l5", "trap_readonly_spike", describe, "18:00", "18:30")
	l5.Type, l5.Trap = "", true
	l6 := Label{ID: "l6", Account: acct, Region: region, Kind: "trap_duplicate_delivery", Trap: true, Start: at("20:00"), End: at("20:10")}
	labels := []Label{l1, label("l2", "provisioning_spike", lifecycle, "12:00", "12:10"), l3, l4, l5, l6}

	ins := []Delivered{
		record("i1", "Start", runInstances, "10:05", 7, 2.5, 30, "", "10:12"),       // attributing no call
		record("i1", "Start", runInstances, "10:05", 7, 2.5, 30, deployer, "10:20"), // duplicate delivery, not the first
		record("i1", "End", runInstances, "10:25", 20, 2.5, 22, deployer, "10:40"),
		record("i2", "Start", runInstances, "10:50", 1, 2.5, 12, deployer, "10:52"),
		record("i2", "End", runInstances, "11:00", 10, 2.5, 10, deployer, "11:05"),
		record("i3", "Start", attachDenied, "13:40", 5, 0, 4, other, "13:45"),
		record("i4", "Start", attachThrot, "14:05", 1, 0.1, 3, "", "14:10"),
		record("i4", "End", attachThrot, "14:08", 3, 0.1, 2, "", "14:10"),
		record("i5", "Start", putPolicy, "16:00", 2, 0.5, 11, "", "16:03"),
		record("i5", "End", putPolicy, "16:30", 30, 0.5, 12, "", "16:35"),
		record("i6", "Start", describe, "18:10", 1, 1, 9, "", "18:12"),
		record("i6", "End", describe, "18:15", 5, 1, 8, "", "18:20"),
		record("i7", "Start", assumeRole, "20:05", 1, 0, 5, "", "20:06"),
		record("i7", "End", assumeRole, "20:07", 2, 0, 4, "", "20:08"),
		record("i8", "End", runInstances, "02:10", 10, 0.2, 6, "", "02:15"),
	}
	return labels, ins
}

// fakeTruth answers from a table keyed by API and window and records what
// it was asked.
type fakeTruth struct {
	counts map[string][2]float64 // count, minutes
	asked  []string
}

func truthKey(a api, from, to time.Time) string {
	return fmt.Sprintf("%s %s %s %s %s-%s", a.source, a.name, a.typ, a.code, from.Format(time.RFC3339), to.Format(time.RFC3339))
}

func (f *fakeTruth) Count(account, region, source, name, errorCode, insightType string, from, to time.Time) (float64, int) {
	if account != acct || region != "us-east-1" {
		panic("unexpected account or region")
	}
	k := truthKey(api{source, name, insightType, errorCode}, from, to)
	f.asked = append(f.asked, k)
	c := f.counts[k]
	return c[0], int(c[1])
}

func scenarioTruth() *fakeTruth {
	baseFrom := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC) // §2.6: 00:00 UTC seven days before the start day
	return &fakeTruth{counts: map[string][2]float64{
		// i1: reported 22/min vs 400/20 = 20: 0.1. Baseline 2.5 vs 21370/10685 = 2: 0.25.
		truthKey(runInstances, at("10:05"), at("10:25")): {400, 20},
		truthKey(runInstances, baseFrom, at("10:05")):    {21370, 10685},
		// i2: reported 10 vs 100/10: 0. Baseline window not covered: skipped.
		truthKey(runInstances, at("10:50"), at("11:00")): {100, 10},
		// i3 (open, no End): baseline 0 vs 0: 0.
		truthKey(attachDenied, baseFrom, at("13:40")): {0, 10900},
		// i5: reported 12 vs 300/30 = 10: 0.2. Baseline 0.5 vs 0: undefined.
		truthKey(putPolicy, at("16:00"), at("16:30")): {300, 30},
		truthKey(putPolicy, baseFrom, at("16:00")):    {0, 10},
	}}
}

func TestScore(t *testing.T) {
	labels, ins := scenario()
	truth := scenarioTruth()
	got := Score(labels, ins, truth, Options{SeriesDays: 2000, End: day.Add(24 * time.Hour)})

	want := &Report{
		ToleranceMinutes: 30,
		Kinds: []KindScore{
			{Kind: "error_surge_write", Target: true, Labels: 1, Detected: 1, Recall: 1, Delay: DelayStats{N: 1, MedianMinutes: -15, P90Minutes: -15}},
			{Kind: "provisioning_spike", Target: true, Labels: 2, Detected: 1, Recall: 0.5, Delay: DelayStats{N: 1, MedianMinutes: 12, P90Minutes: 12}},
			{Kind: "level_shift", Labels: 1, Detected: 1, Recall: 1},
		},
		Labels: 3, Detected: 2, Recall: 2.0 / 3,
		Insights: 8, Matched: 4, FalsePositives: 4, Precision: 0.5,
		F1:           4.0 / 7, // 2·(1/2)·(2/3) / (1/2 + 2/3)
		OpenInsights: 1, EndOnlyInsights: 1,
		// Delays -15 and 12: median -1.5, p90 -15 + 0.9·27 = 9.3.
		Delay: DelayStats{N: 2, MedianMinutes: -1.5, P90Minutes: 9.3},
		// l1 by i1 (10:05-10:25 for 10:00-10:30): 5 and 5; l3 by i3 (from
		// 13:40, open, for 14:00-14:20): 20 and no end. Starts [5, 20]:
		// median 12.5, p90 5 + 0.9·15.
		Bounds: BoundsError{Start: DelayStats{N: 2, MedianMinutes: 12.5, P90Minutes: 18.5}, End: DelayStats{N: 1, MedianMinutes: 5, P90Minutes: 5}},
		Traps: []TrapScore{
			{Kind: "trap_duplicate_delivery", Labels: 1, Triggered: 1, Insights: 1},
			{Kind: "trap_readonly_spike", Labels: 1, Triggered: 1, Insights: 1},
		},
		TrapInsights:                 2,
		SeriesDays:                   2000,
		FalseStartsPer1000SeriesDays: 2, // 4 false positives over 2000 series-days
		StatsError: &StatsError{
			// [0, 0.1, 0.2]: median 0.1, p90 0.1 + 0.8·0.1.
			Insight: ErrorStats{N: 3, Median: 0.1, P90: 0.18},
			// [0, 0.25] and one undefined: median 0.125, p90 0.9·0.25.
			Baseline: ErrorStats{N: 2, Undefined: 1, Median: 0.125, P90: 0.225},
		},
		// The 4 records naming a principal list it at the average and a
		// second value at half of it, and no baseline value beside their
		// baseline average: their lists do not add up.
		Attribution: AttributionScore{Labels: 2, Correct: 1, Accuracy: 0.5, Records: 14, Short: 4},
		FalsePositiveList: []FalsePositive{
			{Key: key(runInstances), SharedEventID: "i8", Start: at("02:00"), DurationMinutes: 10, BaselineAverage: 0.2, InsightAverage: 6},
			{Key: key(attachThrot), SharedEventID: "i4", Start: at("14:05"), DurationMinutes: 3, BaselineAverage: 0.1, InsightAverage: 2},
			{Key: key(describe), SharedEventID: "i6", Start: at("18:10"), DurationMinutes: 5, BaselineAverage: 1, InsightAverage: 8, Traps: []string{"trap_readonly_spike"}},
			{Key: key(assumeRole), SharedEventID: "i7", Start: at("20:05"), DurationMinutes: 2, InsightAverage: 4, Traps: []string{"trap_duplicate_delivery"}},
		},
		// The second provisioning spike: no Insight on its API.
		Missed: []Label{labels[slices.IndexFunc(labels, func(l Label) bool { return l.ID == "l2" })]},
		// l1 by i1 (10:05-10:25 for 10:00-10:30, Start delivered 10:12);
		// l3 by i3, still open (13:40 for 14:00, delivered 13:45).
		Detections: []Detection{
			{Label: "l1", Kind: "provisioning_spike", Key: key(runInstances), SharedEventID: "i1", DelayMinutes: 12, StartMinutes: 5, EndMinutes: ptr(-5.0)},
			{Label: "l3", Kind: "error_surge_write", Key: key(attachDenied), SharedEventID: "i3", DelayMinutes: -15, StartMinutes: -20},
		},
	}
	if diff := cmp.Diff(want, got, approx); diff != "" {
		t.Errorf("Score (-want +got):\n%s", diff)
	}
	if len(truth.asked) != 7 {
		// i1, i2, i5: insight and baseline; i3: baseline only (no End).
		t.Errorf("truth asked %d times, want 7:\n%q", len(truth.asked), truth.asked)
	}

	var table bytes.Buffer
	got.WriteTable(&table)
	js, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "report.golden.txt", table.Bytes())
	golden(t, "report.golden.json", append(js, '\n'))

	if r := Score(labels, ins, nil, Options{}); r.StatsError != nil {
		t.Errorf("no truth: StatsError = %+v, want nil", r.StatsError)
	}
}

func key(a api) Key {
	return Key{Account: acct, Region: region, EventSource: a.source, EventName: a.name, InsightType: a.typ, ErrorCode: a.code}
}

func TestScoreTolerance(t *testing.T) {
	l := label("l", "provisioning_spike", runInstances, "10:00", "10:30")
	for _, tc := range []struct {
		name       string
		a          api
		from, to   string
		tol        time.Duration
		wantDetect bool
	}{
		{"inside", runInstances, "10:10", "10:20", 0, true},
		{"ends at label start - 30m (half-open)", runInstances, "09:20", "09:30", 0, false},
		{"ends one minute later", runInstances, "09:21", "09:31", 0, true},
		{"starts at label end + 30m", runInstances, "11:00", "11:05", 0, false},
		{"starts one minute earlier", runInstances, "10:59", "11:05", 0, true},
		{"1ns tolerance: starts a minute after label end", runInstances, "10:31", "10:35", time.Nanosecond, false},
		{"1ns tolerance: ends a minute before label start", runInstances, "09:50", "09:59", time.Nanosecond, false},
		{"1ns tolerance: starts at label end", runInstances, "10:30", "10:35", time.Nanosecond, true},
		{"2h tolerance", runInstances, "12:00", "12:05", 2 * time.Hour, true},
		{"other API", lifecycle, "10:10", "10:20", 0, false},
		{"other type", api{runInstances.source, runInstances.name, errs, "X"}, "10:10", "10:20", 0, false},
	} {
		ins := []Delivered{
			record("x", "Start", tc.a, tc.from, 1, 0, 1, "", tc.from),
			record("x", "End", tc.a, tc.to, 1, 0, 1, "", tc.to),
		}
		r := Score([]Label{l}, ins, nil, Options{Tolerance: tc.tol})
		if got := r.Detected == 1; got != tc.wantDetect {
			t.Errorf("%s: Insight [%s,%s) tolerance %v: detected %v, want %v", tc.name, tc.from, tc.to, tc.tol, got, tc.wantDetect)
		}
		if got, want := r.Precision, map[bool]float64{true: 1, false: 0}[tc.wantDetect]; got != want {
			t.Errorf("%s: precision %v, want %v", tc.name, got, want)
		}
	}
}

func TestScoreErrorCodeKey(t *testing.T) {
	// An error-rate label with an error code matches only that code; one
	// without matches any code of the API.
	withCode := label("a", "error_surge_read", attachDenied, "10:00", "10:30")
	anyCode := withCode
	anyCode.ErrorCode = ""
	ins := []Delivered{record("x", "Start", attachThrot, "10:05", 1, 0, 1, "", "10:06")}
	if r := Score([]Label{withCode}, ins, nil, Options{}); r.Detected != 0 {
		t.Errorf("label AccessDenied matched a ThrottlingException Insight")
	}
	if r := Score([]Label{anyCode}, ins, nil, Options{}); r.Detected != 1 {
		t.Errorf("label without error code did not match")
	}
}

func TestPairInsights(t *testing.T) {
	end := at("23:00")
	// Out of delivery order on purpose.
	in := []Delivered{
		record("b", "End", runInstances, "12:08", 8, 0, 1, "", "12:30"),
		record("a", "Start", runInstances, "10:00", 1, 0, 1, "", "10:05"),
		record("b", "Start", runInstances, "12:00", 1, 0, 1, "", "12:20"),
		record("a", "Start", runInstances, "10:00", 1, 0, 1, "", "10:02"), // earlier copy of a's Start
		record("c", "End", runInstances, "15:10", 10, 0, 1, "", "15:12"),
		record("b", "End", runInstances, "12:08", 8, 0, 1, "", "12:25"), // earlier copy of b's End
	}
	type row struct {
		ID         string
		Start, End time.Time
		Notified   time.Time
		Open       bool
	}
	var got []row
	for _, x := range pairInsights(in, end) {
		got = append(got, row{x.id, x.start, x.end, x.notified(), x.endRec == nil})
	}
	want := []row{
		{"a", at("10:00"), end, at("10:02"), true},          // open until the dataset end
		{"b", at("12:00"), at("12:08"), at("12:20"), false}, // Start and End in different files
		{"c", at("15:00"), at("15:10"), at("15:12"), false}, // End only: start = End - insightDuration
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("pairInsights (-want +got):\n%s", diff)
	}

	// Without Options.End, an open Insight runs to the latest time seen:
	// here the label end, so it matches a label that starts after its
	// Start record's minutes.
	l := label("l", "provisioning_spike", runInstances, "11:00", "11:10")
	r := Score([]Label{l}, in[1:2], nil, Options{Tolerance: time.Nanosecond})
	if r.Detected != 1 || r.OpenInsights != 1 {
		t.Errorf("open Insight: detected %d open %d, want 1 1", r.Detected, r.OpenInsights)
	}
}

func TestQuantile(t *testing.T) {
	for _, tc := range []struct {
		xs   []float64
		q    float64
		want float64
	}{
		{nil, 0.5, 0},
		{[]float64{7}, 0.9, 7},
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0.5, 5.5},
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0.9, 9.1},
		{[]float64{-15, 12}, 0.9, 9.3},
		{[]float64{1, 2, 3}, 1, 3},
	} {
		if got := quantile(tc.xs, tc.q); !cmp.Equal(got, tc.want, approx) {
			t.Errorf("quantile(%v, %v) = %v, want %v", tc.xs, tc.q, got, tc.want)
		}
	}
}

func TestScoreEmpty(t *testing.T) {
	r := Score(nil, nil, nil, Options{})
	if r.Precision != 1 || r.Recall != 1 || r.F1 != 1 || r.Insights != 0 || r.FalseStartsPer1000SeriesDays != 0 {
		t.Errorf("empty: %+v", r)
	}
	js, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(js, []byte(`"kinds":[]`)) || !bytes.Contains(js, []byte(`"false_positive_list":[]`)) {
		t.Errorf("empty lists should encode as []: %s", js)
	}
}

func TestScoreIncidentOnAnotherAPI(t *testing.T) {
	// A labelled incident hit PutBucketPolicy; the same principal also
	// touched AssumeRole during it. That Insight is the incident, not a
	// false positive; one led by someone else is.
	l := label("a", "iam_burst_new_principal", putPolicy, "10:00", "10:20")
	l.Group, l.Principal = "g1", "arn:aws:iam::111122223333:user/mallory"
	ins := []Delivered{
		record("x", "Start", putPolicy, "10:01", 1, 0, 5, l.Principal, "10:05"),
		record("y", "Start", assumeRole, "10:02", 1, 0, 3, l.Principal, "10:06"),
		record("z", "Start", assumeRole, "10:03", 1, 0, 3, "arn:aws:iam::111122223333:user/alice", "10:06"),
	}
	r := Score([]Label{l}, ins, nil, Options{})
	if r.Matched != 2 || r.IncidentMatched != 1 || r.FalsePositives != 1 {
		t.Errorf("matched %d (incident %d), false positives %d; want 2 (1), 1", r.Matched, r.IncidentMatched, r.FalsePositives)
	}
	if r.Detected != 1 || r.Labels != 1 {
		t.Errorf("detected %d of %d labels, want 1 of 1", r.Detected, r.Labels)
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", name), got)
}

func TestMatchPairsLabelsAndIncidents(t *testing.T) {
	l := label("a", "iam_burst_new_principal", putPolicy, "10:00", "10:20")
	l.Group, l.Principal = "g1", "arn:aws:iam::111122223333:user/mallory"
	ins := []Delivered{
		record("x", "Start", putPolicy, "10:01", 1, 0, 5, l.Principal, "10:05"),
		record("y", "Start", assumeRole, "10:02", 1, 0, 3, l.Principal, "10:06"),
		record("z", "Start", assumeRole, "10:03", 1, 0, 3, "arn:aws:iam::111122223333:user/alice", "10:06"),
	}
	m := Match([]Label{l}, ins, Options{})
	if diff := cmp.Diff([][]string{{"x"}}, m.ByLabel); diff != "" {
		t.Errorf("ByLabel (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{"y": 0}, m.Incident); diff != "" {
		t.Errorf("Incident (-want +got):\n%s", diff)
	}
}

func ptr[T any](v T) *T { return &v }

// A list adds up to its statistic, or holds five values (the rest
// dropped), or the record's attributions are short.
func TestAttributionsShort(t *testing.T) {
	v := func(avgs ...float64) []cloudtrail.AttributionValue {
		out := []cloudtrail.AttributionValue{}
		for i, a := range avgs {
			out = append(out, cloudtrail.AttributionValue{Value: fmt.Sprint(i), Average: a})
		}
		return out
	}
	rec := func(insight, baseline []cloudtrail.AttributionValue) *cloudtrail.InsightRecord {
		return &cloudtrail.InsightRecord{InsightAverage: 0.6, BaselineAverage: 0.0000882145, Attributions: []cloudtrail.Attribution{
			{Attribute: cloudtrail.AttrUserIdentityARN, Insight: insight, Baseline: baseline},
			{Attribute: cloudtrail.AttrErrorCode, Insight: v(0.6), Baseline: v(0.0000882145)},
		}}
	}
	for _, tc := range []struct {
		name string
		rec  *cloudtrail.InsightRecord
		want bool
	}{
		{"adds up (spec §2.8's example)", rec(v(0.2, 0.2, 0.2), v(0.0000882145)), false},
		{"five values, the rest dropped", rec(v(0.1, 0.1, 0.1, 0.1, 0.1), v(0.0000882145)), false},
		{"four values short", rec(v(0.1, 0.1, 0.1, 0.1), v(0.0000882145)), true},
		{"over the statistic", rec(v(0.6, 0.3), v(0.0000882145)), true},
		{"empty baseline of a baseline", rec(v(0.6), v()), true},
		{"no attributions", &cloudtrail.InsightRecord{InsightAverage: 2}, false},
	} {
		if got := attributionsShort(tc.rec); got != tc.want {
			t.Errorf("%s: attributionsShort = %v, want %v", tc.name, got, tc.want)
		}
	}
}
