package consumers

import (
	"bytes"
	"errors"
	"testing"
)

func TestStateContainer(t *testing.T) {
	engine, tap := []byte("\x1f\x8b engine snapshot"), []byte("\x1f\x8b tap state")
	joined := joinState(engine, tap)
	e, tp, err := splitState(joined)
	if err != nil || !bytes.Equal(e, engine) || !bytes.Equal(tp, tap) {
		t.Errorf("splitState(joinState) = %q, %q, %v", e, tp, err)
	}
	// A checkpoint without a tap is the gzipped snapshot alone, as before.
	e, tp, err = splitState(engine)
	if err != nil || !bytes.Equal(e, engine) || tp != nil {
		t.Errorf("splitState(snapshot) = %q, %q, %v", e, tp, err)
	}
	for _, bad := range [][]byte{joined[:len(joined)-1], append(joined, 0), joined[:len(stateMagic)+1]} {
		if _, _, err := splitState(bad); !errors.Is(err, ErrBadCheckpoint) {
			t.Errorf("splitState(%q) error = %v, want ErrBadCheckpoint", bad, err)
		}
	}
}

func FuzzSplitState(f *testing.F) {
	f.Add(joinState([]byte("a"), []byte("bc")))
	f.Add([]byte("\x1f\x8b"))
	f.Add(append(append([]byte{}, stateMagic...), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, tp, err := splitState(b)
		if err != nil || !bytes.HasPrefix(b, stateMagic) {
			return
		}
		// Lengths may be written in overlong varints; the parts survive.
		e2, tp2, err := splitState(joinState(e, tp))
		if err != nil || !bytes.Equal(e, e2) || !bytes.Equal(tp, tp2) {
			t.Fatalf("split∘join∘split(%q) = %q, %q, %v; want %q, %q", b, e2, tp2, err, e, tp)
		}
	})
}
