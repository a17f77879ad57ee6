package emitters

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/trailsight/trailsight/detector"
)

// insightLabels name an open Insight's series. They are per account and
// API, unlike every operational metric, and bounded all the same: only
// open Insights have series, and each is deleted when its Insight ends.
var insightLabels = []string{"account", "region", "event_source", "event_name", "insight_type", "error_code"}

// InsightGauges makes every open Insight a Prometheus series, so alert
// rules can page on Insights directly:
//
//	trailsight_insight_open{account,region,event_source,event_name,insight_type,error_code} 1
//	trailsight_insight_baseline_average{…}   calls (errors) per minute in the baseline window
//	trailsight_insight_average{…}            calls (errors) per minute in the Insight so far
//	trailsight_insight_start_timestamp_seconds{…}  the first unusual minute
//
// A Start sets them, its End deletes them. A partition's new owner
// announces what its restored state holds open (Holding) and the old owner
// what it lets go (Released), so the series follow the partitions across
// rebalances and restarts. InsightGauges is safe for concurrent use: every
// partition of a process shares one.
type InsightGauges struct {
	open, base, avg, start *prometheus.GaugeVec
}

var _ detector.Sink = (*InsightGauges)(nil)

// NewInsightGauges registers the gauges with reg (nil: unregistered).
func NewInsightGauges(reg prometheus.Registerer) *InsightGauges {
	f := promauto.With(reg)
	return &InsightGauges{
		open: f.NewGaugeVec(prometheus.GaugeOpts{Name: "trailsight_insight_open",
			Help: "1 for each Insight open now; the series goes when the Insight ends."}, insightLabels),
		base: f.NewGaugeVec(prometheus.GaugeOpts{Name: "trailsight_insight_baseline_average",
			Help: "An open Insight's baseline: calls (errors) per minute over its baseline window."}, insightLabels),
		avg: f.NewGaugeVec(prometheus.GaugeOpts{Name: "trailsight_insight_average",
			Help: "An open Insight's rate: calls (errors) per minute over its minutes so far (as of its Start, or of the owner's restore)."}, insightLabels),
		start: f.NewGaugeVec(prometheus.GaugeOpts{Name: "trailsight_insight_start_timestamp_seconds",
			Help: "An open Insight's first unusual minute, Unix seconds."}, insightLabels),
	}
}

func labelsOf(in *detector.Insight) prometheus.Labels {
	k := in.Key
	return prometheus.Labels{"account": k.Account, "region": k.Region, "event_source": k.EventSource,
		"event_name": k.EventName, "insight_type": k.Type.String(), "error_code": k.ErrorCode}
}

func (g *InsightGauges) set(in *detector.Insight) {
	l := labelsOf(in)
	g.open.With(l).Set(1)
	g.base.With(l).Set(in.BaselineAverage)
	g.avg.With(l).Set(in.InsightAverage)
	g.start.With(l).Set(float64(in.Start.Unix()))
}

func (g *InsightGauges) remove(in *detector.Insight) {
	l := labelsOf(in)
	g.open.Delete(l)
	g.base.Delete(l)
	g.avg.Delete(l)
	g.start.Delete(l)
}

// Emit sets the gauges of each Start and deletes those of each End.
func (g *InsightGauges) Emit(_ context.Context, batch []detector.Insight) error {
	for i := range batch {
		if batch[i].State == detector.StateStart {
			g.set(&batch[i])
		} else {
			g.remove(&batch[i])
		}
	}
	return nil
}

// Holding sets the gauges of Insights a new owner holds open.
func (g *InsightGauges) Holding(ins []detector.Insight) {
	for i := range ins {
		g.set(&ins[i])
	}
}

// Released deletes the gauges of Insights an owner lets go.
func (g *InsightGauges) Released(ins []detector.Insight) {
	for i := range ins {
		g.remove(&ins[i])
	}
}
