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
