package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/trailsight/trailsight/cloudtrail"
	"github.com/trailsight/trailsight/detector"
	"github.com/trailsight/trailsight/eval"
)

// The live view: a running `serve` answers what `plot` and `explain` would
// otherwise replay a trail for. The series come from the partitions'
// Engines (consumers.Group.Inspect), which hold about the last two hours
// of every series minute by minute; the Insights from a bounded log of the
// ones this process emitted, plus those its partitions hold open.
//
//	GET /api/v1/insights                     recent and open Insights
//	GET /api/v1/series?account=&region=&source=&name=[&error_code=]
//	GET /api/v1/series?id=EVENT-ID           the series of an Insight
//	GET /plot?...                            the same as an SVG chart
//	GET /                                    a page of the recent Insights' charts

// liveInsight is an Insight as the live view serves it: its record in
// AWS's format and why it fired.
type liveInsight struct {
	Record    json.RawMessage `json:"record"`
	Direction string          `json:"direction"`
	Scale     int             `json:"scale"`                // minutes of the window that started it
	PValue    float64         `json:"p_value"`              // that window's tail probability
	Expected  float64         `json:"expected"`             // expected count a minute over the Insight
	Period    int             `json:"period,omitempty"`     // minutes between a scheduled job's runs, when missed runs started it
	SiblingOf string          `json:"sibling_of,omitempty"` // the API of the same service whose open drop this drop confirmed
	// Novel: the calls of principals new to the account started it;
	// CompanionOf: the API whose open Insight it confirmed (of new
	// principals' calls where Novel, else led by the same principal).
	Novel       bool   `json:"novel,omitempty"`
	CompanionOf string `json:"companion_of,omitempty"`
	// Leader: on a call-rate spike's Start, the principal that made most
	// of its unusual calls, with its write calls in the 10 minutes to the
	// Start (all APIs) and its recent peak (0: none on record), and the
	// AWS service it acts for (its userIdentity.invokedBy; "": none).
	Leader      string  `json:"leader,omitempty"`
	LeaderCalls float64 `json:"leader_calls,omitempty"`
	LeaderPeak  float64 `json:"leader_peak,omitempty"`
	LeaderAgent string  `json:"leader_agent,omitempty"`

	rec cloudtrail.InsightRecord // Record decoded
}

func newLiveInsight(in *detector.Insight) liveInsight {
	rec := in.Record()
	return liveInsight{Record: rec.AppendJSON(nil), Direction: in.Direction.String(), Scale: in.Scale,
		PValue: finite(in.PValue), Expected: finite(in.Expected), Period: in.Period, SiblingOf: in.SiblingOf,
		Novel: in.Novel, CompanionOf: in.CompanionOf, Leader: in.Leader, LeaderCalls: in.LeaderCalls, LeaderPeak: in.LeaderPeak,
		LeaderAgent: in.LeaderAgent, rec: rec}
}

// finite keeps JSON encodable: a probability that underflowed, or an
// expectation of a series never seen, is still a number.
func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

// seriesView is one series as the live view serves it.
type seriesView struct {
	eval.Key                   // the series, in the evaluation's JSON form
	Partition string           `json:"partition"` // topic/partition that owns it
	Watermark time.Time        `json:"watermark"`
	Rules     detectorRules    `json:"rules"` // the instance's decision rule
	Points    []detector.Point `json:"points"`
	Insights  []liveInsight    `json:"insights"`
}

func (v *seriesView) key() detector.Key { return detectorKey(v.Key) }

// detectorKey is the detector's form of a series key.
func detectorKey(k eval.Key) detector.Key {
	dk := detector.Key{Account: k.Account, Region: k.Region, EventSource: k.EventSource, EventName: k.EventName,
		ErrorCode: k.ErrorCode, Type: detector.APICallRate}
	if k.InsightType == detector.APIErrorRate.String() {
		dk.Type = detector.APIErrorRate
	}
	return dk
}

// insightLog keeps the newest Insights this process emitted, each record
// once (a partition that replays after a restart emits identical ones).
type insightLog struct {
	mu   sync.Mutex
	max  int
	ins  []liveInsight // oldest first
	seen map[string]bool
}

func newInsightLog(max int) *insightLog { return &insightLog{max: max, seen: map[string]bool{}} }

// Emit implements detector.Sink.
func (l *insightLog) Emit(_ context.Context, batch []detector.Insight) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range batch {
		li := newLiveInsight(&batch[i])
		if l.seen[li.rec.EventID] {
			continue
		}
		l.seen[li.rec.EventID] = true
		l.ins = append(l.ins, li)
	}
	if n := len(l.ins) - l.max; n > 0 {
		for _, li := range l.ins[:n] {
			delete(l.seen, li.rec.EventID)
		}
		l.ins = append(l.ins[:0], l.ins[n:]...)
	}
	return nil
}

func (l *insightLog) all() []liveInsight {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.ins)
}

// inspector is what the live view needs of the consumer group.
type inspector interface {
	Inspect(fn func(topic string, partition int, e *detector.Engine))
}

type liveView struct {
	group inspector
	log   *insightLog
	rules detectorRules
}

func (lv *liveView) register(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/insights", lv.insights)
	mux.HandleFunc("GET /api/v1/series", lv.series)
	mux.HandleFunc("GET /plot", lv.plot)
	mux.HandleFunc("GET /{$}", lv.index)
}

// recent returns the logged Insights and those the partitions hold open
// (restored from a checkpoint, so never emitted by this process), each
// record once, oldest first.
func (lv *liveView) recent() []liveInsight {
	out := lv.log.all()
	seen := map[string]bool{}
	for _, li := range out {
		seen[li.rec.EventID] = true
	}
	lv.group.Inspect(func(_ string, _ int, e *detector.Engine) {
		for _, in := range e.OpenInsights() {
			if li := newLiveInsight(&in); !seen[li.rec.EventID] {
				seen[li.rec.EventID] = true
				out = append(out, li)
			}
		}
	})
	return out
}

func (lv *liveView) insights(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, map[string]any{"insights": lv.recent()})
}

// view answers a series query: by key, or by an Insight's eventID or
// sharedEventID.
func (lv *liveView) view(q url.Values) (*seriesView, int, error) {
	v := &seriesView{Rules: lv.rules, Key: eval.Key{Account: q.Get("account"), Region: q.Get("region"), EventSource: q.Get("source"),
		EventName: q.Get("name"), ErrorCode: q.Get("error_code"), InsightType: detector.APICallRate.String()}}
	if v.ErrorCode != "" {
		v.InsightType = detector.APIErrorRate.String()
	}
	recent := lv.recent()
	if id := q.Get("id"); id != "" {
		i := slices.IndexFunc(recent, func(li liveInsight) bool { return li.rec.EventID == id || li.rec.SharedEventID == id })
		if i < 0 {
			return nil, http.StatusNotFound, fmt.Errorf("no recent or open Insight has the ID %q", id)
		}
		v.Key = eval.RecordKey(&recent[i].rec)
	}
	if v.Account == "" || v.Region == "" || v.EventSource == "" || v.EventName == "" {
		return nil, http.StatusBadRequest, errors.New("give account, region, source and name (and error_code for an error-rate series), or id")
	}
	k := v.key()
	found := false
	lv.group.Inspect(func(topic string, part int, e *detector.Engine) {
		if found {
			return
		}
		if pts, ok := e.Recent(k); ok {
			found = true
			v.Points, v.Watermark, v.Partition = pts, e.Watermark(), fmt.Sprintf("%s/%d", topic, part)
		}
	})
	if !found {
		return nil, http.StatusNotFound, fmt.Errorf("no partition of this instance holds the series %s", k)
	}
	for i := range v.Points {
		p := &v.Points[i]
		p.Expected, p.Band, p.ExpectedMinute, p.BandMinute = finite(p.Expected), finite(p.Band), finite(p.ExpectedMinute), finite(p.BandMinute)
		for _, ps := range [][]float64{p.SpikeP[:], p.DropP[:], p.BlockDropP[:], p.NoveltyP[:]} {
			for j := range ps {
				if math.IsNaN(ps[j]) {
					ps[j] = 1 // as for a test that did not apply
				}
			}
		}
	}
	v.Insights = []liveInsight{}
	for _, li := range recent {
		if eval.RecordKey(&li.rec) == v.Key {
			v.Insights = append(v.Insights, li)
		}
	}
	return v, http.StatusOK, nil
}

func (lv *liveView) series(w http.ResponseWriter, r *http.Request) {
	v, code, err := lv.view(r.URL.Query())
	if err != nil {
		http.Error(w, err.Error(), code)
		return
	}
	writeJSON(w, v)
}

func (lv *liveView) plot(w http.ResponseWriter, r *http.Request) {
	v, code, err := lv.view(r.URL.Query())
	if err != nil {
		http.Error(w, err.Error(), code)
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	_, _ = w.Write(liveChart(v, time.Time{}, time.Time{}).SVG())
}

// indexCharts is how many Insights the page charts: each chart is a
// request into the partitions.
const indexCharts = 50

// index lists the recent Insights, newest first, each with the chart of
// its series as this instance holds it now.
func (lv *liveView) index(w http.ResponseWriter, _ *http.Request) {
	recent := lv.recent()
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>trailsight: recent Insights</title>\n" +
		"<style>body{font-family:sans-serif;margin:2em}img{display:block;margin:1em 0 2em}</style></head><body>\n" +
		"<h1>Recent Insights</h1>\n<p>The newest Insights (up to 50; all of them at /api/v1/insights), each series as this instance holds it now: about the last two hours, minute by minute.</p>\n")
	if len(recent) == 0 {
		b.WriteString("<p>No Insight yet.</p>\n")
	}
	charted := map[string]bool{}
	for i := len(recent) - 1; i >= 0 && len(charted) < indexCharts; i-- {
		r := &recent[i].rec
		if charted[r.SharedEventID] {
			continue // its Start, once its End is listed
		}
		charted[r.SharedEventID] = true
		q := url.Values{"account": {r.RecipientAccountID}, "region": {r.AWSRegion}, "source": {r.EventSource}, "name": {r.EventName}}
		if r.ErrorCode != "" {
			q.Set("error_code", r.ErrorCode)
		}
		fmt.Fprintf(&b, "<h2>%s %s %s %s</h2>\n<p>%s %s, %s in account %s, %s: %.2f a minute for %d min against a baseline of %.2f. <code>trailsight explain -server URL %s</code></p>\n<img src=\"/plot?%s\" alt=\"chart\">\n",
			html.EscapeString(r.EventSource), html.EscapeString(r.EventName), html.EscapeString(r.ErrorCode), html.EscapeString(r.InsightType),
			html.EscapeString(r.State), html.EscapeString(recent[i].Direction), r.EventTime.UTC().Format("2006-01-02 15:04Z"),
			html.EscapeString(r.RecipientAccountID), html.EscapeString(r.AWSRegion), r.InsightAverage, r.InsightDuration, r.BaselineAverage,
			html.EscapeString(r.SharedEventID), html.EscapeString(q.Encode()))
	}
	b.WriteString("</body></html>\n")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = io.WriteString(w, b.String())
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(append(b, '\n'))
}

// fetchSeries asks a running instance for a series (plot and explain with
// -server).
func fetchSeries(ctx context.Context, server string, q url.Values) (*seriesView, error) {
	u := strings.TrimSuffix(server, "/") + "/api/v1/series?" + q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("-server=%q: %w", server, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s: %s", u, resp.Status, strings.TrimSpace(string(body)))
	}
	var v seriesView
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, fmt.Errorf("%s: %w", u, err)
	}
	for i := range v.Insights {
		if v.Insights[i].rec, err = cloudtrail.DecodeInsightRecord(v.Insights[i].Record); err != nil {
			return nil, fmt.Errorf("%s: %w", u, err)
		}
	}
	return &v, nil
}

// liveChart is the chart of a served series over [t0, t1] (zero times:
// all it holds).
func liveChart(v *seriesView, t0, t1 time.Time) *eval.Chart {
	k := v.key()
	c := &eval.Chart{Title: chartTitle(k)}
	for _, p := range v.Points {
		if (t0.IsZero() || !p.Minute.Before(t0)) && (t1.IsZero() || !p.Minute.After(t1)) {
			c.Points = append(c.Points, chartPoint(k, p))
		}
	}
	if len(c.Points) > 0 {
		t0, t1 = c.Points[0].Minute, c.Points[len(c.Points)-1].Minute
	}
	addWindows(c, v.Insights, t0, t1)
	return c
}
