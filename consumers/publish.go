package consumers

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/trailsight/trailsight/cloudtrail"
)

// PublishOptions tunes Publish.
type PublishOptions struct {
	// PerRecord publishes one message per record, as an EventBridge rule
	// or a splitting Lambda would; otherwise one message per log file.
	PerRecord bool
	// Speed paces publishing by delivery time, this many times faster
	// than real time; 0 publishes as fast as the broker takes it.
	Speed float64
}

// PublishStats sums up a Publish.
type PublishStats struct {
	Files, Skipped, Messages, Records int
	Bytes                             int64
}

// HeaderDeliveryTime carries, in RFC 3339, when the records of a message
// were delivered: a log file's delivery time, for a trail published after
// the fact. The consumer's clock takes it over the message's timestamp,
// which Publish leaves to the producer (now): a topic's time-based
// retention and segment rolling go by message timestamps, and months-old
// timestamps would have the broker delete a replayed trail within minutes.
const HeaderDeliveryTime = "trailsight-delivery-time"

// MaxMessageBytes keeps a message under the broker's default
// message.max.bytes (1 MiB) with room for the record batch overhead.
const MaxMessageBytes = 1000 << 10

// Publish writes trail log files to w in delivery order, each message keyed
// by the file's account and carrying its delivery time (HeaderDeliveryTime),
// so a Group reading the topic sees what a replay of the files sees. It is the other
// side of Group: trailsight produce, the tests and the benchmarks use it.
// Digest and Insights files are skipped.
func Publish(ctx context.Context, w MessageWriter, files []File, o PublishOptions) (PublishStats, error) {
	var st PublishStats
	var first time.Time
	t0 := time.Now()
	dec := cloudtrail.NewDecoder()
	var pending []kafka.Message
	pendingBytes := 0
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		if err := w.WriteMessages(ctx, pending...); err != nil {
			return err
		}
		st.Messages += len(pending)
		st.Bytes += int64(pendingBytes)
		pending, pendingBytes = pending[:0], 0
		return nil
	}
	for _, f := range files {
		if f.Kind != cloudtrail.FileLog || f.Path == "-" {
			st.Skipped++
			continue
		}
		body, err := os.ReadFile(f.Path)
		if err != nil {
			return st, err
		}
		var account string
		var newest int64
		n := 0
		// Decoding finds the account and, for a file without a delivery
		// time in its name, the newest event time; bad records travel on
		// for the consumer to count and dead-letter.
		_, _ = dec.DecodeBody(body, func(ev *cloudtrail.Event) {
			if account == "" {
				account = ev.RecipientAccountID
			}
			newest = max(newest, ev.EventTime)
			n++
		}, nil)
		if k, ok := cloudtrail.ParseKey(filepath.ToSlash(f.Path)); ok {
			account = k.AccountID
		}
		at := f.Delivery
		if at.IsZero() {
			at = time.Unix(newest, 0)
		}
		if o.Speed > 0 {
			if first.IsZero() {
				first = at
			}
			due := t0.Add(time.Duration(float64(at.Sub(first)) / o.Speed))
			if d := time.Until(due); d > 0 {
				t := time.NewTimer(d)
				select {
				case <-ctx.Done():
					t.Stop()
					return st, ctx.Err()
				case <-t.C:
				}
			}
		}
		var msgs []kafka.Message
		hdr := []kafka.Header{{Key: HeaderDeliveryTime, Value: at.UTC().AppendFormat(nil, time.RFC3339)}}
		if !o.PerRecord {
			if len(body) > MaxMessageBytes {
				return st, fmt.Errorf("%s: %d bytes is more than a Kafka message takes by default (%d); publish per record", f.Path, len(body), MaxMessageBytes)
			}
			msgs = append(msgs, kafka.Message{Key: []byte(account), Value: body, Headers: hdr})
		} else {
			recs, err := splitRecords(body)
			if err != nil {
				return st, fmt.Errorf("%s: %w", f.Path, err)
			}
			for _, r := range recs {
				msgs = append(msgs, kafka.Message{Key: []byte(account), Value: r, Headers: hdr})
			}
		}
		pending = append(pending, msgs...)
		for _, m := range msgs {
			pendingBytes += len(m.Value)
		}
		st.Files++
		st.Records += n
		// Unpaced, messages go out in batches: one synchronous write per
		// file would cost a round trip each.
		if o.Speed > 0 || len(pending) >= 256 || pendingBytes >= 4<<20 {
			if err := flush(); err != nil {
				return st, fmt.Errorf("publish up to %s: %w", f.Path, err)
			}
		}
	}
	if err := flush(); err != nil {
		return st, fmt.Errorf("publish: %w", err)
	}
	return st, nil
}

// splitRecords returns the records of a log file body, each as its own JSON
// text.
func splitRecords(body []byte) ([][]byte, error) {
	if len(body) >= 2 && body[0] == 0x1f && body[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		if body, err = io.ReadAll(io.LimitReader(zr, MaxFileSize)); err != nil {
			return nil, err
		}
	}
	var f struct {
		Records []json.RawMessage `json:"Records"`
	}
	if err := json.Unmarshal(body, &f); err != nil {
		return nil, fmt.Errorf("not a log file: %w", err)
	}
	out := make([][]byte, len(f.Records))
	for i, r := range f.Records {
		out[i] = []byte(r)
	}
	return out, nil
}
