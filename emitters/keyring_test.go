package emitters_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/trailsight/trailsight/cloudtrail"
	"github.com/trailsight/trailsight/emitters"
)

// TestKeyRingRotation: a ring makes its key on first use and keeps it; a
// new key in its place closes the old key's validity but keeps it listed,
// so digests signed before the rotation still verify.
func TestKeyRingRotation(t *testing.T) {
	dir := t.TempDir()
	day1 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	kr, err := emitters.OpenKeyRing(dir, day1)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(filepath.Join(dir, emitters.SigningKeyFile))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("signing key file: %v, mode %v; want 0600", err, info.Mode().Perm())
	}
	oldFP := kr.Fingerprint()
	oldSig, err := kr.Sign("signing string 1", day1.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	again, err := emitters.OpenKeyRing(dir, day1.Add(time.Hour))
	if err != nil || again.Fingerprint() != oldFP {
		t.Fatalf("reopened ring uses %s (%v), want the kept key %s", again.Fingerprint(), err, oldFP)
	}

	// Rotate: a new PKCS#8 key in place of the old one.
	nk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(nk)
	if err := os.WriteFile(filepath.Join(dir, emitters.SigningKeyFile), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	day2 := day1.Add(24 * time.Hour)
	rotated, err := emitters.OpenKeyRing(dir, day2)
	if err != nil {
		t.Fatal(err)
	}
	if rotated.Fingerprint() == oldFP || rotated.Fingerprint() != cloudtrail.Fingerprint(&nk.PublicKey) {
		t.Fatalf("after rotation the ring signs with %s, want the new key", rotated.Fingerprint())
	}
	b, err := os.ReadFile(filepath.Join(dir, emitters.PublicKeysFile))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := cloudtrail.ParsePublicKeyList(b)
	if err != nil || len(keys) != 2 {
		t.Fatalf("public keys: %d (%v), want the old and the new", len(keys), err)
	}
	for _, k := range keys {
		switch k.Fingerprint {
		case oldFP:
			if !k.ValidityEndTime.Equal(day2) || !k.ValidityStartTime.Equal(day1) {
				t.Errorf("old key valid %s..%s, want %s..%s", k.ValidityStartTime, k.ValidityEndTime, day1, day2)
			}
			pub, err := k.RSA()
			if err != nil {
				t.Fatal(err)
			}
			if err := cloudtrail.VerifyDigest(pub, "signing string 1", oldSig); err != nil {
				t.Errorf("a signature of the old key no longer verifies with the listed key: %v", err)
			}
		case rotated.Fingerprint():
			if !k.ValidityStartTime.Equal(day2) || k.ValidityEndTime.Before(day2.AddDate(100, 0, 0)) {
				t.Errorf("new key valid %s..%s, want from %s, open-ended", k.ValidityStartTime, k.ValidityEndTime, day2)
			}
		default:
			t.Errorf("unexpected key %s", k.Fingerprint)
		}
	}
	// A digest from before the key's start (a replay of the past) moves
	// the start back, so the list covers it.
	if _, err := rotated.Sign("past", day1.Add(-48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, k := range rotated.PublicKeys() {
		if k.Fingerprint == rotated.Fingerprint() && !k.ValidityStartTime.Equal(day1.Add(-49*time.Hour)) {
			t.Errorf("new key's validity starts %s after signing a digest ending %s", k.ValidityStartTime, day1.Add(-48*time.Hour))
		}
	}
	if err := os.WriteFile(filepath.Join(dir, emitters.SigningKeyFile), []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := emitters.OpenKeyRing(dir, day2); err == nil {
		t.Error("a damaged key file opened without an error")
	}
}
