package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/trailsight/trailsight/cloudtrail"
	"github.com/trailsight/trailsight/consumers"
	"github.com/trailsight/trailsight/datasets"
	"github.com/trailsight/trailsight/detector"
	"github.com/trailsight/trailsight/internal/insightstest"
	"github.com/trailsight/trailsight/internal/kafkatest"
)

// serveData is a three-account trail, the Insights records a replay of it
// produces, and a trailsight binary built for the process tests.
var serveData struct {
	once  sync.Once
	root  string
	trail string
	bin   string
	files []consumers.File
	want  []string
	err   error
}

func serveDetector() detector.Config {
	cfg := detector.DefaultConfig()
	cfg.WarmUp = 24 * time.Hour
	return cfg
}

func loadServeData(t *testing.T) {
	t.Helper()
	d := &serveData
	d.once.Do(func() {
		if d.root, d.err = os.MkdirTemp("", "trailsight-serve-test-"); d.err != nil {
			return
		}
		d.bin = filepath.Join(d.root, "trailsight")
		if out, err := exec.Command("go", "build", "-o", d.bin, ".").CombinedOutput(); err != nil {
			d.err = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		cfg, err := insightstest.ThreeAccounts()
		if err != nil {
			d.err = err
			return
		}
		d.trail = filepath.Join(d.root, "trail")
		if _, d.err = datasets.Generate(cfg, d.trail); d.err != nil {
			return
		}
		if d.files, d.err = consumers.ListFiles([]string{d.trail}); d.err != nil {
			return
		}
		var res *replayResult
		if res, d.err = replay(context.Background(), serveDetector(), []string{d.trail}, "", nil, nil); d.err != nil {
			return
		}
		for i := range res.Insights {
			r := res.Insights[i].Record()
			d.want = append(d.want, string(r.AppendJSON(nil)))
		}
		sort.Strings(d.want)
	})
	if d.err != nil {
		t.Fatal(d.err)
	}
	if len(d.want) < 6 {
		t.Fatalf("replay produced %d Insights records; the test needs several", len(d.want))
	}
}

// serveProc is one trailsight serve process.
type serveProc struct {
	cmd     *exec.Cmd
	metrics string
	logs    *strings.Builder
	mu      *sync.Mutex
}

func startServe(t *testing.T, args []string) *serveProc {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(serveData.bin, append([]string{"serve", "-http.listen=" + addr}, args...)...)
	p := &serveProc{cmd: cmd, metrics: "http://" + addr + "/metrics", logs: &strings.Builder{}, mu: &sync.Mutex{}}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = nil
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.logs.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			_ = p.cmd.Wait()
		}
	})
	return p
}

// offsets scrapes the next offset of each partition; nil while the
// process is not serving metrics yet.
func (p *serveProc) offsets() map[int]int64 { return scrapeOffsets(p.metrics) }

func scrapeOffsets(url string) map[int]int64 {
	resp, err := http.Get(url)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	out := map[int]int64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "trailsight_consumer_next_offset{") {
			continue
		}
		i := strings.Index(line, `partition="`)
		j := strings.LastIndexByte(line, ' ')
		if i < 0 || j < 0 {
			continue
		}
		rest := line[i+len(`partition="`):]
		part, _ := strconv.Atoi(rest[:strings.IndexByte(rest, '"')])
		v, _ := strconv.ParseFloat(line[j+1:], 64)
		out[part] = int64(v)
	}
	return out
}

func (p *serveProc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

// endOffsets returns the end offset of every partition of topic.
func endOffsets(t *testing.T, brokers []string, topic string, parts int) map[int]int64 {
	t.Helper()
	out := map[int]int64{}
	for p := range parts {
		conn, err := kafka.DialLeader(context.Background(), "tcp", brokers[0], topic, p)
		if err != nil {
			t.Fatal(err)
		}
		out[p], err = conn.ReadLastOffset()
		conn.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestServeKill9 kills trailsight serve with SIGKILL at several points of
// a stream and restarts it each time; after a final graceful stop the
// Insights files must hold exactly the records a replay of the same trail
// produces, each once, and the Insights topic every one of them.
func TestServeKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs a broker")
	}
	loadServeData(t)
	kafkatest.Each(t, func(t *testing.T, c kafkatest.Cluster) {
		const parts = 4
		base := kafkatest.Topic(t)
		src, state, dlq, insights := base+"-src", base+"-state", base+"-dlq", base+"-insights"
		c.CreateTopic(t, src, parts, false)
		c.CreateTopic(t, state, parts, true)
		c.CreateTopic(t, dlq, 1, false)
		c.CreateTopic(t, insights, parts, false)
		w := &kafka.Writer{Transport: &kafka.Transport{}, Addr: kafka.TCP(c.Brokers()...), Topic: src, Balancer: &kafka.Murmur2Balancer{Consistent: true},
			RequiredAcks: kafka.RequireAll, BatchTimeout: 2 * time.Millisecond, BatchBytes: 1 << 20}
		defer w.Close()
		if _, err := consumers.Publish(context.Background(), w, serveData.files, consumers.PublishOptions{}); err != nil {
			t.Fatal(err)
		}
		end := endOffsets(t, c.Brokers(), src, parts)
		total := int64(0)
		for _, n := range end {
			total += n
		}
		out := t.TempDir()
		// A trail with digests rides along: its log files and chains must
		// come through the kills as whole as the Insights.
		trailDir, keyDir := t.TempDir(), t.TempDir()
		cfgFile := filepath.Join(t.TempDir(), "trail.yaml")
		trailYAML := fmt.Sprintf("signing: {key_dir: %q}\ntrails:\n  - {name: kill_trail, home_region: us-east-1, multi_region: true, bucket: kill-bucket, dir: %q, log_file_validation: true, InsightSelectors: [{InsightType: ApiCallRateInsight}, {InsightType: ApiErrorRateInsight}]}\n", keyDir, trailDir)
		if err := os.WriteFile(cfgFile, []byte(trailYAML), 0o644); err != nil {
			t.Fatal(err)
		}
		args := []string{"-config.file=" + cfgFile,
			"-kafka.brokers=" + strings.Join(c.Brokers(), ","), "-kafka.topics=" + src, "-kafka.group-id=" + base,
			"-kafka.state-topic=" + state, "-kafka.dead-letter-topic=" + dlq, "-output.insights-topic=" + insights,
			"-output.dir=" + out, "-output.create-topics=false", "-kafka.checkpoint-interval=150ms", "-kafka.idle-advance=0",
			"-kafka.session-timeout=6s", "-kafka.heartbeat-interval=1s", "-detector.warm-up=24h",
		}
		progress := func(p *serveProc) int64 {
			n := int64(0)
			for _, v := range p.offsets() {
				n += v
			}
			return n
		}
		waitFor := func(p *serveProc, what string, cond func() bool) {
			t.Helper()
			deadline := time.Now().Add(120 * time.Second)
			for !cond() {
				if time.Now().After(deadline) {
					// A goroutine dump says where it stuck.
					_ = p.cmd.Process.Signal(syscall.SIGQUIT)
					time.Sleep(2 * time.Second)
					t.Fatalf("%s: not within 120 s; offsets %v of %v\nlog:\n%s", what, p.offsets(), end, p.log())
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		// Stop at a quarter, half and three quarters of the stream (as
		// far as the last run got), restarting each time: kill -9, a
		// graceful SIGTERM mid-stream, kill -9.
		kills := 0
		for i, frac := range []float64{0.25, 0.5, 0.75} {
			p := startServe(t, args)
			at := int64(frac * float64(total))
			waitFor(p, "progress", func() bool { return progress(p) >= at })
			if i == 1 {
				if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
					t.Fatal(err)
				}
				if err := p.cmd.Wait(); err != nil {
					t.Fatalf("serve after SIGTERM mid-stream: %v\nlog:\n%s", err, p.log())
				}
				continue
			}
			if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			_ = p.cmd.Wait()
			kills++
		}
		p := startServe(t, args)
		waitFor(p, "all consumed", func() bool {
			o := p.offsets()
			for part, n := range end {
				if o[part] < n {
					return false
				}
			}
			return true
		})
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if err := p.cmd.Wait(); err != nil {
			t.Fatalf("serve after SIGTERM: %v\nlog:\n%s", err, p.log())
		}
		t.Logf("%d kill -9s and a SIGTERM, mid-stream", kills)
		insightstest.CheckOnce(t, c.Name(), serveData.want, insightstest.FileRecords(t, out))
		insightstest.CheckOnce(t, c.Name()+", the trail's Insights files", serveData.want, insightstest.FileRecords(t, trailDir))
		checkTrailOnce(t, trailDir, keyDir)
	})
}

// checkTrailOnce checks a trail delivered under kills: no record is in two
// log files, every record delivered is a management record of the input
// (the default selectors), those not delivered are few (the last delivery
// tick of each partition had not come), and every account's digest chain
// validates.
func checkTrailOnce(t *testing.T, trailDir, keyDir string) {
	t.Helper()
	universe := map[string]bool{}
	dec := cloudtrail.NewDecoder()
	for _, f := range serveData.files {
		b, err := os.ReadFile(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = dec.DecodeBody(b, func(ev *cloudtrail.Event) {
			if ev.IsManagement() && ev.EventID != "" {
				universe[ev.EventID] = true
			}
		}, nil)
	}
	count := map[string]int{}
	err := filepath.WalkDir(trailDir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || cloudtrail.ClassifyPath(p) != cloudtrail.FileLog || strings.Contains(p, "/.") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		_, err = dec.DecodeBody(b, func(ev *cloudtrail.Event) { count[ev.EventID]++ }, nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	dup, foreign := 0, 0
	for id, n := range count {
		if n > 1 {
			dup++
		}
		if !universe[id] {
			foreign++
		}
	}
	missing := len(universe) - (len(count) - foreign)
	t.Logf("trail: %d records in log files of %d management records; %d in two files, %d not in the input, %d not delivered yet",
		len(count), len(universe), dup, foreign, missing)
	if dup != 0 || foreign != 0 || missing > len(universe)/100 {
		t.Errorf("trail log files: %d records twice, %d unknown, %d missing (at most 1%% may wait for a delivery tick)", dup, foreign, missing)
	}
	for _, acct := range []string{"111122223333", "444455556666", "777788889999"} {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), []string{"validate", "--trail-arn", "arn:aws:cloudtrail:us-east-1:111122223333:trail/kill_trail",
			"--account-id", acct, "--start-time", "2020-01-01", "--end-time", "2030-01-01", "--dir", trailDir, "--s3-bucket", "kill-bucket",
			"--public-keys", keyDir}, &stdout, &stderr)
		if err != nil || stderr.Len() > 0 {
			t.Errorf("validate %s after the kills: %v\n%s\n%s", acct, err, stdout.String(), stderr.String())
		}
	}
}

// TestServeEmbeddedWithKcat runs serve as a newcomer does, with no brokers:
// it starts the embedded broker and says how to feed it. kcat, an
// independent client (librdkafka), publishes a trail, one log file per
// line, and a line that is not JSON; kcat reads the Insights topic back:
// the same records as the Insights files, and the bad line is a dead
// letter.
func TestServeEmbeddedWithKcat(t *testing.T) {
	kcat := kafkatest.KCat(t)
	dir, _ := tinyDataset(t)
	files, err := consumers.ListFiles([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	httpAddr := ln.Addr().String()
	ln.Close()
	// EventBridge: a local server takes PutEvents as the service would,
	// through the SDK's default credential chain.
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	var ebMu sync.Mutex
	ebIDs := map[string]bool{}
	eb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Entries []struct{ Source, DetailType, Detail, EventBusName string }
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || r.Header.Get("X-Amz-Target") != "AWSEvents.PutEvents" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		ebMu.Lock()
		defer ebMu.Unlock()
		var res []map[string]string
		for _, e := range req.Entries {
			rec, err := cloudtrail.DecodeInsightRecord([]byte(e.Detail))
			if err != nil || e.Source != "trailsight" || e.DetailType != "AWS Insight via CloudTrail" || e.EventBusName != "insights" {
				t.Errorf("PutEvents entry: source %q, detail-type %q, bus %q: %v", e.Source, e.DetailType, e.EventBusName, err)
			}
			ebIDs[rec.EventID] = true
			res = append(res, map[string]string{"EventId": rec.EventID})
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_ = json.NewEncoder(w).Encode(map[string]any{"Entries": res, "FailedEntryCount": 0})
	}))
	defer eb.Close()
	cfg, _, err := loadServeConfig([]string{"-embedded.addr=127.0.0.1:0", "-http.listen=" + httpAddr, "-http.pprof", "-output.dir=" + out,
		"-output.eventbridge.bus=insights", "-output.eventbridge.endpoint=" + eb.URL, "-output.eventbridge.region=eu-west-1",
		"-detector.warm-up=24h", "-kafka.idle-advance=0", "-kafka.checkpoint-interval=100ms"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	brokersCh := make(chan []string, 1)
	var stdout strings.Builder
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, cfg, &stdout, slog.New(slog.DiscardHandler), func(b []string) { brokersCh <- b })
	}()
	var brokers []string
	select {
	case brokers = <-brokersCh:
	case err := <-done:
		t.Fatalf("serve: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve not ready within 30 s")
	}
	if want := "kcat -b " + brokers[0]; !strings.Contains(stdout.String(), want) {
		t.Errorf("serve's greeting lacks %q:\n%s", want, stdout.String())
	}
	// One line per log file: account, a tab, the file's JSON on one line.
	var in bytes.Buffer
	lines := 0
	for _, f := range files {
		if f.Kind != cloudtrail.FileLog {
			continue
		}
		body, err := os.ReadFile(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		if zr, err := gzip.NewReader(bytes.NewReader(body)); err == nil {
			if body, err = io.ReadAll(zr); err != nil {
				t.Fatal(err)
			}
		}
		k, _ := cloudtrail.ParseKey(filepath.ToSlash(f.Path))
		in.WriteString(k.AccountID + "\t")
		if err := json.Compact(&in, body); err != nil {
			t.Fatal(err)
		}
		in.WriteByte('\n')
		lines++
	}
	in.WriteString("111122223333\tthis is not a CloudTrail record\n")
	lines++
	// While the partitions consume, the live view asks them for their
	// series and Insights again and again: under -race, any state the
	// worker and a query share without the partition's lock is a failure.
	stopLive := make(chan struct{})
	liveDone := make(chan int)
	go func() {
		n := 0
		defer func() { liveDone <- n }()
		for {
			select {
			case <-stopLive:
				return
			default:
			}
			for _, path := range []string{"/api/v1/insights", "/", "/api/v1/series?account=111122223333&region=us-east-1&source=ec2.amazonaws.com&name=RunInstances"} {
				if resp, err := http.Get("http://" + httpAddr + path); err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					n++
				}
			}
		}
	}()
	cmd := exec.Command(kcat, "-b", brokers[0], "-P", "-t", "cloudtrail-events", "-K", "\t", "-z", "gzip", "-X", "message.max.bytes=10000000")
	cmd.Stdin = &in
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kcat -P: %v\n%s", err, b)
	}
	end := endOffsets(t, brokers, "cloudtrail-events", cfg.Output.Partitions)
	total := int64(0)
	for _, n := range end {
		total += n
	}
	if total != int64(lines) {
		t.Fatalf("the topic holds %d messages, kcat was given %d lines", total, lines)
	}
	deadline := time.Now().Add(120 * time.Second)
	for {
		o, done := scrapeOffsets("http://"+httpAddr+"/metrics"), true
		for p, n := range end {
			if o[p] < n {
				done = false
			}
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not consumed within 120 s: %v of %v", o, end)
		}
		time.Sleep(50 * time.Millisecond)
	}
	close(stopLive)
	t.Logf("the live view answered %d requests during consumption", <-liveDone)
	// -http.pprof serves Go's profiles beside the metrics.
	if resp, err := http.Get("http://" + httpAddr + "/debug/pprof/goroutine?debug=1"); err != nil {
		t.Error(err)
	} else {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "goroutine profile") {
			t.Errorf("/debug/pprof/goroutine: %d %.100q", resp.StatusCode, b)
		}
	}
	// kcat reads the Insights topic and the dead letters while the
	// embedded broker still runs.
	kcatRead := func(topic string) []string {
		b, err := exec.Command(kcat, "-b", brokers[0], "-C", "-t", topic, "-e", "-o", "beginning", "-q", "-f", "%s\n").Output()
		if err != nil {
			t.Fatalf("kcat -C -t %s: %v", topic, err)
		}
		return strings.Split(strings.TrimSpace(string(b)), "\n")
	}
	topicIDs := map[string]bool{}
	for _, line := range kcatRead("trailsight-insights") {
		var env struct {
			DetailType string `json:"detail-type"`
			Detail     struct {
				EventID   string `json:"eventID"`
				EventType string `json:"eventType"`
			} `json:"detail"`
		}
		if err := json.Unmarshal([]byte(line), &env); err != nil {
			t.Fatalf("Insights topic message %q: %v", line, err)
		}
		if env.DetailType != "AWS Insight via CloudTrail" || env.Detail.EventType != "AwsCloudTrailInsight" {
			t.Errorf("Insights topic message is not an Insight envelope: %.200s", line)
		}
		topicIDs[env.Detail.EventID] = true
	}
	if dl := kcatRead("trailsight-dead-letters"); len(dl) != 1 || dl[0] != "this is not a CloudTrail record" {
		t.Errorf("dead letters %q, want the one bad line", dl)
	}
	// The live view knows the same Insights, and serves each one's series
	// from the partition that owns it.
	resp, err := http.Get("http://" + httpAddr + "/api/v1/insights")
	if err != nil {
		t.Fatal(err)
	}
	var live struct{ Insights []liveInsight }
	err = json.NewDecoder(resp.Body).Decode(&live)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	liveIDs := map[string]bool{}
	for _, li := range live.Insights {
		rec, err := cloudtrail.DecodeInsightRecord(li.Record)
		if err != nil {
			t.Fatal(err)
		}
		liveIDs[rec.EventID] = true
		if _, err := fetchSeries(ctx, "http://"+httpAddr, url.Values{"id": {rec.EventID}}); err != nil {
			t.Errorf("the live series of %s: %v", rec.EventID, err)
		}
	}
	if !maps.Equal(liveIDs, topicIDs) {
		t.Errorf("the live view lists %d Insights records, the topic holds %d; they differ", len(liveIDs), len(topicIDs))
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	// The graceful stop flushed the files: the same records as the topic.
	fileIDs := map[string]bool{}
	for _, r := range insightstest.FileRecords(t, out) {
		rec, err := cloudtrail.DecodeInsightRecord([]byte(r))
		if err != nil {
			t.Fatal(err)
		}
		if fileIDs[rec.EventID] {
			t.Errorf("record %s twice in the files", rec.EventID)
		}
		fileIDs[rec.EventID] = true
	}
	if len(fileIDs) < 4 {
		t.Fatalf("%d Insights records from the tiny trail; want several", len(fileIDs))
	}
	if !maps.Equal(fileIDs, topicIDs) {
		t.Errorf("kcat read %d records from the Insights topic, the files hold %d; they differ", len(topicIDs), len(fileIDs))
	}
	ebMu.Lock()
	defer ebMu.Unlock()
	if !maps.Equal(ebIDs, topicIDs) {
		t.Errorf("EventBridge got %d records, the Insights topic %d; they differ", len(ebIDs), len(topicIDs))
	}
	t.Logf("kcat: %d messages in, %d Insights records out (topic and files agree), 1 dead letter", lines, len(topicIDs))
}
