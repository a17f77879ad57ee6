package kafkatest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/trailsight/trailsight/internal/testenv"
)

// Cluster is a Kafka cluster that a test can use.
type Cluster interface {
	// Name says what runs the cluster: "kfake" or "kafka-<version>", e.g. "kafka-4.4.0".
	Name() string
	// Brokers returns the bootstrap addresses, host:port on 127.0.0.1.
	Brokers() []string
	// CreateTopic creates a topic with replication factor 1 and waits until every partition
	// has a leader. A compacted topic has cleanup.policy=compact and is tuned to be cleaned
	// within seconds (min.cleanable.dirty.ratio=0.01, segment.ms=1000). It fails the test if
	// the topic exists already.
	CreateTopic(tb testing.TB, name string, partitions int, compacted bool)
	// Restart stops the cluster and starts it again on the same address with the same data.
	// Connections are cut; records acknowledged with acks=all and committed offsets survive.
	Restart(tb testing.TB)
}

// Each runs fn as a subtest against a fresh [Fake] cluster ("kfake") and against the shared
// [Real] broker ("kafka"), so an integration test is written once and run on both.
func Each(t *testing.T, fn func(t *testing.T, c Cluster)) {
	t.Helper()
	t.Run("kfake", func(t *testing.T) { fn(t, Fake(t)) })
	t.Run("kafka", func(t *testing.T) { fn(t, Real(t)) })
}

var topicSeq atomic.Int64

// Topic returns a topic name that is unique within the test binary and says which test made
// it, for tests that share the real broker.
func Topic(tb testing.TB) string {
	name := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return '.'
	}, tb.Name())
	if len(name) > 200 {
		name = name[len(name)-200:]
	}
	return name + "-" + strconv.FormatInt(topicSeq.Add(1), 10)
}

func unavailable(tb testing.TB, format string, args ...any) {
	tb.Helper()
	testenv.Unavailable(tb, "kafkatest", format, args...)
}

// permanentTopicErrors are CreateTopics errors that retrying cannot fix.
var permanentTopicErrors = []error{
	kafka.TopicAlreadyExists, kafka.InvalidTopic, kafka.InvalidPartitionNumber,
	kafka.InvalidReplicationFactor, kafka.InvalidConfiguration, kafka.PolicyViolation,
	kafka.TopicAuthorizationFailed,
}

// createTopic creates a topic with kafka-go's Client and waits for its partitions' leaders,
// retrying transient errors (a broker that has just restarted) for up to 30 seconds.
func createTopic(tb testing.TB, brokers []string, name string, partitions int, compacted bool) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	transport := &kafka.Transport{}
	defer transport.CloseIdleConnections()
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second, Transport: transport}

	cfg := kafka.TopicConfig{Topic: name, NumPartitions: partitions, ReplicationFactor: 1}
	if compacted {
		cfg.ConfigEntries = []kafka.ConfigEntry{
			{ConfigName: "cleanup.policy", ConfigValue: "compact"},
			{ConfigName: "min.cleanable.dirty.ratio", ConfigValue: "0.01"},
			{ConfigName: "segment.ms", ConfigValue: "1000"},
		}
	}
	var err error
	for {
		var resp *kafka.CreateTopicsResponse
		resp, err = client.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{cfg}})
		if err == nil {
			err = resp.Errors[name]
		}
		if err == nil {
			break
		}
		for _, perm := range permanentTopicErrors {
			if errors.Is(err, perm) {
				tb.Fatalf("kafkatest: create topic %q: %v", name, err)
			}
		}
		if !sleep(ctx, 100*time.Millisecond) {
			tb.Fatalf("kafkatest: create topic %q on %v: %v", name, brokers, err)
		}
	}

	for {
		err = topicReady(ctx, client, name, partitions)
		if err == nil {
			return
		}
		if !sleep(ctx, 50*time.Millisecond) {
			tb.Fatalf("kafkatest: topic %q created but not ready: %v", name, err)
		}
	}
}

func topicReady(ctx context.Context, client *kafka.Client, name string, partitions int) error {
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{name}})
	if err != nil {
		return err
	}
	for _, t := range md.Topics {
		if t.Name != name {
			continue
		}
		if t.Error != nil {
			return t.Error
		}
		if len(t.Partitions) != partitions {
			return fmt.Errorf("%d of %d partitions in the metadata", len(t.Partitions), partitions)
		}
		for _, p := range t.Partitions {
			if p.Error != nil {
				return fmt.Errorf("partition %d: %w", p.ID, p.Error)
			}
			if p.Leader.Host == "" {
				return fmt.Errorf("partition %d has no leader", p.ID)
			}
		}
		return nil
	}
	return errors.New("not in the metadata")
}

// sleep waits for d and reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
