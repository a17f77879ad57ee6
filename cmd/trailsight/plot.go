package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"time"

	"github.com/trailsight/trailsight/cloudtrail"
	"github.com/trailsight/trailsight/detector"
	"github.com/trailsight/trailsight/eval"
)

// runPlot draws one series as SVG: its counts per minute, what the detector
// expected, the band it took for normal, and each Insight's window shaded,
// with the statistics under it; from a replay of a trail, or from a running
// instance (-server).
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
	server := fs.String("server", "", "A running `trailsight serve` (its -http.listen, e.g. http://127.0.0.1:9464): plot the series as it holds it now, about the last two hours, instead of replaying a trail.")
	id := fs.String("id", "", "With -server: the series of this Insight (its eventID or sharedEventID), instead of -account, -source and -name.")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: trailsight plot -account A -source S -name N [-region R] [-error-code C] -from T -to T [-out FILE.svg] PATH...\n"+
			"       trailsight plot -server URL -account A -source S -name N [-region R] [-error-code C] [-from T] [-to T] [-out FILE.svg]\n"+
			"       trailsight plot -server URL -id EVENT-ID [-out FILE.svg]\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	live := *server != ""
	byID := live && *id != ""
	if (!byID && (k.Account == "" || k.EventSource == "" || k.EventName == "")) || (!live && (fs.NArg() == 0 || *from == "" || *to == "" || *id != "")) || (live && fs.NArg() > 0) {
		fs.Usage()
		return errors.New("plot: -account, -source, -name and either -from, -to and a PATH, or -server; or -server and -id")
	}
	var t0, t1 time.Time
	var err error
	if *from != "" {
		if t0, err = time.Parse(time.RFC3339, *from); err != nil {
			return fmt.Errorf("-from=%q: %w", *from, err)
		}
	}
	if *to != "" {
		if t1, err = time.Parse(time.RFC3339, *to); err != nil {
			return fmt.Errorf("-to=%q: %w", *to, err)
		}
	}
	k.Type = detector.APICallRate
	if k.ErrorCode != "" {
		k.Type = detector.APIErrorRate
	}
	var c *eval.Chart
	if live {
		q := url.Values{"account": {k.Account}, "region": {k.Region}, "source": {k.EventSource},
			"name": {k.EventName}, "error_code": {k.ErrorCode}}
		if byID {
			q = url.Values{"id": {*id}}
		}
		v, err := fetchSeries(ctx, *server, q)
		if err != nil {
			return err
		}
		c = liveChart(v, t0, t1)
	} else {
		if err := applyDataset(&cfg, fs, fs.Arg(0)); err != nil {
			return err
		}
		if c, err = traceChart(ctx, cfg, k, t0, t1, fs.Args()); err != nil {
			return err
		}
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
	c := &eval.Chart{Title: chartTitle(k)}
	insights, err := replayTraced(ctx, cfg, paths, map[detector.Key]func(detector.Point){k: func(p detector.Point) {
		if !p.Minute.Before(t0) && !p.Minute.After(t1) {
			c.Points = append(c.Points, chartPoint(k, p))
		}
	}})
	if err != nil {
		return nil, err
	}
	var ins []liveInsight
	for i := range insights {
		if insights[i].Key == k {
			ins = append(ins, newLiveInsight(&insights[i]))
		}
	}
	addWindows(c, ins, t0, t1)
	return c, nil
}

func chartTitle(k detector.Key) string {
	return fmt.Sprintf("%s %s %s %s · %s · %s", k.EventSource, k.EventName, k.ErrorCode, k.Type, k.Account, k.Region)
}

// addWindows shades the window of each Insight of a series (its Start and
// End paired by sharedEventID; an open one runs to the chart's edge) and
// captions the transitions that start within [t0, t1].
func addWindows(c *eval.Chart, ins []liveInsight, t0, t1 time.Time) {
	index := map[string]int{} // sharedEventID → window
	for _, li := range ins {
		r := &li.rec
		start := insightStart(r)
		i, ok := index[r.SharedEventID]
		if !ok {
			i = len(c.Windows)
			index[r.SharedEventID] = i
			c.Windows = append(c.Windows, eval.ChartWindow{Start: start})
		}
		w := &c.Windows[i]
		w.Label = fmt.Sprintf("%s %s from %s", li.Direction, r.InsightType, start.UTC().Format("2006-01-02 15:04Z"))
		if r.State == cloudtrail.StateEnd {
			w.End = r.EventTime
			w.Label += fmt.Sprintf(", %d min", r.InsightDuration)
		}
		if start.Before(t0) || start.After(t1) {
			continue
		}
		c.Caption = append(c.Caption, fmt.Sprintf("%s %s at %s: %.2f a minute over %d min against a baseline of %.2f (p = %.1e over %d min)",
			r.State, li.Direction, start.UTC().Format("2006-01-02 15:04Z"), r.InsightAverage, r.InsightDuration, r.BaselineAverage, li.PValue, li.Scale))
	}
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
