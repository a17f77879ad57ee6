package validate

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/trailsight/trailsight/cloudtrail"
)

// Bucket is what Validate reads from: an S3 bucket or a local copy of one.
type Bucket interface {
	Name() string
	// Get returns the object's bytes (as stored, i.e. gzip) and its user
	// metadata (lowercase keys without the x-amz-meta- prefix). A missing
	// object returns an error that wraps ErrNotFound.
	Get(ctx context.Context, key string) (body []byte, meta map[string]string, err error)
	// List returns, in lexicographic order, the keys under prefix that sort
	// after startAfter.
	List(ctx context.Context, prefix, startAfter string) ([]string, error)
}

// ErrNotFound is wrapped by Bucket.Get errors for a missing object
// (S3's NoSuchKey).
var ErrNotFound = errors.New("validate: object not found")

// displayLayout is how the reference validator prints times.
const displayLayout = "2006-01-02T15:04:05Z"

// Options say what Validate checks and where it writes. They mirror the
// arguments of `aws cloudtrail validate-logs`, with the trail's bucket,
// prefix and public keys given instead of looked up.
type Options struct {
	// TrailARN is arn:<partition>:cloudtrail:<homeRegion>:<account>:trail/<name>.
	TrailARN string
	// Start and End bound the digest end times validated (UTC, whole
	// seconds). Start is required; a zero End means now.
	Start, End time.Time
	// Region is the Region scanned: the delivering Region in digest keys.
	// The default is the trail's home Region, from the ARN.
	Region string
	// AccountID is the account whose files are validated; the default is
	// the ARN's account. Organization trails name the member account.
	AccountID string
	// OrgID is the organization ID ("o-…") of an organization trail.
	OrgID string
	// Prefix is the trail's S3 key prefix, without a trailing slash.
	Prefix string
	// PublicKeys are the keys that verify digests, as ListPublicKeys
	// returns them for the range; they are indexed by Fingerprint. None is
	// a fatal error.
	PublicKeys []cloudtrail.PublicKey
	// Verbose prints a line for every valid digest and log file too.
	Verbose bool
	// Stdout gets the start line, valid lines (when Verbose) and the
	// summary; Stderr gets INVALID lines and gaps. Nil discards.
	Stdout, Stderr io.Writer
	// Bucket holds the trail's digest and log files.
	Bucket Bucket
	// Open, if set, opens another bucket by name, for a digest whose
	// previousDigestS3Bucket or a log file whose s3Bucket names a bucket
	// other than Bucket. Without it such objects are reported not found.
	Open func(name string) (Bucket, error)
}

// Result counts what Validate checked.
type Result struct {
	DigestsValid, DigestsInvalid int
	LogsValid, LogsInvalid       int
}

// ExitCode returns the exit status of the reference validator for r: 1 if
// any digest or log file is invalid, else 0 (spec §5.8).
func (r Result) ExitCode() int {
	if r.DigestsInvalid > 0 || r.LogsInvalid > 0 {
		return 1
	}
	return 0
}

// TrailARN is a parsed trail ARN.
type TrailARN struct {
	Partition  string // aws, aws-cn, aws-us-gov, …
	HomeRegion string
	AccountID  string
	Name       string
}

// accountPattern is the account part of a trail ARN, as the CLI checks it.
var accountPattern = regexp.MustCompile(`^[0-9]{12}$`)

// ParseTrailARN parses arn:<partition>:cloudtrail:<homeRegion>:<account>:trail/<name>.
func ParseTrailARN(s string) (TrailARN, error) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] != "cloudtrail" || parts[3] == "" ||
		!accountPattern.MatchString(parts[4]) || !strings.HasPrefix(parts[5], "trail/") {
		return TrailARN{}, fmt.Errorf("invalid trail ARN %q: want arn:<partition>:cloudtrail:<region>:<account>:trail/<name>", s)
	}
	name := parts[5][strings.LastIndexByte(parts[5], '/')+1:]
	if name == "" {
		return TrailARN{}, fmt.Errorf("invalid trail ARN %q: empty trail name", s)
	}
	return TrailARN{Partition: parts[1], HomeRegion: parts[3], AccountID: parts[4], Name: name}, nil
}

// Validate validates the trail's digest and log files between o.Start and
// o.End as `aws cloudtrail validate-logs` does (spec §5.7), writing its
// messages (§5.8) to o.Stdout and o.Stderr. Invalid and missing files are
// reported and counted in the Result, not returned: the returned error is
// for conditions that stop the run, as they stop the CLI: bad options, no
// public keys, a listing or read failure other than a missing object, or a
// failed write. After a fatal error the summary is not printed.
func Validate(ctx context.Context, o Options) (Result, error) {
	arn, err := ParseTrailARN(o.TrailARN)
	if err != nil {
		return Result{}, fmt.Errorf("validate: %w", err)
	}
	if o.Bucket == nil {
		return Result{}, errors.New("validate: no bucket")
	}
	if o.Start.IsZero() {
		return Result{}, errors.New("validate: no start time")
	}
	if o.End.IsZero() {
		o.End = time.Now()
	}
	w := &walker{
		o:       o,
		arn:     arn,
		start:   o.Start.UTC().Truncate(time.Second),
		end:     o.End.UTC().Truncate(time.Second),
		region:  o.Region,
		account: o.AccountID,
		keys:    make(map[string]cloudtrail.PublicKey, len(o.PublicKeys)),
		buckets: map[string]Bucket{o.Bucket.Name(): o.Bucket},
		out:     report{stdout: orDiscard(o.Stdout), stderr: orDiscard(o.Stderr), verbose: o.Verbose, lastDouble: true},
	}
	if w.start.After(w.end) {
		return Result{}, fmt.Errorf("validate: start time %s is after end time %s", w.start.Format(displayLayout), w.end.Format(displayLayout))
	}
	if w.region == "" {
		w.region = arn.HomeRegion
	}
	if w.account == "" {
		w.account = arn.AccountID
	}
	w.keyRE = regexp.MustCompile(digestKeyPattern(o.Prefix, o.OrgID, w.account, w.region, arn.Name, arn.HomeRegion))
	w.foundStart = w.start

	w.out.printf("Validating log files for trail %s between %s and %s\n\n",
		o.TrailARN, w.start.Format(displayLayout), w.end.Format(displayLayout))
	if err := w.walk(ctx); err != nil {
		return w.res, err
	}
	w.summary()
	if w.out.err != nil {
		return w.res, fmt.Errorf("validate: write report: %w", w.out.err)
	}
	return w.res, nil
}

// orDiscard returns w, or io.Discard for nil.
func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// digestKeyPattern is the CLI's regular expression for the trail's digest
// keys (spec §5.7 step 2).
func digestKeyPattern(prefix, org, account, region, name, home string) string {
	var b strings.Builder
	b.WriteString("^")
	if prefix != "" {
		b.WriteString(regexp.QuoteMeta(prefix) + "/")
	}
	b.WriteString("AWSLogs/")
	if org != "" {
		b.WriteString(regexp.QuoteMeta(org) + "/")
	}
	a, r := regexp.QuoteMeta(account), regexp.QuoteMeta(region)
	b.WriteString(a + `/CloudTrail\-Digest/` + r + `/\d+/\d+/\d+/` + a + `_CloudTrail\-Digest_` + r + "_" +
		regexp.QuoteMeta(name) + "_" + regexp.QuoteMeta(home) + `_.+\.json\.gz$`)
	return b.String()
}

// walker is the state of one Validate call.
type walker struct {
	o               Options
	arn             TrailARN
	start, end      time.Time
	region, account string
	keyRE           *regexp.Regexp
	keys            map[string]cloudtrail.PublicKey
	buckets         map[string]Bucket // by name; nil: cannot be opened
	out             report
	res             Result

	foundStart, foundEnd time.Time // foundEnd zero: no valid digest yet

	// prefetched is the previous digest, read early for the
	// previousDigestHashValue check and kept for the next step of the walk.
	prefetched *object
}

// object is the outcome of one Bucket.Get.
type object struct {
	bucket, key string
	body        []byte
	meta        map[string]string
	err         error
}

// listed is a digest key found by the listing, with its key timestamp.
type listed struct {
	key string
	t   time.Time
}

// list returns the trail's digest keys in b whose key timestamp is at or
// after the start and no later than end + 1 hour, oldest first, as the CLI
// lists them: from the key of start − 1 minute, keeping the keys its
// pattern matches. Timestamps are read from the right (cloudtrail.ParseKey)
// and the key must name this trail and home Region, so a trail whose name
// merely starts like ours cannot slip in.
func (w *walker) list(ctx context.Context, b Bucket, end time.Time) ([]listed, error) {
	kp := cloudtrail.KeyPrefix{Prefix: w.o.Prefix, OrgID: w.o.OrgID}
	marker := cloudtrail.DigestFileKey(kp, w.account, w.region, w.arn.Name, w.arn.HomeRegion, w.start.Add(-time.Minute))
	// Every key the pattern matches lies in the Region's digest folder.
	folder := "AWSLogs/"
	if kp.OrgID != "" {
		folder += kp.OrgID + "/"
	}
	folder += w.account + "/" + cloudtrail.KeyKindDigest.String() + "/" + w.region + "/"
	if kp.Prefix != "" {
		folder = kp.Prefix + "/" + folder
	}
	keys, err := b.List(ctx, folder, marker)
	if err != nil {
		return nil, fmt.Errorf("validate: list s3://%s/%s: %w", b.Name(), folder, err)
	}
	last := end.Add(time.Hour)
	var out []listed
	for _, k := range keys {
		if !w.keyRE.MatchString(k) {
			continue
		}
		info, ok := cloudtrail.ParseKey(k)
		if !ok || info.Kind != cloudtrail.KeyKindDigest || info.TrailName != w.arn.Name || info.HomeRegion != w.arn.HomeRegion {
			continue
		}
		if info.Time.After(last) {
			break
		}
		if !info.Time.Before(w.start) {
			out = append(out, listed{k, info.Time})
		}
	}
	return out, nil
}

// nextBefore pops digests from the end of the list until one whose key
// time is before that of key (or before fallback, if key has no readable
// timestamp), as the CLI does to resume after a break, a missing or an
// invalid digest.
func nextBefore(digests *[]listed, key string, fallback time.Time) (listed, bool) {
	before := fallback
	if t, ok := keyTime(key); ok {
		before = t
	}
	for len(*digests) > 0 {
		d := (*digests)[len(*digests)-1]
		*digests = (*digests)[:len(*digests)-1]
		if d.t.Before(before) {
			return d, true
		}
	}
	return listed{}, false
}

// keyTime reads the timestamp of a digest key where the CLI does:
// key[-24:-8].
func keyTime(key string) (time.Time, bool) {
	if len(key) < 24 {
		return time.Time{}, false
	}
	t, err := time.Parse("20060102T150405Z", key[len(key)-24:len(key)-8])
	return t, err == nil
}

// bucket returns the bucket called name: Options.Bucket, or one Options.Open
// opens. It returns nil if there is no way to open it.
func (w *walker) bucket(name string) (Bucket, error) {
	if b, ok := w.buckets[name]; ok {
		return b, nil
	}
	var b Bucket
	if w.o.Open != nil {
		var err error
		if b, err = w.o.Open(name); err != nil {
			return nil, fmt.Errorf("validate: open bucket %s: %w", name, err)
		}
	}
	w.buckets[name] = b
	return b, nil
}

// get reads an object, from the prefetched one if it is that object.
func (w *walker) get(ctx context.Context, b Bucket, key string) object {
	if p := w.prefetched; p != nil && p.bucket == b.Name() && p.key == key {
		w.prefetched = nil
		return *p
	}
	body, meta, err := b.Get(ctx, key)
	return object{bucket: b.Name(), key: key, body: body, meta: meta, err: err}
}

// walk is the CLI's DigestTraverser.traverse with its callbacks.
func (w *walker) walk(ctx context.Context) error {
	cur := w.o.Bucket
	digests, err := w.list(ctx, cur, w.end)
	if err != nil {
		return err
	}
	if len(w.o.PublicKeys) == 0 {
		return fmt.Errorf("validate: no public keys found between %s and %s",
			w.start.Format(displayLayout), w.end.Format(displayLayout))
	}
	for _, k := range w.o.PublicKeys {
		w.keys[k.Fingerprint] = k
	}

	var next listed
	ok := len(digests) > 0
	if ok {
		next, digests = digests[len(digests)-1], digests[:len(digests)-1]
	}
	key, lastStart := next.key, next.t
	for ok && !w.start.After(lastStart) {
		c, err := w.checkDigest(ctx, cur, key)
		if err != nil {
			return err
		}
		if c.invalid != "" {
			w.res.DigestsInvalid++
			w.out.status(c.invalid, true)
			next, ok = nextBefore(&digests, key, lastStart)
			key = next.key
			continue
		}
		d := c.digest
		lastStart = c.start
		w.res.DigestsValid++
		w.trackFound(c.start, c.end)
		w.out.status(fmt.Sprintf("Digest file\ts3://%s/%s\tvalid", d.DigestS3Bucket, d.DigestS3Object), false)
		for _, f := range d.LogFiles {
			if err := w.checkLog(ctx, f); err != nil {
				return err
			}
		}

		if d.PreviousDigestS3Bucket == nil {
			// A starting digest: the chain is broken. Carry on with the
			// next older listed digest, reporting the gap.
			next, ok = nextBefore(&digests, key, lastStart)
			key = next.key
			if ok {
				w.out.status(fmt.Sprintf("No log files were delivered by CloudTrail between %s and %s",
					next.t.Format(displayLayout), lastStart.Format(displayLayout)), true)
			}
			continue
		}
		if d.PreviousDigestS3Object == nil {
			break // the CLI stops on a null key
		}
		key = *d.PreviousDigestS3Object
		if pb := *d.PreviousDigestS3Bucket; pb != cur.Name() {
			b, err := w.bucket(pb)
			if err != nil {
				return err
			}
			if b == nil {
				// Not readable here: report it missing and resume from
				// the listing of the bucket we are in.
				w.res.DigestsInvalid++
				w.out.status(fmt.Sprintf("Digest file\ts3://%s/%s\tINVALID: not found", pb, key), true)
				next, ok = nextBefore(&digests, key, lastStart)
				key = next.key
				continue
			}
			// The bucket changed, so reload the digest list.
			cur = b
			if digests, err = w.list(ctx, cur, c.end); err != nil {
				return err
			}
		}
	}
	return nil
}

// checked is the outcome of checkDigest: a valid digest with its times, or
// the INVALID line to print.
type checked struct {
	digest     *cloudtrail.Digest
	start, end time.Time
	invalid    string
}

// checkDigest loads and validates the digest at key in b, in the order of
// the CLI's fetch_digest and _load_and_validate_digest, so that a digest
// with several faults gets the same message. An error is fatal.
func (w *walker) checkDigest(ctx context.Context, b Bucket, key string) (checked, error) {
	loc := "Digest file\ts3://" + b.Name() + "/" + key + "\tINVALID: "
	o := w.get(ctx, b, key)
	if errors.Is(o.err, ErrNotFound) {
		return checked{invalid: loc + "not found"}, nil
	}
	if o.err != nil {
		return checked{}, fmt.Errorf("validate: get s3://%s/%s: %w", b.Name(), key, o.err)
	}
	plain, err := gunzip(o.body)
	if err != nil || !utf8.Valid(plain) || !json.Valid(plain) {
		return checked{invalid: loc + "invalid format"}, nil
	}
	sig, okSig := o.meta[cloudtrail.MetaSignature]
	if _, okAlg := o.meta[cloudtrail.MetaSignatureAlgorithm]; !okSig || !okAlg {
		return checked{invalid: loc + "signature verification failed"}, nil
	}
	d, err := cloudtrail.ParseDigest(o.body)
	if err != nil {
		return checked{invalid: loc + "invalid format"}, nil
	}
	if d.DigestS3Bucket != b.Name() || d.DigestS3Object != key {
		return checked{invalid: loc + "has been moved from its original location"}, nil
	}
	fp := d.DigestPublicKeyFingerprint
	pk, ok := w.keys[fp]
	if !ok {
		// The CLI names the trail's home Region here, whichever Region
		// is scanned.
		return checked{invalid: loc + "public key not found in region " + w.arn.HomeRegion + " for fingerprint " + fp}, nil
	}
	pub, err := pk.RSA()
	if err != nil {
		return checked{invalid: loc + "Unable to load PKCS #1 key with fingerprint " + fp}, nil
	}
	if err := cloudtrail.VerifyDigest(pub, cloudtrail.DigestSigningString(d, plain), sig); err != nil {
		return checked{invalid: loc + "signature verification failed"}, nil
	}
	end, err := time.Parse(time.RFC3339, d.DigestEndTime)
	if err != nil {
		return checked{invalid: loc + "Unable to parse date value: " + d.DigestEndTime}, nil
	}
	start, err := time.Parse(time.RFC3339, d.DigestStartTime)
	if err != nil {
		return checked{invalid: loc + "Unable to parse date value: " + d.DigestStartTime}, nil
	}
	msg, err := w.checkPreviousHash(ctx, d)
	if err != nil {
		return checked{}, err
	}
	if msg != "" {
		return checked{invalid: loc + msg}, nil
	}
	return checked{digest: d, start: start.UTC(), end: end.UTC()}, nil
}

// checkPreviousHash is trailsight's extra check (spec §5.7 step 6): the
// previousDigestHashValue of d must be the SHA-256 of the previous digest's
// uncompressed bytes. `aws cloudtrail validate-logs` does not make it; its
// signature chain covers the previous signature but not this hash, so a
// previous digest replaced by another validly signed one goes unnoticed
// there. The check runs only when the previous digest can be read and
// gunzipped; a missing or broken previous digest is reported when the walk
// reaches it. The previous digest is kept for that step. It returns the
// INVALID reason, or "".
func (w *walker) checkPreviousHash(ctx context.Context, d *cloudtrail.Digest) (string, error) {
	if d.PreviousDigestS3Bucket == nil || d.PreviousDigestS3Object == nil {
		return "", nil
	}
	pb, pk := *d.PreviousDigestS3Bucket, *d.PreviousDigestS3Object
	b, err := w.bucket(pb)
	if err != nil || b == nil {
		return "", err
	}
	o := w.get(ctx, b, pk)
	w.prefetched = &o
	if errors.Is(o.err, ErrNotFound) {
		return "", nil
	}
	if o.err != nil {
		return "", fmt.Errorf("validate: get s3://%s/%s: %w", pb, pk, o.err)
	}
	plain, err := gunzip(o.body)
	if err != nil {
		return "", nil
	}
	if alg := d.PreviousDigestHashAlgorithm; alg != nil && *alg != cloudtrail.DigestHashAlgorithm {
		return fmt.Sprintf("unsupported previousDigestHashAlgorithm %q (trailsight check)", *alg), nil
	}
	if d.PreviousDigestHashValue == nil || !cloudtrail.HashEqual(*d.PreviousDigestHashValue, cloudtrail.HashHex(plain)) {
		return fmt.Sprintf("previousDigestHashValue doesn't match previous digest s3://%s/%s (trailsight check)", pb, pk), nil
	}
	return "", nil
}

// checkLog checks one log file of a valid digest, as the CLI's
// _download_log does. An error is fatal.
func (w *walker) checkLog(ctx context.Context, f cloudtrail.DigestLogFile) error {
	loc := "Log file\ts3://" + f.S3Bucket + "/" + f.S3Object + "\t"
	b, err := w.bucket(f.S3Bucket)
	if err != nil {
		return err
	}
	if b == nil {
		w.res.LogsInvalid++
		w.out.status(loc+"INVALID: not found", true)
		return nil
	}
	body, _, err := b.Get(ctx, f.S3Object)
	switch {
	case errors.Is(err, ErrNotFound):
		w.res.LogsInvalid++
		w.out.status(loc+"INVALID: not found", true)
		return nil
	case err != nil:
		return fmt.Errorf("validate: get s3://%s/%s: %w", f.S3Bucket, f.S3Object, err)
	}
	sum, err := hashGunzipped(body)
	switch {
	case err != nil:
		w.res.LogsInvalid++
		w.out.status(loc+"INVALID: invalid format", true)
	case sum != f.HashValue: // an exact string compare, as in the CLI
		w.res.LogsInvalid++
		w.out.status(loc+"INVALID: hash value doesn't match", true)
	default:
		w.res.LogsValid++
		w.out.status(loc+"valid", false)
	}
	return nil
}

// gunzip inflates a digest as the CLI's zlib.decompress does: the first
// gzip member only, trailing bytes ignored, truncation an error.
func gunzip(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	zr.Multistream(false)
	return io.ReadAll(zr)
}

// hashGunzipped returns the hex SHA-256 of the first gzip member of b, as
// the CLI's streaming zlib.decompressobj computes it: a stream cut short
// (even empty) is hashed as far as it goes, which gives a hash mismatch;
// corrupt data (a bad header, deflate stream or checksum) is an error,
// reported as invalid format.
func hashGunzipped(b []byte) (string, error) {
	h := sha256.New()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err == nil {
		zr.Multistream(false)
		_, err = io.Copy(h, zr)
	}
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// trackFound is the CLI's _track_found_times: the summary's "Results found"
// range starts at the start of the oldest valid digest that starts after
// the requested start (or at the requested start) and ends at the end of
// the newest valid digest, capped at the requested end.
func (w *walker) trackFound(start, end time.Time) {
	if start.After(w.start) {
		w.foundStart = start
	}
	if w.foundEnd.IsZero() {
		w.foundEnd = end
		if w.end.Before(end) {
			w.foundEnd = w.end
		}
	}
}

// summary writes the CLI's summary (spec §5.8).
func (w *walker) summary() {
	if !w.out.lastDouble {
		w.out.printf("\n")
	}
	w.out.printf("Results requested for %s to %s\n", w.start.Format(displayLayout), w.end.Format(displayLayout))
	r := w.res
	if r.DigestsValid == 0 && r.DigestsInvalid == 0 {
		w.out.printf("No digests found\n")
		return
	}
	if w.foundEnd.IsZero() {
		w.out.printf("No valid digests found in range\n")
	} else {
		w.out.printf("Results found for %s to %s:\n", w.foundStart.Format(displayLayout), w.foundEnd.Format(displayLayout))
	}
	w.ratio(r.DigestsValid, r.DigestsInvalid, "digest")
	w.ratio(r.LogsValid, r.LogsInvalid, "log")
	w.out.printf("\n")
}

// ratio writes one count line of the summary.
func (w *walker) ratio(valid, invalid int, name string) {
	total := valid + invalid
	if total == 0 {
		return
	}
	w.out.printf("\n%d/%d %s files valid", valid, total, name)
	if invalid > 0 {
		w.out.printf(", %d/%d %s files INVALID", invalid, total, name)
	}
}

// report writes the CLI's output, blank lines included: an error line is
// followed by a blank line, and preceded by one after verbose output.
type report struct {
	stdout, stderr io.Writer
	verbose        bool
	lastDouble     bool // the last status line was followed by a blank line
	err            error
}

// status is the CLI's _write_status.
func (r *report) status(msg string, isError bool) {
	switch {
	case isError && r.lastDouble:
		r.write(r.stderr, msg+"\n\n")
	case isError:
		r.write(r.stderr, "\n"+msg+"\n\n")
		r.lastDouble = true
	case r.verbose:
		r.lastDouble = false
		r.write(r.stdout, msg+"\n")
	}
}

// printf writes to stdout.
func (r *report) printf(format string, args ...any) {
	r.write(r.stdout, fmt.Sprintf(format, args...))
}

// write keeps the first write error; later writes are skipped.
func (r *report) write(w io.Writer, s string) {
	if r.err == nil {
		_, r.err = io.WriteString(w, s)
	}
}
