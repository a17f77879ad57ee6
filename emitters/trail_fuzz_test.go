package emitters_test

import (
	"bytes"
	"testing"

	"github.com/trailsight/trailsight/emitters"
	"github.com/trailsight/trailsight/internal/objstore"
)

// FuzzTrailRestoreState feeds arbitrary bytes to RestoreState: no panics,
// and a state it accepts saves back to a state that restores to itself.
func FuzzTrailRestoreState(f *testing.F) {
	store := objstore.NewDir(f.TempDir(), "b")
	cfg := emitters.TrailConfig{Name: "fuzz", HomeRegion: "us-east-1", MultiRegion: true, Bucket: "b"}
	tr, err := emitters.NewTrail(cfg, store, "b", nil)
	if err != nil {
		f.Fatal(err)
	}
	empty, _ := tr.AppendState(nil)
	f.Add(empty)
	f.Add([]byte(`{"version":1,"trail":"fuzz","clock":"2026-01-05T10:00:00Z","next_tick":"2026-01-05T10:05:00Z",` +
		`"buffers":[{"account":"1","region":"us-east-1","oldest":1,"newest":2,"records":[{"a":1}]}],"seen_hour":1,"seen":[[12345],null],` +
		`"chains":[{"account":"1","region":"us-east-1","start":"2026-01-05T10:00:00Z"}],"stats":{}}`))
	f.Add([]byte(`{"version":1,"trail":"fuzz","buffers":[{"records":[1,"x",null]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 1<<16 {
			return
		}
		a, _ := emitters.NewTrail(cfg, store, "b", nil)
		if a.RestoreState(b) != nil {
			return
		}
		s1, err := a.AppendState(nil)
		if err != nil {
			return // e.g. records that are not JSON values
		}
		c, _ := emitters.NewTrail(cfg, store, "b", nil)
		if err := c.RestoreState(s1); err != nil {
			t.Fatalf("a saved state does not restore: %v\n%s", err, s1)
		}
		s2, _ := c.AppendState(nil)
		if !bytes.Equal(s1, s2) {
			t.Fatalf("save∘restore is not the identity:\n%s\n%s", s1, s2)
		}
	})
}
