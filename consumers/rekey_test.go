package consumers_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/trailsight/trailsight/cloudtrail"
	"github.com/trailsight/trailsight/consumers"
	"github.com/trailsight/trailsight/internal/kafkatest"
)

// TestRekey feeds an unkeyed topic (round-robin, as a log shipper would
// leave it) with log files, one file mixing two accounts and a broken
// record, and garbage: every record comes out once, on a message keyed by
// its own account; the broken record and the garbage come out unkeyed,
// for the consumer to dead-letter.
func TestRekey(t *testing.T) {
	data := loadGroupData(t)
	kafkatest.Each(t, func(t *testing.T, c kafkatest.Cluster) {
		base := kafkatest.Topic(t)
		in, out := base+"-in", base+"-out"
		c.CreateTopic(t, in, 3, false)
		c.CreateTopic(t, out, 3, false)
		dec := cloudtrail.NewDecoder()
		countRecords := func(b []byte) map[string]int {
			m := map[string]int{}
			_, _ = dec.DecodeBody(b, func(ev *cloudtrail.Event) { m[ev.RecipientAccountID]++ }, nil)
			return m
		}
		var msgs []kafka.Message
		want := map[string]int{}
		for _, m := range data.msgs[:60] {
			msgs = append(msgs, kafka.Message{Value: m.Value, Headers: m.Headers})
			for a, n := range countRecords(m.Value) {
				want[a] += n
			}
		}
		// A file with the records of the first two messages of different
		// accounts.
		var mixed [][]byte
		accts := map[string]bool{}
		for _, m := range data.msgs {
			recs := rawRecords(t, m.Value)
			var ev cloudtrail.Event
			if err := dec.DecodeRecord(recs[0], &ev); err != nil {
				t.Fatal(err)
			}
			if !accts[ev.RecipientAccountID] {
				accts[ev.RecipientAccountID] = true
				mixed = append(mixed, recs...)
				want[ev.RecipientAccountID] += len(recs)
			}
			if len(accts) == 2 {
				break
			}
		}
		broken := []byte(`{"eventVersion":"1.08","eventName":"RunInstances"}`) // no eventTime
		mixed = append(mixed[:1:1], append([][]byte{broken}, mixed[1:]...)...)
		msgs = append(msgs, kafka.Message{Value: cloudtrail.EncodeRecordsFile(mixed)}, kafka.Message{Value: []byte("garbage")})
		w := &kafka.Writer{Transport: &kafka.Transport{}, Addr: kafka.TCP(c.Brokers()...), Topic: in, Balancer: &kafka.RoundRobin{},
			RequiredAcks: kafka.RequireAll, BatchTimeout: 2 * time.Millisecond}
		defer w.Close()
		if err := w.WriteMessages(context.Background(), msgs...); err != nil {
			t.Fatal(err)
		}
		ow := &kafka.Writer{Transport: &kafka.Transport{}, Addr: kafka.TCP(c.Brokers()...), Topic: out, Balancer: &kafka.Murmur2Balancer{Consistent: true},
			RequiredAcks: kafka.RequireAll, BatchTimeout: 2 * time.Millisecond}
		defer ow.Close()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var last atomic.Value
		done := make(chan error, 1)
		go func() {
			done <- consumers.Rekey(ctx, consumers.RekeyConfig{Brokers: c.Brokers(), GroupID: base, Topics: []string{in}}, ow, nil,
				func(s consumers.RekeyStats) { last.Store(s) })
		}()
		deadline := time.Now().Add(60 * time.Second)
		for {
			if s, _ := last.Load().(consumers.RekeyStats); s.In == int64(len(msgs)) {
				if s.Split != 1 || s.Passed != 1 || s.Out != int64(len(msgs))+2 {
					t.Errorf("stats %+v: want 1 split (in two accounts and the broken record), 1 passed on, %d out", s, len(msgs)+2)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("rekey did not get through %d messages in 60 s: %+v", len(msgs), last.Load())
			}
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Rekey: %v", err)
		}
		got := map[string]int{}
		garbage, brokenOut := 0, 0
		for p := range 3 {
			for _, m := range readTopic(t, c, out, p) {
				counts := countRecords(m.Value)
				if len(counts) == 0 {
					garbage++
					if len(m.Key) != 0 {
						t.Errorf("undecodable message keyed %q", m.Key)
					}
					if bytes.HasPrefix(m.Value, []byte{0x1f, 0x8b}) || bytes.HasPrefix(m.Value, []byte(`{"Records"`)) {
						if recs := rawRecords(t, m.Value); len(recs) == 1 && bytes.Equal(recs[0], broken) {
							brokenOut++
						}
					}
					continue
				}
				for a, n := range counts {
					if a != string(m.Key) {
						t.Errorf("message keyed %q holds %d records of account %s", m.Key, n, a)
					}
					got[a] += n
				}
			}
		}
		if garbage != 2 || brokenOut != 1 {
			t.Errorf("%d undecodable messages passed on, %d with the broken record; want 2 (the garbage, the broken record), 1", garbage, brokenOut)
		}
		for a, n := range want {
			if got[a] != n {
				t.Errorf("account %s: %d records out, %d in", a, got[a], n)
			}
		}
		if len(got) != len(want) {
			t.Errorf("accounts out %v, in %v", got, want)
		}
	})
}

// rawRecords returns the records of a (gzipped) log file body.
func rawRecords(t *testing.T, body []byte) [][]byte {
	t.Helper()
	if zr, err := gzip.NewReader(bytes.NewReader(body)); err == nil {
		if body, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	var f struct{ Records []json.RawMessage }
	if err := json.Unmarshal(body, &f); err != nil || len(f.Records) == 0 {
		t.Fatalf("not a log file: %v", err)
	}
	out := make([][]byte, len(f.Records))
	for i, r := range f.Records {
		out[i] = r
	}
	return out
}
