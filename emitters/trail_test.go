package emitters_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/trailsight/trailsight/cloudtrail"
	"github.com/trailsight/trailsight/emitters"
	"github.com/trailsight/trailsight/internal/golden"
	"github.com/trailsight/trailsight/internal/objstore"
)

var tt0 = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

// rec is one test record.
type rec struct {
	id, account, region, source, name string
	readOnly                          bool
	at                                time.Time
}

// json is the record's text. An id starting with "odd-" makes it one a
// trail must keep as it is across a checkpoint: a sign-in URL with & < >
// in a string, and whitespace between tokens (a JSON Lines export by a
// tool that pads its separators).
func (r rec) json() string {
	if strings.HasPrefix(r.id, "odd-") {
		return fmt.Sprintf(`{"eventVersion": "1.08", "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::%[2]s:user/alice", "accountId": "%[2]s"}, `+
			`"eventTime": "%[6]s", "eventSource": "%[4]s", "eventName": "%[5]s", "awsRegion": "%[3]s", "readOnly": %[7]t, `+
			`"additionalEventData": {"LoginTo": "https://console.aws.amazon.com/console/home?hashArgs=%%23&isauthcode=true&x=<b>"}, `+
			`"eventID": "%[1]s", "eventType": "AwsApiCall", "managementEvent": true, "recipientAccountId": "%[2]s", "eventCategory": "Management"}`,
			r.id, r.account, r.region, r.source, r.name, r.at.Format(time.RFC3339), r.readOnly)
	}
	return fmt.Sprintf(`{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::%[2]s:user/alice","accountId":"%[2]s"},`+
		`"eventTime":"%[6]s","eventSource":"%[4]s","eventName":"%[5]s","awsRegion":"%[3]s","readOnly":%[7]t,`+
		`"eventID":"%[1]s","eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"%[2]s","eventCategory":"Management"}`,
		r.id, r.account, r.region, r.source, r.name, r.at.Format(time.RFC3339), r.readOnly)
}

// feed gives the trail each record at its arrival time (the record's
// time plus a minute), advancing the clock first, as a consumer does.
func feed(t *testing.T, tr *emitters.Trail, recs []rec) {
	t.Helper()
	ctx := context.Background()
	dec := cloudtrail.NewDecoder()
	for _, r := range recs {
		if err := tr.Advance(ctx, r.at.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		var ev cloudtrail.Event
		if err := dec.DecodeRecord([]byte(r.json()), &ev); err != nil {
			t.Fatal(err)
		}
		tr.Record(&ev)
	}
}

func testKeyRing(t *testing.T) *emitters.KeyRing {
	t.Helper()
	dir := t.TempDir()
	pemBytes, err := os.ReadFile("testdata/test-signing-key.pem")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, emitters.SigningKeyFile), pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	kr, err := emitters.OpenKeyRing(dir, tt0)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// readLogFile returns the records of a log file, each re-encoded compactly.
func readLogFile(t *testing.T, body []byte) []string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(plain, []byte(`{"Records":[`)) {
		t.Fatalf("log file does not start with Records: %.40s", plain)
	}
	var f struct{ Records []json.RawMessage }
	if err := json.Unmarshal(plain, &f); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range f.Records {
		out = append(out, string(r))
	}
	return out
}

func TestTrailLogFiles(t *testing.T) {
	store := objstore.NewDir(t.TempDir(), "audit-bucket")
	tr, err := emitters.NewTrail(emitters.TrailConfig{Name: "main", HomeRegion: "us-east-1", Bucket: "audit-bucket", Prefix: "org"}, store, store.Name(), nil)
	if err != nil {
		t.Fatal(err)
	}
	recs := []rec{
		{"e1", "111122223333", "us-east-1", "ec2.amazonaws.com", "RunInstances", false, tt0.Add(1 * time.Minute)},
		{"e2", "111122223333", "us-east-1", "ec2.amazonaws.com", "DescribeInstances", true, tt0.Add(2 * time.Minute)},
		{"e3", "444455556666", "us-east-1", "iam.amazonaws.com", "CreateUser", false, tt0.Add(2 * time.Minute)},
		{"e4", "111122223333", "eu-west-1", "ec2.amazonaws.com", "RunInstances", false, tt0.Add(3 * time.Minute)}, // not the home Region
		{"e1", "111122223333", "us-east-1", "ec2.amazonaws.com", "RunInstances", false, tt0.Add(3 * time.Minute)}, // a repeat
		{"e5", "111122223333", "us-east-1", "s3.amazonaws.com", "PutBucketPolicy", false, tt0.Add(7 * time.Minute)},
	}
	reg := prometheus.NewPedanticRegistry()
	tr.SetMetrics(emitters.NewTrailMetrics(reg))
	feed(t, tr, recs)
	if err := tr.Close(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	wantMetrics := `
# HELP trailsight_trail_log_files_total Log files a trail delivered.
# TYPE trailsight_trail_log_files_total counter
trailsight_trail_log_files_total{trail="main"} 3
# HELP trailsight_trail_records_total Records a trail took (result=accepted), left out by its selectors or Region (filtered), or dropped as repeats of an eventID (duplicate).
# TYPE trailsight_trail_records_total counter
trailsight_trail_records_total{result="accepted",trail="main"} 4
trailsight_trail_records_total{result="duplicate",trail="main"} 1
trailsight_trail_records_total{result="filtered",trail="main"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(wantMetrics), "trailsight_trail_records_total", "trailsight_trail_log_files_total"); err != nil {
		t.Error(err)
	}
	keys, err := store.List(context.Background(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	// e1..e3 arrive before 10:05 and are delivered at 10:05, e5 at 10:10.
	want := map[string][]string{
		"org/AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/05/111122223333_CloudTrail_us-east-1_20260105T1005Z_": {recs[0].json(), recs[1].json()},
		"org/AWSLogs/444455556666/CloudTrail/us-east-1/2026/01/05/444455556666_CloudTrail_us-east-1_20260105T1005Z_": {recs[2].json()},
		"org/AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/05/111122223333_CloudTrail_us-east-1_20260105T1010Z_": {recs[5].json()},
	}
	if len(keys) != len(want) {
		t.Fatalf("objects = %q, want %d log files", keys, len(want))
	}
	for _, k := range keys {
		stem := k[:strings.LastIndexByte(k, '_')+1]
		wantRecs, ok := want[stem]
		if !ok {
			t.Errorf("unexpected object %s", k)
			continue
		}
		body, _, err := store.Get(context.Background(), k)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(wantRecs, readLogFile(t, body)); diff != "" {
			t.Errorf("%s records mismatch (-want +got):\n%s", k, diff)
		}
		if got := cloudtrail.ClassifyPath(k); got != cloudtrail.FileLog {
			t.Errorf("%s classifies as %v, want a log file", k, got)
		}
		if info, ok := cloudtrail.ParseKey(k); !ok || info.Unique != cloudtrail.UniqueFromBody(body) {
			t.Errorf("%s: unique part is not derived from the body", k)
		}
	}
	if got, want := tr.Stats, (emitters.TrailStats{Accepted: 4, Filtered: 1, Duplicates: 1, LogFiles: 3}); got != want {
		t.Errorf("Stats = %+v, want %+v", got, want)
	}
}

func TestTrailGoldenLogFile(t *testing.T) {
	store := objstore.NewDir(t.TempDir(), "audit-bucket")
	tr, err := emitters.NewTrail(emitters.TrailConfig{Name: "main", HomeRegion: "us-east-1", MultiRegion: true, Bucket: "audit-bucket"}, store, store.Name(), nil)
	if err != nil {
		t.Fatal(err)
	}
	feed(t, tr, []rec{
		{"a1", "111122223333", "eu-west-1", "ec2.amazonaws.com", "RunInstances", false, tt0},
		{"a2", "111122223333", "eu-west-1", "ec2.amazonaws.com", "TerminateInstances", false, tt0.Add(time.Minute)},
	})
	if err := tr.Close(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	keys, _ := store.List(context.Background(), "", "")
	if len(keys) != 1 {
		t.Fatalf("objects = %q, want one log file", keys)
	}
	body, _, _ := store.Get(context.Background(), keys[0])
	zr, _ := gzip.NewReader(bytes.NewReader(body))
	plain, _ := io.ReadAll(zr)
	golden.Check(t, "testdata/log-file.golden.json", append([]byte(keys[0]+"\n"), plain...))
}

func TestTrailSelectors(t *testing.T) {
	yes := true
	store := objstore.NewDir(t.TempDir(), "b")
	tr, err := emitters.NewTrail(emitters.TrailConfig{Name: "writes", HomeRegion: "us-east-1", Bucket: "b",
		Selectors: cloudtrail.Selectors{EventSelectors: []cloudtrail.EventSelector{{
			ReadWriteType: "WriteOnly", IncludeManagementEvents: &yes, ExcludeManagementEventSources: []string{"kms.amazonaws.com"},
		}}}}, store, store.Name(), nil)
	if err != nil {
		t.Fatal(err)
	}
	feed(t, tr, []rec{
		{"w", "111122223333", "us-east-1", "ec2.amazonaws.com", "RunInstances", false, tt0},
		{"r", "111122223333", "us-east-1", "ec2.amazonaws.com", "DescribeInstances", true, tt0},
		{"k", "111122223333", "us-east-1", "kms.amazonaws.com", "CreateKey", false, tt0},
	})
	if err := tr.Close(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	keys, _ := store.List(context.Background(), "", "")
	if len(keys) != 1 {
		t.Fatalf("objects = %q, want one log file", keys)
	}
	body, _, _ := store.Get(context.Background(), keys[0])
	got := readLogFile(t, body)
	if len(got) != 1 || !strings.Contains(got[0], `"eventID":"w"`) {
		t.Errorf("records = %q, want only the EC2 write", got)
	}
}

// TestTrailSizeBound delivers a file early once its records pass
// MaxFileBytes, named after the minute it was delivered.
func TestTrailSizeBound(t *testing.T) {
	store := objstore.NewDir(t.TempDir(), "b")
	tr, err := emitters.NewTrail(emitters.TrailConfig{Name: "small", HomeRegion: "us-east-1", Bucket: "b", MaxFileBytes: 1024}, store, store.Name(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var recs []rec
	for i := range 5 { // about 450 bytes each: the third passes 1024
		recs = append(recs, rec{fmt.Sprint("id", i), "111122223333", "us-east-1", "ec2.amazonaws.com", "RunInstances", false, tt0.Add(time.Duration(i) * 10 * time.Second)})
	}
	feed(t, tr, recs)
	if err := tr.Close(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	keys, _ := store.List(context.Background(), "", "")
	var minutes, counts []string
	for _, k := range keys {
		info, _ := cloudtrail.ParseKey(k)
		body, _, _ := store.Get(context.Background(), k)
		minutes = append(minutes, info.Time.Format("1504"))
		counts = append(counts, fmt.Sprint(len(readLogFile(t, body))))
	}
	// Records arrive at 10:01:00..10:01:40; the third fills the first file,
	// delivered at the next Advance (10:01); the rest go at the 10:05 tick.
	if diff := cmp.Diff([]string{"1001", "1005"}, minutes); diff != "" {
		t.Errorf("delivery minutes mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"3", "2"}, counts); diff != "" {
		t.Errorf("records per file mismatch (-want +got):\n%s", diff)
	}
}

// digestTrail feeds three hours of records, with an empty hour in between,
// through a validating trail into store.
func digestTrail(t *testing.T, store objstore.Store, kr *emitters.KeyRing) *emitters.Trail {
	t.Helper()
	tr, err := emitters.NewTrail(emitters.TrailConfig{Name: "audit_trail_1", HomeRegion: "us-east-1", Bucket: store.Name(), LogFileValidation: true},
		store, store.Name(), kr)
	if err != nil {
		t.Fatal(err)
	}
	var recs []rec
	for m := 0; m < 60; m += 7 {
		recs = append(recs, rec{fmt.Sprint("h1-", m), "111122223333", "us-east-1", "ec2.amazonaws.com", "RunInstances", false, tt0.Add(time.Duration(m) * time.Minute)})
	}
	for m := 0; m < 60; m += 11 { // hour 3; hour 2 has no records
		recs = append(recs, rec{fmt.Sprint("h3-", m), "111122223333", "us-east-1", "iam.amazonaws.com", "CreateRole", false, tt0.Add(2*time.Hour + time.Duration(m)*time.Minute)})
	}
	feed(t, tr, recs)
	if err := tr.Advance(context.Background(), tt0.Add(3*time.Hour+10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestTrailDigests(t *testing.T) {
	store := objstore.NewDir(t.TempDir(), "audit-bucket")
	kr := testKeyRing(t)
	digestTrail(t, store, kr)
	ctx := context.Background()
	keys, err := store.List(ctx, "AWSLogs/111122223333/CloudTrail-Digest/", "")
	if err != nil {
		t.Fatal(err)
	}
	// The chain starts with the first delivery (10:05) and has one digest
	// an hour: 11:05 (hour 1), 12:05 (empty), 13:05 (hour 3).
	var ends []string
	var digests []*cloudtrail.Digest
	for _, k := range keys {
		body, meta, err := store.Get(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		d, err := cloudtrail.ParseDigest(body)
		if err != nil {
			t.Fatal(err)
		}
		ends = append(ends, d.DigestEndTime)
		digests = append(digests, d)
		if meta[cloudtrail.MetaSignatureAlgorithm] != "SHA256withRSA" || len(meta[cloudtrail.MetaSignature]) != 512 {
			t.Errorf("%s: metadata %v, want a 2048-bit hex signature and its algorithm", k, meta)
		}
		if !strings.Contains(k, "_CloudTrail-Digest_us-east-1_audit_trail_1_us-east-1_") {
			t.Errorf("digest key %s does not name the trail and home Region", k)
		}
	}
	if diff := cmp.Diff([]string{"2026-01-05T11:05:00Z", "2026-01-05T12:05:00Z", "2026-01-05T13:05:00Z"}, ends); diff != "" {
		t.Fatalf("digest end times mismatch (-want +got):\n%s", diff)
	}
	if digests[0].PreviousDigestSignature != nil || digests[0].PreviousDigestS3Object != nil {
		t.Errorf("first digest is not a starting digest: %+v", digests[0])
	}
	// Records arrive every 7 minutes from 10:01 to 10:57: nine ticks of
	// [10:05, 11:05) deliver a file.
	if n := len(digests[0].LogFiles); n != 9 {
		t.Errorf("first digest lists %d log files, want 9", n)
	}
	if d := digests[1]; len(d.LogFiles) != 0 || d.NewestEventTime != nil || d.OldestEventTime != nil {
		t.Errorf("empty hour's digest: %+v, want no log files and null event times", d)
	}
	for i := 1; i < len(digests); i++ {
		if got, want := *digests[i].PreviousDigestS3Object, keys[i-1]; got != want {
			t.Errorf("digest %d: previousDigestS3Object = %s, want %s", i, got, want)
		}
		if digests[i].DigestStartTime != digests[i-1].DigestEndTime {
			t.Errorf("digest %d starts at %s, previous ended at %s", i, digests[i].DigestStartTime, digests[i-1].DigestEndTime)
		}
	}
	// Every listed hash is the SHA-256 of the log file's uncompressed bytes.
	for _, d := range digests {
		for _, f := range d.LogFiles {
			body, _, err := store.Get(ctx, f.S3Object)
			if err != nil {
				t.Fatal(err)
			}
			zr, _ := gzip.NewReader(bytes.NewReader(body))
			plain, _ := io.ReadAll(zr)
			if cloudtrail.HashHex(plain) != f.HashValue {
				t.Errorf("%s: hash in the digest does not match the file", f.S3Object)
			}
		}
	}
	// The last digest, byte for byte.
	body, _, _ := store.Get(ctx, keys[2])
	zr, _ := gzip.NewReader(bytes.NewReader(body))
	plain, _ := io.ReadAll(zr)
	golden.Check(t, "testdata/digest.golden.json", plain)
}

// TestTrailDeterministic replays the same input into two stores: same keys,
// same bytes, same signatures, so a redelivery overwrites rather than adds.
func TestTrailDeterministic(t *testing.T) {
	kr := testKeyRing(t)
	a := objstore.NewDir(t.TempDir(), "audit-bucket")
	b := objstore.NewDir(t.TempDir(), "audit-bucket")
	digestTrail(t, a, kr)
	digestTrail(t, b, kr)
	ctx := context.Background()
	ka, _ := a.List(ctx, "", "")
	kb, _ := b.List(ctx, "", "")
	if !slices.Equal(ka, kb) || len(ka) == 0 {
		t.Fatalf("keys differ:\n%q\n%q", ka, kb)
	}
	for _, k := range ka {
		ba, ma, _ := a.Get(ctx, k)
		bb, mb, _ := b.Get(ctx, k)
		if !bytes.Equal(ba, bb) || !cmp.Equal(ma, mb) {
			t.Errorf("%s differs between the two runs", k)
		}
	}
}

// TestTrailFinalDigest: closing a trail for good ends each chain with a
// digest up to the last delivery.
func TestTrailFinalDigest(t *testing.T) {
	store := objstore.NewDir(t.TempDir(), "audit-bucket")
	tr, err := emitters.NewTrail(emitters.TrailConfig{Name: "t1x", HomeRegion: "us-east-1", Bucket: store.Name(), LogFileValidation: true},
		store, store.Name(), testKeyRing(t))
	if err != nil {
		t.Fatal(err)
	}
	feed(t, tr, []rec{{"x", "111122223333", "us-east-1", "ec2.amazonaws.com", "RunInstances", false, tt0.Add(20 * time.Minute)}})
	if err := tr.Close(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	keys, _ := store.List(context.Background(), "AWSLogs/111122223333/CloudTrail-Digest/", "")
	if len(keys) != 1 {
		t.Fatalf("digests = %q, want one final digest", keys)
	}
	body, _, _ := store.Get(context.Background(), keys[0])
	d, err := cloudtrail.ParseDigest(body)
	if err != nil {
		t.Fatal(err)
	}
	if d.DigestStartTime != "2026-01-05T10:25:00Z" || d.DigestEndTime != "2026-01-05T10:25:01Z" || len(d.LogFiles) != 1 {
		t.Errorf("final digest %s..%s with %d files, want 10:25:00..10:25:01 with the one file", d.DigestStartTime, d.DigestEndTime, len(d.LogFiles))
	}
}

func TestTrailConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  emitters.TrailConfig
		want string
	}{
		{"no name", emitters.TrailConfig{HomeRegion: "us-east-1", Bucket: "b"}, "name is required"},
		{"slash", emitters.TrailConfig{Name: "a/b", HomeRegion: "us-east-1", Bucket: "b"}, "without slashes"},
		{"no region", emitters.TrailConfig{Name: "abc", Bucket: "b"}, "home_region is required"},
		{"no bucket", emitters.TrailConfig{Name: "abc", HomeRegion: "us-east-1"}, "set bucket"},
		{"org", emitters.TrailConfig{Name: "abc", HomeRegion: "us-east-1", Bucket: "b", OrgID: "x"}, "starts with o-"},
		{"prefix", emitters.TrailConfig{Name: "abc", HomeRegion: "us-east-1", Bucket: "b", Prefix: "p/"}, "trailing slash"},
		{"interval", emitters.TrailConfig{Name: "abc", HomeRegion: "us-east-1", Bucket: "b", DeliveryInterval: 7 * time.Minute}, "divide an hour"},
		{"selectors", emitters.TrailConfig{Name: "abc", HomeRegion: "us-east-1", Bucket: "b",
			Selectors: cloudtrail.Selectors{EventSelectors: []cloudtrail.EventSelector{{ReadWriteType: "Sometimes"}}}}, "ReadWriteType"},
		{"insights", emitters.TrailConfig{Name: "abc", HomeRegion: "us-east-1", Bucket: "b",
			InsightSelectors: []cloudtrail.InsightSelector{{InsightType: "ApiSomethingInsight"}}}, "ApiSomethingInsight"},
		{"data insights", emitters.TrailConfig{Name: "abc", HomeRegion: "us-east-1", Bucket: "b",
			InsightSelectors: []cloudtrail.InsightSelector{{InsightType: "ApiCallRateInsight", EventCategories: []string{"Data"}}}}, "management events only"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate() = %v, want an error containing %q", err, tc.want)
			}
		})
	}
	ok := emitters.TrailConfig{Name: "abc", HomeRegion: "us-east-1", Bucket: "b"}
	if err := ok.Validate(); err != nil || ok.DeliveryInterval != 5*time.Minute {
		t.Errorf("Validate() = %v with interval %s, want nil and the 5m default", err, ok.DeliveryInterval)
	}
}

// TestTrailStateRoundTrip stops a trail midway, saves its state, and goes
// on with a new trail restored from it: the objects are those of a run
// without the stop, as a consumer's checkpoint hand-off needs.
func TestTrailStateRoundTrip(t *testing.T) {
	kr := testKeyRing(t)
	cfg := emitters.TrailConfig{Name: "audit_trail_1", HomeRegion: "us-east-1", Bucket: "audit-bucket", LogFileValidation: true}
	var recs []rec
	for m := 0; m < 150; m += 3 {
		id := fmt.Sprint("id", m)
		if m%2 == 1 {
			id = "odd-" + id
		}
		recs = append(recs, rec{id, "111122223333", "us-east-1", "ec2.amazonaws.com", "RunInstances", false, tt0.Add(time.Duration(m) * time.Minute)})
		if m%9 == 0 { // a repeat, within the hour, across the stop
			recs = append(recs, rec{id, "111122223333", "us-east-1", "ec2.amazonaws.com", "RunInstances", false, tt0.Add(time.Duration(m+2) * time.Minute)})
		}
	}
	ctx := context.Background()
	whole := objstore.NewDir(t.TempDir(), "audit-bucket")
	tr, err := emitters.NewTrail(cfg, whole, whole.Name(), kr)
	if err != nil {
		t.Fatal(err)
	}
	feed(t, tr, recs)
	if err := tr.Close(ctx, false); err != nil {
		t.Fatal(err)
	}
	wantStats := tr.Stats

	for _, cut := range []int{1, 17, 40, 51} {
		split := objstore.NewDir(t.TempDir(), "audit-bucket")
		first, err := emitters.NewTrail(cfg, split, split.Name(), kr)
		if err != nil {
			t.Fatal(err)
		}
		feed(t, first, recs[:cut])
		state, err := first.AppendState(nil)
		if err != nil {
			t.Fatal(err)
		}
		second, err := emitters.NewTrail(cfg, split, split.Name(), kr)
		if err != nil {
			t.Fatal(err)
		}
		if err := second.RestoreState(state); err != nil {
			t.Fatal(err)
		}
		again, _ := second.AppendState(nil)
		if !bytes.Equal(state, again) {
			t.Errorf("cut %d: restore then save changes the state", cut)
		}
		feed(t, second, recs[cut:])
		if err := second.Close(ctx, false); err != nil {
			t.Fatal(err)
		}
		if second.Stats != wantStats {
			t.Errorf("cut %d: stats %+v, want %+v", cut, second.Stats, wantStats)
		}
		kw, _ := whole.List(ctx, "", "")
		ks, _ := split.List(ctx, "", "")
		if !slices.Equal(kw, ks) {
			only := func(a, b []string) []string {
				return slices.DeleteFunc(slices.Clone(a), func(k string) bool { return slices.Contains(b, k) })
			}
			t.Errorf("cut %d: objects differ from an uninterrupted run: only there %q, only here %q", cut, only(kw, ks), only(ks, kw))
			continue
		}
		for _, k := range kw {
			a, ma, _ := whole.Get(ctx, k)
			b, mb, _ := split.Get(ctx, k)
			if !bytes.Equal(a, b) || !cmp.Equal(ma, mb) {
				t.Errorf("cut %d: %s differs from an uninterrupted run", cut, k)
			}
		}
	}
	other, _ := emitters.NewTrail(emitters.TrailConfig{Name: "other", HomeRegion: "us-east-1", Bucket: "b"}, whole, "b", nil)
	state, _ := tr.AppendState(nil)
	if err := other.RestoreState(state); !errors.Is(err, emitters.ErrTrailState) {
		t.Errorf("restoring another trail's state: %v, want ErrTrailState", err)
	}
	if err := other.RestoreState([]byte(`{"version":99}`)); !errors.Is(err, emitters.ErrTrailState) {
		t.Errorf("restoring a state of another version: %v, want ErrTrailState", err)
	}
}
