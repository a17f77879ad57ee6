package consumers_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trailsight/trailsight/cloudtrail"
	"github.com/trailsight/trailsight/consumers"
)

const (
	acct   = "111122223333"
	acct2  = "444455556666"
	region = "us-east-1"
)

var day0 = time.Date(2026, 1, 12, 0, 0, 0, 0, time.UTC)

// at returns day0 plus h hours and m minutes.
func at(h, m int) time.Time {
	return day0.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
}

// logName returns the key of a log file with a fixed unique part.
func logName(account, region string, delivery time.Time) string {
	return cloudtrail.LogFileKey(cloudtrail.KeyPrefix{}, account, region, delivery, "AbCdEfGh01234567")
}

func TestListFiles(t *testing.T) {
	// Keys of the tree, named for the order they must come out in.
	var (
		logEU1000      = logName(acct, "eu-west-1", at(10, 0))
		digest1003     = cloudtrail.DigestFileKey(cloudtrail.KeyPrefix{}, acct, region, "main-trail", region, at(10, 3).Add(1*time.Second))
		insight1004    = cloudtrail.InsightFileKey(cloudtrail.KeyPrefix{}, acct, region, at(10, 4), "ZyXwVuTs98765432")
		logUS1005Acct2 = logName(acct2, region, at(10, 5))
		logUS1005      = logName(acct, region, at(10, 5))
		logUS1010      = logName(acct, region, at(10, 10))
		logNextDay     = logName(acct, region, at(24, 0))
		untimedA       = "extra/a-events.jsonl"
		untimedB       = "extra/b-events.json"
	)
	// The tree is created in an order unlike the wanted one; WalkDir
	// visits it in lexical order, which is unlike it too.
	tree := []string{
		logNextDay, untimedB, logUS1010, insight1004, logUS1005, digest1003, logEU1000, untimedA, logUS1005Acct2,
		// Skipped: dot-files (an emitter's temporary file), non-data files.
		"AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/12/.tmp-123456.json.gz",
		".hidden.json",
		"README",
		"AWSLogs/README.md",
	}

	type want struct {
		rel      string // relative to the root; "-" for stdin
		kind     cloudtrail.FileKind
		delivery time.Time
	}
	tests := []struct {
		name  string
		paths []string // relative to the root, except "-"
		want  []want
	}{
		{
			name:  "tree in delivery order",
			paths: []string{"."},
			want: []want{
				{logEU1000, cloudtrail.FileLog, at(10, 0)},
				{digest1003, cloudtrail.FileDigest, at(10, 3).Add(time.Second)},
				{insight1004, cloudtrail.FileInsight, at(10, 4)},
				// Same minute: by path, and account 1111… sorts first.
				{logUS1005, cloudtrail.FileLog, at(10, 5)},
				{logUS1005Acct2, cloudtrail.FileLog, at(10, 5)},
				{logUS1010, cloudtrail.FileLog, at(10, 10)},
				{logNextDay, cloudtrail.FileLog, at(24, 0)},
				// No time in the name: after the timed ones, by path.
				{untimedA, cloudtrail.FileLog, time.Time{}},
				{untimedB, cloudtrail.FileLog, time.Time{}},
			},
		},
		{
			name:  "subtrees and files merged",
			paths: []string{"extra", logUS1010, "AWSLogs/111122223333/CloudTrail/eu-west-1"},
			want: []want{
				{logEU1000, cloudtrail.FileLog, at(10, 0)},
				{logUS1010, cloudtrail.FileLog, at(10, 10)},
				{untimedA, cloudtrail.FileLog, time.Time{}},
				{untimedB, cloudtrail.FileLog, time.Time{}},
			},
		},
		{
			name:  "stdin has no time",
			paths: []string{"-", logUS1005},
			want: []want{
				{logUS1005, cloudtrail.FileLog, at(10, 5)},
				{"-", cloudtrail.FileLog, time.Time{}},
			},
		},
		{
			// Named explicitly, a file is taken whatever its name.
			name:  "explicit non-data file",
			paths: []string{"README"},
			want:  []want{{"README", cloudtrail.FileOther, time.Time{}}},
		},
	}

	root := t.TempDir()
	for _, key := range tree {
		writeFile(t, root, key, []byte("{}"))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var paths []string
			for _, p := range tt.paths {
				if p != "-" {
					p = filepath.Join(root, filepath.FromSlash(p))
				}
				paths = append(paths, p)
			}
			files, err := consumers.ListFiles(paths)
			if err != nil {
				t.Fatalf("ListFiles(%q): %v", tt.paths, err)
			}
			var got []want
			for _, f := range files {
				rel := f.Path
				if rel != "-" {
					r, err := filepath.Rel(root, f.Path)
					if err != nil {
						t.Fatal(err)
					}
					rel = filepath.ToSlash(r)
				}
				got = append(got, want{rel, f.Kind, f.Delivery})
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("ListFiles(%q) (-want +got):\n%s", tt.paths, diff)
			}
		})
	}

	t.Run("missing path", func(t *testing.T) {
		missing := filepath.Join(root, "no-such-dir")
		files, err := consumers.ListFiles([]string{missing})
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("ListFiles(%q) = %d files, %v; want an error wrapping fs.ErrNotExist", missing, len(files), err)
		}
	})
}

// batchSummary is what the tests compare of a Batch.
type batchSummary struct {
	Path     string
	EventIDs []string
	Invalid  map[cloudtrail.Reason]int
	Err      bool
	Digest   bool
}

func summarize(b *consumers.Batch) batchSummary {
	s := batchSummary{Path: filepath.Base(b.File.Path), Invalid: b.Invalid, Err: b.Err != nil, Digest: b.Stats.Digest}
	for _, ev := range b.Events {
		// Each record's Raw is its own text, also in a gzip file (whose
		// records are copied out of the Decoder's buffer) and in a
		// recycled Batch: a mismatch shows up as a wrong event ID.
		var raw struct {
			EventID string `json:"eventID"`
		}
		if err := json.Unmarshal(ev.Raw, &raw); err != nil || raw.EventID != ev.EventID {
			s.EventIDs = append(s.EventIDs, fmt.Sprintf("%s (Raw says %q: %v)", ev.EventID, raw.EventID, err))
			continue
		}
		s.EventIDs = append(s.EventIDs, ev.EventID)
	}
	return s
}

// readAll runs ReadFiles and returns the summaries of the batches in the
// order fn saw them.
func readAll(t *testing.T, files []consumers.File, workers int) ([]batchSummary, error) {
	t.Helper()
	var got []batchSummary
	err := consumers.ReadFiles(context.Background(), files, workers, func(b *consumers.Batch) error {
		got = append(got, summarize(b))
		return nil
	})
	return got, err
}

// logFile is a log file for the ReadFiles tests: n records of account acct
// starting at seq, delivered at delivery.
func logFile(t *testing.T, dir string, delivery time.Time, seq, n int) (consumers.File, []string) {
	t.Helper()
	var recs [][]byte
	var ids []string
	for i := range n {
		c := testCall(delivery.Add(-time.Duration(n-i)*time.Second), uint64(seq+i))
		recs = append(recs, c.appendJSON(nil))
		ids = append(ids, c.eventID())
	}
	path := writeLog(t, dir, acct, region, delivery, recs)
	return consumers.File{Path: path, Kind: cloudtrail.FileLog, Delivery: delivery}, ids
}

// testCall returns a successful RunInstances call by the app role.
func testCall(tm time.Time, seq uint64) call {
	return call{
		time: tm, account: acct, region: region, source: "ec2.amazonaws.com", name: "RunInstances",
		role: "app", session: "i-0123456789abcdef0", userAgent: "aws-sdk-go-v2/1.30.3 os/linux lang/go#1.26",
		seq: seq,
	}
}

func TestReadFilesOrder(t *testing.T) {
	dir := t.TempDir()
	var files []consumers.File
	var want []batchSummary
	seq := 0
	// File i holds i+1 records, so a batch handed to the wrong file shows.
	for i := range 12 {
		f, ids := logFile(t, dir, at(10, 5*i), seq, i+1)
		seq += i + 1
		files = append(files, f)
		want = append(want, batchSummary{Path: filepath.Base(f.Path), EventIDs: ids})
	}
	wantBatches(t, files, want, 0, 1, 2, 5)
}

func TestReadFilesBadInput(t *testing.T) {
	dir := t.TempDir()
	good1, ids1 := logFile(t, dir, at(10, 0), 0, 2)
	good2, ids2 := logFile(t, dir, at(10, 10), 100, 1)

	// A log file with broken records between good ones.
	var recs [][]byte
	var mixedIDs []string
	for i, broken := range []string{
		`{"eventVersion":"1.09","eventSource":"ec2.amazonaws.com","eventName":"RunInstances","awsRegion":"us-east-1","recipientAccountId":"111122223333","eventID":"no-time"}`,
		`{"eventVersion":"1.09","eventTime":"yesterday","eventSource":"ec2.amazonaws.com","eventName":"RunInstances","awsRegion":"us-east-1","recipientAccountId":"111122223333"}`,
		`{"eventVersion":"1.09","eventTime":"2026-01-12T10:04:00Z","eventSource":"ec2.amazonaws.com","awsRegion":"us-east-1","recipientAccountId":"111122223333"}`,
		`{"eventVersion":"1.09","eventTime":"2026-01-12T10:04:00Z","eventSource":}`,
	} {
		c := testCall(at(10, 4), uint64(200+i))
		recs = append(recs, c.appendJSON(nil), []byte(broken))
		mixedIDs = append(mixedIDs, c.eventID())
	}
	c := testCall(at(10, 4), 300)
	recs = append(recs, c.appendJSON(nil))
	mixedIDs = append(mixedIDs, c.eventID())
	mixed := writeLog(t, dir, acct, region, at(10, 5), recs)

	garbage := writeFile(t, dir, "garbage.json", []byte("this is not JSON\n"))
	// The gzip magic number, then junk.
	badGzip := writeFile(t, dir, "bad.json.gz", []byte("\x1f\x8b\x08\x00junk junk junk"))
	missing := filepath.Join(dir, "vanished.json.gz")

	files := []consumers.File{
		good1,
		{Path: mixed, Kind: cloudtrail.FileLog, Delivery: at(10, 5)},
		{Path: garbage, Kind: cloudtrail.FileLog},
		{Path: badGzip, Kind: cloudtrail.FileLog},
		{Path: missing, Kind: cloudtrail.FileLog},
		good2,
	}
	want := []batchSummary{
		{Path: filepath.Base(good1.Path), EventIDs: ids1},
		{Path: filepath.Base(mixed), EventIDs: mixedIDs, Invalid: map[cloudtrail.Reason]int{
			cloudtrail.ReasonMissingEventTime: 1,
			cloudtrail.ReasonBadTime:          1,
			cloudtrail.ReasonMissingField:     1,
			cloudtrail.ReasonBadJSON:          1,
		}},
		{Path: "garbage.json", Err: true, Invalid: map[cloudtrail.Reason]int{cloudtrail.ReasonBadJSON: 1}},
		{Path: "bad.json.gz", Err: true, Invalid: map[cloudtrail.Reason]int{cloudtrail.ReasonBadGzip: 1}},
		{Path: "vanished.json.gz", Err: true},
		{Path: filepath.Base(good2.Path), EventIDs: ids2},
	}
	wantBatches(t, files, want, 1, 2)

	t.Run("missing file error", func(t *testing.T) {
		var gotErr error
		err := consumers.ReadFiles(context.Background(), files[4:5], 1, func(b *consumers.Batch) error {
			gotErr = b.Err
			return nil
		})
		if err != nil {
			t.Fatalf("ReadFiles: %v", err)
		}
		if !errors.Is(gotErr, fs.ErrNotExist) {
			t.Errorf("Batch.Err = %v, want one wrapping fs.ErrNotExist", gotErr)
		}
	})
}

func TestReadFilesDigestAndInsightFiles(t *testing.T) {
	dir := t.TempDir()
	digest := writeDigest(t, dir, acct, region, at(11, 0).Add(17*time.Second))
	insight := writeFile(t, dir, cloudtrail.InsightFileKey(cloudtrail.KeyPrefix{}, acct, region, at(10, 30), "ZyXwVuTs98765432"),
		cloudtrail.EncodeRecordsFile([][]byte{[]byte(`{"eventVersion":"1.08","eventTime":"2026-01-12T10:00:00Z","awsRegion":"us-east-1","eventID":"a","eventType":"AwsCloudTrailInsight","recipientAccountId":"111122223333","sharedEventID":"b","insightDetails":{"state":"Start","eventSource":"ec2.amazonaws.com","eventName":"RunInstances","insightType":"ApiCallRateInsight","insightContext":{"statistics":{"baseline":{"average":1.0},"insight":{"average":9.0},"insightDuration":1,"baselineDuration":60},"attributions":[]}},"eventCategory":"Insight"}`)}))
	// Digest JSON under a name that does not say so: read as a log file,
	// recognised by its content.
	digestCopy := filepath.Join(dir, "digest-copy.json.gz")
	data, err := os.ReadFile(digest)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "digest-copy.json.gz", data)

	files, err := consumers.ListFiles([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	wantKinds := map[string]cloudtrail.FileKind{digest: cloudtrail.FileDigest, insight: cloudtrail.FileInsight, digestCopy: cloudtrail.FileLog}
	if len(files) != len(wantKinds) {
		t.Fatalf("ListFiles found %d files, want %d: %+v", len(files), len(wantKinds), files)
	}
	calls := 0
	err = consumers.ReadFiles(context.Background(), files, 2, func(b *consumers.Batch) error {
		calls++
		if got, want := b.File.Kind, wantKinds[b.File.Path]; got != want {
			t.Errorf("%s: kind %v, want %v", b.File.Path, got, want)
		}
		if len(b.Events) != 0 || b.Invalid != nil || b.Err != nil {
			t.Errorf("%s: got %d events, invalid %v, error %v; want none", b.File.Path, len(b.Events), b.Invalid, b.Err)
		}
		// Digest and Insights files by name are not even read.
		if b.File.Kind != cloudtrail.FileLog && b.Bytes != 0 {
			t.Errorf("%s: Bytes = %d, want 0 (not read)", b.File.Path, b.Bytes)
		}
		if b.File.Path == digestCopy && !b.Stats.Digest {
			t.Errorf("%s: Stats.Digest = false, want true", b.File.Path)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("ReadFiles: %v", err)
	}
	if calls != len(files) {
		t.Errorf("fn ran %d times, want %d", calls, len(files))
	}
}

func TestReadFilesStops(t *testing.T) {
	dir := t.TempDir()
	var files []consumers.File
	for i := range 16 {
		f, _ := logFile(t, dir, at(10, i), i, 1)
		files = append(files, f)
	}
	errStop := errors.New("stop here")
	tests := []struct {
		name string
		// cancelBefore cancels the context before ReadFiles starts.
		cancelBefore bool
		// stopAt is the call of fn (1-based) that cancels the context
		// (cancel) or returns errStop (!cancel); 0 for never.
		stopAt  int
		cancel  bool
		wantErr error
		// wantCalls is how many times fn must run: never once the
		// context is cancelled.
		wantCalls int
	}{
		{name: "cancelled before the start", cancelBefore: true, wantErr: context.Canceled, wantCalls: 0},
		{name: "cancelled by fn", stopAt: 3, cancel: true, wantErr: context.Canceled, wantCalls: 3},
		{name: "fn error", stopAt: 3, wantErr: errStop, wantCalls: 3},
		{name: "fn error on the last file", stopAt: len(files), wantErr: errStop, wantCalls: len(files)},
		{name: "no stop", wantCalls: len(files)},
	}
	for _, tt := range tests {
		for _, workers := range []int{1, 2} {
			t.Run(fmt.Sprintf("%s/workers=%d", tt.name, workers), func(t *testing.T) {
				// Repeated, because where the producer is when the
				// context ends varies from run to run.
				for range 10 {
					ctx, cancel := context.WithCancel(context.Background())
					if tt.cancelBefore {
						cancel()
					}
					calls := 0
					done := make(chan error, 1)
					go func() {
						done <- consumers.ReadFiles(ctx, files, workers, func(b *consumers.Batch) error {
							calls++
							if calls != tt.stopAt {
								return nil
							}
							if tt.cancel {
								cancel()
								return nil
							}
							return errStop
						})
					}()
					var err error
					select {
					case err = <-done:
					case <-time.After(10 * time.Second):
						// A watchdog, not a wait: ReadFiles must return.
						t.Fatal("ReadFiles did not return")
					}
					cancel()
					if !errors.Is(err, tt.wantErr) {
						t.Fatalf("ReadFiles = %v, want %v", err, tt.wantErr)
					}
					if calls != tt.wantCalls {
						t.Fatalf("fn ran %d times, want %d", calls, tt.wantCalls)
					}
				}
			})
		}
	}
}

// wantBatches reads files with each number of workers and compares the
// batches with want.
func wantBatches(t *testing.T, files []consumers.File, want []batchSummary, workers ...int) {
	t.Helper()
	for _, w := range workers {
		t.Run(fmt.Sprintf("workers=%d", w), func(t *testing.T) {
			got, err := readAll(t, files, w)
			if err != nil {
				t.Fatalf("ReadFiles: %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("batches (-want +got):\n%s", diff)
			}
		})
	}
}
