// Package prometheus_test checks the Prometheus alert rules in this folder
// with promtool (from the Debian package prometheus, which `make deps`
// installs): they parse, their unit tests pass, and every trailsight metric
// they use is one trailsight exports.
package prometheus_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/trailsight/trailsight/internal/testenv"
)

func TestRules(t *testing.T) {
	pt := testenv.Tool(t, "promtool", "prometheus")
	for _, args := range [][]string{
		{"check", "rules", "trailsight.rules.yml"},
		{"test", "rules", "trailsight.rules.test.yml"},
	} {
		out, err := exec.Command(pt, args...).CombinedOutput()
		t.Logf("promtool %s:\n%s", strings.Join(args, " "), out)
		if err != nil {
			t.Errorf("promtool %s: %v", strings.Join(args, " "), err)
		}
	}
}

// TestRulesUseExportedMetrics keeps the rules and the code together: a
// renamed metric must not leave a rule that never fires.
func TestRulesUseExportedMetrics(t *testing.T) {
	rules, err := os.ReadFile("trailsight.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	var code strings.Builder
	root := filepath.Join("..", "..")
	err = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			code.Write(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	for _, m := range regexp.MustCompile(`trailsight_[a-z0-9_]+`).FindAllString(string(rules), -1) {
		used[m] = true
	}
	if len(used) < 10 {
		t.Fatalf("the rules use %d trailsight metrics; the pattern is broken", len(used))
	}
	for m := range used {
		if !strings.Contains(code.String(), `"`+m+`"`) {
			t.Errorf("the rules use %s, which no Go file exports", m)
		}
	}
}
