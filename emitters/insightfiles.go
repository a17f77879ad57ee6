package emitters

import (
	"bytes"
	"context"
	"slices"
	"time"

	"github.com/trailsight/trailsight/cloudtrail"
	"github.com/trailsight/trailsight/detector"
	"github.com/trailsight/trailsight/internal/objstore"
)

// ObjectWriter is where emitters put objects: an *S3 (retries and a
// spool), or an objstore.Store directly (a local directory).
type ObjectWriter interface {
	Put(ctx context.Context, key string, body []byte, meta map[string]string) error
}

// InsightFiles writes Insights files in the trail layout (spec §4.1):
// AWSLogs/<acct>/CloudTrail-Insight/<region>/YYYY/MM/DD/
// <acct>_CloudTrail-Insight_<region>_<YYYYMMDDTHHmmZ>_<unique>.json.gz.
//
// Records are grouped per account and Region and flushed at most once per
// minute of the engine clock (spec §2.9 #10): a file's name minute is the
// minute its records were produced, the simulated delivery time in a replay.
type InsightFiles struct {
	w      ObjectWriter
	prefix cloudtrail.KeyPrefix

	minute  time.Time // the minute being collected
	pending map[[2]string][][]byte
	order   [][2]string

	// Written lists the keys written, relative to root, in order.
	Written []string
	// Records counts the Insights records written.
	Records int
}

var _ detector.Sink = (*InsightFiles)(nil)

// NewInsightFiles returns an InsightFiles writing through w.
func NewInsightFiles(w ObjectWriter, prefix cloudtrail.KeyPrefix) *InsightFiles {
	return &InsightFiles{w: w, prefix: prefix, pending: map[[2]string][][]byte{}}
}

// NewDir returns an InsightFiles writing under the local directory root.
func NewDir(root string, prefix cloudtrail.KeyPrefix) *InsightFiles {
	return NewInsightFiles(objstore.NewDir(root, ""), prefix)
}

// Emit buffers the records of batch and writes the files of every earlier
// minute.
func (d *InsightFiles) Emit(ctx context.Context, batch []detector.Insight) error {
	for i := range batch {
		in := &batch[i]
		m := in.Emitted.Truncate(time.Minute)
		if !m.Equal(d.minute) {
			if err := d.Flush(ctx); err != nil {
				return err
			}
			d.minute = m
		}
		r := in.Record()
		k := [2]string{r.RecipientAccountID, r.AWSRegion}
		if _, ok := d.pending[k]; !ok {
			d.order = append(d.order, k)
		}
		rec := r.AppendJSON(nil)
		// A caller retrying a failed Emit sends records already buffered.
		if slices.ContainsFunc(d.pending[k], func(p []byte) bool { return bytes.Equal(p, rec) }) {
			continue
		}
		d.pending[k] = append(d.pending[k], rec)
	}
	return nil
}

// Flush writes the buffered records, one file per account and Region.
func (d *InsightFiles) Flush(ctx context.Context) error {
	for i, k := range d.order {
		body := cloudtrail.EncodeRecordsFile(d.pending[k])
		key := cloudtrail.InsightFileKey(d.prefix, k[0], k[1], d.minute, cloudtrail.UniqueFromBody(body))
		if err := d.w.Put(ctx, key, body, nil); err != nil {
			// Keep what is not written yet for a retry.
			d.order = append(d.order[:0], d.order[i:]...)
			return err
		}
		d.Written = append(d.Written, key)
		d.Records += len(d.pending[k])
		delete(d.pending, k)
	}
	d.order = d.order[:0]
	return nil
}

// Close writes what is still buffered.
func (d *InsightFiles) Close(ctx context.Context) error { return d.Flush(ctx) }
