package cloudtrail

import (
	"bytes"
	"testing"
)

// BenchmarkDecode compares DecodeRecord with encoding/json decoding the same
// fields (refDecode), on a realistic 1.6 KB record with nested
// userIdentity.sessionContext, requestParameters and responseElements.
func BenchmarkDecode(b *testing.B) {
	rec := readSeed(b, "api_call_write.json")
	b.Run("fast", func(b *testing.B) {
		d := NewDecoder()
		var ev Event
		b.SetBytes(int64(len(rec)))
		b.ReportAllocs()
		for b.Loop() {
			if err := d.DecodeRecord(rec, &ev); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding_json", func(b *testing.B) {
		var ev Event
		b.SetBytes(int64(len(rec)))
		b.ReportAllocs()
		for b.Loop() {
			if err := refDecode(rec, &ev); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkDecodeBody measures a 1000-record log file, as delivered to S3
// (gzipped) and inflated.
func BenchmarkDecodeBody(b *testing.B) {
	rec := readSeed(b, "api_call_write.json")
	var buf bytes.Buffer
	buf.WriteString(`{"Records":[`)
	for i := range 1000 {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(rec)
	}
	buf.WriteString("]}")
	plain := buf.Bytes()
	for _, bc := range []struct {
		name string
		body []byte
	}{
		{"plain", plain},
		{"gzip", gzipBytes(b, plain)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			d := NewDecoder()
			n := 0
			fn := func(*Event) { n++ }
			b.SetBytes(int64(len(plain)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := d.DecodeBody(bc.body, fn, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
