package consumers

import (
	"context"
	"time"

	"github.com/trailsight/trailsight/cloudtrail"
	"github.com/trailsight/trailsight/detector"
)

// ReplayStats sums up a replay.
type ReplayStats struct {
	Files        int            `json:"files"`
	FilesFailed  int            `json:"files_failed"`
	DigestFiles  int            `json:"digest_files"`
	InsightFiles int            `json:"insight_files"`
	Bytes        int64          `json:"bytes"`
	Records      int64          `json:"records"`
	Invalid      map[string]int `json:"invalid"`
	// Newest is the newest delivery (or event) time reached.
	Newest time.Time `json:"newest"`
}

// Progress is reported after each file.
type Progress struct {
	Files, Total int
	Records      int64
	Position     time.Time // the replay clock
}

// ReplayOptions tunes a replay.
type ReplayOptions struct {
	// Workers decode files in parallel; the detector runs on the caller's
	// goroutine.
	Workers int
	// Progress, when set, is called after each file.
	Progress func(Progress)
}

// Target is what a replay feeds: a *detector.Engine, or several Engines
// and trails behind one front (cmd/trailsight composes them).
type Target interface {
	// Advance moves the clock to the delivery time of the data about to
	// be observed.
	Advance(ctx context.Context, now time.Time) error
	// Observe takes one record. ev.Raw is valid during the call only.
	Observe(ev *cloudtrail.Event) detector.Result
	// Flush sends what is pending once the input ends.
	Flush(ctx context.Context) error
}

var _ Target = (*detector.Engine)(nil)

// Replay feeds files to the engine in delivery order. Before a file's events
// are observed, the engine's clock moves to the file's delivery time, so the
// minutes behind its watermark are evaluated exactly as a live service would
// have evaluated them when the file arrived. A file that cannot be read is
// counted and skipped; a bad record is counted and skipped.
func Replay(ctx context.Context, files []File, e Target, opt ReplayOptions) (ReplayStats, error) {
	st := ReplayStats{Invalid: map[string]int{}}
	var newest time.Time
	err := ReadFiles(ctx, files, opt.Workers, func(b *Batch) error {
		st.Files++
		switch b.File.Kind {
		case cloudtrail.FileDigest:
			st.DigestFiles++
			return nil
		case cloudtrail.FileInsight:
			st.InsightFiles++
			return nil
		}
		st.Bytes += b.Bytes
		if b.Err != nil {
			st.FilesFailed++
		}
		if b.Stats.Digest {
			st.DigestFiles++
		}
		for r, n := range b.Invalid {
			st.Invalid[r.String()] += n
		}
		if d := b.File.Delivery; !d.IsZero() {
			if d.After(newest) {
				newest = d
			}
			if err := e.Advance(ctx, d); err != nil {
				return err
			}
		}
		for i := range b.Events {
			e.Observe(&b.Events[i])
			st.Records++
			if t := time.Unix(b.Events[i].EventTime, 0); b.File.Delivery.IsZero() && t.After(newest) {
				newest = t
			}
		}
		// Advancing again at the same time runs the windowed early spike
		// tests on the minutes this file filled, so a Start is dated at
		// the delivery of the file that holds its evidence, not at the
		// next file's.
		at := b.File.Delivery
		if at.IsZero() {
			at = newest
		}
		if err := e.Advance(ctx, at); err != nil {
			return err
		}
		if opt.Progress != nil {
			opt.Progress(Progress{Files: st.Files, Total: len(files), Records: st.Records, Position: newest})
		}
		return nil
	})
	if err != nil {
		return st, err
	}
	st.Newest = newest.UTC()
	return st, e.Flush(ctx)
}
