package kafkatest

import (
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Fake starts an in-process kfake cluster of one broker on 127.0.0.1 with a random port, closed
// when the test ends. It behaves like the real broker's configuration: no auto-created topics,
// one partition by default, group session timeouts from 1s.
//
// Its state lives in a temporary directory (kfake.DataDir), which is what lets Restart work:
// Restart closes the cluster, which saves its state, and starts a new one on the same port
// from that directory, so topics, records and committed offsets survive and every connection
// is cut, like a clean broker restart. What it cannot do: lose unflushed writes as a killed
// broker may, keep the port if another process takes it in between (the test then fails), or
// reproduce the real broker's timings (leader elections, group coordinator loading).
func Fake(tb testing.TB) Cluster {
	tb.Helper()
	f := &fake{dir: tb.TempDir()} // registered before Close, so removed after it
	f.start(tb, 0)
	tb.Cleanup(func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.c.Close()
	})
	return f
}

type fake struct {
	dir string

	mu   sync.Mutex // guards c and addr; held through a restart
	c    *kfake.Cluster
	addr string
}

func (f *fake) start(tb testing.TB, port int) {
	tb.Helper()
	opts := []kfake.Opt{
		kfake.DataDir(f.dir),
		kfake.DefaultNumPartitions(1),
		kfake.GroupMinSessionTimeout(time.Second),
		kfake.ClusterID("trailsight-kfake"),
	}
	if port == 0 {
		opts = append(opts, kfake.NumBrokers(1))
	} else {
		opts = append(opts, kfake.Ports(port))
	}
	var (
		c   *kfake.Cluster
		err error
	)
	for range 50 { // the port may still be held for a moment after Close
		c, err = kfake.NewCluster(opts...)
		if err == nil || port == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		tb.Fatalf("kafkatest: start kfake: %v", err)
	}
	f.c, f.addr = c, c.ListenAddrs()[0]
}

func (f *fake) Name() string { return "kfake" }

func (f *fake) Brokers() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return []string{f.addr}
}

func (f *fake) CreateTopic(tb testing.TB, name string, partitions int, compacted bool) {
	tb.Helper()
	createTopic(tb, f.Brokers(), name, partitions, compacted)
}

func (f *fake) Restart(tb testing.TB) {
	tb.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	_, p, err := net.SplitHostPort(f.addr)
	if err != nil {
		tb.Fatalf("kafkatest: kfake address %q: %v", f.addr, err)
	}
	port, _ := strconv.Atoi(p)
	f.c.Close()
	f.start(tb, port)
}
