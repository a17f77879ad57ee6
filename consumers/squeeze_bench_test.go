package consumers_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/trailsight/trailsight/consumers"
)

// squeeze returns copies of one-record messages with their event times and
// delivery times brought k times closer to start: the same records at k
// times the density of event time (densityLive says why). RFC 3339 times
// in UTC keep their length, so the messages keep their size.
func squeeze(tb testing.TB, msgs []kafka.Message, start time.Time, k int64) []kafka.Message {
	tb.Helper()
	at := func(v []byte) []byte {
		t, err := time.Parse(time.RFC3339, string(v))
		if err != nil {
			tb.Fatalf("squeeze: %q: %v", v, err)
		}
		t = start.Add(t.Sub(start) / time.Duration(k)).UTC()
		out := t.AppendFormat(nil, time.RFC3339)
		if len(out) != len(v) {
			tb.Fatalf("squeeze: %q became %q", v, out)
		}
		return out
	}
	key := []byte(`"eventTime":"`)
	out := make([]kafka.Message, len(msgs))
	for i, m := range msgs {
		v := bytes.Clone(m.Value)
		j := bytes.Index(v, key)
		if j < 0 {
			tb.Fatalf("squeeze: message %d has no eventTime", i)
		}
		j += len(key)
		end := j + bytes.IndexByte(v[j:], '"')
		copy(v[j:end], at(v[j:end]))
		hs := make([]kafka.Header, len(m.Headers))
		for h := range m.Headers {
			hs[h] = m.Headers[h]
			if hs[h].Key == consumers.HeaderDeliveryTime {
				hs[h].Value = at(hs[h].Value)
			}
		}
		out[i] = kafka.Message{Key: m.Key, Value: v, Headers: hs}
	}
	return out
}
