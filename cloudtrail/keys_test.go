package cloudtrail

import (
	"bytes"
	"compress/gzip"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The example keys of spec §4.2. The first is only a file name there; the
// full key adds the folders its name implies.
const (
	specLogKey     = "AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/01/111122223333_CloudTrail_us-east-2_20150801T0210Z_Mu0KsOhtH1ar15ZZ.json.gz"
	specInsightKey = "o-fxozgwu6rc/AWSLogs/o-fxozgwu6rc/123456789015/CloudTrail-Insight/ca-central-1/2020/09/23/123456789015_CloudTrail-Insight_ca-central-1_20200923T0516Z_KL5e9VCV2SS7IqzB.json.gz"
	specDigestKey  = "AWSLogs/835404217325/CloudTrail-Digest/eu-west-3/2020/08/28/835404217325_CloudTrail-Digest_eu-west-3_XXXX_Infosec_Audit_us-west-2_20200828T220732Z.json.gz"
)

func TestFileKeys(t *testing.T) {
	for _, tc := range []struct {
		name string
		got  string
		want string
	}{
		{
			"log file, delivery seconds dropped",
			LogFileKey(KeyPrefix{}, "111122223333", "us-east-2", time.Date(2015, 8, 1, 2, 10, 59, 0, time.UTC), "Mu0KsOhtH1ar15ZZ"),
			specLogKey,
		},
		{
			"insights file, org trail with prefix",
			InsightFileKey(KeyPrefix{Prefix: "o-fxozgwu6rc", OrgID: "o-fxozgwu6rc"}, "123456789015", "ca-central-1",
				time.Date(2020, 9, 23, 5, 16, 0, 0, time.UTC), "KL5e9VCV2SS7IqzB"),
			specInsightKey,
		},
		{
			"digest file, trail name with underscores",
			DigestFileKey(KeyPrefix{}, "835404217325", "eu-west-3", "XXXX_Infosec_Audit", "us-west-2",
				time.Date(2020, 8, 28, 22, 7, 32, 0, time.UTC)),
			specDigestKey,
		},
		{
			"delivery time in another zone uses the UTC date",
			LogFileKey(KeyPrefix{Prefix: "logs/trail"}, "111122223333", "eu-west-1",
				time.Date(2026, 1, 1, 1, 30, 0, 0, time.FixedZone("UTC+2", 2*3600)), "abc"),
			"logs/trail/AWSLogs/111122223333/CloudTrail/eu-west-1/2025/12/31/111122223333_CloudTrail_eu-west-1_20251231T2330Z_abc.json.gz",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("key = %s\nwant  %s", tc.got, tc.want)
			}
		})
	}
}

// TestDigestKeyTimestamp checks the position aws-cli validate-logs reads
// the digest end time from: key[-24:-8] (spec §4.1).
func TestDigestKeyTimestamp(t *testing.T) {
	key := DigestFileKey(KeyPrefix{Prefix: "p"}, "111122223333", "eu-west-1", "my_trail", "us-east-1",
		time.Date(2026, 1, 12, 10, 0, 42, 0, time.UTC))
	if got, want := key[len(key)-24:len(key)-8], "20260112T100042Z"; got != want {
		t.Errorf("%s: key[-24:-8] = %q, want %q", key, got, want)
	}
}

func TestParseKey(t *testing.T) {
	for _, tc := range []struct {
		name string
		key  string
		want KeyInfo
	}{
		{
			"spec log key", specLogKey,
			KeyInfo{AccountID: "111122223333", Kind: KeyKindLog, Region: "us-east-2",
				Time: time.Date(2015, 8, 1, 2, 10, 0, 0, time.UTC), Unique: "Mu0KsOhtH1ar15ZZ"},
		},
		{
			"spec insights key", specInsightKey,
			KeyInfo{KeyPrefix: KeyPrefix{Prefix: "o-fxozgwu6rc", OrgID: "o-fxozgwu6rc"}, AccountID: "123456789015",
				Kind: KeyKindInsight, Region: "ca-central-1", Time: time.Date(2020, 9, 23, 5, 16, 0, 0, time.UTC),
				Unique: "KL5e9VCV2SS7IqzB"},
		},
		{
			"spec digest key", specDigestKey,
			KeyInfo{AccountID: "835404217325", Kind: KeyKindDigest, Region: "eu-west-3",
				Time: time.Date(2020, 8, 28, 22, 7, 32, 0, time.UTC), TrailName: "XXXX_Infosec_Audit", HomeRegion: "us-west-2"},
		},
		{
			"prefix containing AWSLogs and an org-like folder",
			"AWSLogs/o-aaaaaaaaaa/AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/12/111122223333_CloudTrail_us-east-1_20260112T1000Z_x_y.json.gz",
			KeyInfo{KeyPrefix: KeyPrefix{Prefix: "AWSLogs/o-aaaaaaaaaa"}, AccountID: "111122223333", Kind: KeyKindLog,
				Region: "us-east-1", Time: time.Date(2026, 1, 12, 10, 0, 0, 0, time.UTC), Unique: "x_y"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ParseKey(tc.key)
			if !ok {
				t.Fatalf("ParseKey(%q) failed", tc.key)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseKey(%q) (-want +got):\n%s", tc.key, diff)
			}
			if back := got.Key(); back != tc.key {
				t.Errorf("Key() = %s, want %s", back, tc.key)
			}
		})
	}
}

func TestParseKeyRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		key  string
	}{
		{"bare file name", "111122223333_CloudTrail_us-east-2_20150801T0210Z_Mu0KsOhtH1ar15ZZ.json.gz"},
		{"no AWSLogs folder", strings.Replace(specLogKey, "AWSLogs/", "Logs/", 1)},
		{"leading slash", "/" + specLogKey},
		{"unknown kind", strings.ReplaceAll(specLogKey, "CloudTrail", "CloudTrail-Other")},
		{"kind folder and name differ", strings.Replace(specLogKey, "/CloudTrail/", "/CloudTrail-Insight/", 1)},
		{"account folder and name differ", strings.Replace(specLogKey, "/111122223333/", "/111122223334/", 1)},
		{"region folder and name differ", strings.Replace(specLogKey, "/us-east-2/", "/us-east-1/", 1)},
		{"date folder and name differ", strings.Replace(specLogKey, "/2015/08/01/", "/2015/08/02/", 1)},
		{"non-numeric date folder", strings.Replace(specLogKey, "/2015/08/01/", "/2015/Aug/01/", 1)},
		{"bad minute", strings.Replace(specLogKey, "T0210Z", "T0260Z", 1)},
		{"no unique part", strings.Replace(specLogKey, "_Mu0KsOhtH1ar15ZZ", "", 1)},
		{"empty unique part", strings.Replace(specLogKey, "Mu0KsOhtH1ar15ZZ", "", 1)},
		{"not gzip name", strings.TrimSuffix(specLogKey, ".gz")},
		{"digest without home region", strings.Replace(specDigestKey, "XXXX_Infosec_Audit_us-west-2", "Audit", 1)},
		{"digest with empty trail name", strings.Replace(specDigestKey, "XXXX_Infosec_Audit", "", 1)},
		{"digest fractional seconds", strings.Replace(specDigestKey, "T220732Z", "T220732.5Z", 1)},
		{"backfill digest", strings.Replace(specDigestKey, ".json.gz", "_backfill.json.gz", 1)},
		{"too few folders", "AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/01"},
		{"empty", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, ok := ParseKey(tc.key); ok {
				t.Errorf("ParseKey(%q) = %+v, true; want false", tc.key, got)
			}
		})
	}
}

func TestParseKeyRoundTrip(t *testing.T) {
	delivery := time.Date(2026, 1, 12, 10, 5, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		key  string
	}{
		{"log", LogFileKey(KeyPrefix{}, "111122223333", "us-east-1", delivery, "abc")},
		{"insight with nested prefix", InsightFileKey(KeyPrefix{Prefix: "a/b/c"}, "111122223333", "us-east-1", delivery, "u")},
		{"org without prefix", LogFileKey(KeyPrefix{OrgID: "o-abcdefghij"}, "111122223333", "us-east-1", delivery, "u")},
		{"prefix looking like an org", LogFileKey(KeyPrefix{Prefix: "o-abcdefghij"}, "111122223333", "us-east-1", delivery, "u")},
		{"prefix ending in a slash", LogFileKey(KeyPrefix{Prefix: "logs/"}, "111122223333", "us-east-1", delivery, "u")},
		{"unique with underscores", InsightFileKey(KeyPrefix{}, "111122223333", "us-east-1", delivery, "_a__b_")},
		{"digest trail name like a region", DigestFileKey(KeyPrefix{Prefix: "p", OrgID: "o-abcdefghij"}, "111122223333",
			"eu-west-1", "us-east-1_trail_us-west-2", "us-east-1", delivery.Add(42*time.Second))},
		{"content-derived unique", InsightFileKey(KeyPrefix{}, "111122223333", "us-east-1", delivery, UniqueFromBody([]byte("x")))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, ok := ParseKey(tc.key)
			if !ok {
				t.Fatalf("ParseKey(%q) failed", tc.key)
			}
			if got := k.Key(); got != tc.key {
				t.Errorf("ParseKey(%q).Key() = %q", tc.key, got)
			}
		})
	}
}

func FuzzParseKey(f *testing.F) {
	for _, k := range []string{specLogKey, specInsightKey, specDigestKey} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, key string) {
		k, ok := ParseKey(key)
		if !ok {
			return
		}
		if got := k.Key(); got != key {
			t.Errorf("ParseKey(%q).Key() = %q", key, got)
		}
		if k2, ok := ParseKey(k.Key()); !ok || !cmp.Equal(k, k2) {
			t.Errorf("ParseKey(Key()) = %+v, %v; want %+v", k2, ok, k)
		}
	})
}

func TestKeyKindString(t *testing.T) {
	for kind, want := range map[KeyKind]string{
		KeyKindLog:     "CloudTrail",
		KeyKindInsight: "CloudTrail-Insight",
		KeyKindDigest:  "CloudTrail-Digest",
		0:              "KeyKind(0)",
		17:             "KeyKind(17)",
	} {
		if got := kind.String(); got != want {
			t.Errorf("KeyKind(%d).String() = %q, want %q", uint8(kind), got, want)
		}
	}
}

func TestUniqueFromBody(t *testing.T) {
	isAlnum := func(s string) bool {
		for _, c := range s {
			if !strings.ContainsRune(uniqueAlphabet, c) {
				return false
			}
		}
		return true
	}
	bodies := [][]byte{nil, []byte("{}"), []byte(`{"Records":[]}`), bytes.Repeat([]byte("x"), 1<<20)}
	seen := map[string]int{}
	for i, b := range bodies {
		u := UniqueFromBody(b)
		if len(u) != 16 || !isAlnum(u) {
			t.Errorf("UniqueFromBody(body %d) = %q, want 16 alphanumeric characters", i, u)
		}
		if again := UniqueFromBody(bytes.Clone(b)); again != u {
			t.Errorf("UniqueFromBody(body %d) = %q then %q, want the same", i, u, again)
		}
		if j, dup := seen[u]; dup {
			t.Errorf("bodies %d and %d share unique %q", j, i, u)
		}
		seen[u] = i
	}
	// Pinned so that a change of derivation, which would change the key of
	// every re-uploaded file, is noticed.
	// Values computed independently in Python.
	if got, want := UniqueFromBody([]byte(`{"Records":[]}`)), "chMXsdp0ZrZd3IZL"; got != want {
		t.Errorf(`UniqueFromBody({"Records":[]}) = %q, want %q`, got, want)
	}
	// A sum of bytes that are all rejected must draw from the re-hashed sum.
	var allRejected [32]byte
	for i := range allRejected {
		allRejected[i] = 0xff
	}
	if got, want := uniqueFromSum(allRejected), "pQJuFqbX3uCSAb9Z"; got != want {
		t.Errorf("uniqueFromSum(ff...ff) = %q, want %q", got, want)
	}
}

func TestEncodeRecordsFile(t *testing.T) {
	for _, tc := range []struct {
		name    string
		records [][]byte
		want    string
	}{
		{"none", nil, `{"Records":[]}`},
		{"one", [][]byte{[]byte(`{"a":1}`)}, `{"Records":[{"a":1}]}`},
		{"two", [][]byte{[]byte(`{"a":1}`), []byte(`{"b":[2]}`)}, `{"Records":[{"a":1},{"b":[2]}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gz := EncodeRecordsFile(tc.records)
			zr, err := gzip.NewReader(bytes.NewReader(gz))
			if err != nil {
				t.Fatal(err)
			}
			if zr.Name != "" || zr.Comment != "" || !zr.ModTime.IsZero() {
				t.Errorf("gzip header name %q, comment %q, mtime %v; want all empty", zr.Name, zr.Comment, zr.ModTime)
			}
			body, err := io.ReadAll(zr)
			if err != nil {
				t.Fatal(err)
			}
			if string(body) != tc.want {
				t.Errorf("body = %s, want %s", body, tc.want)
			}
			if again := EncodeRecordsFile(tc.records); !bytes.Equal(again, gz) {
				t.Errorf("second encoding differs: % x\nfirst: % x", again, gz)
			}
		})
	}
}
