package detector

import (
	"encoding"
	"encoding/binary"
	"fmt"
	"math"
)

// The primitives of the snapshot format (docs/formats/snapshot.md):
// uvarints and zigzag varints as encoding/binary writes them, floats as
// their IEEE 754 bits in little-endian order, strings and nested encodings
// behind a uvarint length.

// snapWriter appends a snapshot to b.
type snapWriter struct {
	b       []byte
	scratch []byte // for nested encodings, whose length goes first
}

func (w *snapWriter) putByte(v byte)      { w.b = append(w.b, v) }
func (w *snapWriter) putUvarint(v uint64) { w.b = binary.AppendUvarint(w.b, v) }
func (w *snapWriter) putVarint(v int64)   { w.b = binary.AppendVarint(w.b, v) }

func (w *snapWriter) putFloat64(v float64) {
	w.b = binary.LittleEndian.AppendUint64(w.b, math.Float64bits(v))
}

func (w *snapWriter) putFloat32(v float32) {
	w.b = binary.LittleEndian.AppendUint32(w.b, math.Float32bits(v))
}

func (w *snapWriter) putBool(v bool) {
	if v {
		w.putByte(1)
	} else {
		w.putByte(0)
	}
}

func (w *snapWriter) putString(s string) {
	w.putUvarint(uint64(len(s)))
	w.b = append(w.b, s...)
}

// putNested writes v's own encoding behind its length.
func (w *snapWriter) putNested(v encoding.BinaryAppender) error {
	var err error
	w.scratch, err = v.AppendBinary(w.scratch[:0])
	if err != nil {
		return err
	}
	w.putUvarint(uint64(len(w.scratch)))
	w.b = append(w.b, w.scratch...)
	return nil
}

// section writes one section: its id, its length as 8 bytes (patched once
// the payload is written, so nothing is copied), and the payload fn writes.
func (w *snapWriter) section(id sectionID, fn func() error) error {
	w.putByte(byte(id))
	at := len(w.b)
	w.b = binary.LittleEndian.AppendUint64(w.b, 0)
	if err := fn(); err != nil {
		return fmt.Errorf("snapshot %s section: %w", id, err)
	}
	binary.LittleEndian.PutUint64(w.b[at:], uint64(len(w.b)-at-8))
	return nil
}

// snapReader reads one section of a snapshot with a sticky error: after the
// first problem every read returns a zero value, every count is 0, and err
// says what and where. Counts are checked against the bytes left before
// anything is allocated for them.
type snapReader struct {
	p   []byte
	pos int
	at  int64 // offset of p[0] in the snapshot, for messages
	sec sectionID
	// version is the snapshot's format version.
	version uint32
	err     error
	// intern returns an existing string equal to b, if there is one, so
	// that restored keys share the value table's strings.
	intern func(b []byte) (string, bool)
}

func (r *snapReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s section at byte %d: %s", ErrBadSnapshot, r.sec, r.at+int64(r.pos), fmt.Sprintf(format, args...))
	}
	r.p, r.pos = nil, 0
}

func (r *snapReader) left() int { return len(r.p) - r.pos }

func (r *snapReader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > r.left() {
		r.fail("truncated: %d bytes needed, %d left", n, r.left())
		return nil
	}
	v := r.p[r.pos : r.pos+n : r.pos+n]
	r.pos += n
	return v
}

func (r *snapReader) byte() byte {
	if v := r.take(1); v != nil {
		return v[0]
	}
	return 0
}

func (r *snapReader) bool() bool {
	switch v := r.byte(); v {
	case 0:
		return false
	case 1:
		return true
	default:
		r.fail("boolean byte %d", v)
		return false
	}
}

// uvarint reads a uvarint; an overlong one is rejected so that any
// accepted snapshot is canonical.
func (r *snapReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	x, n := binary.Uvarint(r.p[r.pos:])
	if n != 1 && (n <= 0 || r.p[r.pos+n-1] == 0) {
		r.fail("bad or overlong varint")
		return 0
	}
	r.pos += n
	return x
}

func (r *snapReader) varint() int64 {
	u := r.uvarint()
	return int64(u>>1) ^ -int64(u&1) // zigzag, as binary.Varint
}

// int reads a varint that must fit an int.
func (r *snapReader) int() int {
	v := r.varint()
	if int64(int(v)) != v {
		r.fail("%d does not fit an int", v)
		return 0
	}
	return int(v)
}

// int32 reads a varint that must fit 32 bits.
func (r *snapReader) int32() int32 {
	v := r.varint()
	if v < math.MinInt32 || v > math.MaxInt32 {
		r.fail("%d does not fit 32 bits", v)
		return 0
	}
	return int32(v)
}

// uint16 reads a uvarint that must fit 16 bits.
func (r *snapReader) uint16() uint16 {
	v := r.uvarint()
	if v > math.MaxUint16 {
		r.fail("%d does not fit 16 bits", v)
		return 0
	}
	return uint16(v)
}

// id reads an index into a value table of n strings.
func (r *snapReader) id(n int) uint32 {
	v := r.uvarint()
	if v >= uint64(n) {
		r.fail("string id %d out of range (%d strings)", v, n)
		return 0
	}
	return uint32(v)
}

func (r *snapReader) float64() float64 {
	if v := r.take(8); v != nil {
		return math.Float64frombits(binary.LittleEndian.Uint64(v))
	}
	return 0
}

func (r *snapReader) float32() float32 {
	if v := r.take(4); v != nil {
		return math.Float32frombits(binary.LittleEndian.Uint32(v))
	}
	return 0
}

func (r *snapReader) bytes() []byte {
	n := r.uvarint()
	if n > uint64(r.left()) {
		r.fail("length %d exceeds the %d bytes left", n, r.left())
		return nil
	}
	return r.take(int(n))
}

func (r *snapReader) string() string {
	b := r.bytes()
	if r.intern != nil {
		if s, ok := r.intern(b); ok {
			return s
		}
	}
	return string(b)
}

// count reads the number of elements that follow, each at least minSize
// bytes long, and rejects a count the bytes left cannot hold: a hostile
// count cannot make the reader allocate more than the input backs.
func (r *snapReader) count(minSize int) int {
	n := r.uvarint()
	if n > uint64(r.left()/minSize) {
		r.fail("count %d: %d bytes left cannot hold it", n, r.left())
		return 0
	}
	return int(n)
}

// nested decodes a nested encoding into v.
func (r *snapReader) nested(what string, v encoding.BinaryUnmarshaler) {
	b := r.bytes()
	if r.err != nil {
		return
	}
	if err := v.UnmarshalBinary(b); err != nil {
		r.fail("%s: %v", what, err)
	}
}

// end reports the first problem, or trailing bytes.
func (r *snapReader) end() error {
	if r.err == nil && r.left() != 0 {
		r.fail("%d bytes after the last field", r.left())
	}
	return r.err
}

// nextID reads the next of a strictly ascending list of ids into a table of
// n strings, each written as its difference from the one before (the first
// from 0).
func (r *snapReader) nextID(prev *uint64, first bool, n int) uint32 {
	d := r.uvarint()
	switch {
	case r.err != nil:
		return 0
	case d == 0 && !first:
		r.fail("ids not strictly ascending")
		return 0
	case d >= uint64(n) || *prev+d >= uint64(n):
		r.fail("string id %d out of range (%d strings)", *prev+d, n)
		return 0
	}
	*prev += d
	return uint32(*prev)
}
