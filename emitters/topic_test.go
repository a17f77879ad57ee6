package emitters_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"

	"github.com/trailsight/trailsight/cloudtrail"
	"github.com/trailsight/trailsight/detector"
	"github.com/trailsight/trailsight/emitters"
	"github.com/trailsight/trailsight/internal/retry"
)

// flakyWriter fails its first calls, then keeps what it is given.
type flakyWriter struct {
	mu    sync.Mutex
	fails int
	calls int
	got   []kafka.Message
}

func (w *flakyWriter) WriteMessages(_ context.Context, msgs ...kafka.Message) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls++
	if w.calls <= w.fails {
		return kafka.LeaderNotAvailable
	}
	w.got = append(w.got, msgs...)
	return nil
}

// The Insights topic gets one EventBridge envelope per record (spec §7,
// §2.9 #5), keyed by account, with the record's eventID in a header; the
// envelopes are golden files (with a fixed envelope id).
func TestTopicGolden(t *testing.T) {
	w := &flakyWriter{}
	n := 0
	topic := emitters.NewTopic(w, emitters.TopicOptions{NewID: func() string {
		n++
		return fmt.Sprintf("00000000-0000-4000-8000-%012d", n)
	}}, nil)
	batch := goldenBatch()
	if err := topic.Emit(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	if len(w.got) != len(batch) {
		t.Fatalf("%d messages for %d Insights", len(w.got), len(batch))
	}
	var all bytes.Buffer
	for i, m := range w.got {
		r := batch[i].Record()
		if string(m.Key) != r.RecipientAccountID {
			t.Errorf("message %d key %q, want the account %q", i, m.Key, r.RecipientAccountID)
		}
		h := map[string]string{}
		for _, x := range m.Headers {
			h[x.Key] = string(x.Value)
		}
		if h[emitters.EventIDHeader] != r.EventID || h[emitters.ContentTypeHeader] != "application/json" {
			t.Errorf("message %d headers %v", i, h)
		}
		// The envelope is valid JSON whose detail is the record itself.
		var env struct {
			Detail json.RawMessage `json:"detail"`
		}
		if err := json.Unmarshal(m.Value, &env); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if got, err := cloudtrail.DecodeInsightRecord(env.Detail); err != nil || got.EventID != r.EventID {
			t.Errorf("message %d: detail decodes to %v, %v", i, got.EventID, err)
		}
		all.Write(m.Value)
		all.WriteByte('\n')
	}
	checkGolden(t, "topic-envelopes", all.Bytes())
}

// A transient error is retried with backoff until the broker takes the
// batch; with MaxAttempts, Emit gives up and says why.
func TestTopicRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := &flakyWriter{fails: 3}
		reg := prometheus.NewPedanticRegistry()
		topic := emitters.NewTopic(w, emitters.TopicOptions{Registerer: reg}, nil)
		if err := topic.Emit(context.Background(), goldenBatch()); err != nil {
			t.Fatalf("Emit: %v", err)
		}
		if w.calls != 4 || len(w.got) != len(goldenBatch()) {
			t.Fatalf("%d calls, %d messages; want 4 calls and the batch once", w.calls, len(w.got))
		}
		if sent, errs := testutil.ToFloat64(gauge(t, reg, "trailsight_emitter_topic_records_sent_total")),
			testutil.ToFloat64(gauge(t, reg, "trailsight_emitter_topic_errors_total")); sent != float64(len(goldenBatch())) || errs != 3 {
			t.Errorf("metrics: sent %v, errors %v; want %d and 3", sent, errs, len(goldenBatch()))
		}
		w = &flakyWriter{fails: 100}
		topic = emitters.NewTopic(w, emitters.TopicOptions{Retry: retry.Policy{MaxAttempts: 2}}, nil)
		if err := topic.Emit(context.Background(), goldenBatch()); !errors.Is(err, kafka.LeaderNotAvailable) || w.calls != 2 {
			t.Fatalf("Emit: err %v after %d calls; want LeaderNotAvailable after 2", err, w.calls)
		}
	})
}

// Fanout sends a batch to each sink in order, stops at the first error,
// and flushes the sinks that buffer.
func TestFanout(t *testing.T) {
	w := &flakyWriter{}
	root := t.TempDir()
	dir := emitters.NewDir(root, cloudtrail.KeyPrefix{})
	f := emitters.Fanout{emitters.NewTopic(w, emitters.TopicOptions{}, nil), dir}
	ctx := context.Background()
	if err := f.Emit(ctx, goldenBatch()); err != nil {
		t.Fatal(err)
	}
	if len(w.got) != len(goldenBatch()) {
		t.Errorf("topic got %d messages", len(w.got))
	}
	if err := f.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if dir.Records != len(goldenBatch()) {
		t.Errorf("after Flush the files hold %d records, want %d", dir.Records, len(goldenBatch()))
	}
	boom := errors.New("boom")
	var second []detector.Insight
	f = emitters.Fanout{failing{boom}, sinkFunc(func(b []detector.Insight) { second = append(second, b...) })}
	if err := f.Emit(ctx, goldenBatch()); !errors.Is(err, boom) || second != nil {
		t.Errorf("Emit: err %v, second sink got %d; want boom and nothing", err, len(second))
	}
}

type failing struct{ err error }

func (f failing) Emit(context.Context, []detector.Insight) error { return f.err }

type sinkFunc func([]detector.Insight)

func (s sinkFunc) Emit(_ context.Context, b []detector.Insight) error { s(b); return nil }
