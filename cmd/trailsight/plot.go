package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/trailsight/trailsight/datasets"
	"github.com/trailsight/trailsight/detector"
	"github.com/trailsight/trailsight/eval"
)

// runPlot replays a trail and draws one series as SVG: its counts per
// minute, what the detector expected, the band it took for normal, and each
// Insight's window shaded, with the statistics under it.
func runPlot(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("plot", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg detector.Config
	cfg.RegisterFlags(fs)
	var k detector.Key
	fs.StringVar(&k.Account, "account", "", "Account ID (required).")
	fs.StringVar(&k.Region, "region", "us-east-1", "Region.")
	fs.StringVar(&k.EventSource, "source", "", "eventSource, e.g. ec2.amazonaws.com (required).")
	fs.StringVar(&k.EventName, "name", "", "eventName, e.g. RunInstances (required).")
	fs.StringVar(&k.ErrorCode, "error-code", "", "Error code: plots the error-rate series of that code.")
	from := fs.String("from", "", "First minute (RFC 3339; required).")
	to := fs.String("to", "", "Last minute (RFC 3339; required).")
	out := fs.String("out", "", "SVG file to write; - or empty writes to stdout.")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: trailsight plot -account A -source S -name N [-region R] [-error-code C] -from T -to T [-out FILE.svg] PATH...\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 || k.Account == "" || k.EventSource == "" || k.EventName == "" || *from == "" || *to == "" {
		fs.Usage()
		return errors.New("plot: -account, -source, -name, -from, -to and a PATH are required")
	}
	t0, err := time.Parse(time.RFC3339, *from)
	if err != nil {
		return fmt.Errorf("-from=%q: %w", *from, err)
	}
	t1, err := time.Parse(time.RFC3339, *to)
	if err != nil {
		return fmt.Errorf("-to=%q: %w", *to, err)
	}
	k.Type = detector.APICallRate
	if k.ErrorCode != "" {
		k.Type = detector.APIErrorRate
	}
	if m, err := datasets.LoadManifest(fs.Arg(0)); err == nil {
		cfg.TimeZones = m.TimeZones()
	}
	c, err := traceChart(ctx, cfg, k, t0, t1, fs.Args())
	if err != nil {
		return err
	}
	svg := c.SVG()
	if *out == "" || *out == "-" {
		_, err = stdout.Write(svg)
		return err
	}
	if err := os.WriteFile(*out, svg, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d minutes, %d Insights\n", *out, len(c.Points), len(c.Windows))
	return nil
}

// traceChart replays paths and returns the chart of series k over [t0, t1].
func traceChart(ctx context.Context, cfg detector.Config, k detector.Key, t0, t1 time.Time, paths []string) (*eval.Chart, error) {
	c := &eval.Chart{Title: fmt.Sprintf("%s %s %s %s · %s · %s", k.EventSource, k.EventName, k.ErrorCode, k.Type, k.Account, k.Region)}
	insights, err := replayTraced(ctx, cfg, paths, map[detector.Key]func(detector.Point){k: func(p detector.Point) {
		if !p.Minute.Before(t0) && !p.Minute.After(t1) {
			c.Points = append(c.Points, chartPoint(k, p))
		}
	}})
	if err != nil {
		return nil, err
	}
	open := map[time.Time]int{} // Start minute → window index
	for _, in := range insights {
		if in.Key != k {
			continue
		}
		i, ok := open[in.Start]
		if !ok {
			i = len(c.Windows)
			open[in.Start] = i
			c.Windows = append(c.Windows, eval.ChartWindow{Start: in.Start})
		}
		w := &c.Windows[i]
		w.Label = fmt.Sprintf("%s %s from %s", in.Direction, k.Type, in.Start.UTC().Format("2006-01-02 15:04Z"))
		if in.State == detector.StateEnd {
			w.End = in.Start.Add(time.Duration(in.Duration) * time.Minute)
			w.Label += fmt.Sprintf(", %d min", in.Duration)
		}
		if in.Start.Before(t0) || in.Start.After(t1) {
			continue
		}
		c.Caption = append(c.Caption, fmt.Sprintf("%s %s at %s: %.2f a minute over %d min against a baseline of %.2f (p = %.1e over %d min)",
			in.State, in.Direction, in.Start.UTC().Format("2006-01-02 15:04Z"), in.InsightAverage, in.Duration, in.BaselineAverage, in.PValue, in.Scale))
	}
	return c, nil
}

// chartPoint is what a chart draws of a traced minute: for call rates the
// minute-of-hour expectation (the drop yardstick, which follows cron-like
// work), for error rates the expected errors given the API's calls.
func chartPoint(k detector.Key, p detector.Point) eval.ChartPoint {
	if k.Type == detector.APIErrorRate {
		return eval.ChartPoint{Minute: p.Minute, Count: p.Count, Expected: p.Expected, Band: p.Band}
	}
	return eval.ChartPoint{Minute: p.Minute, Count: p.Count, Expected: p.ExpectedMinute, Band: p.BandMinute}
}
