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
	p := &partition{g: g, topic: topic, id: id, gen: gen,
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

// A partition's messages pass through two goroutines. Its fetcher fetches
// and decodes them; its worker (runPartition's goroutine) feeds the Engine,
// delivers, checkpoints and commits. Decoding needs nothing of the Engine and
// is a third to a half of a message's cost, so on a machine with a core to
// spare it overlaps the detector's work instead of adding to it. Batches
// carry messages and their records from the fetcher to the worker, in
// order, and back: the worker alone moves the state and the offsets, so what
// is checkpointed and committed is exactly what the Engine has seen, and a
// message decoded but not yet handled when the partition stops is fetched
// again by its next owner.
//
// A batch, not a message, goes across: a message costs a few microseconds
// on either side, about what waking a parked goroutine costs, so handing
// messages over one by one made the pair slower than one goroutine. While
// the partition is caught up a batch is one message, so nothing waits for
// company.
type batch struct {
	// dec is the batch's own: an Event's Raw may alias its decoder's
	// buffers (an inflated body), so they must stay until the worker is
	// done with the batch, and a batch ends after an inflated body.
	dec    *cloudtrail.Decoder
	items  []fetched
	events []cloudtrail.Event // the records of all items, in order
	bytes  int                // of the items' values
	// decoding is the time spent decoding the items, for busy_seconds.
	decoding time.Duration
	// The delivery-time header last parsed, and its time.
	hdr   []byte
	hdrAt time.Time
	hdrOK bool

	// The decoder's callbacks, made once: a closure per message would
	// be an allocation per message. cur is the item being decoded.
	cur     *fetched
	onEvent func(*cloudtrail.Event)
	onBad   func(cloudtrail.DecodeError)
}

// fetched is one message of a batch and what decoding it gave.
type fetched struct {
	msg kafka.Message
	// idle marks no message within IdleAdvance: the worker moves the clock
	// by wall time instead.
	idle bool
	lag  int64 // the reader's lag after the message was fetched

	from, to int   // its records: the batch's events[from:to]
	newest   int64 // the newest event time, Unix seconds
	// at is when its records arrived (see arrival), when it has any.
	at  time.Time
	st  cloudtrail.BodyStats
	err error
	// firstBad is the first record set aside, when bad.
	firstBad cloudtrail.DecodeError
	bad      bool
}

const (
	// pipelineDepth is how many batches a partition's fetcher may have
	// decoded ahead of its worker: one in the worker's hands, one ready,
	// one filling.
	pipelineDepth = 3
	// A batch ends at maxBatchMessages messages or once its values reach
	// maxBatchBytes (or maxBatchWait after its first message): enough that
	// hand-offs cost little, few enough that the worker is not kept waiting
	// long, nor the batches' memory large.
	maxBatchMessages = 64
	maxBatchBytes    = 1 << 20
	maxBatchWait     = 5 * time.Millisecond
)

func (p *partition) newBatch() *batch {
	b := &batch{dec: cloudtrail.NewDecoder()}
	b.onEvent = func(ev *cloudtrail.Event) {
		b.cur.newest = max(b.cur.newest, ev.EventTime)
		b.events = append(b.events, *ev)
	}
	b.onBad = func(de cloudtrail.DecodeError) {
		if !b.cur.bad {
			b.cur.firstBad, b.cur.bad = de, true
		}
		p.g.m.invalidRecords.WithLabelValues(de.Reason.String()).Inc()
	}
	return b
}

// keepInflated is how much of an inflated body's buffer a batch's decoder
// keeps for the next one. A partition has a decoder per batch, three in
// all; without a bound each would hold the largest log file it ever
// inflated.
const keepInflated = 4 << 20

// reset readies b for more messages. Clearing lets go of the previous
// messages' bodies, which their records' Raw fields point into.
func (b *batch) reset() {
	b.dec.Release(keepInflated)
	clear(b.items)
	clear(b.events)
	b.items, b.events, b.bytes, b.cur, b.decoding = b.items[:0], b.events[:0], 0, nil, 0
}

// source is where a partition's messages come from: its *kafka.Reader, or
// messages at hand in benchmarks.
type source interface {
	FetchMessage(ctx context.Context) (kafka.Message, error)
	Lag() int64
}

// consume handles messages until ctx ends or a message cannot be handled
// (or fetched). It returns once its fetcher has stopped, so the caller may
// close src.
func (p *partition) consume(ctx context.Context, src source) error {
	fctx, stop := context.WithCancel(ctx)
	free := make(chan *batch, pipelineDepth)
	full := make(chan *batch, pipelineDepth)
	for range pipelineDepth {
		free <- p.newBatch()
	}
	var ferr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(full)
		ferr = p.fetch(fctx, src, free, full)
	}()
	defer func() {
		stop()
		<-done
	}()
	for b := range full {
		t0 := time.Now()
		for i := range b.items {
			if ctx.Err() != nil {
				return nil
			}
			it := &b.items[i]
			p.mu.Lock()
			var err error
			if it.idle {
				err = p.idle(ctx)
			} else {
				p.offsetLag.Set(float64(it.lag))
				err = p.handle(ctx, it, b.events[it.from:it.to])
			}
			p.mu.Unlock()
			if err != nil {
				return err
			}
		}
		p.g.m.busyDetect.Add(time.Since(t0).Seconds())
		p.g.m.busyDecode.Add(b.decoding.Seconds())
		b.reset()
		free <- b // never blocks: it has room for every batch
	}
	// full is closed: the fetcher has stopped, and ferr is set.
	if ctx.Err() != nil {
		return nil
	}
	return ferr
}

// fetch is the fetcher: it fetches and decodes messages into free batches
// and passes them on in order, until ctx ends or a fetch fails.
func (p *partition) fetch(ctx context.Context, src source, free <-chan *batch, full chan<- *batch) error {
	for {
		var b *batch
		select {
		case b = <-free:
		case <-ctx.Done():
			return nil
		}
		err := p.fill(ctx, src, b)
		if ctx.Err() != nil {
			return nil
		}
		if len(b.items) > 0 {
			// Even before a failed fetch: what came before it is good.
			full <- b // never blocks: it has room for every batch
		}
		if err != nil {
			return fmt.Errorf("fetch %s/%d: %w", p.topic, p.id, err)
		}
	}
}

// fill fetches and decodes messages into b: one, or an idle mark when none
// comes within IdleAdvance once the partition is caught up; then more while
// they come at once. The batch goes once the partition is caught up, so a
// live message never waits for company; otherwise once it is big, after an
// inflated body (the next decode would reuse its buffer), or maxBatchWait
// after its first message, so a partition whose lag counts offsets that
// hold no message (transaction markers, compacted records) keeps no message
// waiting for one that does not come.
func (p *partition) fill(ctx context.Context, src source, b *batch) error {
	fctx, cancel := ctx, context.CancelFunc(func() {})
	// A deadline only when the reader may have to wait: while it is behind
	// the partition's end (catching up) a message is at hand, and a timer
	// per message costs a sixth of the consumer's time.
	if idle := p.g.cfg.IdleAdvance; idle > 0 && src.Lag() <= 0 {
		fctx, cancel = context.WithTimeout(ctx, idle)
	}
	msg, err := src.FetchMessage(fctx)
	cancel()
	switch {
	case ctx.Err() != nil:
		return nil
	case errors.Is(err, context.DeadlineExceeded):
		b.items = append(b.items, fetched{idle: true})
		return nil
	case err != nil:
		return err
	}
	p.decode(b, msg, src.Lag())
	if b.complete() {
		return nil
	}
	// One timer a batch, not one a message.
	bctx, cancel := context.WithTimeout(ctx, maxBatchWait)
	defer cancel()
	for !b.complete() {
		msg, err := src.FetchMessage(bctx)
		switch {
		case ctx.Err() != nil, errors.Is(err, context.DeadlineExceeded):
			return nil
		case err != nil:
			return err
		}
		p.decode(b, msg, src.Lag())
	}
	return nil
}

// complete reports whether b should go to the worker as it is (see fill).
func (b *batch) complete() bool {
	it := &b.items[len(b.items)-1]
	return it.lag <= 0 || len(b.items) >= maxBatchMessages || b.bytes >= maxBatchBytes || cloudtrail.IsGzip(it.msg.Value)
}

// decode adds msg to b, decoded. It runs in the fetcher: it touches only
// the batch and the process's metrics.
func (p *partition) decode(b *batch, msg kafka.Message, lag int64) {
	b.items = append(b.items, fetched{msg: msg, lag: lag})
	it := &b.items[len(b.items)-1]
	if len(it.msg.Key) == 0 {
		p.g.m.unkeyed.Inc()
	}
	b.cur, it.from = it, len(b.events)
	t0 := time.Now()
	it.st, it.err = b.dec.DecodeBody(it.msg.Value, b.onEvent, b.onBad)
	it.to = len(b.events)
	if it.to > it.from {
		it.at = b.arrival(&it.msg)
		if it.at.Unix() <= 0 || it.at.Unix() > it.newest+int64(maxDeliveryDelay/time.Second) {
			it.at = time.Unix(it.newest, 0)
		}
	}
	b.decoding += time.Since(t0)
	b.bytes += len(it.msg.Value)
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
// it has one (a trail published after the fact), else its timestamp. The
// messages of one log file carry the same header, so the batch keeps the
// last one it parsed.
func (b *batch) arrival(msg *kafka.Message) time.Time {
	for _, h := range msg.Headers {
		if h.Key != HeaderDeliveryTime {
			continue
		}
		if b.hdrOK && bytes.Equal(h.Value, b.hdr) {
			return b.hdrAt
		}
		if t, err := time.Parse(time.RFC3339, string(h.Value)); err == nil {
			b.hdr, b.hdrAt, b.hdrOK = h.Value, t, true
			return t
		}
	}
	return msg.Time
}

// handle moves the clock to the time of a decoded message, feeds its
// records to the Engine and sets aside what could not be decoded.
func (p *partition) handle(ctx context.Context, it *fetched, events []cloudtrail.Event) error {
	g := p.g
	msg, st, err := &it.msg, it.st, it.err
	if len(events) > 0 {
		t := it.at
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
		for i := range events {
			p.e.Observe(&events[i])
		}
		if p.tap != nil {
			for i := range events {
				p.tap.Observe(&events[i])
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
		if it.bad {
			fb := it.firstBad // it is reused once its batch is handled
			reason, err = fb.Reason.String(), errors.Join(err, &fb)
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
