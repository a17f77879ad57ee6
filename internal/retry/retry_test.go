package retry_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/trailsight/trailsight/internal/retry"
)

func TestDo(t *testing.T) {
	boom := errors.New("boom")
	t.Run("succeeds after failures with doubling waits", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var at []time.Duration
			start := time.Now()
			p := retry.Policy{Backoff: time.Second, MaxBackoff: 3 * time.Second}
			err := p.Do(context.Background(), nil, func(context.Context) error {
				at = append(at, time.Since(start))
				if len(at) < 5 {
					return boom
				}
				return nil
			})
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
			want := []time.Duration{0, 1 * time.Second, 3 * time.Second, 6 * time.Second, 9 * time.Second}
			if len(at) != len(want) {
				t.Fatalf("calls at %v, want %v", at, want)
			}
			for i := range want {
				if at[i] != want[i] {
					t.Fatalf("calls at %v, want %v", at, want)
				}
			}
		})
	})
	t.Run("gives up after MaxAttempts", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			n := 0
			err := retry.Policy{MaxAttempts: 3}.Do(context.Background(), nil, func(context.Context) error { n++; return boom })
			if !errors.Is(err, boom) || n != 3 {
				t.Fatalf("err %v after %d calls, want boom after 3", err, n)
			}
		})
	})
	t.Run("stops when the context ends", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			n := 0
			err := retry.Policy{Backoff: time.Second}.Do(ctx, nil, func(context.Context) error { n++; return boom })
			if !errors.Is(err, boom) || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err %v, want boom and deadline", err)
			}
			if n < 4 || n > 6 {
				t.Fatalf("%d calls in 10 s with 1 s doubling waits", n)
			}
		})
	})
}
