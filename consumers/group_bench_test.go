package consumers_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/trailsight/trailsight/consumers"
	"github.com/trailsight/trailsight/detector"
	"github.com/trailsight/trailsight/internal/insightstest"
	"github.com/trailsight/trailsight/internal/kafkatest"
)

// benchCluster is the real broker when it can be had (TRAILSIGHT_BENCH_KAFKA
// unset or "real"), else kfake; throughput through kfake measures kfake.
func benchCluster(b *testing.B) kafkatest.Cluster {
	if os.Getenv("TRAILSIGHT_BENCH_KAFKA") == "kfake" {
		return kafkatest.Fake(b)
	}
	return kafkatest.Real(b)
}

// benchTopic is a topic of one-record messages (~1.5 KB CloudTrail records
// from the generated trail), keyed by account.
type benchTopic struct {
	c       kafkatest.Cluster
	name    string
	parts   int
	records int
	bytes   int64
}

var (
	benchTopics sync.Map // benchKey -> *benchTopic
	benchRun    atomic.Int64
)

// The bench trail's two densities of event time. "trail" is the generated
// trail as it is: three days of three small accounts, about 17 records a
// minute, so a record closes three or four series-minutes; it is what
// producing an old trail through Kafka looks like. "live" is the same
// records with their event times squeezed 72 times (three days into one
// hour): still sparse beside a live stream of thousands of events a
// second, or the backlog a consumer catches up on after an outage, but
// closing minutes no longer dominates, as there.
const (
	densityTrail = "trail"
	densityLive  = "live"
	liveSqueeze  = 72
)

type benchKey struct {
	parts   int
	density string
}

// benchMessages returns the bench trail's one-record messages, keyed by
// account, at the given density, and the bytes of their values (the same
// at both densities: squeeze keeps every message's size).
func benchMessages(b *testing.B, density string) ([]kafka.Message, int64) {
	b.Helper()
	data := loadGroupData(b)
	var cw captureWriter
	st, err := consumers.Publish(context.Background(), &cw, data.files, consumers.PublishOptions{PerRecord: true})
	if err != nil {
		b.Fatal(err)
	}
	if density == densityLive {
		cfg, err := insightstest.ThreeAccounts()
		if err != nil {
			b.Fatal(err)
		}
		return squeeze(b, cw.msgs, cfg.Start, liveSqueeze), st.Bytes
	}
	return cw.msgs, st.Bytes
}

func loadBenchTopic(b *testing.B, parts int, density string) *benchTopic {
	b.Helper()
	// A kfake cluster lives as long as the (sub-)benchmark that made it,
	// so its topics are not kept for the next one; the real broker is
	// the process's.
	keep := os.Getenv("TRAILSIGHT_BENCH_KAFKA") != "kfake"
	key := benchKey{parts, density}
	if v, ok := benchTopics.Load(key); ok && keep {
		return v.(*benchTopic)
	}
	msgs, size := benchMessages(b, density)
	c := benchCluster(b)
	bt := &benchTopic{c: c, name: fmt.Sprintf("bench-%d-%s-%d", parts, density, time.Now().UnixNano()), parts: parts}
	c.CreateTopic(b, bt.name, parts, false)
	w := &kafka.Writer{Transport: &kafka.Transport{}, Addr: kafka.TCP(c.Brokers()...), Topic: bt.name, Balancer: &kafka.Murmur2Balancer{Consistent: true},
		RequiredAcks: kafka.RequireOne, BatchTimeout: 5 * time.Millisecond, BatchSize: 2000, BatchBytes: 1 << 20,
		Compression: kafka.Lz4}
	defer w.Close()
	if err := w.WriteMessages(context.Background(), msgs...); err != nil {
		b.Fatal(err)
	}
	bt.records, bt.bytes = len(msgs), size
	if keep {
		benchTopics.Store(key, bt)
	}
	return bt
}

// BenchmarkBareReader is the yardstick: kafka-go partition readers, one
// goroutine per partition, that fetch every message of the topic and do
// nothing with it.
func BenchmarkBareReader(b *testing.B) {
	for _, tc := range []benchKey{{1, densityTrail}, {1, densityLive}, {12, densityTrail}} {
		parts := tc.parts
		b.Run(fmt.Sprintf("partitions=%d/density=%s", parts, tc.density), func(b *testing.B) {
			bt := loadBenchTopic(b, parts, tc.density)
			ends := map[int]int64{}
			for p := range parts {
				conn, err := kafka.DialLeader(context.Background(), "tcp", bt.c.Brokers()[0], bt.name, p)
				if err != nil {
					b.Fatal(err)
				}
				ends[p], _ = conn.ReadLastOffset()
				conn.Close()
			}
			cpu := startCPU()
			for b.Loop() {
				var wg sync.WaitGroup
				readers := make([]*kafka.Reader, parts)
				for p := range parts {
					rd := kafka.NewReader(kafka.ReaderConfig{Brokers: bt.c.Brokers(), Topic: bt.name, Partition: p,
						MinBytes: 1, MaxBytes: 16 << 20, MaxWait: time.Second})
					readers[p] = rd
					wg.Go(func() {
						for n := int64(0); n < ends[p]; n++ {
							if _, err := rd.FetchMessage(context.Background()); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
				// Closing waits out a fetch in flight (up to MaxWait):
				// not reading, so not timed, as the group's shutdown is not.
				b.StopTimer()
				cpu.stop()
				for _, rd := range readers {
					rd.Close()
				}
				cpu.start()
				b.StartTimer()
			}
			b.ReportMetric(float64(bt.records)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
			cpu.report(b, float64(bt.records)*float64(b.N))
			b.SetBytes(bt.bytes)
		})
	}
}

// BenchmarkHandle is the consumer's own work on the bench topic's messages,
// without a broker: one partition worker decoding, detecting and
// checkpointing (to memory) messages already fetched. Beside
// BenchmarkBareReader in the same run it tells whether the end-to-end ratio
// is bound by that work or by the cores it shares with the fetching (and,
// here, with the broker): a worker's fetches run in kafka-go's own
// goroutine, so with cores to spare a partition goes at the slower of the
// two rates.
func BenchmarkHandle(b *testing.B) {
	for _, density := range []string{densityTrail, densityLive} {
		b.Run("density="+density, func(b *testing.B) {
			msgs, size := benchMessages(b, density)
			cfg := consumers.DefaultGroupConfig()
			cfg.Brokers, cfg.GroupID, cfg.Topics, cfg.DeadLetterTopic = []string{"127.0.0.1:9"}, "bench", []string{"bench"}, ""
			cpu := startCPU()
			var regs []*prometheus.Registry
			for b.Loop() {
				reg := prometheus.NewRegistry()
				regs = append(regs, reg)
				g, err := consumers.NewGroup(cfg, detector.DefaultConfig(), consumers.GroupDeps{
					Store:     consumers.NewMemStore(),
					NewOutput: func(string, int) (consumers.Output, error) { return discard{}, nil },
				}, reg, nil)
				if err != nil {
					b.Fatal(err)
				}
				if err := consumers.HandleAll(context.Background(), g, "bench", msgs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(msgs))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
			cpu.report(b, float64(len(msgs))*float64(b.N))
			reportStages(b, float64(len(msgs))*float64(b.N), regs)
			b.SetBytes(size)
		})
	}
}

// BenchmarkGroup is one trailsight consumer reading the same topic end to
// end: decode, detector, checkpoints, commits.
func BenchmarkGroup(b *testing.B) {
	for _, tc := range []struct {
		parts, members int
		density        string
	}{{1, 1, densityTrail}, {1, 1, densityLive}, {12, 1, densityTrail}, {12, 3, densityTrail}} {
		b.Run(fmt.Sprintf("partitions=%d/members=%d/density=%s", tc.parts, tc.members, tc.density), func(b *testing.B) {
			bt := loadBenchTopic(b, tc.parts, tc.density)
			cpu := startCPU()
			var regs []*prometheus.Registry
			for b.Loop() {
				// A fresh group and state topic per run: it starts from
				// the first offset with empty state.
				id := bt.name + "-" + strconv.FormatInt(benchRun.Add(1), 10)
				b.StopTimer()
				cpu.stop()
				bt.c.CreateTopic(b, id+"-state", tc.parts, true)
				cpu.start()
				b.StartTimer()
				regs = append(regs, runGroupToEnd(b, cpu, bt, id+"-state", id, tc.members)...)
			}
			b.ReportMetric(float64(bt.records)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
			cpu.report(b, float64(bt.records)*float64(b.N))
			reportStages(b, float64(bt.records)*float64(b.N), regs)
			b.SetBytes(bt.bytes)
		})
	}
}

// reportStages adds decode-us/event and detect-us/event: the time a
// partition's fetcher spent decoding and its worker handling, per event
// (trailsight_consumer_busy_seconds_total). Each runs on its own goroutine,
// so with cores to spare a partition goes at the rate of the slower one or
// of its fetches, whichever is slowest; where cores are short, both stages
// include time waiting for one.
func reportStages(b *testing.B, events float64, regs []*prometheus.Registry) {
	b.Helper()
	var decode, detect float64
	for _, reg := range regs {
		mfs, err := reg.Gather()
		if err != nil {
			b.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() != "trailsight_consumer_busy_seconds_total" {
				continue
			}
			for _, m := range mf.GetMetric() {
				switch m.GetLabel()[0].GetValue() {
				case "decode":
					decode += m.GetCounter().GetValue()
				case "detect":
					detect += m.GetCounter().GetValue()
				}
			}
		}
	}
	b.ReportMetric(decode*1e6/events, "decode-us/event")
	b.ReportMetric(detect*1e6/events, "detect-us/event")
}

func runGroupToEnd(b *testing.B, cpu *cpuMeter, bt *benchTopic, state, group string, members int) []*prometheus.Registry {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	regs := make([]*prometheus.Registry, members)
	for m := range members {
		cfg := consumers.DefaultGroupConfig()
		cfg.Brokers, cfg.GroupID, cfg.Topics, cfg.StateTopic, cfg.DeadLetterTopic = bt.c.Brokers(), group, []string{bt.name}, state, ""
		cfg.SessionTimeout, cfg.HeartbeatInterval = 6*time.Second, time.Second
		det := detector.DefaultConfig()
		regs[m] = prometheus.NewRegistry()
		store := consumers.NewKafkaStore(cfg.Brokers, state, bt.parts, group, nil)
		g, err := consumers.NewGroup(cfg, det, consumers.GroupDeps{
			Store:     store,
			NewOutput: func(string, int) (consumers.Output, error) { return discard{}, nil },
		}, regs[m], nil)
		if err != nil {
			b.Fatal(err)
		}
		wg.Go(func() {
			if err := g.Run(ctx); err != nil {
				b.Error(err)
			}
			store.Close()
		})
	}
	for {
		n := 0.0
		for _, reg := range regs {
			mfs, _ := reg.Gather()
			for _, mf := range mfs {
				if mf.GetName() == "trailsight_consumer_records_total" {
					n += mf.GetMetric()[0].GetCounter().GetValue()
				}
			}
		}
		if int(n) >= bt.records {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.StopTimer()
	cpu.stop()
	cancel()
	wg.Wait()
	cpu.start()
	b.StartTimer()
	return regs
}
