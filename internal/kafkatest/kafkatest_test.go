package kafkatest_test

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/segmentio/kafka-go"

	"github.com/trailsight/trailsight/internal/kafkatest"
)

func TestMain(m *testing.M) { kafkatest.Main(m) }

const partitions = 3

// TestRoundTrip produces with kafka-go and reads back with kafka-go (partition readers and a
// consumer group) and with kcat; then produces with kcat and reads with kafka-go, checking that
// kafka-go's CRC32Balancer puts every key on the partition librdkafka's default partitioner does.
func TestRoundTrip(t *testing.T) {
	kafkatest.Each(t, func(t *testing.T, c kafkatest.Cluster) {
		t.Logf("cluster %s at %v", c.Name(), c.Brokers())
		topic := kafkatest.Topic(t)
		c.CreateTopic(t, topic, partitions, false)
		want := records("acct", 30)
		produce(t, c.Brokers(), topic, want)

		if got := lines(readAll(t, c.Brokers(), topic)); !slices.Equal(got, lines(want)) {
			t.Errorf("partition readers:\n%s", cmp.Diff(lines(want), got))
		}
		group := consumeGroup(t, c.Brokers(), topic, topic+"-group", len(want))
		if got := lines(group); !slices.Equal(got, lines(want)) {
			t.Errorf("consumer group:\n%s", cmp.Diff(lines(want), got))
		}
		if got := kcatConsume(t, c.Brokers(), topic); !slices.Equal(got, lines(want)) {
			t.Errorf("kcat -C:\n%s", cmp.Diff(lines(want), got))
		}

		// The same keys produced by kcat must land on the same partitions.
		topic2 := kafkatest.Topic(t)
		c.CreateTopic(t, topic2, partitions, false)
		kcatProduce(t, c.Brokers(), topic2, want)
		byKafkaGo := partitionOf(readAll(t, c.Brokers(), topic))
		got := readAll(t, c.Brokers(), topic2)
		if diff := cmp.Diff(lines(want), lines(got)); diff != "" {
			t.Errorf("produced by kcat, read by kafka-go:\n%s", diff)
		}
		if diff := cmp.Diff(byKafkaGo, partitionOf(got)); diff != "" {
			t.Errorf("partition per key, kafka-go CRC32Balancer vs kcat (-want +got):\n%s", diff)
		}
	})
}

// TestRestart shows that records acknowledged by all replicas and a group's committed offsets
// survive a broker restart.
func TestRestart(t *testing.T) {
	kafkatest.Each(t, func(t *testing.T, c kafkatest.Cluster) {
		topic := kafkatest.Topic(t)
		c.CreateTopic(t, topic, partitions, false)
		want := records("before", 20)
		produce(t, c.Brokers(), topic, want)
		group := topic + "-group"
		first := consumeGroup(t, c.Brokers(), topic, group, 8) // commits 8

		c.Restart(t)

		if got := lines(readAll(t, c.Brokers(), topic)); !slices.Equal(got, lines(want)) {
			t.Errorf("records after the restart:\n%s", cmp.Diff(lines(want), got))
		}
		rest := consumeGroup(t, c.Brokers(), topic, group, len(want)-len(first))
		if got := lines(append(first, rest...)); !slices.Equal(got, lines(want)) {
			t.Errorf("the group resumed from other offsets than it committed:\n%s", cmp.Diff(lines(want), got))
		}

		// The restarted cluster takes writes.
		more := records("after", 5)
		produce(t, c.Brokers(), topic, more)
		if got, want := len(readAll(t, c.Brokers(), topic)), len(want)+len(more); got != want {
			t.Errorf("after writing again: %d records, want %d", got, want)
		}
	})
}

func TestCompactedTopic(t *testing.T) {
	kafkatest.Each(t, func(t *testing.T, c kafkatest.Cluster) {
		topic := kafkatest.Topic(t)
		c.CreateTopic(t, topic, 1, true)
		plain := kafkatest.Topic(t)
		c.CreateTopic(t, plain, 1, false)
		if got := cleanupPolicy(t, c.Brokers(), topic); got != "compact" {
			t.Errorf("cleanup.policy of a compacted topic = %q, want compact", got)
		}
		if got := cleanupPolicy(t, c.Brokers(), plain); got != "delete" {
			t.Errorf("cleanup.policy of a plain topic = %q, want delete", got)
		}
	})
}

func TestTopic(t *testing.T) {
	a, b := kafkatest.Topic(t), kafkatest.Topic(t)
	if a == b || !strings.HasPrefix(a, "TestTopic-") {
		t.Errorf("Topic gave %q and %q", a, b)
	}
	t.Run("sub/test name", func(t *testing.T) {
		if got := kafkatest.Topic(t); !strings.HasPrefix(got, "TestTopic.sub.test_name-") {
			t.Errorf("Topic = %q", got)
		}
	})
}

func records(prefix string, n int) []kafka.Message {
	msgs := make([]kafka.Message, n)
	for i := range msgs {
		msgs[i] = kafka.Message{
			Key:   fmt.Appendf(nil, "%s-%d", prefix, i),
			Value: fmt.Appendf(nil, "value-%d", i),
		}
	}
	return msgs
}

// lines renders messages as kcat's '%k %s' format, sorted.
func lines(msgs []kafka.Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = string(m.Key) + " " + string(m.Value)
	}
	slices.Sort(out)
	return out
}

func partitionOf(msgs []kafka.Message) map[string]int {
	p := make(map[string]int, len(msgs))
	for _, m := range msgs {
		p[string(m.Key)] = m.Partition
	}
	return p
}

func produce(t *testing.T, brokers []string, topic string, msgs []kafka.Message) {
	t.Helper()
	transport := &kafka.Transport{}
	defer transport.CloseIdleConnections()
	w := &kafka.Writer{
		Addr:         kafka.TCP(brokers...),
		Topic:        topic,
		Balancer:     &kafka.CRC32Balancer{},
		BatchTimeout: 5 * time.Millisecond,
		RequiredAcks: kafka.RequireAll,
		Transport:    transport,
	}
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatalf("produce %d records to %s: %v", len(msgs), topic, err)
	}
}

// readAll reads every partition of topic from its first to its last offset.
func readAll(t *testing.T, brokers []string, topic string) []kafka.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	transport := &kafka.Transport{}
	defer transport.CloseIdleConnections()
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Transport: transport}
	reqs := make([]kafka.OffsetRequest, partitions)
	for p := range reqs {
		reqs[p] = kafka.LastOffsetOf(p)
	}
	offs, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: reqs}})
	if err != nil {
		t.Fatalf("list offsets of %s: %v", topic, err)
	}
	var msgs []kafka.Message
	for _, po := range offs.Topics[topic] {
		if po.Error != nil {
			t.Fatalf("list offsets of %s/%d: %v", topic, po.Partition, po.Error)
		}
		if po.LastOffset == 0 {
			continue
		}
		r := kafka.NewReader(kafka.ReaderConfig{
			Brokers:   brokers,
			Topic:     topic,
			Partition: po.Partition,
			MaxWait:   100 * time.Millisecond,
		})
		for {
			m, err := r.ReadMessage(ctx)
			if err != nil {
				r.Close()
				t.Fatalf("read %s/%d up to offset %d: %v", topic, po.Partition, po.LastOffset, err)
			}
			msgs = append(msgs, m)
			if m.Offset >= po.LastOffset-1 {
				break
			}
		}
		r.Close()
	}
	return msgs
}

// consumeGroup reads n records as a member of group, committing each one before the next.
func consumeGroup(t *testing.T, brokers []string, topic, group string, n int) []kafka.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:           brokers,
		GroupID:           group,
		Topic:             topic,
		StartOffset:       kafka.FirstOffset,
		MaxWait:           100 * time.Millisecond,
		HeartbeatInterval: time.Second,
		SessionTimeout:    6 * time.Second,
	})
	defer r.Close()
	msgs := make([]kafka.Message, 0, n)
	for len(msgs) < n {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			t.Fatalf("group %s: fetch record %d of %d: %v", group, len(msgs)+1, n, err)
		}
		if err := r.CommitMessages(ctx, m); err != nil {
			t.Fatalf("group %s: commit %s/%d@%d: %v", group, topic, m.Partition, m.Offset, err)
		}
		msgs = append(msgs, m)
	}
	return msgs
}

func kcatConsume(t *testing.T, brokers []string, topic string) []string {
	t.Helper()
	out := kcat(t, nil, "-b", strings.Join(brokers, ","), "-C", "-t", topic, "-e", "-q",
		"-o", "beginning", "-f", `%k %s\n`)
	got := strings.Split(strings.TrimSpace(string(out)), "\n")
	slices.Sort(got)
	return got
}

func kcatProduce(t *testing.T, brokers []string, topic string, msgs []kafka.Message) {
	t.Helper()
	var in bytes.Buffer
	for _, m := range msgs {
		fmt.Fprintf(&in, "%s\t%s\n", m.Key, m.Value)
	}
	kcat(t, &in, "-b", strings.Join(brokers, ","), "-P", "-t", topic, "-K", "\t", "-X", "acks=all")
}

func kcat(t *testing.T, stdin *bytes.Buffer, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, kafkatest.KCat(t), args...)
	if stdin != nil {
		cmd.Stdin = stdin
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kcat %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return out
}

func cleanupPolicy(t *testing.T, brokers []string, topic string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	transport := &kafka.Transport{}
	defer transport.CloseIdleConnections()
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Transport: transport}
	resp, err := client.DescribeConfigs(ctx, &kafka.DescribeConfigsRequest{
		Resources: []kafka.DescribeConfigRequestResource{{
			ResourceType: kafka.ResourceTypeTopic,
			ResourceName: topic,
			ConfigNames:  []string{"cleanup.policy"},
		}},
	})
	if err != nil {
		t.Fatalf("describe configs of %s: %v", topic, err)
	}
	for _, res := range resp.Resources {
		if res.Error != nil {
			t.Fatalf("describe configs of %s: %v", topic, res.Error)
		}
		for _, e := range res.ConfigEntries {
			if e.ConfigName == "cleanup.policy" {
				return e.ConfigValue
			}
		}
	}
	return ""
}
