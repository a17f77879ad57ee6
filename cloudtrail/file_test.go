package cloudtrail

import (
	"testing"
	"time"
)

func TestClassifyPath(t *testing.T) {
	tests := []struct {
		name string
		path string
		want FileKind
	}{
		// Spec §4.2 examples.
		{"log key", "111122223333_CloudTrail_us-east-2_20150801T0210Z_Mu0KsOhtH1ar15ZZ.json.gz", FileLog},
		{"org insight key", "o-fxozgwu6rc/AWSLogs/o-fxozgwu6rc/123456789015/CloudTrail-Insight/ca-central-1/2020/09/23/123456789015_CloudTrail-Insight_ca-central-1_20200923T0516Z_KL5e9VCV2SS7IqzB.json.gz", FileInsight},
		{"digest key", "AWSLogs/835404217325/CloudTrail-Digest/eu-west-3/2020/08/28/835404217325_CloudTrail-Digest_eu-west-3_XXXX_Infosec_Audit_us-west-2_20200828T220732Z.json.gz", FileDigest},
		{"full log key", "logs/AWSLogs/111122223333/CloudTrail/us-east-1/2024/01/02/111122223333_CloudTrail_us-east-1_20240102T0005Z_abcdefABCDEF0123.json.gz", FileLog},

		// Folders decide for data files with other names.
		{"json in digest folder", "AWSLogs/1/CloudTrail-Digest/us-east-1/2020/01/01/copy.json", FileDigest},
		{"json in insight folder", `C:\trail\AWSLogs\1\CloudTrail-Insight\us-east-1\x.json.gz`, FileInsight},
		{"name marker beats folder", "AWSLogs/1/CloudTrail-Digest/1_CloudTrail-Insight_r_20200101T0000Z_u.json.gz", FileInsight},
		{"folder name inside a word", "AWSLogs/1/MyCloudTrail-Digest/x.json", FileLog},
		{"non-data file in digest folder", "AWSLogs/1/CloudTrail-Digest/us-east-1/README.txt", FileOther},

		// Local datasets.
		{"plain json", "flaws_cloudtrail00.json", FileLog},
		{"json lines", "data/events.jsonl", FileLog},
		{"ndjson gz", "data/events.NDJSON.GZ", FileLog},
		{"any gz", "dump.gz", FileLog},
		{"windows path", `D:\data\111122223333_CloudTrail_us-east-1_20240102T0005Z_abc.json.gz`, FileLog},
		{"log marker without extension", "111122223333_CloudTrail_us-east-1_20240102T0005Z_abc", FileLog},

		// Not trail files.
		{"folder key", "AWSLogs/111122223333/CloudTrail/", FileOther},
		{"digest folder key", "AWSLogs/111122223333/CloudTrail-Digest/", FileOther},
		{"empty", "", FileOther},
		{"extension only", ".json", FileOther},
		{"text file", "AWSLogs/README.md", FileOther},
		{"json in the middle", "notes.json.txt", FileOther},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ClassifyPath(tc.path); got != tc.want {
				t.Errorf("ClassifyPath(%q) = %v, want %v", tc.path, got, tc.want)
			}
		})
	}
}

func TestFileKindString(t *testing.T) {
	for k, want := range map[FileKind]string{0: "file_kind_0", FileLog: "log", FileDigest: "digest",
		FileInsight: "insight", FileOther: "other", 42: "file_kind_42"} {
		if got := k.String(); got != want {
			t.Errorf("FileKind(%d).String() = %q, want %q", k, got, want)
		}
	}
}

func TestDeliveryTime(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // RFC 3339; "" = no time
	}{
		{"log file", "111122223333_CloudTrail_us-east-2_20150801T0210Z_Mu0KsOhtH1ar15ZZ.json.gz", "2015-08-01T02:10:00Z"},
		{"log key", "AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/01/111122223333_CloudTrail_us-east-2_20150801T0210Z_Mu0KsOhtH1ar15ZZ.json.gz", "2015-08-01T02:10:00Z"},
		{"insight file", "123456789015_CloudTrail-Insight_ca-central-1_20200923T0516Z_KL5e9VCV2SS7IqzB.json.gz", "2020-09-23T05:16:00Z"},
		{"digest, trail name with underscores", "AWSLogs/835404217325/CloudTrail-Digest/eu-west-3/2020/08/28/835404217325_CloudTrail-Digest_eu-west-3_XXXX_Infosec_Audit_us-west-2_20200828T220732Z.json.gz", "2020-08-28T22:07:32Z"},
		{"backfill digest", "1_CloudTrail-Digest_us-east-1_trail_us-east-1_20200828T220732Z_backfill.json.gz", "2020-08-28T22:07:32Z"},
		{"uncompressed", "1_CloudTrail_us-east-1_20240229T2359Z_u.json", "2024-02-29T23:59:00Z"},
		{"windows path", `C:\x\1_CloudTrail_us-east-1_20240102T0005Z_u.json.gz`, "2024-01-02T00:05:00Z"},
		{"unique part that looks like a time", "1_CloudTrail_us-east-1_20240102T0005Z_20240102T000500Z.json.gz", "2024-01-02T00:05:00Z"},
		{"no time", "flaws_cloudtrail00.json", ""},
		{"no underscore", "20240102T0005Z.json", ""},
		{"empty", "", ""},
		{"bad month", "1_CloudTrail_us-east-1_20241302T0005Z_u.json.gz", ""},
		{"bad day", "1_CloudTrail_us-east-1_20230229T0005Z_u.json.gz", ""},
		{"bad minute", "1_CloudTrail_us-east-1_20240102T0060Z_u.json.gz", ""},
		{"non-digit", "1_CloudTrail_us-east-1_2024O102T0005Z_u.json.gz", ""},
		{"no Z", "1_CloudTrail_us-east-1_20240102T00050_u.json.gz", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := DeliveryTime(tc.in)
			if tc.want == "" {
				if ok {
					t.Errorf("DeliveryTime(%q) = %v, want none", tc.in, got)
				}
				return
			}
			want, err := time.Parse(time.RFC3339, tc.want)
			if err != nil {
				t.Fatal(err)
			}
			if !ok || !got.Equal(want) || got.Location() != time.UTC {
				t.Errorf("DeliveryTime(%q) = %v, %v; want %v", tc.in, got, ok, want)
			}
		})
	}
}
