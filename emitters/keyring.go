package emitters

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/trailsight/trailsight/cloudtrail"
	"github.com/trailsight/trailsight/internal/objstore"
)

// Files of a KeyRing's directory.
const (
	SigningKeyFile = "signing-key.pem"
	PublicKeysFile = "public-keys.json"
)

// keyValidityOpen is the end of the validity of the key in use: far enough
// ahead that no digest outlives it, as an open period.
var keyValidityOpen = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// KeyRing holds the key that signs digest files and the public keys that
// verify them (spec §5.6). Its directory holds the private key in use
// (signing-key.pem, PEM, PKCS#1 or PKCS#8; generated, RSA 2048, on first
// use and kept) and every public key it ever used (public-keys.json, in the
// format of CloudTrail's ListPublicKeys response, which `trailsight
// validate` reads). Rotation replaces signing-key.pem: the previous public
// key stays in the list with its validity closed, so older digests still
// verify.
//
// A key's validity starts at the earliest digest it signed, or when it was
// first seen: a replay signs digests of the past.
//
// A KeyRing is safe for concurrent use.
type KeyRing struct {
	dir string

	mu   sync.Mutex
	key  *rsa.PrivateKey
	fp   string
	keys []cloudtrail.PublicKey
}

var _ Signer = (*KeyRing)(nil)

// OpenKeyRing opens the key ring in dir, creating dir and a key if needed.
// now is when a newly seen key's validity starts.
func OpenKeyRing(dir string, now time.Time) (*KeyRing, error) {
	now = now.UTC().Truncate(time.Second)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("key ring: %w", err)
	}
	kr := &KeyRing{dir: dir}
	keyPath := filepath.Join(dir, SigningKeyFile)
	pemBytes, err := os.ReadFile(keyPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		kr.key, err = rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, fmt.Errorf("key ring: generate key: %w", err)
		}
		pemBytes = pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(kr.key)})
		if err := objstore.WriteFileDurable(keyPath, pemBytes); err != nil {
			return nil, fmt.Errorf("key ring: %w", err)
		}
		if err := os.Chmod(keyPath, 0o600); err != nil {
			return nil, fmt.Errorf("key ring: %w", err)
		}
	case err != nil:
		return nil, fmt.Errorf("key ring: %w", err)
	default:
		if kr.key, err = ParsePrivateKey(pemBytes); err != nil {
			return nil, fmt.Errorf("key ring: %s: %w", keyPath, err)
		}
	}
	kr.fp = cloudtrail.Fingerprint(&kr.key.PublicKey)

	listPath := filepath.Join(dir, PublicKeysFile)
	if b, err := os.ReadFile(listPath); err == nil {
		if kr.keys, err = cloudtrail.ParsePublicKeyList(b); err != nil {
			return nil, fmt.Errorf("key ring: %s: %w", listPath, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("key ring: %w", err)
	}
	changed := false
	found := false
	for i := range kr.keys {
		k := &kr.keys[i]
		if k.Fingerprint == kr.fp {
			found = true
			if !k.ValidityEndTime.Equal(keyValidityOpen) {
				k.ValidityEndTime = keyValidityOpen // a key back in use
				changed = true
			}
		} else if k.ValidityEndTime.After(now) {
			k.ValidityEndTime = now // rotated out
			changed = true
		}
	}
	if !found {
		kr.keys = append(kr.keys, cloudtrail.NewPublicKey(&kr.key.PublicKey, now, keyValidityOpen))
		changed = true
	}
	if changed {
		if err := kr.save(); err != nil {
			return nil, err
		}
	}
	return kr, nil
}

// ParsePrivateKey reads an RSA private key from PEM, PKCS#1 or PKCS#8.
func ParsePrivateKey(pemBytes []byte) (*rsa.PrivateKey, error) {
	blk, _ := pem.Decode(pemBytes)
	if blk == nil {
		return nil, errors.New("no PEM block")
	}
	if k, err := x509.ParsePKCS1PrivateKey(blk.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("not an RSA private key in PKCS#1 or PKCS#8: %w", err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("a %T key: digests are signed with RSA", k)
	}
	return rk, nil
}

func (kr *KeyRing) save() error {
	if err := objstore.WriteFileDurable(filepath.Join(kr.dir, PublicKeysFile), cloudtrail.EncodePublicKeyList(kr.keys)); err != nil {
		return fmt.Errorf("key ring: %w", err)
	}
	return nil
}

// Fingerprint names the key in use.
func (kr *KeyRing) Fingerprint() string { return kr.fp }

// PublicKeys returns every public key of the ring.
func (kr *KeyRing) PublicKeys() []cloudtrail.PublicKey {
	kr.mu.Lock()
	defer kr.mu.Unlock()
	return append([]cloudtrail.PublicKey(nil), kr.keys...)
}

// Sign signs with the key in use. A digest older than the key's validity
// start moves the start back, so the public key list covers it.
func (kr *KeyRing) Sign(signing string, end time.Time) (string, error) {
	kr.mu.Lock()
	defer kr.mu.Unlock()
	for i := range kr.keys {
		k := &kr.keys[i]
		if k.Fingerprint == kr.fp && end.Add(-time.Hour).Before(k.ValidityStartTime) {
			k.ValidityStartTime = end.Add(-time.Hour).UTC()
			if err := kr.save(); err != nil {
				return "", err
			}
		}
	}
	return cloudtrail.SignDigest(kr.key, signing)
}
