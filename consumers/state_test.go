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
	"github.com/trailsight/trailsight/internal/retry"
)

// TestKafkaStore saves checkpoints larger than a message, overwrites them,
// interrupts a save halfway, lets a stale owner save between the new
// owner's saves, and damages one: Load always returns the newest whole
// checkpoint, or says it is damaged.
func TestKafkaStore(t *testing.T) {
	kafkatest.Each(t, func(t *testing.T, c kafkatest.Cluster) {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		topic := kafkatest.Topic(t)
		c.CreateTopic(t, topic, 2, true)
		s := consumers.NewKafkaStore(c.Brokers(), topic, 2, "g", nil)
		defer s.Close()

		// A just-created topic may answer "not leader" for a moment; the
		// partition worker retries its Load the same way.
		var ok bool
		err := retry.Policy{Backoff: 100 * time.Millisecond, MaxAttempts: 50}.Do(ctx, nil, func(ctx context.Context) error {
			var err error
			_, ok, err = s.Load(ctx, "src", 3)
			return err
		})
		if err != nil || ok {
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
		fresh := func() *consumers.KafkaStore {
			s := consumers.NewKafkaStore(c.Brokers(), topic, 2, "g", nil)
			t.Cleanup(func() { s.Close() })
			return s
		}
		load := func(s *consumers.KafkaStore, partition int) consumers.Checkpoint {
			t.Helper()
			got, ok, err := s.Load(ctx, "src", partition)
			if err != nil || !ok {
				t.Fatalf("Load(%d): ok %v, err %v", partition, ok, err)
			}
			return got
		}
		check := func(got, want consumers.Checkpoint) {
			t.Helper()
			if got.Offset != want.Offset || got.Partition != want.Partition || !bytes.Equal(got.State, want.State) {
				t.Fatalf("Load: offset %d partition %d, %d bytes; want offset %d partition %d, %d bytes (equal: %v)",
					got.Offset, got.Partition, len(got.State), want.Offset, want.Partition, len(want.State), bytes.Equal(got.State, want.State))
			}
		}
		save := func(s *consumers.KafkaStore, cp consumers.Checkpoint) {
			t.Helper()
			if err := s.Save(ctx, cp); err != nil {
				t.Fatalf("Save: %v", err)
			}
		}

		// Two source partitions share state partition 1 (3 mod 2 = 1 mod 2).
		big := consumers.Checkpoint{Topic: "src", Partition: 3, Offset: 42, State: state(2_100_000)} // 3 chunks
		other := consumers.Checkpoint{Topic: "src", Partition: 1, Offset: 7, State: state(100)}
		save(s, big)
		save(s, other)
		check(load(fresh(), 3), big)
		check(load(fresh(), 1), other)

		// A newer, smaller checkpoint replaces it.
		small := consumers.Checkpoint{Topic: "src", Partition: 3, Offset: 50, State: state(1000)}
		save(s, small)
		check(load(fresh(), 3), small)

		// A save that dies after its first chunk (its own id, no
		// manifest): Load still returns small.
		w := &kafka.Writer{Transport: &kafka.Transport{}, Addr: kafka.TCP(c.Brokers()...), Topic: topic,
			Balancer: kafka.BalancerFunc(func(kafka.Message, ...int) int { return 1 }), RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond}
		defer w.Close()
		if err := w.WriteMessages(ctx, kafka.Message{Key: []byte("g/src/3/c/00000000deadbeef/0"), Value: state(500)}); err != nil {
			t.Fatal(err)
		}
		check(load(fresh(), 3), small)

		// A zombie (an owner that lost the partition but still saves) and
		// the new owner interleave: whichever manifest is newest is whole.
		zombie, owner := fresh(), fresh()
		check(load(zombie, 3), small)
		check(load(owner, 3), small)
		fromOwner := consumers.Checkpoint{Topic: "src", Partition: 3, Offset: 60, State: state(1_000_000)}
		fromZombie := consumers.Checkpoint{Topic: "src", Partition: 3, Offset: 55, State: state(950_000)}
		save(owner, fromOwner)
		save(zombie, fromZombie)
		check(load(fresh(), 3), fromZombie)
		save(owner, fromOwner)
		check(load(fresh(), 3), fromOwner)

		// A manifest whose chunks are gone (here: never written) is
		// reported as a bad checkpoint, not returned.
		man := []byte{2, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 60, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 0}
		if err := w.WriteMessages(ctx, kafka.Message{Key: []byte("g/src/3/m"), Value: man}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := fresh().Load(ctx, "src", 3); !errors.Is(err, consumers.ErrBadCheckpoint) {
			t.Fatalf("Load with a manifest whose chunks are missing: err %v, want ErrBadCheckpoint", err)
		}
		// The store recovers with the next save.
		save(s, big)
		check(load(fresh(), 3), big)
		check(load(fresh(), 1), other)
	})
}
