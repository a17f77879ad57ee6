package datasets

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	_ "time/tzdata" // time zones must not depend on the host: output is byte-identical everywhere
)

// Generate writes the dataset cfg describes under outDir (which must not
// already hold one) and returns its manifest, also written to
// outDir/labels.json. The same Config gives byte-identical output whatever
// the machine or cfg.Workers.
func Generate(cfg Config, outDir string) (*Manifest, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("datasets: config: %w", err)
	}
	cfg.Start = cfg.Start.UTC()
	for _, p := range []string{"AWSLogs", ManifestFile} {
		if _, err := os.Stat(filepath.Join(outDir, p)); err == nil {
			return nil, fmt.Errorf("datasets: %s already holds a dataset (%s); use an empty directory", outDir, p)
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("datasets: %w", err)
		}
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("datasets: %w", err)
	}
	g := &gen{cfg: &cfg, cat: newCatalog()}

	// One stream per account+Region; account-level incidents go to one of
	// the account's streams.
	var streams []*stream
	var extra [][]string
	var skipped []string
	for ai := range cfg.Accounts {
		acct := &cfg.Accounts[ai]
		first := len(streams)
		for ri := range acct.Regions {
			streams = append(streams, newStream(g, acct, ri))
			extra = append(extra, nil)
		}
		r := newRand(cfg.Seed, cfg.Preset, acct.ID, "account-plan")
		for _, k := range accountKinds {
			for range cfg.PerAccount[k] {
				target := r.IntN(len(acct.Regions))
				if k == KindIAMBurst {
					target = slices.IndexFunc(acct.Regions, func(r RegionSpec) bool { return r.Name == "us-east-1" })
				}
				if target < 0 {
					skipped = append(skipped, fmt.Sprintf("%s %s: IAM is recorded in us-east-1, which the account lacks", acct.ID, k))
					continue
				}
				extra[first+target] = append(extra[first+target], k)
			}
		}
	}
	workers := cmp.Or(cfg.Workers, runtime.GOMAXPROCS(0))

	if err := parallel(len(streams), workers, func(int) func(int) error {
		return func(i int) error { streams[i].run(extra[i]); return nil }
	}); err != nil {
		return nil, err
	}

	var jobs []fileJob
	for _, s := range streams {
		jobs = append(jobs, s.files()...)
	}
	dirs := map[string]bool{}
	for i := range jobs {
		dirs[fileDir(jobs[i].s, jobs[i].minute)] = true
	}
	for _, d := range slices.Sorted(maps.Keys(dirs)) {
		if err := os.MkdirAll(filepath.Join(outDir, d), 0o755); err != nil {
			return nil, fmt.Errorf("datasets: %w", err)
		}
	}
	results := make([]fileResult, len(jobs))
	if err := parallel(len(jobs), workers, func(int) func(int) error {
		w := newWriter(outDir)
		return func(i int) (err error) {
			results[i], err = w.write(&jobs[i], i)
			return err
		}
	}); err != nil {
		return nil, fmt.Errorf("datasets: %w", err)
	}

	m := &Manifest{
		Dataset: cmp.Or(cfg.Preset, "custom"), GeneratorVersion: GeneratorVersion, Seed: cfg.Seed,
		Start: cfg.Start, End: cfg.end(), WarmupEnd: cfg.warmupEnd(),
		Counts: Counts{Kinds: map[string]KindCount{}, Skipped: skipped},
	}
	for _, a := range cfg.Accounts {
		ai := AccountInfo{ID: a.ID, Name: a.Name, TimeZone: a.TimeZone}
		for _, r := range a.Regions {
			ai.Regions = append(ai.Regions, r.Name)
		}
		m.Accounts = append(m.Accounts, ai)
	}
	for _, k := range Kinds() {
		m.Counts.Kinds[k] = KindCount{}
	}
	for _, s := range streams {
		m.Labels = append(m.Labels, s.labels...)
		m.Counts.Skipped = append(m.Counts.Skipped, s.skipped...)
		for k, kc := range s.kinds {
			t := m.Counts.Kinds[k]
			t.Incidents += kc.Incidents
			t.Labels += kc.Labels
			t.Events += kc.Events
			m.Counts.Kinds[k] = t
		}
		for i := range s.events {
			e := &s.events[i]
			a := g.cat.apis[e.api]
			switch {
			case a.data:
				m.Counts.DataEvents++
			case a.readOnly:
				m.Counts.ManagementReads++
			default:
				m.Counts.ManagementWrites++
			}
			if e.err != 0 {
				m.Counts.Errors++
			}
		}
		m.Counts.UniqueEvents += int64(len(s.events))
	}
	for _, r := range results {
		m.Counts.Events += r.records
		m.Counts.JSONBytes += r.jsonBytes
		m.Counts.Bytes += r.gzBytes
	}
	m.Counts.Files = int64(len(jobs))
	sortLabels(m.Labels)
	if err := m.write(outDir); err != nil {
		return nil, fmt.Errorf("datasets: %w", err)
	}
	return m, nil
}

// run generates the stream: normal traffic, then the planted incidents.
func (s *stream) run(accountKinds []string) {
	cfg := s.g.cfg
	c := s.build()
	for range cfg.PerRegion[KindLevelShift] {
		s.planLevelShift()
	}
	s.generateNormal(c)
	s.sortEvents()
	for _, k := range regionKinds {
		for range cfg.PerRegion[k] {
			s.plant(k, c)
		}
	}
	for _, k := range accountKinds {
		s.plant(k, c)
	}
	s.sortEvents()
}

// sortLabels orders labels by start, account, Region and key, and names
// them <account>-<region>-<n>.
func sortLabels(ls []Label) {
	slices.SortStableFunc(ls, func(a, b Label) int {
		return cmp.Or(a.Start.Compare(b.Start), cmp.Compare(a.Account, b.Account), cmp.Compare(a.Region, b.Region),
			cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.EventSource, b.EventSource), cmp.Compare(a.EventName, b.EventName))
	})
	seq := map[string]int{}
	for i := range ls {
		k := ls[i].Account + "-" + ls[i].Region
		seq[k]++
		ls[i].ID = fmt.Sprintf("%s-%03d", k, seq[k])
	}
}

// parallel runs n tasks on up to workers goroutines. newWorker is called
// once per goroutine and returns the function that runs task i. The first
// error stops the remaining tasks and is returned.
func parallel(n, workers int, newWorker func(g int) func(i int) error) error {
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error
		failed   atomic.Bool
	)
	for g := range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			task := newWorker(g)
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := task(i); err != nil {
					once.Do(func() { firstErr = err })
					failed.Store(true)
				}
			}
		}()
	}
	wg.Wait()
	return firstErr
}
