package eval

import (
	"bytes"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// zscore scores each value by its distance from the mean of the previous
// n values, in standard deviations, mapped to [0,1] as |z|/8.
type zscore struct {
	n    int
	prev []float64
}

func (d *zscore) Observe(_ time.Time, v float64) float64 {
	defer func() {
		d.prev = append(d.prev, v)
		if len(d.prev) > d.n {
			d.prev = d.prev[1:]
		}
	}()
	if len(d.prev) < 10 {
		return 0
	}
	var sum, sq float64
	for _, p := range d.prev {
		sum += p
	}
	mean := sum / float64(len(d.prev))
	for _, p := range d.prev {
		sq += (p - mean) * (p - mean)
	}
	sd := math.Sqrt(sq / float64(len(d.prev)))
	if sd == 0 {
		if v == mean {
			return 0
		}
		return 1
	}
	return math.Min(math.Abs(v-mean)/sd/8, 1)
}

func TestGenerateNABCorpus(t *testing.T) {
	a, b, c := t.TempDir(), t.TempDir(), t.TempDir()
	for _, g := range []struct {
		dir  string
		seed int64
	}{{a, 1}, {b, 1}, {c, 2}} {
		if err := GenerateNABCorpus(g.dir, g.seed); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff(readTree(t, a), readTree(t, b)); diff != "" {
		t.Errorf("same seed, different corpus:\n%s", diff)
	}
	if cmp.Equal(readTree(t, a), readTree(t, c)) {
		t.Error("seeds 1 and 2 gave the same corpus")
	}

	files, err := loadNABCorpus(a)
	if err != nil {
		t.Fatal(err)
	}
	type shape struct {
		Name    string
		Rows    int
		Step    time.Duration
		Windows []NABWindow
	}
	var got []shape
	for _, f := range files {
		got = append(got, shape{f.name, len(f.vals), medianStep(f.times), f.windows})
	}
	// Window width 10% of the rows / anomalies, centred on each anomaly.
	want := []shape{
		{"artificialNoAnomaly/daily_noise.csv", 2016, 5 * time.Minute, []NABWindow{}},
		{"artificialWithAnomaly/daily_spikes.csv", 4032, 5 * time.Minute, []NABWindow{{1433, 1567}, {2533, 2667}, {3433, 3567}}},
		{"artificialWithAnomaly/flatline_failure.csv", 2500, 10 * time.Minute, []NABWindow{{1775, 2025}}},
		{"artificialWithAnomaly/level_shift.csv", 3000, 5 * time.Minute, []NABWindow{{1850, 2150}}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("corpus (-want +got):\n%s", diff)
	}
	labels, err := os.ReadFile(filepath.Join(a, "labels", "combined_windows.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`"artificialNoAnomaly/daily_noise.csv": []`, `"2014-04-05 23:25:00.000000"`} {
		if !bytes.Contains(labels, []byte(s)) {
			t.Errorf("labels lack %s:\n%s", s, labels)
		}
	}
}

func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := make(map[string]string)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		m[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRunNAB(t *testing.T) {
	corpus, out := t.TempDir(), t.TempDir()
	if err := GenerateNABCorpus(corpus, 7); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var steps []time.Duration
	res, err := RunNAB(corpus, out, "zscore", func(step time.Duration) NABDetector {
		mu.Lock()
		steps = append(steps, step)
		mu.Unlock()
		return &zscore{n: 288}
	})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	res.WriteTable(&buf)
	t.Logf("zscore on the generated corpus:\n%s", buf.String())

	slices.Sort(steps)
	if want := []time.Duration{5 * time.Minute, 5 * time.Minute, 5 * time.Minute, 10 * time.Minute}; !slices.Equal(steps, want) {
		t.Errorf("steps = %v, want %v", steps, want)
	}
	if res.Files != 4 || res.Windows != 5 || res.Detector != "zscore" {
		t.Errorf("files %d windows %d detector %q, want 4, 5, zscore", res.Files, res.Windows, res.Detector)
	}
	std := res.Profiles["standard"]
	if std.Score <= 0 || std.TP == 0 {
		t.Errorf("standard profile %+v: want a positive score with detections (the spikes are 15σ)", std)
	}

	files, err := loadNABCorpus(corpus)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		dir, base := filepath.Split(filepath.FromSlash(f.name))
		p := filepath.Join(out, "zscore", dir, "zscore_"+base)
		header, recs, err := readCSV(p)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"timestamp", "value", "anomaly_score", "label"}; !slices.Equal(header, want) {
			t.Errorf("%s: header %q, want %q", p, header, want)
		}
		if len(recs) != len(f.vals) {
			t.Fatalf("%s: %d rows, want %d", p, len(recs), len(f.vals))
		}
		inWindow := func(i int) bool {
			return slices.ContainsFunc(f.windows, func(w NABWindow) bool { return w.First <= i && i <= w.Last })
		}
		for i, r := range recs {
			s, err := strconv.ParseFloat(r[2], 64)
			if r[0] != f.stamps[i] || r[1] != f.values[i] || err != nil || s < 0 || s > 1 || (r[3] == "1") != inWindow(i) || (r[3] != "0" && r[3] != "1") {
				t.Fatalf("%s row %d = %q: want timestamp %s, value %s, score in [0,1], label %v", p, i+1, r, f.stamps[i], f.values[i], inWindow(i))
			}
		}
	}

	// Scoring the written files again gives the same result.
	again, err := ScoreNABDir(corpus, out, "zscore")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(res, again); diff != "" {
		t.Errorf("ScoreNABDir differs from RunNAB (-run +dir):\n%s", diff)
	}
}

func TestRunNABErrors(t *testing.T) {
	corpus := t.TempDir()
	if err := GenerateNABCorpus(corpus, 1); err != nil {
		t.Fatal(err)
	}
	newDet := func(time.Duration) NABDetector { return &zscore{n: 10} }
	if _, err := RunNAB(corpus, t.TempDir(), "a/b", newDet); err == nil {
		t.Error("detector name with a slash: no error")
	}
	// A data file without an entry in the label file.
	extra := filepath.Join(corpus, "data", "artificialNoAnomaly", "unlabelled.csv")
	if err := os.WriteFile(extra, []byte("timestamp,value\n2014-04-01 00:00:00,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := RunNAB(corpus, t.TempDir(), "z", newDet)
	if err == nil || !strings.Contains(err.Error(), "unlabelled.csv has no entry") {
		t.Errorf("unlabelled file: err = %v", err)
	}
	// Timestamps that go backwards.
	if err := os.WriteFile(extra, []byte("timestamp,value\n2014-04-01 00:05:00,1\n2014-04-01 00:00:00,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = RunNAB(corpus, t.TempDir(), "z", newDet)
	if err == nil || !strings.Contains(err.Error(), "does not increase") {
		t.Errorf("decreasing timestamps: err = %v", err)
	}
}

func TestNABWindows(t *testing.T) {
	base := time.Date(2014, 4, 1, 0, 0, 0, 0, time.UTC)
	times := make([]time.Time, 20)
	for i := range times {
		times[i] = base.Add(time.Duration(i) * 5 * time.Minute)
	}
	for _, tc := range []struct {
		name   string
		bounds [][]string
		want   []NABWindow
		err    bool
	}{
		{"exact, microseconds", [][]string{{"2014-04-01 00:10:00.000000", "2014-04-01 00:20:00.000000"}}, []NABWindow{{2, 4}}, false},
		{"no fraction, unsorted", [][]string{{"2014-04-01 01:00:00", "2014-04-01 01:05:00"}, {"2014-04-01 00:00:00", "2014-04-01 00:00:00"}}, []NABWindow{{0, 0}, {12, 13}}, false},
		{"between rows rounds inwards", [][]string{{"2014-04-01 00:11:00", "2014-04-01 00:24:00"}}, []NABWindow{{3, 4}}, false},
		{"no row", [][]string{{"2014-04-01 00:11:00", "2014-04-01 00:14:00"}}, nil, true},
		{"overlap", [][]string{{"2014-04-01 00:00:00", "2014-04-01 00:20:00"}, {"2014-04-01 00:20:00", "2014-04-01 00:30:00"}}, nil, true},
	} {
		got, err := nabWindows(times, tc.bounds)
		if (err != nil) != tc.err {
			t.Errorf("%s: err = %v, want error %v", tc.name, err, tc.err)
			continue
		}
		if !tc.err && !slices.Equal(got, tc.want) {
			t.Errorf("%s: nabWindows(%q) = %v, want %v", tc.name, tc.bounds, got, tc.want)
		}
	}
}
