package emitters

import (
	"context"

	"github.com/trailsight/trailsight/detector"
)

// Fanout sends every batch to each of its sinks in order and stops at the
// first error: the caller retries the whole batch, which every sink takes
// idempotently.
type Fanout []detector.Sink

var _ detector.Sink = Fanout(nil)

// Emit implements detector.Sink.
func (f Fanout) Emit(ctx context.Context, batch []detector.Insight) error {
	for _, s := range f {
		if err := s.Emit(ctx, batch); err != nil {
			return err
		}
	}
	return nil
}

// Flush flushes the sinks that buffer (those with a Flush method), so that
// everything emitted so far is durable when it returns nil.
func (f Fanout) Flush(ctx context.Context) error {
	for _, s := range f {
		if fl, ok := s.(interface{ Flush(context.Context) error }); ok {
			if err := fl.Flush(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// Holding passes the Insights a new owner holds open to the sinks that
// track them (see InsightGauges).
func (f Fanout) Holding(ins []detector.Insight) {
	for _, s := range f {
		if h, ok := s.(interface{ Holding([]detector.Insight) }); ok {
			h.Holding(ins)
		}
	}
}

// Released passes the Insights an owner lets go to the sinks that track
// them.
func (f Fanout) Released(ins []detector.Insight) {
	for _, s := range f {
		if r, ok := s.(interface{ Released([]detector.Insight) }); ok {
			r.Released(ins)
		}
	}
}
