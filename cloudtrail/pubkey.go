package cloudtrail

import (
	"bytes"
	"crypto/md5"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// PublicKey is a digest-verifying public key as CloudTrail's ListPublicKeys
// returns it (spec §5.6).
type PublicKey struct {
	// Value is the DER encoding of a PKCS#1 RSAPublicKey.
	Value             []byte
	ValidityStartTime time.Time
	ValidityEndTime   time.Time
	// Fingerprint is the digestPublicKeyFingerprint of the digests the
	// key verifies (see Fingerprint).
	Fingerprint string
}

// NewPublicKey returns the list entry of pub, valid from from to to. Times
// are kept in UTC to the second, as the list encoding writes them.
func NewPublicKey(pub *rsa.PublicKey, from, to time.Time) PublicKey {
	return PublicKey{
		Value:             x509.MarshalPKCS1PublicKey(pub),
		ValidityStartTime: from.UTC().Truncate(time.Second),
		ValidityEndTime:   to.UTC().Truncate(time.Second),
		Fingerprint:       Fingerprint(pub),
	}
}

// Fingerprint returns trailsight's digestPublicKeyFingerprint of pub: the
// lowercase hex MD5 of its DER PKCS#1 encoding, 32 characters (spec §2.9
// #9). AWS does not document its computation; validators only compare the
// strings.
func Fingerprint(pub *rsa.PublicKey) string {
	sum := md5.Sum(x509.MarshalPKCS1PublicKey(pub))
	return hex.EncodeToString(sum[:])
}

// RSA parses k.Value as a DER PKCS#1 RSA public key.
func (k PublicKey) RSA() (*rsa.PublicKey, error) {
	pub, err := x509.ParsePKCS1PublicKey(k.Value)
	if err != nil {
		return nil, fmt.Errorf("public key %s: %w", k.Fingerprint, err)
	}
	return pub, nil
}

// EncodePublicKeyList returns keys as the JSON of a ListPublicKeys response:
// {"PublicKeyList":[{"Value":"<base64>","ValidityStartTime":"…",
// "ValidityEndTime":"…","Fingerprint":"…"}]}, compact, in this key order,
// with RFC 3339 UTC times to the second.
func EncodePublicKeyList(keys []PublicKey) []byte {
	b := []byte(`{"PublicKeyList":[`)
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"Value":"`...)
		b = base64.StdEncoding.AppendEncode(b, k.Value)
		b = append(b, `","ValidityStartTime":"`...)
		b = k.ValidityStartTime.UTC().AppendFormat(b, time.RFC3339)
		b = append(b, `","ValidityEndTime":"`...)
		b = k.ValidityEndTime.UTC().AppendFormat(b, time.RFC3339)
		b = append(b, `","Fingerprint":`...)
		b = appendJSONStr(b, k.Fingerprint)
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

// ParsePublicKeyList reads a ListPublicKeys response: the output of
// EncodePublicKeyList or of `aws cloudtrail list-public-keys`. Times may be
// RFC 3339 strings in any zone (the CLI writes +00:00) or epoch seconds (the
// raw API); they are returned in UTC.
func ParsePublicKeyList(b []byte) ([]PublicKey, error) {
	var resp struct {
		PublicKeyList []struct {
			Value             []byte
			ValidityStartTime keyTime
			ValidityEndTime   keyTime
			Fingerprint       string
		}
	}
	if err := json.Unmarshal(b, &resp); err != nil {
		return nil, fmt.Errorf("parse public key list: %w", err)
	}
	keys := make([]PublicKey, 0, len(resp.PublicKeyList))
	for _, k := range resp.PublicKeyList {
		keys = append(keys, PublicKey{
			Value:             k.Value,
			ValidityStartTime: time.Time(k.ValidityStartTime),
			ValidityEndTime:   time.Time(k.ValidityEndTime),
			Fingerprint:       k.Fingerprint,
		})
	}
	return keys, nil
}

// keyTime decodes a ListPublicKeys time: an RFC 3339 string or a JSON
// number of seconds since the epoch.
type keyTime time.Time

// UnmarshalJSON implements json.Unmarshaler.
func (t *keyTime) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return fmt.Errorf("validity time: %w", err)
		}
		*t = keyTime(v.UTC())
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("validity time %s: not a string or number", b)
	}
	sec := int64(f)
	*t = keyTime(time.Unix(sec, int64((f-float64(sec))*1e9)).UTC())
	return nil
}
