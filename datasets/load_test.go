package datasets

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"
)

// testRecord holds the fields the tests inspect.
type testRecord struct {
	EventVersion       string
	EventTime          time.Time
	EventSource        string
	EventName          string
	AWSRegion          string `json:"awsRegion"`
	RecipientAccountID string `json:"recipientAccountId"`
	EventType          string
	EventCategory      string
	EventID            string
	RequestID          string
	ErrorCode          string
	ErrorMessage       string
	UserAgent          string
	SourceIPAddress    string
	ReadOnly           *bool
	ManagementEvent    *bool
	UserIdentity       struct {
		Type      string
		Arn       string
		AccountID string `json:"accountId"`
	}
	RequestParameters json.RawMessage
	ResponseElements  json.RawMessage
	Addendum          *struct{ Reason string }

	size int
}

// testFile is one delivered log file.
type testFile struct {
	rel      string // path below the dataset directory
	account  string
	region   string
	dirDate  string // YYYY/MM/DD from the path
	delivery time.Time
	records  []testRecord
}

var keyRE = regexp.MustCompile(`^AWSLogs/(\d{12})/CloudTrail/([a-z0-9-]+)/(\d{4}/\d{2}/\d{2})/(\d{12})_CloudTrail_([a-z0-9-]+)_(\d{8}T\d{4}Z)_([A-Za-z0-9]{16})\.json\.gz$`)

// loadFiles reads and decodes every log file of a dataset, checking the
// layout and encoding as it goes.
func loadFiles(t testing.TB, dir string) []testFile {
	t.Helper()
	var files []testFile
	err := filepath.WalkDir(filepath.Join(dir, "AWSLogs"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		rel = filepath.ToSlash(rel)
		m := keyRE.FindStringSubmatch(rel)
		if m == nil {
			t.Fatalf("key %q does not match the CloudTrail log key layout", rel)
		}
		if m[1] != m[4] || m[2] != m[5] {
			t.Fatalf("key %q: account or Region in the name differ from the folders", rel)
		}
		delivery, err := time.Parse("20060102T1504Z", m[6])
		if err != nil {
			t.Fatalf("key %q: %v", rel, err)
		}
		if got := delivery.Format("2006/01/02"); got != m[3] {
			t.Fatalf("key %q: folder date %s, want the delivery date %s", rel, m[3], got)
		}
		gzBytes, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		zr, err := gzip.NewReader(bytes.NewReader(gzBytes))
		if err != nil {
			t.Fatalf("%s: not gzip: %v", rel, err)
		}
		body, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("%s: bad gzip stream: %v", rel, err)
		}
		if !bytes.HasPrefix(body, []byte(`{"Records":[`)) {
			t.Fatalf("%s: body does not start with the Records key: %.40s", rel, body)
		}
		var doc struct{ Records []json.RawMessage }
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatalf("%s: invalid JSON: %v", rel, err)
		}
		if len(doc.Records) == 0 {
			t.Fatalf("%s: empty file", rel)
		}
		f := testFile{rel: rel, account: m[1], region: m[2], dirDate: m[3], delivery: delivery}
		for _, raw := range doc.Records {
			var r testRecord
			if err := json.Unmarshal(raw, &r); err != nil {
				t.Fatalf("%s: record %.80s: %v", rel, raw, err)
			}
			r.size = len(raw)
			f.records = append(f.records, r)
		}
		files = append(files, f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("%s: no log files", dir)
	}
	return files
}

// unique returns the records once each (first copy of duplicated eventIDs).
func unique(files []testFile) []testRecord {
	seen := map[string]bool{}
	var out []testRecord
	for _, f := range files {
		for _, r := range f.records {
			if !seen[r.EventID] {
				seen[r.EventID] = true
				out = append(out, r)
			}
		}
	}
	slices.SortFunc(out, func(a, b testRecord) int { return a.EventTime.Compare(b.EventTime) })
	return out
}

var monday = time.Date(2026, time.January, 5, 0, 0, 0, 0, time.UTC)

// labelledConfig is a small dataset with every kind planted: one account,
// us-east-1, 7 warm-up days and two days of incidents.
func labelledConfig() Config {
	per := map[string]int{KindLevelShift: 1}
	for _, k := range regionKinds {
		per[k] = 1
	}
	return Config{
		Seed: 7, Start: monday, Days: 9, WarmupDays: 7,
		Accounts: []AccountSpec{{ID: "123456789012", Name: "test-prod", TimeZone: "America/Chicago", Humans: 10,
			Regions: []RegionSpec{{"us-east-1", 0.3}}}},
		PerRegion:  per,
		PerAccount: map[string]int{KindIAMBurst: 1, KindTrapDuplicate: 1, KindTrapLate: 1},
	}
}

// fixture is a dataset generated once and shared by several tests.
type fixture struct {
	once  sync.Once
	cfg   func() Config
	dir   string
	m     *Manifest
	files []testFile
	err   error
}

var (
	fixtureRoot string
	tinyFix     = &fixture{cfg: func() Config { c, _ := Preset("tiny"); return c }}
	labelledFix = &fixture{cfg: labelledConfig}
)

func (f *fixture) get(t *testing.T) (string, *Manifest, []testFile) {
	t.Helper()
	f.once.Do(func() {
		f.dir, f.err = os.MkdirTemp(fixtureRoot, "dataset-")
		if f.err != nil {
			return
		}
		f.m, f.err = Generate(f.cfg(), f.dir)
		if f.err == nil {
			f.files = loadFiles(t, f.dir)
		}
	})
	if f.err != nil {
		t.Fatal(f.err)
	}
	return f.dir, f.m, f.files
}

func TestMain(m *testing.M) {
	var err error
	fixtureRoot, err = os.MkdirTemp("", "trailsight-datasets-")
	if err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(fixtureRoot)
	os.Exit(code)
}
