package main

import (
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/trailsight/trailsight/datasets"
	"github.com/trailsight/trailsight/detector"
)

// applyDataset configures cfg as eval replays the labelled dataset that
// path is in: its accounts' time zones and, unless -detector.warm-up was
// set on flags, its warm-up. path may be the dataset's directory or
// anything under its AWSLogs tree: series, plot and explain given
// DATASET/AWSLogs once replayed without the time zones, so their
// Insights were not eval's (an hour's seasonal slot is local time). A
// trail that is no dataset of ours is left as configured.
func applyDataset(cfg *detector.Config, flags *flag.FlagSet, path string) error {
	m, err := findManifest(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	cfg.TimeZones = m.TimeZones()
	set := false
	flags.Visit(func(f *flag.Flag) { set = set || f.Name == "detector.warm-up" })
	if !set {
		cfg.WarmUp = m.WarmupEnd.Sub(m.Start)
	}
	return nil
}

// findManifest reads the manifest of the dataset at path: path itself, or
// the directory holding the AWSLogs tree path is in.
func findManifest(path string) (*datasets.Manifest, error) {
	dir := filepath.Clean(path)
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		dir = filepath.Dir(dir)
	}
	m, err := datasets.LoadManifest(dir)
	if !errors.Is(err, fs.ErrNotExist) {
		return m, err
	}
	parts := strings.Split(dir, string(filepath.Separator))
	for i := len(parts) - 1; i >= 0; i-- {
		if parts[i] == "AWSLogs" {
			root := strings.Join(parts[:i], string(filepath.Separator))
			if root == "" && filepath.IsAbs(dir) {
				root = string(filepath.Separator)
			} else if root == "" {
				root = "."
			}
			return datasets.LoadManifest(root)
		}
	}
	return nil, err
}
