package detector

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/trailsight/trailsight/cloudtrail"
)

// BenchmarkObserve measures the hot path: one write event into an existing
// series of an open minute.
func BenchmarkObserve(b *testing.B) {
	e, _ := New(DefaultConfig(), nil, nil)
	t0 := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC).Unix()
	evs := make([]cloudtrail.Event, 1024)
	for i := range evs {
		evs[i] = cloudtrail.Event{EventTime: t0, EventID: fmt.Sprintf("id-%d", i), EventSource: "ec2.amazonaws.com",
			EventName: fmt.Sprintf("Api%d", i%50), AWSRegion: "us-east-1", RecipientAccountID: "111122223333",
			EventType: "AwsApiCall", EventCategory: "Management", ReadOnly: cloudtrail.False,
			UserIdentityARN: "arn:aws:iam::111122223333:role/app", UserAgent: "aws-cli/2"}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		ev := &evs[i&1023]
		ev.EventID = "" // no dedup cost: measured separately by the replay benchmark
		e.Observe(ev)
		i++
	}
}

// BenchmarkAdvance measures closing one minute over many series.
func BenchmarkAdvance(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			e, _ := New(DefaultConfig(), nil, nil)
			t0 := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
			populate(e, n, t0)
			ctx := context.Background()
			m := 16 // past the allowed lateness: every Advance closes a minute
			b.ReportAllocs()
			for b.Loop() {
				m++
				_ = e.Advance(ctx, t0.Add(time.Duration(m)*time.Minute))
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/series-minute")
		})
	}
}

// populate creates n call-rate series with three calls each. Names are
// made once, as the decoder's interning would share them.
func populate(e *Engine, n int, t0 time.Time) {
	names, regions, accounts := make([]string, 1000), make([]string, 10), make([]string, n/10000+1)
	for i := range names {
		names[i] = fmt.Sprintf("Api%d", i)
	}
	for i := range regions {
		regions[i] = fmt.Sprintf("region-%d", i)
	}
	for i := range accounts {
		accounts[i] = fmt.Sprintf("%012d", i)
	}
	for i := 0; i < n; i++ {
		for k := 0; k < 3; k++ {
			ev := cloudtrail.Event{EventTime: t0.Unix() + int64(k), EventSource: "svc.amazonaws.com",
				EventName: names[i%1000], AWSRegion: regions[i/1000%10],
				RecipientAccountID: accounts[i/10000], EventType: "AwsApiCall", EventCategory: "Management",
				ReadOnly: cloudtrail.False, UserIdentityARN: "arn:aws:iam::1:role/r" + names[k],
				UserAgent: "agent/" + names[k]}
			e.Observe(&ev)
		}
	}
}

// BenchmarkMemoryPerSeries reports the heap held per active call-rate
// series, including its weekly baseline model, minute ring, day totals and
// attribution sketches (three values per attribute).
func BenchmarkMemoryPerSeries(b *testing.B) {
	const n = 100_000
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		e, _ := New(DefaultConfig(), nil, nil)
		t0 := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
		populate(e, n, t0)
		_ = e.Advance(context.Background(), t0.Add(30*time.Minute))
		runtime.GC()
		runtime.ReadMemStats(&after)
		if s := e.Stats(); s.Series != n {
			b.Fatalf("series = %d, want %d", s.Series, n)
		}
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "bytes/series")
		runtime.KeepAlive(e)
	}
}

// BenchmarkCompactValues times the pass over the state that marks the value
// table's ids in use (compact.go), at 100k call-rate series with three
// values per attribute: ns/series is its cost per series.
func BenchmarkCompactValues(b *testing.B) {
	const n = 100_000
	e, _ := New(DefaultConfig(), nil, nil)
	t0 := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	populate(e, n, t0)
	e.vals.compactFrom = 0
	for b.Loop() {
		e.vals.inUse = 0 // due
		e.compactValues()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/series")
}
