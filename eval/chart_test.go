package eval_test

import (
	"encoding/xml"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/trailsight/trailsight/eval"
	"github.com/trailsight/trailsight/internal/golden"
)

func testChart() *eval.Chart {
	t0 := time.Date(2026, 1, 12, 10, 0, 0, 0, time.UTC)
	c := &eval.Chart{Title: "ec2.amazonaws.com RunInstances ApiCallRateInsight · 111122223333 · us-east-1",
		Caption: []string{"Start spike at 2026-01-12 10:30Z: 40.00 a minute over 3 min against a baseline of 3.00"}}
	for i := range 120 {
		n := 3 + 2*math.Sin(float64(i)/7)
		if i >= 30 && i < 45 {
			n = 40
		}
		c.Points = append(c.Points, eval.ChartPoint{Minute: t0.Add(time.Duration(i) * time.Minute), Count: math.Round(n), Expected: 3, Band: 2.5})
	}
	c.Windows = []eval.ChartWindow{{Start: t0.Add(30 * time.Minute), End: t0.Add(45 * time.Minute), Label: "spike <& 15 min"}}
	return c
}

// TestChartSVG checks the chart's content (well-formed XML, one shaded
// window where the Insight was, every minute on the count line, the
// caption) and its bytes against a golden file.
func TestChartSVG(t *testing.T) {
	c := testChart()
	svg := c.SVG()
	var doc struct {
		Rects []struct {
			Class string  `xml:"class,attr"`
			X     float64 `xml:"x,attr"`
			Width float64 `xml:"width,attr"`
			Title string  `xml:"title"`
		} `xml:"rect"`
		Polylines []struct {
			Class  string `xml:"class,attr"`
			Points string `xml:"points,attr"`
		} `xml:"polyline"`
		Texts []struct {
			Class string `xml:"class,attr"`
			Text  string `xml:",chardata"`
		} `xml:"text"`
	}
	if err := xml.Unmarshal(svg, &doc); err != nil {
		t.Fatalf("not well-formed SVG: %v", err)
	}
	var windows int
	for _, r := range doc.Rects {
		if r.Class != "insight" {
			continue
		}
		windows++
		// 880 units for 120 minutes: the window starts at minute 30, lasts 15.
		if math.Abs(r.X-(60+880*30.0/120)) > 0.1 || math.Abs(r.Width-880*15.0/120) > 0.1 || r.Title != "spike <& 15 min" {
			t.Errorf("Insight window at x=%v width=%v title %q", r.X, r.Width, r.Title)
		}
	}
	if windows != 1 {
		t.Errorf("%d shaded windows, want 1", windows)
	}
	for _, p := range doc.Polylines {
		if n := len(strings.Fields(p.Points)); n != 120 {
			t.Errorf("%s line has %d points, want 120", p.Class, n)
		}
	}
	found := false
	for _, tx := range doc.Texts {
		found = found || (tx.Class == "caption" && strings.Contains(tx.Text, "40.00 a minute"))
	}
	if !found {
		t.Error("the caption is missing")
	}
	golden.Check(t, "testdata/chart.golden.svg", svg)
}

func TestChartEmpty(t *testing.T) {
	c := &eval.Chart{Title: "nothing"}
	if !strings.Contains(string(c.SVG()), "no data in the range") {
		t.Error("an empty chart does not say so")
	}
}
