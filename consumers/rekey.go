package consumers

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/trailsight/trailsight/cloudtrail"
	"github.com/trailsight/trailsight/internal/retry"
)

// RekeyConfig configures Rekey.
type RekeyConfig struct {
	Brokers []string
	GroupID string
	// Topics are read; their messages may be unkeyed or keyed by anything.
	Topics []string
	// Dialer connects to the brokers; nil is kafka-go's default.
	Dialer *kafka.Dialer
}

// RekeyStats counts what Rekey did.
type RekeyStats struct {
	In, Out, Split, Passed int64
}

// Rekey is the stage that makes a topic fit the partitioning contract of
// Group (docs/DESIGN.md): it reads Topics as a consumer group and writes
// each message to w keyed by the recipientAccountId of its records, so every
// record of an account lands on one partition. A message whose records
// belong to several accounts is split, one message per account holding
// {"Records":[...]}; a message that cannot be decoded is passed on
// unchanged, unkeyed, for the consumer to dead-letter. Offsets are committed
// after the writes are acknowledged: at-least-once, and the detector drops
// repeated eventIDs. It runs until ctx ends.
func Rekey(ctx context.Context, cfg RekeyConfig, w MessageWriter, logger *slog.Logger, stats func(RekeyStats)) error {
	if len(cfg.Brokers) == 0 || cfg.GroupID == "" || len(cfg.Topics) == 0 {
		return errors.New("rekey: brokers, group ID and topics are required")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: cfg.Brokers, GroupID: cfg.GroupID, GroupTopics: cfg.Topics, Dialer: cfg.Dialer,
		MinBytes: 1, MaxBytes: 16 << 20, MaxWait: time.Second, StartOffset: kafka.FirstOffset,
		CommitInterval: 0, // synchronous commits, after the writes
	})
	defer r.Close()
	dec := cloudtrail.NewDecoder()
	var st RekeyStats
	for {
		msg, err := r.FetchMessage(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return fmt.Errorf("rekey: fetch: %w", err)
		}
		st.In++
		out, split := rekeyMessage(dec, &msg)
		if out == nil {
			st.Passed++
			out = []kafka.Message{{Value: msg.Value, Headers: msg.Headers}}
		} else if split {
			st.Split++
		}
		if err := (retry.Policy{}).Do(ctx, logger, func(ctx context.Context) error { return w.WriteMessages(ctx, out...) }); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("rekey: write: %w", err)
		}
		st.Out += int64(len(out))
		if err := r.CommitMessages(ctx, msg); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("rekey: commit: %w", err)
		}
		if stats != nil {
			stats(st)
		}
	}
}

// rekeyMessage returns the messages that carry msg's records keyed by
// account, and whether msg had to be split; nil when msg holds no record
// that decodes.
func rekeyMessage(dec *cloudtrail.Decoder, msg *kafka.Message) (out []kafka.Message, split bool) {
	var accounts []string
	_, err := dec.DecodeBody(msg.Value, func(ev *cloudtrail.Event) {
		if len(accounts) == 0 || accounts[len(accounts)-1] != ev.RecipientAccountID {
			for _, a := range accounts {
				if a == ev.RecipientAccountID {
					return
				}
			}
			accounts = append(accounts, ev.RecipientAccountID)
		}
	}, nil)
	switch {
	case len(accounts) == 0:
		return nil, false
	case len(accounts) == 1 || err != nil:
		// One account (the usual case: an EventBridge event, or a log file,
		// which S3 keeps per account): the message as it is.
		return []kafka.Message{{Key: []byte(accounts[0]), Value: msg.Value, Headers: msg.Headers}}, false
	}
	groups, order, bad, err := splitByAccount(dec, msg.Value)
	if err != nil {
		return []kafka.Message{{Key: []byte(accounts[0]), Value: msg.Value, Headers: msg.Headers}}, false
	}
	for _, acct := range order {
		out = append(out, kafka.Message{Key: []byte(acct), Value: cloudtrail.EncodeRecordsFile(groups[acct]), Headers: msg.Headers})
	}
	if len(bad) > 0 {
		// The records that do not decode go on together, unkeyed, for
		// the consumer to count and dead-letter: never dropped here.
		out = append(out, kafka.Message{Value: cloudtrail.EncodeRecordsFile(bad), Headers: msg.Headers})
	}
	return out, true
}

// splitByAccount groups the raw records of a log file, an array of records
// or JSON Lines by account; bad holds those that do not decode.
func splitByAccount(dec *cloudtrail.Decoder, body []byte) (groups map[string][][]byte, order []string, bad [][]byte, err error) {
	if len(body) >= 2 && body[0] == 0x1f && body[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, nil, nil, err
		}
		if body, err = io.ReadAll(io.LimitReader(zr, MaxFileSize)); err != nil {
			return nil, nil, nil, err
		}
	}
	var raws []json.RawMessage
	var file struct {
		Records []json.RawMessage `json:"Records"`
	}
	if err := json.Unmarshal(body, &file); err == nil && file.Records != nil {
		raws = file.Records
	} else if err := json.Unmarshal(body, &raws); err != nil {
		d := json.NewDecoder(bytes.NewReader(body))
		raws = raws[:0]
		for {
			var r json.RawMessage
			if err := d.Decode(&r); err == io.EOF {
				break
			} else if err != nil {
				return nil, nil, nil, err
			}
			raws = append(raws, r)
		}
	}
	groups = map[string][][]byte{}
	var ev cloudtrail.Event
	for _, r := range raws {
		if err := dec.DecodeRecord(r, &ev); err != nil {
			bad = append(bad, []byte(r))
			continue
		}
		if _, ok := groups[ev.RecipientAccountID]; !ok {
			order = append(order, ev.RecipientAccountID)
		}
		groups[ev.RecipientAccountID] = append(groups[ev.RecipientAccountID], []byte(r))
	}
	return groups, order, bad, nil
}
