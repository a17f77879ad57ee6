package emitters_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/trailsight/trailsight/cloudtrail"
	"github.com/trailsight/trailsight/detector"
	"github.com/trailsight/trailsight/emitters"
	"github.com/trailsight/trailsight/internal/golden"
)

// update rewrites testdata/*.golden.json from the current output:
// go test ./emitters -update. Review the diff like code.

const (
	acctA = "111122223333"
	acctB = "444455556666"
)

// Fixed times of the batch: a RunInstances spike from 10:00 to 10:05 whose
// Start is emitted at 10:01 and End at 10:12, and an AccessDenied surge in
// another account whose Start is emitted at 10:01 too. Emitted carries
// seconds on purpose: file names use the minute.
var (
	t0        = time.Date(2026, 1, 12, 10, 0, 0, 0, time.UTC)
	minuteOne = t0.Add(time.Minute)
	minuteTwo = t0.Add(12 * time.Minute)
)

func callRateAttributions() []cloudtrail.Attribution {
	return []cloudtrail.Attribution{
		{
			Attribute: cloudtrail.AttrUserIdentityARN,
			Insight: []cloudtrail.AttributionValue{
				{Value: "arn:aws:sts::111122223333:assumed-role/autoscaler/worker-b", Average: 40},
				{Value: "arn:aws:sts::111122223333:assumed-role/autoscaler/worker-a", Average: 12.5},
			},
			Baseline: []cloudtrail.AttributionValue{
				{Value: "arn:aws:sts::111122223333:assumed-role/autoscaler/worker-a", Average: 0.0655430712},
				{Value: "arn:aws:sts::111122223333:assumed-role/autoscaler/worker-b", Average: 1.0 / 3},
			},
		},
		{
			Attribute: cloudtrail.AttrUserAgent,
			Insight:   []cloudtrail.AttributionValue{{Value: "aws-sdk-go-v2/1.30.3 os/linux lang/go#1.26", Average: 52.5}},
			Baseline:  []cloudtrail.AttributionValue{{Value: "aws-sdk-go-v2/1.30.3 os/linux lang/go#1.26", Average: 0.1685393258}},
		},
		{
			Attribute: cloudtrail.AttrErrorCode,
			Insight: []cloudtrail.AttributionValue{
				{Value: "null", Average: 50},
				{Value: "Client.InstanceLimitExceeded", Average: 2.5},
			},
			Baseline: []cloudtrail.AttributionValue{{Value: "null", Average: 0.1685393258}},
		},
	}
}

// goldenBatch returns the Insights of the golden test in the order an
// Engine emits them (by Emitted, then key).
func goldenBatch() []detector.Insight {
	callKey := detector.Key{Account: acctA, Region: "us-east-1", EventSource: "ec2.amazonaws.com", EventName: "RunInstances", Type: detector.APICallRate}
	errKey := detector.Key{Account: acctB, Region: "eu-west-1", EventSource: "s3.amazonaws.com", EventName: "GetObject", Type: detector.APIErrorRate, ErrorCode: "AccessDenied"}
	return []detector.Insight{
		{
			Key: callKey, State: detector.StateStart, Start: t0, Duration: 1,
			BaselineAverage: 0.1685393258, BaselineDuration: 10680, InsightAverage: 45,
			Attributions: callRateAttributions(), Emitted: minuteOne.Add(37 * time.Second),
			Direction: detector.Spike, Scale: 1, PValue: 1e-12, Expected: 0.17,
		},
		{
			Key: errKey, State: detector.StateStart, Start: t0, Duration: 1,
			BaselineAverage: 0.002, BaselineDuration: 20160, InsightAverage: 0.75,
			Attributions: []cloudtrail.Attribution{
				{
					Attribute: cloudtrail.AttrUserIdentityARN,
					Insight:   []cloudtrail.AttributionValue{{Value: "arn:aws:iam::444455556666:user/scanner", Average: 30}},
					Baseline:  []cloudtrail.AttributionValue{{Value: "arn:aws:sts::444455556666:assumed-role/app/i-0abc", Average: 0.01}},
				},
				{
					Attribute: cloudtrail.AttrUserAgent,
					Insight:   []cloudtrail.AttributionValue{{Value: "python-requests/2.31.0", Average: 30}},
					Baseline:  []cloudtrail.AttributionValue{{Value: "aws-cli/2.15.0", Average: 0.01}},
				},
			},
			Emitted:   minuteOne,
			Direction: detector.Spike, Scale: 1, PValue: 1e-9, Expected: 0.08,
		},
		{
			Key: callKey, State: detector.StateEnd, Start: t0, Duration: 5,
			BaselineAverage: 0.1685393258, BaselineDuration: 10680, InsightAverage: 52.5,
			Attributions: callRateAttributions(), Emitted: minuteTwo.Add(5 * time.Second),
			Direction: detector.Spike, Scale: 1, PValue: 1e-12, Expected: 0.17,
		},
	}
}

// wantFile is one file the golden batch must produce.
type wantFile struct {
	name    string // golden file: testdata/<name>.golden.json
	prefix  string // the key up to the unique part, spelled out
	account string
	region  string
	minute  time.Time
	records []int // indexes into goldenBatch, in file order
}

var wantFiles = []wantFile{
	{
		name:    "call-rate-start",
		prefix:  "AWSLogs/111122223333/CloudTrail-Insight/us-east-1/2026/01/12/111122223333_CloudTrail-Insight_us-east-1_20260112T1001Z_",
		account: acctA, region: "us-east-1", minute: minuteOne, records: []int{0},
	},
	{
		name:    "error-rate-start",
		prefix:  "AWSLogs/444455556666/CloudTrail-Insight/eu-west-1/2026/01/12/444455556666_CloudTrail-Insight_eu-west-1_20260112T1001Z_",
		account: acctB, region: "eu-west-1", minute: minuteOne, records: []int{1},
	},
	{
		name:    "call-rate-end",
		prefix:  "AWSLogs/111122223333/CloudTrail-Insight/us-east-1/2026/01/12/111122223333_CloudTrail-Insight_us-east-1_20260112T1012Z_",
		account: acctA, region: "us-east-1", minute: minuteTwo, records: []int{2},
	},
}

// wantBody returns the gzipped body a file of w must have, built from the
// batch's records.
func (w wantFile) wantBody(batch []detector.Insight) []byte {
	var recs [][]byte
	for _, i := range w.records {
		r := batch[i].Record()
		recs = append(recs, r.AppendJSON(nil))
	}
	return cloudtrail.EncodeRecordsFile(recs)
}

// wantKey returns the key of w's file, as the spec lays it out.
func (w wantFile) wantKey(batch []detector.Insight) string {
	return cloudtrail.InsightFileKey(cloudtrail.KeyPrefix{}, w.account, w.region, w.minute, cloudtrail.UniqueFromBody(w.wantBody(batch)))
}

func emitAll(t *testing.T, d *emitters.InsightFiles, batch []detector.Insight) {
	t.Helper()
	ctx := context.Background()
	if err := d.Emit(ctx, batch); err != nil {
		t.Fatalf("Emit: %v", err)
	}
	if err := d.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// readTree returns every file under root by slash-separated relative path.
func readTree(t *testing.T, root string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(path)
		files[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("gunzip: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gunzip: %v", err)
	}
	return out
}

func TestDirGolden(t *testing.T) {
	batch := goldenBatch()
	root := t.TempDir()
	d := emitters.NewDir(root, cloudtrail.KeyPrefix{})
	emitAll(t, d, batch)

	var wantKeys []string
	for _, w := range wantFiles {
		wantKeys = append(wantKeys, w.wantKey(batch))
	}
	if diff := cmp.Diff(wantKeys, d.Written); diff != "" {
		t.Errorf("Written (-want +got):\n%s", diff)
	}
	if got, want := d.Records, len(batch); got != want {
		t.Errorf("Records = %d, want %d", got, want)
	}
	tree := readTree(t, root)
	if got, want := slices.Sorted(maps.Keys(tree)), slices.Sorted(slices.Values(wantKeys)); !slices.Equal(got, want) {
		t.Errorf("files under root = %q, want %q", got, want)
	}

	for _, w := range wantFiles {
		t.Run(w.name, func(t *testing.T) {
			key := w.wantKey(batch)
			if !strings.HasPrefix(key, w.prefix) || len(key) != len(w.prefix)+16+len(".json.gz") {
				t.Errorf("key %q does not have the layout %q + 16 characters + .json.gz", key, w.prefix)
			}
			gz, ok := tree[key]
			if !ok {
				t.Fatalf("no file %s", key)
			}
			if !bytes.Equal(gz, w.wantBody(batch)) {
				t.Errorf("gzipped bytes of %s differ from EncodeRecordsFile of the records", key)
			}
			body := gunzip(t, gz)
			if !bytes.HasPrefix(body, []byte(`{"Records":[`)) || !bytes.HasSuffix(body, []byte(`]}`)) {
				t.Errorf("body %.40q… does not have Records as its first and only key", body)
			}
			var file struct {
				Records []json.RawMessage `json:"Records"`
			}
			if err := json.Unmarshal(body, &file); err != nil {
				t.Fatalf("body is not JSON: %v", err)
			}
			if got, want := len(file.Records), len(w.records); got != want {
				t.Fatalf("file has %d records, want %d", got, want)
			}
			for j, raw := range file.Records {
				got, err := cloudtrail.DecodeInsightRecord(raw)
				if err != nil {
					t.Fatalf("record %d: %v", j, err)
				}
				// Averages are written rounded to 10 decimal places.
				if diff := cmp.Diff(batch[w.records[j]].Record(), got, cmpopts.EquateApprox(0, 1e-10)); diff != "" {
					t.Errorf("record %d (-want +got):\n%s", j, diff)
				}
			}
			checkGolden(t, w.name, body)
		})
	}
}

func TestDirIdempotent(t *testing.T) {
	tests := []struct {
		name string
		// again emits the batch a second time into the root of first.
		again func(t *testing.T, root string, first *emitters.InsightFiles) *emitters.InsightFiles
	}{
		{
			name: "same Dir",
			again: func(t *testing.T, _ string, first *emitters.InsightFiles) *emitters.InsightFiles {
				first.Written = nil
				emitAll(t, first, goldenBatch())
				return first
			},
		},
		{
			name: "new Dir on the same root",
			again: func(t *testing.T, root string, _ *emitters.InsightFiles) *emitters.InsightFiles {
				d := emitters.NewDir(root, cloudtrail.KeyPrefix{})
				emitAll(t, d, goldenBatch())
				return d
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			first := emitters.NewDir(root, cloudtrail.KeyPrefix{})
			emitAll(t, first, goldenBatch())
			firstKeys := slices.Clone(first.Written)
			before := readTree(t, root)

			second := tt.again(t, root, first)
			if diff := cmp.Diff(firstKeys, second.Written); diff != "" {
				t.Errorf("keys written the second time (-first +second):\n%s", diff)
			}
			after := readTree(t, root)
			if diff := cmp.Diff(before, after); diff != "" {
				t.Errorf("tree after the second emit (-first +second):\n%s", diff)
			}
		})
	}
}

func TestDirLeavesNoTemporaryFiles(t *testing.T) {
	root := t.TempDir()
	emitAll(t, emitters.NewDir(root, cloudtrail.KeyPrefix{}), goldenBatch())
	emitAll(t, emitters.NewDir(root, cloudtrail.KeyPrefix{}), goldenBatch())
	tree := readTree(t, root)
	if len(tree) != len(wantFiles) {
		t.Errorf("got %d files, want %d", len(tree), len(wantFiles))
	}
	for rel := range tree {
		if strings.HasPrefix(filepath.Base(rel), ".") || !strings.HasSuffix(rel, ".json.gz") {
			t.Errorf("stray file %s under root", rel)
		}
	}
}

func TestDirUnwritableRoot(t *testing.T) {
	// Tests may run as root, which ignores permission bits, so the root is
	// made unusable by a regular file where a directory must be.
	tests := []struct {
		name string
		root func(tmp string) string
	}{
		{name: "root is a file", root: func(tmp string) string { return filepath.Join(tmp, "file") }},
		{name: "root is under a file", root: func(tmp string) string { return filepath.Join(tmp, "file", "insights") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmp := t.TempDir()
			if err := os.WriteFile(filepath.Join(tmp, "file"), []byte("not a directory\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			root := tt.root(tmp)
			batch := goldenBatch()
			d := emitters.NewDir(root, cloudtrail.KeyPrefix{})
			err := d.Emit(context.Background(), batch)
			if err == nil {
				err = d.Close(context.Background())
			}
			if err == nil {
				t.Fatalf("writing under %s: got no error", root)
			}
			// The first file due is the one of minute one, account A.
			want := filepath.Join(root, filepath.FromSlash(wantFiles[0].wantKey(batch)))
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name the file %s", err, want)
			}
			if len(d.Written) != 0 {
				t.Errorf("Written = %q after a failed write, want none", d.Written)
			}
		})
	}
}

// TestDirRetryAfterFailedFlush makes the second file of a minute fail, then
// clears the fault and retries as a caller would: the retry must write each
// missing file once, and never an empty file or one with a record twice.
func TestDirRetryAfterFailedFlush(t *testing.T) {
	tests := []struct {
		name  string
		retry func(ctx context.Context, d *emitters.InsightFiles, batch []detector.Insight) error
		// want lists the files expected in the end, as wantFiles indexes.
		// The End was never accepted by the failed Emit; only a caller
		// that sends the batch again gets it written.
		want []int
	}{
		{
			name:  "Close again",
			retry: func(ctx context.Context, d *emitters.InsightFiles, _ []detector.Insight) error { return d.Close(ctx) },
			want:  []int{0, 1},
		},
		{
			// An Engine whose Emit failed sends the same batch again.
			name: "Emit the batch again",
			retry: func(ctx context.Context, d *emitters.InsightFiles, batch []detector.Insight) error {
				if err := d.Emit(ctx, batch); err != nil {
					return err
				}
				return d.Close(ctx)
			},
			want: []int{0, 1, 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			root := t.TempDir()
			batch := goldenBatch()
			// Account B's folder is blocked by a file: its file of minute
			// one fails after account A's was written.
			blocker := filepath.Join(root, "AWSLogs", acctB)
			if err := os.MkdirAll(filepath.Dir(blocker), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(blocker, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			d := emitters.NewDir(root, cloudtrail.KeyPrefix{})
			if err := d.Emit(ctx, batch); err == nil {
				t.Fatal("Emit with account B blocked: got no error")
			}
			if err := os.Remove(blocker); err != nil {
				t.Fatal(err)
			}
			if err := tt.retry(ctx, d, batch); err != nil {
				t.Fatalf("retry: %v", err)
			}

			want := map[string][]byte{}
			for _, i := range tt.want {
				want[wantFiles[i].wantKey(batch)] = wantFiles[i].wantBody(batch)
			}
			if diff := cmp.Diff(want, readTree(t, root)); diff != "" {
				t.Errorf("files under root (-want +got):\n%s", diff)
			}
			// A file may be rewritten with the same bytes, never another.
			written := slices.Compact(slices.Sorted(slices.Values(d.Written)))
			if diff := cmp.Diff(slices.Sorted(maps.Keys(want)), written); diff != "" {
				t.Errorf("keys in Written (-want +got):\n%s", diff)
			}
		})
	}
}

// checkGolden byte-compares got with testdata/<name>.golden.json.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", name+".golden.json"), got)
}
