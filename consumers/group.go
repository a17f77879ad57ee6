package consumers

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/trailsight/trailsight/cloudtrail"
	"github.com/trailsight/trailsight/detector"
)

// GroupConfig configures the Kafka consumer group. Defaults live in
// RegisterFlags.
type GroupConfig struct {
	// Brokers to bootstrap from; empty means the embedded broker (cmd).
	Brokers []string `yaml:"brokers"`
	// GroupID is the consumer group.
	GroupID string `yaml:"group_id"`
	// Topics carry CloudTrail records, keyed by account ID.
	Topics []string `yaml:"topics"`
	// StateTopic is the compacted topic that holds checkpoints.
	StateTopic string `yaml:"state_topic"`
	// DeadLetterTopic receives the messages that cannot be decoded; empty
	// disables it (they are still counted and logged).
	DeadLetterTopic string `yaml:"dead_letter_topic"`
	// CheckpointInterval is the least wall time between two checkpoints
	// of a partition (snapshot, then offset commit).
	CheckpointInterval time.Duration `yaml:"checkpoint_interval"`
	// IdleAdvance moves an idle partition's clock on by the wall time that
	// passed since its newest message, once it has been idle this long,
	// so a quiet partition still closes minutes; 0 disables it.
	IdleAdvance time.Duration `yaml:"idle_advance"`
	// StartOffset is where a partition without commits starts: earliest
	// or latest.
	StartOffset string `yaml:"start_offset"`
	// MaxWait is the longest a fetch waits for data; kafka-go also uses it
	// as the fetch's read deadline, so it must be at least 1s.
	MaxWait           time.Duration `yaml:"max_wait"`
	SessionTimeout    time.Duration `yaml:"session_timeout"`
	RebalanceTimeout  time.Duration `yaml:"rebalance_timeout"`
	HeartbeatInterval time.Duration `yaml:"heartbeat_interval"`
	// DrainTimeout bounds the checkpoint a revoked partition saves.
	DrainTimeout time.Duration `yaml:"drain_timeout"`
}

// RegisterFlags registers the settings on f with their defaults.
func (c *GroupConfig) RegisterFlags(f *flag.FlagSet) {
	f.Func("kafka.brokers", "Comma-separated Kafka bootstrap brokers; empty starts the embedded broker on 127.0.0.1:9092.", func(s string) error {
		c.Brokers = splitList(s)
		return nil
	})
	f.StringVar(&c.GroupID, "kafka.group-id", "trailsight", "Kafka consumer group ID.")
	c.Topics = []string{"cloudtrail-events"}
	f.Func("kafka.topics", "Comma-separated topics of CloudTrail records (default cloudtrail-events).", func(s string) error {
		c.Topics = splitList(s)
		return nil
	})
	f.StringVar(&c.StateTopic, "kafka.state-topic", "trailsight-state", "Compacted topic holding detector checkpoints.")
	f.StringVar(&c.DeadLetterTopic, "kafka.dead-letter-topic", "trailsight-dead-letters", "Topic for messages that cannot be decoded; empty disables it.")
	f.DurationVar(&c.CheckpointInterval, "kafka.checkpoint-interval", 30*time.Second, "Least wall time between two checkpoints (snapshot + commit) of a partition.")
	f.DurationVar(&c.IdleAdvance, "kafka.idle-advance", 30*time.Second, "Move an idle partition's clock on after this long without messages; 0 disables.")
	f.StringVar(&c.StartOffset, "kafka.start-offset", "earliest", "Where a partition without committed offsets starts: earliest or latest.")
	f.DurationVar(&c.MaxWait, "kafka.max-wait", time.Second, "Longest a fetch waits for data (>= 1s).")
	f.DurationVar(&c.SessionTimeout, "kafka.session-timeout", 10*time.Second, "Consumer group session timeout.")
	f.DurationVar(&c.RebalanceTimeout, "kafka.rebalance-timeout", 30*time.Second, "Consumer group rebalance timeout.")
	f.DurationVar(&c.HeartbeatInterval, "kafka.heartbeat-interval", 3*time.Second, "Consumer group heartbeat interval.")
	f.DurationVar(&c.DrainTimeout, "kafka.drain-timeout", 30*time.Second, "Time a revoked partition has to flush and checkpoint.")
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// DefaultGroupConfig returns the defaults of RegisterFlags.
func DefaultGroupConfig() GroupConfig {
	var c GroupConfig
	c.RegisterFlags(flag.NewFlagSet("", flag.ContinueOnError))
	return c
}

// Validate reports the first invalid setting, naming the flag.
func (c *GroupConfig) Validate() error {
	switch {
	case c.GroupID == "":
		return errors.New("kafka.group-id: must not be empty")
	case len(c.Topics) == 0:
		return errors.New("kafka.topics: at least one topic is required")
	case c.StateTopic == "":
		return errors.New("kafka.state-topic: must not be empty")
	case c.CheckpointInterval < 0:
		return fmt.Errorf("kafka.checkpoint-interval=%s: must not be negative", c.CheckpointInterval)
	case c.IdleAdvance < 0:
		return fmt.Errorf("kafka.idle-advance=%s: must not be negative (0 disables)", c.IdleAdvance)
	case c.StartOffset != "earliest" && c.StartOffset != "latest":
		return fmt.Errorf("kafka.start-offset=%q: must be earliest or latest", c.StartOffset)
	case c.MaxWait < time.Second:
		return fmt.Errorf("kafka.max-wait=%s: must be at least 1s (kafka-go uses it as the fetch read deadline)", c.MaxWait)
	case c.SessionTimeout <= 0 || c.HeartbeatInterval <= 0 || c.HeartbeatInterval >= c.SessionTimeout:
		return fmt.Errorf("kafka.heartbeat-interval=%s: must be positive and below kafka.session-timeout=%s", c.HeartbeatInterval, c.SessionTimeout)
	case c.RebalanceTimeout <= 0:
		return fmt.Errorf("kafka.rebalance-timeout=%s: must be positive", c.RebalanceTimeout)
	case c.DrainTimeout <= 0:
		return fmt.Errorf("kafka.drain-timeout=%s: must be positive", c.DrainTimeout)
	}
	for i, t := range c.Topics {
		if t == c.StateTopic || t == c.DeadLetterTopic {
			return fmt.Errorf("kafka.topics[%d]=%q: must differ from the state and dead-letter topics", i, t)
		}
	}
	return nil
}

// Output receives one partition's Insights. Emit may buffer; after Flush
// returns nil everything emitted is durable. The partition worker flushes
// at every minute of its message clock and before every checkpoint, so a
// buffered record is never covered by a committed offset.
type Output interface {
	detector.Sink
	Flush(ctx context.Context) error
}

// A Tap is an Output that also follows every record its partition decodes
// and the partition's clock, and keeps state that travels in the
// partition's checkpoint. The trail delivery path is one: it writes the
// records as log files and digests and runs the trails' own detectors.
type Tap interface {
	Output
	// Advance moves the tap's clock to the arrival time of the message
	// whose records follow (or, idle, to the wall clock's stand-in).
	Advance(ctx context.Context, now time.Time) error
	// Observe takes one record; ev.Raw is valid during the call only.
	Observe(ev *cloudtrail.Event)
	// AppendState appends the tap's state to dst, for a checkpoint taken
	// after Flush; RestoreState takes such a state back.
	AppendState(dst []byte) ([]byte, error)
	RestoreState(b []byte) error
}

// An InsightTracker (an optional capability of an Output) is told which
// Insights a partition holds open when its worker takes the partition
// (restored from the checkpoint) and when it lets it go, so per-process
// views of open Insights (their gauges) follow partitions across
// rebalances and restarts.
type InsightTracker interface {
	Holding(ins []detector.Insight)
	Released(ins []detector.Insight)
}

// MessageWriter is what the consumer needs of a Kafka producer, for dead
// letters; *kafka.Writer satisfies it.
type MessageWriter interface {
	WriteMessages(ctx context.Context, msgs ...kafka.Message) error
}

// GroupDeps are the parts a Group is built from.
type GroupDeps struct {
	// Store keeps the checkpoints (required).
	Store StateStore
	// NewOutput returns the output of one partition (required); it is
	// called on each assignment, and the partition's worker owns it.
	NewOutput func(topic string, partition int) (Output, error)
	// DeadLetters writes to GroupConfig.DeadLetterTopic; nil sets
	// malformed messages aside with a count and a log line only.
	DeadLetters MessageWriter
	// Dialer connects to the brokers; nil is kafka-go's default.
	Dialer *kafka.Dialer
	// Now is the wall clock of idle advance and the checkpoint interval;
	// nil is time.Now. Tests set it to make an idle hour pass at once.
	Now func() time.Time
}

// Group consumes CloudTrail records from Kafka as a member of a consumer
// group. Each assigned partition gets one goroutine that owns the
// partition's detector Engine and Output, restores its checkpoint, and
// commits offsets only at checkpoints, after everything the records before
// them produced is emitted (docs/DESIGN.md, "Kafka service").
type Group struct {
	cfg  GroupConfig
	det  detector.Config
	deps GroupDeps
	log  *slog.Logger
	m    *metrics

	// joined is set once the member is in a generation; restoring counts
	// the partitions of it still loading their checkpoints.
	joined    atomic.Bool
	restoring atomic.Int64

	// live holds the partitions consuming now, for Inspect.
	liveMu sync.Mutex
	live   map[*partition]struct{}
}

func (g *Group) addLive(p *partition) {
	g.liveMu.Lock()
	defer g.liveMu.Unlock()
	if g.live == nil {
		g.live = map[*partition]struct{}{}
	}
	g.live[p] = struct{}{}
}

func (g *Group) removeLive(p *partition) {
	g.liveMu.Lock()
	defer g.liveMu.Unlock()
	delete(g.live, p)
}

// Inspect calls fn with the Engine of each partition this member consumes,
// one partition at a time and between two of its messages: the live view
// of a running instance (plot and explain of its series, /api/v1/series).
// Each partition waits while fn runs, so fn must be quick, and it must not
// keep the Engine. With a topic keyed by account, one partition holds all
// of an account's series.
func (g *Group) Inspect(fn func(topic string, partition int, e *detector.Engine)) {
	g.liveMu.Lock()
	parts := make([]*partition, 0, len(g.live))
	for p := range g.live {
		parts = append(parts, p)
	}
	g.liveMu.Unlock()
	slices.SortFunc(parts, func(a, b *partition) int {
		if c := strings.Compare(a.topic, b.topic); c != 0 {
			return c
		}
		return a.id - b.id
	})
	for _, p := range parts {
		p.mu.Lock()
		fn(p.topic, p.id, p.e)
		p.mu.Unlock()
	}
}

// Ready reports whether the member has joined the group and every
// partition it was assigned has restored its state (checkpoint loaded,
// consumption under way): /readyz.
func (g *Group) Ready() (bool, string) {
	switch n := g.restoring.Load(); {
	case !g.joined.Load():
		return false, "not in a consumer group generation yet"
	case n > 0:
		return false, fmt.Sprintf("%d partitions restoring their state", n)
	}
	return true, "ready"
}

// NewGroup returns a Group. reg may be nil (no metrics); logger may be nil.
func NewGroup(cfg GroupConfig, det detector.Config, deps GroupDeps, reg prometheus.Registerer, logger *slog.Logger) (*Group, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(cfg.Brokers) == 0 {
		return nil, errors.New("kafka.brokers: at least one broker is required")
	}
	if err := det.Validate(); err != nil {
		return nil, err
	}
	if deps.Store == nil || deps.NewOutput == nil {
		return nil, errors.New("consumers: GroupDeps.Store and NewOutput are required")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Group{cfg: cfg, det: det, deps: deps, m: newMetrics(reg),
		log: logger.With("component", "consumer", "group", cfg.GroupID)}, nil
}

func (g *Group) now() time.Time {
	if g.deps.Now != nil {
		return g.deps.Now()
	}
	return time.Now()
}

// Run consumes until ctx ends, then lets every partition checkpoint and
// leaves the group. It returns nil when ctx ended.
func (g *Group) Run(ctx context.Context) error {
	start := kafka.FirstOffset
	if g.cfg.StartOffset == "latest" {
		start = kafka.LastOffset
	}
	cg, err := kafka.NewConsumerGroup(kafka.ConsumerGroupConfig{
		ID:                     g.cfg.GroupID,
		Brokers:                g.cfg.Brokers,
		Dialer:                 g.deps.Dialer,
		Topics:                 g.cfg.Topics,
		StartOffset:            start,
		SessionTimeout:         g.cfg.SessionTimeout,
		RebalanceTimeout:       g.cfg.RebalanceTimeout,
		HeartbeatInterval:      g.cfg.HeartbeatInterval,
		JoinGroupBackoff:       time.Second,
		WatchPartitionChanges:  true,
		PartitionWatchInterval: 10 * time.Second,
		ErrorLogger:            kafka.LoggerFunc(func(msg string, args ...any) { g.log.Debug(fmt.Sprintf(msg, args...)) }),
	})
	if err != nil {
		return fmt.Errorf("join group %s: %w", g.cfg.GroupID, err)
	}
	defer cg.Close()
	for {
		gen, err := cg.Next(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			g.log.Warn("joining the group failed; retrying", "err", err)
			continue
		}
		n := 0
		for _, parts := range gen.Assignments {
			n += len(parts)
		}
		g.restoring.Add(int64(n))
		g.joined.Store(true)
		for topic, parts := range gen.Assignments {
			for _, a := range parts {
				topic, id, offset := topic, a.ID, a.Offset
				gen.Start(func(ctx context.Context) {
					g.m.partitions.Inc()
					defer g.m.partitions.Dec()
					var once sync.Once
					restored := func() { once.Do(func() { g.restoring.Add(-1) }) }
					defer restored() // a worker that failed to restore counts no more
					if err := g.runPartition(ctx, gen, topic, id, offset, restored); err != nil {
						g.log.Error("partition worker stopped", "topic", topic, "partition", id, "err", err)
					}
				})
			}
		}
		g.log.Info("generation started", "generation", gen.ID, "member", gen.MemberID, "partitions", n)
	}
}
