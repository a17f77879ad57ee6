package cloudtrail

import (
	"crypto/md5"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestFingerprint(t *testing.T) {
	key, other := digestTestKeys()
	fp := Fingerprint(&key.PublicKey)
	sum := md5.Sum(x509.MarshalPKCS1PublicKey(&key.PublicKey))
	if want := hex.EncodeToString(sum[:]); fp != want {
		t.Errorf("Fingerprint = %s, want %s", fp, want)
	}
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(fp) {
		t.Errorf("Fingerprint = %q, want 32 lowercase hex characters", fp)
	}
	if Fingerprint(&other.PublicKey) == fp {
		t.Error("two keys have the same fingerprint")
	}
}

func TestNewPublicKey(t *testing.T) {
	key, _ := digestTestKeys()
	zone := time.FixedZone("UTC+2", 2*3600)
	k := NewPublicKey(&key.PublicKey, time.Date(2026, 1, 12, 12, 0, 0, 5, zone), time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
	if got, want := k.ValidityStartTime, time.Date(2026, 1, 12, 10, 0, 0, 0, time.UTC); got != want {
		t.Errorf("ValidityStartTime = %v, want %v", got, want)
	}
	if got, want := k.Fingerprint, Fingerprint(&key.PublicKey); got != want {
		t.Errorf("Fingerprint = %s, want %s", got, want)
	}
	// AWS examples of Value begin MIIBCgKCAQEA: a 2048-bit PKCS#1 key.
	if got := base64.StdEncoding.EncodeToString(k.Value); !strings.HasPrefix(got, "MIIBCgKCAQEA") {
		t.Errorf("Value = %s…, want the MIIBCgKCAQEA prefix of a DER PKCS#1 2048-bit key", got[:20])
	}
	pub, err := k.RSA()
	if err != nil {
		t.Fatal(err)
	}
	if !pub.Equal(&key.PublicKey) {
		t.Error("RSA() does not give the key back")
	}
	if _, err := (PublicKey{Value: []byte("junk"), Fingerprint: "f"}).RSA(); err == nil {
		t.Error("RSA() of junk = nil error")
	}
}

func TestPublicKeyList(t *testing.T) {
	key, other := digestTestKeys()
	keys := []PublicKey{
		NewPublicKey(&key.PublicKey, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 12, 10, 0, 0, 0, time.UTC)),
		NewPublicKey(&other.PublicKey, time.Date(2026, 1, 12, 10, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)),
	}
	b := EncodePublicKeyList(keys)

	want := `{"PublicKeyList":[{"Value":"` + base64.StdEncoding.EncodeToString(keys[0].Value) +
		`","ValidityStartTime":"2026-01-01T00:00:00Z","ValidityEndTime":"2026-01-12T10:00:00Z","Fingerprint":"` + keys[0].Fingerprint +
		`"},{"Value":"` + base64.StdEncoding.EncodeToString(keys[1].Value) +
		`","ValidityStartTime":"2026-01-12T10:00:00Z","ValidityEndTime":"9999-12-31T23:59:59Z","Fingerprint":"` + keys[1].Fingerprint + `"}]}`
	if string(b) != want {
		t.Errorf("EncodePublicKeyList:\n got %s\nwant %s", b, want)
	}
	if !json.Valid(b) {
		t.Errorf("EncodePublicKeyList is invalid JSON: %s", b)
	}
	got, err := ParsePublicKeyList(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, keys); diff != "" {
		t.Errorf("ParsePublicKeyList(EncodePublicKeyList(keys)) (-got +want):\n%s", diff)
	}
	if got, want := string(EncodePublicKeyList(nil)), `{"PublicKeyList":[]}`; got != want {
		t.Errorf("EncodePublicKeyList(nil) = %s, want %s", got, want)
	}
}

// TestParsePublicKeyListForms reads the time forms of the CLI (+00:00) and
// of the raw API (epoch seconds).
func TestParsePublicKeyListForms(t *testing.T) {
	in := `{"PublicKeyList":[
	  {"Value":"AQID","ValidityStartTime":"2015-08-12T03:00:00+00:00","ValidityEndTime":1439384400,"Fingerprint":"fp1"},
	  {"Value":"BAU=","ValidityStartTime":"2015-08-12T05:00:00+02:00","ValidityEndTime":1439384400.5,"Fingerprint":"fp2"}
	], "NextToken": "x"}`
	got, err := ParsePublicKeyList([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []PublicKey{
		{Value: []byte{1, 2, 3}, ValidityStartTime: time.Date(2015, 8, 12, 3, 0, 0, 0, time.UTC),
			ValidityEndTime: time.Date(2015, 8, 12, 13, 0, 0, 0, time.UTC), Fingerprint: "fp1"},
		{Value: []byte{4, 5}, ValidityStartTime: time.Date(2015, 8, 12, 3, 0, 0, 0, time.UTC),
			ValidityEndTime: time.Date(2015, 8, 12, 13, 0, 0, 500_000_000, time.UTC), Fingerprint: "fp2"},
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("ParsePublicKeyList (-got +want):\n%s", diff)
	}

	for _, bad := range []string{
		``,
		`[]`,
		`{"PublicKeyList":[{"Value":"not base64!"}]}`,
		`{"PublicKeyList":[{"ValidityStartTime":"yesterday"}]}`,
		`{"PublicKeyList":[{"ValidityStartTime":true}]}`,
	} {
		if got, err := ParsePublicKeyList([]byte(bad)); err == nil {
			t.Errorf("ParsePublicKeyList(%q) = %v, nil; want an error", bad, got)
		}
	}
}
