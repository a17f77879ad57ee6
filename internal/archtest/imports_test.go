package archtest

import (
	"os/exec"
	"strings"
	"testing"
)

const mod = "github.com/trailsight/trailsight/"

// forbidden lists, per package, the project packages it must not depend
// on, directly or not.
var forbidden = map[string][]string{
	"models":     {"baseline", "detector", "consumers", "emitters", "eval", "cloudtrail", "datasets", "cmd/trailsight"},
	"baseline":   {"detector", "consumers", "emitters", "eval", "cloudtrail", "datasets", "cmd/trailsight"},
	"cloudtrail": {"models", "baseline", "detector", "consumers", "emitters", "eval", "datasets", "cmd/trailsight", "internal/objstore"},
	// The validator reads a bucket through an interface of its own; it
	// never reaches for the AWS SDK.
	"cloudtrail/validate": {"models", "baseline", "detector", "consumers", "emitters", "eval", "datasets", "cmd/trailsight", "internal/objstore"},
	"detector":            {"consumers", "emitters", "eval", "datasets", "cmd/trailsight"},
	"consumers":           {"emitters", "eval", "datasets", "cmd/trailsight"},
	"emitters":            {"consumers", "eval", "datasets", "cmd/trailsight"},
	"eval":                {"emitters", "datasets", "cmd/trailsight"},
	"datasets":            {"models", "baseline", "detector", "consumers", "emitters", "eval", "cmd/trailsight"},
}

func TestImportDirection(t *testing.T) {
	for pkg, bad := range forbidden {
		out, err := exec.Command("go", "list", "-deps", mod+pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		deps := map[string]bool{}
		for _, d := range strings.Fields(string(out)) {
			deps[d] = true
		}
		for _, b := range bad {
			if deps[mod+b] {
				t.Errorf("%s depends on %s; the import direction forbids it", pkg, b)
			}
		}
	}
}
