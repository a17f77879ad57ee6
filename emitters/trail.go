package emitters

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/trailsight/trailsight/cloudtrail"
)

// TrailConfig describes one trail: where it delivers and what it accepts
// (spec §4, §8). It is configuration, as a CloudTrail trail is.
type TrailConfig struct {
	// Name is the trail's name; it is part of digest keys and may
	// contain underscores.
	Name string `yaml:"name"`
	// HomeRegion is the Region the trail was created in: digest keys name
	// it, and a single-Region trail accepts only its events.
	HomeRegion string `yaml:"home_region"`
	// MultiRegion accepts events of every Region.
	MultiRegion bool `yaml:"multi_region"`

	// Bucket names the S3 bucket. Dir, when set, is a local directory
	// written instead, standing for the bucket named Bucket (default: the
	// directory's name). Prefix and OrgID shape the keys (spec §4.1).
	Bucket string `yaml:"bucket"`
	Dir    string `yaml:"dir"`
	Prefix string `yaml:"prefix"`
	OrgID  string `yaml:"org_id"`

	cloudtrail.Selectors `yaml:",inline"`
	// InsightSelectors turns Insights on for the trail: which types, on
	// which event categories. Empty: no Insights files.
	InsightSelectors []cloudtrail.InsightSelector `yaml:"InsightSelectors"`

	// LogFileValidation writes hourly signed digest files (spec §5).
	LogFileValidation bool `yaml:"log_file_validation"`
	// DeliveryInterval is how often log files are delivered (default
	// 5 minutes, as CloudTrail does; it must divide an hour).
	DeliveryInterval time.Duration `yaml:"delivery_interval"`
	// MaxFileBytes delivers an account's and Region's log file early, at
	// the current minute, once its uncompressed records reach this size
	// (default 50 MiB).
	MaxFileBytes int `yaml:"max_file_bytes"`
	// NotificationTopic, when set, is a Kafka topic that gets a message
	// per log and Insights file delivered (spec §6).
	NotificationTopic string `yaml:"notification_topic"`
	// SNSTopicARN, when set, is an SNS topic that gets the same messages.
	SNSTopicARN string `yaml:"sns_topic_arn"`
}

// KeyPrefix returns the trail's key prefix.
func (c *TrailConfig) KeyPrefix() cloudtrail.KeyPrefix {
	return cloudtrail.KeyPrefix{Prefix: c.Prefix, OrgID: c.OrgID}
}

// ARN returns the trail's ARN in the given account: what `validate`
// takes (spec §5.7).
func (c *TrailConfig) ARN(account string) string {
	return "arn:aws:cloudtrail:" + c.HomeRegion + ":" + account + ":trail/" + c.Name
}

// Validate checks c and fills in the defaults. The error names the trail
// and the setting.
func (c *TrailConfig) Validate() error {
	if c.DeliveryInterval == 0 {
		c.DeliveryInterval = 5 * time.Minute
	}
	if c.MaxFileBytes == 0 {
		c.MaxFileBytes = 50 << 20
	}
	name := c.Name
	switch {
	case name == "":
		return errors.New("trail: name is required")
	case len(name) < 3 || len(name) > 128 || strings.ContainsAny(name, "/ \t\n"):
		return fmt.Errorf("trail %q: name must be 3 to 128 characters without slashes or spaces", name)
	case c.HomeRegion == "":
		return fmt.Errorf("trail %q: home_region is required", name)
	case c.Bucket == "" && c.Dir == "":
		return fmt.Errorf("trail %q: set bucket (S3), or dir (a local directory standing for the bucket named bucket)", name)
	case c.OrgID != "" && !strings.HasPrefix(c.OrgID, "o-"):
		return fmt.Errorf("trail %q: org_id=%q: an organization ID starts with o-", name, c.OrgID)
	case strings.HasPrefix(c.Prefix, "/") || strings.HasSuffix(c.Prefix, "/"):
		return fmt.Errorf("trail %q: prefix=%q: no leading or trailing slash", name, c.Prefix)
	case c.DeliveryInterval < time.Minute || time.Hour%c.DeliveryInterval != 0 || c.DeliveryInterval%time.Minute != 0:
		return fmt.Errorf("trail %q: delivery_interval=%s: must be whole minutes that divide an hour", name, c.DeliveryInterval)
	case c.MaxFileBytes < 1<<10:
		return fmt.Errorf("trail %q: max_file_bytes=%d: must be at least 1024", name, c.MaxFileBytes)
	}
	if err := c.Selectors.Validate(); err != nil {
		return fmt.Errorf("trail %q: %w", name, err)
	}
	if err := cloudtrail.ValidateInsightSelectors(c.InsightSelectors); err != nil {
		return fmt.Errorf("trail %q: %w", name, err)
	}
	for i, sel := range c.InsightSelectors {
		for _, cat := range sel.Categories() {
			if cat != "Management" {
				// Said plainly rather than accepted and never honoured.
				return fmt.Errorf("trail %q: InsightSelectors[%d] EventCategories %q: trailsight analyses management events only, so far", name, i, cat)
			}
		}
	}
	return nil
}

// Signer signs digest files (spec §5.5) with its current key.
type Signer interface {
	// Fingerprint names the key Sign uses (spec §2.9 #9).
	Fingerprint() string
	// Sign returns the hex RSA PKCS#1 v1.5 SHA-256 signature of the
	// signing string of a digest that ends at end.
	Sign(signing string, end time.Time) (string, error)
}

// Trail delivers one trail's log files and digest files, as CloudTrail
// does (spec §4–§5): it takes the records its selectors accept, keeps them
// per account and Region, and at every delivery tick of its clock writes
// one log file per account and Region; every hour it writes a signed
// digest per account and Region listing the log files delivered in that
// hour, chained to the previous digest.
//
// Its clock is the caller's (the delivery times of a replay, the partition
// clock of a consumer), never the wall clock, so the same input gives the
// same objects: keys derive from the content, and digests are signed with
// deterministic PKCS#1 v1.5 signatures.
//
// A Trail is not safe for concurrent use: one goroutine (a partition
// worker, a replay) owns it. Trails of several partitions may share an
// ObjectWriter that is safe for concurrent use, such as an *S3.
type Trail struct {
	cfg    TrailConfig
	prefix cloudtrail.KeyPrefix
	match  *cloudtrail.Matcher
	w      ObjectWriter
	bucket string
	signer Signer

	clock    time.Time    // the latest time given to Advance
	nextTick time.Time    // when the buffered records are delivered; zero when none are
	full     []acctRegion // buffers past MaxFileBytes, delivered by the next Advance
	buffers  map[acctRegion]*logBuffer
	// seen holds the xxhash of the eventIDs of this and the previous hour:
	// 8 bytes an ID rather than the ID, since a busy partition sees
	// millions an hour; a collision (about 1 in 10^12 per record at
	// 10 million IDs) would drop a record as a repeat.
	seen     [2]map[uint64]struct{}
	seenHour int64
	chains   map[acctRegion]*digestChain

	// Stats counts what the Trail did.
	Stats TrailStats
	m     trailCounters
}

// TrailStats counts a Trail's work.
type TrailStats struct {
	Accepted   int64 `json:"accepted"`
	Filtered   int64 `json:"filtered"`
	Duplicates int64 `json:"duplicates"`
	LogFiles   int64 `json:"log_files"`
	Digests    int64 `json:"digests"`
}

type acctRegion struct{ account, region string }

// logBuffer holds the records of one account and Region until delivery.
type logBuffer struct {
	records        [][]byte
	bytes          int
	oldest, newest int64 // event times, Unix seconds
}

// digestChain is the state of one account's and Region's digest chain.
type digestChain struct {
	start time.Time // of the digest being collected
	files []cloudtrail.DigestLogFile
	// prev* locate the previous digest; empty before the first one, so
	// the first digest is a starting digest (spec §5.3).
	prevBucket, prevKey, prevHash, prevSig string
}

// NewTrail returns a Trail writing through w into the bucket named bucket.
// signer may be nil when cfg.LogFileValidation is off.
func NewTrail(cfg TrailConfig, w ObjectWriter, bucket string, signer Signer) (*Trail, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m, err := cfg.Selectors.Compile()
	if err != nil {
		return nil, fmt.Errorf("trail %q: %w", cfg.Name, err)
	}
	if cfg.LogFileValidation && signer == nil {
		return nil, fmt.Errorf("trail %q: log_file_validation needs a signing key", cfg.Name)
	}
	return &Trail{
		cfg: cfg, prefix: cfg.KeyPrefix(), match: m, w: w, bucket: bucket, signer: signer, m: (*TrailMetrics)(nil).forTrail(cfg.Name),
		buffers: map[acctRegion]*logBuffer{},
		seen:    [2]map[uint64]struct{}{{}, {}},
		chains:  map[acctRegion]*digestChain{},
	}, nil
}

// SetMetrics makes t count into m (shared by the trail's Trails of every
// partition).
func (t *Trail) SetMetrics(m *TrailMetrics) { t.m = m.forTrail(t.cfg.Name) }

// Config returns the trail's configuration, defaults filled in.
func (t *Trail) Config() TrailConfig { return t.cfg }

// Accepts reports whether the trail's selectors and Region setting accept
// ev, whose JSON text is ev.Raw.
func (t *Trail) Accepts(ev *cloudtrail.Event) bool {
	if !t.cfg.MultiRegion && ev.AWSRegion != t.cfg.HomeRegion {
		return false
	}
	return t.match.Match(ev, ev.Raw)
}

// Record takes one record that arrived at the current clock and reports
// whether the trail's selectors accept it (so a caller analyses what the
// trail logs without matching twice). Records the trail does not accept
// and repeats of an eventID within about an hour are counted and dropped;
// Insights records are never written to log files. When an account's and
// Region's buffer reaches MaxFileBytes its log file is delivered by the
// next Advance, named after the then current minute.
func (t *Trail) Record(ev *cloudtrail.Event) (accepted bool) {
	if ev.IsInsight() || !t.Accepts(ev) {
		t.Stats.Filtered++
		t.m.filtered.Inc()
		return false
	}
	if ev.EventID != "" {
		id := xxhash.Sum64String(ev.EventID)
		_, dup0 := t.seen[0][id]
		_, dup1 := t.seen[1][id]
		if dup0 || dup1 {
			t.Stats.Duplicates++
			t.m.duplicate.Inc()
			return true
		}
		t.seen[0][id] = struct{}{}
	}
	if t.clock.IsZero() {
		t.clock = time.Unix(ev.EventTime, 0).UTC()
	}
	t.Stats.Accepted++
	t.m.accepted.Inc()
	k := acctRegion{ev.RecipientAccountID, ev.AWSRegion}
	b := t.buffers[k]
	if b == nil {
		b = &logBuffer{oldest: ev.EventTime, newest: ev.EventTime}
		t.buffers[k] = b
	}
	rec := compactRecord(ev.Raw) // the trail's own copy: ev.Raw is the decoder's
	b.records = append(b.records, rec)
	b.bytes += len(rec) + 1
	b.oldest = min(b.oldest, ev.EventTime)
	b.newest = max(b.newest, ev.EventTime)
	if t.nextTick.IsZero() {
		// The first tick at or after the arrival: a trail's own files,
		// replayed through it again, keep their delivery minutes.
		t.nextTick = t.clock.Truncate(t.cfg.DeliveryInterval)
		if t.nextTick.Before(t.clock) {
			t.nextTick = t.nextTick.Add(t.cfg.DeliveryInterval)
		}
	}
	if b.bytes >= t.cfg.MaxFileBytes && !slices.Contains(t.full, k) {
		t.full = append(t.full, k)
	}
	return true
}

// Advance moves the clock to now (it never goes back) and delivers what is
// due: the buffered log files at the delivery tick, and each digest whose
// hour has ended. A failed write leaves the undelivered work in place, and
// the next Advance tries it again under the same names.
func (t *Trail) Advance(ctx context.Context, now time.Time) error {
	now = now.UTC()
	if now.After(t.clock) {
		t.clock = now
	}
	if h := t.clock.Unix() / 3600; h != t.seenHour {
		if h == t.seenHour+1 {
			t.seen[1] = t.seen[0]
		} else {
			t.seen[1] = map[uint64]struct{}{}
		}
		t.seen[0] = map[uint64]struct{}{}
		t.seenHour = h
	}
	if tick := t.nextTick; !tick.IsZero() && !t.clock.Before(tick) {
		// A digest ending at the tick closes before the tick's files:
		// they belong to the next hour's digest.
		if err := t.digestsUpTo(ctx, tick); err != nil {
			return err
		}
		keys := make([]acctRegion, 0, len(t.buffers))
		for k := range t.buffers {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, cmpAcctRegion)
		for _, k := range keys {
			if err := t.deliverOne(ctx, k, t.buffers[k], tick); err != nil {
				return err
			}
		}
		t.nextTick = time.Time{}
	}
	if err := t.digestsUpTo(ctx, t.clock); err != nil {
		return err
	}
	for len(t.full) > 0 {
		k := t.full[0]
		if b := t.buffers[k]; b != nil {
			if err := t.deliverOne(ctx, k, b, t.clock.Truncate(time.Minute)); err != nil {
				return err
			}
		}
		t.full = t.full[1:]
	}
	return nil
}

// Close delivers the buffered records at the next tick and, when final,
// ends every digest chain with a last digest up to that time, as
// CloudTrail does when logging stops (spec §5.3). A consumer that hands its
// partition to another owner is not final: the chain goes on there.
func (t *Trail) Close(ctx context.Context, final bool) error {
	end := t.clock
	if !t.nextTick.IsZero() {
		end = t.nextTick
	}
	if err := t.Advance(ctx, end); err != nil {
		return err
	}
	if !final || !t.cfg.LogFileValidation {
		return nil
	}
	for _, k := range t.chainKeys() {
		c := t.chains[k]
		if !end.After(c.start) {
			if len(c.files) == 0 {
				continue
			}
			// Files delivered at the very start of the digest's hour:
			// the final digest spans a second, so that its key differs
			// from the previous digest's, which ended at the same time.
			end = c.start.Add(time.Second)
		}
		if err := t.digest(ctx, k, c, end.Truncate(time.Second)); err != nil {
			return err
		}
	}
	return nil
}

func cmpAcctRegion(a, b acctRegion) int {
	if c := strings.Compare(a.account, b.account); c != 0 {
		return c
	}
	return strings.Compare(a.region, b.region)
}

// deliverOne writes the log file of one account and Region.
func (t *Trail) deliverOne(ctx context.Context, k acctRegion, b *logBuffer, at time.Time) error {
	plain := cloudtrail.RecordsJSON(b.records)
	body := cloudtrail.GzipFast(plain)
	key := cloudtrail.LogFileKey(t.prefix, k.account, k.region, at, cloudtrail.UniqueFromBody(body))
	if err := t.w.Put(ctx, key, body, nil); err != nil {
		return fmt.Errorf("trail %q: %w", t.cfg.Name, err)
	}
	delete(t.buffers, k)
	t.Stats.LogFiles++
	t.m.logFiles.Inc()
	if t.cfg.LogFileValidation {
		c := t.chains[k]
		if c == nil {
			c = &digestChain{start: at}
			t.chains[k] = c
		}
		sum := sha256.Sum256(plain)
		c.files = append(c.files, cloudtrail.DigestLogFile{
			S3Bucket: t.bucket, S3Object: key,
			HashValue: hex.EncodeToString(sum[:]), HashAlgorithm: cloudtrail.DigestHashAlgorithm,
			NewestEventTime: cloudtrail.FormatDigestTime(time.Unix(b.newest, 0)),
			OldestEventTime: cloudtrail.FormatDigestTime(time.Unix(b.oldest, 0)),
		})
	}
	return nil
}

func (t *Trail) chainKeys() []acctRegion {
	keys := make([]acctRegion, 0, len(t.chains))
	for k := range t.chains {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, cmpAcctRegion)
	return keys
}

// digestsUpTo writes every digest whose hour ends at or before now; an
// hour without log files gets its empty digest (spec §5.3).
func (t *Trail) digestsUpTo(ctx context.Context, now time.Time) error {
	if !t.cfg.LogFileValidation {
		return nil
	}
	for _, k := range t.chainKeys() {
		c := t.chains[k]
		for end := c.start.Add(time.Hour); !now.Before(end); end = c.start.Add(time.Hour) {
			if err := t.digest(ctx, k, c, end); err != nil {
				return err
			}
		}
	}
	return nil
}

// digest writes the digest of c's current hour, ending at end, and starts
// the next hour.
func (t *Trail) digest(ctx context.Context, k acctRegion, c *digestChain, end time.Time) error {
	key := cloudtrail.DigestFileKey(t.prefix, k.account, k.region, t.cfg.Name, t.cfg.HomeRegion, end)
	d := cloudtrail.Digest{
		AWSAccountID:               k.account,
		DigestStartTime:            cloudtrail.FormatDigestTime(c.start),
		DigestEndTime:              cloudtrail.FormatDigestTime(end),
		DigestS3Bucket:             t.bucket,
		DigestS3Object:             key,
		DigestPublicKeyFingerprint: t.signer.Fingerprint(),
		DigestSignatureAlgorithm:   cloudtrail.DigestSignatureAlgorithm,
		LogFiles:                   make([]cloudtrail.DigestLogFile, 0, len(c.files)),
	}
	// Newest first, as CloudTrail lists them (spec §5.3).
	for i := len(c.files) - 1; i >= 0; i-- {
		f := c.files[i]
		d.LogFiles = append(d.LogFiles, f)
		if d.NewestEventTime == nil || f.NewestEventTime > *d.NewestEventTime {
			d.NewestEventTime = &f.NewestEventTime
		}
		if d.OldestEventTime == nil || f.OldestEventTime < *d.OldestEventTime {
			d.OldestEventTime = &f.OldestEventTime
		}
	}
	if c.prevKey != "" {
		d.PreviousDigestS3Bucket, d.PreviousDigestS3Object = &c.prevBucket, &c.prevKey
		alg := cloudtrail.DigestHashAlgorithm
		d.PreviousDigestHashValue, d.PreviousDigestHashAlgorithm = &c.prevHash, &alg
		d.PreviousDigestSignature = &c.prevSig
	}
	plain := d.AppendJSON(nil)
	sig, err := t.signer.Sign(cloudtrail.DigestSigningString(&d, plain), end)
	if err != nil {
		return fmt.Errorf("trail %q: sign %s: %w", t.cfg.Name, key, err)
	}
	meta := map[string]string{
		cloudtrail.MetaSignature:          sig,
		cloudtrail.MetaSignatureAlgorithm: cloudtrail.DigestSignatureAlgorithm,
	}
	if err := t.w.Put(ctx, key, cloudtrail.Gzip(plain), meta); err != nil {
		return fmt.Errorf("trail %q: %w", t.cfg.Name, err)
	}
	t.Stats.Digests++
	t.m.digests.Inc()
	c.prevBucket, c.prevKey, c.prevHash, c.prevSig = t.bucket, key, cloudtrail.HashHex(plain), sig
	c.start, c.files = end, nil
	return nil
}

// compactRecord returns a copy of a record as compact JSON: log files hold
// one line per record, as CloudTrail's do, and a trail's buffers must hold
// exactly the bytes a checkpoint restores (encoding/json compacts a
// json.RawMessage as it encodes it). Were they to differ, a log file
// delivered before a crash and its redelivery after the restore would
// differ in name, and both be kept. CloudTrail's own records are compact
// already and are only copied.
func compactRecord(raw []byte) []byte {
	if !maybeSpaced(raw) || isCompact(raw) {
		return bytes.Clone(raw)
	}
	var c bytes.Buffer
	if json.Compact(&c, raw) != nil {
		return bytes.Clone(raw) // the decoder took it; keep it as it came
	}
	return c.Bytes()
}

// maybeSpaced reports whether JSON text may have whitespace between its
// tokens; false is certain. Whitespace between tokens always follows one
// of { [ : , or precedes one of } ] : , (or starts or ends the text), so
// only the spaces next to those need the exact check: the spaces of a
// user agent or a tag value do not. Tabs and line ends always get it.
func maybeSpaced(b []byte) bool {
	if bytes.IndexByte(b, '\t') >= 0 || bytes.IndexByte(b, '\n') >= 0 || bytes.IndexByte(b, '\r') >= 0 {
		return true
	}
	for i := 0; ; i++ {
		j := bytes.IndexByte(b[i:], ' ')
		if j < 0 {
			return false
		}
		i += j
		if i == 0 || i == len(b)-1 {
			return true
		}
		switch b[i-1] {
		case '{', '[', ':', ',':
			return true
		}
		k := i + 1
		for k < len(b)-1 && b[k] == ' ' {
			k++
		}
		switch b[k] {
		case '}', ']', ':', ',', ' ':
			return true
		}
		i = k - 1
	}
}

// isCompact reports whether JSON text has no whitespace outside its
// strings. It jumps from quote to quote (bytes.IndexByte is vectorised),
// since strings are most of a record's bytes.
func isCompact(b []byte) bool {
	for i := 0; i < len(b); {
		c := b[i]
		if c <= ' ' {
			return false
		}
		i++
		if c != '"' {
			continue
		}
		for { // to the closing quote: one not escaped by a backslash
			j := bytes.IndexByte(b[i:], '"')
			if j < 0 {
				return true // unterminated: not ours to judge
			}
			i += j + 1
			k := i - 2
			for k >= 0 && b[k] == '\\' {
				k--
			}
			if (i-2-k)%2 == 0 {
				break
			}
		}
	}
	return true
}
