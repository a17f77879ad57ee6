package cloudtrail

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/trailsight/trailsight/internal/golden"
)

// Golden files live in testdata/insights; go test ./cloudtrail -update
// rewrites them (internal/golden). The *.spec.json files are verbatim
// copies of the spec and are never rewritten.

func mustUTC(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// insightCase is one golden Insights record.
type insightCase struct {
	name string
	rec  InsightRecord
}

// insightCases returns the golden records: the two AWS examples of spec
// §2.8 field for field, then Start/End pairs as trailsight writes them.
// Pairs are listed Start first, End second.
func insightCases(t *testing.T) []insightCase {
	t.Helper()
	const (
		role1 = "arn:aws:sts::012345678901:assumed-role/CodeDeployRole1"
		role2 = "arn:aws:sts::012345678901:assumed-role/CodeDeployRole2"
		role3 = "arn:aws:sts::012345678901:assumed-role/CodeDeployRole3"
	)
	awsStart := InsightRecord{
		EventVersion:       "1.07",
		EventTime:          mustUTC(t, "2020-07-21T20:56:00Z"),
		AWSRegion:          "us-east-1",
		EventID:            "abcd00b0-ccfe-422d-961c-98a2198a408x",
		RecipientAccountID: "838185438692",
		SharedEventID:      "7bb000gg-22b3-4c03-94af-c74tj0c8m7c0",
		State:              StateStart,
		EventSource:        "autoscaling.amazonaws.com",
		EventName:          "CompleteLifecycleAction",
		InsightType:        APICallRateInsight,
		BaselineAverage:    0.0000882145,
		InsightAverage:     0.6,
		InsightDuration:    5,
		BaselineDuration:   11336,
		Attributions: []Attribution{
			{
				Attribute: AttrUserIdentityARN,
				Insight:   []AttributionValue{{role1, 0.2}, {role2, 0.2}, {role3, 0.2}},
				Baseline:  []AttributionValue{{role1, 0.0000882145}},
			},
			{
				Attribute: AttrUserAgent,
				Insight:   []AttributionValue{{"codedeploy.amazonaws.com", 0.6}},
				Baseline:  []AttributionValue{{"codedeploy.amazonaws.com", 0.0000882145}},
			},
			{
				Attribute: AttrErrorCode,
				Insight:   []AttributionValue{{"null", 0.6}},
				Baseline:  []AttributionValue{{"null", 0.0000882145}},
			},
		},
	}
	// The End example comes from a public sample (elastic/beats
	// insight-json.log) whose insightContext key is misspelled; spec §2.8
	// corrects it, and the golden file follows the spec.
	awsEnd := InsightRecord{
		EventVersion:       "1.07",
		EventTime:          mustUTC(t, "2020-09-09T23:00:00Z"),
		AWSRegion:          "us-east-1",
		EventID:            "41ed77ca-d659-b45a-8e9a-74e504300007",
		RecipientAccountID: "123456789012",
		SharedEventID:      "e672c2b1-e71a-4779-f96c-02da7bb30d2e",
		State:              StateEnd,
		EventSource:        "iam.amazonaws.com",
		EventName:          "AttachUserPolicy",
		InsightType:        APICallRateInsight,
		BaselineAverage:    0.0,
		InsightAverage:     2.0,
		InsightDuration:    1,
		BaselineDuration:   11459,
		Attributions: []Attribution{
			{Attribute: AttrUserIdentityARN, Insight: []AttributionValue{{"arn:aws:iam::123456789012:user/Alice", 2.0}}},
			{Attribute: AttrUserAgent, Insight: []AttributionValue{{"console.amazonaws.com", 2.0}}},
			{Attribute: AttrErrorCode, Insight: []AttributionValue{{"null", 2.0}}},
		},
	}

	// Error rate: one Insight per error code, errorCode after insightType,
	// attributions userIdentityArn and userAgent only (spec §2.9 #1). The
	// user agent needs escaping (quotes, a tab, non-ASCII).
	const (
		ciRole  = "arn:aws:sts::111122223333:assumed-role/ci-deployer/build-4711"
		alice   = "arn:aws:iam::111122223333:user/alice"
		odd     = "custom-agent/1.0 \"beta\"\tnaïve/∞"
		errBase = 12.0 / 10680 // 12 errors over the baseline window
	)
	errStart := mustUTC(t, "2026-01-12T10:00:00Z")
	shared, startID, endID := InsightIDs("111122223333", "us-east-1", "iam.amazonaws.com", "GetRolePolicy",
		APIErrorRateInsight, "NoSuchEntityException", errStart)
	errRate := InsightRecord{
		EventVersion:       InsightEventVersion,
		EventTime:          errStart,
		AWSRegion:          "us-east-1",
		EventID:            startID,
		RecipientAccountID: "111122223333",
		SharedEventID:      shared,
		State:              StateStart,
		EventSource:        "iam.amazonaws.com",
		EventName:          "GetRolePolicy",
		InsightType:        APIErrorRateInsight,
		ErrorCode:          "NoSuchEntityException",
		BaselineAverage:    errBase,
		InsightAverage:     36.0 / 2,
		InsightDuration:    2,
		BaselineDuration:   10680, // 10080 + 10 h into the start day (spec §2.6)
		Attributions: []Attribution{
			{
				Attribute: AttrUserIdentityARN,
				Insight:   []AttributionValue{{ciRole, 34.0 / 2}, {alice, 2.0 / 2}},
				Baseline:  []AttributionValue{{alice, errBase}},
			},
			{
				Attribute: AttrUserAgent,
				Insight:   []AttributionValue{{odd, 34.0 / 2}, {"console.amazonaws.com", 2.0 / 2}},
				Baseline:  []AttributionValue{{"console.amazonaws.com", errBase}},
			},
		},
	}
	errRateEnd := errRate
	errRateEnd.EventID = endID
	errRateEnd.State = StateEnd
	errRateEnd.EventTime = errStart.Add(7 * time.Minute)
	errRateEnd.InsightDuration = 7
	errRateEnd.InsightAverage = 90.0 / 7
	errRateEnd.Attributions = []Attribution{
		{
			Attribute: AttrUserIdentityARN,
			Insight:   []AttributionValue{{ciRole, 87.0 / 7}, {alice, 3.0 / 7}},
			Baseline:  []AttributionValue{{alice, errBase}},
		},
		{
			Attribute: AttrUserAgent,
			Insight:   []AttributionValue{{odd, 87.0 / 7}, {"console.amazonaws.com", 3.0 / 7}},
			Baseline:  []AttributionValue{{"console.amazonaws.com", errBase}},
		},
	}

	// Call rate with seven callers: the attribution keeps the top five,
	// ties broken by value (SortAttributionValues).
	callStart := mustUTC(t, "2026-01-12T10:00:00Z")
	shared, startID, endID = InsightIDs("111122223333", "us-east-1", "ec2.amazonaws.com", "RunInstances",
		APICallRateInsight, "", callStart)
	callers := func(minutes float64, counts ...float64) []AttributionValue {
		var v []AttributionValue
		for i, c := range counts {
			v = append(v, AttributionValue{
				Value:   "arn:aws:sts::111122223333:assumed-role/autoscaler/worker-" + string(rune('a'+i)),
				Average: c / minutes,
			})
		}
		return SortAttributionValues(v)
	}
	callRate := InsightRecord{
		EventVersion:       InsightEventVersion,
		EventTime:          callStart,
		AWSRegion:          "us-east-1",
		EventID:            startID,
		RecipientAccountID: "111122223333",
		SharedEventID:      shared,
		State:              StateStart,
		EventSource:        "ec2.amazonaws.com",
		EventName:          "RunInstances",
		InsightType:        APICallRateInsight,
		BaselineAverage:    1800.0 / 10680,
		InsightAverage:     60,
		InsightDuration:    1,
		BaselineDuration:   10680,
		Attributions: []Attribution{
			{
				Attribute: AttrUserIdentityARN,
				Insight:   callers(1, 3, 20, 4, 20, 1, 10, 2),
				Baseline:  callers(10680, 700, 500, 300, 200, 50, 40, 10),
			},
			{
				Attribute: AttrUserAgent,
				Insight:   []AttributionValue{{"autoscaling.amazonaws.com", 60}},
				Baseline:  []AttributionValue{{"autoscaling.amazonaws.com", 1800.0 / 10680}},
			},
			{
				Attribute: AttrErrorCode,
				Insight:   []AttributionValue{{"null", 57}, {"Client.UnauthorizedOperation", 3}},
				Baseline:  []AttributionValue{{"null", 1800.0 / 10680}},
			},
		},
	}
	callRateEnd := callRate
	callRateEnd.EventID = endID
	callRateEnd.State = StateEnd
	callRateEnd.EventTime = callStart.Add(5 * time.Minute)
	callRateEnd.InsightDuration = 5
	callRateEnd.InsightAverage = 260.0 / 5
	callRateEnd.Attributions = []Attribution{
		{
			Attribute: AttrUserIdentityARN,
			Insight:   callers(5, 15, 100, 20, 100, 5, 10, 10),
			Baseline:  callers(10680, 700, 500, 300, 200, 50, 40, 10),
		},
		{
			Attribute: AttrUserAgent,
			Insight:   []AttributionValue{{"autoscaling.amazonaws.com", 260.0 / 5}},
			Baseline:  []AttributionValue{{"autoscaling.amazonaws.com", 1800.0 / 10680}},
		},
		{
			Attribute: AttrErrorCode,
			Insight:   []AttributionValue{{"null", 250.0 / 5}, {"Client.UnauthorizedOperation", 10.0 / 5}},
			Baseline:  []AttributionValue{{"null", 1800.0 / 10680}},
		},
	}

	return []insightCase{
		{"aws-start", awsStart},
		{"aws-end", awsEnd},
		{"error-rate-start", errRate},
		{"error-rate-end", errRateEnd},
		{"call-rate-start", callRate},
		{"call-rate-end", callRateEnd},
	}
}

func TestInsightGolden(t *testing.T) {
	for _, tc := range insightCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			checkGolden(t, tc.name, tc.rec.AppendJSON(nil))
		})
	}
}

// TestInsightGoldenMatchesSpec keeps the AWS-example golden files equal to
// the spec's §2.8 examples (copied verbatim into *.spec.json), so -update
// cannot quietly drift away from the documented format.
func TestInsightGoldenMatchesSpec(t *testing.T) {
	for _, name := range []string{"aws-start", "aws-end"} {
		t.Run(name, func(t *testing.T) {
			spec, err := os.ReadFile(filepath.Join("testdata", "insights", name+".spec.json"))
			if err != nil {
				t.Fatal(err)
			}
			var want bytes.Buffer
			if err := json.Compact(&want, spec); err != nil {
				t.Fatal(err)
			}
			golden, err := os.ReadFile(filepath.Join("testdata", "insights", name+".golden.json"))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(golden, want.Bytes()) {
				t.Errorf("golden file differs from minified spec example (-spec +golden):\n%s",
					cmp.Diff(want.String(), string(golden)))
			}
		})
	}
}

// TestInsightRequiredFields checks each golden record against the structure
// of spec §2 through a generic decode, independently of the encoder's code.
func TestInsightRequiredFields(t *testing.T) {
	for _, tc := range insightCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			var m map[string]any
			if err := json.Unmarshal(tc.rec.AppendJSON(nil), &m); err != nil {
				t.Fatal(err)
			}
			wantKeys(t, "top level", m, "eventVersion", "eventTime", "awsRegion", "eventID", "eventType",
				"recipientAccountId", "sharedEventID", "insightDetails", "eventCategory")
			if got := m["eventType"]; got != "AwsCloudTrailInsight" {
				t.Errorf("eventType = %v, want AwsCloudTrailInsight", got)
			}
			if got := m["eventCategory"]; got != "Insight" {
				t.Errorf("eventCategory = %v, want Insight", got)
			}
			if et, _ := m["eventTime"].(string); !strings.HasSuffix(et, ":00Z") || len(et) != len("2006-01-02T15:04:05Z") {
				t.Errorf("eventTime = %q, want a whole UTC minute", et)
			}

			d, _ := m["insightDetails"].(map[string]any)
			isErrorRate := d["insightType"] == "ApiErrorRateInsight"
			detailKeys := []string{"state", "eventSource", "eventName", "insightType", "insightContext"}
			if isErrorRate {
				detailKeys = append(detailKeys, "errorCode")
			}
			wantKeys(t, "insightDetails", d, detailKeys...)
			if s := d["state"]; s != "Start" && s != "End" {
				t.Errorf("state = %v, want Start or End", s)
			}

			ctx, _ := d["insightContext"].(map[string]any)
			wantKeys(t, "insightContext", ctx, "statistics", "attributions")
			st, _ := ctx["statistics"].(map[string]any)
			wantKeys(t, "statistics", st, "baseline", "insight", "insightDuration", "baselineDuration")
			for _, k := range []string{"baseline", "insight"} {
				avg, _ := st[k].(map[string]any)
				wantKeys(t, "statistics."+k, avg, "average")
				if _, ok := avg["average"].(float64); !ok {
					t.Errorf("statistics.%s.average = %v, want a number", k, avg["average"])
				}
			}
			if id, _ := st["insightDuration"].(float64); id < 1 || id != math.Trunc(id) {
				t.Errorf("insightDuration = %v, want a whole number >= 1", st["insightDuration"])
			}
			if bd, _ := st["baselineDuration"].(float64); bd < 10080 || bd != math.Trunc(bd) {
				t.Errorf("baselineDuration = %v, want a whole number >= 10080", st["baselineDuration"])
			}

			attrs, ok := ctx["attributions"].([]any)
			if !ok {
				t.Fatalf("attributions = %v, want an array", ctx["attributions"])
			}
			var names []string
			for _, a := range attrs {
				am, _ := a.(map[string]any)
				wantKeys(t, "attribution", am, "attribute", "insight", "baseline")
				name, _ := am["attribute"].(string)
				names = append(names, name)
				for _, list := range []string{"insight", "baseline"} {
					vs, ok := am[list].([]any)
					if !ok {
						t.Errorf("%s.%s = %v, want an array (never null)", name, list, am[list])
						continue
					}
					if len(vs) > 5 {
						t.Errorf("%s.%s has %d values, want at most 5", name, list, len(vs))
					}
					prev := math.Inf(1)
					for _, v := range vs {
						vm, _ := v.(map[string]any)
						wantKeys(t, name+"."+list+"[]", vm, "value", "average")
						if _, ok := vm["value"].(string); !ok {
							t.Errorf("%s.%s value = %v, want a string", name, list, vm["value"])
						}
						avg, _ := vm["average"].(float64)
						if avg > prev {
							t.Errorf("%s.%s not sorted by average: %v after %v", name, list, avg, prev)
						}
						prev = avg
					}
				}
			}
			wantNames := []string{"userIdentityArn", "userAgent", "errorCode"}
			if isErrorRate {
				wantNames = wantNames[:2]
			}
			if !slices.Equal(names, wantNames) {
				t.Errorf("attributes = %q, want %q", names, wantNames)
			}
		})
	}
}

// wantKeys reports keys of m that are missing or unexpected.
func wantKeys(t *testing.T, where string, m map[string]any, keys ...string) {
	t.Helper()
	if m == nil {
		t.Errorf("%s: missing or not an object", where)
		return
	}
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Errorf("%s: key %q missing", where, k)
		}
	}
	for k := range m {
		if !slices.Contains(keys, k) {
			t.Errorf("%s: unexpected key %q", where, k)
		}
	}
}

// TestInsightPairs checks what links the Start and End of each golden pair
// (spec §2.5).
func TestInsightPairs(t *testing.T) {
	cases := insightCases(t)
	for i := 2; i+1 < len(cases); i += 2 {
		start, end := cases[i].rec, cases[i+1].rec
		t.Run(cases[i].name, func(t *testing.T) {
			if start.State != StateStart || end.State != StateEnd {
				t.Fatalf("states = %s, %s; want Start, End", start.State, end.State)
			}
			if start.SharedEventID != end.SharedEventID || start.EventID == end.EventID {
				t.Errorf("IDs: start (%s, %s), end (%s, %s); want a shared sharedEventID and distinct eventIDs",
					start.SharedEventID, start.EventID, end.SharedEventID, end.EventID)
			}
			if got, want := end.EventTime, start.EventTime.Add(time.Duration(end.InsightDuration)*time.Minute); !got.Equal(want) {
				t.Errorf("End eventTime = %v, want Start + insightDuration = %v", got, want)
			}
			if start.BaselineAverage != end.BaselineAverage || start.BaselineDuration != end.BaselineDuration {
				t.Errorf("baseline: start (%v, %d), end (%v, %d); want equal",
					start.BaselineAverage, start.BaselineDuration, end.BaselineAverage, end.BaselineDuration)
			}
		})
	}
}

// TestInsightKeyOrder checks the key order of spec §2.7 by walking tokens,
// which a map cannot show.
func TestInsightKeyOrder(t *testing.T) {
	want := map[string][]string{
		"": {"eventVersion", "eventTime", "awsRegion", "eventID", "eventType", "recipientAccountId",
			"sharedEventID", "insightDetails", "eventCategory"},
		"insightDetails":                                     {"state", "eventSource", "eventName", "insightType", "insightContext"},
		"insightDetails/insightContext":                      {"statistics", "attributions"},
		"insightDetails/insightContext/statistics":           {"baseline", "insight", "insightDuration", "baselineDuration"},
		"insightDetails/insightContext/attributions":         {"attribute", "insight", "baseline"},
		"insightDetails/insightContext/attributions/insight": {"value", "average"},
	}
	for _, tc := range insightCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			got := objectKeys(t, tc.rec.AppendJSON(nil))
			for path, keys := range want {
				if path == "insightDetails" && tc.rec.InsightType == APIErrorRateInsight {
					keys = []string{"state", "eventSource", "eventName", "insightType", "errorCode", "insightContext"}
				}
				for i, g := range got[path] {
					if !slices.Equal(g, keys) {
						t.Errorf("object %d at %q: keys %q, want %q", i, path, g, keys)
					}
				}
				if len(got[path]) == 0 {
					t.Errorf("no object at %q", path)
				}
			}
		})
	}
}

// objectKeys returns, per path of object keys (arrays are transparent), the
// key lists of the objects found there in document order.
func objectKeys(t *testing.T, b []byte) map[string][][]string {
	t.Helper()
	out := map[string][][]string{}
	dec := json.NewDecoder(bytes.NewReader(b))
	var walk func(path string) error
	walk = func(path string) error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'):
			var keys []string
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return err
				}
				keys = append(keys, k.(string))
				child := k.(string)
				if path != "" {
					child = path + "/" + child
				}
				if err := walk(child); err != nil {
					return err
				}
			}
			out[path] = append(out[path], keys)
			_, err = dec.Token()
			return err
		case json.Delim('['):
			for dec.More() {
				if err := walk(path); err != nil {
					return err
				}
			}
			_, err = dec.Token()
			return err
		}
		return nil
	}
	if err := walk(""); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestInsightRoundTrip(t *testing.T) {
	for _, tc := range insightCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.rec.AppendJSON(nil)
			got, err := DecodeInsightRecord(b)
			if err != nil {
				t.Fatalf("DecodeInsightRecord(%s): %v", b, err)
			}
			// Averages come back rounded to 10 places; compare at that precision.
			round := cmp.Comparer(func(x, y float64) bool { return math.Abs(x-y) <= 5e-11 })
			if diff := cmp.Diff(tc.rec, got, cmpopts.EquateEmpty(), round); diff != "" {
				t.Errorf("decoded record differs (-want +got):\n%s", diff)
			}
			if again := got.AppendJSON(nil); !bytes.Equal(again, b) {
				t.Errorf("re-encoded:\n%s\nwant:\n%s", again, b)
			}
		})
	}
}

func TestMarshalJSON(t *testing.T) {
	rec := insightCases(t)[0].rec
	got, err := json.Marshal(&rec)
	if err != nil {
		t.Fatal(err)
	}
	if want := rec.AppendJSON(nil); !bytes.Equal(got, want) {
		t.Errorf("json.Marshal = %s\nwant AppendJSON = %s", got, want)
	}

	for _, tc := range []struct {
		name string
		edit func(r *InsightRecord)
	}{
		{"NaN baseline", func(r *InsightRecord) { r.BaselineAverage = math.NaN() }},
		{"Inf insight", func(r *InsightRecord) { r.InsightAverage = math.Inf(1) }},
		{"NaN attribution", func(r *InsightRecord) { r.Attributions[1].Baseline[0].Average = math.NaN() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := insightCases(t)[0].rec
			tc.edit(&r)
			if b, err := r.MarshalJSON(); err == nil {
				t.Errorf("MarshalJSON = %s, nil; want an error", b)
			}
		})
	}
}

func TestAppendAverage(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   float64
		want string
	}{
		{"zero", 0, "0.0"},
		{"negative zero", math.Copysign(0, -1), "0.0"},
		{"whole", 2, "2.0"},
		{"large whole", 1e21, "1000000000000000000000.0"},
		{"one decimal", 0.6, "0.6"},
		{"ten decimals", 0.0000882145, "0.0000882145"},
		{"exponent input", 9.82222e-5, "0.0000982222"},
		{"rounded down", 1.0 / 3, "0.3333333333"},
		{"rounded up", 2.0 / 3, "0.6666666667"},
		{"aws example", 85.4202380952, "85.4202380952"},
		{"binary noise", 0.1 + 0.2, "0.3"},
		{"below precision", 4e-11, "0.0"},
		{"negative below precision", -4e-11, "0.0"},
		{"negative", -2.5, "-2.5"},
		{"NaN", math.NaN(), "0.0"},
		{"infinity", math.Inf(-1), "0.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(appendAverage(nil, tc.in)); got != tc.want {
				t.Errorf("appendAverage(%v) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}

func TestAppendJSONStr(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want string
	}{
		{"empty", "", `""`},
		{"arn", "arn:aws:sts::012345678901:assumed-role/Role/a@b.c", `"arn:aws:sts::012345678901:assumed-role/Role/a@b.c"`},
		{"quote and backslash", `agent "x" \ y`, `"agent \"x\" \\ y"`},
		{"short escapes", "a\nb\rc\td", `"a\nb\rc\td"`},
		{"other controls", "\x00\x01\x1f\x7f", `"\u0000\u0001\u001f` + "\x7f" + `"`},
		{"html left alone", "<a>&</a>", `"<a>&</a>"`},
		{"unicode", "naïve 日本 🚀", `"naïve 日本 🚀"`},
		{"line separators", "a\u2028b\u2029c", `"a\u2028b\u2029c"`},
		{"invalid utf-8", "a\xffb\xc3", "\"a\uFFFDb\uFFFD\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := string(appendJSONStr(nil, tc.in))
			if got != tc.want {
				t.Errorf("appendJSONStr(%q) = %s, want %s", tc.in, got, tc.want)
			}
			var back string
			if err := json.Unmarshal([]byte(got), &back); err != nil {
				t.Fatalf("json.Unmarshal(%s): %v", got, err)
			}
			if want := strings.ToValidUTF8(tc.in, "\uFFFD"); back != want {
				t.Errorf("decoded %q, want %q", back, want)
			}
		})
	}
}

func TestSortAttributionValues(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []AttributionValue
		want []AttributionValue
	}{
		{"nil", nil, nil},
		{"one", []AttributionValue{{"a", 1}}, []AttributionValue{{"a", 1}}},
		{
			"by average then value",
			[]AttributionValue{{"b", 1}, {"c", 2}, {"a", 1}},
			[]AttributionValue{{"c", 2}, {"a", 1}, {"b", 1}},
		},
		{
			"truncated to five",
			[]AttributionValue{{"g", 0.1}, {"f", 7}, {"e", 3}, {"d", 3}, {"c", 5}, {"b", 0.5}, {"a", 6}},
			[]AttributionValue{{"f", 7}, {"a", 6}, {"c", 5}, {"d", 3}, {"e", 3}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := slices.Clone(tc.in)
			got := SortAttributionValues(in)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("SortAttributionValues(%v) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestDecodeInsightRecord(t *testing.T) {
	// A 2019-style Start record: eventVersion 1.07, Java exponent numbers,
	// no insightDuration, null attribution list.
	const old = `{"eventVersion":"1.07","eventTime":"2019-10-17T10:05:00Z","awsRegion":"us-east-1",
	 "eventID":"e1","eventType":"AwsCloudTrailInsight","recipientAccountId":"123456789012","sharedEventID":"s1",
	 "insightDetails":{"state":"Start","eventSource":"ssm.amazonaws.com","eventName":"UpdateInstanceAssociationStatus",
	  "insightType":"ApiCallRateInsight","insightContext":{"statistics":{"baseline":{"average":9.82222E-5},
	  "insight":{"average":5.0E1},"baselineDuration":1.008e4},
	  "attributions":[{"attribute":"userAgent","insight":[{"value":"ssm","average":50}],"baseline":null}]}},
	 "eventCategory":"Insight"}`
	wantOld := InsightRecord{
		EventVersion:       "1.07",
		EventTime:          time.Date(2019, 10, 17, 10, 5, 0, 0, time.UTC),
		AWSRegion:          "us-east-1",
		EventID:            "e1",
		RecipientAccountID: "123456789012",
		SharedEventID:      "s1",
		State:              StateStart,
		EventSource:        "ssm.amazonaws.com",
		EventName:          "UpdateInstanceAssociationStatus",
		InsightType:        APICallRateInsight,
		BaselineAverage:    9.82222e-5,
		InsightAverage:     50,
		BaselineDuration:   10080,
		Attributions:       []Attribution{{Attribute: AttrUserAgent, Insight: []AttributionValue{{"ssm", 50}}}},
	}
	got, err := DecodeInsightRecord([]byte(old))
	if err != nil {
		t.Fatalf("DecodeInsightRecord(2019 record): %v", err)
	}
	if diff := cmp.Diff(wantOld, got); diff != "" {
		t.Errorf("DecodeInsightRecord(2019 record) (-want +got):\n%s", diff)
	}

	valid := string(insightCases(t)[2].rec.AppendJSON(nil))
	for _, tc := range []struct {
		name           string
		in             string
		wantErr        string
		wantNotInsight bool
	}{
		{"not json", `{"eventVersion":`, "unexpected end", false},
		{"management event", strings.Replace(valid, `"AwsCloudTrailInsight"`, `"AwsApiCall"`, 1), "eventType", true},
		{"wrong category", strings.Replace(valid, `"eventCategory":"Insight"`, `"eventCategory":"Management"`, 1), "eventCategory", true},
		{"eventVersion 2", strings.Replace(valid, `"1.08"`, `"2.0"`, 1), "eventVersion", false},
		{"no eventTime", strings.Replace(valid, `"eventTime"`, `"eventTimeX"`, 1), "eventTime", false},
		{"bad eventTime", strings.Replace(valid, `:00:00Z"`, `:00:00"`, 1), "eventTime", false},
		{"bad state", strings.Replace(valid, `"Start"`, `"Open"`, 1), "state", false},
		{"fractional duration", strings.Replace(valid, `"insightDuration":2`, `"insightDuration":2.5`, 1), "insightDuration", false},
		{"huge duration", strings.Replace(valid, `"baselineDuration":10680`, `"baselineDuration":1e300`, 1), "baselineDuration", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeInsightRecord([]byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("DecodeInsightRecord(%s) = %+v, %v; want error containing %q", tc.in, got, err, tc.wantErr)
			}
			if got := errors.Is(err, ErrNotInsight); got != tc.wantNotInsight {
				t.Errorf("errors.Is(%v, ErrNotInsight) = %v, want %v", err, got, tc.wantNotInsight)
			}
		})
	}

	t.Run("offset eventTime", func(t *testing.T) {
		in := strings.Replace(valid, `"2026-01-12T10:00:00Z"`, `"2026-01-12T11:00:00+01:00"`, 1)
		got, err := DecodeInsightRecord([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		if want := time.Date(2026, 1, 12, 10, 0, 0, 0, time.UTC); !got.EventTime.Equal(want) || got.EventTime.Location() != time.UTC {
			t.Errorf("EventTime = %v, want %v in UTC", got.EventTime, want)
		}
	})
}

func TestDecodeInsightFile(t *testing.T) {
	cases := insightCases(t)
	var raws [][]byte
	var want []InsightRecord
	for _, tc := range cases {
		raws = append(raws, tc.rec.AppendJSON(nil))
		want = append(want, tc.rec)
	}
	plain := []byte(`{"Records":[` + string(bytes.Join(raws, []byte(","))) + `]}`)
	round := cmp.Comparer(func(x, y float64) bool { return math.Abs(x-y) <= 5e-11 })

	for _, tc := range []struct {
		name    string
		in      []byte
		want    []InsightRecord
		wantErr string
	}{
		{"gzipped", EncodeRecordsFile(raws), want, ""},
		{"plain", plain, want, ""},
		{"empty", []byte(`{"Records":[]}`), []InsightRecord{}, ""},
		{"digest file", []byte(`{"awsAccountId":"123456789123","logFiles":[]}`), nil, "no Records"},
		{"null records", []byte(`{"Records":null}`), nil, "no Records"},
		{"bad record", []byte(`{"Records":[` + string(raws[0]) + `,{"eventType":"AwsApiCall"}]}`), nil, "record 1"},
		{"truncated gzip", EncodeRecordsFile(raws)[:40], nil, "gunzip"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeInsightFile(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("DecodeInsightFile = %d records, %v; want error containing %q", len(got), err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodeInsightFile: %v", err)
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty(), round); diff != "" {
				t.Errorf("DecodeInsightFile (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAppendJSONAllocs pins that encoding into a buffer with room costs no
// allocation, so emitters can reuse one buffer per file.
func TestAppendJSONAllocs(t *testing.T) {
	rec := insightCases(t)[4].rec
	buf := make([]byte, 0, 8192)
	allocs := testing.AllocsPerRun(100, func() {
		buf = rec.AppendJSON(buf[:0])
		buf = AppendInsightEnvelope(buf[:0], &rec, "6a7e8feb-b491-4cf7-a9f1-bf3703467718")
	})
	if allocs != 0 {
		t.Errorf("AppendJSON + AppendInsightEnvelope: %v allocs per run, want 0", allocs)
	}
}

// checkGolden byte-compares got with testdata/insights/<name>.golden.json.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", "insights", name+".golden.json"), got)
}
