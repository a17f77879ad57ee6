// Package retry retries a call with exponential backoff until it succeeds or
// its context ends. Emitters and the consumer's dead-letter writer share it:
// both must not move past a record they failed to deliver.
package retry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Policy says how often and how long to retry.
type Policy struct {
	// MaxAttempts bounds the calls; 0 retries until the context ends.
	MaxAttempts int
	// Backoff is the first wait between calls, doubled up to MaxBackoff;
	// defaults 100 ms and 10 s.
	Backoff, MaxBackoff time.Duration
}

// Do calls fn until it succeeds, ctx ends, or MaxAttempts calls failed. It
// returns nil or fn's last error (joined with ctx's error when ctx ended).
// log, when not nil, gets a warning per failed call.
func (p Policy) Do(ctx context.Context, log *slog.Logger, fn func(context.Context) error) error {
	wait := p.Backoff
	if wait <= 0 {
		wait = 100 * time.Millisecond
	}
	maxWait := p.MaxBackoff
	if maxWait <= 0 {
		maxWait = 10 * time.Second
	}
	maxWait = max(maxWait, wait)
	for attempt := 1; ; attempt++ {
		err := fn(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return errors.Join(err, ctx.Err())
		}
		if p.MaxAttempts > 0 && attempt >= p.MaxAttempts {
			return fmt.Errorf("after %d attempts: %w", attempt, err)
		}
		if log != nil {
			log.Warn("call failed; retrying", "attempt", attempt, "wait", wait, "err", err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(err, ctx.Err())
		case <-t.C:
		}
		wait = min(2*wait, maxWait)
	}
}
