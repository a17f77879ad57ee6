package eval

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"text/tabwriter"
)

// NABProfile is one NAB application profile: the weights of a true
// positive, a false positive and a false negative.
type NABProfile struct {
	Name string  `json:"name"`
	TP   float64 `json:"tp_weight"`
	FP   float64 `json:"fp_weight"`
	FN   float64 `json:"fn_weight"`
}

// NABProfiles returns NAB's three profiles (spec: nab.md).
func NABProfiles() []NABProfile {
	return []NABProfile{
		{Name: "standard", TP: 1, FP: 0.11, FN: 1},
		{Name: "reward_low_FP_rate", TP: 1, FP: 0.22, FN: 1},
		{Name: "reward_low_FN_rate", TP: 1, FP: 0.11, FN: 2},
	}
}

// NABWindow is a labelled anomaly window: rows First..Last of a file,
// both included.
type NABWindow struct {
	First int `json:"first"`
	Last  int `json:"last"`
}

// NABSeries is one scored file: a detector's score for every row and the
// file's windows, sorted and disjoint.
type NABSeries struct {
	Name    string
	Scores  []float64 // in [0,1], one per row
	Windows []NABWindow
}

// NABProfileScore is a detector's result under one profile at one
// threshold.
type NABProfileScore struct {
	// Score is the normalised score, 100·(Raw−Null)/(Perfect−Null): 100 for
	// a detector that fires exactly at every window's left edge, 0 for one
	// that never fires. 0 when the corpus has no scored window.
	Score   float64 `json:"score"`
	Raw     float64 `json:"raw"`
	Null    float64 `json:"null"`    // −A_FN·windows
	Perfect float64 `json:"perfect"` // A_TP·windows
	// Threshold: a row is a detection when its score ≥ Threshold. 1.1
	// (above every score) means the detector is best never firing.
	Threshold float64 `json:"threshold"`
	TP        int     `json:"tp"` // windows with a detection
	FP        int     `json:"fp"` // detections outside windows, after probation
	FN        int     `json:"fn"` // windows without a detection
}

// NABResult is a detector's score on a corpus, per profile name.
type NABResult struct {
	Detector string                     `json:"detector,omitempty"`
	Profiles map[string]NABProfileScore `json:"profiles"`
	Files    int                        `json:"files"`
	// Windows counts the scored windows: those with a row after the
	// probation period (NAB ignores windows inside it).
	Windows int `json:"windows"`
}

// nabNever is the threshold at which no score in [0,1] is a detection
// (NAB uses the same value).
const nabNever = 1.1

// nabSigmoid is NAB's scaled sigmoid s(p) = 2/(1+e^(5p)) − 1.
func nabSigmoid(p float64) float64 { return 2/(1+math.Exp(5*p)) - 1 }

// nabRow is a scored row: its anomaly score, the corpus-wide index of the
// window holding it (−1 outside windows), and the unweighted value of a
// detection there: s(p)/s(−1) inside a window, s(q) (or −1) outside.
type nabRow struct {
	score float64
	win   int
	w     float64
}

// nabRows turns the series into scored rows, dropping the probation
// period: min(floor(0.15·N), 750) rows per file.
func nabRows(series []NABSeries) (rows []nabRow, windows int, err error) {
	maxTP := nabSigmoid(-1)
	for _, s := range series {
		n := len(s.Scores)
		for i, v := range s.Scores {
			if !(v >= 0 && v <= 1) {
				return nil, 0, fmt.Errorf("eval: nab %s: row %d: score %v not in [0,1]", s.Name, i, v)
			}
		}
		for j, w := range s.Windows {
			if w.First < 0 || w.Last < w.First || w.Last >= n || (j > 0 && w.First <= s.Windows[j-1].Last) {
				return nil, 0, fmt.Errorf("eval: nab %s: window %d [%d,%d] out of order or out of range (%d rows)", s.Name, j, w.First, w.Last, n)
			}
		}
		probation := min(n*15/100, 750) // integer floor(0.15·n)
		next := 0                       // index of the next window not yet left
		prevLast, prevWidth := -1, 0    // the last window left, if any
		id := -1                        // corpus index of the current window
		for i, v := range s.Scores {
			if next < len(s.Windows) && i > s.Windows[next].Last {
				prevLast, prevWidth = s.Windows[next].Last, s.Windows[next].Last-s.Windows[next].First+1
				next++
				id = -1
			}
			if i < probation {
				continue
			}
			if next < len(s.Windows) && i >= s.Windows[next].First {
				w := s.Windows[next]
				if id < 0 {
					id = windows
					windows++
				}
				p := -float64(w.Last-i+1) / float64(w.Last-w.First+1)
				rows = append(rows, nabRow{score: v, win: id, w: nabSigmoid(p) / maxTP})
				continue
			}
			fp := -1.0 // no window before this row, or q ≥ 3
			if prevWidth > 1 {
				if q := float64(i-prevLast) / float64(prevWidth-1); q < 3 {
					fp = nabSigmoid(q)
				}
			}
			rows = append(rows, nabRow{score: v, win: -1, w: fp})
		}
	}
	return rows, windows, nil
}

// nabScoreAt scores rows at a threshold: each window earns A_TP times its
// best (earliest) detection or costs A_FN; each detection outside windows
// adds A_FP·s(q).
func nabScoreAt(rows []nabRow, windows int, p NABProfile, threshold float64) NABProfileScore {
	best := make([]float64, windows)
	seen := make([]bool, windows)
	res := NABProfileScore{Threshold: threshold}
	var fp float64
	for _, r := range rows {
		switch {
		case r.score < threshold:
		case r.win < 0:
			fp += r.w
			res.FP++
		case !seen[r.win] || r.w > best[r.win]:
			seen[r.win] = true
			best[r.win] = r.w
		}
	}
	raw := p.FP * fp
	for i := range best {
		if seen[i] {
			raw += p.TP * best[i]
			res.TP++
		} else {
			raw -= p.FN
			res.FN++
		}
	}
	res.Raw = raw
	res.Null = -p.FN * float64(windows)
	res.Perfect = p.TP * float64(windows)
	if windows > 0 {
		res.Score = 100 * (res.Raw - res.Null) / (res.Perfect - res.Null)
	}
	return res
}

// nabBestThreshold sweeps the distinct scores of rows, sorted by score
// from high to low, and returns the threshold with the highest total raw
// score; on a tie the higher threshold wins. "Never fire" (nabNever) is a
// candidate, so the optimum is never below the null score.
func nabBestThreshold(sorted []nabRow, windows int, p NABProfile) float64 {
	best := make([]float64, windows)
	seen := make([]bool, windows)
	total := -p.FN * float64(windows)
	bestTotal, bestThr := total, nabNever
	for i := 0; i < len(sorted); {
		thr := sorted[i].score
		for ; i < len(sorted) && sorted[i].score == thr; i++ {
			r := sorted[i]
			switch {
			case r.win < 0:
				total += p.FP * r.w
			case !seen[r.win]:
				seen[r.win] = true
				best[r.win] = p.TP * r.w
				total += best[r.win] + p.FN
			case p.TP*r.w > best[r.win]:
				total += p.TP*r.w - best[r.win]
				best[r.win] = p.TP * r.w
			}
		}
		if total > bestTotal {
			bestTotal, bestThr = total, thr
		}
	}
	return bestThr
}

// ScoreNAB scores a corpus with NAB's rules: for each profile it chooses
// the one threshold for all files that maximises the total raw score,
// searching every distinct score value, and normalises the result.
func ScoreNAB(series []NABSeries) (*NABResult, error) {
	rows, windows, err := nabRows(series)
	if err != nil {
		return nil, err
	}
	sorted := slices.Clone(rows)
	slices.SortStableFunc(sorted, func(a, b nabRow) int { return cmp.Compare(b.score, a.score) })
	res := &NABResult{Profiles: make(map[string]NABProfileScore), Files: len(series), Windows: windows}
	for _, p := range NABProfiles() {
		res.Profiles[p.Name] = nabScoreAt(rows, windows, p, nabBestThreshold(sorted, windows, p))
	}
	return res, nil
}

// ScoreNABAt scores a corpus under profile p at a fixed threshold. Unlike
// ScoreNAB's optimum, this score can be negative.
func ScoreNABAt(series []NABSeries, p NABProfile, threshold float64) (NABProfileScore, error) {
	rows, windows, err := nabRows(series)
	if err != nil {
		return NABProfileScore{}, err
	}
	return nabScoreAt(rows, windows, p, threshold), nil
}

// WriteTable prints the score per profile as aligned text.
func (r *NABResult) WriteTable(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "profile\tscore\traw\tthreshold\tTP\tFP\tFN\n")
	for _, p := range NABProfiles() {
		s, ok := r.Profiles[p.Name]
		if !ok {
			continue
		}
		fmt.Fprintf(tw, "%s\t%.2f\t%.3f\t%.6g\t%d\t%d\t%d\n", p.Name, s.Score, s.Raw, s.Threshold, s.TP, s.FP, s.FN)
	}
	fmt.Fprintf(tw, "files %d, windows %d\t\t\t\t\t\t\n", r.Files, r.Windows)
	tw.Flush()
}
