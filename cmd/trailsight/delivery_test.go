package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/trailsight/trailsight/cloudtrail"
	"github.com/trailsight/trailsight/consumers"
	"github.com/trailsight/trailsight/detector"
	"github.com/trailsight/trailsight/emitters"
	"github.com/trailsight/trailsight/internal/insightstest"
	"github.com/trailsight/trailsight/internal/kafkatest"
	"github.com/trailsight/trailsight/internal/objstore"
	"github.com/trailsight/trailsight/internal/s3test"
)

var threeAccounts = []string{"111122223333", "444455556666", "777788889999"}

// s3Env points the AWS SDK's default chain at the test server.
func s3Env(t *testing.T, srv *s3test.Server) {
	t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey())
	t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey())
	t.Setenv("AWS_REGION", srv.Region())
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
}

// delivered is the three-account trail replayed once through a validating
// trail with Insights into a MinIO bucket, shared by the tests that read it.
var delivered struct {
	once  sync.Once
	dc    *deliveryConfig
	res   *replayResult
	local string // a copy of the bucket
	err   error
}

// deliverToS3 returns the shared delivery, making it on first use.
func deliverToS3(t *testing.T, srv *s3test.Server) (*deliveryConfig, *replayResult, *objstore.S3) {
	t.Helper()
	loadServeData(t)
	s3Env(t, srv)
	d := &delivered
	d.once.Do(func() {
		bucket := srv.Bucket(t)
		dirs := make([]string, 3)
		for i := range dirs {
			if dirs[i], d.err = os.MkdirTemp(serveData.root, "delivery-"); d.err != nil {
				return
			}
		}
		d.local = dirs[2]
		d.dc = &deliveryConfig{
			S3:      s3Config{Endpoint: srv.Endpoint(), PathStyle: true, SpoolDir: dirs[0], SpoolMaxBytes: 1 << 30},
			Signing: signingConfig{KeyDir: dirs[1]},
			Trails: []emitters.TrailConfig{{
				Name: "org_audit_trail", HomeRegion: "us-east-1", MultiRegion: true, Bucket: bucket, Prefix: "ct",
				LogFileValidation: true,
				// Delivered each minute, the log files carry the input's own
				// delivery minutes, so a replay of them sees the same clock
				// (at five minutes a record reaches detection later).
				DeliveryInterval: time.Minute,
				InsightSelectors: []cloudtrail.InsightSelector{
					{InsightType: "ApiCallRateInsight"}, {InsightType: "ApiErrorRateInsight"},
				},
			}},
		}
		if d.err = d.dc.validate(); d.err != nil {
			return
		}
		t0 := time.Now()
		if d.res, d.err = replay(context.Background(), serveDetector(), []string{serveData.trail}, "", d.dc, nil); d.err != nil {
			return
		}
		st := d.res.Trails[0].Stats
		t.Logf("replay through the trail to MinIO: %d records, %d log files, %d digests in %s", st.Accepted, st.LogFiles, st.Digests, time.Since(t0).Round(time.Millisecond))
		copyTree(t, objstore.NewS3FromClient(srv.Client(t), bucket), objstore.NewDir(d.local, bucket), "")
	})
	if d.err != nil {
		t.Fatal(d.err)
	}
	return d.dc, d.res, objstore.NewS3FromClient(srv.Client(t), d.dc.Trails[0].Bucket)
}

// copyTree copies the objects under prefix, metadata included.
func copyTree(t *testing.T, from, to objstore.Store, prefix string) int {
	t.Helper()
	ctx := context.Background()
	keys, err := from.List(ctx, prefix, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		body, meta, err := from.Get(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		if err := to.Put(ctx, k, body, meta); err != nil {
			t.Fatal(err)
		}
	}
	return len(keys)
}

func wantRecords(ins []detector.Insight) []string {
	var out []string
	for i := range ins {
		r := ins[i].Record()
		out = append(out, string(r.AppendJSON(nil)))
	}
	sort.Strings(out)
	return out
}

// TestReplayTrailToS3 delivers a replayed trail to a real S3 server
// (MinIO): log files and Insights files in the layout, a digest chain that
// validates, and log files that, replayed again, give the same Insights.
func TestReplayTrailToS3(t *testing.T) {
	srv := s3test.Shared(t)
	dc, res, store := deliverToS3(t, srv)
	ctx := context.Background()
	keys, err := store.List(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[cloudtrail.KeyKind]int{}
	for _, k := range keys {
		info, ok := cloudtrail.ParseKey(k)
		if !ok || info.Prefix != "ct" || !slices.Contains(threeAccounts, info.AccountID) {
			t.Fatalf("object %s is not in the trail layout under prefix ct", k)
		}
		kinds[info.Kind]++
	}
	st := res.Trails[0].Stats
	t.Logf("delivered %d log files, %d digests, %d Insights files; %d records", kinds[cloudtrail.KeyKindLog],
		kinds[cloudtrail.KeyKindDigest], kinds[cloudtrail.KeyKindInsight], st.Accepted)
	if int64(kinds[cloudtrail.KeyKindLog]) != st.LogFiles || int64(kinds[cloudtrail.KeyKindDigest]) != st.Digests {
		t.Errorf("objects %v, want the %d log files and %d digests the trail counted", kinds, st.LogFiles, st.Digests)
	}
	if kinds[cloudtrail.KeyKindInsight] == 0 || kinds[cloudtrail.KeyKindDigest] < 3*24 {
		t.Errorf("objects %v: want Insights files and at least a day of hourly digests per account", kinds)
	}

	// The trail's Insights are the main detector's: its selectors accept
	// every management event, and both types are on.
	if diff := slices.Compare(wantRecords(res.Insights), insightstest.FileRecords(t, filepath.Join(delivered.local, "ct"))); diff != 0 {
		t.Errorf("Insights files under the trail differ from the replay's Insights")
	}

	// Every account's chain validates, as the AWS CLI would: the first
	// in the bucket itself, the others (to save time) in a copy of it.
	for i, acct := range threeAccounts {
		var stdout, stderr bytes.Buffer
		args := []string{"validate", "--trail-arn", dc.Trails[0].ARN("111122223333"), "--account-id", acct,
			"--start-time", "2020-01-01T00:00:00Z", "--end-time", "2030-01-01T00:00:00Z",
			"--s3-bucket", store.Name(), "--s3-prefix", "ct", "--public-keys", dc.Signing.KeyDir}
		if i == 0 {
			args = append(args, "--s3.endpoint", srv.Endpoint(), "--s3.path-style")
		} else {
			args = append(args, "--dir", delivered.local)
		}
		err := run(ctx, args, &stdout, &stderr)
		if err != nil || stderr.Len() > 0 || !strings.Contains(stdout.String(), "digest files valid") ||
			strings.Contains(stdout.String(), "INVALID") {
			t.Errorf("validate %s: %v\nstdout:\n%s\nstderr:\n%s", acct, err, stdout.String(), stderr.String())
		}
	}

	// The delivered log files, downloaded and replayed, give the same
	// Insights (the file names carry the same delivery times).
	again, err := replay(ctx, serveDetector(), []string{filepath.Join(delivered.local, "ct")}, "", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if again.Stats.DigestFiles == 0 || again.Stats.InsightFiles == 0 {
		t.Errorf("re-replay skipped %d digests and %d Insights files, want both recognised", again.Stats.DigestFiles, again.Stats.InsightFiles)
	}
	insightstest.CheckOnce(t, "re-replay of the delivered log files", wantRecords(res.Insights), wantRecords(again.Insights))
}

// TestValidateTamper copies a delivered trail to a local directory, changes
// it one way at a time, and runs `trailsight validate` on it: each change
// is found, with the AWS CLI's message and exit status 1.
func TestValidateTamper(t *testing.T) {
	srv := s3test.Shared(t)
	dc, _, store := deliverToS3(t, srv)
	ctx := context.Background()
	digestPrefix := "ct/AWSLogs/444455556666/CloudTrail-Digest/"
	digests, err := store.List(ctx, digestPrefix, "")
	if err != nil || len(digests) < 10 {
		t.Fatalf("digests: %d, %v", len(digests), err)
	}
	mid := digests[len(digests)/2]
	// A log file listed in a digest that is not the newest.
	var logKey string
	for i := len(digests) / 2; logKey == "" && i >= 0; i-- {
		b, _, _ := store.Get(ctx, digests[i])
		dd, _ := cloudtrail.ParseDigest(b)
		if len(dd.LogFiles) > 0 {
			logKey = dd.LogFiles[0].S3Object
		}
	}
	otherKey := filepath.Join(t.TempDir(), "other-key")
	if err := os.MkdirAll(otherKey, 0o700); err != nil {
		t.Fatal(err)
	}
	pemOther, err := os.ReadFile("../../emitters/testdata/test-signing-key.pem")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		tamper func(t *testing.T, dir *objstore.Dir)
		want   []string // lines on stderr
	}{
		{"untouched", func(*testing.T, *objstore.Dir) {}, nil},
		{"log file byte flipped", func(t *testing.T, dir *objstore.Dir) {
			b, m, _ := dir.Get(ctx, logKey)
			b = gunzipFlipGzip(t, b)
			put(t, dir, logKey, b, m)
		}, []string{"Log file\ts3://" + store.Name() + "/" + logKey + "\tINVALID: hash value doesn't match"}},
		{"log file deleted", func(t *testing.T, dir *objstore.Dir) {
			remove(t, dir, logKey)
		}, []string{"Log file\ts3://" + store.Name() + "/" + logKey + "\tINVALID: not found"}},
		{"digest deleted", func(t *testing.T, dir *objstore.Dir) {
			remove(t, dir, mid)
		}, []string{"Digest file\ts3://" + store.Name() + "/" + mid + "\tINVALID: not found"}},
		{"digest moved", func(t *testing.T, dir *objstore.Dir) {
			// Moved to where the walk starts: past the newest digest.
			b, m, _ := dir.Get(ctx, mid)
			info, _ := cloudtrail.ParseKey(digests[len(digests)-1])
			info.Time = info.Time.Add(time.Hour)
			remove(t, dir, mid)
			put(t, dir, info.Key(), b, m)
		}, []string{
			"Digest file\ts3://" + store.Name() + "/" + "%s\tINVALID: has been moved from its original location",
			"Digest file\ts3://" + store.Name() + "/" + mid + "\tINVALID: not found",
		}},
		{"digest edited", func(t *testing.T, dir *objstore.Dir) {
			b, m, _ := dir.Get(ctx, mid)
			plain := gunzip(t, b)
			plain = bytes.Replace(plain, []byte(`"SHA-256"`), []byte(`"SHA-257"`), 1)
			put(t, dir, mid, cloudtrail.Gzip(plain), m)
		}, []string{"Digest file\ts3://" + store.Name() + "/" + mid + "\tINVALID: signature verification failed"}},
		{"digest signed with another key", func(t *testing.T, dir *objstore.Dir) {
			b, m, _ := dir.Get(ctx, mid)
			key, err := emitters.ParsePrivateKey(pemOther)
			if err != nil {
				t.Fatal(err)
			}
			plain := gunzip(t, b)
			dd, _ := cloudtrail.ParseDigest(plain)
			sig, err := cloudtrail.SignDigest(key, cloudtrail.DigestSigningString(dd, plain))
			if err != nil {
				t.Fatal(err)
			}
			m2 := map[string]string{}
			for k, v := range m {
				m2[k] = v
			}
			m2[cloudtrail.MetaSignature] = sig
			put(t, dir, mid, b, m2)
		}, []string{"Digest file\ts3://" + store.Name() + "/" + mid + "\tINVALID: signature verification failed"}},
		{"signature metadata missing", func(t *testing.T, dir *objstore.Dir) {
			b, _, _ := dir.Get(ctx, mid)
			put(t, dir, mid, b, nil)
		}, []string{"Digest file\ts3://" + store.Name() + "/" + mid + "\tINVALID: signature verification failed"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			dir := objstore.NewDir(root, store.Name())
			copyTree(t, objstore.NewDir(delivered.local, store.Name()), dir, "ct/AWSLogs/444455556666/")
			tc.tamper(t, dir)
			var stdout, stderr bytes.Buffer
			err := run(ctx, []string{"validate", "--trail-arn", dc.Trails[0].ARN("111122223333"), "--account-id", "444455556666",
				"--start-time", "2020-01-01", "--end-time", "2030-01-01", "--dir", root, "--s3-bucket", store.Name(),
				"--s3-prefix", "ct", "--public-keys", dc.Signing.KeyDir}, &stdout, &stderr)
			t.Logf("stdout tail: %s", lastLines(stdout.String(), 3))
			if tc.want == nil {
				if err != nil || stderr.Len() > 0 {
					t.Errorf("clean trail: err %v, stderr:\n%s", err, stderr.String())
				}
				return
			}
			var ee *exitError
			if !errors.As(err, &ee) || ee.code != 1 {
				t.Errorf("err = %v, want exit status 1", err)
			}
			for _, w := range tc.want {
				if strings.Contains(w, "%s") { // the moved digest's new key
					info, _ := cloudtrail.ParseKey(digests[len(digests)-1])
					info.Time = info.Time.Add(time.Hour)
					w = fmt.Sprintf(w, info.Key())
				}
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr.String())
				}
			}
		})
	}
}

func put(t *testing.T, s objstore.Store, key string, body []byte, meta map[string]string) {
	t.Helper()
	if err := s.Put(context.Background(), key, body, meta); err != nil {
		t.Fatal(err)
	}
}

func remove(t *testing.T, d *objstore.Dir, key string) {
	t.Helper()
	if err := os.Remove(filepath.Join(d.Root(), filepath.FromSlash(key))); err != nil {
		t.Fatal(err)
	}
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// gunzipFlipGzip flips one byte inside the records of a gzip log file.
func gunzipFlipGzip(t *testing.T, b []byte) []byte {
	t.Helper()
	plain := gunzip(t, b)
	i := bytes.Index(plain, []byte(`"eventName":"`)) + len(`"eventName":"`)
	plain[i] ^= 0x20 // a letter changes case: still valid JSON
	return cloudtrail.Gzip(plain)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], " | ")
}

// TestServeTrailToS3 runs the Kafka service with a trail on a real S3
// server (MinIO): every record the trail accepts lands in exactly one log
// file, the digest chains validate, the trail's Insights files hold the
// replay's Insights, and a notification names every log and Insights file.
func TestServeTrailToS3(t *testing.T) {
	srv := s3test.Shared(t)
	loadServeData(t)
	s3Env(t, srv)
	bucket := srv.Bucket(t)
	keyDir := t.TempDir()
	cfgFile := filepath.Join(t.TempDir(), "serve.yaml")
	spool := t.TempDir()
	yaml := fmt.Sprintf(`s3: {endpoint: %q, path_style: true, spool_dir: %q}
signing: {key_dir: %q}
trails:
  - name: live_trail
    home_region: us-east-1
    multi_region: true
    bucket: %s
    log_file_validation: true
    notification_topic: trail-notifications
    InsightSelectors: [{InsightType: ApiCallRateInsight}, {InsightType: ApiErrorRateInsight}]
`, srv.Endpoint(), spool, keyDir, bucket)
	if err := os.WriteFile(cfgFile, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	// A broker of the test's own, so the notifications written as serve
	// stops can be read after it; serve is the binary (not built with the
	// race detector: this is the end-to-end test, not the race test).
	cluster := kafkatest.Fake(t)
	brokers := cluster.Brokers()
	p := startServe(t, []string{"-config.file", cfgFile, "-kafka.brokers=" + strings.Join(brokers, ","),
		"-output.insights-topic=", "-detector.warm-up=24h", "-kafka.idle-advance=0", "-kafka.checkpoint-interval=100ms"})
	readyz := strings.Replace(p.metrics, "/metrics", "/readyz", 1)
	get := func(url string) (int, string) {
		resp, err := http.Get(url)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	deadline := time.Now().Add(60 * time.Second)
	for code, _ := get(readyz); code != http.StatusOK; code, _ = get(readyz) {
		if time.Now().After(deadline) {
			t.Fatalf("serve not ready within 60 s:\n%s", p.log())
		}
		time.Sleep(100 * time.Millisecond)
	}
	ctx := context.Background()
	var out bytes.Buffer
	if err := run(ctx, []string{"produce", "-brokers", brokers[0], serveData.trail}, &out, &out); err != nil {
		t.Fatalf("produce: %v\n%s", err, out.String())
	}
	// A last read-only record per account, ten minutes after the trail
	// ends, moves each partition's clock past the final delivery tick
	// (not so far that the quiet looks like a drop).
	last := serveData.files[len(serveData.files)-1].Delivery.Add(10 * time.Minute)
	w := newWriter(brokers, "cloudtrail-events", &kafka.Murmur2Balancer{Consistent: true})
	for _, acct := range threeAccounts {
		rec := fmt.Sprintf(`{"eventVersion":"1.08","eventTime":%q,"eventSource":"ec2.amazonaws.com","eventName":"DescribeRegions","awsRegion":"us-east-1","readOnly":true,"eventID":"clock-%s","eventType":"AwsApiCall","managementEvent":true,"eventCategory":"Management","recipientAccountId":%q}`,
			last.Format(time.RFC3339), acct, acct)
		err := w.WriteMessages(ctx, kafka.Message{Key: []byte(acct), Value: []byte(rec),
			Headers: []kafka.Header{{Key: consumers.HeaderDeliveryTime, Value: []byte(last.Format(time.RFC3339))}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	end := endOffsets(t, brokers, "cloudtrail-events", 3)
	deadline = time.Now().Add(180 * time.Second)
	for {
		o, caughtUp := p.offsets(), true
		for part, n := range end {
			if o[part] < n {
				caughtUp = false
			}
		}
		if caughtUp {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not consumed within 180 s: %v of %v\n%s", o, end, p.log())
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Caught up: ready, and the trail's work is in the metrics.
	if code, body := get(readyz); code != http.StatusOK || strings.TrimSpace(body) != "ready" {
		t.Errorf("/readyz = %d %q, want 200 ready", code, body)
	}
	_, metrics := get(p.metrics)
	for _, want := range []string{`trailsight_trail_records_total{result="accepted",trail="live_trail"}`,
		`trailsight_trail_log_files_total{trail="live_trail"}`, `trailsight_emitter_s3_objects_sent_total{trail="live_trail"}`,
		`trailsight_detector_events_total{result="counted"}`, `trailsight_detector_active_series{type="call_rate"}`,
		`trailsight_detector_insights_total{state="Start",type="ApiCallRateInsight"}`, `trailsight_consumer_offset_lag{partition="0"`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("serve after SIGTERM: %v\n%s", err, p.log())
	}
	notes := readTopic(t, brokers, "trail-notifications")
	// A write that failed under load went to the spool; the stop drained it.
	if left, _ := filepath.Glob(filepath.Join(spool, "live_trail", "*")); len(left) != 0 {
		t.Errorf("objects left in the spool after the stop: %v\n%s", left, p.log())
	}

	store := objstore.NewS3FromClient(srv.Client(t), bucket)
	local := t.TempDir()
	copyTree(t, store, objstore.NewDir(local, bucket), "")
	// Every accepted record once: the replay of the same trail through the
	// same trail configuration says which.
	files, err := filepath.Glob(filepath.Join(local, "AWSLogs", "*", "CloudTrail", "*", "*", "*", "*", "*.json.gz"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no log files delivered (%v)", err)
	}
	seen := map[string]int{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		_, err = cloudtrail.NewDecoder().DecodeBody(b, func(ev *cloudtrail.Event) { seen[ev.EventID]++ }, nil)
		if err != nil {
			t.Fatal(err)
		}
	}
	dups := 0
	for _, n := range seen {
		if n > 1 {
			dups++
		}
	}
	_, res, _ := deliverToS3(t, srv) // the replay's count of accepted records, same selectors
	want := int(res.Trails[0].Stats.Accepted)
	t.Logf("log files %d, records %d (replay through the same trail: %d), duplicated %d", len(files), len(seen), want, dups)
	if len(seen) != want || dups != 0 {
		t.Errorf("records in log files: %d distinct, %d duplicated; want %d, none duplicated", len(seen), dups, want)
	}
	insightstest.CheckOnce(t, "trail Insights files", serveData.want, insightstest.FileRecords(t, local))

	for _, acct := range threeAccounts {
		var stdout, stderr bytes.Buffer
		err := run(ctx, []string{"validate", "--trail-arn", "arn:aws:cloudtrail:us-east-1:111122223333:trail/live_trail", "--account-id", acct,
			"--start-time", "2020-01-01", "--end-time", "2030-01-01", "--dir", local, "--s3-bucket", bucket,
			"--public-keys", keyDir}, &stdout, &stderr)
		if err != nil || stderr.Len() > 0 {
			t.Errorf("validate %s: %v\n%s\n%s", acct, err, stdout.String(), stderr.String())
		}
	}

	// One notification per log and Insights file, naming an object that
	// exists; none for digests.
	named := map[string]bool{}
	for _, n := range notes {
		var m struct {
			S3Bucket    string   `json:"s3Bucket"`
			S3ObjectKey []string `json:"s3ObjectKey"`
		}
		if err := json.Unmarshal([]byte(n), &m); err != nil || m.S3Bucket != bucket || len(m.S3ObjectKey) != 1 {
			t.Fatalf("notification %q: %v", n, err)
		}
		named[m.S3ObjectKey[0]] = true
	}
	objects, _ := store.List(context.Background(), "", "")
	wantNamed := 0
	for _, k := range objects {
		if emitters.Notifies(k) {
			wantNamed++
			if !named[k] {
				t.Errorf("no notification for %s", k)
			}
		}
	}
	t.Logf("notifications %d for %d log and Insights files", len(notes), wantNamed)
	if len(named) != wantNamed {
		t.Errorf("notifications name %d objects, want %d", len(named), wantNamed)
	}
}

// readTopic returns the values of every message in topic.
func readTopic(t *testing.T, brokers []string, topic string) []string {
	t.Helper()
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: topic, Partition: 0, MaxWait: 200 * time.Millisecond})
	defer r.Close()
	end := endOffsets(t, brokers, topic, 1)[0]
	var out []string
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for int64(len(out)) < end {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			t.Fatalf("read %s: %v (%d of %d)", topic, err, len(out), end)
		}
		out = append(out, string(m.Value))
	}
	return out
}

// TestReplayTwoTrails runs one replay through two trails with different
// selectors into local directories: each delivers what its own selectors
// accept, and only the trail with insight selectors writes Insights files.
func TestReplayTwoTrails(t *testing.T) {
	dir, _ := tinyDataset(t)
	root := t.TempDir()
	cfg := filepath.Join(root, "trails.yaml")
	yaml := fmt.Sprintf(`trails:
  - name: everything
    home_region: us-east-1
    multi_region: true
    bucket: all-bucket
    dir: %s/all
    InsightSelectors: [{InsightType: ApiCallRateInsight}]
  - name: writes-here
    home_region: us-east-1
    bucket: writes-bucket
    dir: %s/writes
    EventSelectors: [{ReadWriteType: WriteOnly}]
`, root, root)
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	r := mustRun(t, "replay", "-config.file", cfg, "-detector.warm-up=24h", dir)
	count := func(sub string) (records, writes, otherRegion, insightFiles int) {
		err := filepath.WalkDir(filepath.Join(root, sub), func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			switch cloudtrail.ClassifyPath(p) {
			case cloudtrail.FileInsight:
				insightFiles++
			case cloudtrail.FileLog:
				b, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				_, err = cloudtrail.NewDecoder().DecodeBody(b, func(ev *cloudtrail.Event) {
					records++
					if ev.IsWrite() {
						writes++
					}
					if ev.AWSRegion != "us-east-1" {
						otherRegion++
					}
				}, nil)
				return err
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	all, allWrites, _, allInsights := count("all")
	w, wWrites, wOther, wInsights := count("writes")
	t.Logf("everything: %d records (%d writes), %d Insights files; writes-here: %d records", all, allWrites, allInsights, w)
	if all == 0 || w == 0 || w != wWrites || wOther != 0 || w >= all {
		t.Errorf("writes-here holds %d records (%d writes, %d outside us-east-1) of everything's %d: want only its Region's writes", w, wWrites, wOther, all)
	}
	if allInsights == 0 || wInsights != 0 {
		t.Errorf("Insights files: everything %d, writes-here %d; want some, none", allInsights, wInsights)
	}
	for _, want := range []string{"Trail everything:", "Trail writes-here:"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, r.stdout)
		}
	}
}

// When serve stops, what a trail's spool holds (objects whose write failed
// once) gets a last, bounded chance: with S3 still down, drain gives up
// after its timeout, says so, and leaves the object on disk for the next
// start; with S3 back, the object is in the bucket and the spool empty.
// (Without it, a write that timed out under load near the end of a run
// stayed in the spool after a graceful stop, as TestServeTrailToS3 once
// saw in CI: 2,582 of 2,583 log files in the bucket.)
func TestServeDrainsTheSpoolOnStop(t *testing.T) {
	srv := s3test.New(t)
	s3Env(t, srv)
	bucket := srv.Bucket(t)
	spool := t.TempDir()
	cfg := deliveryConfig{
		S3:     s3Config{Endpoint: srv.Endpoint(), PathStyle: true, SpoolDir: spool},
		Trails: []emitters.TrailConfig{{Name: "drained", HomeRegion: "us-east-1", Bucket: bucket}},
	}
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	ctx := context.Background()
	dl, err := openDelivery(ctx, &cfg, time.Now(), nil, nil, logger)
	if err != nil {
		t.Fatal(err)
	}
	w := dl.trails[0].w
	srv.Stop(t)
	const key = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/05/spooled.json.gz"
	if err := w.Put(ctx, key, []byte("body"), nil); err != nil {
		t.Fatalf("Put with S3 down: %v, want the object spooled", err)
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := w.Pending(); n != 1 {
		t.Fatalf("%d objects spooled, want 1", n)
	}

	t0 := time.Now()
	dl.drain(ctx, 500*time.Millisecond, logger)
	if d := time.Since(t0); d > 10*time.Second {
		t.Errorf("drain with S3 down took %s, want about its 500ms timeout", d)
	}
	if n, _ := w.Pending(); n != 1 {
		t.Errorf("after a drain with S3 down the spool holds %d objects, want the 1 kept for the next start", n)
	}
	if !strings.Contains(logs.String(), "trail spool not drained on stop") || !strings.Contains(logs.String(), "objects=1") {
		t.Errorf("drain with S3 down logged:\n%s\nwant a warning with the objects left", logs.String())
	}

	srv.Start(t)
	dl.drain(ctx, time.Minute, logger)
	if n, _ := w.Pending(); n != 0 {
		t.Errorf("after a drain with S3 back the spool holds %d objects, want 0", n)
	}
	got, _, err := objstore.NewS3FromClient(srv.Client(t), bucket).Get(ctx, key)
	if err != nil || string(got) != "body" {
		t.Errorf("the spooled object in the bucket: %q, %v; want body", got, err)
	}
	if left, _ := filepath.Glob(filepath.Join(spool, "drained", "*")); len(left) != 0 {
		t.Errorf("spool files left after the drain: %v", left)
	}
}
