package validate_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trailsight/trailsight/cloudtrail"
	"github.com/trailsight/trailsight/cloudtrail/validate"
)

// This file holds test helpers other test files of the package may use: an
// in-memory Bucket and a builder of genuine digest chains. They live in a
// test file so that they never ship in the binary.

// MemBucket is an in-memory validate.Bucket. It is safe for concurrent use.
type MemBucket struct {
	name string

	mu   sync.Mutex
	objs map[string]memObject
	// ListErr, if set, fails every List; GetErr fails Get of the given
	// keys.
	ListErr error
	GetErr  map[string]error
}

type memObject struct {
	body []byte
	meta map[string]string
}

var _ validate.Bucket = (*MemBucket)(nil)

// NewMemBucket returns an empty bucket called name.
func NewMemBucket(name string) *MemBucket {
	return &MemBucket{name: name, objs: map[string]memObject{}, GetErr: map[string]error{}}
}

// Name implements validate.Bucket.
func (b *MemBucket) Name() string { return b.name }

// Put stores a copy of body and meta under key.
func (b *MemBucket) Put(key string, body []byte, meta map[string]string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.objs[key] = memObject{body: slices.Clone(body), meta: maps.Clone(meta)}
}

// Get implements validate.Bucket; it returns copies.
func (b *MemBucket) Get(_ context.Context, key string) ([]byte, map[string]string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.GetErr[key]; err != nil {
		return nil, nil, err
	}
	o, ok := b.objs[key]
	if !ok {
		return nil, nil, fmt.Errorf("get s3://%s/%s: %w", b.name, key, validate.ErrNotFound)
	}
	meta := maps.Clone(o.meta)
	if meta == nil {
		meta = map[string]string{}
	}
	return slices.Clone(o.body), meta, nil
}

// List implements validate.Bucket.
func (b *MemBucket) List(_ context.Context, prefix, startAfter string) ([]string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ListErr != nil {
		return nil, b.ListErr
	}
	var keys []string
	for k := range b.objs {
		if strings.HasPrefix(k, prefix) && k > startAfter {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys, nil
}

// Delete removes key.
func (b *MemBucket) Delete(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.objs, key)
}

// Move copies the object at from, metadata included, to to and deletes
// from.
func (b *MemBucket) Move(tb testing.TB, from, to string) {
	tb.Helper()
	body, meta := b.Object(tb, from)
	b.Put(to, body, meta)
	b.Delete(from)
}

// Object returns the stored body and metadata of key.
func (b *MemBucket) Object(tb testing.TB, key string) ([]byte, map[string]string) {
	tb.Helper()
	body, meta, err := b.Get(context.Background(), key)
	if err != nil {
		tb.Fatal(err)
	}
	return body, meta
}

// Rewrite replaces the uncompressed content of the gzipped object at key
// by edit(content), gzipped again, keeping its metadata.
func (b *MemBucket) Rewrite(tb testing.TB, key string, edit func(plain []byte) []byte) {
	tb.Helper()
	body, meta := b.Object(tb, key)
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		tb.Fatal(err)
	}
	b.Put(key, cloudtrail.Gzip(edit(plain)), meta)
}

// EditMeta changes the metadata of key in place.
func (b *MemBucket) EditMeta(tb testing.TB, key string, edit func(meta map[string]string)) {
	tb.Helper()
	body, meta := b.Object(tb, key)
	edit(meta)
	b.Put(key, body, meta)
}

// Digest parses the digest stored at key.
func (b *MemBucket) Digest(tb testing.TB, key string) *cloudtrail.Digest {
	tb.Helper()
	body, _ := b.Object(tb, key)
	d, err := cloudtrail.ParseDigest(body)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// TestKeys returns three RSA-2048 signing keys, generated once per test
// binary.
var TestKeys = sync.OnceValue(func() [3]*rsa.PrivateKey {
	var keys [3]*rsa.PrivateKey
	for i := range keys {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		keys[i] = k
	}
	return keys
})

// PutDigest encodes d, signs it with key as CloudTrail does (spec §5.5) and
// stores it gzipped in b at d.DigestS3Object, with the signature metadata.
// It returns the uncompressed bytes and the signature.
func PutDigest(tb testing.TB, b *MemBucket, d *cloudtrail.Digest, key *rsa.PrivateKey) (plain []byte, sig string) {
	tb.Helper()
	plain = d.AppendJSON(nil)
	sig, err := cloudtrail.SignDigest(key, cloudtrail.DigestSigningString(d, plain))
	if err != nil {
		tb.Fatal(err)
	}
	b.Put(d.DigestS3Object, cloudtrail.Gzip(plain), map[string]string{
		cloudtrail.MetaSignature:          sig,
		cloudtrail.MetaSignatureAlgorithm: cloudtrail.DigestSignatureAlgorithm,
	})
	return plain, sig
}

// Resign replaces the signature metadata of the digest at key by a
// signature of its unchanged content with priv.
func Resign(tb testing.TB, b *MemBucket, key string, priv *rsa.PrivateKey) {
	tb.Helper()
	body, _ := b.Object(tb, key)
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		tb.Fatal(err)
	}
	sig, err := cloudtrail.SignDigest(priv, cloudtrail.DigestSigningString(b.Digest(tb, key), plain))
	if err != nil {
		tb.Fatal(err)
	}
	b.EditMeta(tb, key, func(m map[string]string) { m[cloudtrail.MetaSignature] = sig })
}

// Chain writes a trail's log files and a genuine chain of hourly digests
// into a MemBucket, as CloudTrail would.
type Chain struct {
	tb testing.TB
	// Bucket receives the next hour's files; changing it moves the trail
	// to another bucket.
	Bucket                             *MemBucket
	Prefix                             cloudtrail.KeyPrefix
	Account, Region, Trail, HomeRegion string
	// Key signs the next digests.
	Key *rsa.PrivateKey

	// Digests are the keys of the digests written, oldest first, and
	// Logs the keys of the log files each lists, oldest first.
	Digests []string
	Logs    [][]string

	prev *chainLink
}

// chainLink is what the next digest records of the previous one.
type chainLink struct {
	bucket, key, hash, sig string
}

// NewChain returns a chain of the trail named trail, account 111122223333,
// delivering in eu-west-1 with home Region us-east-1, signed with key.
func NewChain(tb testing.TB, b *MemBucket, trail string, key *rsa.PrivateKey) *Chain {
	return &Chain{tb: tb, Bucket: b, Account: "111122223333", Region: "eu-west-1", Trail: trail, HomeRegion: "us-east-1", Key: key}
}

// ARN returns the trail's ARN.
func (c *Chain) ARN() string {
	return "arn:aws:cloudtrail:" + c.HomeRegion + ":" + c.Account + ":trail/" + c.Trail
}

// Restart makes the next digest a starting digest, as when logging or
// validation is turned back on.
func (c *Chain) Restart() { c.prev = nil }

// Hour delivers n log files, 5 minutes apart, in the hour from start and
// writes the digest of that hour, chained to the previous digest. It
// returns the digest's key.
func (c *Chain) Hour(start time.Time, n int) string {
	c.tb.Helper()
	start = start.UTC()
	end := start.Add(time.Hour)
	key := cloudtrail.DigestFileKey(c.Prefix, c.Account, c.Region, c.Trail, c.HomeRegion, end)
	d := &cloudtrail.Digest{
		AWSAccountID:               c.Account,
		DigestStartTime:            cloudtrail.FormatDigestTime(start),
		DigestEndTime:              cloudtrail.FormatDigestTime(end),
		DigestS3Bucket:             c.Bucket.Name(),
		DigestS3Object:             key,
		DigestPublicKeyFingerprint: cloudtrail.Fingerprint(&c.Key.PublicKey),
		DigestSignatureAlgorithm:   cloudtrail.DigestSignatureAlgorithm,
		LogFiles:                   []cloudtrail.DigestLogFile{},
	}
	var logs []string
	for j := range n {
		at := start.Add(time.Duration(j+1) * 5 * time.Minute)
		newest, oldest := cloudtrail.FormatDigestTime(at.Add(-time.Minute)), cloudtrail.FormatDigestTime(at.Add(-4*time.Minute))
		plain := cloudtrail.RecordsJSON([][]byte{
			fmt.Appendf(nil, `{"eventVersion":"1.11","eventTime":%q,"eventSource":"ec2.amazonaws.com","eventName":"RunInstances","awsRegion":%q,"eventID":"%s-%s-%d-a"}`, newest, c.Region, c.Trail, end.Format("150405"), j),
			fmt.Appendf(nil, `{"eventVersion":"1.11","eventTime":%q,"eventSource":"iam.amazonaws.com","eventName":"GetRole","awsRegion":%q,"eventID":"%s-%s-%d-b"}`, oldest, c.Region, c.Trail, end.Format("150405"), j),
		})
		body := cloudtrail.Gzip(plain)
		lk := cloudtrail.LogFileKey(c.Prefix, c.Account, c.Region, at, cloudtrail.UniqueFromBody(body))
		c.Bucket.Put(lk, body, nil)
		logs = append(logs, lk)
		// Newest first, as CloudTrail lists them.
		d.LogFiles = slices.Insert(d.LogFiles, 0, cloudtrail.DigestLogFile{
			S3Bucket: c.Bucket.Name(), S3Object: lk,
			HashValue: cloudtrail.HashHex(plain), HashAlgorithm: cloudtrail.DigestHashAlgorithm,
			NewestEventTime: newest, OldestEventTime: oldest,
		})
		if d.NewestEventTime == nil {
			d.OldestEventTime = &oldest
		}
		d.NewestEventTime = &newest
	}
	if p := c.prev; p != nil {
		alg := cloudtrail.DigestHashAlgorithm
		d.PreviousDigestS3Bucket, d.PreviousDigestS3Object = &p.bucket, &p.key
		d.PreviousDigestHashValue, d.PreviousDigestHashAlgorithm = &p.hash, &alg
		d.PreviousDigestSignature = &p.sig
	}
	plain, sig := PutDigest(c.tb, c.Bucket, d, c.Key)
	c.prev = &chainLink{bucket: c.Bucket.Name(), key: key, hash: cloudtrail.HashHex(plain), sig: sig}
	c.Digests = append(c.Digests, key)
	c.Logs = append(c.Logs, logs)
	return key
}

// PublicKeys returns the list entries of keys, valid for all of 2026.
func PublicKeys(keys ...*rsa.PrivateKey) []cloudtrail.PublicKey {
	var out []cloudtrail.PublicKey
	for _, k := range keys {
		out = append(out, cloudtrail.NewPublicKey(&k.PublicKey,
			time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)))
	}
	return out
}
