package consumers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
)

// EnsureTopics creates the topics of want that do not exist; existing ones
// are left as they are.
func EnsureTopics(ctx context.Context, brokers []string, want []kafka.TopicConfig) error {
	c := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 30 * time.Second}
	res, err := c.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: want})
	if err != nil {
		return fmt.Errorf("create topics: %w", err)
	}
	for t, err := range res.Errors {
		if err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
			return fmt.Errorf("create topic %s: %w", t, err)
		}
	}
	return nil
}

// Partitions returns the partition count of each existing topic of topics.
func Partitions(ctx context.Context, brokers []string, topics []string) (map[string]int, error) {
	c := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 30 * time.Second}
	md, err := c.Metadata(ctx, &kafka.MetadataRequest{Topics: topics})
	if err != nil {
		return nil, fmt.Errorf("metadata of %v: %w", topics, err)
	}
	out := map[string]int{}
	for _, t := range md.Topics {
		if t.Error == nil {
			out[t.Name] = len(t.Partitions)
		}
	}
	return out, nil
}
