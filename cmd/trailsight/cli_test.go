package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trailsight/trailsight/cloudtrail"
	"github.com/trailsight/trailsight/datasets"
	"github.com/trailsight/trailsight/eval"
	"github.com/trailsight/trailsight/internal/insightstest"
	"github.com/trailsight/trailsight/internal/kafkatest"
	"github.com/trailsight/trailsight/internal/s3test"
	"github.com/trailsight/trailsight/internal/testenv"
)

// The tests drive the CLI in-process through run, the function main
// calls, and check what it prints and writes.

const (
	tinyAccount = "111122223333"
	tinyRegion  = "us-east-1"
	tinyZones   = "111122223333=Europe/Berlin"
)

// raceEnabled is set under the race detector (race_test.go).
var raceEnabled bool

// commandNames are the subcommands the README documents.
var commandNames = []string{"replay", "gen", "eval", "series", "explain", "plot", "serve", "produce", "rekey", "validate", "demo"}

// cliResult is what one run of the CLI produced.
type cliResult struct {
	stdout, stderr string
	err            error
}

func runCLI(t *testing.T, args ...string) cliResult {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), args, &stdout, &stderr)
	return cliResult{stdout.String(), stderr.String(), err}
}

// mustRun runs the CLI and fails the test on an error.
func mustRun(t *testing.T, args ...string) cliResult {
	t.Helper()
	r := runCLI(t, args...)
	if r.err != nil {
		t.Fatalf("trailsight %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.err, r.stdout, r.stderr)
	}
	return r
}

// cliCase is one table-driven invocation. In args, $TMP is a fresh
// temporary directory of the case.
type cliCase struct {
	name string
	args []string
	// wantErr is a substring of the error; "" means no error.
	wantErr string
	// errIs, when set, must match the error with errors.Is.
	errIs error
	// stdout and stderr list substrings the output must contain.
	stdout, stderr []string
	// quiet means nothing at all on stdout.
	quiet bool
}

func (c cliCase) run(t *testing.T) cliResult {
	t.Helper()
	tmp := t.TempDir()
	args := make([]string, len(c.args))
	for i, a := range c.args {
		args[i] = strings.ReplaceAll(a, "$TMP", tmp)
	}
	r := runCLI(t, args...)
	switch {
	case c.wantErr == "" && c.errIs == nil && r.err != nil:
		t.Errorf("trailsight %q: unexpected error %v", args, r.err)
	case (c.wantErr != "" || c.errIs != nil) && r.err == nil:
		t.Errorf("trailsight %q: no error, want one containing %q", args, c.wantErr)
	case r.err != nil && !strings.Contains(r.err.Error(), c.wantErr):
		t.Errorf("trailsight %q: error %q, want it to contain %q", args, r.err, c.wantErr)
	}
	if c.errIs != nil && !errors.Is(r.err, c.errIs) {
		t.Errorf("trailsight %q: error %v is not %v", args, r.err, c.errIs)
	}
	for _, s := range c.stdout {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("trailsight %q: stdout lacks %q:\n%s", args, s, r.stdout)
		}
	}
	for _, s := range c.stderr {
		if !strings.Contains(r.stderr, s) {
			t.Errorf("trailsight %q: stderr lacks %q:\n%s", args, s, r.stderr)
		}
	}
	if c.quiet && r.stdout != "" {
		t.Errorf("trailsight %q: stdout not empty:\n%s", args, r.stdout)
	}
	return r
}

// sharedTiny is the tiny dataset (seed 3), generated once by `gen` for the
// tests that only read it.
var sharedTiny struct {
	once   sync.Once
	root   string
	dir    string
	stdout string // what gen printed
	err    error
}

func TestMain(m *testing.M) {
	defer func() {
		for _, d := range []string{sharedTiny.root, serveData.root} {
			if d != "" {
				os.RemoveAll(d)
			}
		}
	}()
	// Runs the tests, then stops the shared MinIO and Kafka servers if
	// they started.
	kafkatest.Main(testenv.RunFunc(func() int { s3test.Main(m); return 0 }))
}

func tinyDataset(t *testing.T) (string, *datasets.Manifest) {
	t.Helper()
	sharedTiny.once.Do(func() {
		sharedTiny.root, sharedTiny.err = os.MkdirTemp("", "trailsight-cli-test-")
		if sharedTiny.err != nil {
			return
		}
		sharedTiny.dir = filepath.Join(sharedTiny.root, "tiny")
		var stdout, stderr bytes.Buffer
		sharedTiny.err = run(context.Background(), []string{"gen", "--preset", "tiny", "--seed", "3", "--out", sharedTiny.dir}, &stdout, &stderr)
		sharedTiny.stdout = stdout.String()
		if sharedTiny.err != nil {
			sharedTiny.err = fmt.Errorf("%w\nstderr:\n%s", sharedTiny.err, stderr.String())
		}
	})
	if sharedTiny.err != nil {
		t.Fatalf("trailsight gen --preset tiny --seed 3: %v", sharedTiny.err)
	}
	m, err := datasets.LoadManifest(sharedTiny.dir)
	if err != nil {
		t.Fatal(err)
	}
	return sharedTiny.dir, m
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"help"}, {"-h"}, {"--help"}} {
		t.Run(fmt.Sprint(args), func(t *testing.T) {
			r := cliCase{args: args, stdout: append([]string{"Usage: trailsight COMMAND"}, commandNames...)}.run(t)
			if r.stderr != "" {
				t.Errorf("stderr not empty:\n%s", r.stderr)
			}
			for _, c := range commands() {
				if !regexp.MustCompile(`(?m)^  ` + c.name + ` +` + regexp.QuoteMeta(c.args) + `$`).MatchString(r.stdout) {
					t.Errorf("usage has no line for %s %s:\n%s", c.name, c.args, r.stdout)
				}
			}
		})
	}
	if got := len(commands()); got != len(commandNames) {
		t.Errorf("%d commands, the README documents %d (%v)", got, len(commandNames), commandNames)
	}
}

func TestUnknownCommand(t *testing.T) {
	r := cliCase{args: []string{"frobnicate", "--out", "x"}, wantErr: `unknown command "frobnicate"`, quiet: true,
		stderr: commandNames}.run(t)
	if code := exitCode(r.err); code != 2 {
		t.Errorf("exit code %d, want 2", code)
	}
}

func TestCommandErrors(t *testing.T) {
	usageErr := "replay: --out (or --report, or trails in -config.file) and at least one PATH are required"
	for _, c := range []cliCase{
		{name: "gen/no-out", args: []string{"gen", "--preset", "tiny"}, wantErr: "gen: --out is required", quiet: true, stderr: []string{"-preset", "-seed"}},
		{name: "gen/unknown-preset", args: []string{"gen", "--preset", "huge", "--out", "$TMP/d"}, errIs: datasets.ErrUnknownPreset, wantErr: `"huge"`, quiet: true},
		{name: "gen/bad-flag", args: []string{"gen", "--bogus"}, wantErr: "flag provided but not defined: -bogus", quiet: true},
		{name: "replay/no-args", args: []string{"replay"}, wantErr: usageErr, quiet: true, stderr: []string{"Usage: trailsight replay", "-time-zones", "-detector.warm-up"}},
		{name: "replay/no-path", args: []string{"replay", "--out", "$TMP/o"}, wantErr: usageErr, quiet: true},
		{name: "replay/no-out", args: []string{"replay", "$TMP"}, wantErr: usageErr, quiet: true},
		{name: "replay/missing-path", args: []string{"replay", "--quiet", "--out", "$TMP/o", "$TMP/no-such-dir"}, errIs: fs.ErrNotExist, wantErr: "no-such-dir", quiet: true},
		{name: "replay/help", args: []string{"replay", "-h"}, errIs: flag.ErrHelp, quiet: true, stderr: []string{"Usage: trailsight replay", "-quiet"}},
		{name: "replay/bad-detector-flag", args: []string{"replay", "--detector.start-p", "0.5", "--out", "$TMP/o", "$TMP"}, wantErr: "detector.start-p=0.5", quiet: true},
		{name: "eval/no-data", args: []string{"eval"}, wantErr: "eval: --data is required", quiet: true},
		{name: "eval/unknown-preset", args: []string{"eval", "--preset", "huge", "--data", "$TMP/d"}, errIs: datasets.ErrUnknownPreset},
		{name: "eval-nab/no-corpus", args: []string{"eval", "nab", "--out", "$TMP/o"}, wantErr: "eval nab: --corpus and --out are required", quiet: true},
		{name: "eval-nab/no-out", args: []string{"eval", "nab", "--corpus", "$TMP"}, wantErr: "eval nab: --corpus and --out are required", quiet: true},
		{name: "eval-nab/bad-detector-name", args: []string{"eval", "nab", "--generate", "--corpus", "$TMP/c", "--out", "$TMP/o", "--detector", "a/b"}, wantErr: `invalid detector name "a/b"`, quiet: true},
		{name: "series/no-dataset", args: []string{"series", "-account", tinyAccount, "-name", "RunInstances"}, wantErr: "series: usage:", quiet: true},
		{name: "series/no-name", args: []string{"series", "-account", tinyAccount, "$TMP"}, wantErr: "series: usage:", quiet: true},
		{name: "demo/bad-flag", args: []string{"demo", "--bogus"}, wantErr: "flag provided but not defined: -bogus", quiet: true},
	} {
		t.Run(c.name, func(t *testing.T) { c.run(t) })
	}
}

func TestGenUnknownPresetWritesNothing(t *testing.T) {
	out := filepath.Join(t.TempDir(), "d")
	cliCase{args: []string{"gen", "--preset", "huge", "--out", out}, errIs: datasets.ErrUnknownPreset}.run(t)
	if _, err := os.Stat(out); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a failed gen left %s behind (stat: %v)", out, err)
	}
}

func TestTimeZonesFlag(t *testing.T) {
	for _, tc := range []struct {
		zones, wantErr string
	}{
		{"111122223333", `-time-zones="111122223333": want ACCOUNT=ZONE[,ACCOUNT=ZONE...]`},
		{"111122223333:Europe/Berlin", `-time-zones="111122223333:Europe/Berlin": want ACCOUNT=ZONE`},
		{"=Europe/Berlin", `-time-zones="=Europe/Berlin": want ACCOUNT=ZONE`},
		{"111122223333=", `-time-zones="111122223333=": want ACCOUNT=ZONE`},
		{"111122223333=Europe/Berlin,", `-time-zones="111122223333=Europe/Berlin,": want ACCOUNT=ZONE`},
		{"111122223333=Europe/Berlin,,444455556666=Asia/Tokyo", `want ACCOUNT=ZONE`},
		{"111122223333=Mars/Olympus", `"Mars/Olympus": unknown time zone`},
	} {
		t.Run(tc.zones, func(t *testing.T) {
			// The PATH exists and is empty: only the zones can fail.
			cliCase{args: []string{"replay", "--quiet", "--time-zones", tc.zones, "--out", "$TMP/o", "$TMP"}, wantErr: tc.wantErr, quiet: true}.run(t)
		})
	}

	got, err := parseZones("111122223333=Europe/Berlin,444455556666=Asia/Tokyo")
	want := map[string]string{"111122223333": "Europe/Berlin", "444455556666": "Asia/Tokyo"}
	if err != nil || !cmp.Equal(got, want) {
		t.Errorf("parseZones = %v, %v; want %v", got, err, want)
	}
	if got, err := parseZones(""); got != nil || err != nil {
		t.Errorf(`parseZones("") = %v, %v; want nil, nil`, got, err)
	}
}

func TestGen(t *testing.T) {
	// tinyDataset runs `gen --preset tiny --seed 3 --out DIR` once.
	out, m := tinyDataset(t)
	r := cliResult{stdout: sharedTiny.stdout}
	if m.Dataset != "tiny" || m.Seed != 3 || len(m.Labels) == 0 || m.Counts.Events == 0 {
		t.Errorf("manifest: dataset %q seed %d, %d labels, %d events; want tiny, 3, some, some", m.Dataset, m.Seed, len(m.Labels), m.Counts.Events)
	}
	want := fmt.Sprintf(`Generated "tiny": %d records in %d files`, m.Counts.Events, m.Counts.Files)
	if !strings.Contains(r.stdout, want) || !strings.Contains(r.stdout, out) {
		t.Errorf("stdout %q, want it to contain %q and %s", r.stdout, want, out)
	}

	logs := 0
	err := filepath.WalkDir(filepath.Join(out, "AWSLogs"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(out, p)
		k, ok := cloudtrail.ParseKey(filepath.ToSlash(rel))
		if !ok || k.Kind != cloudtrail.KeyKindLog || k.AccountID != tinyAccount || k.Region != tinyRegion {
			t.Errorf("%s is not a log file key of %s in %s (%+v, %v)", rel, tinyAccount, tinyRegion, k, ok)
		}
		logs++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if int64(logs) != m.Counts.Files {
		t.Errorf("%d log files under AWSLogs, the manifest says %d", logs, m.Counts.Files)
	}

	// A second run must fail and not touch the dataset already there.
	before, err := os.ReadFile(filepath.Join(out, datasets.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	r = cliCase{args: []string{"gen", "--preset", "tiny", "--seed", "4", "--out", out}, wantErr: "already holds a dataset", quiet: true}.run(t)
	if r.err != nil && !strings.Contains(r.err.Error(), out) {
		t.Errorf("error %q does not name the directory %s", r.err, out)
	}
	after, err := os.ReadFile(filepath.Join(out, datasets.ManifestFile))
	if err != nil || !bytes.Equal(before, after) {
		t.Errorf("the failed second gen changed %s (err %v)", datasets.ManifestFile, err)
	}
}

// summary is what printSummary wrote, parsed back.
type summary struct {
	files, failed, digest, insightFiles int
	records, writes, reads              int
	invalid                             int
	reasons                             string
	callSeries, errorSeries             int
	callStarted, errorStarted, ended    int
	open                                int
}

var summaryRE = regexp.MustCompile(`(?s)^Replayed (\d+) files \((\d+) failed, (\d+) digest, (\d+) Insights files skipped\), [0-9.]+ MB in \S+ \(\S+ records/s\)\n` +
	`Records: (\d+); write calls counted (\d+); errored reads \d+; reads (\d+); not analysed \d+; duplicates \d+; late \d+; too old \d+; from future \d+\n` +
	`Invalid records: (\d+) ([^\n]*)\n` +
	`Series: (\d+) call-rate, (\d+) error-rate, in \d+ account-Regions; delivery-gap minutes \d+\n` +
	`Insights: (\d+) ApiCallRateInsight, (\d+) ApiErrorRateInsight started; (\d+) ended; (\d+) still open\n`)

func parseSummary(t *testing.T, stdout string) summary {
	t.Helper()
	m := summaryRE.FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("stdout does not start with the replay summary:\n%s", stdout)
	}
	n := func(i int) int {
		v, err := strconv.Atoi(m[i])
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	return summary{
		files: n(1), failed: n(2), digest: n(3), insightFiles: n(4),
		records: n(5), writes: n(6), reads: n(7),
		invalid: n(8), reasons: strings.TrimSpace(m[9]),
		callSeries: n(10), errorSeries: n(11),
		callStarted: n(12), errorStarted: n(13), ended: n(14), open: n(15),
	}
}

// readTree returns every file under root by slash-separated relative path.
func readTree(t *testing.T, root string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		files[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return files
}

func TestReplayTinyDataset(t *testing.T) {
	data, m := tinyDataset(t)
	tmp := t.TempDir()
	replayInto := func(out string) (cliResult, summary) {
		// The tiny dataset has two days of history: warm up over them, in
		// the account's time zone, so Insights can start on day 3.
		r := mustRun(t, "replay", "--quiet", "--detector.warm-up", "48h", "--time-zones", tinyZones, "--out", out, data)
		if r.stderr != "" {
			t.Errorf("--quiet replay wrote to stderr:\n%s", r.stderr)
		}
		return r, parseSummary(t, r.stdout)
	}
	out1, out2 := filepath.Join(tmp, "a"), filepath.Join(tmp, "b")
	r, s := replayInto(out1)

	if int64(s.records) != m.Counts.Events {
		t.Errorf("replay read %d records, the dataset holds %d", s.records, m.Counts.Events)
	}
	if int64(s.files) < m.Counts.Files || s.failed != 0 {
		t.Errorf("replayed %d files (%d failed), the dataset has %d log files", s.files, s.failed, m.Counts.Files)
	}
	if s.writes == 0 || s.reads == 0 || s.callSeries == 0 || s.errorSeries == 0 {
		t.Errorf("summary counts no writes, reads or series: %+v", s)
	}
	started := s.callStarted + s.errorStarted
	if started == 0 {
		t.Fatalf("no Insights on the tiny dataset, which plants every kind:\n%s", r.stdout)
	}
	if s.ended+s.open != started {
		t.Errorf("%d started, but %d ended + %d open", started, s.ended, s.open)
	}
	if strings.Contains(r.stdout, "Warm-up:") {
		t.Errorf("a warm-up note after a replay past the warm-up:\n%s", r.stdout)
	}

	tree := readTree(t, out1)
	if !strings.Contains(r.stdout, fmt.Sprintf("Insights files: %d under %s\n", len(tree), out1)) {
		t.Errorf("stdout does not report the %d files under %s:\n%s", len(tree), out1, r.stdout)
	}
	var starts, ends []string
	types := map[string]int{}
	for rel, b := range tree {
		k, ok := cloudtrail.ParseKey(rel)
		if !ok || k.Kind != cloudtrail.KeyKindInsight || k.AccountID != tinyAccount || k.Region != tinyRegion || k.Prefix != "" {
			t.Errorf("%s: not an Insights file key of %s in %s (%+v, %v)", rel, tinyAccount, tinyRegion, k, ok)
			continue
		}
		if k.Time.Before(m.WarmupEnd) || k.Time.After(m.End.Add(time.Hour)) {
			t.Errorf("%s: delivered at %s, outside the dataset after its warm-up [%s, %s]", rel, k.Time, m.WarmupEnd, m.End)
		}
		recs, err := cloudtrail.DecodeInsightFile(b)
		if err != nil || len(recs) == 0 {
			t.Errorf("%s: %d records, %v", rel, len(recs), err)
			continue
		}
		for _, rec := range recs {
			if rec.RecipientAccountID != k.AccountID || rec.AWSRegion != k.Region {
				t.Errorf("%s: record of %s %s in the file of %s %s", rel, rec.RecipientAccountID, rec.AWSRegion, k.AccountID, k.Region)
			}
			if rec.EventTime.After(k.Time) {
				t.Errorf("%s: record of %s delivered earlier, at %s", rel, rec.EventTime, k.Time)
			}
			types[rec.InsightType+" "+rec.State]++
			switch rec.State {
			case cloudtrail.StateStart:
				starts = append(starts, rec.SharedEventID)
			case cloudtrail.StateEnd:
				ends = append(ends, rec.SharedEventID)
			default:
				t.Errorf("%s: state %q", rel, rec.State)
			}
		}
	}
	if len(starts) != started || len(ends) != s.ended {
		t.Errorf("files hold %d Start and %d End records; the summary says %d started, %d ended", len(starts), len(ends), started, s.ended)
	}
	if n := types[cloudtrail.APICallRateInsight+" Start"]; n != s.callStarted {
		t.Errorf("%d call-rate Start records, summary says %d", n, s.callStarted)
	}
	if n := types[cloudtrail.APIErrorRateInsight+" Start"]; n != s.errorStarted {
		t.Errorf("%d error-rate Start records, summary says %d", n, s.errorStarted)
	}
	for _, id := range ends {
		if !slices.Contains(starts, id) {
			t.Errorf("End record with sharedEventID %s has no Start", id)
		}
	}

	// Determinism: the same input gives the same files, byte for byte.
	r2, _ := replayInto(out2)
	tree2 := readTree(t, out2)
	if diff := cmp.Diff(keysOf(tree), keysOf(tree2)); diff != "" {
		t.Fatalf("second replay wrote other files (-first +second):\n%s", diff)
	}
	for rel, b := range tree {
		if !bytes.Equal(b, tree2[rel]) {
			t.Errorf("%s differs between two replays", rel)
		}
	}
	strip := func(s string) string {
		s = regexp.MustCompile(`in \S+ \(\S+ records/s\)`).ReplaceAllString(s, "")
		return strings.ReplaceAll(s, out2, out1)
	}
	if diff := cmp.Diff(strip(r.stdout), strip(r2.stdout)); diff != "" {
		t.Errorf("second replay printed another summary (-first +second):\n%s", diff)
	}
}

func keysOf(m map[string][]byte) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// record returns one management event of the account as JSON.
func record(id string, at time.Time, name string, readOnly bool) string {
	return fmt.Sprintf(`{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::%[1]s:user/alice","accountId":"%[1]s"},`+
		`"eventTime":%[2]q,"eventSource":"ec2.amazonaws.com","eventName":%[3]q,"awsRegion":%[4]q,"eventID":%[5]q,`+
		`"readOnly":%[6]t,"eventType":"AwsApiCall","managementEvent":true,"eventCategory":"Management","recipientAccountId":"%[1]s"}`,
		tinyAccount, at.UTC().Format(time.RFC3339), name, tinyRegion, id, readOnly)
}

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestReplayBadInput(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	// One log file in the trail layout: four good records around a
	// truncated one and one without eventSource.
	body := `{"Records":[` + strings.Join([]string{
		record("good-1", t0.Add(1*time.Minute), "RunInstances", false),
		`{"eventTime":"2026-01-05T10:02:00Z","eventSource":"ec2.amazonaws.com","eventName":`,
		record("good-2", t0.Add(2*time.Minute), "RunInstances", false),
		`{"eventTime":"2026-01-05T10:02:30Z","eventName":"RunInstances","awsRegion":"us-east-1","eventID":"no-source","recipientAccountId":"111122223333","readOnly":false}`,
		record("good-3", t0.Add(3*time.Minute), "TerminateInstances", false),
		record("good-4", t0.Add(4*time.Minute), "DescribeInstances", true),
	}, ",") + `]}`
	key := cloudtrail.LogFileKey(cloudtrail.KeyPrefix{}, tinyAccount, tinyRegion, t0.Add(10*time.Minute), "good")
	writeFile(t, filepath.Join(dir, filepath.FromSlash(key)), gzipped(t, []byte(body)))
	// Garbage: a gzip header and no gzip stream, and text that is no JSON.
	writeFile(t, filepath.Join(dir, "garbage.json.gz"), []byte("\x1f\x8bthis is not a gzip stream"))
	writeFile(t, filepath.Join(dir, "notes", "junk.json"), []byte("lorem ipsum dolor sit amet"))
	// Digest and Insights files are recognised by name and skipped unread,
	// so their garbage counts as nothing.
	digest := cloudtrail.DigestFileKey(cloudtrail.KeyPrefix{}, tinyAccount, tinyRegion, "trail", tinyRegion, t0.Add(time.Hour))
	writeFile(t, filepath.Join(dir, filepath.FromSlash(digest)), []byte("not read"))
	insight := cloudtrail.InsightFileKey(cloudtrail.KeyPrefix{}, tinyAccount, tinyRegion, t0, "skipped")
	writeFile(t, filepath.Join(dir, filepath.FromSlash(insight)), []byte("not read"))
	// Other files are not trail files at all.
	writeFile(t, filepath.Join(dir, "README.txt"), []byte("not a trail file"))

	out := filepath.Join(t.TempDir(), "out")
	r := mustRun(t, "replay", "--quiet", "--out", out, dir)
	got := parseSummary(t, r.stdout)
	want := summary{
		files: 5, failed: 2, digest: 1, insightFiles: 1,
		records: 4, writes: 3, reads: 1,
		invalid: 4, reasons: "bad_gzip=1 bad_json=1 missing_field=1 truncated=1",
		callSeries: 2,
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(summary{})); diff != "" {
		t.Errorf("summary (-want +got):\n%s\nstdout:\n%s", diff, r.stdout)
	}
	if !strings.Contains(r.stdout, "Insights files: 0 under "+out) {
		t.Errorf("stdout does not report 0 Insights files:\n%s", r.stdout)
	}
	// A trail shorter than the warm-up says why it has no Insights.
	if !strings.Contains(r.stdout, "Warm-up: 1 of 1 account-Regions have less history than -detector.warm-up 168h0m0s") {
		t.Errorf("stdout does not say the account-Region is still warming up:\n%s", r.stdout)
	}
}

// setStdin makes os.Stdin a pipe holding body until the test ends.
func setStdin(t *testing.T, body string) {
	t.Helper()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	// The body is far smaller than a pipe buffer, so the write does not
	// block before the reader starts.
	if _, err := pw.WriteString(body); err != nil {
		t.Fatal(err)
	}
	if err := pw.Close(); err != nil {
		t.Fatal(err)
	}
	saved := os.Stdin
	os.Stdin = pr
	t.Cleanup(func() {
		os.Stdin = saved
		pr.Close()
	})
}

func TestReplayStdin(t *testing.T) {
	t0 := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	lines := []string{
		record("line-1", t0, "RunInstances", false),
		record("line-2", t0.Add(time.Minute), "RunInstances", false),
		record("line-1", t0, "RunInstances", false), // a duplicate
		record("line-3", t0.Add(2*time.Minute), "DescribeInstances", true),
		`{"eventTime":"yesterday","eventSource":"ec2.amazonaws.com","eventName":"RunInstances","awsRegion":"us-east-1","recipientAccountId":"111122223333"}`,
	}
	setStdin(t, strings.Join(lines, "\n")+"\n")
	out := filepath.Join(t.TempDir(), "out")
	r := mustRun(t, "replay", "--quiet", "--out", out, "-")
	got := parseSummary(t, r.stdout)
	want := summary{files: 1, records: 4, writes: 2, reads: 1, invalid: 1, reasons: "bad_time=1", callSeries: 1}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(summary{})); diff != "" {
		t.Errorf("summary (-want +got):\n%s\nstdout:\n%s", diff, r.stdout)
	}
	if !strings.Contains(r.stdout, "duplicates 1;") {
		t.Errorf("the duplicate eventID is not reported:\n%s", r.stdout)
	}
}

func TestSeries(t *testing.T) {
	data, m := tinyDataset(t)
	var spike *datasets.Label
	for i, l := range m.Labels {
		if l.Kind == datasets.KindProvisioningSpike && l.EventName != "" {
			spike = &m.Labels[i]
			break
		}
	}
	if spike == nil {
		t.Fatal("the tiny dataset has no provisioning spike label")
	}
	from, to := spike.Start.Add(-5*time.Minute), spike.Start.Add(4*time.Minute)
	r := mustRun(t, "series", "-account", spike.Account, "-region", spike.Region, "-source", spike.EventSource, "-name", spike.EventName,
		"-from", from.Format(time.RFC3339), "-to", to.Format(time.RFC3339), "--detector.warm-up", "48h", data)

	tr, err := eval.CountTruth(t.Context(), []string{data})
	if err != nil {
		t.Fatal(err)
	}
	lineRE := regexp.MustCompile(`^(\d\d-\d\d \d\d:\d\d) count= *(\d+) hour=`)
	// The spike's Start names the principal that led it: the label's, its
	// sessions taken together as their role.
	leader := spike.Principal
	if i := strings.Index(leader, ":assumed-role/"); i >= 0 {
		if j := strings.IndexByte(leader[i+len(":assumed-role/"):], '/'); j >= 0 {
			leader = leader[:i+len(":assumed-role/")+j]
		}
	}
	if !strings.Contains(r.stdout, " leader="+leader+" calls=") {
		t.Errorf("no Start line names the leader %s:\n%s", leader, r.stdout)
	}
	minute := from
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if strings.HasPrefix(line, "Start ") || strings.HasPrefix(line, "End ") {
			continue
		}
		mm := lineRE.FindStringSubmatch(line)
		if mm == nil {
			t.Errorf("unexpected line %q", line)
			continue
		}
		if want := minute.Format("01-02 15:04"); mm[1] != want {
			t.Errorf("line for %s, want %s", mm[1], want)
		}
		want, _ := tr.Count(spike.Account, spike.Region, spike.EventSource, spike.EventName, "", cloudtrail.APICallRateInsight, minute, minute.Add(time.Minute))
		if got, _ := strconv.ParseFloat(mm[2], 64); got != want {
			t.Errorf("%s: count=%v, the trail has %v calls", mm[1], got, want)
		}
		minute = minute.Add(time.Minute)
	}
	if !minute.Equal(to.Add(time.Minute)) {
		t.Errorf("printed minutes up to %s, want through %s:\n%s", minute.Add(-time.Minute), to, r.stdout)
	}
}

func TestEval(t *testing.T) {
	tmp := t.TempDir()
	data, jsonOut := filepath.Join(tmp, "tiny"), filepath.Join(tmp, "report.json")
	// No dataset in --data yet: eval generates the preset first.
	r := mustRun(t, "eval", "--data", data, "--preset", "tiny", "--seed", "3", "--json", jsonOut, "--report", filepath.Join(tmp, "html"))
	if page, err := os.ReadFile(filepath.Join(tmp, "html", "index.html")); err != nil || !strings.Contains(string(page), "<svg") ||
		!strings.Contains(r.stdout, "HTML report: "+filepath.Join(tmp, "html", "index.html")) {
		t.Errorf("eval --report wrote no report with charts (%v)", err)
	}
	if want := fmt.Sprintf("Generating preset %q (seed 3) in %s", "tiny", data); !strings.HasPrefix(r.stdout, want) {
		t.Errorf("stdout does not start with %q:\n%s", want, r.stdout)
	}
	m, err := datasets.LoadManifest(data)
	if err != nil {
		t.Fatal(err)
	}
	_, after, _ := strings.Cut(r.stdout, "\n")
	s := parseSummary(t, after)
	if int64(s.records) != m.Counts.Events {
		t.Errorf("eval replayed %d records, the dataset holds %d", s.records, m.Counts.Events)
	}

	// The table: a header and one row per label kind, then the total.
	if !regexp.MustCompile(`(?m)^kind +labels +detected +recall +delay p50 +delay p90$`).MatchString(r.stdout) {
		t.Errorf("no table header:\n%s", r.stdout)
	}
	targets := 0
	for _, l := range m.Labels {
		row := `(?m)^` + regexp.QuoteMeta(l.Kind) + ` `
		if l.Trap {
			continue
		}
		if l.Type == "" {
			row = `(?m)^` + regexp.QuoteMeta(l.Kind) + ` \(tolerated\) `
		} else {
			targets++
		}
		if !regexp.MustCompile(row).MatchString(r.stdout) {
			t.Errorf("no table row for kind %s:\n%s", l.Kind, r.stdout)
		}
	}
	if !regexp.MustCompile(`(?m)^total +` + strconv.Itoa(targets) + ` `).MatchString(r.stdout) {
		t.Errorf("no total row with %d labels:\n%s", targets, r.stdout)
	}
	if !strings.Contains(r.stdout, "Report written to "+jsonOut) {
		t.Errorf("stdout does not name the report file:\n%s", r.stdout)
	}

	raw, err := os.ReadFile(jsonOut)
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		t.Fatalf("--json is not a JSON object: %v", err)
	}
	for _, f := range []string{"labels", "detected", "recall", "precision", "kinds", "delay", "traps", "false_starts_per_1000_series_days"} {
		if _, ok := fields[f]; !ok {
			t.Errorf("report JSON has no %q field", f)
		}
	}
	var rep eval.Report
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Labels != targets || rep.Recall < 0 || rep.Recall > 1 {
		t.Errorf("report: %d labels, recall %v; want %d labels, recall in [0,1]", rep.Labels, rep.Recall, targets)
	}
	// eval scores with the dataset's warm-up (two days for tiny), so the
	// planted anomalies on day 3 can be found.
	if rep.Insights == 0 || rep.Detected == 0 {
		t.Errorf("eval found %d Insights and detected %d of %d labels on the tiny dataset", rep.Insights, rep.Detected, rep.Labels)
	}
	if want := float64(s.callSeries+s.errorSeries) * m.End.Sub(m.WarmupEnd).Hours() / 24; rep.SeriesDays != want {
		t.Errorf("series-days %v, want %v", rep.SeriesDays, want)
	}

	// The dataset is there now: eval reuses it and scores the same.
	jsonOut2 := filepath.Join(tmp, "report2.json")
	r = mustRun(t, "eval", "--data", data, "--preset", "tiny", "--seed", "3", "--json", jsonOut2)
	if strings.Contains(r.stdout, "Generating") {
		t.Errorf("eval generated over an existing dataset:\n%s", r.stdout)
	}
	raw2, err := os.ReadFile(jsonOut2)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(raw), string(raw2)); diff != "" {
		t.Errorf("two evals of the same dataset differ (-first +second):\n%s", diff)
	}

	// An explicit warm-up longer than the dataset leaves nothing to find.
	r = mustRun(t, "eval", "--data", data, "--detector.warm-up", "168h")
	if s := parseSummary(t, r.stdout); s.callStarted+s.errorStarted != 0 {
		t.Errorf("--detector.warm-up 168h on a 3-day dataset started %d Insights", s.callStarted+s.errorStarted)
	}
}

func TestEvalNAB(t *testing.T) {
	tmp := t.TempDir()
	corpus, out := filepath.Join(tmp, "corpus"), filepath.Join(tmp, "results")
	r := mustRun(t, "eval", "nab", "--generate", "--corpus", corpus, "--out", out)

	for _, p := range eval.NABProfiles() {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(p.Name) + ` +-?[0-9.]+ `).MatchString(r.stdout) {
			t.Errorf("no row for profile %s:\n%s", p.Name, r.stdout)
		}
	}
	if !regexp.MustCompile(`(?m)^profile +score +raw +threshold +TP +FP +FN$`).MatchString(r.stdout) {
		t.Errorf("no profile table header:\n%s", r.stdout)
	}
	if !strings.Contains(r.stdout, "Results under "+out) {
		t.Errorf("stdout does not name %s:\n%s", out, r.stdout)
	}

	// One results file per data file: <out>/<detector>/<category>/<detector>_<name>.csv.
	inputs := readTree(t, filepath.Join(corpus, "data"))
	if len(inputs) == 0 {
		t.Fatal("--generate wrote no data files")
	}
	results := readTree(t, out)
	if len(results) != len(inputs) {
		t.Errorf("%d results files for %d data files: %v", len(results), len(inputs), keysOf(results))
	}
	for rel, in := range inputs {
		dir, base := filepath.Split(filepath.FromSlash(rel))
		want := filepath.ToSlash(filepath.Join("trailsight", dir, "trailsight_"+base))
		res, ok := results[want]
		if !ok {
			t.Errorf("no results file %s for %s", want, rel)
			continue
		}
		rows, err := csv.NewReader(bytes.NewReader(res)).ReadAll()
		if err != nil {
			t.Errorf("%s: %v", want, err)
			continue
		}
		inRows, err := csv.NewReader(bytes.NewReader(in)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) == 0 || !slices.Equal(rows[0], []string{"timestamp", "value", "anomaly_score", "label"}) {
			t.Errorf("%s: header %v", want, rows[:min(1, len(rows))])
			continue
		}
		if len(rows) != len(inRows) {
			t.Errorf("%s: %d rows, the data file has %d", want, len(rows), len(inRows))
		}
		for i, row := range rows[1:] {
			score, err := strconv.ParseFloat(row[2], 64)
			if err != nil || score < 0 || score > 1 || (row[3] != "0" && row[3] != "1") {
				t.Errorf("%s row %d: %v: anomaly_score not in [0,1] or label not 0/1", want, i+1, row)
				break
			}
		}
	}
}

func TestDemo(t *testing.T) {
	if testing.Short() || raceEnabled {
		// About 9 s, and 80 s under the race detector, which the replay
		// tests already run the same code under.
		t.Skip("the demo generates and replays an 8-day trail")
	}
	dir := t.TempDir()
	r := mustRun(t, "demo", "--dir", dir)
	for _, s := range []string{"1. Generated a labelled trail", "2. Replayed it", "Planted (labels.json)", "Found (Insights)", "Recall "} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("stdout lacks %q:\n%s", s, r.stdout)
		}
	}
	mm := regexp.MustCompile(`(?m)^3\. Insights files \((\d+), [^)]*\): (.+)\n +Input trail: (.+)$`).FindStringSubmatch(r.stdout)
	if mm == nil {
		t.Fatalf("stdout does not show where the Insights are:\n%s", r.stdout)
	}
	if want := filepath.Join(dir, "insights"); mm[2] != want {
		t.Errorf("Insights directory %s, want %s", mm[2], want)
	}
	if want := filepath.Join(dir, "trail"); mm[3] != want {
		t.Errorf("input trail %s, want %s", mm[3], want)
	}
	files := readTree(t, mm[2])
	if n, _ := strconv.Atoi(mm[1]); n == 0 || n != len(files) {
		t.Errorf("demo reports %s Insights files, %s holds %d", mm[1], mm[2], len(files))
	}
	for rel := range files {
		if k, ok := cloudtrail.ParseKey(rel); !ok || k.Kind != cloudtrail.KeyKindInsight {
			t.Errorf("%s is not an Insights file key", rel)
		}
	}
	m, err := datasets.LoadManifest(mm[3])
	if err != nil {
		t.Fatal(err)
	}
	// Every label has its row in the table.
	for _, l := range m.Labels {
		if !strings.Contains(r.stdout, "  "+l.Kind+" ") {
			t.Errorf("no row for planted %s", l.Kind)
		}
	}

	// The working directory holds a dataset now; a second demo refuses it.
	cliCase{args: []string{"demo", "--dir", dir}, wantErr: "already holds a dataset", quiet: true}.run(t)
}

// TestPlot draws the series of an Insight the tiny dataset's replay found:
// the SVG shades the Insight's window and states its statistics.
func TestPlot(t *testing.T) {
	data, _ := tinyDataset(t)
	out := t.TempDir()
	mustRun(t, "replay", "--quiet", "--detector.warm-up", "48h", "--time-zones", tinyZones, "--out", out, data)
	recs := insightstest.FileRecords(t, out)
	var start *cloudtrail.InsightRecord
	for _, r := range recs {
		rec, err := cloudtrail.DecodeInsightRecord([]byte(r))
		if err != nil {
			t.Fatal(err)
		}
		if rec.State == "Start" && rec.InsightType == "ApiCallRateInsight" {
			start = &rec
			break
		}
	}
	if start == nil {
		t.Fatal("the tiny replay found no call-rate Insight to plot")
	}
	at := start.EventTime
	svgPath := filepath.Join(t.TempDir(), "insight.svg")
	r := mustRun(t, "plot", "-account", start.RecipientAccountID, "-region", start.AWSRegion,
		"-source", start.EventSource, "-name", start.EventName,
		"-from", at.Add(-3*time.Hour).Format(time.RFC3339), "-to", at.Add(3*time.Hour).Format(time.RFC3339),
		"--detector.warm-up", "48h", "-out", svgPath, data) // time zones from the dataset's manifest
	if !strings.Contains(r.stdout, "1 Insights") {
		t.Errorf("plot says %q, want one Insight", r.stdout)
	}
	svg, err := os.ReadFile(svgPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<rect class="insight"`, `class="count"`, `class="band"`, "Start spike at " + at.UTC().Format("2006-01-02 15:04Z")} {
		if !strings.Contains(string(svg), want) {
			t.Errorf("the SVG lacks %q", want)
		}
	}
}

// TestExplain explains an Insight of the tiny replay: the rule it passed,
// one INSIGHT row per minute of it, its top contributors.
func TestExplain(t *testing.T) {
	data, _ := tinyDataset(t)
	out := t.TempDir()
	mustRun(t, "replay", "--quiet", "--detector.warm-up", "48h", "--time-zones", tinyZones, "--out", out, data)
	var end *cloudtrail.InsightRecord
	for _, r := range insightstest.FileRecords(t, out) {
		rec, err := cloudtrail.DecodeInsightRecord([]byte(r))
		if err != nil {
			t.Fatal(err)
		}
		if rec.State == "End" {
			end = &rec
			break
		}
	}
	if end == nil {
		t.Fatal("the tiny replay ended no Insight to explain")
	}
	r := mustRun(t, "explain", "-data", data, "-insights", out, "--detector.warm-up", "48h", end.SharedEventID)
	for _, want := range []string{"Why it started:", "-detector.start-p", "Top userIdentityArn", end.EventName} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("explain output lacks %q:\n%s", want, r.stdout)
		}
	}
	if n := strings.Count(r.stdout, "INSIGHT"); n != end.InsightDuration {
		t.Errorf("%d INSIGHT rows, want one per minute of the Insight (%d):\n%s", n, end.InsightDuration, r.stdout)
	}
	cliCase{args: []string{"explain", "-data", data, "-insights", out, "no-such-id"}, wantErr: "no Insight no-such-id", quiet: true}.run(t)
}

// TestReplayReport writes the HTML report of the tiny replay: a row and a
// chart for every Insight started, each chart with its window shaded.
func TestReplayReport(t *testing.T) {
	data, _ := tinyDataset(t)
	dir := t.TempDir()
	r := mustRun(t, "replay", "--quiet", "--detector.warm-up", "48h", "--time-zones", tinyZones, "--out", filepath.Join(dir, "out"),
		"--report", filepath.Join(dir, "report"), data)
	s := parseSummary(t, r.stdout)
	started := s.callStarted + s.errorStarted
	if !strings.Contains(r.stdout, "Report: "+filepath.Join(dir, "report", "index.html")) {
		t.Errorf("replay does not say where the report is:\n%s", r.stdout)
	}
	page, err := os.ReadFile(filepath.Join(dir, "report", "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	html := string(page)
	sections := strings.Split(html, "<section")[1:]
	if started == 0 || len(sections) != started {
		t.Fatalf("%d chart sections for %d Insights started", len(sections), started)
	}
	if rows := strings.Count(html, `<tr><td><a href="#i`); rows != started {
		t.Errorf("%d table rows for %d Insights", rows, started)
	}
	for i, sec := range sections {
		if !strings.Contains(sec, "<svg") || !strings.Contains(sec, `<rect class="insight"`) || !strings.Contains(sec, `class="count"`) {
			t.Errorf("section %d lacks its chart, shaded window or counts", i+1)
		}
	}
}
