// Package insightstest holds what the Kafka service's end-to-end tests
// share: the trail they run, the Insights records found in an output tree,
// and the check that those are exactly the expected records, each once.
package insightstest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/trailsight/trailsight/datasets"
	"github.com/trailsight/trailsight/eval"
)

// ThreeAccounts is the "tiny" preset with three accounts instead of one,
// so that a topic keyed by account spreads over several partitions.
func ThreeAccounts() (datasets.Config, error) {
	cfg, err := datasets.Preset("tiny")
	if err != nil {
		return cfg, err
	}
	base := cfg.Accounts[0]
	cfg.Accounts = nil
	for i, id := range []string{"111122223333", "444455556666", "777788889999"} {
		a := base
		a.ID, a.Name = id, fmt.Sprintf("acct-%d", i)
		cfg.Accounts = append(cfg.Accounts, a)
	}
	return cfg, nil
}

// FileRecords returns every Insights record (JSON) in the Insights files
// under dir, one entry per occurrence, sorted: a record written twice
// appears twice.
func FileRecords(tb testing.TB, dir string) []string {
	tb.Helper()
	ds, err := eval.LoadInsightsDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	out := make([]string, len(ds))
	for i := range ds {
		out[i] = string(ds[i].Record.AppendJSON(nil))
	}
	slices.Sort(out)
	return out
}

// Diff compares two multisets of records: want's records missing from got,
// those got holds more than once, and got's records want lacks.
func Diff(want, got []string) (lost, dup, extra []string) {
	count := map[string]int{}
	for _, g := range got {
		count[g]++
	}
	for _, w := range want {
		switch n := count[w]; {
		case n == 0:
			lost = append(lost, w)
		case n > 1:
			dup = append(dup, w)
		}
		delete(count, w)
	}
	for g := range count {
		extra = append(extra, g)
	}
	slices.Sort(extra)
	return lost, dup, extra
}

// CheckOnce fails t unless got holds exactly want's records, each once,
// and logs the counts under label.
func CheckOnce(t testing.TB, label string, want, got []string) {
	t.Helper()
	lost, dup, extra := Diff(want, got)
	t.Logf("%s: Insights records expected %d, in files %d; lost %d, duplicated %d, unexpected %d",
		label, len(want), len(got), len(lost), len(dup), len(extra))
	for _, s := range lost[:min(3, len(lost))] {
		t.Errorf("lost: %.300s", s)
	}
	for _, s := range dup[:min(3, len(dup))] {
		t.Errorf("duplicated: %.300s", s)
	}
	for _, s := range extra[:min(3, len(extra))] {
		t.Errorf("unexpected: %.300s", s)
	}
}
