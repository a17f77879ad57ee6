package emitters

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/trailsight/trailsight/cloudtrail"
	"github.com/trailsight/trailsight/detector"
)

// Dir writes Insights files into a local directory in the trail layout
// (spec §4.1): AWSLogs/<acct>/CloudTrail-Insight/<region>/YYYY/MM/DD/
// <acct>_CloudTrail-Insight_<region>_<YYYYMMDDTHHmmZ>_<unique>.json.gz.
//
// Records are grouped per account and Region and flushed at most once per
// minute of the engine clock (spec §2.9 #10): a file's name minute is the
// minute its records were produced, the simulated delivery time in a replay.
type Dir struct {
	root   string
	prefix cloudtrail.KeyPrefix

	minute  time.Time // the minute being collected
	pending map[[2]string][][]byte
	order   [][2]string

	// Written lists the keys written, relative to root, in order.
	Written []string
	// Records counts the Insights records written.
	Records int
}

var _ detector.Sink = (*Dir)(nil)

// NewDir returns a Dir writing under root.
func NewDir(root string, prefix cloudtrail.KeyPrefix) *Dir {
	return &Dir{root: root, prefix: prefix, pending: map[[2]string][][]byte{}}
}

// Emit buffers the records of batch and writes the files of every earlier
// minute.
func (d *Dir) Emit(ctx context.Context, batch []detector.Insight) error {
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
func (d *Dir) Flush(_ context.Context) error {
	for i, k := range d.order {
		body := cloudtrail.EncodeRecordsFile(d.pending[k])
		key := cloudtrail.InsightFileKey(d.prefix, k[0], k[1], d.minute, cloudtrail.UniqueFromBody(body))
		if err := writeAtomic(filepath.Join(d.root, filepath.FromSlash(key)), body); err != nil {
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
func (d *Dir) Close(ctx context.Context) error { return d.Flush(ctx) }

// writeAtomic writes through a temporary file and a rename, so a crash
// never leaves a partial file under the final name.
func writeAtomic(path string, body []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, err = tmp.Write(body)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
