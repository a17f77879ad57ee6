package consumers

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/trailsight/trailsight/cloudtrail"
	"github.com/trailsight/trailsight/detector"
	"github.com/trailsight/trailsight/internal/retry"
)

// committer commits a partition's offset; *kafka.Generation satisfies it.
type committer interface {
	CommitOffsets(offsets map[string]map[int]int64) error
}

// partition is the worker of one assigned partition. Only its goroutine
// touches it.
type partition struct {
	g     *Group
	topic string
	id    int
	log   *slog.Logger
	gen   committer

	// mu guards e (and out) against Group.Inspect: the worker holds it
	// while it handles a message, idles or checkpoints, never while it
	// waits for the next message. Uncontended, it costs nanoseconds a
	// message.
	mu  sync.Mutex
	e   *detector.Engine
	out Output
	tap Tap // out, when it is a Tap

	offsetLag prometheus.Gauge // this partition's child of offset_lag
	// The children set at every message, looked up once (a label lookup
	// hashes its values: a few percent of a message's cost). The gauges
	// are made on first use, so their series appear once they have a
	// value: the next offset once known, the lag with the first watermark.
	nextOffsetG, lagG prometheus.Gauge
	okMessages        prometheus.Counter
	// stats is what the Engine's counters were when last added to the
	// process's detector metrics.
	stats detector.Stats
	dec   *cloudtrail.Decoder
	// events holds one message's records between decoding and observing:
	// the clock moves to the message's time first, as replay moves it to
	// a file's delivery time before its records.
	events []cloudtrail.Event

	next  int64 // next offset to consume
	clock int64 // minute of the newest message time
	// newest is the newest message time, lastWall the wall time it came.
	newest, lastWall time.Time
	// since counts messages consumed (and idle advances) since the last
	// checkpoint.
	since    int
	lastCkpt time.Time
	partLbl  string
}

func (g *Group) runPartition(ctx context.Context, gen *kafka.Generation, topic string, id int, committed int64, restored func()) error {
	p := &partition{g: g, topic: topic, id: id, gen: gen, dec: cloudtrail.NewDecoder(),
		partLbl: strconv.Itoa(id),
		log:     g.log.With("topic", topic, "partition", id)}
	defer g.m.lag.DeleteLabelValues(topic, p.partLbl)
	defer g.m.offsetLag.DeleteLabelValues(topic, p.partLbl)
	defer g.m.nextOffset.DeleteLabelValues(topic, p.partLbl)
	if err := p.restore(ctx, committed); err != nil {
		return err
	}
	// The restored Engine's series and open Insights join the process's
	// gauges; its counters count from here.
	p.stats = p.e.Stats()
	g.m.det.add(&detector.Stats{Events: p.stats.Events, Started: p.stats.Started, Ended: p.stats.Ended}, &p.stats)
	defer func() {
		p.syncStats()
		g.m.det.add(&p.stats, &detector.Stats{Events: p.stats.Events, Started: p.stats.Started, Ended: p.stats.Ended})
	}()
	if tr, ok := p.out.(InsightTracker); ok {
		tr.Holding(p.e.OpenInsights())
		// Let go once the partition is, after its final checkpoint.
		defer func() { tr.Released(p.e.OpenInsights()) }()
	}
	if p.next >= 0 {
		p.setNextOffset()
	}
	p.offsetLag = g.m.offsetLag.WithLabelValues(topic, p.partLbl)
	p.okMessages = g.m.messages.WithLabelValues(msgOK)
	restored()
	g.addLive(p)
	defer g.removeLive(p)
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: g.cfg.Brokers, Topic: topic, Partition: id, Dialer: g.deps.Dialer,
		MinBytes: 1, MaxBytes: 16 << 20, MaxWait: g.cfg.MaxWait,
		ErrorLogger: kafka.LoggerFunc(func(msg string, args ...any) {
			p.log.Warn("kafka reader: " + fmt.Sprintf(msg, args...))
		}),
	})
	defer r.Close()
	if err := r.SetOffset(p.next); err != nil {
		return fmt.Errorf("seek %s/%d to %d: %w", topic, id, p.next, err)
	}
	err := p.consume(ctx, r)
	// Revoked, or the service is stopping: checkpoint what was consumed,
	// with a context of its own, since ctx is done. Never end an Insight
	// because of it: the next owner carries on from this state.
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), g.cfg.DrainTimeout)
	defer cancel()
	p.mu.Lock()
	defer p.mu.Unlock()
	if cerr := p.checkpoint(dctx); cerr != nil {
		err = errors.Join(err, cerr)
	}
	return err
}

// restore builds the partition's Engine from its newest checkpoint, or an
// empty one, and sets where consumption starts: the checkpoint's offset,
// which may be behind the committed one (a crash between the save and the
// commit), never the committed offset with state older than it.
func (p *partition) restore(ctx context.Context, committed int64) error {
	g := p.g
	out, err := g.deps.NewOutput(p.topic, p.id)
	if err != nil {
		return fmt.Errorf("output of %s/%d: %w", p.topic, p.id, err)
	}
	p.out = out
	p.tap, _ = out.(Tap)
	t0 := time.Now()
	var c Checkpoint
	var ok bool
	err = retry.Policy{MaxAttempts: 5}.Do(ctx, p.log, func(ctx context.Context) error {
		c, ok, err = g.deps.Store.Load(ctx, p.topic, p.id)
		return err
	})
	if err != nil && !errors.Is(err, ErrBadCheckpoint) {
		return fmt.Errorf("load checkpoint: %w", err)
	}
	if err == nil && ok {
		engineState, tapState, serr := splitState(c.State)
		e, rerr := restoreEngine(g.det, out, g.log, engineState)
		if serr != nil {
			rerr = serr
		}
		if errors.Is(rerr, detector.ErrSnapshotConfig) || errors.Is(rerr, detector.ErrSnapshotVersion) {
			// Another release or configuration wrote it: starting empty
			// would throw away every baseline and reopen the warm-up, so
			// the partition stops until the operator fixes the mismatch.
			return fmt.Errorf("restore checkpoint at offset %d: %w", c.Offset, rerr)
		}
		if rerr == nil {
			if err := p.restoreTap(tapState); err != nil {
				// Its records wait for delivery in this state: starting
				// it empty would lose them, so the partition stops.
				return fmt.Errorf("restore checkpoint at offset %d: %w", c.Offset, err)
			}
			p.e, p.next = e, c.Offset
			g.m.restoreSeconds.Observe(time.Since(t0).Seconds())
			g.m.restoreBytes.Set(float64(len(c.State)))
			st := e.Stats()
			p.log.Info("restored checkpoint", "offset", c.Offset, "committed", committed, "bytes", len(c.State),
				"series", st.Series, "error_series", st.ErrorSeries, "open", st.Open, "took", time.Since(t0))
			p.lastCkpt = g.now()
			return nil
		}
		err = rerr
	}
	if err != nil {
		g.m.restoreFails.Inc()
		p.log.Error("checkpoint unusable; starting with empty state (warm-up starts over)", "err", err)
	}
	p.e, err = detector.New(g.det, out, g.log)
	if err != nil {
		return err
	}
	// Without a commit, committed is kafka.FirstOffset or LastOffset,
	// which the reader resolves.
	p.next = committed
	if committed >= 0 && !ok {
		p.log.Warn("offsets committed but no checkpoint; starting with empty state at the committed offset", "offset", committed)
	}
	p.lastCkpt = g.now()
	return nil
}

// restoreTap gives the tap its state from the checkpoint.
func (p *partition) restoreTap(state []byte) error {
	switch {
	case p.tap == nil && len(state) > 0:
		p.log.Warn("checkpoint holds trail delivery state, but no trails are configured: it is dropped")
		return nil
	case p.tap == nil:
		return nil
	case state == nil:
		p.log.Warn("checkpoint holds no trail delivery state: the trails start afresh (digest chains restart)")
		return nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(state))
	if err != nil {
		return fmt.Errorf("%w: trail state: %v", ErrBadCheckpoint, err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		return fmt.Errorf("%w: trail state: %v", ErrBadCheckpoint, err)
	}
	return p.tap.RestoreState(b)
}

// A checkpoint's State is the gzipped detector snapshot alone, or, when
// the partition's Output is a Tap, a container of both
// (docs/formats/snapshot.md): stateMagic, then the gzipped snapshot and
// the gzipped tap state, each after its length as a uvarint.
var stateMagic = []byte("TSCK\x01")

func joinState(engine, tap []byte) []byte {
	b := make([]byte, 0, len(stateMagic)+2*binary.MaxVarintLen64+len(engine)+len(tap))
	b = append(b, stateMagic...)
	b = binary.AppendUvarint(b, uint64(len(engine)))
	b = append(b, engine...)
	b = binary.AppendUvarint(b, uint64(len(tap)))
	return append(b, tap...)
}

// splitState returns the parts of a checkpoint's State; tap is nil for a
// snapshot alone.
func splitState(state []byte) (engine, tap []byte, err error) {
	if !bytes.HasPrefix(state, stateMagic) {
		return state, nil, nil
	}
	rest := state[len(stateMagic):]
	var parts [2][]byte
	for i := range parts {
		n, k := binary.Uvarint(rest)
		if k <= 0 || n > uint64(len(rest)-k) {
			return nil, nil, fmt.Errorf("%w: state container cut short", ErrBadCheckpoint)
		}
		parts[i], rest = rest[k:k+int(n)], rest[k+int(n):]
	}
	if len(rest) != 0 {
		return nil, nil, fmt.Errorf("%w: %d bytes after the state container", ErrBadCheckpoint, len(rest))
	}
	return parts[0], parts[1], nil
}

func restoreEngine(cfg detector.Config, sink detector.Sink, log *slog.Logger, state []byte) (*detector.Engine, error) {
	zr, err := gzip.NewReader(bytes.NewReader(state))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadCheckpoint, err)
	}
	e, err := detector.Restore(cfg, sink, log, zr)
	if err != nil {
		// Both errors stay matchable: a version or configuration
		// mismatch (detector.ErrSnapshotVersion, ErrSnapshotConfig) is
		// worth telling apart from a damaged checkpoint.
		return nil, fmt.Errorf("%w: %w", ErrBadCheckpoint, err)
	}
	return e, nil
}

// consume reads messages until ctx ends or a message cannot be handled.
func (p *partition) consume(ctx context.Context, r *kafka.Reader) error {
	idle := p.g.cfg.IdleAdvance
	for {
		fctx, cancel := ctx, context.CancelFunc(func() {})
		// A deadline only when the reader may have to wait: while it is
		// behind the partition's end (catching up) a message is at hand,
		// and a timer per message costs a sixth of the consumer's time.
		if idle > 0 && r.Lag() <= 0 {
			fctx, cancel = context.WithTimeout(ctx, idle)
		}
		msg, err := r.FetchMessage(fctx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, context.DeadlineExceeded):
			p.mu.Lock()
			err := p.idle(ctx)
			p.mu.Unlock()
			if err != nil {
				return err
			}
			continue
		case err != nil:
			return fmt.Errorf("fetch %s/%d: %w", p.topic, p.id, err)
		}
		p.offsetLag.Set(float64(r.Lag()))
		p.mu.Lock()
		err = p.handle(ctx, &msg)
		p.mu.Unlock()
		if err != nil {
			return err
		}
	}
}

// tick moves the message clock to t. At each new minute it flushes the
// output, so an Insights file always holds whole minutes of one clock, and
// checkpoints when one is due: a checkpoint, like a flush, lies between
// two messages of different minutes, so a crash replays the same messages
// from the same state into the same files.
func (p *partition) tick(ctx context.Context, t time.Time) error {
	m := t.Unix() / 60
	if m <= p.clock {
		return nil
	}
	if p.clock != 0 {
		p.syncStats()
		if err := p.out.Flush(ctx); err != nil {
			return err
		}
		if p.since > 0 && p.g.now().Sub(p.lastCkpt) >= p.g.cfg.CheckpointInterval {
			if err := p.checkpoint(ctx); err != nil {
				return err
			}
		}
	}
	p.clock = m
	return nil
}

// maxDeliveryDelay is how far a message's time may be ahead of its newest
// event and still be taken as the time the records arrived. CloudTrail
// delivers within minutes; a message stamped much later is a re-publish or
// a backfill, and its time would close every open minute at once. Then the
// newest event time stands in, as replay does for a file without a
// delivery time.
const maxDeliveryDelay = time.Hour

// arrival is when a message's records arrived: its HeaderDeliveryTime when
// it has one (a trail published after the fact), else its timestamp.
func arrival(msg *kafka.Message) time.Time {
	for _, h := range msg.Headers {
		if h.Key == HeaderDeliveryTime {
			if t, err := time.Parse(time.RFC3339, string(h.Value)); err == nil {
				return t
			}
		}
	}
	return msg.Time
}

// handle decodes one message, moves the clock to its time, feeds its
// records to the Engine and sets aside what cannot be decoded.
func (p *partition) handle(ctx context.Context, msg *kafka.Message) error {
	g := p.g
	if len(msg.Key) == 0 {
		g.m.unkeyed.Inc()
	}
	var newest int64
	var firstBad *cloudtrail.DecodeError
	p.events = p.events[:0]
	st, err := p.dec.DecodeBody(msg.Value, func(ev *cloudtrail.Event) {
		newest = max(newest, ev.EventTime)
		p.events = append(p.events, *ev)
	}, func(de cloudtrail.DecodeError) {
		if firstBad == nil {
			firstBad = &de
		}
		g.m.invalidRecords.WithLabelValues(de.Reason.String()).Inc()
	})
	if len(p.events) > 0 {
		t := arrival(msg)
		if t.Unix() <= 0 || t.Unix() > newest+int64(maxDeliveryDelay/time.Second) {
			t = time.Unix(newest, 0)
		}
		if err := p.tick(ctx, t); err != nil {
			return err
		}
		if err := p.e.Advance(ctx, t); err != nil {
			return err
		}
		if p.tap != nil {
			if err := p.tap.Advance(ctx, t); err != nil {
				return err
			}
		}
		for i := range p.events {
			p.e.Observe(&p.events[i])
		}
		if p.tap != nil {
			for i := range p.events {
				p.tap.Observe(&p.events[i])
			}
		}
		// Spikes in still-open minutes may start as the events are
		// observed (1 minute) or once the message is in (the windowed
		// tests, which Advance runs): test and send them now, so no
		// Insight waits for the next message or for a checkpoint.
		if err := p.e.Advance(ctx, t); err != nil {
			return err
		}
		if t.After(p.newest) {
			p.newest = t
		}
		p.lastWall = g.now()
	}
	g.m.records.Add(float64(st.Records))
	result := msgOK
	switch {
	case err != nil && st.Records == 0:
		result = msgInvalid
		var de *cloudtrail.DecodeError
		reason := "bad_body"
		if errors.As(err, &de) {
			reason = de.Reason.String()
		}
		g.m.invalidRecords.WithLabelValues(reason).Inc()
		if err := p.deadLetter(ctx, msg, reason, err, st); err != nil {
			return err
		}
	case err != nil || st.Invalid > 0:
		result = msgPartial
		if st.Records == 0 {
			result = msgInvalid
		}
		reason := "partial"
		if firstBad != nil {
			reason, err = firstBad.Reason.String(), errors.Join(err, firstBad)
		}
		if err := p.deadLetter(ctx, msg, reason, err, st); err != nil {
			return err
		}
	case st.Digest && st.Records == 0:
		result = msgDigest
	case st.Records == 0:
		result = msgEmpty
	}
	if result == msgOK {
		p.okMessages.Inc()
	} else {
		g.m.messages.WithLabelValues(result).Inc()
	}
	p.next = msg.Offset + 1
	p.since++
	p.setNextOffset()
	if w := p.e.Watermark(); !w.IsZero() && !p.newest.IsZero() {
		if p.lagG == nil {
			p.lagG = g.m.lag.WithLabelValues(p.topic, p.partLbl)
		}
		p.lagG.Set(p.newest.Sub(w).Seconds())
	}
	return nil
}

// setNextOffset sets the next_offset gauge of the partition to p.next.
func (p *partition) setNextOffset() {
	if p.nextOffsetG == nil {
		p.nextOffsetG = p.g.m.nextOffset.WithLabelValues(p.topic, p.partLbl)
	}
	p.nextOffsetG.Set(float64(p.next))
}

// idle moves the clock of a partition that got no message for a while by
// the wall time since its newest message, so its minutes still close.
func (p *partition) idle(ctx context.Context) error {
	if p.newest.IsZero() {
		return nil
	}
	t := p.newest.Add(p.g.now().Sub(p.lastWall))
	if t.Unix()/60 <= p.clock {
		return nil
	}
	if err := p.tick(ctx, t); err != nil {
		return err
	}
	// The state moved without a message: the next checkpoint saves it.
	p.since++
	if p.tap != nil {
		if err := p.tap.Advance(ctx, t); err != nil {
			return err
		}
	}
	return p.e.Advance(ctx, t)
}

// syncStats adds the Engine's changes since the last call to the process's
// detector metrics.
func (p *partition) syncStats() {
	cur := p.e.Stats()
	p.g.m.det.add(&p.stats, &cur)
	p.stats = cur
}

// Dead-letter headers.
const (
	HeaderDLQReason    = "trailsight-dlq-reason"
	HeaderDLQError     = "trailsight-dlq-error"
	HeaderDLQTopic     = "trailsight-dlq-topic"
	HeaderDLQPartition = "trailsight-dlq-partition"
	HeaderDLQOffset    = "trailsight-dlq-offset"
	HeaderDLQKept      = "trailsight-dlq-records-kept"
	HeaderDLQInvalid   = "trailsight-dlq-records-invalid"
)

// deadLetter copies msg to the dead-letter topic with why and where it came
// from. A partly readable message goes there too, marked with the records
// kept, so nothing is silently dropped; the kept records are not lost
// either: they were observed.
func (p *partition) deadLetter(ctx context.Context, msg *kafka.Message, reason string, cause error, st cloudtrail.BodyStats) error {
	g := p.g
	g.m.deadLetters.WithLabelValues(reason).Inc()
	p.log.Warn("message set aside", "offset", msg.Offset, "reason", reason, "records_kept", st.Records,
		"records_invalid", st.Invalid, "err", cause)
	if g.deps.DeadLetters == nil || g.cfg.DeadLetterTopic == "" {
		return nil
	}
	errText := ""
	if cause != nil {
		errText = cause.Error()
		if len(errText) > 1024 {
			errText = errText[:1024]
		}
	}
	h := append([]kafka.Header(nil), msg.Headers...)
	h = append(h,
		kafka.Header{Key: HeaderDLQReason, Value: []byte(reason)},
		kafka.Header{Key: HeaderDLQError, Value: []byte(errText)},
		kafka.Header{Key: HeaderDLQTopic, Value: []byte(p.topic)},
		kafka.Header{Key: HeaderDLQPartition, Value: []byte(strconv.Itoa(p.id))},
		kafka.Header{Key: HeaderDLQOffset, Value: []byte(strconv.FormatInt(msg.Offset, 10))},
		kafka.Header{Key: HeaderDLQKept, Value: []byte(strconv.Itoa(st.Records))},
		kafka.Header{Key: HeaderDLQInvalid, Value: []byte(strconv.Itoa(max(st.Invalid, 1)))},
	)
	dl := kafka.Message{Key: msg.Key, Value: msg.Value, Headers: h, Time: msg.Time}
	// The dead letter must be durable before the offset is committed past
	// it; until the broker takes it, the partition waits.
	return retry.Policy{}.Do(ctx, p.log, func(ctx context.Context) error {
		return g.deps.DeadLetters.WriteMessages(ctx, dl)
	})
}

// checkpoint flushes the output, saves the Engine's state with the next
// offset, and commits that offset. A refused commit is counted, not fatal:
// a new owner resumes from the checkpoint's own offset.
func (p *partition) checkpoint(ctx context.Context) error {
	if p.since == 0 || p.e == nil {
		return nil
	}
	g := p.g
	t0 := time.Now()
	if err := p.out.Flush(ctx); err != nil {
		return fmt.Errorf("flush before checkpoint: %w", err)
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err := p.e.Snapshot(zw); err != nil {
		return fmt.Errorf("snapshot %s/%d: %w", p.topic, p.id, err)
	}
	if err := zw.Close(); err != nil {
		return err
	}
	state := buf.Bytes()
	if p.tap != nil {
		ts, err := p.tap.AppendState(nil)
		if err != nil {
			return fmt.Errorf("snapshot %s/%d: %w", p.topic, p.id, err)
		}
		var tb bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&tb, gzip.BestSpeed)
		_, _ = zw.Write(ts) // a bytes.Buffer takes every write
		if err := zw.Close(); err != nil {
			return err
		}
		state = joinState(state, tb.Bytes())
	}
	c := Checkpoint{Topic: p.topic, Partition: p.id, Offset: p.next, State: state}
	err := retry.Policy{}.Do(ctx, p.log, func(ctx context.Context) error { return g.deps.Store.Save(ctx, c) })
	if err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	if p.gen != nil {
		if err := p.gen.CommitOffsets(map[string]map[int]int64{p.topic: {p.id: p.next}}); err != nil {
			g.m.commitErrors.Inc()
			p.log.Warn("offset commit refused; the checkpoint stands", "offset", p.next, "err", err)
		}
	}
	g.m.checkpoints.Inc()
	g.m.ckptBytes.Set(float64(len(state)))
	g.m.ckptSeconds.Observe(time.Since(t0).Seconds())
	p.since = 0
	p.lastCkpt = g.now()
	return nil
}
