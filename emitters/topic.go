package emitters

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/trailsight/trailsight/cloudtrail"
	"github.com/trailsight/trailsight/detector"
	"github.com/trailsight/trailsight/internal/retry"
)

// MessageWriter is what Topic needs of a Kafka producer. *kafka.Writer
// satisfies it; with Async false, WriteMessages returns once the broker has
// acknowledged every message (per the writer's RequiredAcks).
type MessageWriter interface {
	WriteMessages(ctx context.Context, msgs ...kafka.Message) error
}

// Headers set on every message Topic writes. EventIDHeader carries the
// record's name-based eventID (spec §2.9 #15): the envelope's own id is
// fresh per delivery (§2.9 #5), so a consumer that wants to drop the
// duplicates an at-least-once pipeline may deliver keys on this header.
const (
	EventIDHeader     = "trailsight-event-id"
	ContentTypeHeader = "content-type"
)

// Topic writes Insights to a Kafka topic as EventBridge envelopes (spec §7,
// detail-type "AWS Insight via CloudTrail"), keyed by account ID so one
// account's Insights stay in order on one partition. Emit returns only when
// every record of the batch is acknowledged, retrying transient errors with
// backoff, so a caller may commit its input offsets after it returns.
//
// A Topic is safe for concurrent use when its MessageWriter is (a
// *kafka.Writer is): every partition worker of a consumer may share one.
type Topic struct {
	w    MessageWriter
	log  *slog.Logger
	opts TopicOptions
	m    *topicMetrics
}

// TopicOptions tunes a Topic.
type TopicOptions struct {
	// Retry says how a failed write is retried. Its zero value retries
	// until the context ends, which is what a consumer that must not
	// commit past an unwritten Insight wants.
	Retry retry.Policy
	// NewID returns the envelope id; default cloudtrail.NewUUIDv4. Tests
	// set it to get reproducible bytes.
	NewID func() string
	// Registerer, when set, gets the Topic's metrics.
	Registerer prometheus.Registerer
}

var _ detector.Sink = (*Topic)(nil)

// NewTopic returns a Topic writing with w. logger may be nil.
func NewTopic(w MessageWriter, opts TopicOptions, logger *slog.Logger) *Topic {
	if opts.NewID == nil {
		opts.NewID = cloudtrail.NewUUIDv4
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Topic{w: w, opts: opts, log: logger.With("component", "emitter", "sink", "topic"), m: newTopicMetrics(opts.Registerer)}
}

// Messages returns the Kafka messages that carry batch.
func (t *Topic) Messages(batch []detector.Insight) []kafka.Message {
	msgs := make([]kafka.Message, 0, len(batch))
	for i := range batch {
		r := batch[i].Record()
		msgs = append(msgs, kafka.Message{
			Key:   []byte(r.RecipientAccountID),
			Value: cloudtrail.AppendInsightEnvelope(nil, &r, t.opts.NewID()),
			Headers: []kafka.Header{
				{Key: EventIDHeader, Value: []byte(r.EventID)},
				{Key: ContentTypeHeader, Value: []byte("application/json")},
			},
		})
	}
	return msgs
}

// Emit writes batch and waits for the acknowledgements.
func (t *Topic) Emit(ctx context.Context, batch []detector.Insight) error {
	if len(batch) == 0 {
		return nil
	}
	err := t.opts.Retry.Do(ctx, t.log, func(ctx context.Context) error {
		// Fresh messages per attempt: a writer may keep references.
		start := time.Now()
		err := t.w.WriteMessages(ctx, t.Messages(batch)...)
		t.m.latency.Observe(time.Since(start).Seconds())
		if err != nil {
			t.m.errors.Inc()
		}
		return err
	})
	if err == nil {
		t.m.sent.Add(float64(len(batch)))
	}
	return err
}
