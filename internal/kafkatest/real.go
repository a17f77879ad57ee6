package kafkatest

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

	"github.com/segmentio/kafka-go"

	"github.com/trailsight/trailsight/internal/testenv"
)

const (
	fetchTimeout = 10 * time.Minute // a cold fetch from Maven Central takes 10-30 s
	startTimeout = 3 * time.Minute  // kafka.sh gives the broker 60 s; formatting comes first
	stopTimeout  = time.Minute      // kafka.sh sends SIGKILL after 30 s
)

// The broker that Real shares among the tests of one binary.
var shared struct {
	mu      sync.Mutex
	broker  *realBroker
	err     string // why the broker could not be started, so later tests fail fast
	unavail string // why the broker cannot be had here, so later tests skip fast
}

var mainCalled atomic.Bool

// Main runs the tests of a package that uses [Real], then stops the shared broker and removes
// its data. Call it from TestMain:
//
//	func TestMain(m *testing.M) { kafkatest.Main(m) }
//
// The exit code is m.Run's: TestMain returns and the testing package exits with it. m may also
// be a Runner that wraps another package's Main, for a binary that uses both kafkatest and s3test.
func Main(m testenv.Runner) {
	mainCalled.Store(true)
	defer stopShared()
	m.Run()
}

// Real returns the real Apache Kafka broker (KRaft, one node, 127.0.0.1) that the tests of this
// binary share, starting it on the first call. It skips the test, loudly, when java, mvn or the
// broker's jars cannot be had (with CI=true it fails it instead), and fails it when the broker
// does not start.
func Real(tb testing.TB) Cluster {
	tb.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.broker != nil {
		return shared.broker
	}
	if shared.err != "" {
		tb.Fatalf("kafkatest: %s", shared.err)
	}
	if shared.unavail != "" {
		unavailable(tb, "%s", shared.unavail)
	}
	if !mainCalled.Load() {
		tb.Log("kafkatest: TestMain does not call kafkatest.Main: the broker's watchdog stops it after the test binary exits")
	}

	root, err := testenv.RepoRoot()
	if err != nil {
		tb.Fatalf("kafkatest: %v", err)
	}
	script := filepath.Join(root, "scripts", "kafka", "kafka.sh")
	for _, tool := range []string{"bash", "java"} {
		if _, err := exec.LookPath(tool); err != nil {
			shared.unavail = "no real Kafka broker: " + tool + " is not on PATH"
			unavailable(tb, "%s", shared.unavail)
		}
	}
	t0 := time.Now()
	if out, err := runScript(fetchTimeout, script, "fetch"); err != nil {
		hint := ""
		if _, err := exec.LookPath("mvn"); err != nil {
			hint = " (mvn is not on PATH)"
		}
		shared.unavail = fmt.Sprintf("no real Kafka broker: fetching its jars failed%s: %v\n%s", hint, err, out)
		unavailable(tb, "%s", shared.unavail)
	}
	fetched := time.Since(t0)

	b, err := startReal(script)
	if err != nil {
		shared.err = err.Error()
		tb.Fatalf("kafkatest: %v", err)
	}
	tb.Logf("kafkatest: %s on %s, shared by this test binary (jars ready in %s, broker started in %s)",
		b.Name(), b.addr, fetched.Round(time.Millisecond), b.started.Round(time.Millisecond))
	shared.broker = b
	return b
}

type realBroker struct {
	script  string
	dir     string
	addr    string // 127.0.0.1:port
	port    string
	cport   string // the KRaft controller's port
	version string
	started time.Duration // how long the first start took

	mu sync.Mutex // serialises Restart
}

func startReal(script string) (*realBroker, error) {
	ports, err := testenv.FreePorts(2)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "trailsight-kafka-")
	if err != nil {
		return nil, err
	}
	// Tells the watchdog to remove dir if this process dies before Main removes it.
	if err := os.WriteFile(filepath.Join(dir, ".remove-with-owner"), nil, 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	b := &realBroker{
		script: script,
		dir:    dir,
		port:   strconv.Itoa(ports[0]),
		cport:  strconv.Itoa(ports[1]),
	}
	b.addr = net.JoinHostPort("127.0.0.1", b.port)
	t0 := time.Now()
	if err := b.start(); err != nil {
		b.stop() // kafka.sh stops a broker that failed to start; this also ends the watchdog
		os.RemoveAll(dir)
		return nil, err
	}
	b.started = time.Since(t0)
	v, err := os.ReadFile(filepath.Join(dir, "kafka.version"))
	if err != nil {
		b.stop()
		os.RemoveAll(dir)
		return nil, err
	}
	b.version = strings.TrimSpace(string(v))
	return b, nil
}

func (b *realBroker) start() error {
	out, err := runScript(startTimeout, b.script, "start", b.dir, b.port, b.cport)
	if err != nil {
		return fmt.Errorf("start Apache Kafka on %s: %v\n%s", b.addr, err, out)
	}
	return waitGroupCoordinator(b.addr)
}

// waitGroupCoordinator asks for a group coordinator until the broker has one. The first ask
// creates __consumer_offsets, and after a restart the coordinator reloads it; until then a
// kafka-go consumer group backs off for JoinGroupBackoff (5 s by default) per failed join.
func waitGroupCoordinator(addr string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	transport := &kafka.Transport{}
	defer transport.CloseIdleConnections()
	client := &kafka.Client{Addr: kafka.TCP(addr), Timeout: 5 * time.Second, Transport: transport}
	for {
		resp, err := client.FindCoordinator(ctx, &kafka.FindCoordinatorRequest{
			Key: "kafkatest-warm-up", KeyType: kafka.CoordinatorKeyTypeConsumer,
		})
		if err == nil {
			err = resp.Error
		}
		if err == nil {
			return nil
		}
		if !sleep(ctx, 50*time.Millisecond) {
			return fmt.Errorf("group coordinator of Apache Kafka on %s: %w", addr, err)
		}
	}
}

func (b *realBroker) stop() error {
	out, err := runScript(stopTimeout, b.script, "stop", b.dir)
	if err != nil {
		return fmt.Errorf("stop Apache Kafka on %s: %v\n%s", b.addr, err, out)
	}
	return nil
}

func (b *realBroker) Name() string      { return "kafka-" + b.version }
func (b *realBroker) Brokers() []string { return []string{b.addr} }

func (b *realBroker) CreateTopic(tb testing.TB, name string, partitions int, compacted bool) {
	tb.Helper()
	createTopic(tb, b.Brokers(), name, partitions, compacted)
}

func (b *realBroker) Restart(tb testing.TB) {
	tb.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	t0 := time.Now()
	if err := b.stop(); err != nil {
		tb.Fatalf("kafkatest: restart: %v", err)
	}
	stopped := time.Since(t0)
	if err := b.start(); err != nil {
		tb.Fatalf("kafkatest: restart: %v", err)
	}
	tb.Logf("kafkatest: restarted %s on %s (stop %s, start %s)", b.Name(), b.addr,
		stopped.Round(time.Millisecond), (time.Since(t0) - stopped).Round(time.Millisecond))
}

// stopShared stops the shared broker, if one was started, and removes its data.
func stopShared() {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	b := shared.broker
	if b == nil {
		return
	}
	shared.broker = nil
	shared.err = "the shared broker has been stopped (Real called after the tests of Main)"
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.stop(); err != nil {
		fmt.Fprintf(os.Stderr, "kafkatest: %v\n", err)
		return // keep the data dir: the watchdog stops the broker and removes it
	}
	if err := os.RemoveAll(b.dir); err != nil {
		fmt.Fprintf(os.Stderr, "kafkatest: remove the broker's data: %v\n", err)
	}
}

// runScript runs kafka.sh as the owner of the brokers it starts.
func runScript(timeout time.Duration, script string, args ...string) ([]byte, error) {
	return testenv.RunScript(timeout, script, []string{"TRAILSIGHT_KAFKA_OWNER_PID=" + strconv.Itoa(os.Getpid())}, args...)
}
