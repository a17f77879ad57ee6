package models

import (
	"encoding"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// The binary encodings of the models: the detector's snapshots carry them
// (docs/formats/snapshot.md). Each starts with its own version byte, which
// changes whenever its layout does.
const (
	seasonalBinaryVersion = 1
	rateBinaryVersion     = 1
)

// ErrBadEncoding reports a model encoding that cannot be decoded.
var ErrBadEncoding = errors.New("models: bad encoding")

var (
	_ encoding.BinaryAppender    = (*Seasonal)(nil)
	_ encoding.BinaryUnmarshaler = (*Seasonal)(nil)
)

// seasonalFlagMOH marks a Seasonal that tracks its minute-of-hour shares.
const seasonalFlagMOH = 1

// seasonalFloats is the number of float32 fields of a Seasonal outside the
// minute-of-hour shares: the profile, ten scalars, and two blocks of six.
const seasonalFloats = 48 + 10 + 2*6

// floats lists the float32 fields of m in encoding order.
func (m *Seasonal) floats() [seasonalFloats]*float32 {
	var f [seasonalFloats]*float32
	i := 0
	for k := range m.prof {
		f[i] = &m.prof[k]
		i++
	}
	for _, p := range [...]*float32{
		&m.mohSum, &m.mohScale, &m.lc, &m.lb, &m.level, &m.slow, &m.resH, &m.resM, &m.resMu, &m.all,
		&m.b10.obs, &m.b10.expH, &m.b10.expM, &m.b10.resH, &m.b10.resM, &m.b10.mu,
		&m.b60.obs, &m.b60.expH, &m.b60.expM, &m.b60.resH, &m.b60.resM, &m.b60.mu,
	} {
		f[i] = p
		i++
	}
	return f
}

// AppendBinary appends the encoding of m to b: a version byte, a flags byte,
// the counters n, nM, calls, b10.n and b60.n (uvarints), the 48 warm-start
// hour counts (bytes), the other float32 fields (see appendFloats), and the
// 60 minute-of-hour cells when the flags say they are tracked. Floats are
// stored as their bits, so a decoded model computes exactly what m does.
// The error is always nil.
func (m *Seasonal) AppendBinary(b []byte) ([]byte, error) {
	var flags byte
	if m.moh != nil {
		flags |= seasonalFlagMOH
	}
	b = append(b, seasonalBinaryVersion, flags)
	for _, v := range [...]uint32{m.n, m.nM, m.calls, m.b10.n, m.b60.n} {
		b = binary.AppendUvarint(b, uint64(v))
	}
	b = append(b, m.hours[:]...)
	f := m.floats()
	b = appendFloats(b, f[:])
	if m.moh != nil {
		var moh [60]*float32
		for k := range m.moh {
			moh[k] = &m.moh[k]
		}
		b = appendFloats(b, moh[:])
	}
	return b, nil
}

// UnmarshalBinary sets m from data, which must be exactly one encoding
// written by AppendBinary. Any input it accepts re-encodes to the same
// bytes.
func (m *Seasonal) UnmarshalBinary(data []byte) error {
	d := decoder{p: data, what: "Seasonal"}
	d.version(seasonalBinaryVersion)
	flags := d.byte()
	if flags&^seasonalFlagMOH != 0 {
		d.fail("unknown flags %#x", flags)
	}
	var out Seasonal
	for _, p := range [...]*uint32{&out.n, &out.nM, &out.calls, &out.b10.n, &out.b60.n} {
		*p = d.uint32()
	}
	copy(out.hours[:], d.bytes(len(out.hours)))
	f := out.floats()
	d.floats(f[:])
	if flags&seasonalFlagMOH != 0 {
		out.moh = new([60]float32)
		var moh [60]*float32
		for k := range out.moh {
			moh[k] = &out.moh[k]
		}
		d.floats(moh[:])
	}
	if err := d.end(); err != nil {
		return err
	}
	*m = out
	return nil
}

// appendFloats appends a bitmap of the values whose bits are not all zero
// (bit i%8 of byte i/8 for value i), then those values' bits, 4 bytes
// little-endian each. Sparse series have mostly zero profiles; -0 and NaNs
// are kept bit for bit.
func appendFloats(b []byte, f []*float32) []byte {
	n := len(b)
	b = append(b, make([]byte, (len(f)+7)/8)...)
	for i, p := range f {
		if u := math.Float32bits(*p); u != 0 {
			b[n+i/8] |= 1 << (i % 8)
			b = binary.LittleEndian.AppendUint32(b, u)
		}
	}
	return b
}

// decoder reads an encoding with a sticky error: after the first problem
// every read returns zero values and end reports the problem.
type decoder struct {
	p    []byte
	off  int
	what string
	err  error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s at byte %d: %s", ErrBadEncoding, d.what, d.off, fmt.Sprintf(format, args...))
	}
	d.p = nil
}

func (d *decoder) bytes(n int) []byte {
	if d.err != nil {
		return nil
	}
	if len(d.p) < n {
		d.fail("truncated")
		return nil
	}
	v := d.p[:n]
	d.p, d.off = d.p[n:], d.off+n
	return v
}

func (d *decoder) byte() byte {
	if v := d.bytes(1); v != nil {
		return v[0]
	}
	return 0
}

func (d *decoder) version(want byte) {
	if v := d.byte(); d.err == nil && v != want {
		d.fail("version %d, want %d", v, want)
	}
}

// uint32 reads a minimal uvarint that fits 32 bits.
func (d *decoder) uint32() uint32 {
	if d.err != nil {
		return 0
	}
	x, n := binary.Uvarint(d.p)
	if n != 1 && (n <= 0 || d.p[n-1] == 0) {
		d.fail("bad or overlong uvarint")
		return 0
	}
	if x > math.MaxUint32 {
		d.fail("%d does not fit 32 bits", x)
		return 0
	}
	d.bytes(n)
	return uint32(x)
}

// floats reads what appendFloats wrote for len(f) values. A bit set for a
// zero value is rejected, so that the encoding stays canonical.
func (d *decoder) floats(f []*float32) {
	bits := d.bytes((len(f) + 7) / 8)
	if bits == nil {
		return
	}
	if r := len(f) % 8; r != 0 && bits[len(bits)-1]>>r != 0 {
		d.fail("padding bits set")
		return
	}
	for i, p := range f {
		if bits[i/8]&(1<<(i%8)) == 0 {
			continue
		}
		v := d.bytes(4)
		if v == nil {
			return
		}
		u := binary.LittleEndian.Uint32(v)
		if u == 0 {
			d.fail("float %d: zero marked non-zero", i)
			return
		}
		*p = math.Float32frombits(u)
	}
}

func (d *decoder) end() error {
	if d.err == nil && len(d.p) != 0 {
		d.fail("%d trailing bytes", len(d.p))
	}
	return d.err
}
