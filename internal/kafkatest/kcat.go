package kafkatest

import (
	"os/exec"
	"testing"
)

// KCat returns the path of kcat (Debian also ships it as kafkacat), a Kafka client built on
// librdkafka that tests use to check trailsight's clients against an independent one. Without it
// the test is skipped, loudly, or failed under CI=true.
func KCat(tb testing.TB) string {
	tb.Helper()
	for _, name := range []string{"kcat", "kafkacat"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	unavailable(tb, "neither kcat nor kafkacat is on PATH (Debian: apt-get install kcat)")
	return ""
}
