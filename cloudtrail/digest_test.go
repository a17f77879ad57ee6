package cloudtrail

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trailsight/trailsight/internal/golden"
)

// digestTestKeys returns two RSA-2048 keys, generated once per test binary.
var digestTestKeys = sync.OnceValues(func() (*rsa.PrivateKey, *rsa.PrivateKey) {
	a, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	b, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return a, b
})

// madeUpHex returns n deterministic lowercase hex characters derived from
// label, standing in for the hashes and signatures the spec shortens.
func madeUpHex(label string, n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		sum := sha512.Sum512([]byte(label + string(rune('a'+i))))
		b.WriteString(hex.EncodeToString(sum[:]))
	}
	return b.String()[:n]
}

// digestStrPtr returns a pointer to a copy of s.
func digestStrPtr(s string) *string { return &s }

// specDigest is the example of spec §5.1, with full-length made-up hashes
// and signature in place of the shortened ones.
func specDigest() *Digest {
	return &Digest{
		AWSAccountID:                "123456789123",
		DigestStartTime:             "2020-09-11T18:36:49Z",
		DigestEndTime:               "2020-09-11T19:36:49Z",
		DigestS3Bucket:              "alice-bucket",
		DigestS3Object:              "AWSLogs/123456789123/CloudTrail-Digest/us-west-2/2020/09/11/123456789123_CloudTrail-Digest_us-west-2_leh-ct-test_us-west-2_20200911T193649Z.json.gz",
		DigestPublicKeyFingerprint:  "47aaa19f7eec22e9bd0b5e58cfade8cb",
		DigestSignatureAlgorithm:    DigestSignatureAlgorithm,
		NewestEventTime:             digestStrPtr("2020-09-11T19:26:24Z"),
		OldestEventTime:             digestStrPtr("2020-09-11T18:32:04Z"),
		PreviousDigestS3Bucket:      digestStrPtr("alice-bucket"),
		PreviousDigestS3Object:      digestStrPtr("AWSLogs/123456789123/CloudTrail-Digest/us-west-2/2020/09/11/123456789123_CloudTrail-Digest_us-west-2_leh-ct-test_us-west-2_20200911T183649Z.json.gz"),
		PreviousDigestHashValue:     digestStrPtr("531914fc" + madeUpHex("previous digest", 56)),
		PreviousDigestHashAlgorithm: digestStrPtr(DigestHashAlgorithm),
		PreviousDigestSignature:     digestStrPtr("10e0872f" + madeUpHex("previous signature", 504)),
		LogFiles: []DigestLogFile{{
			S3Bucket:        "alice-bucket",
			S3Object:        "AWSLogs/123456789123/CloudTrail/us-west-2/2020/09/11/123456789123_CloudTrail_us-west-2_20200911T1930Z_l2pGqVS53QcGdAkp.json.gz",
			HashValue:       "420784a5" + madeUpHex("log file", 56),
			HashAlgorithm:   DigestHashAlgorithm,
			NewestEventTime: "2020-09-11T19:26:24Z",
			OldestEventTime: "2020-09-11T19:26:24Z",
		}},
	}
}

// startingDigest is the first digest of a chain: all previousDigest* null.
func startingDigest() *Digest {
	d := specDigest()
	d.DigestS3Object = d.DigestS3Object[:len(d.DigestS3Object)-len("20200911T193649Z.json.gz")] + "20200911T183649Z.json.gz"
	d.DigestStartTime, d.DigestEndTime = "2020-09-11T17:36:49Z", "2020-09-11T18:36:49Z"
	d.NewestEventTime, d.OldestEventTime = digestStrPtr("2020-09-11T18:30:00Z"), digestStrPtr("2020-09-11T17:31:07Z")
	d.PreviousDigestS3Bucket, d.PreviousDigestS3Object = nil, nil
	d.PreviousDigestHashValue, d.PreviousDigestHashAlgorithm, d.PreviousDigestSignature = nil, nil, nil
	d.LogFiles = []DigestLogFile{
		{
			S3Bucket: "alice-bucket", S3Object: "AWSLogs/123456789123/CloudTrail/us-west-2/2020/09/11/123456789123_CloudTrail_us-west-2_20200911T1830Z_Q3bZ1cUZSE0GJ3lK.json.gz",
			HashValue: madeUpHex("second file", 64), HashAlgorithm: DigestHashAlgorithm,
			NewestEventTime: "2020-09-11T18:30:00Z", OldestEventTime: "2020-09-11T18:25:12Z",
		},
		{
			S3Bucket: "alice-bucket", S3Object: "AWSLogs/123456789123/CloudTrail/us-west-2/2020/09/11/123456789123_CloudTrail_us-west-2_20200911T1735Z_5mO7t0uR1GfXhY2w.json.gz",
			HashValue: madeUpHex("first file", 64), HashAlgorithm: DigestHashAlgorithm,
			NewestEventTime: "2020-09-11T17:34:59Z", OldestEventTime: "2020-09-11T17:31:07Z",
		},
	}
	return d
}

// emptyDigest is the digest of an hour without log files.
func emptyDigest() *Digest {
	d := specDigest()
	d.DigestS3Object = d.DigestS3Object[:len(d.DigestS3Object)-len("20200911T193649Z.json.gz")] + "20200911T203649Z.json.gz"
	d.DigestStartTime, d.DigestEndTime = "2020-09-11T19:36:49Z", "2020-09-11T20:36:49Z"
	d.NewestEventTime, d.OldestEventTime = nil, nil
	d.PreviousDigestS3Object = digestStrPtr(specDigest().DigestS3Object)
	d.LogFiles = nil
	return d
}

func TestDigestGolden(t *testing.T) {
	for _, tc := range []struct {
		name   string
		digest *Digest
	}{
		{"digest", specDigest()},
		{"digest-starting", startingDigest()},
		{"digest-empty", emptyDigest()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.digest.AppendJSON(nil)
			golden.Check(t, filepath.Join("testdata", tc.name+".golden.json"), got)
			if !json.Valid(got) {
				t.Errorf("AppendJSON is not valid JSON: %s", got)
			}
			if again := tc.digest.AppendJSON(nil); string(again) != string(got) {
				t.Errorf("AppendJSON is not deterministic:\n%s\n%s", got, again)
			}
		})
	}
}

// TestDigestGoldenMatchesSpec keeps digest.golden.json equal to the
// example of spec §5.1 (copied verbatim into digest.spec.json) once its
// made-up hashes are shortened the way the spec shortens them, so -update
// cannot drift away from the documented format.
func TestDigestGoldenMatchesSpec(t *testing.T) {
	spec, err := os.ReadFile(filepath.Join("testdata", "digest.spec.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := json.Compact(&want, spec); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join("testdata", "digest.golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	d := specDigest()
	short := string(got)
	for _, h := range []string{*d.PreviousDigestHashValue, *d.PreviousDigestSignature, d.LogFiles[0].HashValue} {
		short = strings.Replace(short, h, h[:8]+"…", 1)
	}
	if short != want.String() {
		t.Errorf("golden file with shortened hashes differs from the spec example (-spec +golden):\n%s",
			cmp.Diff(want.String(), short))
	}
}

// TestDigestKeyOrder checks the key order of spec §5.1 through a generic
// decoder, independently of the golden files.
func TestDigestKeyOrder(t *testing.T) {
	wantTop := []string{"awsAccountId", "digestStartTime", "digestEndTime", "digestS3Bucket", "digestS3Object",
		"digestPublicKeyFingerprint", "digestSignatureAlgorithm", "newestEventTime", "oldestEventTime",
		"previousDigestS3Bucket", "previousDigestS3Object", "previousDigestHashValue", "previousDigestHashAlgorithm",
		"previousDigestSignature", "logFiles"}
	wantFile := []string{"s3Bucket", "s3Object", "hashValue", "hashAlgorithm", "newestEventTime", "oldestEventTime"}

	// Keys in document order: the top level up to logFiles, then the one
	// log file's keys.
	got := jsonKeys(t, specDigest().AppendJSON(nil))
	want := append(wantTop, wantFile...)
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("key order (-got +want):\n%s", diff)
	}
}

// jsonKeys returns the object keys of a JSON document in document order.
func jsonKeys(t *testing.T, b []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	var keys []string
	var value func()
	value = func() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		if tok != json.Delim('{') && tok != json.Delim('[') {
			return
		}
		for dec.More() {
			if tok == json.Delim('{') {
				k, err := dec.Token()
				if err != nil {
					t.Fatal(err)
				}
				keys = append(keys, k.(string))
			}
			value()
		}
		if _, err := dec.Token(); err != nil { // closing delimiter
			t.Fatal(err)
		}
	}
	value()
	return keys
}

func TestDigestRoundTrip(t *testing.T) {
	weird := specDigest()
	weird.AWSAccountID = "q\"uote\\back\tslash\x00\u2028日本"
	weird.LogFiles = append(weird.LogFiles, DigestLogFile{S3Object: "<&>"})
	for _, tc := range []struct {
		name   string
		digest *Digest
	}{
		{"spec", specDigest()},
		{"starting", startingDigest()},
		{"empty", emptyDigest()},
		{"escapes", weird},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.digest.AppendJSON(nil)
			for _, in := range [][]byte{b, Gzip(b)} {
				got, err := ParseDigest(in)
				if err != nil {
					t.Fatalf("ParseDigest(%s): %v", b, err)
				}
				want := *tc.digest
				if want.LogFiles == nil {
					want.LogFiles = []DigestLogFile{}
				}
				if diff := cmp.Diff(got, &want); diff != "" {
					t.Errorf("ParseDigest(AppendJSON(d)) (-got +want):\n%s", diff)
				}
			}
		})
	}
}

// TestParseDigestTolerant reads the spec example with its keys reordered,
// spaces, extra keys, and a missing optional key.
func TestParseDigestTolerant(t *testing.T) {
	in := `{
	  "logFiles": [{"hashAlgorithm":"SHA-256","s3Object":"k","extra":1,"s3Bucket":"b","hashValue":"00"}],
	  "previousDigestSignature": null,
	  "digestStartTime": "2020-09-11T18:36:49Z", "digestEndTime": "2020-09-11T19:36:49Z",
	  "digestS3Object": "o", "digestS3Bucket": "b",
	  "digestPublicKeyFingerprint": "fp",
	  "unknown": {"nested": [1, 2, {"x": null}]},
	  "newestEventTime": null
	}`
	got, err := ParseDigest([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := &Digest{
		DigestStartTime: "2020-09-11T18:36:49Z", DigestEndTime: "2020-09-11T19:36:49Z",
		DigestS3Bucket: "b", DigestS3Object: "o", DigestPublicKeyFingerprint: "fp",
		LogFiles: []DigestLogFile{{S3Bucket: "b", S3Object: "k", HashValue: "00", HashAlgorithm: "SHA-256"}},
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("ParseDigest (-got +want):\n%s", diff)
	}
}

func TestParseDigestErrors(t *testing.T) {
	full := string(specDigest().AppendJSON(nil))
	without := func(key string) string {
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(full), &m); err != nil {
			t.Fatal(err)
		}
		delete(m, key)
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	gz := Gzip([]byte(full))
	for _, tc := range []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"not JSON", []byte("hello")},
		{"JSON array", []byte(`[1,2]`)},
		{"JSON null", []byte(`null`)},
		{"trailing data", []byte(full + "x")},
		{"truncated gzip", gz[:len(gz)-5]},
		{"corrupt gzip", append([]byte{0x1f, 0x8b}, gz[2:20]...)},
		{"invalid UTF-8", []byte(strings.Replace(full, "alice", "al\xffce", 1))},
		{"string as number", []byte(strings.Replace(full, `"awsAccountId":"123456789123"`, `"awsAccountId":123456789123`, 1))},
		{"logFiles not an array", []byte(strings.Replace(without("logFiles"), "{", `{"logFiles":{},`, 1))},
		{"missing digestPublicKeyFingerprint", []byte(without("digestPublicKeyFingerprint"))},
		{"missing digestS3Bucket", []byte(without("digestS3Bucket"))},
		{"missing digestS3Object", []byte(without("digestS3Object"))},
		{"missing previousDigestSignature", []byte(without("previousDigestSignature"))},
		{"missing digestEndTime", []byte(without("digestEndTime"))},
		{"missing digestStartTime", []byte(without("digestStartTime"))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := ParseDigest(tc.in)
			if !errors.Is(err, ErrDigestFormat) {
				t.Errorf("ParseDigest(%q) = %+v, %v; want an error wrapping ErrDigestFormat", tc.in, d, err)
			}
		})
	}
	// Keys the validator does not require may be missing.
	for _, key := range []string{"awsAccountId", "logFiles", "previousDigestS3Bucket", "newestEventTime"} {
		if _, err := ParseDigest([]byte(without(key))); err != nil {
			t.Errorf("ParseDigest without %s: %v", key, err)
		}
	}
}

func TestFormatDigestTime(t *testing.T) {
	in := time.Date(2020, 9, 11, 21, 36, 49, 999_000_000, time.FixedZone("UTC+2", 2*3600))
	if got, want := FormatDigestTime(in), "2020-09-11T19:36:49Z"; got != want {
		t.Errorf("FormatDigestTime(%v) = %q, want %q", in, got, want)
	}
}

func TestDigestSigningString(t *testing.T) {
	plain := []byte(`{"x":1}`)
	sum := sha256.Sum256(plain)
	h := hex.EncodeToString(sum[:])
	spec, start := specDigest(), startingDigest()
	for _, tc := range []struct {
		name string
		got  string
		want string
	}{
		{
			"chained",
			DigestSigningString(spec, plain),
			"2020-09-11T19:36:49Z\nalice-bucket/" + spec.DigestS3Object + "\n" + h + "\n" + *spec.PreviousDigestSignature,
		},
		{
			"starting digest signs the literal null",
			DigestSigningString(start, plain),
			"2020-09-11T18:36:49Z\nalice-bucket/" + start.DigestS3Object + "\n" + h + "\nnull",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("signing string = %q\nwant             %q", tc.got, tc.want)
			}
		})
	}
}

func TestSignVerifyDigest(t *testing.T) {
	key, other := digestTestKeys()
	d := specDigest()
	plain := d.AppendJSON(nil)
	signing := DigestSigningString(d, plain)
	sig, err := SignDigest(key, signing)
	if err != nil {
		t.Fatal(err)
	}
	if len(sig) != 512 || strings.ToLower(sig) != sig {
		t.Errorf("signature %q: want 512 lowercase hex characters", sig)
	}
	if again, _ := SignDigest(key, signing); again != sig {
		t.Error("SignDigest is not deterministic")
	}
	if err := VerifyDigest(&key.PublicKey, signing, sig); err != nil {
		t.Fatalf("VerifyDigest of a genuine signature: %v", err)
	}
	if err := VerifyDigest(&key.PublicKey, signing, strings.ToUpper(sig)); err != nil {
		t.Errorf("VerifyDigest of an uppercase signature: %v", err)
	}

	flip := func(b []byte, i int) []byte {
		c := append([]byte(nil), b...)
		c[i] ^= 0x01
		return c
	}
	sigFlipped := sig[:10] + "0" + sig[11:]
	if sig[10] == '0' {
		sigFlipped = sig[:10] + "1" + sig[11:]
	}
	prevFlipped := specDigest()
	prevFlipped.PreviousDigestSignature = digestStrPtr(string(flip([]byte(*d.PreviousDigestSignature), 100)))
	for _, tc := range []struct {
		name    string
		pub     *rsa.PublicKey
		signing string
		sig     string
		rsaErr  bool // want an error wrapping rsa.ErrVerification
	}{
		{"body byte flipped", &key.PublicKey, DigestSigningString(d, flip(plain, len(plain)/2)), sig, true},
		{"previous signature flipped", &key.PublicKey, DigestSigningString(prevFlipped, plain), sig, true},
		{"end time changed", &key.PublicKey, strings.Replace(signing, "19:36:49", "19:36:50", 1), sig, true},
		{"signature byte flipped", &key.PublicKey, signing, sigFlipped, true},
		{"other key", &other.PublicKey, signing, sig, true},
		{"not hex", &key.PublicKey, signing, "zz" + sig[2:], false},
		{"empty signature", &key.PublicKey, signing, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := VerifyDigest(tc.pub, tc.signing, tc.sig)
			if err == nil {
				t.Fatal("VerifyDigest = nil, want an error")
			}
			if got := errors.Is(err, rsa.ErrVerification); got != tc.rsaErr {
				t.Errorf("VerifyDigest = %v; errors.Is(err, rsa.ErrVerification) = %v, want %v", err, got, tc.rsaErr)
			}
		})
	}
}

func TestHashHex(t *testing.T) {
	if got, want := HashHex(nil), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"; got != want {
		t.Errorf("HashHex(nil) = %s, want %s", got, want)
	}
}

func TestHashEqual(t *testing.T) {
	h := "0531914fc0a8d3dbd5e7b39fa5a7fa3e6a6dbd7ebbd67a6c2c5e1d43b2e7c9b1"
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{h, h, true},
		{h, strings.ToUpper(h), true},
		{h, h[1:], true}, // leading zero dropped (spec §5.3)
		{h[1:], h, true},
		{"00" + h[2:], h[2:], true},
		{h, "1" + h[1:], false},
		{h, h[:63], false},
		{"", "", false},
		{"", strings.Repeat("0", 64), false},
	} {
		if got := HashEqual(tc.a, tc.b); got != tc.want {
			t.Errorf("HashEqual(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}
