package cloudtrail

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzParseDigest checks that ParseDigest never panics and that whatever
// it accepts re-encodes (AppendJSON) to valid JSON that parses back to the
// same Digest, plain and gzipped. Seeds: the golden digests, the spec-like
// sample in testdata/records, and the committed corpus in
// testdata/fuzz/FuzzParseDigest.
func FuzzParseDigest(f *testing.F) {
	for _, d := range []*Digest{specDigest(), startingDigest(), emptyDigest()} {
		b := d.AppendJSON(nil)
		f.Add(b)
		f.Add(Gzip(b))
	}
	if b, err := os.ReadFile(filepath.Join("testdata", "records", "digest.json")); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"digestPublicKeyFingerprint":null,"digestS3Bucket":"","digestS3Object":"","previousDigestSignature":null,"digestEndTime":"","digestStartTime":"","logFiles":[null,{}]}`))

	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > 1<<16 {
			return
		}
		d, err := ParseDigest(in)
		if err != nil {
			return
		}
		b := d.AppendJSON(nil)
		if !json.Valid(b) {
			t.Fatalf("AppendJSON of ParseDigest(%q) is invalid JSON: %s", in, b)
		}
		for _, enc := range [][]byte{b, Gzip(b)} {
			again, err := ParseDigest(enc)
			if err != nil {
				t.Fatalf("ParseDigest(AppendJSON(ParseDigest(%q))) = %v\nencoded: %s", in, err, b)
			}
			if diff := cmp.Diff(again, d); diff != "" {
				t.Fatalf("round trip of %q changed the digest (-again +first):\n%s", in, diff)
			}
		}
		if b2 := reencodeDigest(t, b); string(b2) != string(b) {
			t.Fatalf("re-encoding is not stable:\n%s\n%s", b, b2)
		}
	})
}

// reencodeDigest parses and re-encodes b.
func reencodeDigest(t *testing.T, b []byte) []byte {
	d, err := ParseDigest(b)
	if err != nil {
		t.Fatal(err)
	}
	return d.AppendJSON(nil)
}
