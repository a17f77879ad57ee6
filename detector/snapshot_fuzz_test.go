package detector_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"testing"

	"github.com/trailsight/trailsight/detector"
)

// FuzzRestore feeds Restore arbitrary bytes, as they are and with the body
// length and checksum made to fit (so that mutations reach the sections
// rather than stop at the checksum). Restore must fail with ErrBadSnapshot
// or ErrSnapshotConfig, or return an Engine whose snapshot restores to an
// Engine that snapshots to the same bytes. When the input records the same
// settings as the Config passed to Restore, that snapshot must be the input
// itself: Restore accepts only canonical snapshots.
func FuzzRestore(f *testing.F) {
	good, cfg := smallSnapshot(f, "UTC")
	e, err := detector.New(cfg, nil, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)-8]) // valid once resealed
	f.Add(snapshotOf(f, e)[:0])
	f.Add(snapshotOf(f, e))
	// A version 1 snapshot (written by the release before job rhythms):
	// the older reader is fuzzed too.
	v1, err := os.ReadFile("testdata/snapshot-v1.bin")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(v1)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			t.Skip("inputs are capped at 1 MiB")
		}
		for _, in := range [][]byte{data, reseal(data)} {
			e, err := detector.Restore(cfg, nil, nil, bytes.NewReader(in))
			if err != nil {
				if !errors.Is(err, detector.ErrBadSnapshot) && !errors.Is(err, detector.ErrSnapshotConfig) {
					t.Fatalf("Restore: %v; want ErrBadSnapshot or ErrSnapshotConfig", err)
				}
				continue
			}
			out := snapshotOf(t, e)
			read := 20 + int(binary.LittleEndian.Uint64(in[12:20])) + 8 // accepted, so in holds it
			// An older version is read, converted and written anew as
			// the current one; the current one must come back unchanged.
			switch v := binary.LittleEndian.Uint32(in[8:12]); {
			case v != detector.SnapshotVersion:
				if w := binary.LittleEndian.Uint32(out[8:12]); w != detector.SnapshotVersion {
					t.Fatalf("a version %d snapshot restored and written again is version %d", v, w)
				}
			case bytes.Equal(configSection(in), configSection(out)) && !bytes.Equal(out, in[:read]):
				t.Fatalf("Restore accepted a snapshot that is not canonical: it snapshots to other bytes (%d, input %d)", len(out), read)
			}
			r, err := detector.Restore(cfg, nil, nil, bytes.NewReader(out))
			if err != nil {
				t.Fatalf("Restore of a snapshot of a restored engine: %v", err)
			}
			if again := snapshotOf(t, r); !bytes.Equal(again, out) {
				t.Fatalf("Snapshot(Restore(s)) != s for s a snapshot of a restored engine")
			}
		}
	})
}

// configSection returns the config section of a snapshot, id and length
// included, or nil.
func configSection(b []byte) []byte {
	const at = 20
	if len(b) < at+9 {
		return nil
	}
	n := binary.LittleEndian.Uint64(b[at+1:])
	if n > uint64(len(b)-at-9) {
		return nil
	}
	return b[at : at+9+int(n)]
}
