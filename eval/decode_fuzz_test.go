package eval

import (
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzReadNABData feeds arbitrary CSV text to the NAB data reader: an error
// or a file whose rows all parsed, never a panic.
func FuzzReadNABData(f *testing.F) {
	f.Add([]byte("timestamp,value\n2014-04-01 00:00:00,1.5\n2014-04-01 00:05:00,2\n"))
	f.Add([]byte("value,timestamp\n3,2014-04-01 00:00:00\n"))
	f.Add([]byte("timestamp,value\n2014-04-01 00:05:00,1\n2014-04-01 00:00:00,1\n"))
	f.Add([]byte("\"timestamp\",value\n\"2014-04-01 00:00:00\",NaN\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 1<<16 {
			return
		}
		p := filepath.Join(t.TempDir(), "x.csv")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		nf, err := readNABData(p)
		if err != nil {
			return
		}
		for i := 1; i < len(nf.times); i++ {
			if !nf.times[i].After(nf.times[i-1]) {
				t.Fatalf("accepted non-increasing timestamps at row %d", i+1)
			}
		}
	})
}

// FuzzLoadLabels feeds arbitrary JSON to the labels loader.
func FuzzLoadLabels(f *testing.F) {
	f.Add([]byte(`{"labels":[{"id":"a","account":"1","region":"r","type":"ApiCallRateInsight","kind":"k","start":"2026-01-12T00:00:00Z","end":"2026-01-12T01:00:00Z"}]}`))
	f.Add([]byte(`{"labels":[{"start":"2026-01-12T01:00:00Z","end":"2026-01-12T00:00:00Z"}]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 1<<16 {
			return
		}
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "labels.json"), b, 0o644); err != nil {
			t.Fatal(err)
		}
		ls, err := LoadLabels(dir)
		if err != nil {
			return
		}
		for _, l := range ls.Labels {
			if l.End.Before(l.Start) {
				t.Fatalf("accepted label %q ending before it starts", l.ID)
			}
		}
	})
}

// FuzzNABModel drives the NAB adapter of the models with arbitrary values:
// scores stay in [0, 1] and never NaN.
func FuzzNABModel(f *testing.F) {
	f.Add(int64(5), []byte{1, 2, 3, 200, 4, 5})
	f.Add(int64(60), []byte{0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, stepMin int64, vals []byte) {
		if stepMin < 1 || stepMin > 1440 || len(vals) > 4096 {
			return
		}
		d := NewNABModel(time.Duration(stepMin) * time.Minute)
		t0 := time.Date(2014, 4, 1, 0, 0, 0, 0, time.UTC)
		for i := 0; i < 3; i++ { // enough rows to fix the scale
			for j, v := range vals {
				x := float64(int8(v)) * math.Pow(10, float64(j%7-3))
				s := d.Observe(t0.Add(time.Duration(i*len(vals)+j)*time.Duration(stepMin)*time.Minute), x)
				if math.IsNaN(s) || s < 0 || s > 1 {
					t.Fatalf("score %v for value %v", s, x)
				}
			}
		}
	})
}
