package s3test

import (
	"regexp"
	"strings"
	"testing"
)

// validBucket is S3's rule for a new bucket's name (without dots, which bucketName never makes).
var validBucket = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)

func TestBucketName(t *testing.T) {
	for _, tc := range []struct {
		test string
		n    int64
		want string
	}{
		{"TestShared", 1, "testshared-1"},
		{"TestReplay/gzip_file#01", 12, "testreplay-gzip-file-01-12"},
		{"TestX/--weird__ÜNICODE--/", 3, "testx-weird-nicode-3"},
		{"", 7, "bucket-7"},
		{"/", 7, "bucket-7"},
		{"sthree-x", 2, "t-sthree-x-2"},
		{"xn--abc", 2, "xn-abc-2"},
		{"Test" + strings.Repeat("A", 100), 123456, "test" + strings.Repeat("a", 52) + "-123456"},
		{"Test" + strings.Repeat("a", 53) + "/b", 1, "test" + strings.Repeat("a", 53) + "-b-1"},
		{"Test" + strings.Repeat("a", 56) + "/b", 1, "test" + strings.Repeat("a", 56) + "-1"},
	} {
		got := bucketName(tc.test, tc.n)
		if got != tc.want {
			t.Errorf("bucketName(%q, %d) = %q, want %q", tc.test, tc.n, got, tc.want)
		}
		if !validBucket.MatchString(got) || strings.Contains(got, "--") {
			t.Errorf("bucketName(%q, %d) = %q: not a valid bucket name", tc.test, tc.n, got)
		}
	}
}
