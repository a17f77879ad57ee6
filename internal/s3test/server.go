package s3test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/trailsight/trailsight/internal/testenv"
)

const (
	accessKey = "trailsight"        // MinIO's root user
	secretKey = "trailsight-secret" // its password: MinIO wants at least 8 characters
	region    = "us-east-1"

	checkTimeout  = time.Minute     // minio.sh bin runs minio --version once: under a second
	startTimeout  = 2 * time.Minute // minio.sh gives the server 60 s; it takes about one
	stopTimeout   = time.Minute     // minio.sh sends SIGKILL after 30 s
	bucketTimeout = 30 * time.Second
)

// The server that Shared shares among the tests of one binary.
var shared struct {
	mu      sync.Mutex
	server  *Server
	err     string // why the server could not be started, so later tests fail fast
	unavail string // why the server cannot be had here, so later tests skip fast
}

// Whether minio.sh and the MinIO binary are there, found once per binary.
var script struct {
	mu      sync.Mutex
	path    string // scripts/minio/minio.sh, once found with a MinIO binary that runs
	err     string // cannot find the script: a failure
	unavail string // no bash or no binary: a skip, or a failure under CI=true
}

var mainCalled atomic.Bool

// Main runs the tests of a package that uses [Shared], then stops the shared server and removes
// its data. Call it from TestMain:
//
//	func TestMain(m *testing.M) { s3test.Main(m) }
//
// The exit code is m.Run's: TestMain returns and the testing package exits with it. m may also
// be a Runner that wraps another package's Main, for a binary that uses both kafkatest and s3test.
func Main(m testenv.Runner) {
	mainCalled.Store(true)
	defer stopShared()
	m.Run()
}

// Shared returns the MinIO server that the tests of this binary share, starting it on the first
// call. It skips the test, loudly, when the MinIO binary is not built (with CI=true it fails it
// instead), and fails it when the server does not start.
func Shared(tb testing.TB) *Server {
	tb.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.server != nil {
		return shared.server
	}
	if shared.err != "" {
		tb.Fatalf("s3test: %s", shared.err)
	}
	if shared.unavail != "" {
		unavailable(tb, "%s", shared.unavail)
	}
	if !mainCalled.Load() {
		tb.Log("s3test: TestMain does not call s3test.Main: the server's watchdog stops it after the test binary exits")
	}
	sh := findScript(tb)
	s, err := startServer(sh, true)
	if err != nil {
		shared.err = err.Error()
		tb.Fatalf("s3test: %v", err)
	}
	tb.Logf("s3test: MinIO on %s, shared by this test binary (started in %s)", s.endpoint, s.started.Round(time.Millisecond))
	shared.server = s
	return s
}

// New starts a MinIO server for this test alone, on a port and in a data directory of its own;
// tb.Cleanup stops it and removes its data. Use it for a test that calls [Server.Stop]. It skips
// or fails the test as [Shared] does.
func New(tb testing.TB) *Server {
	tb.Helper()
	sh := findScript(tb)
	s, err := startServer(sh, false)
	if err != nil {
		tb.Fatalf("s3test: %v", err)
	}
	tb.Cleanup(func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if err := s.stop(false); err != nil {
			tb.Errorf("s3test: %v", err)
			return // keep the data dir: the watchdog stops the server and removes it
		}
		if err := os.RemoveAll(s.dir); err != nil {
			tb.Errorf("s3test: remove the server's data: %v", err)
		}
	})
	tb.Logf("s3test: MinIO on %s for this test (started in %s)", s.endpoint, s.started.Round(time.Millisecond))
	return s
}

// Server is a MinIO server, single node and single drive, on 127.0.0.1.
type Server struct {
	script   string
	dir      string // minio.sh's DATA_DIR: the objects are in dir/data, the logs in dir/logs
	port     string
	cport    string // the console's, which is off: MinIO only needs an address for it
	endpoint string
	shared   bool
	started  time.Duration // how long the first start took

	mu      sync.Mutex // serialises Stop, Start and Restart
	running bool
}

// Endpoint returns the server's URL, http://127.0.0.1:PORT; it stays the same across Stop and
// Start.
func (s *Server) Endpoint() string { return s.endpoint }

// AccessKey returns the access key ID of the server's root user.
func (s *Server) AccessKey() string { return accessKey }

// SecretKey returns the secret access key of the server's root user.
func (s *Server) SecretKey() string { return secretKey }

// Region returns the server's region, us-east-1.
func (s *Server) Region() string { return region }

// Client returns an S3 client for the server: its endpoint, path-style addressing, the root
// user's static credentials, and otherwise the SDK's defaults (retries included). No
// environment variable or shared AWS config file plays a part.
func (s *Server) Client(tb testing.TB) *s3.Client {
	tb.Helper()
	return s3.New(s3.Options{
		Region:       region,
		BaseEndpoint: aws.String(s.endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(accessKey, secretKey, ""),
	})
}

// CreateBucket creates a bucket; it fails the test if it cannot, or if the bucket exists.
func (s *Server) CreateBucket(tb testing.TB, name string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), bucketTimeout)
	defer cancel()
	if _, err := s.Client(tb).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		tb.Fatalf("s3test: create bucket %q on %s: %v", name, s.endpoint, err)
	}
}

var bucketSeq atomic.Int64

// Bucket creates a bucket whose name is unique within the test binary and says which test made
// it, and returns the name.
func (s *Server) Bucket(tb testing.TB) string {
	tb.Helper()
	name := bucketName(tb.Name(), bucketSeq.Add(1))
	s.CreateBucket(tb, name)
	return name
}

// bucketName makes a valid S3 bucket name of a test's name and a number: lowercase letters,
// digits and single hyphens, 3 to 63 characters, starting and ending with a letter or digit.
func bucketName(test string, n int64) string {
	suffix := "-" + strconv.FormatInt(n, 10)
	var b strings.Builder
	hyphen := true // no leading hyphen, no two in a row (so no "xn--" prefix either)
	for _, r := range strings.ToLower(test) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			hyphen = false
		} else if !hyphen {
			b.WriteByte('-')
			hyphen = true
		}
	}
	name := b.String()
	if strings.HasPrefix(name, "sthree-") || strings.HasPrefix(name, "amzn-s3-demo-") { // reserved
		name = "t-" + name
	}
	if max := 63 - len(suffix); len(name) > max {
		name = name[:max]
	}
	name = strings.TrimRight(name, "-")
	if name == "" {
		name = "bucket"
	}
	return name + suffix
}

// Stop stops the server of a [New] test (SIGTERM, then SIGKILL after 30 s): requests to its
// endpoint fail until Start. It fails the test on the shared server, or if the server is stopped.
func (s *Server) Stop(tb testing.TB) {
	tb.Helper()
	if s.shared {
		tb.Fatal("s3test: Stop on the shared server would take S3 away from other tests: use s3test.New")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.running {
		tb.Fatalf("s3test: Stop: the server on %s is stopped already", s.endpoint)
	}
	t0 := time.Now()
	if err := s.stop(keepWatch); err != nil {
		tb.Fatalf("s3test: %v", err)
	}
	tb.Logf("s3test: stopped MinIO on %s (%s)", s.endpoint, time.Since(t0).Round(time.Millisecond))
}

// Start starts a server that Stop stopped, on the same port with the same data, and waits until
// it is ready. It fails the test on the shared server, or if the server is running.
func (s *Server) Start(tb testing.TB) {
	tb.Helper()
	if s.shared {
		tb.Fatal("s3test: Start on the shared server: it is never stopped; use s3test.New")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running {
		tb.Fatalf("s3test: Start: the server on %s is running already", s.endpoint)
	}
	t0 := time.Now()
	if err := s.start(); err != nil {
		tb.Fatalf("s3test: %v", err)
	}
	tb.Logf("s3test: started MinIO on %s again (%s)", s.endpoint, time.Since(t0).Round(time.Millisecond))
}

// Restart stops the server and starts it again on the same port with the same data. Connections
// are cut; objects whose PutObject succeeded survive.
func (s *Server) Restart(tb testing.TB) {
	tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	t0 := time.Now()
	if err := s.stop(keepWatch); err != nil {
		tb.Fatalf("s3test: restart: %v", err)
	}
	stopped := time.Since(t0)
	if err := s.start(); err != nil {
		tb.Fatalf("s3test: restart: %v", err)
	}
	tb.Logf("s3test: restarted MinIO on %s (stop %s, start %s)", s.endpoint,
		stopped.Round(time.Millisecond), (time.Since(t0) - stopped).Round(time.Millisecond))
}

func startServer(script string, shared bool) (*Server, error) {
	ports, err := testenv.FreePorts(2)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "trailsight-minio-")
	if err != nil {
		return nil, err
	}
	// Tells the watchdog to remove dir if this process dies before it is removed.
	if err := os.WriteFile(filepath.Join(dir, ".remove-with-owner"), nil, 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s := &Server{
		script: script,
		dir:    dir,
		port:   strconv.Itoa(ports[0]),
		cport:  strconv.Itoa(ports[1]),
		shared: shared,
	}
	s.endpoint = "http://" + net.JoinHostPort("127.0.0.1", s.port)
	t0 := time.Now()
	if err := s.start(); err != nil {
		s.stop(false) // minio.sh stops a server that failed to start; this also ends the watchdog
		os.RemoveAll(dir)
		return nil, err
	}
	s.started = time.Since(t0)
	return s, nil
}

// start and stop run minio.sh; the caller holds s.mu (or has s to itself).
func (s *Server) start() error {
	out, err := runScript(startTimeout, s.script, "start", s.dir, s.port, s.cport)
	if err != nil {
		return fmt.Errorf("start MinIO on %s: %v\n%s", s.endpoint, err, out)
	}
	s.running = true
	return nil
}

// keepWatch is stop's argument for a stop that a start follows: the watchdog stays, to stop the
// server and remove its data if this process dies before the data is removed.
const keepWatch = true

func (s *Server) stop(keep bool) error {
	args := []string{"stop", s.dir}
	if keep {
		args = append(args, "--keep-watch")
	}
	out, err := runScript(stopTimeout, s.script, args...)
	if err != nil {
		return fmt.Errorf("stop MinIO on %s: %v\n%s", s.endpoint, err, out)
	}
	s.running = false
	return nil
}

// stopShared stops the shared server, if one was started, and removes its data.
func stopShared() {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	s := shared.server
	if s == nil {
		return
	}
	shared.server = nil
	shared.err = "the shared server has been stopped (Shared called after the tests of Main)"
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.stop(false); err != nil {
		fmt.Fprintf(os.Stderr, "s3test: %v\n", err)
		return // keep the data dir: the watchdog stops the server and removes it
	}
	if err := os.RemoveAll(s.dir); err != nil {
		fmt.Fprintf(os.Stderr, "s3test: remove the server's data: %v\n", err)
	}
}

// findScript returns the path of minio.sh once it has found it and a MinIO binary that runs,
// and otherwise ends the test: a failure if there is no script, unavailable if there is no
// binary.
func findScript(tb testing.TB) string {
	tb.Helper()
	script.mu.Lock()
	defer script.mu.Unlock()
	switch {
	case script.path != "":
		return script.path
	case script.err != "":
		tb.Fatalf("s3test: %s", script.err)
	case script.unavail != "":
		unavailable(tb, "%s", script.unavail)
	}
	root, err := testenv.RepoRoot()
	if err != nil {
		script.err = err.Error()
		tb.Fatalf("s3test: %s", script.err)
	}
	path := filepath.Join(root, "scripts", "minio", "minio.sh")
	if _, err := exec.LookPath("bash"); err != nil {
		script.unavail = "no MinIO server: bash is not on PATH"
		unavailable(tb, "%s", script.unavail)
	}
	if out, err := runScript(checkTimeout, path, "bin"); err != nil {
		if len(out) == 0 {
			out = []byte(err.Error())
		}
		script.unavail = fmt.Sprintf("no MinIO server: %s", out)
		unavailable(tb, "%s", script.unavail)
	}
	script.path = path
	return path
}

func unavailable(tb testing.TB, format string, args ...any) {
	tb.Helper()
	testenv.Unavailable(tb, "s3test", format, args...)
}

// runScript runs minio.sh as the owner of the servers it starts.
func runScript(timeout time.Duration, script string, args ...string) ([]byte, error) {
	return testenv.RunScript(timeout, script, []string{
		"TRAILSIGHT_MINIO_OWNER_PID=" + strconv.Itoa(os.Getpid()),
		"TRAILSIGHT_MINIO_ROOT_USER=" + accessKey,
		"TRAILSIGHT_MINIO_ROOT_PASSWORD=" + secretKey,
	}, args...)
}
