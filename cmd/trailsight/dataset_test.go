package main

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/trailsight/trailsight/detector"
)

// series, plot and explain replay a dataset as eval does, whichever path
// into it they are given: its time zones and warm-up apply.
func TestApplyDatasetFindsTheManifestAboveAWSLogs(t *testing.T) {
	root := t.TempDir()
	manifest := `{"dataset":"standard","start":"2026-01-05T00:00:00Z","end":"2026-01-15T00:00:00Z",` +
		`"warmup_end":"2026-01-08T00:00:00Z","accounts":[{"id":"111122223333","time_zone":"America/New_York"}]}`
	if err := os.WriteFile(filepath.Join(root, "labels.json"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	logs := filepath.Join(root, "AWSLogs", "111122223333", "CloudTrail", "us-east-1", "2026", "01", "05")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(logs, "x.json.gz")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{root, filepath.Join(root, "AWSLogs"), logs, file} {
		fs := flag.NewFlagSet("series", flag.ContinueOnError)
		var cfg detector.Config
		cfg.RegisterFlags(fs)
		if err := fs.Parse(nil); err != nil {
			t.Fatal(err)
		}
		if err := applyDataset(&cfg, fs, path); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if got := cfg.TimeZones["111122223333"]; got != "America/New_York" {
			t.Errorf("%s: time zone %q, want the manifest's America/New_York", path, got)
		}
		if cfg.WarmUp != 72*time.Hour {
			t.Errorf("%s: warm-up %s, want the manifest's 72h", path, cfg.WarmUp)
		}
	}

	// A warm-up on the command line wins; a trail that is no dataset is
	// left as configured; a broken manifest is an error, not ignored.
	fs := flag.NewFlagSet("series", flag.ContinueOnError)
	var cfg detector.Config
	cfg.RegisterFlags(fs)
	if err := fs.Parse([]string{"-detector.warm-up=24h"}); err != nil {
		t.Fatal(err)
	}
	if err := applyDataset(&cfg, fs, logs); err != nil || cfg.WarmUp != 24*time.Hour {
		t.Errorf("with -detector.warm-up=24h: warm-up %s (err %v), want 24h", cfg.WarmUp, err)
	}
	other := t.TempDir()
	cfg = detector.Config{WarmUp: time.Hour}
	if err := applyDataset(&cfg, fs, other); err != nil || cfg.WarmUp != time.Hour || cfg.TimeZones != nil {
		t.Errorf("a trail without a manifest: %+v (err %v), want it untouched", cfg, err)
	}
	if err := os.WriteFile(filepath.Join(root, "labels.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := applyDataset(&cfg, fs, logs); err == nil {
		t.Error("a broken manifest was ignored")
	}
}
