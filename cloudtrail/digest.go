package cloudtrail

import (
	"bytes"
	"compress/gzip"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// Algorithm names and S3 metadata keys of digest files (spec §5.2, §5.4).
// The metadata keys are as SDKs expose them: lowercase, without the
// x-amz-meta- prefix.
const (
	DigestSignatureAlgorithm = "SHA256withRSA"
	DigestHashAlgorithm      = "SHA-256"
	MetaSignature            = "signature"
	MetaSignatureAlgorithm   = "signature-algorithm"
)

// ErrDigestFormat is wrapped by the errors of ParseDigest: the input is not
// gzip or JSON, a value has the wrong type, or a key the reference
// validator requires is missing. `aws cloudtrail validate-logs` reports
// such a digest as "INVALID: invalid format".
var ErrDigestFormat = errors.New("cloudtrail: invalid digest format")

// maxDigestSize caps the uncompressed size ParseDigest accepts. A busy
// organization trail's hourly digest is well under a megabyte; the cap only
// stops a gzip bomb.
const maxDigestSize = 64 << 20

// DigestLogFile is one entry of a digest's logFiles list (spec §5.2). Times
// are kept exactly as written in the JSON.
type DigestLogFile struct {
	S3Bucket        string
	S3Object        string
	HashValue       string // lowercase hex SHA-256 of the uncompressed log file
	HashAlgorithm   string // DigestHashAlgorithm
	NewestEventTime string
	OldestEventTime string
}

// Digest is a digest file (spec §5). Times are kept as the exact strings
// written in the JSON, because the signing string copies digestEndTime
// verbatim; FormatDigestTime writes them. Nil pointers are JSON nulls: nil
// NewestEventTime and OldestEventTime mark an hour without log files, and
// nil previousDigest* fields a starting digest (spec §5.3).
type Digest struct {
	AWSAccountID               string
	DigestStartTime            string
	DigestEndTime              string
	DigestS3Bucket             string
	DigestS3Object             string
	DigestPublicKeyFingerprint string
	DigestSignatureAlgorithm   string

	NewestEventTime *string
	OldestEventTime *string

	PreviousDigestS3Bucket      *string
	PreviousDigestS3Object      *string
	PreviousDigestHashValue     *string
	PreviousDigestHashAlgorithm *string
	PreviousDigestSignature     *string

	LogFiles []DigestLogFile
}

// FormatDigestTime writes t the way digest files do: UTC, whole seconds,
// literal Z ("2006-01-02T15:04:05Z").
func FormatDigestTime(t time.Time) string {
	return t.UTC().Format(insightTimeLayout)
}

// AppendJSON appends d to dst as compact JSON with the key order of the AWS
// example (spec §5.1) and returns the extended buffer. Nil pointers are
// written as null and an empty LogFiles as []. The output depends only on
// d, so signing it and hashing it are reproducible.
func (d *Digest) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"awsAccountId":`...)
	dst = appendJSONStr(dst, d.AWSAccountID)
	dst = append(dst, `,"digestStartTime":`...)
	dst = appendJSONStr(dst, d.DigestStartTime)
	dst = append(dst, `,"digestEndTime":`...)
	dst = appendJSONStr(dst, d.DigestEndTime)
	dst = append(dst, `,"digestS3Bucket":`...)
	dst = appendJSONStr(dst, d.DigestS3Bucket)
	dst = append(dst, `,"digestS3Object":`...)
	dst = appendJSONStr(dst, d.DigestS3Object)
	dst = append(dst, `,"digestPublicKeyFingerprint":`...)
	dst = appendJSONStr(dst, d.DigestPublicKeyFingerprint)
	dst = append(dst, `,"digestSignatureAlgorithm":`...)
	dst = appendJSONStr(dst, d.DigestSignatureAlgorithm)
	dst = append(dst, `,"newestEventTime":`...)
	dst = appendJSONNullStr(dst, d.NewestEventTime)
	dst = append(dst, `,"oldestEventTime":`...)
	dst = appendJSONNullStr(dst, d.OldestEventTime)
	dst = append(dst, `,"previousDigestS3Bucket":`...)
	dst = appendJSONNullStr(dst, d.PreviousDigestS3Bucket)
	dst = append(dst, `,"previousDigestS3Object":`...)
	dst = appendJSONNullStr(dst, d.PreviousDigestS3Object)
	dst = append(dst, `,"previousDigestHashValue":`...)
	dst = appendJSONNullStr(dst, d.PreviousDigestHashValue)
	dst = append(dst, `,"previousDigestHashAlgorithm":`...)
	dst = appendJSONNullStr(dst, d.PreviousDigestHashAlgorithm)
	dst = append(dst, `,"previousDigestSignature":`...)
	dst = appendJSONNullStr(dst, d.PreviousDigestSignature)
	dst = append(dst, `,"logFiles":[`...)
	for i := range d.LogFiles {
		f := &d.LogFiles[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"s3Bucket":`...)
		dst = appendJSONStr(dst, f.S3Bucket)
		dst = append(dst, `,"s3Object":`...)
		dst = appendJSONStr(dst, f.S3Object)
		dst = append(dst, `,"hashValue":`...)
		dst = appendJSONStr(dst, f.HashValue)
		dst = append(dst, `,"hashAlgorithm":`...)
		dst = appendJSONStr(dst, f.HashAlgorithm)
		dst = append(dst, `,"newestEventTime":`...)
		dst = appendJSONStr(dst, f.NewestEventTime)
		dst = append(dst, `,"oldestEventTime":`...)
		dst = appendJSONStr(dst, f.OldestEventTime)
		dst = append(dst, '}')
	}
	return append(dst, "]}"...)
}

// appendJSONNullStr writes *s as a JSON string, or null when s is nil.
func appendJSONNullStr(dst []byte, s *string) []byte {
	if s == nil {
		return append(dst, "null"...)
	}
	return appendJSONStr(dst, *s)
}

// digestRequiredKeys are the keys `aws cloudtrail validate-logs` requires
// before it validates a digest (spec §5.7 step 4). previousDigestSignature
// must be present but may be null.
var digestRequiredKeys = [...]string{
	"digestPublicKeyFingerprint",
	"digestS3Bucket",
	"digestS3Object",
	"previousDigestSignature",
	"digestEndTime",
	"digestStartTime",
}

// ParseDigest reads a digest file, gzipped (as stored) or plain JSON. Keys
// may come in any order and unknown keys are ignored; a JSON null where a
// plain string field is expected reads as "". Errors wrap ErrDigestFormat
// when b is neither gzip nor a JSON object, when a known key holds a value
// of the wrong type, or when one of the keys the reference validator
// requires is missing (spec §5.7 step 4). Like the reference validator, it
// reads only the first gzip member and rejects invalid UTF-8.
func ParseDigest(b []byte) (*Digest, error) {
	if IsGzip(b) {
		plain, err := gunzipDigest(b)
		if err != nil {
			return nil, fmt.Errorf("parse digest: gunzip: %w: %w", ErrDigestFormat, err)
		}
		b = plain
	}
	if !utf8.Valid(b) {
		return nil, fmt.Errorf("parse digest: %w: invalid UTF-8", ErrDigestFormat)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("parse digest: %w: %w", ErrDigestFormat, err)
	}
	for _, k := range digestRequiredKeys {
		if _, ok := m[k]; !ok {
			return nil, fmt.Errorf("parse digest: %w: missing key %q", ErrDigestFormat, k)
		}
	}
	d := &Digest{LogFiles: []DigestLogFile{}}
	p := digestParser{m: m}
	p.str("awsAccountId", &d.AWSAccountID)
	p.str("digestStartTime", &d.DigestStartTime)
	p.str("digestEndTime", &d.DigestEndTime)
	p.str("digestS3Bucket", &d.DigestS3Bucket)
	p.str("digestS3Object", &d.DigestS3Object)
	p.str("digestPublicKeyFingerprint", &d.DigestPublicKeyFingerprint)
	p.str("digestSignatureAlgorithm", &d.DigestSignatureAlgorithm)
	p.nullStr("newestEventTime", &d.NewestEventTime)
	p.nullStr("oldestEventTime", &d.OldestEventTime)
	p.nullStr("previousDigestS3Bucket", &d.PreviousDigestS3Bucket)
	p.nullStr("previousDigestS3Object", &d.PreviousDigestS3Object)
	p.nullStr("previousDigestHashValue", &d.PreviousDigestHashValue)
	p.nullStr("previousDigestHashAlgorithm", &d.PreviousDigestHashAlgorithm)
	p.nullStr("previousDigestSignature", &d.PreviousDigestSignature)
	var files []map[string]json.RawMessage
	p.decode("logFiles", &files)
	for i, fm := range files {
		fp := digestParser{m: fm, where: fmt.Sprintf("logFiles[%d].", i)}
		var f DigestLogFile
		fp.str("s3Bucket", &f.S3Bucket)
		fp.str("s3Object", &f.S3Object)
		fp.str("hashValue", &f.HashValue)
		fp.str("hashAlgorithm", &f.HashAlgorithm)
		fp.str("newestEventTime", &f.NewestEventTime)
		fp.str("oldestEventTime", &f.OldestEventTime)
		if fp.err != nil {
			return nil, fp.err
		}
		d.LogFiles = append(d.LogFiles, f)
	}
	if p.err != nil {
		return nil, p.err
	}
	return d, nil
}

// digestParser decodes the values of a JSON object's keys, by exact key
// (encoding/json's struct decoding would also match other cases), keeping
// the first error.
type digestParser struct {
	m     map[string]json.RawMessage
	where string // key path prefix for errors
	err   error
}

// decode unmarshals the value of key into v, if the key is present.
func (p *digestParser) decode(key string, v any) {
	raw, ok := p.m[key]
	if !ok || p.err != nil {
		return
	}
	if err := json.Unmarshal(raw, v); err != nil {
		p.err = fmt.Errorf("parse digest: %w: %s%s: %w", ErrDigestFormat, p.where, key, err)
	}
}

// str reads a string; null leaves dst unchanged.
func (p *digestParser) str(key string, dst *string) { p.decode(key, dst) }

// nullStr reads a string or null.
func (p *digestParser) nullStr(key string, dst **string) { p.decode(key, dst) }

// gunzipDigest inflates the first gzip member of b, as Python's
// zlib.decompress does for the reference validator: trailing bytes are
// ignored, a truncated or corrupt member is an error.
func gunzipDigest(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	zr.Multistream(false)
	plain, err := io.ReadAll(io.LimitReader(zr, maxDigestSize+1))
	if err != nil {
		return nil, err
	}
	if len(plain) > maxDigestSize {
		return nil, fmt.Errorf("larger than %d bytes", maxDigestSize)
	}
	return plain, nil
}

// DigestSigningString returns the string a digest's signature covers (spec
// §5.5): digestEndTime as written, "bucket/object" of the digest itself, the
// lowercase hex SHA-256 of uncompressed (the exact uncompressed bytes of
// the digest file) and the previous digest's signature, or the literal null
// for a starting digest, joined by LF without a trailing newline.
func DigestSigningString(d *Digest, uncompressed []byte) string {
	prev := "null"
	if d.PreviousDigestSignature != nil {
		prev = *d.PreviousDigestSignature
	}
	var b strings.Builder
	b.Grow(len(d.DigestEndTime) + len(d.DigestS3Bucket) + len(d.DigestS3Object) + 2*sha256.Size + len(prev) + 4)
	b.WriteString(d.DigestEndTime)
	b.WriteByte('\n')
	b.WriteString(d.DigestS3Bucket)
	b.WriteByte('/')
	b.WriteString(d.DigestS3Object)
	b.WriteByte('\n')
	b.WriteString(HashHex(uncompressed))
	b.WriteByte('\n')
	b.WriteString(prev)
	return b.String()
}

// SignDigest signs a signing string (DigestSigningString) with RSA PKCS#1
// v1.5 over SHA-256 and returns the signature in lowercase hex, the value
// of the digest object's signature metadata (spec §5.4, §5.5). PKCS#1 v1.5
// signatures are deterministic: the same key and string give the same
// signature.
func SignDigest(key *rsa.PrivateKey, signing string) (hexSig string, err error) {
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("sign digest: %w", err)
	}
	return hex.EncodeToString(sig), nil
}

// VerifyDigest checks a hex signature (either case) of a signing string
// against pub. It returns nil only for a valid signature; a signature that
// does not verify gives an error wrapping rsa.ErrVerification.
func VerifyDigest(pub *rsa.PublicKey, signing, hexSig string) error {
	sig, err := hex.DecodeString(hexSig)
	if err != nil {
		return fmt.Errorf("verify digest signature: decode hex: %w", err)
	}
	sum := sha256.Sum256([]byte(signing))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
		return fmt.Errorf("verify digest signature: %w", err)
	}
	return nil
}

// HashHex returns the lowercase hex SHA-256 of uncompressed, the hashValue
// of a log file and the previousDigestHashValue of a digest (spec §5.2).
func HashHex(uncompressed []byte) string {
	sum := sha256.Sum256(uncompressed)
	return hex.EncodeToString(sum[:])
}

// HashEqual compares two hex hash values case-insensitively, after
// left-padding each with zeros to 64 characters: a public AWS digest holds
// a 63-character previousDigestHashValue whose leading zero was dropped
// (spec §5.3). An empty value equals nothing.
func HashEqual(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	return strings.EqualFold(padHash(a), padHash(b))
}

// padHash left-pads h with zeros to the 64 hex characters of a SHA-256.
func padHash(h string) string {
	if n := 2*sha256.Size - len(h); n > 0 {
		return strings.Repeat("0", n) + h
	}
	return h
}
