package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/trailsight/trailsight/cloudtrail"
	"github.com/trailsight/trailsight/datasets"
	"github.com/trailsight/trailsight/detector"
	"github.com/trailsight/trailsight/eval"
)

// runExplain prints why an Insight fired: it replays the trail the Insight
// came from and shows, minute by minute around it, the count, what the
// detector expected and allowed, and the tail probabilities it compared
// with the threshold; then the Insight's statistics and top contributors.
func runExplain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("explain", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg detector.Config
	cfg.RegisterFlags(fs)
	data := fs.String("data", "", "The trail the Insight came from (required): the PATHs a replay was given, comma-separated.")
	insights := fs.String("insights", "", "Where the Insight is: an Insights file, or a directory of them (the replay's -out).")
	before := fs.Duration("before", time.Hour, "How much to show before the Insight's start.")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: trailsight explain -data PATH[,PATH] -insights FILE|DIR [flags] EVENT-ID\n\nEVENT-ID is the Insight record's eventID or sharedEventID.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 || *data == "" || *insights == "" {
		fs.Usage()
		return errors.New("explain: -data, -insights and an EVENT-ID are required")
	}
	recs, err := loadInsightRecords(*insights)
	if err != nil {
		return err
	}
	id := fs.Arg(0)
	var start, end *cloudtrail.InsightRecord
	for i := range recs {
		r := &recs[i]
		if r.EventID != id && r.SharedEventID != id {
			continue
		}
		if r.State == "Start" {
			start = r
		} else {
			end = r
		}
	}
	if start == nil && end == nil {
		return fmt.Errorf("explain: no Insight %s in %s", id, *insights)
	}
	// The End is authoritative (spec §2.9 #3); its eventTime is the end,
	// Start + insightDuration (§2.5).
	rec := end
	if rec == nil {
		rec = start
	}
	from := rec.EventTime
	if rec == end {
		from = end.EventTime.Add(-time.Duration(end.InsightDuration) * time.Minute)
	}
	k := detector.Key{Account: rec.RecipientAccountID, Region: rec.AWSRegion, EventSource: rec.EventSource,
		EventName: rec.EventName, ErrorCode: rec.ErrorCode, Type: detector.APICallRate}
	if rec.InsightType == detector.APIErrorRate.String() {
		k.Type = detector.APIErrorRate
	}
	paths := splitList(*data)
	if m, err := datasets.LoadManifest(paths[0]); err == nil {
		cfg.TimeZones = m.TimeZones()
	}
	t0 := from.Add(-*before)
	t1 := from.Add(time.Duration(rec.InsightDuration+10) * time.Minute)
	var pts []detector.Point
	traced, err := replayTraced(ctx, cfg, paths, map[detector.Key]func(detector.Point){k: func(p detector.Point) {
		if !p.Minute.Before(t0) && !p.Minute.After(t1) {
			pts = append(pts, p)
		}
	}})
	if err != nil {
		return err
	}
	var fired *detector.Insight
	for i := range traced {
		in := &traced[i]
		if in.Key == k && in.State == detector.StateStart && in.Start.Equal(from) {
			fired = in
		}
	}

	fmt.Fprintf(stdout, "%s on %s %s %s in account %s, %s\n", rec.InsightType, rec.EventSource, rec.EventName, rec.ErrorCode, rec.RecipientAccountID, rec.AWSRegion)
	fmt.Fprintf(stdout, "from %s for %d minutes: %.2f a minute against a baseline of %.2f a minute (over %d minutes of history)\n\n",
		from.Format("2006-01-02 15:04Z"), rec.InsightDuration, rec.InsightAverage, rec.BaselineAverage, rec.BaselineDuration)
	if fired != nil {
		fmt.Fprintf(stdout, "Why it started: a %s over %d minute(s) whose tail probability under the model was %.2g,\n", fired.Direction, fired.Scale, fired.PValue)
		fmt.Fprintf(stdout, "below the threshold of %.2g (-detector.start-p %.2g per minute of window × %d); the model expected %.2f a minute.\n",
			cfg.StartP*float64(fired.Scale), cfg.StartP, fired.Scale, fired.Expected)
		fmt.Fprintf(stdout, "It ends after %d normal minutes, at the change point.\n\n", cfg.CoolDown)
	} else {
		fmt.Fprintln(stdout, "This replay did not start the Insight at that minute: other data or settings than the run that wrote it?")
		fmt.Fprintln(stdout)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "minute\tcount\texpected\t± band\tp spike 1m\tp spike 10m\tp drop 10m\tp drop 40m\t\t")
	for _, p := range pts {
		mark := "" // (Point.Open is not shown: an early Start opens before the minute closes)
		switch {
		case !p.Minute.Before(from) && p.Minute.Before(from.Add(time.Duration(rec.InsightDuration)*time.Minute)):
			mark = "INSIGHT"
		}
		if p.Gap {
			mark += " gap"
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%.2f\t%.2f\t%s\t%s\t%s\t%s\t%s\t\n", p.Minute.Format("01-02 15:04"), p.Count, p.Expected, p.Band,
			pval(p.SpikeP[0]), pval(p.SpikeP[1]), pval(p.DropP[0]), pval(p.DropP[2]), mark)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, a := range rec.Attributions {
		fmt.Fprintf(stdout, "\nTop %s during the Insight (baseline):\n", a.Attribute)
		base := map[string]float64{}
		for _, v := range a.Baseline {
			base[v.Value] = v.Average
		}
		for _, v := range a.Insight {
			fmt.Fprintf(stdout, "  %8.2f a minute (%.2f)  %s\n", v.Average, base[v.Value], v.Value)
		}
	}
	return nil
}

func pval(p float64) string {
	if p >= 1 {
		return "-"
	}
	return fmt.Sprintf("%.1e", p)
}

// loadInsightRecords reads the Insights records of a file or a tree.
func loadInsightRecords(path string) ([]cloudtrail.InsightRecord, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		ds, err := eval.LoadInsightsDir(path)
		if err != nil {
			return nil, err
		}
		out := make([]cloudtrail.InsightRecord, len(ds))
		for i := range ds {
			out[i] = ds[i].Record
		}
		return out, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	recs, err := cloudtrail.DecodeInsightFile(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return recs, nil
}
