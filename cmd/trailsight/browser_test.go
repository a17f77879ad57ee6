package main

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailsight/trailsight/internal/testenv"
)

// chromiumFlags start Debian's Chromium headless on a machine without a
// network or a desktop session; without the background-networking flags it
// tries (and fails) to reach Google's hosts at every start.
var chromiumFlags = []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
	"--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"}

// TestReportInChromium opens the HTML report of the tiny replay in headless
// Chromium: the DOM it builds holds every chart with its shaded window, and
// its screenshot is a picture, not a blank page.
func TestReportInChromium(t *testing.T) {
	chromium := testenv.Tool(t, "chromium", "chromium")
	data, _ := tinyDataset(t)
	dir := t.TempDir()
	r := mustRun(t, "replay", "--quiet", "--detector.warm-up", "48h", "--time-zones", tinyZones, "--report", filepath.Join(dir, "report"), data)
	s := parseSummary(t, r.stdout)
	started := s.callStarted + s.errorStarted
	page := "file://" + filepath.Join(dir, "report", "index.html")
	run := func(args ...string) []byte {
		t.Helper()
		args = append(append(append([]string{}, chromiumFlags...), "--user-data-dir="+t.TempDir()), args...)
		cmd := exec.Command(chromium, args...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		done := make(chan error, 1)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("chromium %v: %v\n%s", args, err, stderr.String())
			}
		case <-time.After(90 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatalf("chromium %v: no answer within 90 s\n%s", args, stderr.String())
		}
		return stdout.Bytes()
	}
	dom := string(run("--dump-dom", page))
	if n := strings.Count(dom, "<svg"); n != started || started == 0 {
		t.Errorf("the rendered DOM holds %d charts, want one for each of the %d Insights", n, started)
	}
	if n := strings.Count(dom, `class="insight"`); n < started {
		t.Errorf("the rendered DOM shades %d windows for %d Insights", n, started)
	}
	shot := filepath.Join(dir, "report.png")
	run("--window-size=1100,1400", "--screenshot="+shot, page)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if colors := countColors(img, 64); colors < 8 {
		t.Errorf("the screenshot has %d colours: a blank page, not charts", colors)
	}
	// The shaded Insight colour (#f4a261 at 30%% on white) is on the page.
	if !hasColorNear(img, 0xfc, 0xe3, 0xd0, 12) {
		t.Error("no Insight shading in the screenshot")
	}
}

// countColors counts distinct colours (up to limit) on a coarse grid.
func countColors(img image.Image, limit int) int {
	seen := map[uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, _ := img.At(x, y).RGBA()
			seen[(r>>8)<<16|(g>>8)<<8|bl>>8] = true
			if len(seen) >= limit {
				return len(seen)
			}
		}
	}
	return len(seen)
}

func hasColorNear(img image.Image, r0, g0, b0, tol int) bool {
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			if abs(int(r>>8)-r0) <= tol && abs(int(g>>8)-g0) <= tol && abs(int(bl>>8)-b0) <= tol {
				return true
			}
		}
	}
	return false
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
