package models

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

func TestSeasonalBinaryRoundTrip(t *testing.T) {
	c := DefaultSeasonalConfig()
	busy, sparse, seeded := Seasonal{}, Seasonal{}, Seasonal{}
	rng := rand.New(rand.NewPCG(5, 6))
	feed(&busy, &c, rng, 9, func(h, mi int, weekend bool) float64 { return 2 + float64(mi%15) })
	feed(&sparse, &c, rng, 3, func(h, mi int, weekend bool) float64 { return 0.002 })
	seeded.SeedZeros(5000)
	if busy.moh == nil || sparse.moh != nil {
		t.Fatalf("fixtures: busy moh %v, sparse moh %v; want the busy one only to track minute-of-hour shares", busy.moh != nil, sparse.moh != nil)
	}
	// 70 floats in full would take 280 bytes.
	if sz := len(must(sparse.AppendBinary(nil))); sz > 200 {
		t.Errorf("a sparse series encodes in %d bytes, want at most 200 (zero floats are left out)", sz)
	}
	for name, m := range map[string]*Seasonal{"zero": {}, "busy": &busy, "sparse": &sparse, "seeded": &seeded} {
		b, err := m.AppendBinary([]byte("prefix"))
		if err != nil || !bytes.HasPrefix(b, []byte("prefix")) {
			t.Fatalf("%s: AppendBinary = %v, %v; want the prefix kept and no error", name, b[:6], err)
		}
		b = b[len("prefix"):]
		var got Seasonal
		if err := got.UnmarshalBinary(b); err != nil {
			t.Fatalf("%s: UnmarshalBinary: %v", name, err)
		}
		if !reflect.DeepEqual(&got, m) {
			t.Errorf("%s: decoded %+v, want %+v", name, got, *m)
		}
		again, _ := got.AppendBinary(nil)
		if !bytes.Equal(again, b) {
			t.Errorf("%s: re-encoding differs", name)
		}
		// The decoded model goes on exactly as the original.
		for i := range 200 {
			s := SlotOf(i/60%24, i%60, 2)
			m.Update(&c, s, float64(i%7), i%50 == 0)
			got.Update(&c, s, float64(i%7), i%50 == 0)
			if a, b := m.Expect(&c, s), got.Expect(&c, s); math.Float64bits(a) != math.Float64bits(b) {
				t.Fatalf("%s: minute %d: Expect %v after decoding, want %v", name, i, b, a)
			}
		}
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func TestSeasonalBinaryRejectsBadInput(t *testing.T) {
	c := DefaultSeasonalConfig()
	var m Seasonal
	feed(&m, &c, rand.New(rand.NewPCG(1, 1)), 2, func(h, mi int, weekend bool) float64 { return 3 })
	good := must(m.AppendBinary(nil))
	if m.n != 2880 || good[2]&0x80 == 0 || good[3]&0x80 != 0 {
		t.Fatalf("fixture: n = %d encoded as % x, want 2880 in two bytes", m.n, good[2:4])
	}
	for n := range len(good) {
		var got Seasonal
		if err := got.UnmarshalBinary(good[:n]); !errors.Is(err, ErrBadEncoding) {
			t.Fatalf("truncated to %d of %d bytes: err = %v, want ErrBadEncoding", n, len(good), err)
		}
	}
	for _, tc := range []struct {
		name, want string
		edit       func([]byte) []byte
	}{
		{"version", "version 9", func(b []byte) []byte { b[0] = 9; return b }},
		{"unknown flag", "unknown flags", func(b []byte) []byte { b[1] |= 4; return b }},
		{"trailing byte", "1 trailing bytes", func(b []byte) []byte { return append(b, 0) }},
		// n (2880 minutes) is the first uvarint, two bytes: re-encode it
		// one byte longer.
		{"overlong uvarint", "overlong", func(b []byte) []byte {
			return append([]byte{b[0], b[1], b[2], b[3] | 0x80, 0}, b[4:]...)
		}},
	} {
		var got Seasonal
		if err := got.UnmarshalBinary(tc.edit(bytes.Clone(good))); !errors.Is(err, ErrBadEncoding) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want ErrBadEncoding saying %q", tc.name, err, tc.want)
		}
	}
}

func TestRateBinaryRoundTrip(t *testing.T) {
	c := DefaultRateConfig()
	var r Rate
	for i := range 3000 {
		calls := float64(20 + i%5)
		mu, v := r.Expect(&c, calls)
		r.Update(&c, float64(i%3), calls, mu, v, i%100 == 0)
	}
	for name, m := range map[string]*Rate{"zero": {}, "learned": &r} {
		b := must(m.AppendBinary(nil))
		var got Rate
		if err := got.UnmarshalBinary(b); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got != *m {
			t.Errorf("%s: decoded %+v, want %+v", name, got, *m)
		}
		for n := range len(b) {
			if err := got.UnmarshalBinary(b[:n]); !errors.Is(err, ErrBadEncoding) {
				t.Fatalf("%s: truncated to %d bytes: err = %v, want ErrBadEncoding", name, n, err)
			}
		}
	}
	b := must(r.AppendBinary(nil))
	b[len(b)-4], b[len(b)-3], b[len(b)-2], b[len(b)-1] = 0, 0, 0, 0 // resMu's bits, marked non-zero
	if err := new(Rate).UnmarshalBinary(b); !errors.Is(err, ErrBadEncoding) || !strings.Contains(err.Error(), "zero marked non-zero") {
		t.Errorf("zero float marked non-zero: err = %v, want ErrBadEncoding", err)
	}
}

// TestBinaryCoversEveryField fails when a model gains or loses a field:
// encode the new one (and bump the encoding's version), then update the
// list here.
func TestBinaryCoversEveryField(t *testing.T) {
	for _, tc := range []struct {
		v      any
		fields string
	}{
		{Seasonal{}, "prof hours moh mohSum mohScale calls lc lb level slow resH resM resMu nM b10 b60 all n"},
		{block{}, "obs expH expM resH resM mu n"},
		{Rate{}, "errs calls res2 resMu n"},
	} {
		typ := reflect.TypeOf(tc.v)
		var got []string
		for i := range typ.NumField() {
			got = append(got, typ.Field(i).Name)
		}
		if want := strings.Fields(tc.fields); !reflect.DeepEqual(got, want) {
			t.Errorf("%s has fields %v; its encoding was written for %v", typ.Name(), got, want)
		}
	}
}
