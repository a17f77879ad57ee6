package consumers

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/trailsight/trailsight/detector"
)

// metrics are the Kafka consumer's; labels never name an account, Region or
// API (cardinality).
type metrics struct {
	det detectorMetrics

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
	busyDecode     prometheus.Counter   // busy_seconds_total{stage="decode"}
	busyDetect     prometheus.Counter   // busy_seconds_total{stage="detect"}
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
		det: newDetectorMetrics(f),
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
	busy := f.NewCounterVec(prometheus.CounterOpts{
		Name: "trailsight_consumer_busy_seconds_total",
		Help: "Time the partitions' goroutines spent working, by stage: decode (a partition's fetcher decoding messages) and detect (its worker feeding the detector, delivering, checkpointing). A stage whose rate nears the owned partitions' count bounds them: add partitions and instances.",
	}, []string{"stage"})
	m.busyDecode, m.busyDetect = busy.WithLabelValues("decode"), busy.WithLabelValues("detect")
	return m
}

// detectorMetrics are the partitions' detectors' counters, summed over the
// partitions this process owns. Workers add their Engine's changes at each
// minute of their clock, at each checkpoint and when they let their
// partition go, so reading them never touches an Engine from another
// goroutine.
type detectorMetrics struct {
	events   *prometheus.CounterVec // by result
	insights *prometheus.CounterVec // by type, state
	series   *prometheus.GaugeVec   // by type
	open     prometheus.Gauge
	warming  prometheus.Gauge
}

func newDetectorMetrics(f promauto.Factory) detectorMetrics {
	return detectorMetrics{
		events: f.NewCounterVec(prometheus.CounterOpts{
			Name: "trailsight_detector_events_total",
			Help: "Records the detectors took, by result: counted (write calls), counted_error, not_write, not_analysed, insight_record, duplicate, late, too_old, from_future.",
		}, []string{"result"}),
		insights: f.NewCounterVec(prometheus.CounterOpts{
			Name: "trailsight_detector_insights_total",
			Help: "Insights started and ended, by type and state.",
		}, []string{"type", "state"}),
		series: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "trailsight_detector_active_series",
			Help: "Series the detectors of the owned partitions keep, by type (call_rate, error_rate).",
		}, []string{"type"}),
		open: f.NewGauge(prometheus.GaugeOpts{
			Name: "trailsight_detector_open_insights",
			Help: "Insights open in the detectors of the owned partitions.",
		}),
		warming: f.NewGauge(prometheus.GaugeOpts{
			Name: "trailsight_detector_warming_account_regions",
			Help: "Account-Regions of the owned partitions with less history than the warm-up: they start no Insight yet.",
		}),
	}
}

// add adds the change from old to cur: counters only grow; gauges move by
// the difference (a worker that lets its partition go adds the change from
// its stats to zero).
func (m *detectorMetrics) add(old, cur *detector.Stats) {
	for r := range cur.Events {
		if d := cur.Events[r] - old.Events[r]; d > 0 {
			m.events.WithLabelValues(detector.Result(r).String()).Add(float64(d))
		}
	}
	for _, typ := range []detector.InsightType{detector.APICallRate, detector.APIErrorRate} {
		if d := cur.Started[typ] - old.Started[typ]; d > 0 {
			m.insights.WithLabelValues(typ.String(), detector.StateStart.String()).Add(float64(d))
		}
		if d := cur.Ended[typ] - old.Ended[typ]; d > 0 {
			m.insights.WithLabelValues(typ.String(), detector.StateEnd.String()).Add(float64(d))
		}
	}
	m.series.WithLabelValues("call_rate").Add(float64(cur.Series - old.Series))
	m.series.WithLabelValues("error_rate").Add(float64(cur.ErrorSeries - old.ErrorSeries))
	m.open.Add(float64(cur.Open - old.Open))
	m.warming.Add(float64(cur.Warming - old.Warming))
}
