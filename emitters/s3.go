package emitters

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trailsight/trailsight/internal/objstore"
	"github.com/trailsight/trailsight/internal/retry"
)

// ErrSpoolFull is returned by S3.Put when S3 cannot be reached and the spool
// has no room for the object: the caller must stop and retry later (a
// consumer then stops committing), since nothing may be dropped.
var ErrSpoolFull = errors.New("s3 spool full")

// S3Config tunes an S3 emitter.
type S3Config struct {
	// SpoolDir is where objects wait while S3 cannot be reached; it
	// survives restarts. Empty means no spool: Put retries until it
	// succeeds or its context ends.
	SpoolDir string
	// SpoolMaxBytes bounds the spool's size on disk (default 1 GiB).
	SpoolMaxBytes int64
	// Direct is how Put retries before it spools (default one attempt:
	// the AWS SDK under it already retries, for some seconds, before it
	// gives up). Without a spool, Put uses Retry.
	Direct retry.Policy
	// Retry is how the spool retries its oldest object; its zero value
	// retries until the context ends, backing off to 10 s.
	Retry retry.Policy
	// Concurrency is how many objects are written at once (default 16):
	// Put hands an object over and returns, and Flush waits until every
	// object handed over is written or spooled. 1 makes Put synchronous.
	Concurrency int
	// Delivered, when set, is called after each object is in the bucket
	// (not when it is only spooled): notifications hang here. An error
	// makes the write count as failed, so it is retried, object and
	// call, and the call may repeat.
	Delivered func(ctx context.Context, key string) error
}

// S3 writes objects to a bucket, retrying with backoff. While the bucket
// cannot be reached it keeps objects in a bounded spool on local disk and
// delivers them, oldest first, once it can (Run); when the spool is full,
// Put fails with ErrSpoolFull rather than drop an object. Keys are the
// caller's and are deterministic for identical content, so a retry, a
// redelivery or a spooled copy delivered late writes the same object again,
// never a duplicate.
//
// An S3 is safe for concurrent use: the partition workers of a consumer
// share one.
type S3 struct {
	store objstore.Store
	cfg   S3Config
	log   *slog.Logger
	m     *s3Metrics

	// inflight bounds the concurrent writes of all batches.
	inflight chan struct{}
	batch    *S3Batch // S3's own Put and Flush

	mu    sync.Mutex
	queue []spooled // oldest first
	bytes int64
	seq   uint64
	wake  chan struct{}
}

// spooled is an object waiting in the spool: the file path holds a JSON
// header line ({"key":…,"meta":…}) and then the body.
type spooled struct {
	path string
	key  string
	size int64
}

// NewS3 returns an S3 writing to store. It loads what an earlier process
// left in cfg.SpoolDir, which Run then delivers first. reg and logger may be
// nil.
func NewS3(store objstore.Store, cfg S3Config, reg prometheus.Registerer, logger *slog.Logger) (*S3, error) {
	if cfg.SpoolMaxBytes <= 0 {
		cfg.SpoolMaxBytes = 1 << 30
	}
	if cfg.Direct == (retry.Policy{}) {
		cfg.Direct = retry.Policy{MaxAttempts: 1}
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = 16
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &S3{
		inflight: make(chan struct{}, max(cfg.Concurrency, 1)),
		store:    store, cfg: cfg,
		log:  logger.With("component", "emitter", "sink", "s3", "bucket", store.Name()),
		m:    newS3Metrics(reg),
		wake: make(chan struct{}, 1),
	}
	s.batch = s.Batch()
	s.m.spoolCapacity.Set(float64(cfg.SpoolMaxBytes))
	if cfg.SpoolDir != "" {
		if err := s.load(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Bucket returns the bucket's name.
func (s *S3) Bucket() string { return s.store.Name() }

// load reads the spool's file list (bodies stay on disk until sent).
func (s *S3) load() error {
	if err := os.MkdirAll(s.cfg.SpoolDir, 0o755); err != nil {
		return fmt.Errorf("s3 spool: %w", err)
	}
	entries, err := os.ReadDir(s.cfg.SpoolDir)
	if err != nil {
		return fmt.Errorf("s3 spool: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".obj") {
			continue // .tmp-* files are writes a crash cut short
		}
		seq, err := strconv.ParseUint(strings.TrimSuffix(name, ".obj"), 10, 64)
		if err != nil {
			continue
		}
		path := filepath.Join(s.cfg.SpoolDir, name)
		key, _, _, err := readSpooled(path, false)
		if err != nil {
			return fmt.Errorf("s3 spool: %s: %w", path, err)
		}
		info, err := e.Info()
		if err != nil {
			return fmt.Errorf("s3 spool: %w", err)
		}
		s.queue = append(s.queue, spooled{path: path, key: key, size: info.Size()})
		s.bytes += info.Size()
		s.seq = max(s.seq, seq)
	}
	slices.SortFunc(s.queue, func(a, b spooled) int { return strings.Compare(a.path, b.path) })
	s.gauges()
	if len(s.queue) > 0 {
		s.log.Info("spool holds objects from an earlier run; delivering them first",
			"objects", len(s.queue), "bytes", s.bytes)
		s.signal()
	}
	return nil
}

// Put hands one object over for writing and returns; Flush waits for it.
// With Concurrency 1 it writes before it returns, as putNow does. An error
// of an earlier object handed over is returned by the next Put or Flush.
// body must not change until Flush returns.
func (s *S3) Put(ctx context.Context, key string, body []byte, meta map[string]string) error {
	return s.batch.Put(ctx, key, body, meta)
}

// Flush waits until every object handed over by Put is written or spooled,
// and returns the first error among them. After it returns nil, what was
// put is in the bucket or safe in the spool.
func (s *S3) Flush(ctx context.Context) error { return s.batch.Flush(ctx) }

// Batch returns a new S3Batch: its own Put and Flush over s's concurrent
// writes and spool. Each partition worker that shares s uses its own, so
// its Flush waits for its objects only.
func (s *S3) Batch() *S3Batch { return &S3Batch{s: s} }

// S3Batch tracks the objects one owner handed to an S3. It is safe for
// concurrent use, though an owner is usually one goroutine.
type S3Batch struct {
	s *S3

	mu      sync.Mutex
	pending int
	idle    chan struct{} // closed when pending drops to 0
	err     error         // the first failure not yet reported
}

var _ ObjectWriter = (*S3Batch)(nil)

// Bucket returns the bucket's name.
func (b *S3Batch) Bucket() string { return b.s.Bucket() }

// Put hands one object over, as S3.Put does.
func (b *S3Batch) Put(ctx context.Context, key string, body []byte, meta map[string]string) error {
	if err := b.takeErr(); err != nil {
		return err
	}
	s := b.s
	if s.cfg.Concurrency <= 1 {
		return s.putNow(ctx, key, body, meta)
	}
	select {
	case s.inflight <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	b.mu.Lock()
	if b.pending == 0 {
		b.idle = make(chan struct{})
	}
	b.pending++
	b.mu.Unlock()
	go func() {
		err := s.putNow(ctx, key, body, meta)
		<-s.inflight
		b.mu.Lock()
		if err != nil && b.err == nil {
			b.err = err
		}
		if b.pending--; b.pending == 0 {
			close(b.idle)
		}
		b.mu.Unlock()
	}()
	return nil
}

func (b *S3Batch) takeErr() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	err := b.err
	b.err = nil
	return err
}

// Flush waits until every object the batch handed over is written or
// spooled, and returns the first error among them.
func (b *S3Batch) Flush(ctx context.Context) error {
	b.mu.Lock()
	idle := b.idle
	waiting := b.pending > 0
	b.mu.Unlock()
	if waiting {
		select {
		case <-idle:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return b.takeErr()
}

// putNow writes one object. When the spool is empty it writes to S3
// directly; when that fails, or when older objects are still waiting, it
// appends the object to the spool and returns nil: the object is then safe
// on local disk and Run delivers it. Without a spool, it retries until it
// succeeds or ctx ends.
func (s *S3) putNow(ctx context.Context, key string, body []byte, meta map[string]string) error {
	if s.cfg.SpoolDir == "" {
		return s.put(ctx, s.cfg.Retry, s.log, key, body, meta)
	}
	s.mu.Lock()
	waiting := len(s.queue) > 0
	s.mu.Unlock()
	if !waiting {
		err := s.put(ctx, s.cfg.Direct, nil, key, body, meta)
		if err == nil || ctx.Err() != nil {
			return err
		}
		s.log.Warn("S3 unreachable; spooling", "key", key, "err", err)
	}
	return s.spool(key, body, meta)
}

func (s *S3) put(ctx context.Context, p retry.Policy, log *slog.Logger, key string, body []byte, meta map[string]string) error {
	return p.Do(ctx, log, func(ctx context.Context) error {
		start := time.Now()
		err := s.store.Put(ctx, key, body, meta)
		s.m.latency.Observe(time.Since(start).Seconds())
		if err != nil {
			s.m.errors.Inc()
			return err
		}
		s.m.sent.Inc()
		s.m.sentBytes.Add(float64(len(body)))
		if s.cfg.Delivered != nil {
			return s.cfg.Delivered(ctx, key)
		}
		return nil
	})
}

func (s *S3) spool(key string, body []byte, meta map[string]string) error {
	hdr, err := json.Marshal(struct {
		Key  string            `json:"key"`
		Meta map[string]string `json:"meta,omitempty"`
	}{key, meta})
	if err != nil {
		return fmt.Errorf("s3 spool %s: %w", key, err)
	}
	buf := make([]byte, 0, len(hdr)+1+len(body))
	buf = append(append(append(buf, hdr...), '\n'), body...)

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bytes+int64(len(buf)) > s.cfg.SpoolMaxBytes {
		s.m.spoolFull.Inc()
		return fmt.Errorf("put %s: %w (%d of %d bytes used)", key, ErrSpoolFull, s.bytes, s.cfg.SpoolMaxBytes)
	}
	s.seq++
	path := filepath.Join(s.cfg.SpoolDir, fmt.Sprintf("%020d.obj", s.seq))
	if err := objstore.WriteFileDurable(path, buf); err != nil {
		return fmt.Errorf("s3 spool %s: %w", key, err)
	}
	s.queue = append(s.queue, spooled{path: path, key: key, size: int64(len(buf))})
	s.bytes += int64(len(buf))
	s.m.spooled.Inc()
	s.gauges()
	s.signal()
	return nil
}

func (s *S3) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *S3) gauges() {
	s.m.spoolObjects.Set(float64(len(s.queue)))
	s.m.spoolBytes.Set(float64(s.bytes))
}

// Pending returns how many objects and bytes wait in the spool.
func (s *S3) Pending() (objects int, bytes int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue), s.bytes
}

// Run delivers spooled objects, oldest first, retrying each with backoff
// (cfg.Retry), until ctx ends. It returns nil when ctx ends; what is still
// spooled then stays on disk for the next process.
func (s *S3) Run(ctx context.Context) error {
	for {
		if err := s.drainSpool(ctx); err != nil && ctx.Err() == nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.wake:
		}
	}
}

// Drain waits for the objects handed over (Flush), then delivers the
// spooled ones, oldest first, and returns once the spool is empty or ctx
// ends (then with ctx's error joined to the last failure).
func (s *S3) Drain(ctx context.Context) error {
	if err := s.Flush(ctx); err != nil {
		return err
	}
	return s.drainSpool(ctx)
}

func (s *S3) drainSpool(ctx context.Context) error {
	for {
		s.mu.Lock()
		if len(s.queue) == 0 {
			s.mu.Unlock()
			return nil
		}
		head := s.queue[0]
		s.mu.Unlock()

		key, meta, body, err := readSpooled(head.path, true)
		if err != nil {
			// A spool file this process wrote and cannot read back is a
			// broken disk: stop rather than skip it.
			return fmt.Errorf("s3 spool: %s: %w", head.path, err)
		}
		if err := s.put(ctx, s.cfg.Retry, s.log, key, body, meta); err != nil {
			return err
		}
		if err := os.Remove(head.path); err != nil {
			return fmt.Errorf("s3 spool: %w", err)
		}
		s.mu.Lock()
		s.queue = s.queue[1:]
		s.bytes -= head.size
		s.m.unspooled.Inc()
		s.gauges()
		s.mu.Unlock()
	}
}

// readSpooled reads a spool file's header and, when body is true, its body.
func readSpooled(path string, body bool) (key string, meta map[string]string, data []byte, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", nil, nil, err
	}
	defer f.Close()
	r := bufio.NewReader(f)
	line, err := r.ReadBytes('\n')
	if err != nil {
		return "", nil, nil, fmt.Errorf("header: %w", err)
	}
	var hdr struct {
		Key  string            `json:"key"`
		Meta map[string]string `json:"meta"`
	}
	if err := json.Unmarshal(line, &hdr); err != nil || hdr.Key == "" {
		return "", nil, nil, fmt.Errorf("header: not a spooled object")
	}
	if body {
		var b bytes.Buffer
		if _, err := b.ReadFrom(r); err != nil {
			return "", nil, nil, err
		}
		data = b.Bytes()
	}
	return hdr.Key, hdr.Meta, data, nil
}
