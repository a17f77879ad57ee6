package consumers_test

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/trailsight/trailsight/consumers"
	"github.com/trailsight/trailsight/internal/kafkatest"
)

// TestKafkaStore saves checkpoints larger than a message, overwrites them,
// interrupts a save halfway and damages one: Load always returns the newest
// whole checkpoint, or says it is damaged.
func TestKafkaStore(t *testing.T) {
	kafkatest.Each(t, func(t *testing.T, c kafkatest.Cluster) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		topic := kafkatest.Topic(t)
		c.CreateTopic(t, topic, 2, true)
		s := consumers.NewKafkaStore(c.Brokers(), topic, 2, "g", nil)
		defer s.Close()

		if _, ok, err := s.Load(ctx, "src", 3); err != nil || ok {
			t.Fatalf("Load of an empty store: ok %v, err %v", ok, err)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		state := func(n int) []byte {
			b := make([]byte, n)
			for i := range b {
				b[i] = byte(rng.IntN(256))
			}
			return b
		}
		// Two source partitions share state partition 1 (3 mod 2 = 1 mod 2).
		big := consumers.Checkpoint{Topic: "src", Partition: 3, Offset: 42, State: state(2_100_000)} // 3 chunks
		other := consumers.Checkpoint{Topic: "src", Partition: 1, Offset: 7, State: state(100)}
		for _, cp := range []consumers.Checkpoint{big, other} {
			if err := s.Save(ctx, cp); err != nil {
				t.Fatalf("Save: %v", err)
			}
		}
		load := func(s *consumers.KafkaStore, partition int) consumers.Checkpoint {
			t.Helper()
			got, ok, err := s.Load(ctx, "src", partition)
			if err != nil || !ok {
				t.Fatalf("Load(%d): ok %v, err %v", partition, ok, err)
			}
			return got
		}
		fresh := func() *consumers.KafkaStore {
			s := consumers.NewKafkaStore(c.Brokers(), topic, 2, "g", nil)
			t.Cleanup(func() { s.Close() })
			return s
		}
		check := func(got, want consumers.Checkpoint) {
			t.Helper()
			if got.Offset != want.Offset || got.Partition != want.Partition || !bytes.Equal(got.State, want.State) {
				t.Fatalf("Load: offset %d partition %d, %d bytes; want offset %d partition %d, %d bytes (equal: %v)",
					got.Offset, got.Partition, len(got.State), want.Offset, want.Partition, len(want.State), bytes.Equal(got.State, want.State))
			}
		}
		check(load(fresh(), 3), big)
		check(load(fresh(), 1), other)

		// A newer, smaller checkpoint goes to the other slot.
		small := consumers.Checkpoint{Topic: "src", Partition: 3, Offset: 50, State: state(1000)}
		if err := s.Save(ctx, small); err != nil {
			t.Fatal(err)
		}
		check(load(fresh(), 3), small)

		// A save that dies after its first chunk: the chunk goes to the
		// slot the manifest does not name (slot a, since small is in b),
		// and Load still returns small.
		w := &kafka.Writer{Transport: &kafka.Transport{}, Addr: kafka.TCP(c.Brokers()...), Topic: topic,
			Balancer: kafka.BalancerFunc(func(kafka.Message, ...int) int { return 1 }), RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond}
		defer w.Close()
		if err := w.WriteMessages(ctx, kafka.Message{Key: []byte("g/src/3/a/0"), Value: append([]byte{1, 2, 3, 4, 5, 6, 7, 8}, state(500)...)}); err != nil {
			t.Fatal(err)
		}
		check(load(fresh(), 3), small)

		// A manifest whose chunks are gone (here: never written) is
		// reported as a bad checkpoint, not returned.
		man := []byte{1, 'a', 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 60, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 0}
		if err := w.WriteMessages(ctx, kafka.Message{Key: []byte("g/src/3/m"), Value: man}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := fresh().Load(ctx, "src", 3); !errors.Is(err, consumers.ErrBadCheckpoint) {
			t.Fatalf("Load with a manifest whose chunks are missing: err %v, want ErrBadCheckpoint", err)
		}
		// The store recovers with the next save.
		if err := s.Save(ctx, big); err != nil {
			t.Fatal(err)
		}
		check(load(fresh(), 3), big)
		check(load(fresh(), 1), other)
	})
}
