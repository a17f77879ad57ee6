package insightstest

import (
	"slices"
	"testing"
)

func TestDiff(t *testing.T) {
	want := []string{"a", "b", "c", "d"}
	got := []string{"a", "b", "b", "d", "e", "e"}
	lost, dup, extra := Diff(want, got)
	if !slices.Equal(lost, []string{"c"}) || !slices.Equal(dup, []string{"b"}) || !slices.Equal(extra, []string{"e"}) {
		t.Fatalf("Diff: lost %q, dup %q, extra %q; want [c], [b], [e]", lost, dup, extra)
	}
	if lost, dup, extra := Diff(want, want); lost != nil || dup != nil || extra != nil {
		t.Fatalf("Diff of equal sets: %q %q %q", lost, dup, extra)
	}
}
