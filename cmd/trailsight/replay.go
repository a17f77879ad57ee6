package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/trailsight/trailsight/cloudtrail"
	"github.com/trailsight/trailsight/consumers"
	"github.com/trailsight/trailsight/detector"
	"github.com/trailsight/trailsight/emitters"
)

// replayResult is what one replay produced.
type replayResult struct {
	Stats    consumers.ReplayStats
	Engine   detector.Stats
	Insights []detector.Insight
	Written  []string
	Trails   []trailResult
	Elapsed  time.Duration
	WarmUp   time.Duration // the detector's warm-up, for the summary
}

type trailResult struct {
	Name  string
	Stats emitters.TrailStats
}

// collector keeps every transition and passes it on.
type collector struct {
	next detector.Sink
	all  []detector.Insight
}

func (c *collector) Emit(ctx context.Context, b []detector.Insight) error {
	c.all = append(c.all, b...)
	if c.next != nil {
		return c.next.Emit(ctx, b)
	}
	return nil
}

// replay runs one replay of paths into outDir ("" writes no files) and
// through the trails of dc (nil: none).
func replay(ctx context.Context, cfg detector.Config, paths []string, outDir string, dc *deliveryConfig, progress func(consumers.Progress)) (*replayResult, error) {
	files, err := consumers.ListFiles(paths)
	if err != nil {
		return nil, err
	}
	var dir *emitters.InsightFiles
	sink := &collector{}
	if outDir != "" {
		dir = emitters.NewDir(outDir, cloudtrail.KeyPrefix{})
		sink.next = dir
	}
	eng, err := detector.New(cfg, sink, nil)
	if err != nil {
		return nil, err
	}
	p := &pipeline{main: eng}
	if dc != nil {
		d, err := openDelivery(ctx, dc, time.Now(), nil, nil, nil)
		if err != nil {
			return nil, err
		}
		if p.trails, err = d.newOutputs(cfg, nil); err != nil {
			return nil, err
		}
	}
	t0 := time.Now()
	st, err := consumers.Replay(ctx, files, p, consumers.ReplayOptions{Workers: runtime.GOMAXPROCS(0), Progress: progress})
	if err != nil {
		return nil, err
	}
	if err := p.close(ctx); err != nil {
		return nil, err
	}
	res := &replayResult{Stats: st, Engine: eng.Stats(), Insights: sink.all, Elapsed: time.Since(t0), WarmUp: cfg.WarmUp}
	for _, t := range p.trails {
		res.Trails = append(res.Trails, trailResult{Name: t.cfg.Name, Stats: t.trail.Stats})
	}
	if dir != nil {
		if err := dir.Close(ctx); err != nil {
			return nil, err
		}
		res.Written = dir.Written
	}
	return res, nil
}

func runReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg detector.Config
	cfg.RegisterFlags(fs)
	out := fs.String("out", "", "Directory to write Insights files to, in the trail layout (required unless -config.file names trails).")
	var dc deliveryConfig
	dc.registerFlags(fs)
	file := fs.String("config.file", "", "YAML file with trails (and s3, sns, signing settings) to deliver the replayed records through: log files, digests, Insights files.")
	tz := fs.String("time-zones", "", "Account time zones, as ACCOUNT=ZONE[,ACCOUNT=ZONE...] (e.g. 111122223333=Europe/Berlin).")
	quiet := fs.Bool("quiet", false, "No progress line.")
	report := fs.String("report", "", "Directory for an HTML report: a table of the Insights and a chart of each (a second pass over the input).")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: trailsight replay --out DIR [flags] PATH...\n\nPATH is a directory tree of trail log files, a file, or - for JSON Lines on stdin.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *file != "" {
		b, err := os.ReadFile(*file)
		if err != nil {
			return err
		}
		if err := decodeStrict(b, &dc); err != nil {
			return fmt.Errorf("%s: %w", *file, err)
		}
		if err := fs.Parse(args); err != nil { // explicit flags win over the file
			return err
		}
	}
	if err := dc.validate(); err != nil {
		return err
	}
	if (*out == "" && *report == "" && len(dc.Trails) == 0) || fs.NArg() == 0 {
		fs.Usage()
		return errors.New("replay: --out (or --report, or trails in -config.file) and at least one PATH are required")
	}
	zones, err := parseZones(*tz)
	if err != nil {
		return err
	}
	cfg.TimeZones = zones
	if *tz == "" && fs.Arg(0) != "-" {
		// A labelled dataset of ours is replayed as eval replays it.
		if err := applyDataset(&cfg, fs, fs.Arg(0)); err != nil {
			return err
		}
	}
	var progress func(consumers.Progress)
	if !*quiet && isTerminal(stderr) {
		progress = progressLine(stderr)
	}
	var dcp *deliveryConfig
	if len(dc.Trails) > 0 {
		dcp = &dc
	}
	res, err := replay(ctx, cfg, fs.Args(), *out, dcp, progress)
	if err != nil {
		return err
	}
	if progress != nil {
		fmt.Fprintln(stderr)
	}
	printSummary(stdout, res)
	if *out != "" {
		fmt.Fprintf(stdout, "Insights files: %d under %s\n", len(res.Written), *out)
	}
	if *report != "" {
		path, err := writeReport(ctx, cfg, fs.Args(), res.Insights, *report, "trailsight replay: "+strings.Join(fs.Args(), " "))
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Report: %s\n", path)
	}
	for _, t := range res.Trails {
		fmt.Fprintf(stdout, "Trail %s: %d records delivered in %d log files, %d digests; %d not selected, %d duplicates\n",
			t.Name, t.Stats.Accepted, t.Stats.LogFiles, t.Stats.Digests, t.Stats.Filtered, t.Stats.Duplicates)
	}
	return nil
}

func parseZones(s string) (map[string]string, error) {
	if s == "" {
		return nil, nil
	}
	m := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("-time-zones=%q: want ACCOUNT=ZONE[,ACCOUNT=ZONE...]", s)
		}
		m[k] = v
	}
	return m, nil
}

func printSummary(w io.Writer, r *replayResult) {
	st, es := r.Stats, r.Engine
	ev := func(x detector.Result) int64 { return es.EventsBy(x) }
	fmt.Fprintf(w, "Replayed %d files (%d failed, %d digest, %d Insights files skipped), %.1f MB in %s (%.0f records/s)\n",
		st.Files, st.FilesFailed, st.DigestFiles, st.InsightFiles, float64(st.Bytes)/1e6, r.Elapsed.Round(time.Millisecond),
		float64(st.Records)/r.Elapsed.Seconds())
	fmt.Fprintf(w, "Records: %d; write calls counted %d; errored reads %d; reads %d; not analysed %d; duplicates %d; late %d; too old %d; from future %d\n",
		st.Records, ev(detector.Counted), ev(detector.CountedError), ev(detector.NotWrite), ev(detector.NotAnalysed),
		ev(detector.Duplicate), ev(detector.Late), ev(detector.TooOld), ev(detector.FromFuture))
	invalid := 0
	var reasons []string
	for k, n := range st.Invalid {
		invalid += n
		reasons = append(reasons, fmt.Sprintf("%s=%d", k, n))
	}
	sort.Strings(reasons)
	fmt.Fprintf(w, "Invalid records: %d %s\n", invalid, strings.Join(reasons, " "))
	fmt.Fprintf(w, "Series: %d call-rate, %d error-rate, in %d account-Regions; delivery-gap minutes %d\n",
		es.Series, es.ErrorSeries, es.Regions, es.GapMinutes)
	fmt.Fprintf(w, "Insights: %d ApiCallRateInsight, %d ApiErrorRateInsight started; %d ended; %d still open\n",
		es.Started[detector.APICallRate], es.Started[detector.APIErrorRate],
		es.Ended[detector.APICallRate]+es.Ended[detector.APIErrorRate], es.Open)
	if es.Warming > 0 {
		// Without this, a first replay of a day of trail says "0
		// Insights" and nothing of why.
		fmt.Fprintf(w, "Warm-up: %d of %d account-Regions have less history than -detector.warm-up %s (the most, %s) and start no Insight yet;\n"+
			"replay more of the trail before the period of interest, or lower -detector.warm-up (baselines from less history are less sure).\n",
			es.Warming, es.Regions, r.WarmUp, strings.TrimSuffix(es.WarmingHistory.String(), "0s"))
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func progressLine(w io.Writer) func(consumers.Progress) {
	t0 := time.Now()
	last := time.Time{}
	return func(p consumers.Progress) {
		if time.Since(last) < 200*time.Millisecond && p.Files != p.Total {
			return
		}
		last = time.Now()
		rate := float64(p.Records) / time.Since(t0).Seconds()
		fmt.Fprintf(w, "\r%d/%d files  %.0f events/s  at %s ", p.Files, p.Total, rate, p.Position.UTC().Format("2006-01-02 15:04Z"))
	}
}
