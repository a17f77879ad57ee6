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
