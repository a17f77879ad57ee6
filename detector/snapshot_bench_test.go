package detector

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/trailsight/trailsight/cloudtrail"
)

// historyEngine returns an Engine with n call-rate series and n/10
// error-rate series that have seen a day of traffic (a call every ten
// minutes, from 50 principals), so that their models, rings and sketches
// are filled as a live service's are. Events have no eventID: the dedup
// hashes (8 bytes per event of the last one to two hours) are left out of
// the per-series figures.
func historyEngine(b *testing.B, n int) *Engine {
	b.Helper()
	e, err := New(DefaultConfig(), nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	names, arns := make([]string, n), make([]string, 50)
	for i := range names {
		names[i] = fmt.Sprintf("Api%d", i)
	}
	for i := range arns {
		arns[i] = fmt.Sprintf("arn:aws:iam::111122223333:role/r%d", i)
	}
	ctx := context.Background()
	const minutes = 26 * 60
	for m := range minutes {
		at := t0.Add(time.Duration(m) * time.Minute)
		if err := e.Advance(ctx, at); err != nil {
			b.Fatal(err)
		}
		for i := m % 10; i < n; i += 10 {
			ev := cloudtrail.Event{EventTime: at.Unix() + int64(i%60), EventSource: "svc.amazonaws.com",
				EventName: names[i], AWSRegion: fmt.Sprint("region-", i/1000%10), RecipientAccountID: "111122223333",
				EventType: "AwsApiCall", EventCategory: "Management", ReadOnly: cloudtrail.False,
				UserIdentityARN: arns[i%50], UserAgent: "agent/1"}
			if i%10 == 0 && m%30 < 10 {
				ev.ErrorCode = "AccessDenied"
			}
			e.Observe(&ev)
		}
	}
	if err := e.Advance(ctx, t0.Add(minutes*time.Minute)); err != nil {
		b.Fatal(err)
	}
	if st := e.Stats(); st.Series != n || st.ErrorSeries != n/10 {
		b.Fatalf("%d call and %d error series, want %d and %d", st.Series, st.ErrorSeries, n, n/10)
	}
	return e
}

// BenchmarkSnapshot measures writing a snapshot, and its size per thousand
// series (call-rate and error-rate together).
func BenchmarkSnapshot(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			e := historyEngine(b, n)
			var buf bytes.Buffer
			b.ReportAllocs()
			for b.Loop() {
				buf.Reset()
				if err := e.Snapshot(&buf); err != nil {
					b.Fatal(err)
				}
			}
			series := e.Stats().Series + e.Stats().ErrorSeries
			b.SetBytes(int64(buf.Len()))
			b.ReportMetric(float64(buf.Len())/float64(series)*1000, "B/1k-series")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(series), "ns/series")
		})
	}
}

// BenchmarkRestore measures rebuilding an Engine from a snapshot.
func BenchmarkRestore(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			e := historyEngine(b, n)
			var buf bytes.Buffer
			if err := e.Snapshot(&buf); err != nil {
				b.Fatal(err)
			}
			snap := buf.Bytes()
			b.SetBytes(int64(len(snap)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Restore(DefaultConfig(), nil, nil, bytes.NewReader(snap)); err != nil {
					b.Fatal(err)
				}
			}
			series := e.Stats().Series + e.Stats().ErrorSeries
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(series), "ns/series")
		})
	}
}
