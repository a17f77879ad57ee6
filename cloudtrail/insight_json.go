package cloudtrail

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxAttributionValues is the most values an attribution list holds; AWS
// drops the rest (spec §2.4).
const MaxAttributionValues = 5

// insightTimeLayout is the eventTime layout of Insights records: UTC, whole
// seconds, literal Z (spec conventions).
const insightTimeLayout = "2006-01-02T15:04:05Z"

// ErrNotInsight is returned by DecodeInsightRecord for a JSON object that is
// not an Insights record (wrong eventType or eventCategory), so tools reading
// a mixed tree can skip such objects with errors.Is.
var ErrNotInsight = errors.New("cloudtrail: not an Insights record")

// MarshalJSON implements json.Marshaler with the wire format of AppendJSON.
// Unlike AppendJSON it rejects NaN and infinite averages, which JSON cannot
// represent. The receiver is a pointer, like AppendJSON's: encoding/json
// uses it for *InsightRecord and for addressable values such as slice
// elements.
func (r *InsightRecord) MarshalJSON() ([]byte, error) {
	if err := r.checkFinite(); err != nil {
		return nil, err
	}
	return r.AppendJSON(nil), nil
}

// checkFinite reports the first average that is NaN or infinite.
func (r *InsightRecord) checkFinite() error {
	bad := func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }
	if bad(r.BaselineAverage) {
		return fmt.Errorf("cloudtrail: marshal insight: baseline average is %v", r.BaselineAverage)
	}
	if bad(r.InsightAverage) {
		return fmt.Errorf("cloudtrail: marshal insight: insight average is %v", r.InsightAverage)
	}
	for _, a := range r.Attributions {
		for _, v := range slices.Concat(a.Insight, a.Baseline) {
			if bad(v.Average) {
				return fmt.Errorf("cloudtrail: marshal insight: attribution %s value %q average is %v", a.Attribute, v.Value, v.Average)
			}
		}
	}
	return nil
}

// AppendJSON appends r to dst in the exact wire format of an AWS Insights
// record (spec §2.7), compact and with a fixed key order, and returns the
// extended buffer. eventType and eventCategory are always written as
// "AwsCloudTrailInsight" and "Insight", whatever r holds.
//
// insightDetails.errorCode is written for ApiErrorRateInsight records and
// for any record whose ErrorCode is set, so nothing the caller set is lost.
// Averages are rounded to 10 decimal places and written as plain decimals
// with at least one fractional digit; NaN and infinities, which JSON cannot
// carry, are written as 0.0 (MarshalJSON rejects them instead). Attribution
// lists are written as given: sorting and truncating them is the producer's
// job (SortAttributionValues), so a decoded record re-encodes byte for byte.
func (r *InsightRecord) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"eventVersion":`...)
	dst = appendJSONStr(dst, r.EventVersion)
	dst = append(dst, `,"eventTime":"`...)
	dst = r.EventTime.UTC().AppendFormat(dst, insightTimeLayout)
	dst = append(dst, `","awsRegion":`...)
	dst = appendJSONStr(dst, r.AWSRegion)
	dst = append(dst, `,"eventID":`...)
	dst = appendJSONStr(dst, r.EventID)
	dst = append(dst, `,"eventType":"`+InsightEventType+`","recipientAccountId":`...)
	dst = appendJSONStr(dst, r.RecipientAccountID)
	dst = append(dst, `,"sharedEventID":`...)
	dst = appendJSONStr(dst, r.SharedEventID)

	dst = append(dst, `,"insightDetails":{"state":`...)
	dst = appendJSONStr(dst, r.State)
	dst = append(dst, `,"eventSource":`...)
	dst = appendJSONStr(dst, r.EventSource)
	dst = append(dst, `,"eventName":`...)
	dst = appendJSONStr(dst, r.EventName)
	dst = append(dst, `,"insightType":`...)
	dst = appendJSONStr(dst, r.InsightType)
	if r.InsightType == APIErrorRateInsight || r.ErrorCode != "" {
		dst = append(dst, `,"errorCode":`...)
		dst = appendJSONStr(dst, r.ErrorCode)
	}

	dst = append(dst, `,"insightContext":{"statistics":{"baseline":{"average":`...)
	dst = appendAverage(dst, r.BaselineAverage)
	dst = append(dst, `},"insight":{"average":`...)
	dst = appendAverage(dst, r.InsightAverage)
	dst = append(dst, `},"insightDuration":`...)
	dst = strconv.AppendInt(dst, int64(r.InsightDuration), 10)
	dst = append(dst, `,"baselineDuration":`...)
	dst = strconv.AppendInt(dst, int64(r.BaselineDuration), 10)

	dst = append(dst, `},"attributions":[`...)
	for i, a := range r.Attributions {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"attribute":`...)
		dst = appendJSONStr(dst, a.Attribute)
		dst = append(dst, `,"insight":`...)
		dst = appendAttributionValues(dst, a.Insight)
		dst = append(dst, `,"baseline":`...)
		dst = appendAttributionValues(dst, a.Baseline)
		dst = append(dst, '}')
	}
	return append(dst, `]}},"eventCategory":"`+InsightCategory+`"}`...)
}

// appendAttributionValues writes vs as a JSON array; a nil slice is written
// as [] because AWS never omits or nulls an attribution list (spec §2.4).
func appendAttributionValues(dst []byte, vs []AttributionValue) []byte {
	dst = append(dst, '[')
	for i, v := range vs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"value":`...)
		dst = appendJSONStr(dst, v.Value)
		dst = append(dst, `,"average":`...)
		dst = appendAverage(dst, v.Average)
		dst = append(dst, '}')
	}
	return append(dst, ']')
}

// appendAverage writes v per spec §2.9 #12: rounded to 10 decimal places,
// plain decimal, at least one fractional digit. Formatting with 'f' and 10
// digits rounds the exact binary value once, so a decoded output re-encodes
// to the same text (the round-trip tests rely on this).
func appendAverage(dst []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(dst, "0.0"...)
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, v, 'f', 10, 64)
	// Trim trailing zeros but keep one fractional digit: 2.0000000000 → 2.0.
	end := len(dst)
	for dst[end-1] == '0' && dst[end-2] != '.' {
		end--
	}
	dst = dst[:end]
	// A tiny negative value rounds to -0.0; write it as 0.0.
	if dst[start] == '-' && strings.Trim(string(dst[start+1:]), "0.") == "" {
		dst = append(dst[:start], "0.0"...)
	}
	return dst
}

// appendJSONStr appends s as a JSON string. It escapes what JSON requires
// (quote, backslash, control characters) plus U+2028 and U+2029, which
// JavaScript readers choke on, and replaces each invalid UTF-8 byte with
// U+FFFD as encoding/json does. Unlike encoding/json it leaves <, > and & alone: user
// agents and ARNs should read the same as in AWS output.
func appendJSONStr(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0 // s[start:i] is pending and needs no escaping
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			// Written raw, not as \ufffd, so that decoding and
			// re-encoding gives the same bytes.
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\uFFFD"...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// SortAttributionValues sorts v in place by average, highest first, then by
// value ascending so ties come out the same on every run, and returns at most
// the first MaxAttributionValues entries (spec §2.4). The result shares v's
// backing array.
func SortAttributionValues(v []AttributionValue) []AttributionValue {
	slices.SortFunc(v, func(a, b AttributionValue) int {
		if c := cmp.Compare(b.Average, a.Average); c != 0 {
			return c
		}
		return strings.Compare(a.Value, b.Value)
	})
	return v[:min(len(v), MaxAttributionValues)]
}

// Wire shapes for DecodeInsightRecord. encoding/json is fine here: reading
// Insights back is for tools and tests, not the hot path. Durations are
// json.Number so that 5, 5.0 and 5e0 are all accepted (spec §2.7: readers
// must accept any JSON number).
type (
	insightWire struct {
		EventVersion       string             `json:"eventVersion"`
		EventTime          string             `json:"eventTime"`
		AWSRegion          string             `json:"awsRegion"`
		EventID            string             `json:"eventID"`
		EventType          string             `json:"eventType"`
		RecipientAccountID string             `json:"recipientAccountId"`
		SharedEventID      string             `json:"sharedEventID"`
		InsightDetails     insightDetailsWire `json:"insightDetails"`
		EventCategory      string             `json:"eventCategory"`
	}
	insightDetailsWire struct {
		State          string `json:"state"`
		EventSource    string `json:"eventSource"`
		EventName      string `json:"eventName"`
		InsightType    string `json:"insightType"`
		ErrorCode      string `json:"errorCode"`
		InsightContext struct {
			Statistics struct {
				Baseline struct {
					Average float64 `json:"average"`
				} `json:"baseline"`
				Insight struct {
					Average float64 `json:"average"`
				} `json:"insight"`
				InsightDuration  json.Number `json:"insightDuration"`
				BaselineDuration json.Number `json:"baselineDuration"`
			} `json:"statistics"`
			Attributions []struct {
				Attribute string `json:"attribute"`
				Insight   []struct {
					Value   string  `json:"value"`
					Average float64 `json:"average"`
				} `json:"insight"`
				Baseline []struct {
					Value   string  `json:"value"`
					Average float64 `json:"average"`
				} `json:"baseline"`
			} `json:"attributions"`
		} `json:"insightContext"`
	}
)

// DecodeInsightRecord decodes one Insights record as AWS or trailsight
// writes it. It accepts any eventVersion 1.x (AWS examples use 1.07 and
// 1.08), any JSON number form (0.0000882145, 9.82222E-5, 2.0) and a
// missing insightDuration (2019 Start records). It returns an error
// wrapping ErrNotInsight when eventType or eventCategory say the object is
// something else, and an error when eventTime is missing or malformed or
// state is neither Start nor End. Empty and null attribution lists both
// decode as nil, which AppendJSON writes back as [].
func DecodeInsightRecord(b []byte) (InsightRecord, error) {
	var w insightWire
	if err := json.Unmarshal(b, &w); err != nil {
		return InsightRecord{}, fmt.Errorf("decode insight record: %w", err)
	}
	if w.EventType != InsightEventType {
		return InsightRecord{}, fmt.Errorf("decode insight record: eventType %q: %w", w.EventType, ErrNotInsight)
	}
	// eventCategory appeared in 1.07; older records simply lack it.
	if w.EventCategory != "" && w.EventCategory != InsightCategory {
		return InsightRecord{}, fmt.Errorf("decode insight record: eventCategory %q: %w", w.EventCategory, ErrNotInsight)
	}
	if major, _, ok := strings.Cut(w.EventVersion, "."); !ok || major != "1" {
		return InsightRecord{}, fmt.Errorf("decode insight record: unsupported eventVersion %q", w.EventVersion)
	}
	t, err := time.Parse(time.RFC3339, w.EventTime)
	if err != nil {
		return InsightRecord{}, fmt.Errorf("decode insight record: eventTime: %w", err)
	}
	t = t.UTC()
	// A time zone offset can push the UTC year outside what the wire layout
	// (and time.Parse) can carry; such a record could not be written back.
	if y := t.Year(); y < 0 || y > 9999 {
		return InsightRecord{}, fmt.Errorf("decode insight record: eventTime %q out of range", w.EventTime)
	}
	d := &w.InsightDetails
	if d.State != StateStart && d.State != StateEnd {
		return InsightRecord{}, fmt.Errorf("decode insight record: state %q is neither %s nor %s", d.State, StateStart, StateEnd)
	}
	st := &d.InsightContext.Statistics
	insightDur, err := durationMinutes(st.InsightDuration)
	if err != nil {
		return InsightRecord{}, fmt.Errorf("decode insight record: insightDuration: %w", err)
	}
	baselineDur, err := durationMinutes(st.BaselineDuration)
	if err != nil {
		return InsightRecord{}, fmt.Errorf("decode insight record: baselineDuration: %w", err)
	}

	r := InsightRecord{
		EventVersion:       w.EventVersion,
		EventTime:          t,
		AWSRegion:          w.AWSRegion,
		EventID:            w.EventID,
		RecipientAccountID: w.RecipientAccountID,
		SharedEventID:      w.SharedEventID,
		State:              d.State,
		EventSource:        d.EventSource,
		EventName:          d.EventName,
		InsightType:        d.InsightType,
		ErrorCode:          d.ErrorCode,
		BaselineAverage:    st.Baseline.Average,
		InsightAverage:     st.Insight.Average,
		InsightDuration:    insightDur,
		BaselineDuration:   baselineDur,
	}
	for _, a := range d.InsightContext.Attributions {
		at := Attribution{Attribute: a.Attribute}
		for _, v := range a.Insight {
			at.Insight = append(at.Insight, AttributionValue{Value: v.Value, Average: v.Average})
		}
		for _, v := range a.Baseline {
			at.Baseline = append(at.Baseline, AttributionValue{Value: v.Value, Average: v.Average})
		}
		r.Attributions = append(r.Attributions, at)
	}
	return r, nil
}

// durationMinutes reads a duration in minutes. An absent key is 0; a
// non-integer or out-of-range number is an error.
func durationMinutes(n json.Number) (int, error) {
	if n == "" {
		return 0, nil
	}
	if i, err := strconv.Atoi(string(n)); err == nil {
		return i, nil
	}
	// 5.0 or 5e0: accept when the value is a whole number that fits an int.
	f, err := n.Float64()
	if err != nil || f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
		return 0, fmt.Errorf("%s is not a whole number of minutes", n)
	}
	return int(f), nil
}

// DecodeInsightFile decodes the body of an Insights file: {"Records":[...]},
// gzipped (as stored in S3) or not. The body must have a Records array;
// a digest file, which has none, is an error. The first bad record fails
// the whole file, with its index in the error.
func DecodeInsightFile(b []byte) ([]InsightRecord, error) {
	// gzip magic number; S3 objects are gzipped, local fixtures often not.
	if IsGzip(b) {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("decode insight file: %w", err)
		}
		if b, err = io.ReadAll(zr); err != nil {
			return nil, fmt.Errorf("decode insight file: gunzip: %w", err)
		}
	}
	var body struct {
		Records *[]json.RawMessage `json:"Records"`
	}
	if err := json.Unmarshal(b, &body); err != nil {
		return nil, fmt.Errorf("decode insight file: %w", err)
	}
	if body.Records == nil {
		return nil, errors.New("decode insight file: no Records array")
	}
	out := make([]InsightRecord, 0, len(*body.Records))
	for i, raw := range *body.Records {
		r, err := DecodeInsightRecord(raw)
		if err != nil {
			return nil, fmt.Errorf("decode insight file: record %d: %w", i, err)
		}
		out = append(out, r)
	}
	return out, nil
}
