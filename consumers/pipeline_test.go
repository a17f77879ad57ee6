package consumers

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/trailsight/trailsight/cloudtrail"
	"github.com/trailsight/trailsight/detector"
)

// rawTap is a Tap that keeps a copy of every record's Raw text, by event ID.
type rawTap struct {
	mu  sync.Mutex
	raw map[string]string
}

func (*rawTap) Emit(context.Context, []detector.Insight) error { return nil }
func (*rawTap) Flush(context.Context) error                    { return nil }
func (*rawTap) Advance(context.Context, time.Time) error       { return nil }
func (*rawTap) AppendState(dst []byte) ([]byte, error)         { return dst, nil }
func (*rawTap) RestoreState([]byte) error                      { return nil }
func (t *rawTap) Observe(ev *cloudtrail.Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.raw[ev.EventID] = string(ev.Raw)
}

func pipelineGroup(t *testing.T, out Output) *Group {
	t.Helper()
	g, _ := pipelineGroupReg(t, out)
	return g
}

func pipelineGroupReg(t *testing.T, out Output) (*Group, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	cfg := DefaultGroupConfig()
	cfg.Brokers, cfg.GroupID, cfg.Topics, cfg.DeadLetterTopic = []string{"127.0.0.1:9"}, "pipeline", []string{"t"}, ""
	g, err := NewGroup(cfg, detector.DefaultConfig(), GroupDeps{
		Store:     NewMemStore(),
		NewOutput: func(string, int) (Output, error) { return out, nil },
	}, reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return g, reg
}

func pipelineRecord(id string, at time.Time) string {
	return fmt.Sprintf(`{"eventVersion":"1.09","eventTime":%q,"eventSource":"ec2.amazonaws.com","eventName":"RunInstances",`+
		`"awsRegion":"us-east-1","recipientAccountId":"111122223333","eventID":%q,"eventType":"AwsApiCall",`+
		`"readOnly":false,"managementEvent":true,"eventCategory":"Management"}`, at.UTC().Format(time.RFC3339), id)
}

// A whole log file per message, gzipped, is inflated into its decoder's
// buffer, which the records' Raw fields point into: the fetcher decoding
// the next message must not change the records the worker has yet to
// observe. Every message here is at hand (lag > 0), so without the rule
// that a batch ends after an inflated body, the batch would hold all of
// them and every Raw the last file's bytes.
func TestPipelineRawOutlivesTheNextDecode(t *testing.T) {
	tap := &rawTap{raw: map[string]string{}}
	g := pipelineGroup(t, tap)
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	var msgs []kafka.Message
	want := map[string]string{}
	for i := range 10 {
		var recs []string
		for j := range 3 {
			id := fmt.Sprintf("%02d-%d", i, j)
			rec := pipelineRecord(id, t0.Add(time.Duration(i)*time.Minute))
			want[id] = rec
			recs = append(recs, rec)
		}
		var zb bytes.Buffer
		zw := gzip.NewWriter(&zb)
		fmt.Fprintf(zw, `{"Records":[%s]}`, strings.Join(recs, ","))
		zw.Close()
		msgs = append(msgs, kafka.Message{Offset: int64(i), Key: []byte("111122223333"), Value: zb.Bytes(),
			Time: t0.Add(time.Duration(i)*time.Minute + 5*time.Minute)})
	}
	if err := HandleAll(context.Background(), g, "t", msgs); err != nil {
		t.Fatal(err)
	}
	if len(tap.raw) != len(want) {
		t.Errorf("tap saw %d records, want %d", len(tap.raw), len(want))
	}
	for id, w := range want {
		if got := tap.raw[id]; got != w {
			t.Errorf("record %s: Raw = %.80q..., want %.80q...", id, got, w)
		}
	}
	c, ok, err := g.deps.Store.Load(context.Background(), "t", 0)
	if err != nil || !ok || c.Offset != int64(len(msgs)) {
		t.Errorf("checkpoint at offset %d (found %v, %v), want %d", c.Offset, ok, err, len(msgs))
	}
}

// stalled is a source that gives its messages, then reports a lag but has
// nothing more: offsets that hold no message (transaction markers, records
// compacted away) look like that to a reader.
type stalled struct {
	msgs []kafka.Message
	next int
	err  error // returned once the messages are out, when set
}

func (s *stalled) FetchMessage(ctx context.Context) (kafka.Message, error) {
	if s.next < len(s.msgs) {
		s.next++
		return s.msgs[s.next-1], nil
	}
	if s.err != nil {
		return kafka.Message{}, s.err
	}
	<-ctx.Done()
	return kafka.Message{}, ctx.Err()
}

func (s *stalled) Lag() int64 { return 5 }

func stalledPartition(t *testing.T, src *stalled) *partition {
	t.Helper()
	g := pipelineGroup(t, discardOutput{})
	p := &partition{g: g, topic: "t", partLbl: "0", log: g.log}
	if err := p.restore(context.Background(), kafka.FirstOffset); err != nil {
		t.Fatal(err)
	}
	p.offsetLag = g.m.offsetLag.WithLabelValues("t", p.partLbl)
	p.okMessages = g.m.messages.WithLabelValues(msgOK)
	return p
}

type discardOutput struct{}

func (discardOutput) Emit(context.Context, []detector.Insight) error { return nil }
func (discardOutput) Flush(context.Context) error                    { return nil }

func stalledMessages(n int) []kafka.Message {
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	var msgs []kafka.Message
	for i := range n {
		msgs = append(msgs, kafka.Message{Offset: int64(i), Key: []byte("111122223333"),
			Value: []byte(pipelineRecord(fmt.Sprint(i), t0)), Time: t0.Add(time.Minute)})
	}
	return msgs
}

// Messages fetched while the reader reports a lag must reach the Engine
// even when no message follows them: the fetcher hands a batch over after
// maxBatchWait at the latest.
func TestPipelineHandsOverWithoutTheNextMessage(t *testing.T) {
	src := &stalled{msgs: stalledMessages(3)}
	p := stalledPartition(t, src)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.consume(ctx, src) }()
	handled := func() int64 {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.next
	}
	for deadline := time.Now().Add(10 * time.Second); handled() != 3 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if n := handled(); n != 3 {
		t.Errorf("next offset %d while the source stalls, want 3: fetched messages wait for one that does not come", n)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("consume after cancel: %v", err)
	}
}

// A failed fetch stops the partition with the error, after the messages
// fetched before it are handled.
func TestPipelineFetchErrorAfterGoodMessages(t *testing.T) {
	broken := errors.New("connection reset")
	src := &stalled{msgs: stalledMessages(3), err: broken}
	p := stalledPartition(t, src)
	if err := p.consume(context.Background(), src); !errors.Is(err, broken) {
		t.Errorf("consume = %v, want %v", err, broken)
	}
	if p.next != 3 {
		t.Errorf("next offset %d after the failed fetch, want 3", p.next)
	}
	var n int64
	for _, c := range p.e.Stats().Events {
		n += c
	}
	if n != 3 {
		t.Errorf("Engine saw %d events, want 3", n)
	}
}

// Each stage's busy time is counted, and never more than the time that
// passed: it is what an operator reads to tell which stage bounds a
// partition.
func TestPipelineBusySeconds(t *testing.T) {
	g, reg := pipelineGroupReg(t, discardOutput{})
	t0 := time.Now()
	if err := HandleAll(context.Background(), g, "t", stalledMessages(2000)); err != nil {
		t.Fatal(err)
	}
	wall := time.Since(t0).Seconds()
	busy := map[string]float64{}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "trailsight_consumer_busy_seconds_total" {
			for _, m := range mf.GetMetric() {
				busy[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
			}
		}
	}
	for _, stage := range []string{"decode", "detect"} {
		if b, ok := busy[stage]; !ok || b <= 0 || b > wall {
			t.Errorf("busy_seconds_total{stage=%q} = %v (present %v), want in (0, %.3f]", stage, b, ok, wall)
		}
	}
}
