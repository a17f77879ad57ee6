package eval

import (
	"testing"
	"time"
)

// The seasonal count model must find the generated corpus' anomalies far
// better than a detector that never fires (score 0), with online scores.
func TestNABModelOnGeneratedCorpus(t *testing.T) {
	corpus, out := t.TempDir(), t.TempDir()
	if err := GenerateNABCorpus(corpus, 7); err != nil {
		t.Fatal(err)
	}
	res, err := RunNAB(corpus, out, "trailsight", func(step time.Duration) NABDetector { return NewNABModel(step) })
	if err != nil {
		t.Fatal(err)
	}
	std := res.Profiles["standard"]
	t.Logf("standard %.1f (TP %d FP %d FN %d, threshold %.3f)", std.Score, std.TP, std.FP, std.FN, std.Threshold)
	if std.Score < 50 {
		t.Errorf("standard score = %.1f, want >= 50", std.Score)
	}
}
