package eval

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
	"time"
)

// ChartPoint is one minute of a series as the detector saw it.
type ChartPoint struct {
	Minute   time.Time
	Count    float64 // calls (or errors) in the minute
	Expected float64 // what the model expected for the minute
	Band     float64 // the spread it allowed around Expected (one side)
}

// ChartWindow is an Insight's span, shaded on the chart.
type ChartWindow struct {
	Start, End time.Time // End exclusive; zero while the Insight is open
	Label      string
}

// Chart is one series over a time range: what AWS's console draws for an
// Insight (the rate, the baseline, the unusual window shaded), plus the
// band the detector took for normal.
type Chart struct {
	Title   string
	Caption []string // lines under the chart: the statistics
	Points  []ChartPoint
	Windows []ChartWindow
}

// Chart geometry, in SVG user units.
const (
	chartW, chartH         = 960, 360
	padL, padR, padT, padB = 60, 20, 56, 40
	captionLine            = 18
)

// SVG renders c as a standalone SVG document: deterministic text, no
// scripts, no external references, so a report can inline it and a test
// can read it.
func (c *Chart) SVG() []byte {
	h := chartH + captionLine*len(c.Caption)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", chartW, h, chartW, h)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", chartW, h)
	fmt.Fprintf(&b, `<text x="%d" y="24" font-size="15" font-weight="bold">%s</text>`+"\n", padL, html.EscapeString(c.Title))
	if len(c.Points) == 0 {
		fmt.Fprintf(&b, `<text x="%d" y="%d">no data in the range</text>`+"\n", padL, padT+40)
		b.WriteString("</svg>\n")
		return []byte(b.String())
	}
	t0, t1 := c.Points[0].Minute, c.Points[len(c.Points)-1].Minute.Add(time.Minute)
	ymax := 1.0
	for _, p := range c.Points {
		ymax = math.Max(ymax, math.Max(p.Count, p.Expected+p.Band))
	}
	ymax = niceCeil(ymax)
	plotW, plotH := float64(chartW-padL-padR), float64(chartH-padT-padB)
	x := func(t time.Time) float64 {
		return float64(padL) + plotW*t.Sub(t0).Seconds()/t1.Sub(t0).Seconds()
	}
	y := func(v float64) float64 { return float64(padT) + plotH*(1-v/ymax) }
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

	// Insight windows first, under everything.
	for _, w := range c.Windows {
		ws, we := w.Start, w.End
		if we.IsZero() || we.After(t1) {
			we = t1
		}
		if ws.Before(t0) {
			ws = t0
		}
		if !we.After(ws) {
			continue
		}
		fmt.Fprintf(&b, `<rect class="insight" x="%s" y="%d" width="%s" height="%s" fill="#f4a261" fill-opacity="0.3"><title>%s</title></rect>`+"\n",
			f(x(ws)), padT, f(x(we)-x(ws)), f(plotH), html.EscapeString(w.Label))
	}
	// Grid and axes.
	for i := 0; i <= 4; i++ {
		v := ymax * float64(i) / 4
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%s" y2="%s" stroke="#dddddd"/><text x="%d" y="%s" text-anchor="end">%s</text>`+"\n",
			padL, chartW-padR, f(y(v)), f(y(v)), padL-6, f(y(v)+4), strconv.FormatFloat(v, 'g', 4, 64))
	}
	span := t1.Sub(t0)
	for _, tk := range timeTicks(t0, t1) {
		layout := "15:04"
		if span > 36*time.Hour {
			layout = "01-02 15:04"
		}
		fmt.Fprintf(&b, `<text x="%s" y="%d" text-anchor="middle">%s</text>`+"\n", f(x(tk)), chartH-padB+16, tk.UTC().Format(layout))
	}
	// The band the detector took for normal, then what it expected, then
	// what happened.
	var band strings.Builder
	for i, p := range c.Points {
		cmd := "L"
		if i == 0 {
			cmd = "M"
		}
		fmt.Fprintf(&band, "%s%s,%s ", cmd, f(x(p.Minute)), f(y(p.Expected+p.Band)))
	}
	for i := len(c.Points) - 1; i >= 0; i-- {
		p := c.Points[i]
		fmt.Fprintf(&band, "L%s,%s ", f(x(p.Minute)), f(y(math.Max(p.Expected-p.Band, 0))))
	}
	fmt.Fprintf(&b, `<path class="band" d="%sZ" fill="#8ecae6" fill-opacity="0.4" stroke="none"/>`+"\n", band.String())
	polyline := func(class, color string, width float64, val func(ChartPoint) float64) {
		fmt.Fprintf(&b, `<polyline class="%s" fill="none" stroke="%s" stroke-width="%s" points="`, class, color, f(width))
		for i, p := range c.Points {
			if i > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "%s,%s", f(x(p.Minute)), f(y(val(p))))
		}
		b.WriteString(`"/>` + "\n")
	}
	polyline("expected", "#219ebc", 1.5, func(p ChartPoint) float64 { return p.Expected })
	polyline("count", "#023047", 1, func(p ChartPoint) float64 { return p.Count })
	// Legend and caption.
	items := []struct{ mark, label string }{
		{`<line x1="0" x2="20" y1="-4" y2="-4" stroke="#023047"/>`, "per minute"},
		{`<line x1="0" x2="20" y1="-4" y2="-4" stroke="#219ebc" stroke-width="1.5"/>`, "expected"},
		{`<rect x="0" y="-10" width="20" height="12" fill="#8ecae6" fill-opacity="0.4"/>`, "normal band"},
		{`<rect x="0" y="-10" width="20" height="12" fill="#f4a261" fill-opacity="0.3"/>`, "Insight"},
	}
	b.WriteString(`<g class="legend">`)
	for i, it := range items {
		fmt.Fprintf(&b, `<g transform="translate(%d,44)">%s<text x="26" y="0">%s</text></g>`, padL+i*130, it.mark, it.label)
	}
	b.WriteString("</g>\n")
	for i, line := range c.Caption {
		fmt.Fprintf(&b, `<text class="caption" x="%d" y="%d">%s</text>`+"\n", padL, chartH+captionLine*i+4, html.EscapeString(line))
	}
	b.WriteString("</svg>\n")
	return []byte(b.String())
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

// timeTicks returns about six round times in [t0, t1).
func timeTicks(t0, t1 time.Time) []time.Time {
	steps := []time.Duration{5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour,
		2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour, 48 * time.Hour, 7 * 24 * time.Hour}
	step := steps[len(steps)-1]
	for _, s := range steps {
		if t1.Sub(t0)/s <= 8 {
			step = s
			break
		}
	}
	var out []time.Time
	for t := t0.Truncate(step); t.Before(t1); t = t.Add(step) {
		if !t.Before(t0) {
			out = append(out, t)
		}
	}
	return out
}
