package consumers

import (
	"context"
	"errors"
	"io"

	"github.com/segmentio/kafka-go"
)

// HandleAll runs msgs through a worker of one partition of g as consume does
// when every message is already fetched: restore (from g's Store), the
// fetcher decoding and the worker handling each message, a last
// checkpoint. No broker is involved: BenchmarkHandle measures the
// consumer's own work per message, which a partition's fetches overlap with
// on a machine with cores to spare.
func HandleAll(ctx context.Context, g *Group, topic string, msgs []kafka.Message) error {
	p := &partition{g: g, topic: topic, partLbl: "0", log: g.log}
	if err := p.restore(ctx, kafka.FirstOffset); err != nil {
		return err
	}
	p.offsetLag = g.m.offsetLag.WithLabelValues(topic, p.partLbl)
	p.okMessages = g.m.messages.WithLabelValues(msgOK)
	if err := p.consume(ctx, &heldMessages{msgs: msgs}); !errors.Is(err, io.EOF) {
		return err
	}
	return p.checkpoint(ctx)
}

// heldMessages is a source of messages at hand, then io.EOF.
type heldMessages struct {
	msgs []kafka.Message
	next int
}

func (h *heldMessages) FetchMessage(context.Context) (kafka.Message, error) {
	if h.next == len(h.msgs) {
		return kafka.Message{}, io.EOF
	}
	h.next++
	return h.msgs[h.next-1], nil
}

func (h *heldMessages) Lag() int64 { return int64(len(h.msgs) - h.next) }
