package main

import (
	"context"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/trailsight/trailsight/detector"
	"github.com/trailsight/trailsight/eval"
)

// reportInsight is one Insight of a report: its Start and, when it ended,
// its End.
type reportInsight struct {
	start, end *detector.Insight
}

func (r *reportInsight) last() *detector.Insight {
	if r.end != nil {
		return r.end
	}
	return r.start
}

// window is the chart's range: two hours before the Insight to an hour
// after it.
func (r *reportInsight) window() (time.Time, time.Time) {
	in := r.last()
	return in.Start.Add(-2 * time.Hour), in.Start.Add(time.Duration(in.Duration)*time.Minute + time.Hour)
}

// writeReport replays paths once more, tracing the series of every Insight
// in insights, and writes dir/index.html: a table of the Insights and one
// chart each (inline SVG: counts, expectation, normal band, the Insight
// shaded, its statistics and top contributors). It returns the file's path.
func writeReport(ctx context.Context, cfg detector.Config, paths []string, insights []detector.Insight, dir, title string) (string, error) {
	var items []*reportInsight
	byStart := map[string]*reportInsight{}
	for i := range insights {
		in := &insights[i]
		id := in.Key.String() + "@" + in.Start.String()
		r := byStart[id]
		if r == nil {
			r = &reportInsight{}
			byStart[id] = r
			items = append(items, r)
		}
		if in.State == detector.StateStart {
			r.start = in
		} else {
			r.end = in
		}
	}
	items = slices.DeleteFunc(items, func(r *reportInsight) bool { return r.start == nil }) // an End without its Start: not ours to draw
	slices.SortStableFunc(items, func(a, b *reportInsight) int { return a.start.Start.Compare(b.start.Start) })

	// One more replay, tracing every series that has an Insight.
	points := map[detector.Key][]detector.Point{}
	traces := map[detector.Key]func(detector.Point){}
	for _, r := range items {
		k := r.start.Key
		if traces[k] != nil {
			continue
		}
		traces[k] = func(p detector.Point) {
			for _, o := range items {
				if o.start.Key != k {
					continue
				}
				if t0, t1 := o.window(); !p.Minute.Before(t0) && p.Minute.Before(t1) {
					points[k] = append(points[k], p)
					return
				}
			}
		}
	}
	if _, err := replayTraced(ctx, cfg, paths, traces); err != nil {
		return "", err
	}

	var b strings.Builder
	fmt.Fprintf(&b, `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>%[1]s</title>
<style>
body{font-family:sans-serif;margin:2em;color:#023047}
table{border-collapse:collapse}td,th{padding:4px 10px;border-bottom:1px solid #ddd;text-align:left}td:nth-child(2){white-space:nowrap}
td.n{text-align:right}section{margin:2.5em 0}svg{max-width:100%%;height:auto}h2{font-size:1.1em}
</style></head><body>
<h1>%[1]s</h1>
<p>%[2]d Insights. Each chart shows the calls (or errors) per minute of the Insight's series, what the
detector expected, the band it took for normal, and the Insight shaded; the statistics and top
contributors follow it.</p>
<table id="insights"><tr><th>#</th><th>start (UTC)</th><th>minutes</th><th>type</th><th>API</th><th>error</th><th>account</th><th>Region</th><th class="n">baseline / min</th><th class="n">insight / min</th><th>direction</th></tr>
`, html.EscapeString(title), len(items))
	for i, r := range items {
		in := r.last()
		dur := fmt.Sprint(in.Duration)
		if r.end == nil {
			dur += " (open)"
		}
		fmt.Fprintf(&b, `<tr><td><a href="#i%d">%d</a></td><td>%s</td><td>%s</td><td>%s</td><td>%s %s</td><td>%s</td><td>%s</td><td>%s</td><td class="n">%.2f</td><td class="n">%.2f</td><td>%s</td></tr>`+"\n",
			i+1, i+1, in.Start.UTC().Format("2006-01-02 15:04"), dur, in.Key.Type, html.EscapeString(in.Key.EventSource), html.EscapeString(in.Key.EventName),
			html.EscapeString(in.Key.ErrorCode), in.Key.Account, in.Key.Region, in.BaselineAverage, in.InsightAverage, r.start.Direction)
	}
	b.WriteString("</table>\n")
	for i, r := range items {
		in := r.last()
		k := in.Key
		t0, t1 := r.window()
		c := &eval.Chart{Title: fmt.Sprintf("%d. %s %s %s · %s · %s", i+1, k.EventSource, k.EventName, k.ErrorCode, k.Account, k.Region)}
		for _, p := range points[k] {
			if !p.Minute.Before(t0) && p.Minute.Before(t1) {
				c.Points = append(c.Points, chartPoint(k, p))
			}
		}
		for _, o := range items {
			if o.start.Key == k {
				w := eval.ChartWindow{Start: o.start.Start, Label: fmt.Sprintf("%s from %s", o.start.Direction, o.start.Start.UTC().Format("15:04"))}
				if o.end != nil {
					w.End = o.end.Start.Add(time.Duration(o.end.Duration) * time.Minute)
				}
				c.Windows = append(c.Windows, w)
			}
		}
		c.Caption = append(c.Caption, fmt.Sprintf("%s %s from %s for %d min: %.2f a minute against a baseline of %.2f (p = %.1e over %d min)",
			k.Type, r.start.Direction, in.Start.UTC().Format("2006-01-02 15:04Z"), in.Duration, in.InsightAverage, in.BaselineAverage, r.start.PValue, r.start.Scale))
		for _, a := range in.Attributions {
			if len(a.Insight) > 0 {
				c.Caption = append(c.Caption, fmt.Sprintf("top %s: %s (%.2f a minute)", a.Attribute, a.Insight[0].Value, a.Insight[0].Average))
			}
		}
		fmt.Fprintf(&b, "<section id=\"i%d\"><h2>%d. %s on %s %s</h2>\n", i+1, i+1, k.Type, html.EscapeString(k.EventSource), html.EscapeString(k.EventName))
		b.Write(c.SVG())
		b.WriteString("</section>\n")
	}
	b.WriteString("</body></html>\n")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, "index.html")
	return path, os.WriteFile(path, []byte(b.String()), 0o644)
}
