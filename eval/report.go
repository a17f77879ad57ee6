package eval

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is the result of Score. json.MarshalIndent(report) is the JSON
// output; WriteTable prints it for people.
//
// An Insight is matched when it overlaps a non-trap label (a target, or a
// tolerated label such as a level shift); every other Insight is a false
// positive. A false positive that overlaps a trap is also counted as caused
// by that trap. A target label (not a trap, Type set) is detected when a
// matching Insight exists; its delay is the delivery of that Insight's
// Start record minus the label start, taking the Insight delivered first.
type Report struct {
	ToleranceMinutes float64 `json:"tolerance_minutes"`

	// Kinds has one row per label kind: targets first, then tolerated
	// kinds (Target false: not part of recall), each sorted by kind.
	Kinds []KindScore `json:"kinds"`

	Labels   int     `json:"labels"`   // target labels
	Detected int     `json:"detected"` // target labels with a matching Insight
	Recall   float64 `json:"recall"`   // Detected/Labels; 1 with no labels

	Insights        int     `json:"insights"`          // paired Insights (Start+End, or one alone)
	Matched         int     `json:"matched"`           // Insights overlapping a non-trap label, or an incident on another API
	IncidentMatched int     `json:"incident_matched"`  // of Matched: other APIs of a labelled incident, led by its principal
	FalsePositives  int     `json:"false_positives"`   // Insights - Matched
	Precision       float64 `json:"precision"`         // Matched/Insights; 1 with no Insights
	F1              float64 `json:"f1"`                // harmonic mean of Precision and Recall
	OpenInsights    int     `json:"open_insights"`     // Start without End: open until the dataset end
	EndOnlyInsights int     `json:"end_only_insights"` // End without Start

	Delay DelayStats `json:"delay"` // over detected target labels
	// Bounds compares the Insight that detected each target label (the
	// first notified) with the label: |start − label start| and, for a
	// closed Insight, |end − label end|, in minutes.
	Bounds BoundsError `json:"bounds"`

	Traps        []TrapScore `json:"traps"`
	TrapInsights int         `json:"trap_insights"` // false positives overlapping a trap

	SeriesDays                   float64 `json:"series_days"`
	FalseStartsPer1000SeriesDays float64 `json:"false_starts_per_1000_series_days"`

	// StatsError is nil when Score had no Truth.
	StatsError  *StatsError      `json:"stats_error,omitempty"`
	Attribution AttributionScore `json:"attribution"`

	FalsePositiveList []FalsePositive `json:"false_positive_list"`
	// Missed lists the target labels no Insight detected.
	Missed []Label `json:"missed"`
	// Detections lists the target labels detected, each with the Insight
	// that detected it (the first notified), in label order: the numbers
	// behind the delay and bounds statistics, for finding what to look at.
	Detections []Detection `json:"detections"`
}

// Detection is one detected target label.
type Detection struct {
	Label         string  `json:"label"` // Label.ID
	Kind          string  `json:"kind"`
	Key           Key     `json:"key"`
	SharedEventID string  `json:"shared_event_id"`
	DelayMinutes  float64 `json:"delay_minutes"`       // delivery of the first record − label start
	StartMinutes  float64 `json:"start_error_minutes"` // Insight start − label start
	// EndMinutes is Insight end − label end; absent while the Insight is
	// open.
	EndMinutes *float64 `json:"end_error_minutes,omitempty"`
}

// KindScore is recall and delay for one label kind.
type KindScore struct {
	Kind     string     `json:"kind"`
	Target   bool       `json:"target"` // false: tolerated, not counted in recall
	Labels   int        `json:"labels"`
	Detected int        `json:"detected"`
	Recall   float64    `json:"recall"`
	Delay    DelayStats `json:"delay"`
}

// DelayStats summarises detection delays in minutes. Negative delays (an
// Insight delivered before the labelled start, within the tolerance) are
// kept as they are.
type DelayStats struct {
	N             int     `json:"n"`
	MedianMinutes float64 `json:"median_minutes"`
	P90Minutes    float64 `json:"p90_minutes"`
}

// BoundsError summarises how far detected Insights' starts and ends are
// from their labels', as absolute minutes.
type BoundsError struct {
	Start DelayStats `json:"start"`
	End   DelayStats `json:"end"` // closed Insights only
}

// TrapScore counts the false positives one kind of trap caused.
type TrapScore struct {
	Kind      string `json:"kind"`
	Labels    int    `json:"labels"`
	Triggered int    `json:"triggered"` // trap labels overlapped by a false positive
	Insights  int    `json:"insights"`  // false positives overlapping a trap of this kind
}

// StatsError is the absolute relative error of the averages matched
// Insights report, against the dataset's true counts.
type StatsError struct {
	// Insight compares the End record's insight.average with the true
	// count per minute over [start, end).
	Insight ErrorStats `json:"insight"`
	// Baseline compares baseline.average with the true count per minute
	// over [00:00 UTC seven days before the start day, start) (spec §2.6).
	Baseline ErrorStats `json:"baseline"`
}

// ErrorStats summarises absolute relative errors (0.05 is 5%).
type ErrorStats struct {
	N         int     `json:"n"`
	Undefined int     `json:"undefined"` // true rate 0, reported rate not 0
	Median    float64 `json:"median"`
	P90       float64 `json:"p90"`
}

// AttributionScore checks the top userIdentityArn of the Insight that
// detected each target label naming a principal: on its final record (End)
// and on its Start.
type AttributionScore struct {
	Labels   int     `json:"labels"`
	Correct  int     `json:"correct"`
	Accuracy float64 `json:"accuracy"` // Correct/Labels; 1 with no labels
	// On the Start record, the first a reader sees: the alert that has
	// to say who it was.
	StartCorrect  int     `json:"start_correct"`
	StartAccuracy float64 `json:"start_accuracy"` // StartCorrect/Labels; 1 with no labels
	// Records is every record of every Insight; Short those with an
	// attribute list of at most five values that does not add up to its
	// statistic (spec §2.4: the rest are dropped only past five).
	Records int `json:"records"`
	Short   int `json:"short"`
}

// FalsePositive describes one Insight that matched no non-trap label.
type FalsePositive struct {
	Key
	SharedEventID   string    `json:"shared_event_id"`
	Start           time.Time `json:"start"`
	DurationMinutes int       `json:"duration_minutes"`
	Open            bool      `json:"open"`
	BaselineAverage float64   `json:"baseline_average"`
	InsightAverage  float64   `json:"insight_average"`
	Traps           []string  `json:"traps,omitempty"` // trap kinds it overlaps
}

// WriteTable prints r as aligned text: recall per kind, totals, delay,
// traps, false positive rate, statistics error, attribution and the false
// positives.
// Write errors are not reported: w is a terminal or a buffer.
func (r *Report) WriteTable(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	p := func(format string, args ...any) { fmt.Fprintf(tw, format, args...) }

	p("kind\tlabels\tdetected\trecall\tdelay p50\tdelay p90\n")
	for _, k := range r.Kinds {
		if k.Target {
			p("%s\t%d\t%d\t%.3f\t%s\t%s\n", k.Kind, k.Labels, k.Detected, k.Recall, minutes(k.Delay.N, k.Delay.MedianMinutes), minutes(k.Delay.N, k.Delay.P90Minutes))
		} else {
			p("%s (tolerated)\t%d\t%d\t-\t-\t-\n", k.Kind, k.Labels, k.Detected)
		}
	}
	p("total\t%d\t%d\t%.3f\t%s\t%s\n", r.Labels, r.Detected, r.Recall, minutes(r.Delay.N, r.Delay.MedianMinutes), minutes(r.Delay.N, r.Delay.P90Minutes))
	tw.Flush()

	p("\ninsights %d: matched %d, false positives %d (%d caused by traps), open %d, End only %d\n",
		r.Insights, r.Matched, r.FalsePositives, r.TrapInsights, r.OpenInsights, r.EndOnlyInsights)
	p("precision %.3f  recall %.3f  F1 %.3f  (tolerance %gm)\n", r.Precision, r.Recall, r.F1, r.ToleranceMinutes)
	if r.SeriesDays > 0 {
		p("false Starts per 1000 series-days: %.3f (%d over %g series-days)\n", r.FalseStartsPer1000SeriesDays, r.FalsePositives, r.SeriesDays)
	}
	p("attribution: %d of %d top principals right (%.3f); on the Start record %d (%.3f)\n", r.Attribution.Correct, r.Attribution.Labels, r.Attribution.Accuracy,
		r.Attribution.StartCorrect, r.Attribution.StartAccuracy)
	p("attributions short of their statistic: %d of %d records\n", r.Attribution.Short, r.Attribution.Records)

	if len(r.Traps) > 0 {
		p("\ntrap\tlabels\ttriggered\tinsights\n")
		for _, t := range r.Traps {
			p("%s\t%d\t%d\t%d\n", t.Kind, t.Labels, t.Triggered, t.Insights)
		}
		tw.Flush()
	}

	if e := r.StatsError; e != nil {
		p("\nstatistics |rel err|\tn\tmedian\tp90\tundefined\n")
		p("insight.average\t%d\t%.4f\t%.4f\t%d\n", e.Insight.N, e.Insight.Median, e.Insight.P90, e.Insight.Undefined)
		p("baseline.average\t%d\t%.4f\t%.4f\t%d\n", e.Baseline.N, e.Baseline.Median, e.Baseline.P90, e.Baseline.Undefined)
		tw.Flush()
	}

	if b := r.Bounds; b.Start.N > 0 {
		p("\nbounds vs labels |err|\tn\tmedian\tp90\n")
		p("start\t%d\t%s\t%s\n", b.Start.N, minutes(b.Start.N, b.Start.MedianMinutes), minutes(b.Start.N, b.Start.P90Minutes))
		p("end (closed Insights)\t%d\t%s\t%s\n", b.End.N, minutes(b.End.N, b.End.MedianMinutes), minutes(b.End.N, b.End.P90Minutes))
		tw.Flush()
	}

	if len(r.Missed) > 0 {
		p("\nmissed label\tkind\tstart\tduration\n")
		for _, l := range r.Missed {
			k := l.Account + "/" + l.Region + "/" + l.EventSource + "/" + l.EventName
			if l.ErrorCode != "" {
				k += "/" + l.ErrorCode
			}
			p("%s/%s\t%s\t%s\t%dm\n", k, l.Type, l.Kind, l.Start.UTC().Format("2006-01-02T15:04Z"), int(l.End.Sub(l.Start)/time.Minute))
		}
	}
	if len(r.FalsePositiveList) > 0 {
		p("\nfalse positive\tstart\tduration\tbaseline avg\tinsight avg\ttraps\n")
		for _, f := range r.FalsePositiveList {
			d := fmt.Sprintf("%dm", f.DurationMinutes)
			if f.Open {
				d += " (open)"
			}
			p("%s\t%s\t%s\t%g\t%g\t%s\n", f.Key, f.Start.UTC().Format("2006-01-02T15:04Z"), d, f.BaselineAverage, f.InsightAverage, strings.Join(f.Traps, ","))
		}
	}
	tw.Flush()
}

func minutes(n int, m float64) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1fm", m)
}
