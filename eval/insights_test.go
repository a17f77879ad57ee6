package eval

import (
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/trailsight/trailsight/cloudtrail"
)

// The AWS documentation Start example (spec §2.8), with a Java exponent
// number as AWS sometimes writes (§2.7).
const startJSON = `{"eventVersion":"1.07","eventTime":"2020-07-21T20:56:00Z","awsRegion":"us-east-1","eventID":"abcd00b0-ccfe-422d-961c-98a2198a408x",
 "eventType":"AwsCloudTrailInsight","recipientAccountId":"838185438692","sharedEventID":"7bb000gg-22b3-4c03-94af-c74tj0c8m7c0",
 "insightDetails":{"state":"Start","eventSource":"autoscaling.amazonaws.com","eventName":"CompleteLifecycleAction",
  "insightType":"ApiCallRateInsight","insightContext":{
   "statistics":{"baseline":{"average":8.82145E-5},"insight":{"average":0.6},"insightDuration":5,"baselineDuration":11336},
   "attributions":[
    {"attribute":"userIdentityArn",
     "insight":[{"value":"arn:aws:sts::012345678901:assumed-role/CodeDeployRole1","average":0.2},
                {"value":"arn:aws:sts::012345678901:assumed-role/CodeDeployRole2","average":0.2}],
     "baseline":[{"value":"arn:aws:sts::012345678901:assumed-role/CodeDeployRole1","average":0.0000882145}]},
    {"attribute":"userAgent","insight":[{"value":"codedeploy.amazonaws.com","average":0.6}],"baseline":[]}]}},
 "eventCategory":"Insight"}`

const endJSON = `{"eventVersion":"1.08","eventTime":"2020-07-21T21:01:00Z","awsRegion":"us-east-1","eventID":"e2",
 "eventType":"AwsCloudTrailInsight","recipientAccountId":"838185438692","sharedEventID":"7bb000gg-22b3-4c03-94af-c74tj0c8m7c0",
 "insightDetails":{"state":"End","eventSource":"iam.amazonaws.com","eventName":"AttachUserPolicy","insightType":"ApiErrorRateInsight","errorCode":"AccessDenied",
  "insightContext":{"statistics":{"baseline":{"average":0.0},"insight":{"average":2.0},"insightDuration":5,"baselineDuration":11336},
   "attributions":[]}},
 "eventCategory":"Insight"}`

func writeGz(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	if _, err := zw.Write([]byte(body)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestLoadInsightsDir(t *testing.T) {
	root := t.TempDir()
	ins := filepath.Join(root, "bucket", "AWSLogs", "838185438692", "CloudTrail-Insight", "us-east-1", "2020", "07", "21")
	// The End file sorts first by name but was delivered later.
	writeGz(t, filepath.Join(ins, "838185438692_CloudTrail-Insight_us-east-1_20200721T2110Z_AAAAAAAAAAAAAAAA.json.gz"), `{"Records":[`+endJSON+`]}`)
	writeGz(t, filepath.Join(ins, "838185438692_CloudTrail-Insight_us-east-1_20200721T2058Z_KL5e9VCV2SS7IqzB.json.gz"), `{"Records":[`+startJSON+`]}`)
	// Ignored: a log file, and an Insights name outside CloudTrail-Insight/.
	writeGz(t, filepath.Join(root, "bucket", "AWSLogs", "838185438692", "CloudTrail", "us-east-1", "2020", "07", "21", "838185438692_CloudTrail_us-east-1_20200721T2055Z_Mu0KsOhtH1ar15ZZ.json.gz"), `{"Records":[{}]}`)
	writeGz(t, filepath.Join(root, "elsewhere", "838185438692_CloudTrail-Insight_us-east-1_20200721T2058Z_BBBBBBBBBBBBBBBB.json.gz"), `{"Records":[{}]}`)

	got, err := LoadInsightsDir(root)
	if err != nil {
		t.Fatal(err)
	}
	want := []Delivered{
		{
			Delivery: time.Date(2020, 7, 21, 20, 58, 0, 0, time.UTC),
			Record: cloudtrail.InsightRecord{
				EventVersion: "1.07", EventTime: time.Date(2020, 7, 21, 20, 56, 0, 0, time.UTC), AWSRegion: "us-east-1",
				EventID: "abcd00b0-ccfe-422d-961c-98a2198a408x", RecipientAccountID: "838185438692", SharedEventID: "7bb000gg-22b3-4c03-94af-c74tj0c8m7c0",
				State: "Start", EventSource: "autoscaling.amazonaws.com", EventName: "CompleteLifecycleAction", InsightType: "ApiCallRateInsight",
				BaselineAverage: 0.0000882145, InsightAverage: 0.6, InsightDuration: 5, BaselineDuration: 11336,
				Attributions: []cloudtrail.Attribution{
					{
						Attribute: "userIdentityArn",
						Insight: []cloudtrail.AttributionValue{
							{Value: "arn:aws:sts::012345678901:assumed-role/CodeDeployRole1", Average: 0.2},
							{Value: "arn:aws:sts::012345678901:assumed-role/CodeDeployRole2", Average: 0.2},
						},
						Baseline: []cloudtrail.AttributionValue{{Value: "arn:aws:sts::012345678901:assumed-role/CodeDeployRole1", Average: 0.0000882145}},
					},
					{Attribute: "userAgent", Insight: []cloudtrail.AttributionValue{{Value: "codedeploy.amazonaws.com", Average: 0.6}}, Baseline: []cloudtrail.AttributionValue{}},
				},
			},
		},
		{
			Delivery: time.Date(2020, 7, 21, 21, 10, 0, 0, time.UTC),
			Record: cloudtrail.InsightRecord{
				EventVersion: "1.08", EventTime: time.Date(2020, 7, 21, 21, 1, 0, 0, time.UTC), AWSRegion: "us-east-1",
				EventID: "e2", RecipientAccountID: "838185438692", SharedEventID: "7bb000gg-22b3-4c03-94af-c74tj0c8m7c0",
				State: "End", EventSource: "iam.amazonaws.com", EventName: "AttachUserPolicy", InsightType: "ApiErrorRateInsight", ErrorCode: "AccessDenied",
				InsightAverage: 2, InsightDuration: 5, BaselineDuration: 11336,
			},
		},
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("LoadInsightsDir (-want +got):\n%s", diff)
	}
}

func TestLoadInsightsDirErrors(t *testing.T) {
	for _, tc := range []struct {
		name, body, want string
	}{
		{"not gzip JSON", `{"Records":[`, "unexpected end of JSON input"},
		{"not an Insight", `{"Records":[{"eventType":"AwsApiCall","eventTime":"2020-07-21T20:56:00Z"}]}`, `eventType "AwsApiCall"`},
		{"bad state", `{"Records":[` + strings.Replace(startJSON, `"state":"Start"`, `"state":"Middle"`, 1) + `]}`, `state "Middle"`},
	} {
		root := t.TempDir()
		writeGz(t, filepath.Join(root, "CloudTrail-Insight", "838185438692_CloudTrail-Insight_us-east-1_20200721T2058Z_KL5e9VCV2SS7IqzB.json.gz"), tc.body)
		_, err := LoadInsightsDir(root)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to mention %q", tc.name, err, tc.want)
		}
	}
}

func TestLoadLabels(t *testing.T) {
	dir := t.TempDir()
	const body = `{"dataset":"tiny","start":"2026-01-01T00:00:00Z","end":"2026-01-15T00:00:00Z","warmup_end":"2026-01-08T00:00:00Z",
 "seed":42,"series":[1,2,3],
 "labels":[
  {"id":"a1","account":"111122223333","region":"us-east-1","event_source":"ec2.amazonaws.com","event_name":"RunInstances",
   "type":"ApiCallRateInsight","kind":"provisioning_spike","trap":false,"start":"2026-01-10T10:00:00Z","end":"2026-01-10T10:30:00Z",
   "principal":"arn:aws:sts::111122223333:assumed-role/Deployer/ci","group":"g1","extra":"ignored"},
  {"id":"t1","account":"111122223333","region":"us-east-1","event_source":"","event_name":"","type":"","kind":"trap_late_delivery",
   "trap":true,"start":"2026-01-11T00:00:00Z","end":"2026-01-11T01:00:00Z","principal":"","group":""}]}`
	if err := os.WriteFile(filepath.Join(dir, "labels.json"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := LoadLabels(dir)
	if err != nil {
		t.Fatal(err)
	}
	d := func(day, h, m int) time.Time { return time.Date(2026, 1, day, h, m, 0, 0, time.UTC) }
	want := &LabelSet{
		Dataset: "tiny", Start: d(1, 0, 0), End: d(15, 0, 0), WarmupEnd: d(8, 0, 0),
		Labels: []Label{
			{ID: "a1", Account: "111122223333", Region: "us-east-1", EventSource: "ec2.amazonaws.com", EventName: "RunInstances",
				Type: "ApiCallRateInsight", Kind: "provisioning_spike", Start: d(10, 10, 0), End: d(10, 10, 30),
				Principal: "arn:aws:sts::111122223333:assumed-role/Deployer/ci", Group: "g1"},
			{ID: "t1", Account: "111122223333", Region: "us-east-1", Kind: "trap_late_delivery", Trap: true, Start: d(11, 0, 0), End: d(11, 1, 0)},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("LoadLabels (-want +got):\n%s", diff)
	}
	if !got.Labels[0].Target() || got.Labels[1].Target() {
		t.Errorf("Target: a1 %v t1 %v, want true false", got.Labels[0].Target(), got.Labels[1].Target())
	}

	bad := strings.Replace(body, `"end":"2026-01-10T10:30:00Z"`, `"end":"2026-01-10T09:30:00Z"`, 1)
	if err := os.WriteFile(filepath.Join(dir, "labels.json"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadLabels(dir); err == nil || !strings.Contains(err.Error(), "ends") {
		t.Errorf("label ending before it starts: err = %v", err)
	}
}
