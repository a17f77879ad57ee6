package cloudtrail

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// maxFuzzInput caps fuzz inputs: big enough for an oversize record, small
// enough to keep each run fast.
const maxFuzzInput = MaxRecordSize + 4096

// addSeeds adds testdata/records/*.json to the corpus, plus forms of them
// that reach the other paths: gzipped, in a log file, as JSON Lines, cut
// short.
func addSeeds(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "records", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed records: %v", err)
	}
	var lines [][]byte
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
		lines = append(lines, bytes.TrimSpace(b))
	}
	f.Add(bytes.Join(lines, []byte("\n")))
	f.Add(append(append([]byte(`{"Records":[`), bytes.Join(lines, []byte(","))...), "]}"...))
	f.Add(gzipBytes(f, lines[0]))
	f.Add([]byte(`[{"eventTime":"2023-04-13T19:56:38Z"},42,{"a":tru},` + base + `]`))
}

// checkEvent asserts what every accepted Event must hold.
func checkEvent(t *testing.T, ev *Event) {
	t.Helper()
	if ev.EventTime <= 0 || ev.EventSource == "" || ev.EventName == "" || ev.AWSRegion == "" || ev.RecipientAccountID == "" {
		t.Fatalf("accepted event lacks a required field: %+v", *ev)
	}
	if ev.Size <= 0 || ev.Size > MaxRecordSize {
		t.Fatalf("accepted event has size %d", ev.Size)
	}
}

func checkReason(t *testing.T, r Reason) {
	t.Helper()
	if r == 0 || r > ReasonBadGzip {
		t.Fatalf("invalid reason %d", r)
	}
}

func FuzzDecodeRecord(f *testing.F) {
	addSeeds(f)
	d := NewDecoder()
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > maxFuzzInput {
			t.Skip("input too big")
		}
		var ev Event
		err := d.DecodeRecord(b, &ev)
		var de *DecodeError
		switch {
		case err == nil:
			checkEvent(t, &ev)
			if ev.IsInsight() {
				t.Fatalf("Insights record accepted: %+v", ev)
			}
		case errors.Is(err, ErrInsightRecord):
			if !ev.IsInsight() {
				t.Fatalf("ErrInsightRecord for eventType %q", ev.EventType)
			}
		case errors.As(err, &de):
			checkReason(t, de.Reason)
			_ = de.Error()
		default:
			t.Fatalf("error %v is not a *DecodeError", err)
		}

		// The scanner follows the JSON grammar exactly: it accepts what
		// encoding/json accepts, up to its nesting limit.
		accepted := err == nil || errors.Is(err, ErrInsightRecord) ||
			(de != nil && de.Reason != ReasonBadJSON && de.Reason != ReasonTruncated && de.Reason != ReasonNotObject)
		var se *syntaxError
		tooDeep := errors.As(err, &se) && se.code == scanDepth
		if valid := json.Valid(b); accepted && !valid && (de == nil || de.Reason != ReasonOversize) {
			t.Fatalf("accepted invalid JSON (%v)", err)
		} else if valid && !accepted && !tooDeep && de.Reason != ReasonNotObject {
			t.Fatalf("rejected valid JSON: %v", err)
		}

		// A record alone is a body of one record.
		if err == nil && !bytes.Contains(b, []byte("Records")) && !bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
			st, berr := d.DecodeBody(b, func(*Event) {}, nil)
			if berr != nil || st.Records != 1 || st.Invalid != 0 {
				t.Fatalf("DecodeBody of an accepted record: %+v, %v", st, berr)
			}
		}
	})
}

func FuzzDecodeBody(f *testing.F) {
	addSeeds(f)
	d := NewDecoder()
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > maxFuzzInput {
			t.Skip("input too big")
		}
		var recs, bads int
		var ids []string
		st, err := d.DecodeBody(b, func(ev *Event) {
			checkEvent(t, ev)
			recs++
			ids = append(ids, ev.EventID)
		}, func(e DecodeError) {
			checkReason(t, e.Reason)
			if e.Offset < 0 || e.Offset > int64(len(b)) && !bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
				t.Fatalf("offset %d outside the body", e.Offset)
			}
			bads++
		})
		if st.Records != recs || st.Invalid != bads {
			t.Fatalf("stats %+v, but %d fn and %d bad calls", st, recs, bads)
		}
		// Every counted item, including a body's cut-off end, stands for
		// at least one byte.
		if n := int64(st.Records + st.Invalid + st.Insights); n > st.Bytes {
			t.Fatalf("%d items counted in %d bytes", n, st.Bytes)
		}
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %v is not a *DecodeError", err)
			}
			checkReason(t, de.Reason)
			if de.Reason != ReasonBadGzip && (recs != 0 || bads != 0 || st.Insights != 0) {
				t.Fatalf("error %v after delivering records: %+v", err, st)
			}
		} else if st.Kind == 0 || st.Kind > BodyEmpty {
			t.Fatalf("invalid kind %d", st.Kind)
		}
		if st.Digest && st.Kind != BodyDigest && st.Kind != BodyLines {
			t.Fatalf("digest in a body of kind %v", st.Kind)
		}

		// Decoding is deterministic: the Decoder keeps no state that
		// changes results.
		var ids2 []string
		st2, err2 := d.DecodeBody(b, func(ev *Event) { ids2 = append(ids2, ev.EventID) }, nil)
		if st2 != st || (err == nil) != (err2 == nil) || len(ids2) != len(ids) {
			t.Fatalf("second decode differs: %+v %v, then %+v %v", st, err, st2, err2)
		}
		for i := range ids {
			if ids[i] != ids2[i] {
				t.Fatalf("record %d: ID %q, then %q", i, ids[i], ids2[i])
			}
		}
	})
}
