package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/trailsight/trailsight/detector"
)

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "", "Working directory (default: a new temporary directory).")
	seed := fs.Int64("seed", 1, "Seed of the generated trail.")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "trailsight-demo-")
		if err != nil {
			return err
		}
		*dir = d
	}
	data, out := filepath.Join(*dir, "trail"), filepath.Join(*dir, "insights")
	t0 := time.Now()
	m, err := generate("demo", *seed, data)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "1. Generated a labelled trail: %d records in %d log files, %d days of 1 account (%s) in %v, %d planted anomalies and traps (%s).\n",
		m.Counts.Events, m.Counts.Files, int(m.End.Sub(m.Start).Hours()/24), m.Accounts[0].TimeZone, m.Accounts[0].Regions,
		len(m.Labels), time.Since(t0).Round(time.Millisecond))
	ev, err := evaluate(ctx, detector.DefaultConfig(), data, out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "2. Replayed it in delivery order (%s); the first %s are warm-up.\n",
		ev.Replay.Elapsed.Round(time.Millisecond), m.WarmupEnd.Sub(m.Start))
	fmt.Fprintln(stdout, "\nPlanted (labels.json)                                                      Found (Insights)")
	// Start transitions by sharedEventID, in the order they were emitted.
	starts := map[string]*detector.Insight{}
	var order []string
	for i := range ev.Replay.Insights {
		in := &ev.Replay.Insights[i]
		if id := in.Record().SharedEventID; in.State == detector.StateStart && starts[id] == nil {
			starts[id] = in
			order = append(order, id)
		}
	}
	idx := make([]int, len(ev.Labels))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return ev.Labels[idx[a]].Start.Before(ev.Labels[idx[b]].Start) })
	used := map[string]bool{}
	for _, i := range idx {
		l := ev.Labels[i]
		what := l.EventName
		if l.EventName == "" {
			what = "(whole account)"
		}
		if l.ErrorCode != "" {
			what += " " + l.ErrorCode
		}
		left := fmt.Sprintf("%-24s %-38s %s-%s", l.Kind, trunc(what, 38), l.Start.Format("Jan 02 15:04"), l.End.Format("15:04"))
		found := "-"
		for _, id := range ev.Matches.ByLabel[i] {
			used[id] = true
			if in := starts[id]; in != nil && found == "-" {
				found = fmt.Sprintf("%s %s at %s, delivered %s (%+dm)", in.Direction, in.Key.Type, in.Start.Format("15:04"),
					in.Emitted.Format("15:04"), int(in.Emitted.Sub(l.Start).Minutes()))
			}
		}
		if l.Trap && found == "-" {
			found = "quiet (as it should be)"
		}
		fmt.Fprintf(stdout, "  %-86s %s\n", left, found)
	}
	extra := 0
	for _, id := range order {
		if used[id] {
			continue
		}
		in := starts[id]
		what := "(not planted)"
		if i, ok := ev.Matches.Incident[id]; ok {
			what = "(" + ev.Labels[i].Kind + ", another API)"
		} else {
			extra++
		}
		fmt.Fprintf(stdout, "  %-86s %s %s %s at %s\n", what, in.Direction, in.Key.Type, in.Key.EventName, in.Start.Format("Jan 02 15:04"))
	}
	r := ev.Report
	fmt.Fprintf(stdout, "\nRecall %.2f, precision %.2f, median delay %.0f minutes of delivery time, %d unplanted Insights.\n",
		r.Recall, r.Precision, r.Delay.MedianMinutes, extra)
	fmt.Fprintf(stdout, "3. Insights files (%d, AWS's format and layout): %s\n   Input trail: %s\n", len(ev.Replay.Written), out, data)
	path, err := writeReport(ctx, ev.Config, []string{data}, ev.Replay.Insights, filepath.Join(*dir, "report"), "trailsight demo")
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "4. A chart of every Insight, to open in a browser: %s\n", path)
	return nil
}

func trunc(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}
