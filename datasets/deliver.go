package datasets

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/cespare/xxhash/v2"
)

// fileJob is one log file to write: the events it holds and when it is
// delivered.
type fileJob struct {
	s      *stream
	minute int64   // delivery minute, Unix seconds
	events []int32 // indices into s.events
}

// slipPercent is the share of records that miss their 5-minute file and
// arrive in the next one, as CloudTrail records near a boundary do.
const slipPercent = 1

// files assigns the stream's events to delivered files. Events of
// [t, t+5m) go into one file named with the delivery minute t+5m plus 0-4
// minutes; late stretches and duplicated stretches are applied here.
func (s *stream) files() []fileJob {
	nWin := (s.minutes + 4) / 5
	byWin := make([][]int32, nWin+1)
	hs := hashString(s.acct.ID+"/"+s.region, uint64(s.g.cfg.Seed))
	for i := range s.events {
		e := &s.events[i]
		w := s.minuteOf(e.t) / 5
		_, late := s.late[w]
		_, nextLate := s.late[w+1]
		if !late && !nextLate && mix2(e.seed, saltSlip)%100 < slipPercent {
			w++
		}
		byWin[w] = append(byWin[w], int32(i))
	}
	// deliver is the delivery minute (from minute 0) of window w's file.
	deliver := func(w int) int64 { return int64(w+1)*5 + int64(mix2(hs, uint64(w))%5) + int64(s.late[w]) }
	var jobs []fileJob
	for w, idx := range byWin {
		if len(idx) == 0 {
			continue
		}
		jobs = append(jobs, fileJob{s: s, minute: s.start + deliver(w)*60, events: idx})
	}
	for _, dw := range s.dups {
		lo, hi := s.start+int64(dw.from)*60, s.start+int64(dw.to)*60
		i, _ := slices.BinarySearchFunc(s.events, lo, func(e event, t int64) int { return cmp.Compare(e.t, t) })
		var idx []int32
		for ; i < len(s.events) && s.events[i].t < hi; i++ {
			idx = append(idx, int32(i))
		}
		if len(idx) == 0 {
			continue
		}
		last := (dw.to - 1) / 5 // the last regular file holding the stretch
		jobs = append(jobs, fileJob{s: s, minute: s.start + (deliver(last)+int64(dw.delay))*60, events: idx})
	}
	slices.SortStableFunc(jobs, func(a, b fileJob) int {
		return cmp.Or(cmp.Compare(a.minute, b.minute), cmp.Compare(a.events[0], b.events[0]))
	})
	return jobs
}

// fileResult is what writing one file produced.
type fileResult struct {
	records, jsonBytes, gzBytes int64
}

// writer renders and writes files; one per goroutine.
type writer struct {
	outDir string
	body   []byte
	gz     *gzip.Writer
	buf    bytes.Buffer
	rd     renderer
}

func newWriter(outDir string) *writer {
	gz, _ := gzip.NewWriterLevel(nil, gzip.DefaultCompression)
	return &writer{outDir: outDir, gz: gz}
}

// fileDir returns the directory of a file delivered at minute (Unix s).
func fileDir(s *stream, minute int64) string {
	t := time.Unix(minute, 0).UTC()
	return filepath.Join("AWSLogs", s.acct.ID, "CloudTrail", s.region, t.Format("2006"), t.Format("01"), t.Format("02"))
}

// write renders job, names it from a hash of its body and writes it.
func (w *writer) write(job *fileJob, seq int) (fileResult, error) {
	s := job.s
	w.rd.s = s
	// CloudTrail records are in no particular order within a file.
	sh := rand.New(rand.NewPCG(hashString(s.acct.ID+s.region, uint64(job.minute)), uint64(seq)))
	idx := job.events
	sh.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
	b := append(w.body[:0], `{"Records":[`...)
	for i, k := range idx {
		if i > 0 {
			b = append(b, ',')
		}
		b = w.rd.appendRecord(b, &s.events[k])
	}
	b = append(b, "]}"...)
	w.body = b

	t := time.Unix(job.minute, 0).UTC()
	prefix := fmt.Sprintf("%s_CloudTrail_%s_%s_", s.acct.ID, s.region, t.Format("20060102T1504Z"))
	h1 := xxhash.Sum64(b)
	h2 := xxhash.Sum64String(prefix + fmt.Sprint(h1, seq))
	name := string(appendChars(appendChars([]byte(prefix), h1, 8, base62), h2, 8, base62)) + ".json.gz"

	w.buf.Reset()
	w.gz.Reset(&w.buf)
	if _, err := w.gz.Write(b); err != nil {
		return fileResult{}, fmt.Errorf("compress %s: %w", name, err)
	}
	if err := w.gz.Close(); err != nil {
		return fileResult{}, fmt.Errorf("compress %s: %w", name, err)
	}
	path := filepath.Join(w.outDir, fileDir(s, job.minute), name)
	if err := os.WriteFile(path, w.buf.Bytes(), 0o644); err != nil {
		return fileResult{}, fmt.Errorf("write log file: %w", err)
	}
	return fileResult{records: int64(len(idx)), jsonBytes: int64(len(b)), gzBytes: int64(w.buf.Len())}, nil
}
