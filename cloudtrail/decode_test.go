package cloudtrail

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// readSeed returns testdata/records/name.
func readSeed(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "records", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func gzipBytes(tb testing.TB, b []byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		tb.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// refRecord holds the same fields as Event, for encoding/json: the reference
// decoder of the tests and the baseline of the benchmark.
type refRecord struct {
	EventTime          string `json:"eventTime"`
	EventID            string `json:"eventID"`
	EventVersion       string `json:"eventVersion"`
	EventSource        string `json:"eventSource"`
	EventName          string `json:"eventName"`
	AWSRegion          string `json:"awsRegion"`
	RecipientAccountID string `json:"recipientAccountId"`
	EventType          string `json:"eventType"`
	EventCategory      string `json:"eventCategory"`
	UserIdentity       struct {
		ARN       string `json:"arn"`
		AccountID string `json:"accountId"`
		InvokedBy string `json:"invokedBy"`
	} `json:"userIdentity"`
	UserAgent       string `json:"userAgent"`
	ErrorCode       string `json:"errorCode"`
	ReadOnly        *bool  `json:"readOnly"`
	ManagementEvent *bool  `json:"managementEvent"`
}

// refDecode decodes a bare record with encoding/json.
func refDecode(b []byte, ev *Event) error {
	var r refRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return err
	}
	t, err := time.Parse(time.RFC3339, r.EventTime)
	if err != nil {
		return err
	}
	*ev = Event{
		EventTime:          t.Unix(),
		EventID:            r.EventID,
		EventVersion:       r.EventVersion,
		EventSource:        r.EventSource,
		EventName:          r.EventName,
		AWSRegion:          r.AWSRegion,
		RecipientAccountID: r.RecipientAccountID,
		EventType:          r.EventType,
		EventCategory:      r.EventCategory,
		UserIdentityARN:    r.UserIdentity.ARN,
		InvokedBy:          r.UserIdentity.InvokedBy,
		UserAgent:          r.UserAgent,
		ErrorCode:          r.ErrorCode,
		ReadOnly:           refBool(r.ReadOnly),
		ManagementEvent:    refBool(r.ManagementEvent),
		Size:               len(bytes.TrimSpace(b)),
	}
	if ev.RecipientAccountID == "" {
		ev.RecipientAccountID = r.UserIdentity.AccountID
	}
	return nil
}

func refBool(p *bool) Bool {
	switch {
	case p == nil:
		return Unset
	case *p:
		return True
	}
	return False
}

func unix(s string) int64 {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.Unix()
}

// seedWant is what DecodeRecord gives for each seed record.
var seedWant = map[string]struct {
	ev  Event
	err error // ErrInsightRecord, or a *DecodeError compared by Reason
}{
	"api_call_write.json": {ev: Event{
		EventTime:          unix("2023-04-13T19:56:38Z"),
		EventID:            "dc0c14ae-72ae-4025-aaf7-b9707500adff",
		EventVersion:       "1.09",
		EventSource:        "ec2.amazonaws.com",
		EventName:          "RunInstances",
		AWSRegion:          "us-east-1",
		RecipientAccountID: "062000000000",
		EventType:          "AwsApiCall",
		EventCategory:      "Management",
		UserIdentityARN:    "arn:aws:sts::062000000000:assumed-role/DeployRole/deploy-pipeline",
		UserAgent:          "aws-cli/2.11.8 Python/3.11.2 Darwin/21.6.0",
		ReadOnly:           False,
		ManagementEvent:    True,
	}},
	"read_only.json": {ev: Event{
		EventTime:          unix("2023-07-19T21:17:28Z"),
		EventID:            "5ab8c3e4-6d7f-4b1a-9c2e-3f4a5b6c7d8e",
		EventVersion:       "1.08",
		EventSource:        "ec2.amazonaws.com",
		EventName:          "DescribeInstances",
		AWSRegion:          "eu-west-1",
		RecipientAccountID: "888888888888",
		EventType:          "AwsApiCall",
		EventCategory:      "Management",
		UserIdentityARN:    "arn:aws:iam::888888888888:user/Mary",
		UserAgent:          "Boto3/1.26.160 Python/3.10.12 Linux/5.15.0 Botocore/1.29.160",
		ReadOnly:           True,
		ManagementEvent:    True,
	}},
	"access_denied.json": {ev: Event{
		EventTime:          unix("2023-04-13T20:01:05Z"),
		EventID:            "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a",
		EventVersion:       "1.08",
		EventSource:        "iam.amazonaws.com",
		EventName:          "CreateUser",
		AWSRegion:          "us-east-1",
		RecipientAccountID: "123456789012",
		EventType:          "AwsApiCall",
		EventCategory:      "Management",
		UserIdentityARN:    "arn:aws:iam::123456789012:user/Alice",
		UserAgent:          "aws-sdk-go-v2/1.21.0 os/linux lang/go#1.21.1 md/GOOS#linux md/GOARCH#amd64 api/iam#1.22.5",
		ErrorCode:          "AccessDenied",
		ReadOnly:           False,
		ManagementEvent:    True,
	}},
	"console_signin.json": {ev: Event{
		EventTime:          unix("2023-09-02T08:15:44Z"),
		EventID:            "3fcfb586-21e8-4b1f-a7a2-6e2b59d4c0aa",
		EventVersion:       "1.08",
		EventSource:        "signin.amazonaws.com",
		EventName:          "ConsoleLogin",
		AWSRegion:          "us-east-1",
		RecipientAccountID: "111122223333",
		EventType:          "AwsConsoleSignIn",
		EventCategory:      "Management",
		UserIdentityARN:    "arn:aws:iam::111122223333:user/JaneDoe",
		UserAgent:          "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0.0.0 Safari/537.36",
		ReadOnly:           False,
		ManagementEvent:    True,
	}},
	"eventbridge_envelope.json": {ev: Event{
		EventTime:          unix("2016-02-20T01:09:13Z"),
		EventID:            "24ba271e-d595-4e66-a7fd-9c16cbf8abae",
		EventVersion:       "1.03",
		EventSource:        "s3.amazonaws.com",
		EventName:          "CreateBucket",
		AWSRegion:          "us-east-1",
		RecipientAccountID: "123456789012", // userIdentity.accountId: 1.03 has no recipientAccountId
		EventType:          "AwsApiCall",
		UserIdentityARN:    "arn:aws:iam::123456789012:root",
		UserAgent:          "[S3Console/0.4]",
	}},
	"old_record.json": {ev: Event{
		EventTime:          unix("2014-03-06T21:22:54Z"),
		EventID:            "a4f5e1b2-7f3c-4d2a-9b0e-1c2d3e4f5a6b",
		EventVersion:       "1.02",
		EventSource:        "ec2.amazonaws.com",
		EventName:          "StartInstances",
		AWSRegion:          "us-east-2",
		RecipientAccountID: "123456789012",
		UserIdentityARN:    "arn:aws:iam::123456789012:user/Renée",
		UserAgent:          "ec2-api-tools 1.6.12.2 🚀 \"beta\"",
	}},
	"insight.json": {err: ErrInsightRecord, ev: Event{
		EventTime:          unix("2020-07-21T20:56:00Z"),
		EventID:            "abcd00b0-ccfe-422d-961c-98a2198a408x",
		EventVersion:       "1.07",
		AWSRegion:          "us-east-1",
		RecipientAccountID: "838185438692",
		EventType:          "AwsCloudTrailInsight",
		EventCategory:      "Insight",
	}},
	"digest.json":   {err: &DecodeError{Reason: ReasonMissingEventTime}},
	"log_file.json": {err: &DecodeError{Reason: ReasonMissingEventTime}},
}

// checkErr compares a DecodeRecord error with want: the same sentinel, or a
// DecodeError with the same Reason.
func checkErr(t *testing.T, got, want error) {
	t.Helper()
	var wantDE *DecodeError
	if errors.As(want, &wantDE) {
		var gotDE *DecodeError
		if !errors.As(got, &gotDE) || gotDE.Reason != wantDE.Reason {
			t.Fatalf("error = %v, want reason %v", got, wantDE.Reason)
		}
		return
	}
	if !errors.Is(got, want) {
		t.Fatalf("error = %v, want %v", got, want)
	}
}

func TestDecodeRecordSeeds(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "records", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(seedWant) {
		t.Errorf("%d seed files, %d expectations", len(files), len(seedWant))
	}
	d := NewDecoder()
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			want, ok := seedWant[name]
			if !ok {
				t.Fatal("no expectation for this seed")
			}
			b := readSeed(t, name)
			var got Event
			err := d.DecodeRecord(b, &got)
			checkErr(t, err, want.err)
			if err != nil && want.err != ErrInsightRecord {
				return
			}
			want.ev.Size = len(bytes.TrimSpace(b))
			want.ev.Raw = wantRaw(t, b)
			if diff := cmp.Diff(want.ev, got); diff != "" {
				t.Errorf("DecodeRecord(%s) mismatch (-want +got):\n%s", name, diff)
			}
			// encoding/json agrees on bare records.
			if want.err == nil && !bytes.Contains(b, []byte(`"detail"`)) {
				var ref Event
				if err := refDecode(b, &ref); err != nil {
					t.Fatal(err)
				}
				ref.Raw = got.Raw
				if diff := cmp.Diff(ref, got); diff != "" {
					t.Errorf("DecodeRecord and encoding/json differ (-json +fast):\n%s", diff)
				}
			}
		})
	}
}

// base is a minimal valid record; cases edit it.
const base = `{"eventVersion":"1.08","eventTime":"2023-04-13T19:56:38Z","eventSource":"ec2.amazonaws.com",` +
	`"eventName":"CreateTags","awsRegion":"us-east-1","recipientAccountId":"062000000000"}`

var baseEvent = Event{
	EventTime:          unix("2023-04-13T19:56:38Z"),
	EventVersion:       "1.08",
	EventSource:        "ec2.amazonaws.com",
	EventName:          "CreateTags",
	AWSRegion:          "us-east-1",
	RecipientAccountID: "062000000000",
}

// with returns base with extra members added at the end (later keys win).
func with(members string) string {
	return base[:len(base)-1] + "," + members + "}"
}

func TestDecodeRecord(t *testing.T) {
	deep := strings.Repeat("[", maxNesting-1) + strings.Repeat("]", maxNesting-1)
	tooDeep := strings.Repeat("[", maxNesting+1) + strings.Repeat("]", maxNesting+1)
	oversize := with(`"requestParameters":{"blob":"` + strings.Repeat("x", MaxRecordSize) + `"}`)

	tests := []struct {
		name string
		in   string
		want func(*Event) // edits baseEvent; nil: baseEvent unchanged
		err  error        // ErrInsightRecord or &DecodeError{Reason: ...}
	}{
		{name: "minimal", in: base},
		{name: "whitespace around", in: " \n\t" + base + "\r\n "},
		{name: "pretty", in: "{\n  \"eventVersion\" : \"1.08\" ,\n  \"eventTime\": \"2023-04-13T19:56:38Z\",\n" +
			"  \"eventSource\":\"ec2.amazonaws.com\", \"eventName\":\"CreateTags\",\n" +
			"  \"awsRegion\":\"us-east-1\",\"recipientAccountId\":\"062000000000\"\n}"},
		{name: "all fields", in: with(`"eventID":"e1","eventType":"AwsApiCall","eventCategory":"Management",` +
			`"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/a","accountId":"1"},"userAgent":"ua",` +
			`"errorCode":"AccessDenied","readOnly":false,"managementEvent":true`),
			want: func(e *Event) {
				e.EventID, e.EventType, e.EventCategory = "e1", "AwsApiCall", "Management"
				e.UserIdentityARN, e.UserAgent, e.ErrorCode = "arn:aws:iam::1:user/a", "ua", "AccessDenied"
				e.ReadOnly, e.ManagementEvent = False, True
			}},
		{name: "skipped values of every kind", in: with(`"a":{"b":[1,-2.5e+3,0,true,false,null,"s\"}",{"c":{}},[]],"d":""},` +
			`"e":[],"f":{},"g":-0.0E-0,"h":"\u00e9\ud83d\ude80\\\/"`)},
		{name: "nested keys are not fields", in: with(`"requestParameters":{"eventName":"X","awsRegion":"Y","userIdentity":{"arn":"Z"}}`)},
		{name: "nested arn outside userIdentity", in: with(`"sessionContext":{"arn":"X"}`)},
		{name: "a service's call on the account's behalf", in: with(`"userIdentity":{"type":"AssumedRole",` +
			`"arn":"arn:aws:sts::1:assumed-role/cfn/AWSCloudFormation","invokedBy":"cloudformation.amazonaws.com"}`),
			want: func(e *Event) {
				e.UserIdentityARN, e.InvokedBy = "arn:aws:sts::1:assumed-role/cfn/AWSCloudFormation", "cloudformation.amazonaws.com"
			}},
		{name: "invokedBy outside userIdentity", in: with(`"requestParameters":{"invokedBy":"X"},"sessionContext":{"invokedBy":"Y"}`)},
		{name: "sessionIssuer arn is not the identity arn", in: with(`"userIdentity":{"sessionContext":{"sessionIssuer":{"arn":"issuer"}},"arn":"session"}`),
			want: func(e *Event) { e.UserIdentityARN = "session" }},

		// Strings with escapes.
		{name: "escaped value", in: with(`"eventName":"Create\u0054ags"`)},
		{name: "simple escapes", in: with(`"userAgent":"a\"b\\c\/d\b\f\n\r\t"`),
			want: func(e *Event) { e.UserAgent = "a\"b\\c/d\b\f\n\r\t" }},
		{name: "surrogate pair", in: with(`"userAgent":"x\ud83d\ude80y"`),
			want: func(e *Event) { e.UserAgent = "x🚀y" }},
		{name: "lone high surrogate", in: with(`"userAgent":"\ud83d x"`),
			want: func(e *Event) { e.UserAgent = "\uFFFD x" }},
		{name: "lone low surrogate", in: with(`"userAgent":"\ude80"`),
			want: func(e *Event) { e.UserAgent = "\uFFFD" }},
		{name: "high surrogate then non-surrogate", in: with(`"userAgent":"\ud83d\u0041"`),
			want: func(e *Event) { e.UserAgent = "\uFFFDA" }},
		{name: "escaped arn goes to the arena", in: with(`"userIdentity":{"arn":"arn:aws:iam::1:user\/Ren\u00e9e"},"eventID":"\u0031"`),
			want: func(e *Event) { e.UserIdentityARN, e.EventID = "arn:aws:iam::1:user/Renée", "1" }},
		{name: "escaped key", in: with(`"event\u004eame":"X"`),
			want: func(e *Event) { e.EventName = "X" }},
		{name: "escaped userIdentity key", in: with(`"userIdentity":{"\u0061rn":"A"}`),
			want: func(e *Event) { e.UserIdentityARN = "A" }},
		{name: "non-ASCII passes through", in: with(`"userAgent":"Größe/1.0 日本"`),
			want: func(e *Event) { e.UserAgent = "Größe/1.0 日本" }},

		// Keys.
		{name: "keys are case-sensitive", in: `{"EventTime":"2023-04-13T19:56:38Z"}`,
			err: &DecodeError{Reason: ReasonMissingEventTime}},
		{name: "duplicate key: last wins", in: with(`"eventName":"Second"`),
			want: func(e *Event) { e.EventName = "Second" }},
		{name: "duplicate userIdentity: last wins", in: with(`"userIdentity":{"arn":"A","accountId":"1","invokedBy":"s"},"userIdentity":{"type":"Root"}`)},
		{name: "null value is absent", in: with(`"errorCode":"X","errorCode":null`)},
		{name: "null userIdentity", in: with(`"userIdentity":null`)},
		{name: "wrong type is absent", in: with(`"userAgent":42,"errorCode":["X"]`)},
		{name: "empty object record", in: `{}`, err: &DecodeError{Reason: ReasonMissingEventTime}},

		// readOnly and managementEvent.
		{name: "readOnly true", in: with(`"readOnly":true`), want: func(e *Event) { e.ReadOnly = True }},
		{name: "readOnly false", in: with(`"readOnly":false`), want: func(e *Event) { e.ReadOnly = False }},
		{name: "readOnly string true", in: with(`"readOnly":"true"`), want: func(e *Event) { e.ReadOnly = True }},
		{name: "readOnly string false", in: with(`"readOnly":"false"`), want: func(e *Event) { e.ReadOnly = False }},
		{name: "readOnly null", in: with(`"readOnly":true,"readOnly":null`)},
		{name: "readOnly other string", in: with(`"readOnly":"yes"`)},
		{name: "readOnly number", in: with(`"readOnly":0`)},
		{name: "managementEvent true", in: with(`"managementEvent":true`), want: func(e *Event) { e.ManagementEvent = True }},
		{name: "managementEvent string false", in: with(`"managementEvent":"false"`), want: func(e *Event) { e.ManagementEvent = False }},

		// eventTime.
		{name: "fractional seconds", in: with(`"eventTime":"2023-04-13T19:56:38.999Z"`)},
		{name: "zero offset", in: with(`"eventTime":"2023-04-13T19:56:38+00:00"`)},
		{name: "negative offset", in: with(`"eventTime":"2023-04-13T14:56:38-05:00"`)},
		{name: "positive offset with fraction", in: with(`"eventTime":"2023-04-14T01:26:38.5+05:30"`)},
		{name: "offset without colon", in: with(`"eventTime":"2023-04-13T19:56:38+0000"`)},
		{name: "space separator", in: with(`"eventTime":"2023-04-13 19:56:38Z"`)},
		{name: "no zone is UTC", in: with(`"eventTime":"2023-04-13T19:56:38"`)},
		{name: "escaped time", in: with(`"eventTime":"2023-04-13T19:56:38\u005a"`)},
		{name: "leap day", in: with(`"eventTime":"2024-02-29T00:00:00Z"`),
			want: func(e *Event) { e.EventTime = unix("2024-02-29T00:00:00Z") }},
		{name: "year 9999", in: with(`"eventTime":"9999-12-31T23:59:59Z"`),
			want: func(e *Event) { e.EventTime = 253402300799 }},
		{name: "one second after the epoch", in: with(`"eventTime":"1970-01-01T00:00:01Z"`),
			want: func(e *Event) { e.EventTime = 1 }},
		{name: "epoch", in: with(`"eventTime":"1970-01-01T00:00:00Z"`), err: &DecodeError{Reason: ReasonBadTime}},
		{name: "before the epoch", in: with(`"eventTime":"1969-12-31T23:59:59Z"`), err: &DecodeError{Reason: ReasonBadTime}},
		{name: "not a leap year", in: with(`"eventTime":"2023-02-29T00:00:00Z"`), err: &DecodeError{Reason: ReasonBadTime}},
		{name: "month 13", in: with(`"eventTime":"2023-13-01T00:00:00Z"`), err: &DecodeError{Reason: ReasonBadTime}},
		{name: "hour 24", in: with(`"eventTime":"2023-04-13T24:00:00Z"`), err: &DecodeError{Reason: ReasonBadTime}},
		{name: "second 60", in: with(`"eventTime":"2023-04-13T23:59:60Z"`), err: &DecodeError{Reason: ReasonBadTime}},
		{name: "empty time", in: with(`"eventTime":""`), err: &DecodeError{Reason: ReasonBadTime}},
		{name: "garbage time", in: with(`"eventTime":"yesterday"`), err: &DecodeError{Reason: ReasonBadTime}},
		{name: "date only", in: with(`"eventTime":"2023-04-13"`), err: &DecodeError{Reason: ReasonBadTime}},
		{name: "trailing junk in time", in: with(`"eventTime":"2023-04-13T19:56:38Zjunk"`), err: &DecodeError{Reason: ReasonBadTime}},
		{name: "numeric time is absent", in: with(`"eventTime":1681415798`), err: &DecodeError{Reason: ReasonMissingEventTime}},
		{name: "null time", in: with(`"eventTime":null`), err: &DecodeError{Reason: ReasonMissingEventTime}},

		// Required fields and the account fallback.
		{name: "no eventSource", in: `{"eventTime":"2023-04-13T19:56:38Z","eventName":"A","awsRegion":"r","recipientAccountId":"1"}`,
			err: &DecodeError{Reason: ReasonMissingField}},
		{name: "empty eventName", in: with(`"eventName":""`), err: &DecodeError{Reason: ReasonMissingField}},
		{name: "null awsRegion", in: with(`"awsRegion":null`), err: &DecodeError{Reason: ReasonMissingField}},
		{name: "account from userIdentity", in: with(`"recipientAccountId":null,"userIdentity":{"accountId":"999"}`),
			want: func(e *Event) { e.RecipientAccountID = "999" }},
		{name: "empty recipient falls back", in: with(`"recipientAccountId":"","userIdentity":{"accountId":"999"}`),
			want: func(e *Event) { e.RecipientAccountID = "999" }},
		{name: "recipient wins over caller", in: with(`"userIdentity":{"accountId":"999"}`)},
		{name: "no account at all", in: with(`"recipientAccountId":null,"userIdentity":{"type":"AWSService"}`),
			err: &DecodeError{Reason: ReasonMissingField}},

		// Envelopes and Insights.
		{name: "envelope", in: `{"version":"0","detail-type":"AWS API Call via CloudTrail","source":"aws.ec2","detail":` + base + `}`},
		{name: "envelope without detail-type", in: `{"id":"x","detail":` + base + `}`},
		{name: "envelope top level ignored", in: `{"detail-type":"x","eventName":"Top","detail":` + base + `}`},
		{name: "record with a detail key is not an envelope", in: with(`"detail":{"eventName":"Inner"}`)},
		{name: "envelope detail not an object", in: `{"detail-type":"x","detail":"s"}`,
			err: &DecodeError{Reason: ReasonMissingEventTime}},
		{name: "nested detail is skipped", in: `{"detail-type":"x","detail":` + with(`"detail":{"eventName":"Deep"}`) + `}`},
		{name: "insight", in: `{"eventVersion":"1.08","eventTime":"2020-07-21T20:56:00Z","awsRegion":"us-east-1","eventType":"AwsCloudTrailInsight","recipientAccountId":"1"}`,
			want: func(e *Event) {
				*e = Event{EventTime: unix("2020-07-21T20:56:00Z"), EventVersion: "1.08", AWSRegion: "us-east-1",
					EventType: InsightEventType, RecipientAccountID: "1"}
			}, err: ErrInsightRecord},
		{name: "insight without time", in: `{"eventType":"AwsCloudTrailInsight"}`,
			want: func(e *Event) { *e = Event{EventType: InsightEventType} }, err: ErrInsightRecord},
		{name: "insight in an envelope", in: `{"detail-type":"AWS Insight via CloudTrail","detail":{"eventType":"AwsCloudTrailInsight"}}`,
			want: func(e *Event) { *e = Event{EventType: InsightEventType} }, err: ErrInsightRecord},

		// Records that are set aside.
		{name: "empty input", in: "", err: &DecodeError{Reason: ReasonTruncated}},
		{name: "only whitespace", in: " \n ", err: &DecodeError{Reason: ReasonTruncated}},
		{name: "array", in: `[` + base + `]`, err: &DecodeError{Reason: ReasonNotObject}},
		{name: "string", in: `"x"`, err: &DecodeError{Reason: ReasonNotObject}},
		{name: "number", in: `42`, err: &DecodeError{Reason: ReasonNotObject}},
		{name: "null", in: `null`, err: &DecodeError{Reason: ReasonNotObject}},
		{name: "not JSON", in: `CloudTrail validation message.`, err: &DecodeError{Reason: ReasonBadJSON}},
		{name: "truncated array", in: `[1,`, err: &DecodeError{Reason: ReasonTruncated}},
		{name: "truncated in a string", in: base[:40], err: &DecodeError{Reason: ReasonTruncated}},
		{name: "truncated after a key", in: `{"eventTime"`, err: &DecodeError{Reason: ReasonTruncated}},
		{name: "truncated after the colon", in: `{"eventTime":`, err: &DecodeError{Reason: ReasonTruncated}},
		{name: "truncated in a literal", in: `{"readOnly":tr`, err: &DecodeError{Reason: ReasonTruncated}},
		{name: "truncated in a number", in: `{"a":1.`, err: &DecodeError{Reason: ReasonTruncated}},
		{name: "truncated in an escape", in: `{"a":"\u00`, err: &DecodeError{Reason: ReasonTruncated}},
		{name: "truncated in a skipped object", in: `{"a":{"b":[{}`, err: &DecodeError{Reason: ReasonTruncated}},
		{name: "only an open brace", in: `{`, err: &DecodeError{Reason: ReasonTruncated}},
		{name: "bad literal", in: with(`"readOnly":tru`), err: &DecodeError{Reason: ReasonBadJSON}},
		{name: "bad nested literal", in: with(`"a":[nul]`), err: &DecodeError{Reason: ReasonBadJSON}},
		{name: "missing colon", in: `{"eventTime" "x"}`, err: &DecodeError{Reason: ReasonBadJSON}},
		{name: "missing comma", in: `{"a":1 "b":2}`, err: &DecodeError{Reason: ReasonBadJSON}},
		{name: "trailing comma in object", in: with(`"a":1,`), err: &DecodeError{Reason: ReasonBadJSON}},
		{name: "trailing comma in array", in: with(`"a":[1,]`), err: &DecodeError{Reason: ReasonBadJSON}},
		{name: "leading comma", in: `{,"a":1}`, err: &DecodeError{Reason: ReasonBadJSON}},
		{name: "unquoted key", in: `{a:1}`, err: &DecodeError{Reason: ReasonBadJSON}},
		{name: "single quotes", in: `{'a':1}`, err: &DecodeError{Reason: ReasonBadJSON}},
		{name: "leading zero", in: with(`"a":01`), err: &DecodeError{Reason: ReasonBadJSON}},
		{name: "bare minus", in: with(`"a":-`), err: &DecodeError{Reason: ReasonBadJSON}},
		{name: "plus sign", in: with(`"a":+1`), err: &DecodeError{Reason: ReasonBadJSON}},
		{name: "bad exponent", in: with(`"a":1e`), err: &DecodeError{Reason: ReasonBadJSON}},
		{name: "mismatched brackets", in: with(`"a":[}`), err: &DecodeError{Reason: ReasonBadJSON}},
		{name: "control character in a string", in: with("\"userAgent\":\"a\tb\""), err: &DecodeError{Reason: ReasonBadJSON}},
		{name: "newline in a skipped string", in: with("\"a\":\"x\ny\""), err: &DecodeError{Reason: ReasonBadJSON}},
		{name: "bad escape", in: with(`"userAgent":"\x"`), err: &DecodeError{Reason: ReasonBadJSON}},
		{name: "bad unicode escape", in: with(`"a":"\u12G4"`), err: &DecodeError{Reason: ReasonBadJSON}},
		{name: "data after the record", in: base + `x`, err: &DecodeError{Reason: ReasonBadJSON}},
		{name: "two records", in: base + base, err: &DecodeError{Reason: ReasonBadJSON}},
		{name: "deep nesting is fine", in: with(`"a":` + deep)},
		{name: "too deep", in: with(`"a":` + tooDeep), err: &DecodeError{Reason: ReasonBadJSON}},
		{name: "oversize", in: oversize, err: &DecodeError{Reason: ReasonOversize}},
	}
	d := NewDecoder()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got Event
			err := d.DecodeRecord([]byte(tc.in), &got)
			checkErr(t, err, tc.err)
			if err != nil && tc.err != ErrInsightRecord {
				return
			}
			want := baseEvent
			if tc.want != nil {
				tc.want(&want)
			}
			want.Size = len(strings.TrimSpace(tc.in)) // the whole object, envelope included
			want.Raw = wantRaw(t, []byte(tc.in))
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("DecodeRecord(%.200q) mismatch (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestDecodeErrorString(t *testing.T) {
	d := NewDecoder()
	var ev Event
	err := d.DecodeRecord([]byte(`{"a":tru}`), &ev)
	if got, want := err.Error(), "decode record at offset 0: bad_json: invalid literal at byte 8"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	var se *syntaxError
	if !errors.As(err, &se) {
		t.Errorf("Unwrap does not reach the syntax error: %v", err)
	}
	for r, want := range map[Reason]string{
		0: "reason_0", ReasonTruncated: "truncated", ReasonNotObject: "not_object", ReasonBadJSON: "bad_json",
		ReasonMissingEventTime: "missing_event_time", ReasonBadTime: "bad_time", ReasonOversize: "oversize",
		ReasonMissingField: "missing_field", ReasonBadGzip: "bad_gzip", 99: "reason_99",
	} {
		if got := r.String(); got != want {
			t.Errorf("Reason(%d).String() = %q, want %q", r, got, want)
		}
	}
	for k, want := range map[BodyKind]string{
		0: "body_kind_0", BodyLogFile: "log_file", BodyArray: "array", BodyLines: "lines", BodyRecord: "record",
		BodyEnvelope: "envelope", BodyDigest: "digest", BodyInsightFile: "insight_file", BodyEmpty: "empty",
	} {
		if got := k.String(); got != want {
			t.Errorf("BodyKind(%d).String() = %q, want %q", k, got, want)
		}
	}
}

// cloneEvent returns a deep copy of e: strings that share no memory with e's.
func cloneEvent(e Event) Event {
	for _, p := range []*string{&e.EventID, &e.EventVersion, &e.EventSource, &e.EventName, &e.AWSRegion,
		&e.RecipientAccountID, &e.EventType, &e.EventCategory, &e.UserIdentityARN, &e.UserAgent, &e.ErrorCode} {
		*p = strings.Clone(*p)
	}
	return e
}

// TestDecodeRecordNoAlias checks that the strings of a decoded Event share no
// memory with the input, nor with what the Decoder decodes next.
func TestDecodeRecordNoAlias(t *testing.T) {
	d := NewDecoder()
	next := []byte(with(`"eventID":"other-id","userIdentity":{"arn":"other-arn"}`))
	for name, want := range seedWant {
		if want.err != nil && want.err != ErrInsightRecord {
			continue
		}
		t.Run(name, func(t *testing.T) {
			b := readSeed(t, name)
			var ev Event
			if err := d.DecodeRecord(b, &ev); err != nil && err != ErrInsightRecord {
				t.Fatal(err)
			}
			saved := cloneEvent(ev)
			for i := range b {
				b[i] = 'X'
			}
			var ev2 Event
			if err := d.DecodeRecord(next, &ev2); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(saved, ev); diff != "" {
				t.Errorf("event changed with the input buffer (-before +after):\n%s", diff)
			}
		})
	}
}

func TestDecodeRecordAllocs(t *testing.T) {
	for _, name := range []string{"api_call_write.json", "old_record.json", "console_signin.json"} {
		b := readSeed(t, name)
		d := NewDecoder()
		var ev Event
		if err := d.DecodeRecord(b, &ev); err != nil { // fills the intern table
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(100, func() {
			if err := d.DecodeRecord(b, &ev); err != nil {
				t.Fatal(err)
			}
		})
		if allocs > 1 {
			t.Errorf("%s: %.1f allocations per record, want at most 1", name, allocs)
		}
	}
}

func TestDecodeRecordInternBounded(t *testing.T) {
	d := NewDecoder()
	var ev Event
	for i := range maxInternEntries + 100 {
		b := []byte(with(`"userAgent":"agent-` + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + `-` + strconv.Itoa(i) + `"`))
		if err := d.DecodeRecord(b, &ev); err != nil {
			t.Fatal(err)
		}
		if want := "agent-" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + "-" + strconv.Itoa(i); ev.UserAgent != want {
			t.Fatalf("UserAgent = %q, want %q", ev.UserAgent, want)
		}
	}
	if len(d.tab) > maxInternEntries {
		t.Errorf("intern table holds %d entries, more than %d", len(d.tab), maxInternEntries)
	}
	long := strings.Repeat("u", maxInternLen+1)
	if err := d.DecodeRecord([]byte(with(`"userAgent":"`+long+`"`)), &ev); err != nil || ev.UserAgent != long {
		t.Errorf("long userAgent: err %v, got %d bytes", err, len(ev.UserAgent))
	}
}

func TestParseEventTime(t *testing.T) {
	tests := []struct {
		in   string
		want string // RFC 3339 in UTC; "" = rejected
	}{
		{"2023-04-13T19:56:38Z", "2023-04-13T19:56:38Z"},
		{"2023-04-13T19:56:38.123456789Z", "2023-04-13T19:56:38Z"},
		{"2023-04-13T19:56:38+02:00", "2023-04-13T17:56:38Z"},
		{"2023-04-13T19:56:38-02:30", "2023-04-13T22:26:38Z"},
		{"2000-02-29T12:00:00Z", "2000-02-29T12:00:00Z"},
		{"1900-03-01T00:00:00Z", ""},
		{"2100-02-29T00:00:00Z", ""},
		{"2023-04-31T00:00:00Z", ""},
		{"2023-04-13T19:56:38.Z", ""},
		{"2023-04-13T19:56:38+2:00", ""},
		{"2023-04-13t19:56:38z", ""},
		{"2023-4-13T19:56:38Z", ""},
	}
	for _, tc := range tests {
		got, ok := parseEventTime([]byte(tc.in))
		switch {
		case tc.want == "" && ok:
			t.Errorf("parseEventTime(%q) = %d, want rejection", tc.in, got)
		case tc.want != "" && (!ok || got != unix(tc.want)):
			t.Errorf("parseEventTime(%q) = %d, %v; want %d", tc.in, got, ok, unix(tc.want))
		}
	}
	// The fast path agrees with time.Parse over a spread of instants.
	for sec := int64(1); sec < 4e9; sec += 7777777 {
		s := time.Unix(sec, 0).UTC().Format(time.RFC3339)
		if got, ok := parseRFC3339([]byte(s)); !ok || got != sec {
			t.Fatalf("parseRFC3339(%q) = %d, %v; want %d", s, got, ok, sec)
		}
	}
}

// bodyResult is what a DecodeBody call reported.
type bodyResult struct {
	Stats   BodyStats
	IDs     []string // EventID of each record passed to fn, in order
	Reasons []Reason // Reason of each record passed to bad, in order
	Err     Reason   // Reason of the returned error; 0 for nil
}

func decodeBody(t *testing.T, d *Decoder, body []byte) bodyResult {
	t.Helper()
	var res bodyResult
	st, err := d.DecodeBody(body, func(ev *Event) {
		if ev.EventTime == 0 || ev.EventSource == "" || ev.EventName == "" {
			t.Errorf("accepted event lacks a required field: %+v", *ev)
		}
		res.IDs = append(res.IDs, ev.EventID)
	}, func(e DecodeError) {
		res.Reasons = append(res.Reasons, e.Reason)
	})
	res.Stats = st
	if err != nil {
		var de *DecodeError
		if !errors.As(err, &de) {
			t.Fatalf("DecodeBody error %v is not a *DecodeError", err)
		}
		res.Err = de.Reason
	}
	if st.Records != len(res.IDs) || st.Invalid != len(res.Reasons) {
		t.Errorf("stats %+v disagree with %d fn and %d bad calls", st, len(res.IDs), len(res.Reasons))
	}
	return res
}

// rec returns base with the given eventID.
func rec(id string) string { return with(`"eventID":"` + id + `"`) }

func TestDecodeBody(t *testing.T) {
	r1, r2 := rec("1"), rec("2")
	insight := string(readSeed(t, "insight.json"))
	logFile := readSeed(t, "log_file.json")
	logIDs := []string{"dc0c14ae-72ae-4025-aaf7-b9707500adff", "1e8b2f6a-0c3d-4e5f-8a9b-0c1d2e3f4a5b", "6c5d4e3f-2a1b-4c0d-9e8f-7a6b5c4d3e2f"}
	gzLog := gzipBytes(t, logFile)
	// A gzip stream that breaks off after the first record: the first
	// record is read, the second is cut.
	cut := gzipBytes(t, []byte(`{"Records":[`+r1+`,`+strings.Repeat(" ", 1<<16)+r2+`]}`))
	cut = cut[:len(cut)/2]

	tests := []struct {
		name string
		body string
		want bodyResult
	}{
		{name: "log file", body: string(logFile), want: bodyResult{
			Stats: BodyStats{Kind: BodyLogFile, Records: 3}, IDs: logIDs}},
		{name: "gzipped log file", body: string(gzLog), want: bodyResult{
			Stats: BodyStats{Kind: BodyLogFile, Records: 3}, IDs: logIDs}},
		{name: "empty log file", body: `{"Records":[]}`, want: bodyResult{Stats: BodyStats{Kind: BodyLogFile}}},
		{name: "Records not first", body: `{"x":{"Records":[]},"Records":[` + r1 + `,` + r2 + `],"y":1}`, want: bodyResult{
			Stats: BodyStats{Kind: BodyLogFile, Records: 2}, IDs: []string{"1", "2"}}},
		{name: "escaped Records key", body: `{"Rec\u006frds":[` + r1 + `]}`, want: bodyResult{
			Stats: BodyStats{Kind: BodyLogFile, Records: 1}, IDs: []string{"1"}}},
		{name: "two Records arrays", body: `{"Records":[` + r1 + `],"Records":[` + r2 + `]}`, want: bodyResult{
			Stats: BodyStats{Kind: BodyLogFile, Records: 2}, IDs: []string{"1", "2"}}},
		{name: "log file cut between records", body: `{"Records":[` + r1 + `,`, want: bodyResult{
			Stats: BodyStats{Kind: BodyLogFile, Records: 1, Invalid: 1}, IDs: []string{"1"}, Reasons: []Reason{ReasonTruncated}}},
		{name: "log file cut after a record", body: `{"Records":[` + r1, want: bodyResult{
			Stats: BodyStats{Kind: BodyLogFile, Records: 1, Invalid: 1}, IDs: []string{"1"}, Reasons: []Reason{ReasonTruncated}}},
		{name: "log file cut inside a record", body: `{"Records":[` + r1 + `,` + r2[:30], want: bodyResult{
			Stats: BodyStats{Kind: BodyLogFile, Records: 1, Invalid: 1}, IDs: []string{"1"}, Reasons: []Reason{ReasonTruncated}}},
		{name: "log file without its closing brace", body: `{"Records":[` + r1 + `]`, want: bodyResult{
			Stats: BodyStats{Kind: BodyLogFile, Records: 1}, IDs: []string{"1"}}},
		{name: "log file with a broken member after Records", body: `{"Records":[` + r1 + `],"x":tru}`, want: bodyResult{
			Stats: BodyStats{Kind: BodyLogFile, Records: 1}, IDs: []string{"1"}}},
		{name: "log file with a broken key after Records", body: `{"Records":[` + r1 + `],x}` + "\n" + r2, want: bodyResult{
			Stats: BodyStats{Kind: BodyLines, Records: 2}, IDs: []string{"1", "2"}}},
		{name: "junk after a log file", body: `{"Records":[` + r1 + `]}x`, want: bodyResult{
			Stats: BodyStats{Kind: BodyLines, Records: 1, Invalid: 1}, IDs: []string{"1"}, Reasons: []Reason{ReasonBadJSON}}},
		{name: "Records is not an array", body: `{"Records":{}}`, want: bodyResult{
			Stats: BodyStats{Kind: BodyRecord, Invalid: 1}, Reasons: []Reason{ReasonMissingEventTime}}},
		{name: "insight file", body: `{"Records":[` + insight + `,` + insight + `]}`, want: bodyResult{
			Stats: BodyStats{Kind: BodyInsightFile, Insights: 2}}},
		{name: "insight beside a record", body: `{"Records":[` + insight + `,` + r1 + `]}`, want: bodyResult{
			Stats: BodyStats{Kind: BodyLogFile, Records: 1, Insights: 1}, IDs: []string{"1"}}},
		{name: "array", body: `[` + r1 + `,` + r2 + `]`, want: bodyResult{
			Stats: BodyStats{Kind: BodyArray, Records: 2}, IDs: []string{"1", "2"}}},
		{name: "empty array", body: ` [ ] `, want: bodyResult{Stats: BodyStats{Kind: BodyArray}}},
		{name: "lines", body: r1 + "\n" + r2 + "\n", want: bodyResult{
			Stats: BodyStats{Kind: BodyLines, Records: 2}, IDs: []string{"1", "2"}}},
		{name: "lines with CRLF and blank lines", body: r1 + "\r\n\r\n" + r2, want: bodyResult{
			Stats: BodyStats{Kind: BodyLines, Records: 2}, IDs: []string{"1", "2"}}},
		{name: "lines with a bad first line", body: "timestamp,event\n" + r1 + "\n42\n" + r2, want: bodyResult{
			Stats: BodyStats{Kind: BodyLines, Records: 2, Invalid: 2}, IDs: []string{"1", "2"},
			Reasons: []Reason{ReasonBadJSON, ReasonNotObject}}},
		{name: "concatenated objects", body: r1 + r2, want: bodyResult{
			Stats: BodyStats{Kind: BodyLines, Records: 2}, IDs: []string{"1", "2"}}},
		{name: "lines of log files", body: `{"Records":[` + r1 + "]}\n" + `{"Records":[` + r2 + "]}\n", want: bodyResult{
			Stats: BodyStats{Kind: BodyLines, Records: 2}, IDs: []string{"1", "2"}}},
		{name: "one record", body: r1, want: bodyResult{
			Stats: BodyStats{Kind: BodyRecord, Records: 1}, IDs: []string{"1"}}},
		{name: "byte order mark", body: "\xef\xbb\xbf" + r1, want: bodyResult{
			Stats: BodyStats{Kind: BodyRecord, Records: 1}, IDs: []string{"1"}}},
		{name: "one bad record", body: with(`"eventTime":"x"`), want: bodyResult{
			Stats: BodyStats{Kind: BodyRecord, Invalid: 1}, Reasons: []Reason{ReasonBadTime}}},
		{name: "one truncated record", body: r1[:50], want: bodyResult{
			Stats: BodyStats{Kind: BodyRecord, Invalid: 1}, Reasons: []Reason{ReasonTruncated}}},
		{name: "envelope", body: string(readSeed(t, "eventbridge_envelope.json")), want: bodyResult{
			Stats: BodyStats{Kind: BodyEnvelope, Records: 1}, IDs: []string{"24ba271e-d595-4e66-a7fd-9c16cbf8abae"}}},
		{name: "insight record", body: insight, want: bodyResult{Stats: BodyStats{Kind: BodyRecord, Insights: 1}}},
		{name: "digest", body: string(readSeed(t, "digest.json")), want: bodyResult{
			Stats: BodyStats{Kind: BodyDigest, Digest: true}}},
		{name: "empty digest", body: `{"awsAccountId":"1","digestStartTime":"2020-09-11T18:36:49Z","logFiles":[]}`, want: bodyResult{
			Stats: BodyStats{Kind: BodyDigest, Digest: true}}},
		{name: "gzipped digest", body: string(gzipBytes(t, readSeed(t, "digest.json"))), want: bodyResult{
			Stats: BodyStats{Kind: BodyDigest, Digest: true}}},
		{name: "empty", body: "", want: bodyResult{Stats: BodyStats{Kind: BodyEmpty}}},
		{name: "whitespace", body: " \n\t ", want: bodyResult{Stats: BodyStats{Kind: BodyEmpty}}},
		{name: "gzipped nothing", body: string(gzipBytes(t, nil)), want: bodyResult{Stats: BodyStats{Kind: BodyEmpty}}},
		{name: "SNS validation message", body: "CloudTrail validation message.", want: bodyResult{Err: ReasonBadJSON}},
		{name: "scalar", body: `"Records"`, want: bodyResult{Err: ReasonNotObject}},
		{name: "bad gzip", body: "\x1f\x8bnot really gzip", want: bodyResult{Err: ReasonBadGzip}},
		{name: "gzip that breaks off", body: string(cut), want: bodyResult{
			Stats: BodyStats{Kind: BodyLogFile, Records: 1, Invalid: 1}, IDs: []string{"1"},
			Reasons: []Reason{ReasonTruncated}, Err: ReasonBadGzip}},
	}
	d := NewDecoder()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := decodeBody(t, d, []byte(tc.body))
			got.Stats.Bytes = 0
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("DecodeBody(%.100q) mismatch (-want +got):\n%s", tc.body, diff)
			}
		})
	}
}

func TestDecodeBodyBytes(t *testing.T) {
	logFile := readSeed(t, "log_file.json")
	d := NewDecoder()
	for _, body := range [][]byte{logFile, gzipBytes(t, logFile)} {
		st, err := d.DecodeBody(body, func(*Event) {}, nil)
		if err != nil || st.Bytes != int64(len(logFile)) {
			t.Errorf("DecodeBody: Bytes = %d, err %v; want %d, nil", st.Bytes, err, len(logFile))
		}
	}
}

// TestDecodeBodyBrokenRecord breaks the second of four records in every way
// and in every container, and checks that the other three are kept.
func TestDecodeBodyBrokenRecord(t *testing.T) {
	valid := readSeed(t, "api_call_write.json")
	mk := func(id string) []byte {
		return bytes.Replace(valid, []byte("dc0c14ae-72ae-4025-aaf7-b9707500adff"), []byte(id), 1)
	}
	indent := func(b []byte, prefix string) []byte {
		var buf bytes.Buffer
		if err := json.Indent(&buf, b, prefix, "  "); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	type breakage struct {
		name   string
		reason Reason
		// rec2 gives the text of record 2 from its valid form.
		rec2 func(t *testing.T, valid []byte) []byte
	}
	// find locates the first s in v, minified or pretty-printed (with a
	// space after each colon).
	find := func(t *testing.T, v []byte, s string) (start, end int) {
		for _, form := range []string{s, strings.ReplaceAll(s, `":`, `": `)} {
			if k := bytes.Index(v, []byte(form)); k >= 0 {
				return k, k + len(form)
			}
		}
		t.Fatalf("%q not in record", s)
		return 0, 0
	}
	replace := func(old, new string) func(*testing.T, []byte) []byte {
		return func(t *testing.T, v []byte) []byte {
			start, end := find(t, v, old)
			return append(append(append([]byte(nil), v[:start]...), new...), v[end:]...)
		}
	}
	breakages := []breakage{
		{"not an object: number", ReasonNotObject, func(*testing.T, []byte) []byte { return []byte("42") }},
		{"not an object: string", ReasonNotObject, func(*testing.T, []byte) []byte { return []byte(`"record"`) }},
		{"not an object: null", ReasonNotObject, func(*testing.T, []byte) []byte { return []byte(`null`) }},
		{"bad literal", ReasonBadJSON, replace(`"readOnly":false`, `"readOnly":flase`)},
		{"missing colon", ReasonBadJSON, replace(`"eventName":`, `"eventName" `)},
		{"missing comma", ReasonBadJSON, replace(`"us-east-1",`, `"us-east-1" `)},
		{"unquoted key", ReasonBadJSON, replace(`"awsRegion"`, `awsRegion`)},
		{"stray quote", ReasonBadJSON, replace(`RunInstances"`, `Run"Instances"`)},
		{"bad escape", ReasonBadJSON, replace(`deploy-pipeline"`, `deploy\pipeline"`)},
		{"mismatched bracket", ReasonBadJSON, replace(`"groupSet":{}`, `"groupSet":{]`)},
		{"missing eventTime", ReasonMissingEventTime, replace(`"eventTime"`, `"eventTimes"`)},
		{"bad time", ReasonBadTime, replace(`2023-04-13T19:56:38Z`, `2023-04-13T29:56:38Z`)},
		{"missing eventName", ReasonMissingField, replace(`"eventName"`, `"eventNom"`)},
		{"oversize", ReasonOversize, replace(`"instanceType"`, `"pad":"`+strings.Repeat("p", MaxRecordSize)+`","instanceType"`)},
	}
	// Truncations at many points, outside and inside strings, numbers,
	// literals and nested objects.
	for k := 1; k < 20; k++ {
		breakages = append(breakages, breakage{"truncated at " + strconv.Itoa(k*5) + "%", ReasonTruncated,
			func(_ *testing.T, v []byte) []byte { return v[:len(v)*k/20] }})
	}
	for _, cut := range []string{`"readOnly":fa`, `"launchTime":16`, `"code":`, `"eventTime"`, `"userAgent":"aws-cli/2`, `"instancesSet":{`, `"imageId":"ami-`, `"mfaAuthenticated":"false"`} {
		breakages = append(breakages, breakage{"truncated after " + cut, ReasonTruncated,
			func(t *testing.T, v []byte) []byte {
				_, end := find(t, v, cut)
				return v[:end]
			}})
	}

	containers := []struct {
		name   string
		pretty bool
		build  func(recs [][]byte) []byte
		lines  bool // one record per line
	}{
		{name: "log file", build: func(r [][]byte) []byte {
			return append(append([]byte(`{"Records":[`), bytes.Join(r, []byte(","))...), "]}"...)
		}},
		{name: "log file pretty", pretty: true, build: func(r [][]byte) []byte {
			return append(append([]byte("{\n  \"Records\": [\n    "), bytes.Join(r, []byte(",\n    "))...), "\n  ]\n}\n"...)
		}},
		{name: "array", build: func(r [][]byte) []byte {
			return append(append([]byte(`[`), bytes.Join(r, []byte(","))...), ']')
		}},
		{name: "array pretty", pretty: true, build: func(r [][]byte) []byte {
			return append(append([]byte("[\n  "), bytes.Join(r, []byte(",\n  "))...), "\n]\n"...)
		}},
		{name: "lines", lines: true, build: func(r [][]byte) []byte {
			return append(bytes.Join(r, []byte("\n")), '\n')
		}},
	}
	d := NewDecoder()
	for _, c := range containers {
		for _, br := range breakages {
			t.Run(c.name+"/"+br.name, func(t *testing.T) {
				recs := [][]byte{mk("1"), mk("2"), mk("3"), mk("4")}
				if c.pretty {
					for i, r := range recs {
						recs[i] = indent(r, "    ")
					}
				}
				recs[1] = br.rec2(t, recs[1])
				body := c.build(recs)
				got := decodeBody(t, d, body)
				want := []string{"1", "3", "4"}
				if diff := cmp.Diff(want, got.IDs); diff != "" {
					t.Errorf("records kept (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff([]Reason{br.reason}, got.Reasons); diff != "" {
					t.Errorf("reasons (-want +got):\n%s", diff)
				}
				if got.Err != 0 {
					t.Errorf("DecodeBody error: %v", got.Err)
				}
			})
		}
	}
}

// TestDecodeBodyFlaws decodes a body shaped like the public flaws.cloud
// dataset: a pretty-printed {"Records": [...]} and a top-level array, keys
// sorted, four-space indents.
func TestDecodeBodyFlaws(t *testing.T) {
	var recs []map[string]any
	for _, name := range []string{"api_call_write.json", "access_denied.json", "console_signin.json", "read_only.json"} {
		var m map[string]any
		if err := json.Unmarshal(readSeed(t, name), &m); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, m)
	}
	arr, err := json.MarshalIndent(recs, "", "    ")
	if err != nil {
		t.Fatal(err)
	}
	file, err := json.MarshalIndent(map[string]any{"Records": recs}, "", "    ")
	if err != nil {
		t.Fatal(err)
	}
	d := NewDecoder()
	for _, tc := range []struct {
		body []byte
		kind BodyKind
	}{{arr, BodyArray}, {file, BodyLogFile}} {
		got := decodeBody(t, d, tc.body)
		if got.Stats.Kind != tc.kind || got.Stats.Records != 4 || got.Stats.Invalid != 0 || got.Err != 0 {
			t.Errorf("DecodeBody(%s): %+v", tc.kind, got)
		}
	}
}

// TestDecodeBodyNoAlias checks that events delivered by DecodeBody stay
// intact after the body, and the Decoder's buffers, are reused.
func TestDecodeBodyNoAlias(t *testing.T) {
	logFile := readSeed(t, "log_file.json")
	body := gzipBytes(t, logFile)
	d := NewDecoder()
	var kept, saved []Event
	if _, err := d.DecodeBody(body, func(ev *Event) {
		kept = append(kept, *ev)
		saved = append(saved, cloneEvent(*ev))
	}, nil); err != nil {
		t.Fatal(err)
	}
	// Overwrite the inflated buffer with another body.
	other := bytes.Repeat([]byte(rec("x")+"\n"), 100)
	if _, err := d.DecodeBody(gzipBytes(t, other), func(*Event) {}, nil); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(saved, kept); diff != "" {
		t.Errorf("events changed with the Decoder's buffers (-before +after):\n%s", diff)
	}
}

func TestDecodeBodyAllocs(t *testing.T) {
	rec := readSeed(t, "api_call_write.json")
	body := []byte(`{"Records":[` + string(rec) + `,` + string(rec) + `,` + string(rec) + `]}`)
	gz := gzipBytes(t, body)
	d := NewDecoder()
	fn := func(*Event) {}
	if _, err := d.DecodeBody(gz, fn, nil); err != nil {
		t.Fatal(err)
	}
	if allocs := testing.AllocsPerRun(50, func() { _, _ = d.DecodeBody(body, fn, nil) }); allocs > 3 {
		t.Errorf("plain body of 3 records: %.1f allocations, want at most 3", allocs)
	}
}

// TestDecodeBodyHostile feeds bodies where every record is cut short inside
// the next one, so that resynchronising rescans them: the Decoder must give
// up on such a body instead of scanning it over and over.
func TestDecodeBodyHostile(t *testing.T) {
	for _, tc := range []struct {
		name       string
		body       string
		maxInvalid int
	}{
		{"nested records", "[" + strings.Repeat(`{"eventVersion":[`, 20000), 1000},
		{"nested record lines", strings.Repeat("{\"eventVersion\":[\n", 20000), 1000},
		{"records in records", `{"Records":[` + strings.Repeat(`{"eventVersion":"1.08","x":[1,`, 20000), 1000},
		// Many broken records side by side cost no rescans: all are seen.
		{"many broken records", "[" + strings.Repeat(`{"eventVersion":tru},`, 20000) + "]", 20000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDecoder()
			st, err := d.DecodeBody([]byte(tc.body), func(*Event) {}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if st.Records != 0 || st.Invalid == 0 || st.Invalid > tc.maxInvalid {
				t.Errorf("stats %+v, want 1 to %d invalid", st, tc.maxInvalid)
			}
		})
	}
}

func TestDecodeBodyGzip(t *testing.T) {
	r1, r2 := rec("1"), rec("2")
	d := NewDecoder()

	// Concatenated gzip members are one stream (as gzip -c a b > c writes).
	two := append(gzipBytes(t, []byte(r1+"\n")), gzipBytes(t, []byte(r2+"\n"))...)
	got := decodeBody(t, d, two)
	if diff := cmp.Diff([]string{"1", "2"}, got.IDs); diff != "" || got.Err != 0 {
		t.Errorf("two gzip members: err %v, records (-want +got):\n%s", got.Err, diff)
	}

	// A body that inflates beyond the limit is refused whole.
	d.maxBody = 1 << 10
	bomb := gzipBytes(t, []byte(`{"Records":[`+strings.Repeat(r1+",", 100)+r2+`]}`))
	if got := decodeBody(t, d, bomb); got.Err != ReasonOversize || len(got.IDs) != 0 {
		t.Errorf("gzip bomb: %+v", got)
	}
	d.maxBody = 0

	// A zero Decoder works.
	var zero Decoder
	if got := decodeBody(t, &zero, gzipBytes(t, []byte(r1))); got.Err != 0 || len(got.IDs) != 1 {
		t.Errorf("zero Decoder: %+v", got)
	}
}

// TestDecodeBodyRandomDamage damages record 2 of 4 at random (bytes deleted,
// inserted, replaced, or the record cut short) in every container, and
// checks that the neighbours survive. A stray ']' that closes the array
// early legitimately loses what follows, so records 3 and 4 must survive
// nearly always, not always.
func TestDecodeBodyRandomDamage(t *testing.T) {
	valid := readSeed(t, "api_call_write.json")
	mk := func(id string) []byte {
		return bytes.Replace(valid, []byte("dc0c14ae-72ae-4025-aaf7-b9707500adff"), []byte(id), 1)
	}
	containers := map[string]func([][]byte) []byte{
		"log file": func(r [][]byte) []byte {
			return append(append([]byte(`{"Records":[`), bytes.Join(r, []byte(","))...), "]}"...)
		},
		"pretty array": func(r [][]byte) []byte {
			return append(append([]byte("[\n  "), bytes.Join(r, []byte(",\n  "))...), "\n]"...)
		},
		"lines": func(r [][]byte) []byte { return bytes.Join(r, []byte("\n")) },
	}
	const trials = 3000
	rng := rand.New(rand.NewPCG(1, 2))
	chars := []byte("{}[]\",:\\ x0\n")
	d := NewDecoder()
	for name, build := range containers {
		lost := 0
		for range trials {
			rec2 := mk("2")
			for range 1 + rng.IntN(2) {
				if len(rec2) == 0 {
					break
				}
				p := rng.IntN(len(rec2))
				c := chars[rng.IntN(len(chars))]
				switch rng.IntN(4) {
				case 0:
					rec2 = slices.Delete(rec2, p, p+1)
				case 1:
					rec2 = slices.Insert(rec2, p, c)
				case 2:
					rec2[p] = c
				case 3:
					rec2 = rec2[:p]
				}
			}
			var ids []string
			st, err := d.DecodeBody(build([][]byte{mk("1"), rec2, mk("3"), mk("4")}),
				func(ev *Event) { ids = append(ids, ev.EventID) }, nil)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if len(ids) == 0 || ids[0] != "1" {
				t.Fatalf("%s: record 1 lost: %v, %+v\nrecord 2: %q", name, ids, st, rec2)
			}
			// Besides 1, 3 and 4, only record 2 or a piece of it (with a
			// damaged eventID, or none) may come through.
			if others := len(ids) - 1 - count(ids, "3") - count(ids, "4"); others > 2 || count(ids, "3") > 1 || count(ids, "4") > 1 {
				t.Fatalf("%s: unexpected records %q\nrecord 2: %q", name, ids, rec2)
			}
			if !slices.Contains(ids, "3") || !slices.Contains(ids, "4") {
				lost++
			}
		}
		if lost > trials/200 {
			t.Errorf("%s: neighbours lost in %d of %d trials", name, lost, trials)
		}
	}
}

func count(s []string, v string) int {
	n := 0
	for _, x := range s {
		if x == v {
			n++
		}
	}
	return n
}

// wantRaw returns the record text that Event.Raw should hold for the record
// or envelope in: an envelope's detail exactly as written, else the object.
func wantRaw(t *testing.T, in []byte) []byte {
	t.Helper()
	var top struct {
		Detail     json.RawMessage `json:"detail"`
		DetailType *string         `json:"detail-type"`
		EventTime  *string         `json:"eventTime"`
	}
	if err := json.Unmarshal(in, &top); err == nil && len(top.Detail) > 0 && top.Detail[0] == '{' &&
		(top.DetailType != nil || top.EventTime == nil) {
		return top.Detail
	}
	return bytes.TrimSpace(in)
}

// TestDecodeBodyRaw checks that Event.Raw is each record's own text in every
// body kind, so that a trail can write records into log files as they came.
func TestDecodeBodyRaw(t *testing.T) {
	r1 := `{"eventTime":"2026-01-05T10:00:00Z","eventSource":"ec2.amazonaws.com","eventName":"RunInstances","awsRegion":"us-east-1","recipientAccountId":"111122223333","x":{"y":[1,"}"]}}`
	r2 := `{"eventTime":"2026-01-05T10:00:01Z","eventSource":"s3.amazonaws.com","eventName":"PutBucketPolicy","awsRegion":"us-east-1","recipientAccountId":"111122223333"}`
	env := `{"version":"0","detail-type":"AWS API Call via CloudTrail","source":"aws.s3","detail":` + r2 + `,"region":"us-east-1"}`
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(`{"Records":[` + r1 + `, ` + r2 + `]}`))
	zw.Close()
	tests := []struct {
		name string
		body string
		want []string
	}{
		{"log file", `{"Records":[` + r1 + ",\n  " + r2 + `]}`, []string{r1, r2}},
		{"gzip log file", gz.String(), []string{r1, r2}},
		{"array", `[` + r2 + `,` + r1 + `]`, []string{r2, r1}},
		{"lines", r1 + "\n" + env + "\n", []string{r1, r2}},
		{"envelope", env, []string{r2}},
	}
	d := NewDecoder()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			_, err := d.DecodeBody([]byte(tc.body), func(ev *Event) { got = append(got, string(ev.Raw)) },
				func(de DecodeError) { t.Errorf("bad record: %v", &de) })
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Raw per record mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// A Decoder that inflated a big body lets go of its buffer on Release
// beyond the size it may keep, and decodes the next body as before.
func TestDecoderRelease(t *testing.T) {
	rec := `{"eventVersion":"1.09","eventTime":"2026-12-01T12:00:00Z","eventSource":"ec2.amazonaws.com",` +
		`"eventName":"RunInstances","awsRegion":"us-east-1","recipientAccountId":"111122223333",` +
		`"eventID":"%d","eventType":"AwsApiCall","readOnly":false,"managementEvent":true,"eventCategory":"Management"}`
	var body bytes.Buffer
	body.WriteString(`{"Records":[`)
	for i := range 20000 {
		if i > 0 {
			body.WriteByte(',')
		}
		fmt.Fprintf(&body, rec, i)
	}
	body.WriteString(`]}`)
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	zw.Write(body.Bytes())
	zw.Close()
	d := NewDecoder()
	decode := func() int {
		n := 0
		st, err := d.DecodeBody(zb.Bytes(), func(ev *Event) {
			if !bytes.HasPrefix(ev.Raw, []byte(`{"eventVersion"`)) {
				t.Fatalf("Raw = %.40q", ev.Raw)
			}
			n++
		}, nil)
		if err != nil || st.Records != 20000 {
			t.Fatalf("DecodeBody: %d records, %v", st.Records, err)
		}
		return n
	}
	decode()
	size := d.zbuf.Cap()
	if size < body.Len() {
		t.Fatalf("buffer of %d bytes after inflating %d", size, body.Len())
	}
	d.Release(size)
	if d.zbuf.Cap() != size {
		t.Errorf("Release(%d) let go of a buffer of %d bytes", size, size)
	}
	d.Release(size - 1)
	if d.zbuf.Cap() != 0 {
		t.Errorf("Release(%d) kept a buffer of %d bytes", size-1, d.zbuf.Cap())
	}
	if n := decode(); n != 20000 {
		t.Errorf("after Release: %d records, want 20000", n)
	}
}
