package consumers

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// metrics are the Kafka consumer's; labels never name an account, Region or
// API (cardinality).
type metrics struct {
	messages       *prometheus.CounterVec // by result
	records        prometheus.Counter
	invalidRecords *prometheus.CounterVec // by reason
	deadLetters    *prometheus.CounterVec // by reason
	partitions     prometheus.Gauge
	checkpoints    prometheus.Counter
	ckptBytes      prometheus.Gauge
	ckptSeconds    prometheus.Histogram
	restoreSeconds prometheus.Histogram
	restoreBytes   prometheus.Gauge
	restoreFails   prometheus.Counter
	commitErrors   prometheus.Counter
	unkeyed        prometheus.Counter
	lag            *prometheus.GaugeVec // by topic, partition: message clock minus watermark
	nextOffset     *prometheus.GaugeVec // by topic, partition
	offsetLag      *prometheus.GaugeVec // by topic, partition
}

// Message results.
const (
	msgOK      = "ok"
	msgPartial = "partial" // some records set aside
	msgInvalid = "invalid" // nothing usable: dead-lettered
	msgEmpty   = "empty"
	msgDigest  = "digest"
)

func newMetrics(reg prometheus.Registerer) *metrics {
	f := promauto.With(reg)
	m := &metrics{
		messages: f.NewCounterVec(prometheus.CounterOpts{
			Name: "trailsight_consumer_messages_total",
			Help: "Kafka messages consumed, by result (ok, partial, invalid, empty, digest).",
		}, []string{"result"}),
		records: f.NewCounter(prometheus.CounterOpts{
			Name: "trailsight_consumer_records_total",
			Help: "CloudTrail records decoded from Kafka messages and passed to the detector.",
		}),
		invalidRecords: f.NewCounterVec(prometheus.CounterOpts{
			Name: "trailsight_consumer_invalid_records_total",
			Help: "Records set aside as malformed, by reason.",
		}, []string{"reason"}),
		deadLetters: f.NewCounterVec(prometheus.CounterOpts{
			Name: "trailsight_consumer_dead_letters_total",
			Help: "Messages written to the dead-letter topic, by reason.",
		}, []string{"reason"}),
		partitions: f.NewGauge(prometheus.GaugeOpts{
			Name: "trailsight_consumer_assigned_partitions",
			Help: "Partitions this instance owns now.",
		}),
		checkpoints: f.NewCounter(prometheus.CounterOpts{
			Name: "trailsight_consumer_checkpoints_total",
			Help: "Detector checkpoints saved (each followed by an offset commit).",
		}),
		ckptBytes: f.NewGauge(prometheus.GaugeOpts{
			Name: "trailsight_consumer_checkpoint_size_bytes",
			Help: "Size of the newest checkpoint saved (gzipped detector snapshot).",
		}),
		ckptSeconds: f.NewHistogram(prometheus.HistogramOpts{
			Name:    "trailsight_consumer_checkpoint_duration_seconds",
			Help:    "Time to snapshot, compress and save a partition's detector state.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 9),
		}),
		restoreSeconds: f.NewHistogram(prometheus.HistogramOpts{
			Name:    "trailsight_consumer_restore_duration_seconds",
			Help:    "Time to load and restore a partition's detector state on assignment.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 9),
		}),
		restoreBytes: f.NewGauge(prometheus.GaugeOpts{
			Name: "trailsight_consumer_restore_size_bytes",
			Help: "Size of the newest checkpoint restored.",
		}),
		restoreFails: f.NewCounter(prometheus.CounterOpts{
			Name: "trailsight_consumer_restore_failures_total",
			Help: "Checkpoints that could not be restored; the partition started with empty state.",
		}),
		commitErrors: f.NewCounter(prometheus.CounterOpts{
			Name: "trailsight_consumer_commit_errors_total",
			Help: "Offset commits refused; the checkpoint's own offset still decides where a new owner resumes.",
		}),
		unkeyed: f.NewCounter(prometheus.CounterOpts{
			Name: "trailsight_consumer_unkeyed_messages_total",
			Help: "Messages without a key: their account's series may be split across partitions (see trailsight rekey).",
		}),
		lag: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "trailsight_consumer_watermark_lag_seconds",
			Help: "A partition's message clock minus its detector watermark (the allowed lateness when caught up).",
		}, []string{"topic", "partition"}),
		nextOffset: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "trailsight_consumer_next_offset",
			Help: "Next offset an owned partition consumes (after restore, then after each message).",
		}, []string{"topic", "partition"}),
		offsetLag: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "trailsight_consumer_offset_lag",
			Help: "Messages of an owned partition behind its end, as of the last fetch.",
		}, []string{"topic", "partition"}),
	}
	return m
}
