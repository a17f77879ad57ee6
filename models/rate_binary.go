package models

import (
	"encoding"
	"encoding/binary"
)

var (
	_ encoding.BinaryAppender    = (*Rate)(nil)
	_ encoding.BinaryUnmarshaler = (*Rate)(nil)
)

// AppendBinary appends the encoding of r to b: a version byte, n (uvarint)
// and the four float32 fields (see appendFloats). The error is always nil.
func (r *Rate) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, rateBinaryVersion)
	b = binary.AppendUvarint(b, uint64(r.n))
	return appendFloats(b, []*float32{&r.errs, &r.calls, &r.res2, &r.resMu}), nil
}

// UnmarshalBinary sets r from data, which must be exactly one encoding
// written by AppendBinary. Any input it accepts re-encodes to the same
// bytes.
func (r *Rate) UnmarshalBinary(data []byte) error {
	d := decoder{p: data, what: "Rate"}
	d.version(rateBinaryVersion)
	var out Rate
	out.n = d.uint32()
	d.floats([]*float32{&out.errs, &out.calls, &out.res2, &out.resMu})
	if err := d.end(); err != nil {
		return err
	}
	*r = out
	return nil
}
