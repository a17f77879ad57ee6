package consumers

import (
	"context"

	"github.com/segmentio/kafka-go"

	"github.com/trailsight/trailsight/cloudtrail"
)

// HandleAll runs msgs through a worker of one partition of g as consume does
// when every message is already fetched: restore (from g's Store), handle
// each message under the worker's lock, a last checkpoint. No broker is
// involved: BenchmarkHandle measures the consumer's own work per message,
// which a partition's fetches overlap with on a machine with cores to spare.
func HandleAll(ctx context.Context, g *Group, topic string, msgs []kafka.Message) error {
	p := &partition{g: g, topic: topic, dec: cloudtrail.NewDecoder(), partLbl: "0", log: g.log}
	if err := p.restore(ctx, kafka.FirstOffset); err != nil {
		return err
	}
	p.offsetLag = g.m.offsetLag.WithLabelValues(topic, p.partLbl)
	p.okMessages = g.m.messages.WithLabelValues(msgOK)
	for i := range msgs {
		p.offsetLag.Set(float64(len(msgs) - i - 1))
		p.mu.Lock()
		err := p.handle(ctx, &msgs[i])
		p.mu.Unlock()
		if err != nil {
			return err
		}
	}
	return p.checkpoint(ctx)
}
