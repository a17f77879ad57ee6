package baseline

import (
	"encoding"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// countsBinaryVersion is the first byte of a Counts encoding. It changes
// whenever the layout below does (docs/formats/snapshot.md).
const countsBinaryVersion = 1

// countsCells is the number of cells a Counts holds: minutes, then
// quarter hours, then days.
const countsCells = MinutesKept + BlocksKept + DaysKept

// ErrBadCounts reports a Counts encoding that cannot be decoded.
var ErrBadCounts = errors.New("baseline: bad Counts encoding")

var (
	_ encoding.BinaryAppender    = (*Counts)(nil)
	_ encoding.BinaryUnmarshaler = (*Counts)(nil)
)

// AppendBinary appends the encoding of r to b: a version byte, the head
// (varint), a bitmap of the non-zero cells (minutes, quarter hours, days, in
// ring order) and a uvarint per non-zero cell. Most cells of most series are
// zero, so an idle series takes 22 bytes instead of the 328 it holds. The
// error is always nil.
func (r *Counts) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, countsBinaryVersion)
	b = binary.AppendVarint(b, int64(r.top))
	// The bitmap goes first; it is filled in as the values are appended.
	at := len(b)
	b = append(b, make([]byte, (countsCells+7)/8)...)
	for i := range countsCells {
		if v := r.cell(i); v != 0 {
			b[at+i/8] |= 1 << (i % 8)
			b = binary.AppendUvarint(b, uint64(v))
		}
	}
	return b, nil
}

// cell returns cell i in encoding order: minutes, quarter hours, days.
func (r *Counts) cell(i int) uint32 {
	switch {
	case i < MinutesKept:
		return uint32(r.c[i])
	case i < MinutesKept+BlocksKept:
		return uint32(r.q[i-MinutesKept])
	}
	return r.d[i-MinutesKept-BlocksKept]
}

// setCell sets cell i in encoding order; v fits the cell.
func (r *Counts) setCell(i int, v uint32) {
	switch {
	case i < MinutesKept:
		r.c[i] = uint16(v)
	case i < MinutesKept+BlocksKept:
		r.q[i-MinutesKept] = uint16(v)
	default:
		r.d[i-MinutesKept-BlocksKept] = v
	}
}

// UnmarshalBinary sets r from data, which must be exactly one encoding
// written by AppendBinary. It rejects a head before the epoch (no Add can
// make one), a value too wide for its cell, and trailing bytes; and, so
// that every accepted input re-encodes to the same bytes, overlong varints
// and bitmap bits set for zero values.
func (r *Counts) UnmarshalBinary(data []byte) error {
	if len(data) == 0 {
		return fmt.Errorf("%w: empty", ErrBadCounts)
	}
	if data[0] != countsBinaryVersion {
		return fmt.Errorf("%w: version %d, want %d", ErrBadCounts, data[0], countsBinaryVersion)
	}
	p := data[1:]
	top, n := binary.Varint(p)
	if !minimal(p, n) {
		return fmt.Errorf("%w: head: bad or overlong varint", ErrBadCounts)
	}
	if top < 0 || top > math.MaxInt32 {
		return fmt.Errorf("%w: head %d out of range", ErrBadCounts, top)
	}
	p = p[n:]
	const nbits = (countsCells + 7) / 8
	if len(p) < nbits {
		return fmt.Errorf("%w: bitmap: truncated", ErrBadCounts)
	}
	bits, p := p[:nbits], p[nbits:]
	var out Counts
	out.top = int32(top)
	for i := range countsCells {
		if bits[i/8]&(1<<(i%8)) == 0 {
			continue
		}
		x, n := binary.Uvarint(p)
		switch {
		case !minimal(p, n):
			return fmt.Errorf("%w: cell %d: bad or overlong uvarint", ErrBadCounts, i)
		case x == 0:
			return fmt.Errorf("%w: cell %d: zero value marked non-zero", ErrBadCounts, i)
		case i < MinutesKept+BlocksKept && x > math.MaxUint16, x > math.MaxUint32:
			return fmt.Errorf("%w: cell %d: value %d too wide for its cell", ErrBadCounts, i, x)
		}
		out.setCell(i, uint32(x))
		p = p[n:]
	}
	// Bits past the last cell must be clear, or two inputs would decode
	// alike.
	if countsCells%8 != 0 && bits[nbits-1]>>(countsCells%8) != 0 {
		return fmt.Errorf("%w: bitmap: padding bits set", ErrBadCounts)
	}
	if len(p) != 0 {
		return fmt.Errorf("%w: %d trailing bytes", ErrBadCounts, len(p))
	}
	*r = out
	return nil
}

// minimal reports whether the varint decoded from p with length n (from
// binary.Uvarint or binary.Varint) is valid and as short as possible: the
// last byte of a longer one would add nothing.
func minimal(p []byte, n int) bool { return n == 1 || n > 1 && p[n-1] != 0 }
