package datasets

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/trailsight/trailsight/cloudtrail"
)

func TestPresets(t *testing.T) {
	for _, name := range Presets() {
		cfg, err := Preset(name)
		if err != nil {
			t.Fatalf("Preset(%q): %v", name, err)
		}
		if err := cfg.Validate(); err != nil {
			t.Errorf("Preset(%q).Validate() = %v", name, err)
		}
		if cfg.Preset != name {
			t.Errorf("Preset(%q).Preset = %q", name, cfg.Preset)
		}
	}
	std, _ := Preset("standard")
	zones := map[string]bool{}
	for _, a := range std.Accounts {
		zones[a.TimeZone] = true
		if len(a.Regions) != 2 {
			t.Errorf("standard account %s has %d Regions, want 2", a.ID, len(a.Regions))
		}
	}
	if len(std.Accounts) < 4 || len(zones) != len(std.Accounts) || std.Days != 10 || std.WarmupDays != 7 {
		t.Errorf("standard: %d accounts in %d zones, %d days, %d warm-up days; want >= 4 accounts, one zone each, 10 and 7",
			len(std.Accounts), len(zones), std.Days, std.WarmupDays)
	}
	demo, _ := Preset("demo")
	if len(demo.Accounts) != 1 || len(demo.Accounts[0].Regions) != 1 || demo.Days != 8 || demo.WarmupDays != 7 {
		t.Errorf("demo: want 1 account x 1 Region x 8 days with anomalies on the last day, got %+v", demo)
	}
	if _, err := Preset("huge"); !errors.Is(err, ErrUnknownPreset) {
		t.Errorf("Preset(huge) error = %v, want ErrUnknownPreset", err)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		modify func(*Config)
		want   string // substring of the error; "" = valid
	}{
		{"tiny", func(*Config) {}, ""},
		{"tuesday", func(c *Config) { c.Start = c.Start.AddDate(0, 0, 1) }, "Monday"},
		{"not midnight", func(c *Config) { c.Start = c.Start.Add(time.Hour) }, "Monday, 00:00 UTC"},
		{"warm-up too long", func(c *Config) { c.WarmupDays = c.Days }, "warmup_days"},
		{"no days", func(c *Config) { c.Days = 0 }, "days=0"},
		{"short account id", func(c *Config) { c.Accounts[0].ID = "1234" }, "12 digits"},
		{"bad zone", func(c *Config) { c.Accounts[0].TimeZone = "Mars/Olympus" }, "IANA"},
		{"no Regions", func(c *Config) { c.Accounts[0].Regions = nil }, "at least one Region"},
		{"bad Region", func(c *Config) { c.Accounts[0].Regions[0].Name = "US East" }, "Region name"},
		{"unknown kind", func(c *Config) { c.PerRegion["bogus"] = 1 }, "per_region"},
		{"account kind per Region", func(c *Config) { c.PerRegion[KindIAMBurst] = 1 }, "per_region"},
		{"negative count", func(c *Config) { c.PerAccount[KindTrapLate] = -1 }, "per_account"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, _ := Preset("tiny")
			tc.modify(&cfg)
			err := cfg.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Validate() = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// hashTree returns the SHA-256 of every file under dir, by relative path.
func hashTree(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	out := map[string][32]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		out[rel] = sha256.Sum256(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDeterminism(t *testing.T) {
	dir, _, _ := tinyFix.get(t)
	cfg, _ := Preset("tiny")
	cfg.Workers = 1 // the fixture ran with GOMAXPROCS workers
	again := t.TempDir()
	if _, err := Generate(cfg, again); err != nil {
		t.Fatal(err)
	}
	a, b := hashTree(t, dir), hashTree(t, again)
	if len(a) < 100 {
		t.Fatalf("only %d files generated", len(a))
	}
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("two runs with the same seed differ (-first +second):\n%.2000s", diff)
	}

	cfg.Seed = 2
	cfg.Days, cfg.WarmupDays = 1, 0
	cfg.PerRegion, cfg.PerAccount = nil, nil
	other := t.TempDir()
	if _, err := Generate(cfg, other); err != nil {
		t.Fatal(err)
	}
	same := 0
	for k, h := range hashTree(t, other) {
		if a[k] == h {
			same++
		}
	}
	if same > 0 {
		t.Errorf("%d files identical under another seed", same)
	}
}

func TestGenerateRefusesExistingDataset(t *testing.T) {
	dir, _, _ := tinyFix.get(t)
	cfg, _ := Preset("tiny")
	if _, err := Generate(cfg, dir); err == nil || !strings.Contains(err.Error(), "already holds a dataset") {
		t.Errorf("Generate into an existing dataset: err = %v", err)
	}
}

func TestLoadManifest(t *testing.T) {
	dir, m, _ := tinyFix.get(t)
	got, err := LoadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(m, got); diff != "" {
		t.Errorf("LoadManifest differs from Generate's manifest (-generated +loaded):\n%s", diff)
	}
	// The JSON keys other tools rely on.
	raw, _ := os.ReadFile(filepath.Join(dir, ManifestFile))
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"dataset", "seed", "start", "end", "warmup_end", "accounts", "counts", "labels"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("labels.json lacks %q", k)
		}
	}
	var labels []map[string]any
	_ = json.Unmarshal(doc["labels"], &labels)
	for _, k := range []string{"id", "account", "region", "event_source", "event_name", "type", "kind", "trap", "start", "end"} {
		if _, ok := labels[0][k]; !ok {
			t.Errorf("label lacks %q: %v", k, labels[0])
		}
	}
	if m.Counts.Files == 0 || m.Counts.Events < m.Counts.UniqueEvents || m.Counts.Bytes == 0 {
		t.Errorf("implausible counts: %+v", m.Counts)
	}
}

func TestLayout(t *testing.T) {
	_, m, files := tinyFix.get(t)
	var records int64
	shuffled := false
	for _, f := range files {
		newest := f.records[0].EventTime
		for i, r := range f.records {
			records++
			if r.RecipientAccountID != f.account || r.AWSRegion != f.region {
				t.Fatalf("%s holds a record of %s %s", f.rel, r.RecipientAccountID, r.AWSRegion)
			}
			if r.EventTime.After(newest) {
				newest = r.EventTime
			}
			if i > 0 && r.EventTime.Before(f.records[i-1].EventTime) {
				shuffled = true
			}
		}
		if f.delivery.Before(newest) {
			t.Errorf("%s delivered at %s before its newest record (%s)", f.rel, f.delivery, newest)
		}
	}
	if records != m.Counts.Events || int64(len(files)) != m.Counts.Files {
		t.Errorf("manifest counts %d records in %d files; found %d in %d", m.Counts.Events, m.Counts.Files, records, len(files))
	}
	if !shuffled {
		t.Error("records are sorted by time in every file; CloudTrail files are unordered")
	}
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestRecords(t *testing.T) {
	_, _, files := labelledFix.get(t)
	recs := unique(files)
	globalSources := map[string]bool{"iam.amazonaws.com": true, "sts.amazonaws.com": true, "signin.amazonaws.com": true, "route53.amazonaws.com": true}
	types := map[string]int{}
	var size int
	for _, r := range recs {
		size += r.size
		types[r.EventType]++
		where := r.EventSource + " " + r.EventName + " " + r.EventID
		if r.EventVersion != "1.08" && r.EventVersion != "1.09" {
			t.Fatalf("%s: eventVersion %q", where, r.EventVersion)
		}
		if !uuidRE.MatchString(r.EventID) || r.RequestID == "" {
			t.Fatalf("%s: eventID %q, requestID %q", where, r.EventID, r.RequestID)
		}
		if r.ReadOnly == nil || r.ManagementEvent == nil {
			t.Fatalf("%s: readOnly or managementEvent missing", where)
		}
		ro, name := *r.ReadOnly, r.EventName
		conventional := strings.HasPrefix(name, "Describe") || strings.HasPrefix(name, "List") || strings.HasPrefix(name, "Get") || name == "HeadObject"
		switch {
		case name == "GetSessionToken" || name == "GetFederationToken":
			if ro {
				t.Fatalf("%s: STS %s must be a write", where, name)
			}
		case conventional && !ro:
			t.Fatalf("%s: a Describe/List/Get call with readOnly false", where)
		case !conventional && ro && !slices.Contains([]string{"AssumeRole", "Decrypt", "GenerateDataKey", "Encrypt", "BatchGetImage"}, name):
			t.Fatalf("%s: readOnly true on a call that changes state", where)
		}
		if (ro || r.ErrorCode != "") && string(r.ResponseElements) != "null" {
			t.Fatalf("%s: read-only or failed call with responseElements %s", where, r.ResponseElements)
		}
		data := r.EventCategory == "Data"
		if data == *r.ManagementEvent || (!data && r.EventCategory != "Management") {
			t.Fatalf("%s: eventCategory %q with managementEvent %v", where, r.EventCategory, *r.ManagementEvent)
		}
		if data && r.EventSource != "s3.amazonaws.com" {
			t.Fatalf("%s: unexpected data event", where)
		}
		if globalSources[r.EventSource] && r.AWSRegion != "us-east-1" {
			t.Fatalf("%s: global service recorded in %s", where, r.AWSRegion)
		}
		if r.UserAgent == "" || r.SourceIPAddress == "" {
			t.Fatalf("%s: no userAgent or sourceIPAddress", where)
		}
		acct := r.RecipientAccountID
		switch r.UserIdentity.Type {
		case "AssumedRole":
			if !strings.HasPrefix(r.UserIdentity.Arn, "arn:aws:sts::"+acct+":assumed-role/") {
				t.Fatalf("%s: assumed-role ARN %q", where, r.UserIdentity.Arn)
			}
		case "IAMUser":
			if !strings.HasPrefix(r.UserIdentity.Arn, "arn:aws:iam::"+acct+":user/") {
				t.Fatalf("%s: IAM user ARN %q", where, r.UserIdentity.Arn)
			}
		case "AWSService":
		case "":
			if r.EventType != "AwsServiceEvent" {
				t.Fatalf("%s: userIdentity without type", where)
			}
		default:
			t.Fatalf("%s: userIdentity type %q", where, r.UserIdentity.Type)
		}
		if r.ErrorCode != "" && r.ErrorMessage == "" && !slices.Contains([]string{"InvalidCiphertextException", "ParameterNotFound"}, r.ErrorCode) {
			t.Fatalf("%s: errorCode %s without errorMessage", where, r.ErrorCode)
		}
	}
	for _, typ := range []string{"AwsApiCall", "AwsConsoleSignIn", "AwsServiceEvent"} {
		if types[typ] == 0 {
			t.Errorf("no %s records", typ)
		}
	}
	if avg := size / len(recs); avg < 1200 || avg > 1800 {
		t.Errorf("average record size %d bytes, want 1200-1800 like real CloudTrail", avg)
	}
}

// TestNormalTraffic checks the shape of the warm-up week: mostly reads, data
// events, a small error rate on writes, and people working in their
// account's business hours.
func TestNormalTraffic(t *testing.T) {
	_, m, files := labelledFix.get(t)
	var writes, reads, data, writeErrs int
	// Hours in which each person used the console, on weekdays and at
	// weekends (local time).
	var console [2]map[string]bool
	console[0], console[1] = map[string]bool{}, map[string]bool{}
	loc, _ := time.LoadLocation(m.Accounts[0].TimeZone)
	for _, r := range unique(files) {
		if !r.EventTime.Before(m.WarmupEnd) {
			continue
		}
		if isConsole(r) {
			lt := r.EventTime.In(loc)
			weekend := 0
			if lt.Weekday() == time.Saturday || lt.Weekday() == time.Sunday {
				weekend = 1
			}
			console[weekend][r.UserIdentity.Arn+lt.Format(" 2006-01-02T15")] = true
		}
		switch {
		case r.EventCategory == "Data":
			data++
		case *r.ReadOnly:
			reads++
		default:
			writes++
			if r.ErrorCode != "" {
				writeErrs++
			}
		}
	}
	if reads < 2*writes || data == 0 {
		t.Errorf("warm-up: %d reads, %d writes, %d data events; want reads several times the writes", reads, writes, data)
	}
	if rate := float64(writeErrs) / float64(writes); rate < 0.001 || rate > 0.03 {
		t.Errorf("warm-up write error rate %.4f, want a small normal rate", rate)
	}
	if wd, we := len(console[0]), len(console[1]); wd == 0 || we*100 > 15*wd {
		t.Errorf("people used the console in %d weekday and %d weekend hours; weekends should be quiet", wd, we)
	}
}

// TestTimeZones generates two accounts half a world apart and checks that
// people's console activity peaks in each account's local working hours.
func TestTimeZones(t *testing.T) {
	zones := map[string]string{"100000000001": "Asia/Tokyo", "100000000002": "America/Los_Angeles"}
	cfg := Config{Seed: 3, Start: monday, Days: 2, WarmupDays: 0, Accounts: []AccountSpec{
		{ID: "100000000001", Name: "tz-tokyo", TimeZone: zones["100000000001"], Humans: 40, Regions: []RegionSpec{{"ap-northeast-1", 0.1}}},
		{ID: "100000000002", Name: "tz-la", TimeZone: zones["100000000002"], Humans: 40, Regions: []RegionSpec{{"us-west-2", 0.1}}},
	}}
	dir := t.TempDir()
	if _, err := Generate(cfg, dir); err != nil {
		t.Fatal(err)
	}
	hours := map[string]*[24]int{}
	for _, r := range unique(loadFiles(t, dir)) {
		if !isConsole(r) {
			continue
		}
		if hours[r.RecipientAccountID] == nil {
			hours[r.RecipientAccountID] = &[24]int{}
		}
		loc, _ := time.LoadLocation(zones[r.RecipientAccountID])
		hours[r.RecipientAccountID][r.EventTime.In(loc).Hour()]++
	}
	for acct := range zones {
		h := hours[acct]
		if h == nil {
			t.Fatalf("account %s: no console activity", acct)
		}
		var work, all int
		peak := 0
		for i, n := range h {
			all += n
			if i >= 8 && i < 18 {
				work += n
			}
			if n > h[peak] {
				peak = i
			}
		}
		if peak < 9 || peak > 17 || float64(work) < 0.75*float64(all) {
			t.Errorf("account %s: local console activity peaks at %02d:00 with %d of %d calls in 08-18h: %v", acct, peak, work, all, *h)
		}
	}
}

// isConsole reports whether a person made r in the console.
func isConsole(r testRecord) bool {
	return strings.Contains(r.UserAgent, "Mozilla/") || r.UserAgent == "console.amazonaws.com"
}

func TestLabels(t *testing.T) {
	_, m, _ := labelledFix.get(t)
	kinds := map[string]int{}
	for _, l := range m.Labels {
		kinds[l.Kind]++
		where := l.ID + " " + l.Kind
		if l.Start.Location() != time.UTC || l.Start.Second() != 0 || l.End.Second() != 0 {
			t.Errorf("%s: window %s-%s is not minute-aligned UTC", where, l.Start, l.End)
		}
		if !l.Start.Before(l.End) || l.Start.Before(m.WarmupEnd) || l.End.After(m.End) {
			t.Errorf("%s: window %s-%s outside [warm-up end %s, end %s]", where, l.Start, l.End, m.WarmupEnd, m.End)
		}
		if l.Trap != (l.Type == "") {
			t.Errorf("%s: trap %v with type %q", where, l.Trap, l.Type)
		}
		want := map[string]string{
			KindProvisioningSpike: cloudtrail.APICallRateInsight, KindIAMBurst: cloudtrail.APICallRateInsight,
			KindPeriodicGap: cloudtrail.APICallRateInsight, KindSteadyDrop: cloudtrail.APICallRateInsight,
			KindErrorSurgeWrite: cloudtrail.APIErrorRateInsight, KindErrorSurgeRead: cloudtrail.APIErrorRateInsight,
		}[l.Kind]
		if l.Type != want {
			t.Errorf("%s: type %q, want %q", where, l.Type, want)
		}
		if (l.ErrorCode != "") != (l.Type == cloudtrail.APIErrorRateInsight) {
			t.Errorf("%s: error code %q with type %q", where, l.ErrorCode, l.Type)
		}
		if l.Account != "123456789012" || l.Region != "us-east-1" || l.Group == "" || l.ID == "" {
			t.Errorf("%s: account %q Region %q group %q", where, l.Account, l.Region, l.Group)
		}
		if (l.EventName == "") != (l.Kind == KindTrapDuplicate || l.Kind == KindTrapLate) {
			t.Errorf("%s: API %q %q", where, l.EventSource, l.EventName)
		}
	}
	for _, k := range Kinds() {
		if kinds[k] == 0 {
			t.Errorf("no %s label (skipped: %v)", k, m.Counts.Skipped)
		}
		if m.Counts.Kinds[k].Labels != kinds[k] {
			t.Errorf("counts say %d %s labels, found %d", m.Counts.Kinds[k].Labels, k, kinds[k])
		}
	}
}

// keyCounts counts calls (or errors with a code) of one API per minute.
type keyCounts struct {
	calls, errs map[int64]int
}

func (k keyCounts) sum(m map[int64]int, from, to time.Time) int {
	var n int
	for t := from.Unix() / 60; t < to.Unix()/60; t++ {
		n += m[t]
	}
	return n
}

// TestPlantedAnomalies checks every label against the data: the labelled
// change is there when the window is compared with the same window a week
// earlier.
func TestPlantedAnomalies(t *testing.T) {
	_, m, files := labelledFix.get(t)
	recs := unique(files)
	counts := func(l Label, keep func(*testRecord) bool) keyCounts {
		k := keyCounts{calls: map[int64]int{}, errs: map[int64]int{}}
		for i := range recs {
			r := &recs[i]
			if r.EventSource != l.EventSource || r.EventName != l.EventName || (keep != nil && !keep(r)) {
				continue
			}
			k.calls[r.EventTime.Unix()/60]++
			if l.ErrorCode != "" && r.ErrorCode == l.ErrorCode {
				k.errs[r.EventTime.Unix()/60]++
			}
		}
		return k
	}
	week := 7 * 24 * time.Hour
	for _, l := range m.Labels {
		where := l.ID + " " + l.Kind + " " + l.EventName
		k := counts(l, nil)
		cur, prev := k.sum(k.calls, l.Start, l.End), k.sum(k.calls, l.Start.Add(-week), l.End.Add(-week))
		switch l.Kind {
		case KindProvisioningSpike, KindTrapReadOnly:
			if cur < 4*prev || cur-prev < 5 {
				t.Errorf("%s: %d calls vs %d a week earlier; want a 5-20x spike", where, cur, prev)
			}
		case KindTrapData:
			if cur < 20*max(prev, 1) {
				t.Errorf("%s: %d calls vs %d a week earlier; want a 50x spike", where, cur, prev)
			}
		case KindIAMBurst:
			by := counts(l, func(r *testRecord) bool { return r.UserIdentity.Arn == l.Principal })
			if n := by.sum(by.calls, l.Start, l.End); n < 10 {
				t.Errorf("%s: %d calls by %s, want >= 10", where, n, l.Principal)
			}
			for _, r := range recs {
				if r.UserIdentity.Arn == l.Principal && r.EventTime.Before(l.Start.Add(-5*time.Minute)) {
					t.Errorf("%s: principal %s seen before the burst (%s)", where, l.Principal, r.EventTime)
					break
				}
			}
		case KindPeriodicGap:
			if prev < 2 || cur*5 > prev {
				t.Errorf("%s: %d calls vs %d a week earlier; want the job's runs missing", where, cur, prev)
			}
		case KindSteadyDrop:
			if prev < 8 || cur*2 > prev {
				t.Errorf("%s: %d calls vs %d a week earlier; want a drop to <= 20%%", where, cur, prev)
			}
		case KindErrorSurgeWrite, KindErrorSurgeRead:
			e, pe := k.sum(k.errs, l.Start, l.End), k.sum(k.errs, l.Start.Add(-week), l.End.Add(-week))
			if float64(e) < 0.25*float64(cur) || e < 3*(pe+1) {
				t.Errorf("%s: %d %s errors in %d calls vs %d errors a week earlier; want a 30-90%% error rate",
					where, e, l.ErrorCode, cur, pe)
			}
		case KindLevelShift:
			// The rate changes by -40..+80% for good; the same hours a week
			// earlier differ by day-to-day noise (the fleet's size) too.
			if r := float64(cur) / float64(max(prev, 1)); r > 0.9 && r < 1.1 {
				t.Errorf("%s: %d calls vs %d a week earlier; want a lasting shift", where, cur, prev)
			}
		case KindTrapDuplicate:
			checkDuplicates(t, l, files)
		case KindTrapLate:
			checkLate(t, l, files)
		}
	}
}

func checkDuplicates(t *testing.T, l Label, files []testFile) {
	t.Helper()
	copies := map[string]int{}
	for _, f := range files {
		for _, r := range f.records {
			copies[r.EventID]++
		}
	}
	var in, twice int
	for _, f := range files {
		for _, r := range f.records {
			inside := !r.EventTime.Before(l.Start) && r.EventTime.Before(l.End)
			if copies[r.EventID] > 1 && !inside {
				t.Errorf("%s: record %s at %s is duplicated outside the window", l.ID, r.EventID, r.EventTime)
			}
			if inside {
				in++
				if copies[r.EventID] == 2 {
					twice++
				}
			}
		}
	}
	if in == 0 || twice != in {
		t.Errorf("%s: %d of %d record copies in the window are duplicates, want all", l.ID, twice, in)
	}
}

func checkLate(t *testing.T, l Label, files []testFile) {
	t.Helper()
	n := 0
	for _, f := range files {
		if f.account != l.Account || f.region != l.Region {
			continue
		}
		var newest time.Time
		inside := 0
		for _, r := range f.records {
			if !r.EventTime.Before(l.Start) && r.EventTime.Before(l.End) {
				inside++
				if r.Addendum == nil || r.Addendum.Reason != "DELIVERY_DELAY" {
					t.Errorf("%s: late record %s without a DELIVERY_DELAY addendum", l.ID, r.EventID)
				}
			}
			if r.EventTime.After(newest) {
				newest = r.EventTime
			}
		}
		if inside == 0 {
			continue
		}
		n++
		if f.delivery.Sub(newest) < 20*time.Minute {
			t.Errorf("%s: %s delivered %s after its newest record, want >= 20 minutes", l.ID, f.rel, f.delivery.Sub(newest))
		}
	}
	if n == 0 {
		t.Errorf("%s: no file holds records of the late stretch", l.ID)
	}
}
