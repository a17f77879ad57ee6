package emitters

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/trailsight/trailsight/cloudtrail"
	"github.com/trailsight/trailsight/detector"
	"github.com/trailsight/trailsight/internal/retry"
)

// EventBridgeAPI is what EventBridge needs of the AWS client;
// *eventbridge.Client satisfies it.
type EventBridgeAPI interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, opts ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// PutEvents limits (EventBridge API reference, PutEvents): at most 10
// entries a request, and 256 KB for the request's entries, each entry
// counted as its Time (14 bytes when set), Source, DetailType, Detail and
// Resources in UTF-8 bytes.
const (
	putEventsMaxEntries = 10
	putEventsMaxBytes   = 256 * 1024
)

// DefaultEventBridgeSource is the Source of the events EventBridge puts:
// PutEvents refuses sources that begin with "aws." (AWS's own services
// only), so the records cannot carry CloudTrail's "aws.cloudtrail" as the
// Kafka envelopes do; rules match this source and the detail-type.
const DefaultEventBridgeSource = "trailsight"

// EventBridgeOptions configures an EventBridge emitter.
type EventBridgeOptions struct {
	// Bus is the event bus name or ARN; empty is the account's default bus.
	Bus string
	// Source of the events; empty is DefaultEventBridgeSource.
	Source string
	// Retry says how failed requests and failed entries are retried; its
	// zero value retries until the context ends, so a partition never
	// commits past an Insight EventBridge did not take.
	Retry retry.Policy
	// Registerer, when set, gets the emitter's metrics.
	Registerer prometheus.Registerer
}

// EventBridge puts Insights on an event bus with PutEvents: one event per
// record, detail-type "AWS Insight via CloudTrail" and the record as the
// detail (spec §7). Emit returns once every entry is accepted, resending
// only the entries a partly failed request lists as failed. It is safe for
// concurrent use when its client is (the SDK's is).
type EventBridge struct {
	api  EventBridgeAPI
	opts EventBridgeOptions
	log  *slog.Logger

	sent, failed prometheus.Counter
	latency      prometheus.Histogram
}

var _ detector.Sink = (*EventBridge)(nil)

// NewEventBridge returns an EventBridge emitter. logger may be nil.
func NewEventBridge(api EventBridgeAPI, opts EventBridgeOptions, logger *slog.Logger) *EventBridge {
	if opts.Source == "" {
		opts.Source = DefaultEventBridgeSource
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	f := promauto.With(opts.Registerer)
	return &EventBridge{api: api, opts: opts, log: logger.With("component", "emitter", "sink", "eventbridge"),
		sent: f.NewCounter(prometheus.CounterOpts{
			Name: "trailsight_emitter_eventbridge_entries_sent_total",
			Help: "Insights records EventBridge accepted (PutEvents).",
		}),
		failed: f.NewCounter(prometheus.CounterOpts{
			Name: "trailsight_emitter_eventbridge_errors_total",
			Help: "Failed PutEvents requests and failed entries (each attempt counts; they are retried).",
		}),
		latency: f.NewHistogram(prometheus.HistogramOpts{
			Name:    "trailsight_emitter_eventbridge_request_duration_seconds",
			Help:    "Duration of PutEvents requests.",
			Buckets: prometheus.ExponentialBuckets(0.005, 4, 8),
		}),
	}
}

// Entries returns the PutEvents entries that carry batch, in order.
func (b *EventBridge) Entries(batch []detector.Insight) []types.PutEventsRequestEntry {
	out := make([]types.PutEventsRequestEntry, 0, len(batch))
	for i := range batch {
		r := batch[i].Record()
		e := types.PutEventsRequestEntry{
			Source:     aws.String(b.opts.Source),
			DetailType: aws.String(cloudtrail.InsightDetailType),
			Detail:     aws.String(string(r.AppendJSON(nil))),
			Time:       aws.Time(r.EventTime),
			Resources:  []string{},
		}
		if b.opts.Bus != "" {
			e.EventBusName = aws.String(b.opts.Bus)
		}
		out = append(out, e)
	}
	return out
}

// entrySize is an entry's size as PutEvents counts it.
func entrySize(e *types.PutEventsRequestEntry) int {
	n := 14 + len(aws.ToString(e.Source)) + len(aws.ToString(e.DetailType)) + len(aws.ToString(e.Detail))
	for _, r := range e.Resources {
		n += len(r)
	}
	return n
}

// Emit implements detector.Sink.
func (b *EventBridge) Emit(ctx context.Context, batch []detector.Insight) error {
	entries := b.Entries(batch)
	for len(entries) > 0 {
		n, size := 0, 0
		for n < len(entries) && n < putEventsMaxEntries {
			s := entrySize(&entries[n])
			if s > putEventsMaxBytes {
				// An Insight record is a few KB; this is a bug, and
				// retrying cannot fix it.
				return fmt.Errorf("eventbridge: an Insight entry of %d bytes exceeds PutEvents' %d", s, putEventsMaxBytes)
			}
			if n > 0 && size+s > putEventsMaxBytes {
				break
			}
			size += s
			n++
		}
		if err := b.put(ctx, entries[:n]); err != nil {
			return err
		}
		entries = entries[n:]
	}
	return nil
}

// put sends one request's entries until all are accepted, resending the
// failed ones.
func (b *EventBridge) put(ctx context.Context, entries []types.PutEventsRequestEntry) error {
	pending := entries
	return b.opts.Retry.Do(ctx, b.log, func(ctx context.Context) error {
		t0 := time.Now()
		out, err := b.api.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: pending})
		b.latency.Observe(time.Since(t0).Seconds())
		if err != nil {
			b.failed.Inc()
			return fmt.Errorf("eventbridge PutEvents: %w", err)
		}
		if len(out.Entries) != len(pending) {
			b.failed.Inc()
			return fmt.Errorf("eventbridge PutEvents: %d results for %d entries", len(out.Entries), len(pending))
		}
		var again []types.PutEventsRequestEntry
		var first string
		for i, res := range out.Entries {
			if res.ErrorCode == nil {
				continue
			}
			if first == "" {
				first = aws.ToString(res.ErrorCode) + ": " + aws.ToString(res.ErrorMessage)
			}
			again = append(again, pending[i])
		}
		b.sent.Add(float64(len(pending) - len(again)))
		if len(again) == 0 {
			return nil
		}
		b.failed.Add(float64(len(again)))
		pending = again
		return fmt.Errorf("eventbridge PutEvents: %d of %d entries failed (first: %s)", len(again), len(out.Entries), first)
	})
}
