package baseline

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestCountsBinaryRoundTrip(t *testing.T) {
	var busy Counts
	day := int64(20000 * 1440)
	for m := day; m < day+3*1440; m += 7 {
		busy.Add(m, int(m%5))
	}
	busy.Add(day+3*1440, 70000) // saturated minute, wide day
	for name, c := range map[string]*Counts{"empty": {}, "busy": &busy} {
		b, err := c.AppendBinary(nil)
		if err != nil {
			t.Fatal(err)
		}
		var got Counts
		if err := got.UnmarshalBinary(b); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got != *c {
			t.Errorf("%s: decoded %+v, want %+v", name, got, *c)
		}
		again, _ := got.AppendBinary(nil)
		if !bytes.Equal(again, b) {
			t.Errorf("%s: re-encoding differs", name)
		}
		for n := range len(b) {
			if err := got.UnmarshalBinary(b[:n]); !errors.Is(err, ErrBadCounts) {
				t.Fatalf("%s: truncated to %d of %d bytes: err = %v, want ErrBadCounts", name, n, len(b), err)
			}
		}
	}
	if b, _ := (&Counts{}).AppendBinary(nil); len(b) != 22 {
		t.Errorf("empty Counts encodes in %d bytes, want 22", len(b))
	}
}

func TestCountsBinaryRejectsBadInput(t *testing.T) {
	var c Counts
	c.Add(29000000, 3)
	good, _ := c.AppendBinary(nil)
	// good: version, head varint (4 bytes), 20 bitmap bytes, values.
	for _, tc := range []struct {
		name, want string
		edit       func([]byte) []byte
	}{
		{"version", "version 2", func(b []byte) []byte { b[0] = 2; return b }},
		{"negative head", "head -1 out of range", func(b []byte) []byte { return append([]byte{1, 1}, b[5:]...) }},
		{"trailing byte", "1 trailing bytes", func(b []byte) []byte { return append(b, 1) }},
		{"zero marked non-zero", "zero value marked non-zero", func(b []byte) []byte { b[len(b)-1] = 0; return b }},
		{"padding bit", "padding bits set", func(b []byte) []byte { b[5+19] |= 0x80; return b }},
		{"overlong value", "overlong", func(b []byte) []byte { b[len(b)-1] |= 0x80; return append(b, 0) }},
		// Values follow at byte 25: the minute's, the block's, the day's.
		{"minute too wide", "too wide", func(b []byte) []byte { return append(append(b[:25:25], 0x80, 0x80, 0x04), b[26:]...) }},
	} {
		var got Counts
		if err := got.UnmarshalBinary(tc.edit(bytes.Clone(good))); !errors.Is(err, ErrBadCounts) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want ErrBadCounts saying %q", tc.name, err, tc.want)
		}
	}
}

// TestCountsBinaryCoversEveryField fails when Counts gains or loses a
// field: encode the new one (and bump the encoding's version), then update
// the list here.
func TestCountsBinaryCoversEveryField(t *testing.T) {
	typ := reflect.TypeFor[Counts]()
	var got []string
	for i := range typ.NumField() {
		got = append(got, typ.Field(i).Name)
	}
	if want := []string{"c", "q", "d", "top"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Counts has fields %v; its encoding was written for %v", got, want)
	}
}
