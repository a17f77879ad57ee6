package consumers_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"log/slog"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/trailsight/trailsight/cloudtrail"
	"github.com/trailsight/trailsight/consumers"
	"github.com/trailsight/trailsight/datasets"
	"github.com/trailsight/trailsight/detector"
	"github.com/trailsight/trailsight/emitters"
	"github.com/trailsight/trailsight/internal/insightstest"
	"github.com/trailsight/trailsight/internal/kafkatest"
	"github.com/trailsight/trailsight/internal/retry"
)

func TestMain(m *testing.M) {
	defer func() {
		if groupDataDir != "" {
			os.RemoveAll(groupDataDir)
		}
	}()
	kafkatest.Main(m)
}

// groupData is a generated trail of three accounts and the Insights records
// a replay of it produces: what every Kafka run must reproduce, each record
// exactly once in the Insights files.
type groupData struct {
	files []consumers.File
	// msgs are the messages Publish writes for files, one per log file,
	// made once: decoding the trail for each test costs more, under the
	// race detector, than the test itself.
	msgs []kafka.Message
	want []string // Insights records (JSON), sorted
	err  error
}

var (
	groupDataOnce sync.Once
	groupDataVal  groupData
	groupDataDir  string
)

// groupDetector is the detector configuration of the Kafka tests: the
// trail's two warm-up days suffice.
func groupDetector() detector.Config {
	cfg := detector.DefaultConfig()
	cfg.WarmUp = 24 * time.Hour
	return cfg
}

func loadGroupData(t testing.TB) *groupData {
	t.Helper()
	groupDataOnce.Do(func() {
		d := &groupDataVal
		cfg, err := insightstest.ThreeAccounts()
		if err != nil {
			d.err = err
			return
		}
		dir, err := os.MkdirTemp("", "trailsight-group-")
		if err != nil {
			d.err = err
			return
		}
		groupDataDir = dir
		if _, err := datasets.Generate(cfg, dir); err != nil {
			d.err = err
			return
		}
		if d.files, err = consumers.ListFiles([]string{dir}); err != nil {
			d.err = err
			return
		}
		var cw captureWriter
		if _, err := consumers.Publish(context.Background(), &cw, d.files, consumers.PublishOptions{}); err != nil {
			d.err = err
			return
		}
		d.msgs = cw.msgs
		sink := &collect{}
		e, err := detector.New(groupDetector(), sink, nil)
		if err != nil {
			d.err = err
			return
		}
		if _, err := consumers.Replay(context.Background(), d.files, e, consumers.ReplayOptions{Workers: 2}); err != nil {
			d.err = err
			return
		}
		for i := range sink.got {
			r := sink.got[i].Record()
			d.want = append(d.want, string(r.AppendJSON(nil)))
		}
		sort.Strings(d.want)
	})
	if groupDataVal.err != nil {
		t.Fatalf("group test data: %v", groupDataVal.err)
	}
	if len(groupDataVal.want) < 6 {
		t.Fatalf("the replay produced %d Insights records; the test needs several to mean anything", len(groupDataVal.want))
	}
	return &groupDataVal
}

// rig is one Kafka scenario: its topics, the trail to publish, and the
// consumers that run.
type rig struct {
	t       *testing.T
	c       kafkatest.Cluster
	parts   int
	src     string
	state   string
	dlq     string
	insight string
	outDir  string
	data    *groupData
	w       *kafka.Writer

	// now and idle, when set, are the members' wall clock and idle
	// advance.
	now  func() time.Time
	idle time.Duration

	mu        sync.Mutex
	consumers map[string]*member
	published map[int]int64 // partition -> messages published (next offset)
}

type member struct {
	name   string
	reg    *prometheus.Registry
	cancel context.CancelFunc
	done   chan error
}

func newRig(t *testing.T, c kafkatest.Cluster, parts int) *rig {
	r := &rig{t: t, c: c, parts: parts, data: loadGroupData(t), outDir: t.TempDir(),
		consumers: map[string]*member{}, published: map[int]int64{}}
	base := kafkatest.Topic(t)
	r.src, r.state, r.dlq, r.insight = base+"-src", base+"-state", base+"-dlq", base+"-insights"
	c.CreateTopic(t, r.src, parts, false)
	c.CreateTopic(t, r.state, parts, true)
	c.CreateTopic(t, r.dlq, 1, false)
	c.CreateTopic(t, r.insight, parts, false)
	r.w = &kafka.Writer{Transport: &kafka.Transport{}, Addr: kafka.TCP(c.Brokers()...), Topic: r.src, Balancer: &kafka.Murmur2Balancer{Consistent: true},
		RequiredAcks: kafka.RequireAll, BatchTimeout: 2 * time.Millisecond, BatchBytes: 1 << 20}
	t.Cleanup(func() { r.w.Close() })
	return r
}

// publish writes messages of the trail (r.data.msgs) to the source topic.
func (r *rig) publish(msgs []kafka.Message) {
	r.t.Helper()
	r.write(msgs...)
}

// write publishes raw messages (malformed ones, duplicates).
func (r *rig) write(msgs ...kafka.Message) {
	r.t.Helper()
	// Retried: right after a broker restart, leaders take a moment.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := (retry.Policy{Backoff: 200 * time.Millisecond}).Do(ctx, nil, func(ctx context.Context) error {
		return r.w.WriteMessages(ctx, msgs...)
	}); err != nil {
		r.t.Fatalf("WriteMessages: %v", err)
	}
	r.refreshEnds()
}

func (r *rig) refreshEnds() {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for p := range r.parts {
		var last int64
		err := (retry.Policy{Backoff: 200 * time.Millisecond}).Do(ctx, nil, func(ctx context.Context) error {
			conn, err := kafka.DialLeader(ctx, "tcp", r.c.Brokers()[0], r.src, p)
			if err != nil {
				return err
			}
			defer conn.Close()
			last, err = conn.ReadLastOffset()
			return err
		})
		if err != nil {
			r.t.Fatalf("end offset of partition %d: %v", p, err)
		}
		r.mu.Lock()
		r.published[p] = last
		r.mu.Unlock()
	}
}

func (r *rig) groupConfig() consumers.GroupConfig {
	cfg := consumers.DefaultGroupConfig()
	cfg.Brokers = r.c.Brokers()
	cfg.GroupID = r.src + "-group"
	cfg.Topics = []string{r.src}
	cfg.StateTopic = r.state
	cfg.DeadLetterTopic = r.dlq
	cfg.CheckpointInterval = 200 * time.Millisecond
	// Idle advance moves the clock by wall time, which a test that
	// compares with a replay must not do.
	cfg.IdleAdvance = r.idle
	cfg.SessionTimeout = 6 * time.Second
	cfg.HeartbeatInterval = time.Second
	cfg.RebalanceTimeout = 15 * time.Second
	return cfg
}

// start runs a new member of the group in the background.
func (r *rig) start(name string) {
	r.t.Helper()
	reg := prometheus.NewPedanticRegistry()
	cfg := r.groupConfig()
	store := consumers.NewKafkaStore(cfg.Brokers, r.state, r.parts, cfg.GroupID, nil)
	insights := &kafka.Writer{Transport: &kafka.Transport{}, Addr: kafka.TCP(cfg.Brokers...), Topic: r.insight, Balancer: &kafka.Murmur2Balancer{},
		RequiredAcks: kafka.RequireAll, BatchTimeout: 2 * time.Millisecond}
	dlq := &kafka.Writer{Transport: &kafka.Transport{}, Addr: kafka.TCP(cfg.Brokers...), Topic: r.dlq, RequiredAcks: kafka.RequireAll, BatchTimeout: 2 * time.Millisecond}
	topic := emitters.NewTopic(insights, emitters.TopicOptions{}, nil)
	g, err := consumers.NewGroup(cfg, groupDetector(), consumers.GroupDeps{
		Store:       store,
		DeadLetters: dlq,
		NewOutput: func(string, int) (consumers.Output, error) {
			return emitters.Fanout{topic, emitters.NewDir(r.outDir, cloudtrail.KeyPrefix{})}, nil
		},
		Now: r.now,
	}, reg, testLogger(r.t, name))
	if err != nil {
		r.t.Fatalf("NewGroup: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &member{name: name, reg: reg, cancel: cancel, done: make(chan error, 1)}
	go func() {
		err := g.Run(ctx)
		store.Close()
		insights.Close()
		dlq.Close()
		m.done <- err
	}()
	r.mu.Lock()
	r.consumers[name] = m
	r.mu.Unlock()
	r.t.Cleanup(func() { r.stop(name) })
}

// stop ends a member gracefully: its partitions checkpoint and it leaves.
func (r *rig) stop(name string) {
	r.t.Helper()
	r.mu.Lock()
	m := r.consumers[name]
	delete(r.consumers, name)
	r.mu.Unlock()
	if m == nil {
		return
	}
	m.cancel()
	select {
	case err := <-m.done:
		if err != nil {
			r.t.Errorf("member %s: Run: %v", name, err)
		}
	case <-time.After(60 * time.Second):
		r.t.Fatalf("member %s did not stop within 60 s", name)
	}
}

// gauges sums a gauge by its partition label over the running members.
func (r *rig) gauges(name string) map[int]float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[int]float64{}
	for _, m := range r.consumers {
		mfs, err := m.reg.Gather()
		if err != nil {
			r.t.Fatalf("Gather: %v", err)
		}
		for _, mf := range mfs {
			if mf.GetName() != name {
				continue
			}
			for _, mt := range mf.GetMetric() {
				for _, l := range mt.GetLabel() {
					if l.GetName() == "partition" {
						p, _ := strconv.Atoi(l.GetValue())
						out[p] = max(out[p], mt.GetGauge().GetValue())
					}
				}
			}
		}
	}
	return out
}

// counter sums a counter over the running members.
func (r *rig) counter(name string) float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	sum := 0.0
	for _, m := range r.consumers {
		mfs, _ := m.reg.Gather()
		for _, mf := range mfs {
			if mf.GetName() == name {
				for _, mt := range mf.GetMetric() {
					sum += mt.GetCounter().GetValue()
				}
			}
		}
	}
	return sum
}

// waitConsumed waits until the running members have consumed every
// message published.
func (r *rig) waitConsumed() {
	r.t.Helper()
	start := time.Now()
	deadline := start.Add(120 * time.Second)
	defer func() { r.t.Logf("consumed in %s", time.Since(start).Round(time.Millisecond)) }()
	for {
		next := r.gauges("trailsight_consumer_next_offset")
		r.mu.Lock()
		done := true
		for p, n := range r.published {
			if int64(next[p]) < n {
				done = false
			}
		}
		r.mu.Unlock()
		if done {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("not consumed within 120 s: next offsets %v, published %v", next, r.published)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkInsights asserts the Insights files hold exactly the replay's
// records, each once, and the Insights topic all of them (duplicates
// allowed there).
func (r *rig) checkInsights() {
	r.t.Helper()
	want := r.data.want
	insightstest.CheckOnce(r.t, r.c.Name(), want, insightstest.FileRecords(r.t, r.outDir))
	// The topic: every expected record's eventID arrives at least once.
	ids := r.topicEventIDs(len(want))
	for _, w := range want {
		rec, err := cloudtrail.DecodeInsightRecord([]byte(w))
		if err != nil {
			r.t.Fatal(err)
		}
		if ids[rec.EventID] == 0 {
			r.t.Errorf("Insights topic lacks record %s", rec.EventID)
		}
	}
}

// topicEventIDs reads the Insights topic to its end and counts the
// records by the event-ID header.
func (r *rig) topicEventIDs(atLeast int) map[string]int {
	r.t.Helper()
	ids := map[string]int{}
	for p := range r.parts {
		conn, err := kafka.DialLeader(context.Background(), "tcp", r.c.Brokers()[0], r.insight, p)
		if err != nil {
			r.t.Fatal(err)
		}
		last, err := conn.ReadLastOffset()
		conn.Close()
		if err != nil {
			r.t.Fatal(err)
		}
		if last == 0 {
			continue
		}
		rd := kafka.NewReader(kafka.ReaderConfig{Brokers: r.c.Brokers(), Topic: r.insight, Partition: p, MaxWait: time.Second})
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		for {
			m, err := rd.ReadMessage(ctx)
			if err != nil {
				r.t.Fatalf("read %s/%d: %v", r.insight, p, err)
			}
			for _, h := range m.Headers {
				if h.Key == emitters.EventIDHeader {
					ids[string(h.Value)]++
				}
			}
			if m.Offset >= last-1 {
				break
			}
		}
		cancel()
		rd.Close()
	}
	n := 0
	for _, c := range ids {
		n += c
	}
	if n < atLeast {
		r.t.Errorf("Insights topic holds %d records, want at least %d", n, atLeast)
	}
	return ids
}

func TestGroupMatchesReplay(t *testing.T) {
	kafkatest.Each(t, func(t *testing.T, c kafkatest.Cluster) {
		r := newRig(t, c, 4)
		r.start("a")
		r.publish(r.data.msgs)
		r.waitConsumed()
		r.stop("a")
		r.checkInsights()
		if n := r.counter("trailsight_consumer_dead_letters_total"); n != 0 {
			t.Errorf("%v dead letters from a clean trail", n)
		}
	})
}

// TestGroupRebalance runs two, then three consumers on a live stream, with
// members joining and leaving while it flows: every hand-off goes through a
// checkpoint, and the Insights must be the replay's, each once.
func TestGroupRebalance(t *testing.T) {
	kafkatest.Each(t, func(t *testing.T, c kafkatest.Cluster) {
		r := newRig(t, c, 6)
		msgs := r.data.msgs
		n := len(msgs)
		r.start("a")
		r.publish(msgs[:n/4])
		r.start("b")
		r.publish(msgs[n/4 : n/2])
		r.start("c")
		r.publish(msgs[n/2 : 3*n/4])
		r.stop("a")
		r.publish(msgs[3*n/4:])
		r.start("d")
		r.waitConsumed()
		for _, m := range []string{"b", "c", "d"} {
			r.stop(m)
		}
		r.checkInsights()
	})
}

// TestGroupDuplicatesAndDeadLetters publishes some files twice (a producer
// retry) and malformed messages among them: the duplicates change nothing,
// every malformed message lands on the dead-letter topic with its reason
// and origin, and the partition never stalls.
func TestGroupDuplicatesAndDeadLetters(t *testing.T) {
	kafkatest.Each(t, func(t *testing.T, c kafkatest.Cluster) {
		r := newRig(t, c, 3)
		r.start("a")
		bad := []struct {
			value, reason string
		}{
			{`not json at all`, "bad_json"},
			{`{"eventVersion":"1.08","eventSource":"ec2.amazonaws.com"`, "truncated"},
			{`{"eventVersion":"1.08","eventName":"RunInstances","awsRegion":"us-east-1"}`, "missing_event_time"},
		}
		// The trail with each fiftieth message sent twice (a producer
		// retry) and a malformed one every 400.
		trail := r.data.msgs
		var msgs []kafka.Message
		for i, m := range trail {
			msgs = append(msgs, m)
			if i%50 == 7 {
				msgs = append(msgs, m)
			}
			if i%400 == 100 {
				b := bad[(i/400)%len(bad)]
				msgs = append(msgs, kafka.Message{Key: []byte("111122223333"), Value: []byte(b.value)})
			}
		}
		r.write(msgs...)
		r.waitConsumed()
		r.stop("a")
		r.checkInsights()
		// The dead letters carry the reason and where they came from.
		dl := readTopic(t, c, r.dlq, 0)
		if len(dl) == 0 {
			t.Fatal("no dead letters")
		}
		for _, m := range dl {
			h := map[string]string{}
			for _, x := range m.Headers {
				h[x.Key] = string(x.Value)
			}
			if h[consumers.HeaderDLQTopic] != r.src || h[consumers.HeaderDLQOffset] == "" || h[consumers.HeaderDLQReason] == "" {
				t.Errorf("dead letter headers %v", h)
			}
			found := false
			for _, b := range bad {
				if string(m.Value) == b.value {
					found = true
					if h[consumers.HeaderDLQReason] != b.reason {
						t.Errorf("dead letter %q: reason %q, want %q", b.value, h[consumers.HeaderDLQReason], b.reason)
					}
				}
			}
			if !found {
				t.Errorf("unexpected dead letter %.100q", m.Value)
			}
		}
		if want := (len(trail)-101)/400 + 1; len(dl) != want {
			t.Errorf("%d dead letters, want %d", len(dl), want)
		}
	})
}

// readTopic reads a partition of a topic from its start to its end.
func readTopic(t *testing.T, c kafkatest.Cluster, topic string, partition int) []kafka.Message {
	t.Helper()
	conn, err := kafka.DialLeader(context.Background(), "tcp", c.Brokers()[0], topic, partition)
	if err != nil {
		t.Fatal(err)
	}
	last, err := conn.ReadLastOffset()
	conn.Close()
	if err != nil || last == 0 {
		return nil
	}
	rd := kafka.NewReader(kafka.ReaderConfig{Brokers: c.Brokers(), Topic: topic, Partition: partition, MaxWait: time.Second})
	defer rd.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []kafka.Message
	for {
		m, err := rd.ReadMessage(ctx)
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("read %s: only %d of %d messages", topic, len(out), last)
			}
			t.Fatal(err)
		}
		out = append(out, m)
		if m.Offset >= last-1 {
			return out
		}
	}
}

// testLogger logs to the test's output when -v is given.
func testLogger(t *testing.T, name string) *slog.Logger {
	if !testing.Verbose() {
		return nil
	}
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})).With("member", name)
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(b), "\n"))
	return len(b), nil
}

// TestGroupBrokerRestart restarts the broker under a running consumer,
// between two halves of the stream: the consumer rides it out and the
// Insights are still the replay's, each once.
func TestGroupBrokerRestart(t *testing.T) {
	kafkatest.Each(t, func(t *testing.T, c kafkatest.Cluster) {
		r := newRig(t, c, 4)
		msgs := r.data.msgs
		r.start("a")
		r.publish(msgs[:len(msgs)/2])
		r.waitConsumed()
		c.Restart(t)
		r.publish(msgs[len(msgs)/2:])
		r.waitConsumed()
		r.stop("a")
		r.checkInsights()
	})
}

// captureWriter keeps the messages written to it.
type captureWriter struct{ msgs []kafka.Message }

func (w *captureWriter) WriteMessages(_ context.Context, msgs ...kafka.Message) error {
	w.msgs = append(w.msgs, msgs...)
	return nil
}

// TestGroupIdleAdvance lets a partition fall idle and an hour of wall time
// pass: its clock moves on without a message, minutes close, and the
// checkpoint that follows holds the advanced watermark.
func TestGroupIdleAdvance(t *testing.T) {
	kafkatest.Each(t, func(t *testing.T, c kafkatest.Cluster) {
		r := newRig(t, c, 1)
		var skew atomic.Int64 // added to the members' wall clock
		r.now = func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
		r.idle = 200 * time.Millisecond
		r.start("a")
		msgs := r.data.msgs[:300]
		var newest time.Time
		for _, m := range msgs {
			for _, h := range m.Headers {
				if h.Key == consumers.HeaderDeliveryTime {
					d, err := time.Parse(time.RFC3339, string(h.Value))
					if err != nil {
						t.Fatal(err)
					}
					if d.After(newest) {
						newest = d
					}
				}
			}
		}
		r.publish(msgs)
		r.waitConsumed()
		before := r.counter("trailsight_consumer_checkpoints_total")
		skew.Store(int64(time.Hour))
		deadline := time.Now().Add(30 * time.Second)
		for r.counter("trailsight_consumer_checkpoints_total") <= before {
			if time.Now().After(deadline) {
				t.Fatal("no checkpoint within 30 s of an idle hour")
			}
			time.Sleep(50 * time.Millisecond)
		}
		r.stop("a")
		store := consumers.NewKafkaStore(c.Brokers(), r.state, 1, r.groupConfig().GroupID, nil)
		defer store.Close()
		cp, ok, err := store.Load(context.Background(), r.src, 0)
		if err != nil || !ok {
			t.Fatalf("Load: ok %v, err %v", ok, err)
		}
		zr, err := gzip.NewReader(bytes.NewReader(cp.State))
		if err != nil {
			t.Fatal(err)
		}
		e, err := detector.Restore(groupDetector(), nil, nil, zr)
		if err != nil {
			t.Fatal(err)
		}
		// The clock reached newest + ~1 h; the watermark trails it by the
		// allowed lateness (15 min).
		want := newest.Add(time.Hour - groupDetector().AllowedLateness - 2*time.Minute)
		if w := e.Watermark(); w.Before(want) {
			t.Errorf("watermark %s after an idle hour; want at least %s (newest message %s)", w, want, newest)
		}
		if cp.Offset != int64(len(msgs)) {
			t.Errorf("checkpoint offset %d, want %d: idle advance consumes nothing", cp.Offset, len(msgs))
		}
	})
}
