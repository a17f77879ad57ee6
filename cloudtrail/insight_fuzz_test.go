package cloudtrail

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
	"unicode/utf8"
)

// Bounds of the eventTime layout: years 0000 to 9999.
var (
	minWireTime = time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	maxWireTime = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).Unix()
)

// FuzzInsightRoundTrip builds a record from fuzzed fields and checks that
// AppendJSON → DecodeInsightRecord → AppendJSON is the identity on bytes,
// that the output is valid JSON, and that valid strings and durations come
// back unchanged (averages come back rounded, which the byte check covers).
func FuzzInsightRoundTrip(f *testing.F) {
	f.Add(uint8(8), int64(1768212000), "us-east-1", "111122223333", "id", "shared", true, false,
		"ec2.amazonaws.com", "RunInstances", "", 0.0000882145, 0.6, 5, 11336, "arn:aws:iam::1:user/a", 2.0, uint8(3))
	f.Add(uint8(7), int64(0), "", "", "", "", false, true,
		"iam.amazonaws.com", "GetRolePolicy", "NoSuchEntityException", 9.82222e-5, 1.0/3, 1, 10080, "agent \"q\"\t\x00\u2028\xff", -1e-11, uint8(0))
	f.Add(uint8(0), int64(-62167219200), "\\", "\"", "<>&", "日本", true, true,
		"a", "b", "c", 1e300, math.Copysign(0, -1), -1, 0, "", 5e-324, uint8(9))

	f.Fuzz(func(t *testing.T, minor uint8, unix int64, region, account, eventID, sharedID string, start, errorRate bool,
		source, name, errorCode string, baseline, insight float64, insightDur, baselineDur int,
		value string, avg float64, n uint8,
	) {
		if len(region)+len(account)+len(eventID)+len(sharedID)+len(source)+len(name)+len(errorCode)+len(value) > 4096 {
			return
		}
		span := maxWireTime - minWireTime + 1
		unix = minWireTime + ((unix-minWireTime)%span+span)%span
		rec := InsightRecord{
			EventVersion:       "1." + strconv.Itoa(int(minor)),
			EventTime:          time.Unix(unix, 0).UTC(),
			AWSRegion:          region,
			EventID:            eventID,
			RecipientAccountID: account,
			SharedEventID:      sharedID,
			State:              StateEnd,
			EventSource:        source,
			EventName:          name,
			InsightType:        APICallRateInsight,
			ErrorCode:          errorCode,
			BaselineAverage:    baseline,
			InsightAverage:     insight,
			InsightDuration:    insightDur,
			BaselineDuration:   baselineDur,
		}
		if start {
			rec.State = StateStart
		}
		if errorRate {
			rec.InsightType = APIErrorRateInsight
		}
		// n attributions with n values each, exercising empty lists too.
		for i := range int(n % 4) {
			a := Attribution{Attribute: value + strconv.Itoa(i)}
			for j := range i {
				a.Insight = append(a.Insight, AttributionValue{Value: value, Average: avg * float64(j)})
			}
			rec.Attributions = append(rec.Attributions, a)
		}

		b := rec.AppendJSON(nil)
		if !json.Valid(b) {
			t.Fatalf("AppendJSON produced invalid JSON: %s", b)
		}
		got, err := DecodeInsightRecord(b)
		if err != nil {
			t.Fatalf("DecodeInsightRecord(%s): %v", b, err)
		}
		if again := got.AppendJSON(nil); !bytes.Equal(again, b) {
			t.Fatalf("round trip changed the bytes:\n got %s\nwant %s", again, b)
		}
		if !got.EventTime.Equal(rec.EventTime) || got.InsightDuration != insightDur || got.BaselineDuration != baselineDur {
			t.Errorf("time or durations changed: got (%v, %d, %d), want (%v, %d, %d)",
				got.EventTime, got.InsightDuration, got.BaselineDuration, rec.EventTime, insightDur, baselineDur)
		}
		for _, s := range [][2]string{{region, got.AWSRegion}, {eventID, got.EventID}, {source, got.EventSource}, {errorCode, got.ErrorCode}} {
			if utf8.ValidString(s[0]) && s[0] != s[1] {
				t.Errorf("string %q came back as %q", s[0], s[1])
			}
		}
	})
}

// FuzzDecodeInsightRecord feeds arbitrary bytes, seeded with the golden
// records, to DecodeInsightRecord: it must not panic, and whatever it
// accepts must re-encode to a fixed point.
func FuzzDecodeInsightRecord(f *testing.F) {
	golden, _ := filepath.Glob(filepath.Join("testdata", "insights", "*.json"))
	for _, path := range golden {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > 1<<16 {
			return
		}
		rec, err := DecodeInsightRecord(in)
		if err != nil {
			return
		}
		b := rec.AppendJSON(nil)
		rec2, err := DecodeInsightRecord(b)
		if err != nil {
			t.Fatalf("DecodeInsightRecord(AppendJSON(DecodeInsightRecord(%q))) = %v", in, err)
		}
		if b2 := rec2.AppendJSON(nil); !bytes.Equal(b, b2) {
			t.Fatalf("not a fixed point:\n%s\n%s", b, b2)
		}
	})
}
