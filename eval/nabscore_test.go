package eval

import (
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var approx = cmpopts.EquateApprox(0, 1e-12)

// scores returns n zero scores with the given rows set.
func scores(n int, set map[int]float64) []float64 {
	s := make([]float64, n)
	for i, v := range set {
		s[i] = v
	}
	return s
}

// tanhRatio is s(p)/s(-1) written with s(p) = 2/(1+e^(5p))-1 = -tanh(5p/2),
// to check the implementation against the identity rather than itself.
func tanhRatio(p float64) float64 { return math.Tanh(-2.5*p) / math.Tanh(2.5) }

func TestNABRowWeights(t *testing.T) {
	// 100 rows: probation min(floor(15), 750) = 15 rows. One window [40,49], W = 10.
	rows, windows, err := nabRows([]NABSeries{{Name: "f", Scores: make([]float64, 100), Windows: []NABWindow{{40, 49}}}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(rows), 85; got != want {
		t.Fatalf("scorable rows = %d, want %d (probation 15 of 100)", got, want)
	}
	if windows != 1 {
		t.Fatalf("windows = %d, want 1", windows)
	}
	at := func(i int) nabRow { return rows[i-15] }
	for _, tc := range []struct {
		name string
		row  int
		win  int
		want float64
	}{
		{"before any window: full -1", 20, -1, -1},
		{"left edge: p=-1, s(-1)/s(-1)", 40, 0, 1},
		{"middle: p=-0.5", 45, 0, 0.8597925669097837},
		{"right edge: p=-1/10", 49, 0, 0.24824154977542992},
		{"just past: q=1/9", 50, -1, -0.2708471185167214},
		{"q=1: s(1)=-tanh(2.5)", 58, -1, -0.9866142981514303},
		{"q=26/9", 75, -1, -0.9999989336807543},
		{"q=3: full -1", 76, -1, -1},
		{"far past", 99, -1, -1},
	} {
		r := at(tc.row)
		if r.win != tc.win || math.Abs(r.w-tc.want) > 1e-12 {
			t.Errorf("%s: row %d = {win %d, w %.16g}, want {win %d, w %.16g}", tc.name, tc.row, r.win, r.w, tc.win, tc.want)
		}
	}
	if got, want := at(45).w, tanhRatio(-0.5); math.Abs(got-want) > 1e-12 {
		t.Errorf("row 45 weight %v, tanh identity gives %v", got, want)
	}
	if at(40).w != 1 {
		t.Errorf("left edge weight %v, want exactly 1", at(40).w)
	}
}

func TestScoreNAB(t *testing.T) {
	win := []NABWindow{{40, 49}}
	for _, tc := range []struct {
		name   string
		series []NABSeries
		want   map[string]NABProfileScore
	}{
		{
			name:   "perfect: 1 at the left edge",
			series: []NABSeries{{Name: "f", Scores: scores(100, map[int]float64{40: 1}), Windows: win}},
			want: map[string]NABProfileScore{
				"standard":           {Score: 100, Raw: 1, Null: -1, Perfect: 1, Threshold: 1, TP: 1},
				"reward_low_FP_rate": {Score: 100, Raw: 1, Null: -1, Perfect: 1, Threshold: 1, TP: 1},
				"reward_low_FN_rate": {Score: 100, Raw: 1, Null: -2, Perfect: 1, Threshold: 1, TP: 1},
			},
		},
		{
			// Firing everywhere (threshold 0) earns the window but 60-odd
			// false positives; never firing is better.
			name:   "null: constant score",
			series: []NABSeries{{Name: "f", Scores: scores(100, nil), Windows: win}},
			want: map[string]NABProfileScore{
				"standard":           {Score: 0, Raw: -1, Null: -1, Perfect: 1, Threshold: 1.1, FN: 1},
				"reward_low_FP_rate": {Score: 0, Raw: -1, Null: -1, Perfect: 1, Threshold: 1.1, FN: 1},
				"reward_low_FN_rate": {Score: 0, Raw: -2, Null: -2, Perfect: 1, Threshold: 1.1, FN: 1},
			},
		},
		{
			name:   "only false positives: the optimum is never firing",
			series: []NABSeries{{Name: "f", Scores: scores(100, map[int]float64{20: 1, 60: 1}), Windows: win}},
			want: map[string]NABProfileScore{
				"standard":           {Score: 0, Raw: -1, Null: -1, Perfect: 1, Threshold: 1.1, FN: 1},
				"reward_low_FP_rate": {Score: 0, Raw: -1, Null: -1, Perfect: 1, Threshold: 1.1, FN: 1},
				"reward_low_FN_rate": {Score: 0, Raw: -2, Null: -2, Perfect: 1, Threshold: 1.1, FN: 1},
			},
		},
		{
			// File a: window [40,49] detected at its left edge with 0.8.
			// File b: FP at row 20 with 0.9 (no window before: -A_FP),
			// window [60,69] detected at its left edge with 0.7 and again
			// at row 65 with 0.6 (no gain: the earliest counts, so 0.7 wins
			// the tie with 0.6). Threshold 0.7: raw = 2 - A_FP.
			name: "one threshold for the corpus",
			series: []NABSeries{
				{Name: "a", Scores: scores(100, map[int]float64{40: 0.8}), Windows: win},
				{Name: "b", Scores: scores(100, map[int]float64{20: 0.9, 60: 0.7, 65: 0.6}), Windows: []NABWindow{{60, 69}}},
			},
			want: map[string]NABProfileScore{
				"standard":           {Score: 100 * (2 - 0.11 + 2) / 4, Raw: 2 - 0.11, Null: -2, Perfect: 2, Threshold: 0.7, TP: 2, FP: 1},
				"reward_low_FP_rate": {Score: 100 * (2 - 0.22 + 2) / 4, Raw: 2 - 0.22, Null: -2, Perfect: 2, Threshold: 0.7, TP: 2, FP: 1},
				"reward_low_FN_rate": {Score: 100 * (2 - 0.11 + 4) / 6, Raw: 2 - 0.11, Null: -4, Perfect: 2, Threshold: 0.7, TP: 2, FP: 1},
			},
		},
		{
			// 100 rows, probation 15: a detection at row 10 costs nothing;
			// window [5,9] lies in probation and is not scored but still is
			// "the previous window" for q; window [10,20] is scored from row
			// 15 on: a detection at 15 has p = -6/11. The detection at row 24
			// is past [5,9]: q = (24-9)/(5-1) = 3.75, full -A_FP.
			name: "probation",
			series: []NABSeries{{
				Name:    "f",
				Scores:  scores(100, map[int]float64{10: 1, 15: 1, 24: 0.5}),
				Windows: []NABWindow{{5, 9}, {10, 20}},
			}},
			want: map[string]NABProfileScore{
				"standard":           {Score: 100 * (0.8891354877348165 + 1) / 2, Raw: 0.8891354877348165, Null: -1, Perfect: 1, Threshold: 1, TP: 1},
				"reward_low_FP_rate": {Score: 100 * (0.8891354877348165 + 1) / 2, Raw: 0.8891354877348165, Null: -1, Perfect: 1, Threshold: 1, TP: 1},
				"reward_low_FN_rate": {Score: 100 * (0.8891354877348165 + 2) / 3, Raw: 0.8891354877348165, Null: -2, Perfect: 1, Threshold: 1, TP: 1},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ScoreNAB(tc.series)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got.Profiles, approx); diff != "" {
				t.Errorf("profiles (-want +got):\n%s", diff)
			}
			if got.Files != len(tc.series) {
				t.Errorf("files = %d, want %d", got.Files, len(tc.series))
			}
		})
	}
}

func TestScoreNABPerfectIsExactly100(t *testing.T) {
	// Several files and window widths: left-edge detections give exactly 100.
	series := []NABSeries{
		{Name: "a", Scores: scores(1000, map[int]float64{200: 1, 600: 1}), Windows: []NABWindow{{200, 233}, {600, 612}}},
		{Name: "b", Scores: scores(6000, map[int]float64{800: 1}), Windows: []NABWindow{{800, 1399}}},
	}
	got, err := ScoreNAB(series)
	if err != nil {
		t.Fatal(err)
	}
	for name, p := range got.Profiles {
		if p.Score != 100 || p.Raw != 3 {
			t.Errorf("%s: score %v raw %v, want exactly 100 and 3", name, p.Score, p.Raw)
		}
	}
	if got.Windows != 3 {
		t.Errorf("windows = %d, want 3", got.Windows)
	}
}

func TestScoreNABAt(t *testing.T) {
	series := []NABSeries{{Name: "f", Scores: scores(100, map[int]float64{20: 1, 60: 1}), Windows: []NABWindow{{40, 49}}}}
	std := NABProfiles()[0]
	got, err := ScoreNABAt(series, std, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	// Row 20: no window before, -0.11. Row 60: q = 11/9, 0.11·s(11/9).
	// Window missed: -1.
	raw := -1 + 0.11*(-1) + 0.11*(-0.995573648215434)
	want := NABProfileScore{Score: 100 * (raw + 1) / 2, Raw: raw, Null: -1, Perfect: 1, Threshold: 0.5, FP: 2, FN: 1}
	if diff := cmp.Diff(want, got, approx); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got.Score >= 0 {
		t.Errorf("score %v, want negative", got.Score)
	}
}

func TestScoreNABErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    NABSeries
		want string
	}{
		{"score above 1", NABSeries{Name: "f", Scores: []float64{0, 1.5}}, "not in [0,1]"},
		{"NaN score", NABSeries{Name: "f", Scores: []float64{math.NaN()}}, "not in [0,1]"},
		{"overlapping windows", NABSeries{Name: "f", Scores: make([]float64, 10), Windows: []NABWindow{{1, 4}, {4, 6}}}, "out of order"},
		{"window past the end", NABSeries{Name: "f", Scores: make([]float64, 10), Windows: []NABWindow{{8, 10}}}, "out of range"},
	} {
		_, err := ScoreNAB([]NABSeries{tc.s})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to mention %q", tc.name, err, tc.want)
		}
	}
}

func TestScoreNABProbationWindowIsPrevious(t *testing.T) {
	// 100 rows, probation 15. Window [2,6] lies in probation: not scored,
	// but it is the previous window of row 16 (q = (16-6)/(5-1) = 2.5), as
	// in NAB's sweeper. The detection at row 12 is in probation and free.
	series := []NABSeries{{
		Name:    "f",
		Scores:  scores(100, map[int]float64{12: 1, 16: 0.5, 30: 1}),
		Windows: []NABWindow{{2, 6}, {30, 40}},
	}}
	got, err := ScoreNABAt(series, NABProfiles()[0], 0.5)
	if err != nil {
		t.Fatal(err)
	}
	raw := 1 + 0.11*-math.Tanh(6.25)
	want := NABProfileScore{Score: 100 * (raw + 1) / 2, Raw: raw, Null: -1, Perfect: 1, Threshold: 0.5, TP: 1, FP: 1}
	if diff := cmp.Diff(want, got, approx); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
