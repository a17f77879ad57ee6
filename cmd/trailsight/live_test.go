package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailsight/trailsight/consumers"
	"github.com/trailsight/trailsight/detector"
)

// engineGroup is a consumer group of one partition: the live view over an
// Engine that a test fed.
type engineGroup struct{ e *detector.Engine }

func (g engineGroup) Inspect(fn func(string, int, *detector.Engine)) { fn("cloudtrail-events", 0, g.e) }

// TestLiveView stops a replay of the tiny trail half an hour after its
// first call-rate Insight started, as if the trail were a live stream that
// had got that far, and asks the live view of that moment for the
// Insight: plot -server draws its window and explain -server gives the
// rule it passed, from the minutes the Engine holds, without the trail.
func TestLiveView(t *testing.T) {
	data, m := tinyDataset(t)
	cfg := detector.DefaultConfig()
	cfg.WarmUp = 48 * time.Hour
	cfg.TimeZones = m.TimeZones()
	files, err := consumers.ListFiles([]string{data})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	// The full replay tells when the first call-rate Insight started.
	full := &collector{}
	e, err := detector.New(cfg, full, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := consumers.Replay(ctx, files, e, consumers.ReplayOptions{Workers: 1}); err != nil {
		t.Fatal(err)
	}
	var first *detector.Insight
	for i := range full.all {
		if in := &full.all[i]; in.State == detector.StateStart && in.Key.Type == detector.APICallRate {
			first = in
			break
		}
	}
	if first == nil {
		t.Fatal("the tiny trail has no call-rate Insight")
	}
	stop := first.Emitted.Add(30 * time.Minute)
	var prefix []consumers.File
	for _, f := range files {
		if !f.Delivery.IsZero() && !f.Delivery.After(stop) {
			prefix = append(prefix, f)
		}
	}

	log := newInsightLog(100)
	e, err = detector.New(cfg, log, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := consumers.Replay(ctx, prefix, e, consumers.ReplayOptions{Workers: 1}); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	(&liveView{group: engineGroup{e}, log: log, rules: detectorRules{StartP: cfg.StartP, CoolDown: cfg.CoolDown}}).register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	rec := first.Record()
	k := first.Key
	v, err := fetchSeries(ctx, srv.URL, url.Values{"id": {rec.SharedEventID}})
	if err != nil {
		t.Fatal(err)
	}
	if v.key() != k || len(v.Points) == 0 || !v.Points[len(v.Points)-1].Minute.Equal(e.Watermark()) {
		t.Fatalf("series %s with %d points up to the watermark %s; want %s", v.key(), len(v.Points), e.Watermark(), k)
	}
	if p := v.Points[0].Minute; p.After(first.Start) {
		t.Fatalf("the live series starts at %s, after the Insight (%s)", p, first.Start)
	}
	// The counts are the trail's, as a trace of the full replay saw them.
	traced := map[time.Time]float64{}
	if _, err := replayTraced(ctx, cfg, []string{data}, map[detector.Key]func(detector.Point){k: func(p detector.Point) { traced[p.Minute] = p.Count }}); err != nil {
		t.Fatal(err)
	}
	for _, p := range v.Points {
		if p.Count != traced[p.Minute] {
			t.Errorf("%s: live count %v, replay %v", p.Minute, p.Count, traced[p.Minute])
		}
	}
	var ids []string
	for _, li := range v.Insights {
		ids = append(ids, li.rec.EventID)
	}
	if len(ids) == 0 || ids[0] != rec.EventID {
		t.Errorf("the series' Insights are %v; want its Start %s first", ids, rec.EventID)
	}

	svgPath := filepath.Join(t.TempDir(), "live.svg")
	r := mustRun(t, "plot", "-server", srv.URL, "-account", k.Account, "-region", k.Region, "-source", k.EventSource, "-name", k.EventName, "-out", svgPath)
	if want := "1 Insights"; !strings.Contains(r.stdout, want) {
		t.Errorf("plot -server says %q; want %q", r.stdout, want)
	}
	svg, err := os.ReadFile(svgPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<rect class="insight"`, `class="count"`, "Start spike at " + first.Start.UTC().Format("2006-01-02 15:04Z")} {
		if !strings.Contains(string(svg), want) {
			t.Errorf("the live SVG lacks %q", want)
		}
	}
	// By the Insight's ID, the same chart.
	byID := filepath.Join(t.TempDir(), "by-id.svg")
	mustRun(t, "plot", "-server", srv.URL, "-id", rec.SharedEventID, "-out", byID)
	if svg2, err := os.ReadFile(byID); err != nil || string(svg2) != string(svg) {
		t.Errorf("plot -server -id draws another chart than the series' key (%v)", err)
	}

	r = mustRun(t, "explain", "-server", srv.URL, rec.EventID)
	for _, want := range []string{"Why it started: a spike", "-detector.start-p", "INSIGHT", "Top userIdentityArn", k.EventName} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("explain -server lacks %q:\n%s", want, r.stdout)
		}
	}

	// The page and the endpoints a browser and scripts use.
	get := func(path string) (int, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/"); code != 200 || !strings.Contains(body, `<img src="/plot?`) || !strings.Contains(body, rec.SharedEventID) {
		t.Errorf("GET /: %d\n%.500s", code, body)
	}
	if code, body := get("/plot?id=" + rec.EventID); code != 200 || !strings.HasPrefix(body, "<svg") {
		t.Errorf("GET /plot: %d %.100q", code, body)
	}
	code, body := get("/api/v1/insights")
	var all struct{ Insights []liveInsight }
	if err := json.Unmarshal([]byte(body), &all); code != 200 || err != nil || len(all.Insights) == 0 {
		t.Errorf("GET /api/v1/insights: %d %v %.200q", code, err, body)
	}
	for _, path := range []string{"/api/v1/series?id=nope", "/api/v1/series?account=1&region=r&source=s&name=n"} {
		if code, _ := get(path); code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, code)
		}
	}
	if code, _ := get("/api/v1/series?account=1"); code != http.StatusBadRequest {
		t.Errorf("GET /api/v1/series without a key: %d, want 400", code)
	}
}
