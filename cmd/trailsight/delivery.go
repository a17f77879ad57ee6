package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/trailsight/trailsight/cloudtrail"
	"github.com/trailsight/trailsight/consumers"
	"github.com/trailsight/trailsight/detector"
	"github.com/trailsight/trailsight/emitters"
	"github.com/trailsight/trailsight/internal/objstore"
	"github.com/trailsight/trailsight/internal/retry"
)

// deliveryConfig is the trail delivery path: trails, how to reach S3, the
// digest signing keys, notifications. serve and replay share it.
type deliveryConfig struct {
	S3      s3Config               `yaml:"s3"`
	SNS     snsConfig              `yaml:"sns"`
	Signing signingConfig          `yaml:"signing"`
	Trails  []emitters.TrailConfig `yaml:"trails"`
}

type s3Config struct {
	// Endpoint replaces AWS's S3 endpoint (an S3-compatible server).
	Endpoint string `yaml:"endpoint"`
	// Region of the buckets; empty takes the SDK's default.
	Region    string `yaml:"region"`
	PathStyle bool   `yaml:"path_style"`
	// SpoolDir keeps objects while S3 is unreachable; empty: no spool,
	// writes block until S3 answers.
	SpoolDir      string `yaml:"spool_dir"`
	SpoolMaxBytes int64  `yaml:"spool_max_bytes"`
	// DrainTimeout bounds how long serve, once stopped, goes on
	// delivering what the spool holds; the rest waits on disk.
	DrainTimeout time.Duration `yaml:"drain_timeout"`
}

type snsConfig struct {
	Endpoint string `yaml:"endpoint"`
	Region   string `yaml:"region"`
}

type signingConfig struct {
	// KeyDir holds the digest signing key and the public key list.
	KeyDir string `yaml:"key_dir"`
}

func (c *deliveryConfig) registerFlags(f *flag.FlagSet) {
	f.StringVar(&c.S3.Endpoint, "s3.endpoint", "", "S3 endpoint URL for S3-compatible servers (e.g. http://127.0.0.1:9000); empty uses AWS.")
	f.StringVar(&c.S3.Region, "s3.region", "", "Region of the trail buckets; empty takes the AWS SDK's default.")
	f.BoolVar(&c.S3.PathStyle, "s3.path-style", false, "Address buckets in the URL path (most S3-compatible servers need it).")
	f.StringVar(&c.S3.SpoolDir, "s3.spool-dir", "", "Directory that keeps objects while S3 is unreachable; empty: writes wait for S3.")
	f.Int64Var(&c.S3.SpoolMaxBytes, "s3.spool-max-bytes", 1<<30, "Size bound of the spool; beyond it writes wait.")
	f.DurationVar(&c.S3.DrainTimeout, "s3.drain-timeout", 15*time.Second, "On stop, how long serve goes on delivering spooled objects; what is left waits on disk for the next start (0: none).")
	f.StringVar(&c.SNS.Endpoint, "sns.endpoint", "", "SNS endpoint URL; empty uses AWS.")
	f.StringVar(&c.SNS.Region, "sns.region", "", "SNS Region; empty takes the AWS SDK's default.")
	f.StringVar(&c.Signing.KeyDir, "signing.key-dir", "", "Directory of the digest signing key (created on first use) and public-keys.json; required when a trail has log_file_validation.")
}

func (c *deliveryConfig) validate() error {
	names := map[string]bool{}
	for i := range c.Trails {
		t := &c.Trails[i]
		if err := t.Validate(); err != nil {
			return fmt.Errorf("trails[%d]: %w", i, err)
		}
		if names[t.Name] {
			return fmt.Errorf("trails[%d]: trail name %q is used twice", i, t.Name)
		}
		names[t.Name] = true
		if t.LogFileValidation && c.Signing.KeyDir == "" {
			return fmt.Errorf("trails[%d] (%q): log_file_validation needs signing.key-dir", i, t.Name)
		}
	}
	if c.S3.SpoolMaxBytes < 0 {
		return fmt.Errorf("s3.spool-max-bytes=%d: must not be negative", c.S3.SpoolMaxBytes)
	}
	if c.S3.DrainTimeout < 0 {
		return fmt.Errorf("s3.drain-timeout=%s: must not be negative", c.S3.DrainTimeout)
	}
	return nil
}

// delivery is the opened trail delivery path: per trail, what all the
// partitions (or the one replay) share.
type delivery struct {
	trails  []*trailShared
	keys    *emitters.KeyRing
	metrics *emitters.TrailMetrics
}

// trailShared is one trail's writer and signer, shared by its per-partition
// parts.
type trailShared struct {
	cfg    emitters.TrailConfig
	w      *emitters.S3
	bucket string
	signer emitters.Signer
}

// trailOut is one trail's part in one partition (or replay): its log file
// and digest delivery, and its own detector over the records it accepts
// when Insights are on.
type trailOut struct {
	cfg      emitters.TrailConfig
	w        *emitters.S3Batch
	shared   *emitters.S3
	trail    *emitters.Trail
	engine   *detector.Engine       // nil without InsightSelectors
	insights *emitters.InsightFiles // nil without InsightSelectors
}

// newOutputs returns fresh per-partition parts of every trail.
func (d *delivery) newOutputs(det detector.Config, logger *slog.Logger) ([]*trailOut, error) {
	var outs []*trailOut
	for _, ts := range d.trails {
		w := ts.w.Batch()
		tr, err := emitters.NewTrail(ts.cfg, w, ts.bucket, ts.signer)
		if err != nil {
			return nil, err
		}
		tr.SetMetrics(d.metrics)
		out := &trailOut{cfg: tr.Config(), w: w, shared: ts.w, trail: tr}
		if len(ts.cfg.InsightSelectors) > 0 {
			out.insights = emitters.NewInsightFiles(w, ts.cfg.KeyPrefix())
			if out.engine, err = detector.New(det, out.sink(), logger); err != nil {
				return nil, err
			}
		}
		outs = append(outs, out)
	}
	return outs, nil
}

// advance moves the trail's detector and its delivery to now.
func (t *trailOut) advance(ctx context.Context, now time.Time) error {
	if t.engine != nil {
		if err := t.engine.Advance(ctx, now); err != nil {
			return err
		}
	}
	return t.trail.Advance(ctx, now)
}

// observe gives the trail a record, and its detector the record when the
// trail's selectors accept it.
func (t *trailOut) observe(ev *cloudtrail.Event) {
	if t.trail.Record(ev) && t.engine != nil {
		t.engine.Observe(ev)
	}
}

// sink is where the trail's detector sends Insights: its Insights files,
// for the types its insight selectors name.
func (t *trailOut) sink() detector.Sink {
	return &typeFilter{types: insightTypes(t.cfg.InsightSelectors), next: t.insights}
}

// notifierFunc returns the notifier of a Kafka topic; nil when notifications
// to Kafka cannot be had (replay without brokers).
type notifierFunc func(topic string) (emitters.Notifier, error)

// openDelivery opens every trail's store, writer and the key ring.
func openDelivery(ctx context.Context, c *deliveryConfig, now time.Time, topics notifierFunc,
	reg prometheus.Registerer, logger *slog.Logger) (*delivery, error) {
	d := &delivery{}
	if len(c.Trails) == 0 {
		return d, nil
	}
	d.metrics = emitters.NewTrailMetrics(reg)
	if slices.ContainsFunc(c.Trails, func(t emitters.TrailConfig) bool { return t.LogFileValidation }) {
		kr, err := emitters.OpenKeyRing(c.Signing.KeyDir, now)
		if err != nil {
			return nil, err
		}
		d.keys = kr
	}
	var snsClient *sns.Client
	for _, tc := range c.Trails {
		var store objstore.Store
		if tc.Dir != "" {
			store = objstore.NewDir(tc.Dir, tc.Bucket)
		} else {
			s, err := objstore.NewS3(ctx, objstore.S3Config{Bucket: tc.Bucket, Region: c.S3.Region, Endpoint: c.S3.Endpoint, PathStyle: c.S3.PathStyle})
			if err != nil {
				return nil, fmt.Errorf("trail %q: %w", tc.Name, err)
			}
			store = s
		}
		var notifiers []emitters.Notifier
		if tc.NotificationTopic != "" {
			if topics == nil {
				return nil, fmt.Errorf("trail %q: notification_topic needs Kafka (trailsight serve)", tc.Name)
			}
			n, err := topics(tc.NotificationTopic)
			if err != nil {
				return nil, err
			}
			notifiers = append(notifiers, n)
		}
		if tc.SNSTopicARN != "" {
			if snsClient == nil {
				awsCfg, endpoint, err := loadAWSConfig(ctx, c.SNS.Region, c.SNS.Endpoint)
				if err != nil {
					return nil, fmt.Errorf("sns: %w", err)
				}
				snsClient = sns.NewFromConfig(awsCfg, func(o *sns.Options) { o.BaseEndpoint = endpoint })
			}
			notifiers = append(notifiers, emitters.NewSNSNotifier(snsClient, tc.SNSTopicARN, retry.Policy{}, logger))
		}
		s3cfg := emitters.S3Config{SpoolMaxBytes: c.S3.SpoolMaxBytes}
		if c.S3.SpoolDir != "" {
			s3cfg.SpoolDir = filepath.Join(c.S3.SpoolDir, tc.Name)
		}
		if len(notifiers) > 0 {
			bucket := store.Name()
			s3cfg.Delivered = func(ctx context.Context, key string) error {
				if !emitters.Notifies(key) {
					return nil
				}
				for _, n := range notifiers {
					if err := n.Notify(ctx, bucket, key); err != nil {
						return err
					}
				}
				return nil
			}
		}
		var treg prometheus.Registerer
		if reg != nil {
			treg = prometheus.WrapRegistererWith(prometheus.Labels{"trail": tc.Name}, reg)
		}
		w, err := emitters.NewS3(store, s3cfg, treg, logger)
		if err != nil {
			return nil, fmt.Errorf("trail %q: %w", tc.Name, err)
		}
		var signer emitters.Signer
		if d.keys != nil {
			signer = d.keys
		}
		d.trails = append(d.trails, &trailShared{cfg: tc, w: w, bucket: store.Name(), signer: signer})
	}
	return d, nil
}

// drain delivers what the trails' spools hold when serve stops, for at
// most timeout. A write that failed once (a timeout, a 503) is spooled
// while the service runs and delivered in the background; a graceful stop
// should not leave such objects behind when S3 answers again. What is left
// after timeout stays on disk for the next start, and is logged.
func (d *delivery) drain(ctx context.Context, timeout time.Duration, logger *slog.Logger) {
	if timeout <= 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for _, t := range d.trails {
		if n, _ := t.w.Pending(); n == 0 {
			continue
		}
		if err := t.w.Drain(ctx); err != nil {
			n, b := t.w.Pending()
			logger.Warn("trail spool not drained on stop; it is delivered at the next start",
				"trail", t.cfg.Name, "objects", n, "bytes", b, "err", err)
		}
	}
}

// run drains every trail's spool until ctx ends.
func (d *delivery) run(ctx context.Context) error {
	errc := make(chan error, len(d.trails))
	for _, t := range d.trails {
		go func() { errc <- t.w.Run(ctx) }()
	}
	var err error
	for range d.trails {
		err = errors.Join(err, <-errc)
	}
	return err
}

func insightTypes(sel []cloudtrail.InsightSelector) map[detector.InsightType]bool {
	m := map[detector.InsightType]bool{}
	for _, s := range sel {
		switch s.InsightType {
		case detector.APICallRate.String():
			m[detector.APICallRate] = true
		case detector.APIErrorRate.String():
			m[detector.APIErrorRate] = true
		}
	}
	return m
}

// typeFilter passes on the Insights of the types a trail's insight
// selectors name.
type typeFilter struct {
	types map[detector.InsightType]bool
	next  detector.Sink
}

func (f *typeFilter) Emit(ctx context.Context, batch []detector.Insight) error {
	keep := make([]detector.Insight, 0, len(batch))
	for _, in := range batch {
		if f.types[in.Key.Type] {
			keep = append(keep, in)
		}
	}
	if len(keep) == 0 {
		return nil
	}
	return f.next.Emit(ctx, keep)
}

// pipeline feeds one stream of records to the main detector and to every
// trail: a trail delivers the records its selectors accept and runs its
// own detector over them, so its Insights see only what it logs (spec §3).
type pipeline struct {
	main   *detector.Engine
	trails []*trailOut
}

func (p *pipeline) Advance(ctx context.Context, now time.Time) error {
	if err := p.main.Advance(ctx, now); err != nil {
		return err
	}
	for _, t := range p.trails {
		if err := t.advance(ctx, now); err != nil {
			return err
		}
	}
	return nil
}

func (p *pipeline) Observe(ev *cloudtrail.Event) detector.Result {
	r := p.main.Observe(ev)
	for _, t := range p.trails {
		t.observe(ev)
	}
	return r
}

func (p *pipeline) Flush(ctx context.Context) error {
	if err := p.main.Flush(ctx); err != nil {
		return err
	}
	for _, t := range p.trails {
		if t.engine != nil {
			if err := t.engine.Flush(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// close ends a replay: Insights files and the last log files are written,
// digest chains end with a final digest, and the spools are drained.
func (p *pipeline) close(ctx context.Context) error {
	for _, t := range p.trails {
		if t.insights != nil {
			if err := t.insights.Close(ctx); err != nil {
				return err
			}
		}
		if err := t.trail.Close(ctx, true); err != nil {
			return err
		}
		if err := t.w.Flush(ctx); err != nil {
			return err
		}
		if err := t.shared.Drain(ctx); err != nil {
			return err
		}
	}
	return nil
}

// trailTap is a partition's Output when trails are configured: the main
// Insights outputs, and every trail's part, fed the partition's records
// and clock, with their state in the partition's checkpoint.
type trailTap struct {
	base   consumers.Output
	trails []*trailOut
	det    detector.Config
	log    *slog.Logger
}

var _ consumers.Tap = (*trailTap)(nil)

// Holding and Released pass the main detector's open Insights on to the
// main outputs that track them (the Insights' gauges).
func (t *trailTap) Holding(ins []detector.Insight) {
	if h, ok := t.base.(consumers.InsightTracker); ok {
		h.Holding(ins)
	}
}

func (t *trailTap) Released(ins []detector.Insight) {
	if h, ok := t.base.(consumers.InsightTracker); ok {
		h.Released(ins)
	}
}

func (t *trailTap) Emit(ctx context.Context, batch []detector.Insight) error {
	return t.base.Emit(ctx, batch)
}

// Flush makes everything so far durable: the main outputs, each trail's
// pending Insights and every object handed to its writer.
func (t *trailTap) Flush(ctx context.Context) error {
	if err := t.base.Flush(ctx); err != nil {
		return err
	}
	for _, tr := range t.trails {
		if tr.engine != nil {
			if err := tr.engine.Flush(ctx); err != nil {
				return err
			}
			if err := tr.insights.Flush(ctx); err != nil {
				return err
			}
		}
		if err := tr.w.Flush(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (t *trailTap) Advance(ctx context.Context, now time.Time) error {
	for _, tr := range t.trails {
		if err := tr.advance(ctx, now); err != nil {
			return err
		}
	}
	return nil
}

func (t *trailTap) Observe(ev *cloudtrail.Event) {
	for _, tr := range t.trails {
		tr.observe(ev)
	}
}

// AppendState writes, per trail, its name, its Trail state and its
// detector's snapshot, each after its length as a uvarint.
func (t *trailTap) AppendState(dst []byte) ([]byte, error) {
	dst = binary.AppendUvarint(dst, uint64(len(t.trails)))
	for _, tr := range t.trails {
		st, err := tr.trail.AppendState(nil)
		if err != nil {
			return dst, err
		}
		var snap bytes.Buffer
		if tr.engine != nil {
			if err := tr.engine.Snapshot(&snap); err != nil {
				return dst, fmt.Errorf("trail %q: %w", tr.cfg.Name, err)
			}
		}
		for _, part := range [][]byte{[]byte(tr.cfg.Name), st, snap.Bytes()} {
			dst = binary.AppendUvarint(dst, uint64(len(part)))
			dst = append(dst, part...)
		}
	}
	return dst, nil
}

// RestoreState takes back what AppendState wrote. A trail the state knows
// but the configuration no longer has is dropped, loudly; a configured
// trail the state lacks starts afresh.
func (t *trailTap) RestoreState(b []byte) error {
	n, k := binary.Uvarint(b)
	if k <= 0 {
		return fmt.Errorf("%w: trail states cut short", consumers.ErrBadCheckpoint)
	}
	b = b[k:]
	byName := map[string]*trailOut{}
	for _, tr := range t.trails {
		byName[tr.cfg.Name] = tr
	}
	for range n {
		var parts [3][]byte
		for i := range parts {
			l, k := binary.Uvarint(b)
			if k <= 0 || l > uint64(len(b)-k) {
				return fmt.Errorf("%w: trail states cut short", consumers.ErrBadCheckpoint)
			}
			parts[i], b = b[k:k+int(l)], b[k+int(l):]
		}
		tr := byName[string(parts[0])]
		if tr == nil {
			t.log.Warn("checkpoint holds the state of a trail no longer configured: dropped", "trail", string(parts[0]))
			continue
		}
		delete(byName, tr.cfg.Name)
		if err := tr.trail.RestoreState(parts[1]); err != nil {
			return err
		}
		if tr.engine != nil && len(parts[2]) > 0 {
			e, err := detector.Restore(t.det, tr.sink(), t.log, bytes.NewReader(parts[2]))
			if err != nil {
				return fmt.Errorf("trail %q: %w", tr.cfg.Name, err)
			}
			tr.engine = e
		}
	}
	for name := range byName {
		t.log.Warn("checkpoint holds no state of a trail: it starts afresh (its digest chains restart)", "trail", name)
	}
	return nil
}

// loadAWSConfig loads the AWS SDK's default configuration (credentials
// from its usual chain) in region, or the SDK's default Region when empty,
// and returns endpoint as a client's BaseEndpoint (nil: AWS's own).
func loadAWSConfig(ctx context.Context, region, endpoint string) (aws.Config, *string, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if region != "" {
		opts = append(opts, awsconfig.WithRegion(region))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, nil, err
	}
	var base *string
	if endpoint != "" {
		base = aws.String(endpoint)
	}
	return cfg, base, nil
}
