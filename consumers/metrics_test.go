package consumers

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/trailsight/trailsight/detector"
)

// TestDetectorMetricsFollowPartitions: two partitions' Engines add up; a
// partition let go takes its series and open Insights out of the gauges
// and leaves its counts in the counters.
func TestDetectorMetricsFollowPartitions(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	m := newDetectorMetrics(promauto.With(reg))
	var zero detector.Stats
	a := detector.Stats{Series: 10, ErrorSeries: 2, Open: 1, Warming: 2}
	a.Events[detector.Counted] = 100
	a.Started[detector.APICallRate] = 1
	b := detector.Stats{Series: 5, Open: 0, Warming: 1}
	b.Events[detector.Counted] = 40
	b.Events[detector.Duplicate] = 3
	m.add(&zero, &a)
	m.add(&zero, &b)
	check := func(what string, c prometheus.Collector, want float64) {
		t.Helper()
		if got := testutil.ToFloat64(c); got != want {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
	check("counted", m.events.WithLabelValues("counted"), 140)
	check("call-rate series", m.series.WithLabelValues("call_rate"), 15)
	check("open", m.open, 1)
	check("warming", m.warming, 3)
	check("started", m.insights.WithLabelValues("ApiCallRateInsight", "Start"), 1)
	// a goes on: 50 more events, its Insight ends.
	a2 := a
	a2.Events[detector.Counted] = 150
	a2.Open = 0
	a2.Ended[detector.APICallRate] = 1
	a2.Warming = 0 // its account-Regions are warm now
	m.add(&a, &a2)
	check("counted after a minute", m.events.WithLabelValues("counted"), 190)
	check("open after the End", m.open, 0)
	check("ended", m.insights.WithLabelValues("ApiCallRateInsight", "End"), 1)
	// b is let go: gauges drop its part, counters keep its counts.
	gone := detector.Stats{Events: b.Events, Started: b.Started, Ended: b.Ended}
	m.add(&b, &gone)
	check("call-rate series after b left", m.series.WithLabelValues("call_rate"), 10)
	check("warming after b left", m.warming, 0)
	check("counted after b left", m.events.WithLabelValues("counted"), 190)
}
