package consumers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/trailsight/trailsight/cloudtrail"
)

// datasetManifest is the labels file a labelled dataset (package datasets)
// keeps beside its trail; it is no trail file.
const datasetManifest = "labels.json"

// File is one input file of a replay.
type File struct {
	Path     string
	Kind     cloudtrail.FileKind
	Delivery time.Time // from the file name; zero when it has none
}

// ListFiles expands paths (files or directory trees of any depth) into the
// files of a replay, in delivery order: by the delivery time in the file
// name, then by path. Files without a time in their name keep their place
// after the timed ones, by path. "-" stands for standard input and is
// returned as is.
func ListFiles(paths []string) ([]File, error) {
	var out []File
	for _, p := range paths {
		if p == "-" {
			out = append(out, File{Path: "-", Kind: cloudtrail.FileLog})
			continue
		}
		info, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			out = append(out, fileOf(p))
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Name()[0] == '.' && path != p {
				if d.IsDir() {
					return filepath.SkipDir // .git and the like
				}
				return nil
			}
			if d.IsDir() || d.Name() == datasetManifest {
				return nil
			}
			f := fileOf(path)
			if f.Kind == cloudtrail.FileOther {
				return nil
			}
			out = append(out, f)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Delivery.IsZero() != b.Delivery.IsZero() {
			return !a.Delivery.IsZero()
		}
		if !a.Delivery.Equal(b.Delivery) {
			return a.Delivery.Before(b.Delivery)
		}
		return a.Path < b.Path
	})
	return out, nil
}

func fileOf(path string) File {
	f := File{Path: path, Kind: cloudtrail.ClassifyPath(path)}
	if t, ok := cloudtrail.DeliveryTime(filepath.Base(path)); ok {
		f.Delivery = t
	}
	return f
}

// Batch is the decoded content of one file.
type Batch struct {
	File   File
	Events []cloudtrail.Event
	Stats  cloudtrail.BodyStats
	// Invalid counts the records set aside, by reason.
	Invalid map[cloudtrail.Reason]int
	// Bytes is the file's size on disk.
	Bytes int64
	// Err is set when the whole file could not be read or decoded; the
	// replay counts it and goes on.
	Err error

	// The buffers behind Events, kept for the next file (ReadFiles
	// recycles batches): the file's bytes, which non-gzip records' Raw
	// alias, and the arena of gzip records' Raw.
	data  []byte
	arena []byte
	spans [][2]int
}

// reset empties b for the next file, keeping its buffers.
func (b *Batch) reset(f File) {
	*b = Batch{File: f, Events: b.Events[:0], data: b.data[:0], arena: b.arena[:0], spans: b.spans[:0]}
}

// MaxFileSize bounds what one input file may hold once inflated (a
// CloudTrail log file is at most 50 MB compressed).
const MaxFileSize = 1 << 30

// ReadFiles decodes files on workers goroutines and calls fn with each
// file's Batch in the order of files. fn runs on the calling goroutine.
// Digest and Insights files are passed through with no events.
//
// The Batch, its Events and their Raw are valid until fn returns: ReadFiles
// recycles batches, so decoding a file allocates next to nothing once the
// first few are read (the strings of an Event are its own and stay valid).
func ReadFiles(ctx context.Context, files []File, workers int, fn func(*Batch) error) error {
	if workers < 1 {
		workers = 1
	}
	type job struct {
		i    int
		done chan *Batch
	}
	jobs := make(chan job)
	// Results are handed over in order through a window of pending jobs,
	// so at most 2*workers decoded files are held at once; as many
	// batches, and one per worker at work, circulate through free.
	pending := make(chan job, 2*workers)
	free := make(chan *Batch, 3*workers+1)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dec := cloudtrail.NewDecoder()
			for j := range jobs {
				var b *Batch
				select {
				case b = <-free:
				default:
					b = &Batch{}
				}
				readFile(dec, files[j.i], b)
				j.done <- b
			}
		}()
	}
	go func() {
		defer close(jobs)
		defer close(pending)
		for i := range files {
			j := job{i: i, done: make(chan *Batch, 1)}
			select {
			case pending <- j:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- j:
			case <-ctx.Done():
				return
			}
		}
	}()
	var err error
	for j := range pending {
		select {
		case b := <-j.done:
			if err == nil && ctx.Err() == nil {
				if err = fn(b); err != nil {
					cancel()
				}
			}
			select {
			case free <- b:
			default:
			}
		case <-ctx.Done():
			// The producer may have stopped before handing j to a
			// worker, and then its result never comes.
		}
	}
	wg.Wait()
	if err == nil {
		err = ctx.Err()
	}
	return err
}

// readFile reads and decodes f into b.
func readFile(dec *cloudtrail.Decoder, f File, b *Batch) {
	b.reset(f)
	if f.Kind == cloudtrail.FileDigest || f.Kind == cloudtrail.FileInsight {
		return
	}
	var err error
	if f.Path == "-" {
		b.data, err = io.ReadAll(io.LimitReader(os.Stdin, MaxFileSize))
	} else {
		b.data, err = readLimited(f.Path, b.data)
	}
	if err != nil {
		b.Err = err
		return
	}
	b.Bytes = int64(len(b.data))
	b.Stats, b.Err = decodeInto(dec, b.data, b)
}

// readLimited reads the file at path into buf, grown as needed.
func readLimited(path string, buf []byte) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	w := bytes.NewBuffer(buf[:0])
	// The size is a hint (the file may change while it is read): one
	// allocation at most, when buf is too small.
	if fi, err := fh.Stat(); err == nil && fi.Size() < MaxFileSize {
		w.Grow(int(fi.Size()) + bytes.MinRead)
	}
	if _, err := w.ReadFrom(io.LimitReader(fh, MaxFileSize+1)); err != nil {
		return nil, err
	}
	if w.Len() > MaxFileSize {
		return nil, fmt.Errorf("read %s: larger than %d bytes", path, MaxFileSize)
	}
	return w.Bytes(), nil
}

// decodeInto decodes data into b.Events. Each Event's Raw stays valid as
// long as the Batch: it aliases data, which the Batch owns, or for a gzip
// file (whose records the Decoder inflates into a buffer it reuses) a copy
// in one arena per file.
func decodeInto(dec *cloudtrail.Decoder, data []byte, b *Batch) (cloudtrail.BodyStats, error) {
	gz := len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b
	st, err := dec.DecodeBody(data, func(ev *cloudtrail.Event) {
		if gz {
			b.spans = append(b.spans, [2]int{len(b.arena), len(b.arena) + len(ev.Raw)})
			b.arena = append(b.arena, ev.Raw...)
		}
		b.Events = append(b.Events, *ev)
	}, func(de cloudtrail.DecodeError) {
		if b.Invalid == nil {
			b.Invalid = map[cloudtrail.Reason]int{}
		}
		b.Invalid[de.Reason]++
	})
	var de *cloudtrail.DecodeError
	if err != nil && errors.As(err, &de) {
		if b.Invalid == nil {
			b.Invalid = map[cloudtrail.Reason]int{}
		}
		b.Invalid[de.Reason]++
	}
	for i, sp := range b.spans {
		b.Events[i].Raw = b.arena[sp[0]:sp[1]:sp[1]]
	}
	return st, err
}
