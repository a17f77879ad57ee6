package emitters

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// s3Metrics are the S3 emitter's metrics, after Prometheus's notifier set:
// sent, errors, queue (spool) length and capacity, latency.
type s3Metrics struct {
	sent          prometheus.Counter
	sentBytes     prometheus.Counter
	errors        prometheus.Counter
	latency       prometheus.Histogram
	spooled       prometheus.Counter
	unspooled     prometheus.Counter
	spoolFull     prometheus.Counter
	spoolObjects  prometheus.Gauge
	spoolBytes    prometheus.Gauge
	spoolCapacity prometheus.Gauge
}

// newS3Metrics registers with reg; nil means no metrics.
func newS3Metrics(reg prometheus.Registerer) *s3Metrics {
	f := promauto.With(reg)
	return &s3Metrics{
		sent: f.NewCounter(prometheus.CounterOpts{
			Name: "trailsight_emitter_s3_objects_sent_total",
			Help: "Objects written to S3 (retries of one object count once).",
		}),
		sentBytes: f.NewCounter(prometheus.CounterOpts{
			Name: "trailsight_emitter_s3_sent_bytes_total",
			Help: "Bytes of the objects written to S3.",
		}),
		errors: f.NewCounter(prometheus.CounterOpts{
			Name: "trailsight_emitter_s3_errors_total",
			Help: "Failed PutObject calls (each attempt counts).",
		}),
		latency: f.NewHistogram(prometheus.HistogramOpts{
			Name:    "trailsight_emitter_s3_put_duration_seconds",
			Help:    "Duration of PutObject calls, failed ones included.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 9),
		}),
		spooled: f.NewCounter(prometheus.CounterOpts{
			Name: "trailsight_emitter_s3_spooled_total",
			Help: "Objects put in the local spool because S3 could not be reached.",
		}),
		unspooled: f.NewCounter(prometheus.CounterOpts{
			Name: "trailsight_emitter_s3_unspooled_total",
			Help: "Spooled objects delivered to S3.",
		}),
		spoolFull: f.NewCounter(prometheus.CounterOpts{
			Name: "trailsight_emitter_s3_spool_full_total",
			Help: "Puts refused because the spool was full (the caller stops and retries).",
		}),
		spoolObjects: f.NewGauge(prometheus.GaugeOpts{
			Name: "trailsight_emitter_s3_spool_objects",
			Help: "Objects waiting in the spool.",
		}),
		spoolBytes: f.NewGauge(prometheus.GaugeOpts{
			Name: "trailsight_emitter_s3_spool_bytes",
			Help: "Bytes waiting in the spool.",
		}),
		spoolCapacity: f.NewGauge(prometheus.GaugeOpts{
			Name: "trailsight_emitter_s3_spool_capacity_bytes",
			Help: "The spool's size bound.",
		}),
	}
}

// TrailMetrics counts the work of every Trail of a process, by trail name;
// the per-partition Trails of one trail share its counters.
type TrailMetrics struct {
	records  *prometheus.CounterVec
	logFiles *prometheus.CounterVec
	digests  *prometheus.CounterVec
}

// NewTrailMetrics registers with reg; nil means no metrics.
func NewTrailMetrics(reg prometheus.Registerer) *TrailMetrics {
	f := promauto.With(reg)
	return &TrailMetrics{
		records: f.NewCounterVec(prometheus.CounterOpts{
			Name: "trailsight_trail_records_total",
			Help: "Records a trail took (result=accepted), left out by its selectors or Region (filtered), or dropped as repeats of an eventID (duplicate).",
		}, []string{"trail", "result"}),
		logFiles: f.NewCounterVec(prometheus.CounterOpts{
			Name: "trailsight_trail_log_files_total",
			Help: "Log files a trail delivered.",
		}, []string{"trail"}),
		digests: f.NewCounterVec(prometheus.CounterOpts{
			Name: "trailsight_trail_digests_total",
			Help: "Digest files a trail delivered.",
		}, []string{"trail"}),
	}
}

// trailCounters are one trail's children of TrailMetrics.
type trailCounters struct {
	accepted, filtered, duplicate, logFiles, digests prometheus.Counter
}

func (m *TrailMetrics) forTrail(name string) trailCounters {
	if m == nil {
		m = NewTrailMetrics(nil)
	}
	return trailCounters{
		accepted:  m.records.WithLabelValues(name, "accepted"),
		filtered:  m.records.WithLabelValues(name, "filtered"),
		duplicate: m.records.WithLabelValues(name, "duplicate"),
		logFiles:  m.logFiles.WithLabelValues(name),
		digests:   m.digests.WithLabelValues(name),
	}
}

// topicMetrics are the Insights topic's: sent, errors, latency.
type topicMetrics struct {
	sent, errors prometheus.Counter
	latency      prometheus.Histogram
}

func newTopicMetrics(reg prometheus.Registerer) *topicMetrics {
	f := promauto.With(reg)
	return &topicMetrics{
		sent: f.NewCounter(prometheus.CounterOpts{
			Name: "trailsight_emitter_topic_records_sent_total",
			Help: "Insights records the brokers acknowledged on the Insights topic.",
		}),
		errors: f.NewCounter(prometheus.CounterOpts{
			Name: "trailsight_emitter_topic_errors_total",
			Help: "Failed writes to the Insights topic (each attempt counts; the batch is retried).",
		}),
		latency: f.NewHistogram(prometheus.HistogramOpts{
			Name:    "trailsight_emitter_topic_write_duration_seconds",
			Help:    "Duration of writes to the Insights topic, acknowledgements included.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 9),
		}),
	}
}
