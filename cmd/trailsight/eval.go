package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/trailsight/trailsight/datasets"
	"github.com/trailsight/trailsight/detector"
	"github.com/trailsight/trailsight/eval"
)

func runGen(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	preset := fs.String("preset", "demo", fmt.Sprintf("Dataset preset: one of %v.", datasets.Presets()))
	seed := fs.Int64("seed", 1, "Random seed; the same seed gives byte-identical files.")
	out := fs.String("out", "", "Directory to write the trail and labels.json to (required).")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		fs.Usage()
		return errors.New("gen: --out is required")
	}
	m, err := generate(*preset, *seed, *out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Generated %q: %d records in %d files (%.1f MB gzip), %d labels, under %s\n",
		m.Dataset, m.Counts.Events, m.Counts.Files, float64(m.Counts.Bytes)/1e6, len(m.Labels), *out)
	return nil
}

func generate(preset string, seed int64, out string) (*datasets.Manifest, error) {
	cfg, err := datasets.Preset(preset)
	if err != nil {
		return nil, err
	}
	cfg.Seed = seed
	return datasets.Generate(cfg, out)
}

// evaluation is one scored replay of a labelled dataset.
type evaluation struct {
	Manifest *datasets.Manifest
	// Config is the detector configuration of the replay, the dataset's
	// time zones included.
	Config detector.Config
	Replay *replayResult
	Report *eval.Report
	// Matches pairs labels with Insights, by the rules of Report.
	Matches eval.Matches
	Labels  []eval.Label
}

// evaluate replays the dataset in dir (writing Insights files under
// outDir when set) and scores the result against its labels.
func evaluate(ctx context.Context, cfg detector.Config, dir, outDir string) (*evaluation, error) {
	m, err := datasets.LoadManifest(dir)
	if err != nil {
		return nil, err
	}
	labels, err := eval.LoadLabels(dir)
	if err != nil {
		return nil, err
	}
	cfg.TimeZones = m.TimeZones()
	res, err := replay(ctx, cfg, []string{dir}, outDir, nil, nil)
	if err != nil {
		return nil, err
	}
	tr, err := eval.CountTruth(ctx, []string{dir})
	if err != nil {
		return nil, err
	}
	delivered := make([]eval.Delivered, len(res.Insights))
	for i := range res.Insights {
		delivered[i] = eval.Delivered{Record: res.Insights[i].Record(), Delivery: res.Insights[i].Emitted}
	}
	// Series-days are counted after the warm-up, when Insights may start.
	days := m.End.Sub(m.WarmupEnd).Hours() / 24
	opt := eval.Options{SeriesDays: float64(res.Engine.Series+res.Engine.ErrorSeries) * days, End: m.End}
	return &evaluation{Manifest: m, Config: cfg, Replay: res, Report: eval.Score(labels.Labels, delivered, tr, opt),
		Matches: eval.Match(labels.Labels, delivered, opt), Labels: labels.Labels}, nil
}

func runEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "nab" {
		return runEvalNAB(ctx, args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg detector.Config
	cfg.RegisterFlags(fs)
	data := fs.String("data", "", "Labelled dataset directory (generated there first when it has no labels.json); its warm-up applies unless -detector.warm-up is set.")
	preset := fs.String("preset", "standard", "Preset to generate when --data holds no dataset.")
	seed := fs.Int64("seed", 1, "Seed to generate with.")
	out := fs.String("out", "", "Also write the Insights files under this directory.")
	jsonOut := fs.String("json", "", "Write the report as JSON to this file.")
	htmlOut := fs.String("report", "", "Directory for an HTML report: a table and a chart of every Insight (a second pass over the dataset).")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *data == "" {
		fs.Usage()
		return errors.New("eval: --data is required")
	}
	if _, err := os.Stat(filepath.Join(*data, datasets.ManifestFile)); errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(stdout, "Generating preset %q (seed %d) in %s ...\n", *preset, *seed, *data)
		if _, err := generate(*preset, *seed, *data); err != nil {
			return err
		}
	}
	// Score with the dataset's warm-up, after which its labels may start
	// Insights (and series-days are counted), unless the flag says otherwise.
	warmUpSet := false
	fs.Visit(func(f *flag.Flag) { warmUpSet = warmUpSet || f.Name == "detector.warm-up" })
	if !warmUpSet {
		m, err := datasets.LoadManifest(*data)
		if err != nil {
			return err
		}
		cfg.WarmUp = m.WarmupEnd.Sub(m.Start)
	}
	ev, err := evaluate(ctx, cfg, *data, *out)
	if err != nil {
		return err
	}
	printSummary(stdout, ev.Replay)
	fmt.Fprintln(stdout)
	ev.Report.WriteTable(stdout)
	if *jsonOut != "" {
		b, err := json.MarshalIndent(ev.Report, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*jsonOut, append(b, '\n'), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\nReport written to %s\n", *jsonOut)
	}
	if *htmlOut != "" {
		path, err := writeReport(ctx, ev.Config, []string{*data}, ev.Replay.Insights, *htmlOut, "trailsight eval: "+*data)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "HTML report: %s\n", path)
	}
	return nil
}
