package consumers_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/trailsight/trailsight/cloudtrail"
	"github.com/trailsight/trailsight/consumers"
	"github.com/trailsight/trailsight/detector"
)

// benchAPIs are the calls of the benchmark trail, reads first as in real
// trails.
var benchAPIs = []struct {
	source, name string
	readOnly     bool
}{
	{"ec2.amazonaws.com", "DescribeInstances", true},
	{"ec2.amazonaws.com", "DescribeVolumes", true},
	{"ec2.amazonaws.com", "DescribeSecurityGroups", true},
	{"sts.amazonaws.com", "AssumeRole", true},
	{"sts.amazonaws.com", "GetCallerIdentity", true},
	{"kms.amazonaws.com", "Decrypt", true},
	{"kms.amazonaws.com", "GenerateDataKey", true},
	{"ssm.amazonaws.com", "GetParameter", true},
	{"iam.amazonaws.com", "GetRole", true},
	{"logs.amazonaws.com", "DescribeLogGroups", true},
	{"ec2.amazonaws.com", "RunInstances", false},
	{"ec2.amazonaws.com", "CreateTags", false},
	{"ec2.amazonaws.com", "TerminateInstances", false},
	{"ssm.amazonaws.com", "PutParameter", false},
	{"logs.amazonaws.com", "CreateLogStream", false},
}

var benchUserAgents = []string{
	"aws-sdk-go-v2/1.30.3 os/linux lang/go#1.26 md/GOOS#linux md/GOARCH#amd64 api/ec2#1.173.0",
	"Boto3/1.34.100 md/Botocore#1.34.100 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.12.3",
	"aws-cli/2.15.40 md/awscrt#0.19.19 ua/2.0 os/macos#23.4.0 md/arch#arm64 lang/python#3.11.8",
	"terraform-provider-aws/5.49.0 (+https://registry.terraform.io) aws-sdk-go-v2/1.26.1",
	"AWS Internal",
}

// benchStreams are the account and Region pairs files rotate over.
var benchStreams = [][2]string{{acct, "us-east-1"}, {acct, "us-west-2"}, {acct2, "eu-west-1"}, {acct2, "us-east-1"}}

// genBenchTrail writes nFiles log files of perFile records each under root,
// rotating over benchStreams, each file covering five minutes and delivered
// three minutes after. It returns the total size of the files.
func genBenchTrail(b *testing.B, root string, nFiles, perFile int) int64 {
	b.Helper()
	sizes := make([]int64, nFiles)
	errs := make([]error, nFiles)
	next := make(chan int)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range next {
				sizes[i], errs[i] = genBenchFile(root, i, perFile)
			}
		})
	}
	for i := range nFiles {
		next <- i
	}
	close(next)
	wg.Wait()
	var total int64
	for i, err := range errs {
		if err != nil {
			b.Fatalf("file %d: %v", i, err)
		}
		total += sizes[i]
	}
	return total
}

func genBenchFile(root string, i, perFile int) (int64, error) {
	stream := benchStreams[i%len(benchStreams)]
	from := day0.Add(time.Duration(i/len(benchStreams)) * fileMinutes * time.Minute)
	recs := make([][]byte, perFile)
	for j := range perFile {
		seq := uint64(i*perFile + j)
		h := mix(seq)
		api := benchAPIs[h%uint64(len(benchAPIs))]
		c := call{
			time:      from.Add(time.Duration(j*fileMinutes*60/perFile) * time.Second),
			account:   stream[0],
			region:    stream[1],
			source:    api.source,
			name:      api.name,
			role:      "role-" + string(rune('a'+(h>>8)%26)),
			session:   "session-" + string(rune('a'+(h>>16)%26)) + string(rune('a'+(h>>24)%26)),
			userAgent: benchUserAgents[(h>>32)%uint64(len(benchUserAgents))],
			readOnly:  api.readOnly,
			seq:       seq,
		}
		if (h>>40)%50 == 0 { // 2% of calls are denied
			c.errorCode = "AccessDenied"
		}
		recs[j] = c.appendJSON(make([]byte, 0, 2048))
	}
	body := cloudtrail.EncodeRecordsFile(recs)
	delivery := from.Add(fileMinutes*time.Minute + deliveryLag)
	key := cloudtrail.LogFileKey(cloudtrail.KeyPrefix{}, stream[0], stream[1], delivery, cloudtrail.UniqueFromBody(body))
	path := filepath.Join(root, filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return 0, err
	}
	return int64(len(body)), os.WriteFile(path, body, 0o644)
}

// gunzipFiles reads and inflates files on workers goroutines, as ReadFiles
// does before decoding, and returns the inflated size.
func gunzipFiles(files []consumers.File, workers int) (int64, error) {
	next := make(chan string)
	sizes := make([]int64, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			var zr *gzip.Reader
			var buf bytes.Buffer
			for path := range next {
				if errs[w] != nil {
					continue
				}
				data, err := os.ReadFile(path)
				if err == nil {
					if zr == nil {
						zr, err = gzip.NewReader(bytes.NewReader(data))
					} else {
						err = zr.Reset(bytes.NewReader(data))
					}
				}
				if err == nil {
					buf.Reset()
					_, err = buf.ReadFrom(zr)
				}
				sizes[w] += int64(buf.Len())
				errs[w] = err
			}
		})
	}
	for _, f := range files {
		next <- f.Path
	}
	close(next)
	wg.Wait()
	var total int64
	for w := range workers {
		if errs[w] != nil {
			return 0, errs[w]
		}
		total += sizes[w]
	}
	return total, nil
}

// discard is a Sink (and a consumers.Output) that drops Insights.
type discard struct{}

func (discard) Emit(context.Context, []detector.Insight) error { return nil }
func (discard) Flush(context.Context) error                    { return nil }

// BenchmarkReplay compares, in one run, reading and inflating a trail with
// the parallelism of a replay (gunzip-*) with the full replay into an Engine
// (replay-*): throughput in MB/s of compressed input and events/s, and the
// ratio of their times (replay/gunzip-time), the cost of decoding and
// detection over the floor set by gzip. ns/op is both passes together.
func BenchmarkReplay(b *testing.B) {
	const (
		nFiles  = 200
		perFile = 500
		workers = 2
	)
	root := b.TempDir()
	compressed := genBenchTrail(b, root, nFiles, perFile)
	files, err := consumers.ListFiles([]string{root})
	if err != nil {
		b.Fatal(err)
	}
	if len(files) != nFiles {
		b.Fatalf("ListFiles found %d files, want %d", len(files), nFiles)
	}
	const events = nFiles * perFile
	ctx := context.Background()

	var gunzipTime, replayTime time.Duration
	var inflated int64
	iters := 0
	b.ReportAllocs()
	for b.Loop() {
		t0 := time.Now()
		n, err := gunzipFiles(files, workers)
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		e, err := detector.New(detector.DefaultConfig(), discard{}, nil)
		if err != nil {
			b.Fatal(err)
		}
		st, err := consumers.Replay(ctx, files, e, consumers.ReplayOptions{Workers: workers})
		if err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		if st.Records != events || st.Bytes != compressed {
			b.Fatalf("replayed %d records of %d bytes, want %d of %d", st.Records, st.Bytes, events, compressed)
		}
		gunzipTime += t1.Sub(t0)
		replayTime += t2.Sub(t1)
		inflated = n
		iters++
	}
	mb := float64(compressed) * float64(iters) / 1e6
	ev := float64(events) * float64(iters)
	b.ReportMetric(mb/gunzipTime.Seconds(), "gunzip-MB/s")
	b.ReportMetric(mb/replayTime.Seconds(), "replay-MB/s")
	b.ReportMetric(ev/gunzipTime.Seconds(), "gunzip-events/s")
	b.ReportMetric(ev/replayTime.Seconds(), "replay-events/s")
	b.ReportMetric(replayTime.Seconds()/gunzipTime.Seconds(), "replay/gunzip-time")
	b.ReportMetric(float64(inflated)/float64(compressed), "inflate-ratio")
}
