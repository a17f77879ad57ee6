package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/trailsight/trailsight/cloudtrail"
	"github.com/trailsight/trailsight/consumers"
	"github.com/trailsight/trailsight/emitters"
	"github.com/trailsight/trailsight/internal/retry"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, _, err := loadServeConfig(args, stderr)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	return serve(ctx, cfg, stdout, logger, nil)
}

// serve runs the service until ctx ends. ready, when not nil, is called
// with the brokers once the topics exist and the group is about to join.
func serve(ctx context.Context, cfg *serveConfig, stdout io.Writer, logger *slog.Logger, ready func(brokers []string)) error {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	brokers := cfg.Kafka.Brokers
	embedded := len(brokers) == 0
	if embedded {
		c, err := startEmbedded(cfg.Embedded)
		if err != nil {
			return err
		}
		defer c.Close()
		brokers = c.ListenAddrs()
		cfg.Kafka.Brokers = brokers
		cfg.Output.CreateTopics = true
	}
	dialer := &kafka.Dialer{Timeout: 10 * time.Second}

	if cfg.Output.CreateTopics {
		if err := createTopics(ctx, brokers, cfg); err != nil {
			return err
		}
	}
	// The state topic has as many partitions as the widest source topic
	// (createTopics makes it so), so each source partition's checkpoints
	// live in one state partition; an existing one keeps its own count.
	parts, err := consumers.Partitions(ctx, brokers, append([]string{cfg.Kafka.StateTopic}, cfg.Kafka.Topics...))
	if err != nil {
		return err
	}
	statePartitions := parts[cfg.Kafka.StateTopic]
	if statePartitions == 0 {
		statePartitions = maxCount(parts) // the sources'
	}
	if statePartitions == 0 {
		statePartitions = cfg.Output.Partitions
	}

	store := consumers.NewKafkaStore(brokers, cfg.Kafka.StateTopic, statePartitions, cfg.Kafka.GroupID, dialer)
	defer store.Close()

	var topic *emitters.Topic
	if cfg.Output.InsightsTopic != "" {
		w := newWriter(brokers, cfg.Output.InsightsTopic, &kafka.Murmur2Balancer{Consistent: true})
		defer w.Close()
		topic = emitters.NewTopic(w, emitters.TopicOptions{Registerer: reg}, logger)
	}
	var dlq consumers.MessageWriter
	if cfg.Kafka.DeadLetterTopic != "" {
		w := newWriter(brokers, cfg.Kafka.DeadLetterTopic, &kafka.Murmur2Balancer{Consistent: true})
		defer w.Close()
		dlq = w
	}
	var writers sync.Map // notification topic → *kafka.Writer
	defer writers.Range(func(_, w any) bool { w.(*kafka.Writer).Close(); return true })
	notifyTopic := func(topic string) (emitters.Notifier, error) {
		w, _ := writers.LoadOrStore(topic, newWriter(brokers, topic, &kafka.Murmur2Balancer{Consistent: true}))
		return emitters.NewTopicNotifier(w.(*kafka.Writer), retry.Policy{}, logger), nil
	}
	dl, err := openDelivery(ctx, &cfg.Delivery, time.Now(), notifyTopic, reg, logger)
	if err != nil {
		return err
	}
	var eb *emitters.EventBridge
	if c := cfg.Output.EventBridge; c.Bus != "" {
		awsCfg, endpoint, err := loadAWSConfig(ctx, c.Region, c.Endpoint)
		if err != nil {
			return fmt.Errorf("output.eventbridge: %w", err)
		}
		client := eventbridge.NewFromConfig(awsCfg, func(o *eventbridge.Options) { o.BaseEndpoint = endpoint })
		eb = emitters.NewEventBridge(client, emitters.EventBridgeOptions{Bus: c.Bus, Source: c.Source, Registerer: reg}, logger)
	}
	gauges := emitters.NewInsightGauges(reg)
	recent := newInsightLog(1000)
	newOutput := func(string, int) (consumers.Output, error) {
		f := emitters.Fanout{gauges}
		if topic != nil {
			f = append(f, topic)
		}
		if eb != nil {
			f = append(f, eb)
		}
		if cfg.Output.Dir != "" {
			f = append(f, emitters.NewDir(cfg.Output.Dir, cloudtrail.KeyPrefix{}))
		}
		// Last: the live view lists what went out.
		f = append(f, recent)
		if len(dl.trails) == 0 {
			return f, nil
		}
		outs, err := dl.newOutputs(cfg.Detector, logger)
		if err != nil {
			return nil, err
		}
		return &trailTap{base: f, trails: outs, det: cfg.Detector, log: logger}, nil
	}
	g, err := consumers.NewGroup(cfg.Kafka, cfg.Detector, consumers.GroupDeps{
		Store: store, NewOutput: newOutput, DeadLetters: dlq, Dialer: dialer,
	}, reg, logger)
	if err != nil {
		return err
	}

	var wg sync.WaitGroup
	defer wg.Wait()
	// The goroutines below end with ctx; a group that fails ends it too.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The trails' spools drain while the service runs; what is left when
	// it stops stays on disk for the next start.
	wg.Go(func() {
		if err := dl.run(ctx); err != nil {
			logger.Error("trail spool", "err", err)
		}
	})
	if cfg.HTTP.Listen != "" {
		live := &liveView{group: g, log: recent, rules: detectorRules{StartP: cfg.Detector.StartP, CoolDown: cfg.Detector.CoolDown}}
		srv, err := listenHTTP(cfg.HTTP, reg, g.Ready, live)
		if err != nil {
			return err
		}
		wg.Go(func() {
			<-ctx.Done()
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(sctx)
		})
	}
	if embedded {
		printHowToFeed(stdout, brokers[0], cfg)
	}
	if ready != nil {
		ready(brokers)
	}
	logger.Info("serving", "brokers", brokers, "topics", cfg.Kafka.Topics, "group", cfg.Kafka.GroupID,
		"insights_topic", cfg.Output.InsightsTopic, "dir", cfg.Output.Dir)
	err = g.Run(ctx)
	// Every partition has flushed and checkpointed: its objects are in the
	// bucket or in the spool. Once the spool runners have stopped, the
	// spool gets a last, bounded chance.
	cancel()
	wg.Wait()
	dl.drain(context.WithoutCancel(ctx), cfg.Delivery.S3.DrainTimeout, logger)
	return err
}

func startEmbedded(c embeddedConfig) (*kfake.Cluster, error) {
	host, portText, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return nil, fmt.Errorf("embedded.addr=%q: %w", c.Addr, err)
	}
	if host != "127.0.0.1" && host != "localhost" {
		return nil, fmt.Errorf("embedded.addr=%q: the embedded broker listens on 127.0.0.1 only", c.Addr)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port < 0 || port > 65535 {
		return nil, fmt.Errorf("embedded.addr=%q: bad port", c.Addr)
	}
	opts := []kfake.Opt{kfake.NumBrokers(1), kfake.Ports(port)}
	if c.DataDir != "" {
		opts = append(opts, kfake.DataDir(c.DataDir))
	}
	cl, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("start embedded broker on %s: %w", c.Addr, err)
	}
	return cl, nil
}

// createTopics creates the topics serve uses that do not exist yet.
func createTopics(ctx context.Context, brokers []string, cfg *serveConfig) error {
	n := cfg.Output.Partitions
	want := []kafka.TopicConfig{}
	for _, t := range cfg.Kafka.Topics {
		want = append(want, kafka.TopicConfig{Topic: t, NumPartitions: n, ReplicationFactor: -1})
	}
	src := n
	if have, err := consumers.Partitions(ctx, brokers, cfg.Kafka.Topics); err == nil && maxCount(have) > 0 {
		src = maxCount(have)
	}
	want = append(want, kafka.TopicConfig{Topic: cfg.Kafka.StateTopic, NumPartitions: src, ReplicationFactor: -1,
		ConfigEntries: []kafka.ConfigEntry{{ConfigName: "cleanup.policy", ConfigValue: "compact"}}})
	if cfg.Kafka.DeadLetterTopic != "" {
		want = append(want, kafka.TopicConfig{Topic: cfg.Kafka.DeadLetterTopic, NumPartitions: 1, ReplicationFactor: -1})
	}
	if cfg.Output.InsightsTopic != "" {
		want = append(want, kafka.TopicConfig{Topic: cfg.Output.InsightsTopic, NumPartitions: n, ReplicationFactor: -1})
	}
	for _, tr := range cfg.Delivery.Trails {
		if t := tr.NotificationTopic; t != "" && !slices.ContainsFunc(want, func(c kafka.TopicConfig) bool { return c.Topic == t }) {
			want = append(want, kafka.TopicConfig{Topic: t, NumPartitions: 1, ReplicationFactor: -1})
		}
	}
	return consumers.EnsureTopics(ctx, brokers, want)
}

// maxCount returns the largest partition count of parts, 0 for none.
func maxCount(parts map[string]int) int {
	n := 0
	for _, p := range parts {
		n = max(n, p)
	}
	return n
}

// listenHTTP serves /metrics, /healthz (the process answers), /readyz
// (ready: in the group, every assigned partition restored) and the live
// view of series and Insights (live.go).
func listenHTTP(hc httpConfig, reg *prometheus.Registry, ready func() (bool, string), live *liveView) (*http.Server, error) {
	ln, err := net.Listen("tcp", hc.Listen)
	if err != nil {
		return nil, fmt.Errorf("http.listen=%q: %w", hc.Listen, err)
	}
	mux := http.NewServeMux()
	if hc.Pprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		ok, why := ready()
		if !ok {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_, _ = io.WriteString(w, why+"\n")
	})
	live.register(mux)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Error("http server stopped", "err", err)
		}
	}()
	return srv, nil
}

func printHowToFeed(w io.Writer, broker string, cfg *serveConfig) {
	fmt.Fprintf(w, `trailsight serve: embedded Kafka broker on %[1]s (in memory unless -embedded.data-dir is set)
Topics: %[2]s (input, keyed by account ID), %[3]s (Insights), %[4]s (checkpoints), %[5]s (dead letters)

Feed it a trail: the demo trail is a week of history and a day with anomalies; at an hour of
delivery time per second its Insights come about three minutes in:
  trailsight gen --preset demo --out /tmp/trailsight-demo
  trailsight produce -brokers %[1]s -topic %[2]s -speed 3600 /tmp/trailsight-demo
or with kcat, one record per line:
  kcat -b %[1]s -P -t %[2]s -K '|' <<< '111122223333|{"eventVersion":"1.08",...}'
Watch the Insights:
  kcat -b %[1]s -C -t %[3]s -f '%%k %%s\n'
Metrics: http://%[6]s/metrics   Recent Insights with their charts: http://%[6]s/
`, broker, cfg.Kafka.Topics[0], cfg.Output.InsightsTopic, cfg.Kafka.StateTopic, cfg.Kafka.DeadLetterTopic, cfg.HTTP.Listen)
}

// newWriter returns a producer for topic that waits for every replica's
// acknowledgement and batches for at most 5 ms, within the broker's default
// message.max.bytes (1 MiB). It has a transport of its own: kafka-go's
// default one caches metadata from before a topic was created for 6 s.
func newWriter(brokers []string, topic string, bal kafka.Balancer) *kafka.Writer {
	return &kafka.Writer{
		Transport: &kafka.Transport{},
		Addr:      kafka.TCP(brokers...), Topic: topic, Balancer: bal,
		RequiredAcks: kafka.RequireAll, BatchTimeout: 5 * time.Millisecond, BatchBytes: 1 << 20,
	}
}
