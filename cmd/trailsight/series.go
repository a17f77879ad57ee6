package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/trailsight/trailsight/consumers"
	"github.com/trailsight/trailsight/detector"
)

// runSeries replays a trail and prints one series minute by minute with
// what the detector expected: a text view of what `plot` will draw.
func runSeries(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("series", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg detector.Config
	cfg.RegisterFlags(fs)
	var k detector.Key
	fs.StringVar(&k.Account, "account", "", "Account ID.")
	fs.StringVar(&k.Region, "region", "", "Region.")
	fs.StringVar(&k.EventSource, "source", "", "eventSource.")
	fs.StringVar(&k.EventName, "name", "", "eventName.")
	fs.StringVar(&k.ErrorCode, "error-code", "", "Error code (error-rate series).")
	from := fs.String("from", "", "First minute to print (RFC 3339).")
	to := fs.String("to", "", "Last minute to print (RFC 3339).")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 || k.Account == "" || k.EventName == "" {
		return errors.New("series: usage: trailsight series -account A -region R -source S -name N [-error-code C] -from T -to T DATASET")
	}
	k.Type = detector.APICallRate
	if k.ErrorCode != "" {
		k.Type = detector.APIErrorRate
	}
	t0, err := time.Parse(time.RFC3339, *from)
	if err != nil {
		return err
	}
	t1, err := time.Parse(time.RFC3339, *to)
	if err != nil {
		return err
	}
	if err := applyDataset(&cfg, fs, fs.Arg(0)); err != nil {
		return err
	}
	insights, err := replayTraced(ctx, cfg, fs.Args(), map[detector.Key]func(detector.Point){k: func(p detector.Point) {
		if p.Minute.Before(t0) || p.Minute.After(t1) {
			return
		}
		flag := ""
		if p.Open {
			flag = "OPEN"
		}
		if p.Gap {
			flag += " gap"
		}
		if p.NoveltyP[0] < 1 || p.NoveltyP[1] < 1 {
			flag = fmt.Sprintf("novelty p(10,30)=%.1e,%.1e %s", p.NoveltyP[0], p.NoveltyP[1], flag)
		}
		fmt.Fprintf(stdout, "%s count=%5.0f hour=%7.2f±%6.2f minute=%7.2f±%6.2f calls=%5.0f spike p=%.1e,%.1e drop p(10,20,80)=%.1e,%.1e,%.1e blocks p(2h,3h,3.75h)=%.1e,%.1e,%.1e %s\n", p.Minute.Format("01-02 15:04"),
			p.Count, p.Expected, p.Band, p.ExpectedMinute, p.BandMinute, p.Calls, p.SpikeP[0], p.SpikeP[1], p.DropP[0], p.DropP[1], p.DropP[3], p.BlockDropP[0], p.BlockDropP[1], p.BlockDropP[2], flag)
	}})
	if err != nil {
		return err
	}
	for _, in := range insights {
		if in.Key == k {
			why := ""
			switch {
			case in.Period > 0:
				why = fmt.Sprintf(" missed runs (period %d)", in.Period)
			case in.SiblingOf != "":
				why = " sibling of " + in.SiblingOf
			case in.CompanionOf != "":
				why = " companion of " + in.CompanionOf
			case in.Novel:
				why = " novelty"
			}
			if in.Leader != "" {
				why += fmt.Sprintf(" leader=%s calls=%.0f peak=%.0f", in.Leader, in.LeaderCalls, in.LeaderPeak)
				if in.LeaderAgent != "" {
					why += " agent=" + in.LeaderAgent
				}
			}
			fmt.Fprintf(stdout, "%s %s start=%s dur=%d scale=%d p=%.2g emitted=%s%s\n", in.State, in.Direction, in.Start.Format("01-02 15:04"), in.Duration, in.Scale, in.PValue, in.Emitted.Format("15:04"), why)
		}
	}
	return nil
}

// replayTraced replays paths through a fresh Engine that calls traces for
// the closed minutes of their series, and returns the Insights it produced:
// what series, plot, explain and the report draw from.
func replayTraced(ctx context.Context, cfg detector.Config, paths []string, traces map[detector.Key]func(detector.Point)) ([]detector.Insight, error) {
	sink := &collector{}
	eng, err := detector.New(cfg, sink, nil)
	if err != nil {
		return nil, err
	}
	for k, fn := range traces {
		eng.Trace(k, fn)
	}
	files, err := consumers.ListFiles(paths)
	if err != nil {
		return nil, err
	}
	if _, err := consumers.Replay(ctx, files, eng, consumers.ReplayOptions{Workers: runtime.GOMAXPROCS(0)}); err != nil {
		return nil, err
	}
	return sink.all, nil
}
