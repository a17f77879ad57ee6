package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"text/tabwriter"
	"time"

	"github.com/trailsight/trailsight/cloudtrail"
	"github.com/trailsight/trailsight/detector"
	"github.com/trailsight/trailsight/eval"
)

// runExplain prints why an Insight fired: minute by minute around it, the
// count, what the detector expected and allowed, and the tail probabilities
// it compared with the threshold; then the Insight's statistics and top
// contributors. The minutes come from a replay of the trail the Insight
// came from (-data, -insights), or from a running instance (-server).
func runExplain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("explain", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg detector.Config
	cfg.RegisterFlags(fs)
	data := fs.String("data", "", "The trail the Insight came from: the PATHs a replay was given, comma-separated.")
	insights := fs.String("insights", "", "Where the Insight is: an Insights file, or a directory of them (the replay's -out).")
	server := fs.String("server", "", "A running `trailsight serve` (its -http.listen, e.g. http://127.0.0.1:9464) that emitted the Insight or holds it open: explain it from the minutes it holds now (about the last two hours) instead of a replay.")
	before := fs.Duration("before", time.Hour, "How much to show before the Insight's start.")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: trailsight explain -data PATH[,PATH] -insights FILE|DIR [flags] EVENT-ID\n"+
			"       trailsight explain -server URL [-before D] EVENT-ID\n\nEVENT-ID is the Insight record's eventID or sharedEventID.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 || (*server == "" && (*data == "" || *insights == "")) || (*server != "" && (*data != "" || *insights != "")) {
		fs.Usage()
		return errors.New("explain: an EVENT-ID and either -data and -insights, or -server, are required")
	}
	id := fs.Arg(0)
	var ex *explanation
	var err error
	if *server != "" {
		ex, err = explainLive(ctx, *server, id, *before)
	} else {
		if err := applyDataset(&cfg, fs, splitList(*data)[0]); err != nil {
			return err
		}
		ex, err = explainReplay(ctx, cfg, *data, *insights, id, *before)
	}
	if err != nil {
		return err
	}
	return ex.print(stdout)
}

// explanation is what explain prints.
type explanation struct {
	rec   *cloudtrail.InsightRecord // the End when there is one: authoritative (spec §2.9 #3)
	from  time.Time                 // the Insight's first minute
	pts   []detector.Point
	why   *liveInsight // the evidence that started it; nil when unknown
	rules detectorRules
	note  string // a caveat: why is unknown, or the minutes held are fewer
}

// detectorRules are the settings the decision rule depends on.
type detectorRules struct {
	StartP   float64 `json:"start_p"`
	CoolDown int     `json:"cool_down"`
}

// pick returns the End of the Insight with eventID or sharedEventID id
// among recs, or its Start when it has no End yet; nil when neither.
func pick[T any](recs []T, rec func(*T) *cloudtrail.InsightRecord, id string) *T {
	var start, end *T
	for i := range recs {
		r := rec(&recs[i])
		if r.EventID != id && r.SharedEventID != id {
			continue
		}
		if r.State == cloudtrail.StateStart {
			start = &recs[i]
		} else {
			end = &recs[i]
		}
	}
	if end != nil {
		return end
	}
	return start
}

// insightStart returns the first minute of the Insight a record belongs
// to: an End's eventTime is the end, Start + insightDuration (§2.5).
func insightStart(rec *cloudtrail.InsightRecord) time.Time {
	if rec.State == cloudtrail.StateEnd {
		return rec.EventTime.Add(-time.Duration(rec.InsightDuration) * time.Minute)
	}
	return rec.EventTime
}

// span returns an Insight's first minute and the window explain shows.
func span(rec *cloudtrail.InsightRecord, before time.Duration) (from, t0, t1 time.Time) {
	from = insightStart(rec)
	return from, from.Add(-before), from.Add(time.Duration(rec.InsightDuration+10) * time.Minute)
}

func explainReplay(ctx context.Context, cfg detector.Config, data, insights, id string, before time.Duration) (*explanation, error) {
	recs, err := loadInsightRecords(insights)
	if err != nil {
		return nil, err
	}
	rec := pick(recs, func(r *cloudtrail.InsightRecord) *cloudtrail.InsightRecord { return r }, id)
	if rec == nil {
		return nil, fmt.Errorf("explain: no Insight %s in %s", id, insights)
	}
	from, t0, t1 := span(rec, before)
	k := detectorKey(eval.RecordKey(rec))
	paths := splitList(data)
	ex := &explanation{rec: rec, from: from, rules: detectorRules{StartP: cfg.StartP, CoolDown: cfg.CoolDown}}
	traced, err := replayTraced(ctx, cfg, paths, map[detector.Key]func(detector.Point){k: func(p detector.Point) {
		if !p.Minute.Before(t0) && !p.Minute.After(t1) {
			ex.pts = append(ex.pts, p)
		}
	}})
	if err != nil {
		return nil, err
	}
	for i := range traced {
		if in := &traced[i]; in.Key == k && in.State == detector.StateStart && in.Start.Equal(from) {
			li := newLiveInsight(in)
			ex.why = &li
		}
	}
	if ex.why == nil {
		ex.note = "This replay did not start the Insight at that minute: other data or settings than the run that wrote it?"
	}
	return ex, nil
}

func explainLive(ctx context.Context, server, id string, before time.Duration) (*explanation, error) {
	v, err := fetchSeries(ctx, server, url.Values{"id": {id}})
	if err != nil {
		return nil, err
	}
	li := pick(v.Insights, func(li *liveInsight) *cloudtrail.InsightRecord { return &li.rec }, id)
	if li == nil {
		return nil, fmt.Errorf("explain: %s answered without the Insight %s", server, id)
	}
	from, t0, t1 := span(&li.rec, before)
	ex := &explanation{rec: &li.rec, from: from, why: li, rules: v.Rules}
	for _, p := range v.Points {
		if !p.Minute.Before(t0) && !p.Minute.After(t1) {
			ex.pts = append(ex.pts, p)
		}
	}
	if len(v.Points) > 0 && v.Points[0].Minute.After(t0) {
		ex.note = fmt.Sprintf("(%s holds this series minute by minute from %s on, as its model sees those minutes now.)",
			server, v.Points[0].Minute.Format("2006-01-02 15:04Z"))
	}
	return ex, nil
}

func (ex *explanation) print(w io.Writer) error {
	rec := ex.rec
	fmt.Fprintf(w, "%s on %s %s %s in account %s, %s\n", rec.InsightType, rec.EventSource, rec.EventName, rec.ErrorCode, rec.RecipientAccountID, rec.AWSRegion)
	fmt.Fprintf(w, "from %s for %d minutes: %.2f a minute against a baseline of %.2f a minute (over %d minutes of history)\n\n",
		ex.from.Format("2006-01-02 15:04Z"), rec.InsightDuration, rec.InsightAverage, rec.BaselineAverage, rec.BaselineDuration)
	switch why := ex.why; {
	case why != nil && why.Period > 0:
		// The missed-runs test is made at a run's deadline, over the
		// minutes since the job's last run, Period before the Start.
		since := why.Scale + why.Period - 1
		fmt.Fprintf(w, "Why it started: a job that runs every %d minutes had not run for %d minutes (since %s); missed runs in a row\n",
			why.Period, since, ex.from.Add(-time.Duration(why.Period)*time.Minute).Format("15:04Z"))
		fmt.Fprintf(w, "have probability %.2g under its record of missed runs, below the threshold of %.2g (-detector.start-p %.2g per minute × %d);\n",
			why.PValue, ex.rules.StartP*float64(since), ex.rules.StartP, since)
		fmt.Fprintf(w, "the model expected %.2f calls a minute. It ends when the job runs again (or the model stops expecting its runs).\n", why.Expected)
	case why != nil && why.SiblingOf != "":
		fmt.Fprintf(w, "Why it started: %s, another API of %s in this account and Region, had an open drop Insight;\n", why.SiblingOf, rec.EventSource)
		fmt.Fprintf(w, "this API's calls over the %d minutes since that drop began had tail probability %.2g under the model, below the threshold\n", why.Scale, why.PValue)
		fmt.Fprintf(w, "of %.2g for a sibling of an open drop (one test per drop, not a window search); the model expected %.2f a minute.\n",
			detector.SiblingP, why.Expected)
	case why != nil && why.CompanionOf != "" && !why.Novel:
		fmt.Fprintf(w, "Why it started: %s, another API in this account and Region, had an open spike Insight led by the same principal;\n", why.CompanionOf)
		fmt.Fprintf(w, "this API's calls over %d minute(s) had tail probability %.2g under the model, below the threshold of %.2g for a companion\n", why.Scale, why.PValue, detector.CompanionP)
		fmt.Fprintf(w, "of such an Insight (one incident across APIs, not a window search); the model expected %.2f calls a minute.\n", why.Expected)
	case why != nil && why.CompanionOf != "":
		fmt.Fprintf(w, "Why it started: %s, another API in this account and Region, had an open Insight holding calls by principals\n", why.CompanionOf)
		fmt.Fprintf(w, "new to the account; the calls of new principals to this API over %d minute(s) had tail probability %.2g under the model\n", why.Scale, why.PValue)
		fmt.Fprintf(w, "(its expectation times the account-Region's share of such calls), below the threshold of %.2g for a companion of such\n", detector.CompanionP)
		fmt.Fprintf(w, "an Insight (one test per API while it is open, not a window search); the model expected %.2f calls a minute in all.\n", why.Expected)
	case why != nil && why.Novel:
		fmt.Fprintf(w, "Why it started: the calls of principals new to the account (first seen less than a day ago) over %d minute(s)\n", why.Scale)
		fmt.Fprintf(w, "had tail probability %.2g under the model (its expectation times the account-Region's share of such calls),\n", why.PValue)
		fmt.Fprintf(w, "below the threshold of %.2g (-detector.start-p %.2g per minute of window × %d); the model expected %.2f calls a minute in all.\n",
			ex.rules.StartP*float64(why.Scale), ex.rules.StartP, why.Scale, why.Expected)
	case why != nil:
		fmt.Fprintf(w, "Why it started: a %s over %d minute(s) whose tail probability under the model was %.2g,\n", why.Direction, why.Scale, why.PValue)
		fmt.Fprintf(w, "below the threshold of %.2g (-detector.start-p %.2g per minute of window × %d); the model expected %.2f a minute.\n",
			ex.rules.StartP*float64(why.Scale), ex.rules.StartP, why.Scale, why.Expected)
	}
	if why := ex.why; why != nil && why.Period == 0 {
		// A gap's End was said above: it ends when the job runs again.
		fmt.Fprintf(w, "It ends after %d normal minutes, at the change point.\n", ex.rules.CoolDown)
	}
	if why := ex.why; why != nil && why.Leader != "" {
		explainLeader(w, why)
	}
	if ex.note != "" {
		fmt.Fprintln(w, ex.note)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "minute\tcount\texpected\t± band\tp spike 1m\tp spike 10m\tp drop 10m\tp drop 40m\t\t")
	end := ex.from.Add(time.Duration(rec.InsightDuration) * time.Minute)
	for _, p := range ex.pts {
		mark := "" // (Point.Open is not shown: an early Start opens before the minute closes)
		if !p.Minute.Before(ex.from) && p.Minute.Before(end) {
			mark = "INSIGHT"
		}
		if p.Gap {
			mark += " gap"
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%.2f\t%.2f\t%s\t%s\t%s\t%s\t%s\t\n", p.Minute.Format("01-02 15:04"), p.Count, p.Expected, p.Band,
			pval(p.SpikeP[0]), pval(p.SpikeP[1]), pval(p.DropP[0]), pval(p.DropP[2]), mark)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, a := range rec.Attributions {
		fmt.Fprintf(w, "\nTop %s during the Insight (baseline):\n", a.Attribute)
		base := map[string]float64{}
		for _, v := range a.Baseline {
			base[v.Value] = v.Average
		}
		for _, v := range a.Insight {
			fmt.Fprintf(w, "  %8.2f a minute (%.2f)  %s\n", v.Average, base[v.Value], v.Value)
		}
	}
	return nil
}

// explainLeader says why a spike's leading principal did not make it a
// routine burst, and how to make such bursts no evidence if they are
// expected: automation the routine rule cannot learn (a deploy ten times
// the last, a role created today) is what -detector.quiet-principals is for.
func explainLeader(w io.Writer, why *liveInsight) {
	if why.LeaderPeak == 0 {
		fmt.Fprintf(w, "Most of its unusual calls were made by %s (%.0f write calls in the 10 minutes to the Start, all APIs),\n", why.Leader, why.LeaderCalls)
		fmt.Fprintf(w, "which has no burst on record in this account and Region: its bursts are not routine until it has made some.\n")
	} else {
		fmt.Fprintf(w, "Most of its unusual calls were made by %s: %.0f write calls in the 10 minutes to the Start (all APIs),\n", why.Leader, why.LeaderCalls)
		fmt.Fprintf(w, "%.1f times its largest burst of the last weeks (%.0f); up to %d times it, a burst is routine.\n",
			why.LeaderCalls/why.LeaderPeak, why.LeaderPeak, detector.RoutineFactor)
	}
	if why.LeaderAgent != "" {
		fmt.Fprintf(w, "It acts for %s (userIdentity.invokedBy), which no principal of the account asked to act in the hour before\n", why.LeaderAgent)
		fmt.Fprintf(w, "(a write call to it), or one new to the account did: its work is judged as its own, not as that request's.\n")
	}
	fmt.Fprintf(w, "If its bursts are expected, -detector.quiet-principals '%s' makes its calls no evidence of a spike.\n", why.Leader)
}

func pval(p float64) string {
	if p >= 1 {
		return "-"
	}
	return fmt.Sprintf("%.1e", p)
}

// loadInsightRecords reads the Insights records of a file or a tree.
func loadInsightRecords(path string) ([]cloudtrail.InsightRecord, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		ds, err := eval.LoadInsightsDir(path)
		if err != nil {
			return nil, err
		}
		out := make([]cloudtrail.InsightRecord, len(ds))
		for i := range ds {
			out[i] = ds[i].Record
		}
		return out, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	recs, err := cloudtrail.DecodeInsightFile(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return recs, nil
}
