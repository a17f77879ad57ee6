package eval

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// NABDetector is an online detector run over one NAB file.
type NABDetector interface {
	// Observe is called once per row, in order, and returns the anomaly
	// score of that row in [0,1], computed from rows up to this one only.
	Observe(t time.Time, v float64) float64
}

// nabWorkers is how many files RunNAB processes at once.
const nabWorkers = 2

// NAB timestamp layouts. Parsing with nabTimeLayout also accepts the
// fractional seconds label files carry (2014-04-10 07:15:00.000000).
const (
	nabTimeLayout   = "2006-01-02 15:04:05"
	nabWindowLayout = "2006-01-02 15:04:05.000000"
)

// nabFile is one data file of a corpus with its windows.
type nabFile struct {
	name    string // "<category>/<name>.csv", relative to data/
	stamps  []string
	times   []time.Time
	values  []string
	vals    []float64
	windows []NABWindow
}

// RunNAB runs a detector over every file of a NAB corpus (corpusDir/data/
// <category>/<name>.csv, windows in corpusDir/labels/combined_windows.json),
// writes outDir/<detector>/<category>/<detector>_<name>.csv with columns
// timestamp,value,anomaly_score,label (label 1 inside a window) and scores
// the result with ScoreNAB.
//
// newDetector is called once per file with the file's typical step (the
// median gap between rows); files run on two goroutines, so it must be
// safe for concurrent use. Scores outside [0,1] are clamped, NaN counts
// as 0.
func RunNAB(corpusDir, outDir, detectorName string, newDetector func(step time.Duration) NABDetector) (*NABResult, error) {
	if detectorName == "" || strings.ContainsAny(detectorName, `/\`) || detectorName == "." || detectorName == ".." {
		return nil, fmt.Errorf("eval: nab: invalid detector name %q", detectorName)
	}
	files, err := loadNABCorpus(corpusDir)
	if err != nil {
		return nil, err
	}
	series := make([]NABSeries, len(files))
	errs := make([]error, len(files))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range nabWorkers {
		wg.Go(func() {
			for i := range jobs {
				series[i], errs[i] = runNABFile(files[i], outDir, detectorName, newDetector)
			}
		})
	}
	for i := range files {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	res, err := ScoreNAB(series)
	if err != nil {
		return nil, err
	}
	res.Detector = detectorName
	return res, nil
}

// nabResultPath is outDir/<detector>/<category>/<detector>_<name>.csv.
func nabResultPath(outDir, detector, name string) string {
	dir, base := path.Split(name)
	return filepath.Join(outDir, detector, filepath.FromSlash(dir), detector+"_"+base)
}

func runNABFile(f *nabFile, outDir, detector string, newDetector func(time.Duration) NABDetector) (NABSeries, error) {
	d := newDetector(medianStep(f.times))
	scores := make([]float64, len(f.vals))
	for i, v := range f.vals {
		s := d.Observe(f.times[i], v)
		if math.IsNaN(s) {
			s = 0
		}
		scores[i] = min(max(s, 0), 1)
	}
	label := make([]string, len(scores))
	for i := range label {
		label[i] = "0"
	}
	for _, w := range f.windows {
		for i := w.First; i <= w.Last; i++ {
			label[i] = "1"
		}
	}
	p := nabResultPath(outDir, detector, f.name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return NABSeries{}, err
	}
	out, err := os.Create(p)
	if err != nil {
		return NABSeries{}, err
	}
	cw := csv.NewWriter(out)
	cw.Write([]string{"timestamp", "value", "anomaly_score", "label"})
	for i, s := range scores {
		cw.Write([]string{f.stamps[i], f.values[i], strconv.FormatFloat(s, 'f', -1, 64), label[i]})
	}
	cw.Flush()
	err = errors.Join(cw.Error(), out.Close())
	if err != nil {
		return NABSeries{}, fmt.Errorf("eval: nab: %w", err)
	}
	return NABSeries{Name: f.name, Scores: scores, Windows: f.windows}, nil
}

// ScoreNABDir scores result files already written under
// resultsDir/<detector>/ (by RunNAB or by another tool using NAB's layout)
// against the corpus's windows.
func ScoreNABDir(corpusDir, resultsDir, detectorName string) (*NABResult, error) {
	files, err := loadNABCorpus(corpusDir)
	if err != nil {
		return nil, err
	}
	series := make([]NABSeries, len(files))
	for i, f := range files {
		p := nabResultPath(resultsDir, detectorName, f.name)
		header, recs, err := readCSV(p)
		if err != nil {
			return nil, err
		}
		col := slices.Index(header, "anomaly_score")
		if col < 0 {
			return nil, fmt.Errorf("eval: nab: %s: no anomaly_score column", p)
		}
		if len(recs) != len(f.vals) {
			return nil, fmt.Errorf("eval: nab: %s: %d rows, data file has %d", p, len(recs), len(f.vals))
		}
		scores := make([]float64, len(recs))
		for j, r := range recs {
			if scores[j], err = strconv.ParseFloat(r[col], 64); err != nil {
				return nil, fmt.Errorf("eval: nab: %s: row %d: %w", p, j+1, err)
			}
		}
		series[i] = NABSeries{Name: f.name, Scores: scores, Windows: f.windows}
	}
	res, err := ScoreNAB(series)
	if err != nil {
		return nil, err
	}
	res.Detector = detectorName
	return res, nil
}

// loadNABCorpus reads every data file and its windows, ordered by name.
// Every data file must have an entry in the label file.
func loadNABCorpus(corpusDir string) ([]*nabFile, error) {
	labelPath := filepath.Join(corpusDir, "labels", "combined_windows.json")
	b, err := os.ReadFile(labelPath)
	if err != nil {
		return nil, err
	}
	var labels map[string][][]string
	if err := json.Unmarshal(b, &labels); err != nil {
		return nil, fmt.Errorf("eval: nab: %s: %w", labelPath, err)
	}
	dataDir := filepath.Join(corpusDir, "data")
	var files []*nabFile
	err = filepath.WalkDir(dataDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".csv") {
			return err
		}
		rel, err := filepath.Rel(dataDir, p)
		if err != nil {
			return err
		}
		f, err := readNABData(p)
		if err != nil {
			return err
		}
		f.name = filepath.ToSlash(rel)
		bounds, ok := labels[f.name]
		if !ok {
			return fmt.Errorf("eval: nab: %s has no entry in %s", f.name, labelPath)
		}
		if f.windows, err = nabWindows(f.times, bounds); err != nil {
			return fmt.Errorf("eval: nab: %s: %w", f.name, err)
		}
		files = append(files, f)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("eval: nab: no data files under %s", dataDir)
	}
	return files, nil
}

// readNABData reads a timestamp,value file. Timestamps must increase.
func readNABData(p string) (*nabFile, error) {
	header, recs, err := readCSV(p)
	if err != nil {
		return nil, err
	}
	tc, vc := slices.Index(header, "timestamp"), slices.Index(header, "value")
	if tc < 0 || vc < 0 {
		return nil, fmt.Errorf("eval: nab: %s: header %q lacks timestamp or value", p, header)
	}
	f := &nabFile{
		stamps: make([]string, len(recs)),
		times:  make([]time.Time, len(recs)),
		values: make([]string, len(recs)),
		vals:   make([]float64, len(recs)),
	}
	for i, r := range recs {
		t, err := time.Parse(nabTimeLayout, r[tc])
		if err != nil {
			return nil, fmt.Errorf("eval: nab: %s: row %d: %w", p, i+1, err)
		}
		if i > 0 && !t.After(f.times[i-1]) {
			return nil, fmt.Errorf("eval: nab: %s: row %d: timestamp %s does not increase", p, i+1, r[tc])
		}
		v, err := strconv.ParseFloat(r[vc], 64)
		if err != nil {
			return nil, fmt.Errorf("eval: nab: %s: row %d: %w", p, i+1, err)
		}
		f.stamps[i], f.times[i], f.values[i], f.vals[i] = r[tc], t, r[vc], v
	}
	return f, nil
}

// readCSV returns the header and the records of a CSV file.
func readCSV(p string) (header []string, recs [][]string, err error) {
	fh, err := os.Open(p)
	if err != nil {
		return nil, nil, err
	}
	defer fh.Close()
	all, err := csv.NewReader(fh).ReadAll()
	if err != nil {
		return nil, nil, fmt.Errorf("eval: nab: %s: %w", p, err)
	}
	if len(all) == 0 {
		return nil, nil, fmt.Errorf("eval: nab: %s: empty file", p)
	}
	return all[0], all[1:], nil
}

// nabWindows maps [start, end] timestamp pairs to row ranges: the rows
// with start ≤ t ≤ end (NAB bounds are row timestamps; a bound between
// rows is rounded inwards).
func nabWindows(times []time.Time, bounds [][]string) ([]NABWindow, error) {
	ws := make([]NABWindow, 0, len(bounds))
	for _, b := range bounds {
		if len(b) != 2 {
			return nil, fmt.Errorf("window %q: want [start, end]", b)
		}
		start, err := time.Parse(nabTimeLayout, b[0])
		if err != nil {
			return nil, err
		}
		end, err := time.Parse(nabTimeLayout, b[1])
		if err != nil {
			return nil, err
		}
		first, _ := slices.BinarySearchFunc(times, start, time.Time.Compare)
		last, found := slices.BinarySearchFunc(times, end, time.Time.Compare)
		if !found {
			last--
		}
		if first > last {
			return nil, fmt.Errorf("window %q holds no row", b)
		}
		ws = append(ws, NABWindow{First: first, Last: last})
	}
	slices.SortFunc(ws, func(a, b NABWindow) int { return a.First - b.First })
	for i := 1; i < len(ws); i++ {
		if ws[i].First <= ws[i-1].Last {
			return nil, fmt.Errorf("windows overlap at rows %d and %d", ws[i-1].Last, ws[i].First)
		}
	}
	return ws, nil
}

// medianStep is the median gap between consecutive timestamps, 0 for
// fewer than two rows.
func medianStep(times []time.Time) time.Duration {
	if len(times) < 2 {
		return 0
	}
	gaps := make([]time.Duration, len(times)-1)
	for i := range gaps {
		gaps[i] = times[i+1].Sub(times[i])
	}
	slices.Sort(gaps)
	return gaps[len(gaps)/2]
}
