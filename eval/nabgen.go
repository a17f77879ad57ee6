package eval

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// GenerateNABCorpus writes a small synthetic corpus in NAB's layout under
// dir: data/<category>/<name>.csv and labels/combined_windows.json. The
// same seed gives the same bytes.
//
// Files (5- and 10-minute steps, 2,000–4,000 rows):
//   - artificialWithAnomaly/daily_spikes.csv: noisy daily cycle, three
//     short spikes;
//   - artificialWithAnomaly/level_shift.csv: noisy level that steps up;
//   - artificialWithAnomaly/flatline_failure.csv: 10-minute daily cycle
//     that freezes at its last value (a stuck sensor);
//   - artificialNoAnomaly/daily_noise.csv: noisy daily cycle, no anomaly.
//
// Windows follow NAB's labelling: width 10% of the file length divided by
// the number of anomalies, centred on each anomaly, and all after the
// probation period.
func GenerateNABCorpus(dir string, seed int64) error {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x6e61622d636f7270))
	start := time.Date(2014, 4, 1, 0, 0, 0, 0, time.UTC)
	daily := func(i int, step time.Duration) float64 {
		return math.Sin(2 * math.Pi * float64(time.Duration(i)*step) / float64(24*time.Hour))
	}

	type file struct {
		name      string
		step      time.Duration
		values    []float64
		anomalies []int
	}
	var files []file

	// Daily cycle with three spikes of two rows each.
	f := file{name: "artificialWithAnomaly/daily_spikes.csv", step: 5 * time.Minute, anomalies: []int{1500, 2600, 3500}}
	for i := range 4032 {
		f.values = append(f.values, 50+20*daily(i, f.step)+3*rng.NormFloat64())
	}
	for _, a := range f.anomalies {
		f.values[a] += 60
		f.values[a+1] += 45
	}
	files = append(files, f)

	// A level that steps from 100 to 140.
	f = file{name: "artificialWithAnomaly/level_shift.csv", step: 5 * time.Minute, anomalies: []int{2000}}
	for i := range 3000 {
		v := 100 + 5*rng.NormFloat64()
		if i >= 2000 {
			v += 40
		}
		f.values = append(f.values, v)
	}
	files = append(files, f)

	// A daily cycle that freezes: the sensor keeps reporting its last value.
	f = file{name: "artificialWithAnomaly/flatline_failure.csv", step: 10 * time.Minute, anomalies: []int{1900}}
	for i := range 2500 {
		v := 30 + 10*daily(i, f.step) + 2*rng.NormFloat64()
		if i >= 1900 {
			v = f.values[1899]
		}
		f.values = append(f.values, v)
	}
	files = append(files, f)

	f = file{name: "artificialNoAnomaly/daily_noise.csv", step: 5 * time.Minute}
	for i := range 2016 {
		f.values = append(f.values, 200+40*daily(i, f.step)+8*rng.NormFloat64())
	}
	files = append(files, f)

	labels := make(map[string][][2]string)
	for _, f := range files {
		var b strings.Builder
		b.WriteString("timestamp,value\n")
		for i, v := range f.values {
			b.WriteString(start.Add(time.Duration(i) * f.step).Format(nabTimeLayout))
			b.WriteByte(',')
			b.WriteString(strconv.FormatFloat(math.Round(v*1000)/1000, 'f', -1, 64))
			b.WriteByte('\n')
		}
		p := filepath.Join(dir, "data", filepath.FromSlash(f.name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
			return err
		}
		ws := make([][2]string, 0, len(f.anomalies))
		for _, a := range f.anomalies {
			half := len(f.values) / 10 / len(f.anomalies) / 2
			first, last := max(a-half, 0), min(a+half, len(f.values)-1)
			ws = append(ws, [2]string{
				start.Add(time.Duration(first) * f.step).Format(nabWindowLayout),
				start.Add(time.Duration(last) * f.step).Format(nabWindowLayout),
			})
		}
		labels[f.name] = ws
	}
	b, err := json.MarshalIndent(labels, "", "    ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dir, "labels"), 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "labels", "combined_windows.json"), append(b, '\n'), 0o644)
}
