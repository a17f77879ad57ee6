package objstore_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/trailsight/trailsight/internal/objstore"
)

// testStore checks the Store contract on s, which must be empty.
func testStore(t *testing.T, s objstore.Store) {
	ctx := context.Background()
	keys := []string{
		"AWSLogs/1/CloudTrail/us-east-1/2026/01/05/b.json.gz",
		"AWSLogs/1/CloudTrail/us-east-1/2026/01/05/a.json.gz",
		"AWSLogs/1/CloudTrail-Digest/us-east-1/2026/01/05/d.json.gz",
		"AWSLogs/10/CloudTrail/x.json.gz",
		"top.txt",
	}
	for i, k := range keys {
		var meta map[string]string
		if i == 2 {
			meta = map[string]string{"signature": "abc123", "signature-algorithm": "SHA256withRSA"}
		}
		if err := s.Put(ctx, k, []byte("body of "+k), meta); err != nil {
			t.Fatal(err)
		}
	}
	body, meta, err := s.Get(ctx, keys[2])
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(body), "body of "+keys[2]; got != want {
		t.Errorf("Get body = %q, want %q", got, want)
	}
	if diff := cmp.Diff(map[string]string{"signature": "abc123", "signature-algorithm": "SHA256withRSA"}, meta); diff != "" {
		t.Errorf("Get metadata mismatch (-want +got):\n%s", diff)
	}
	// Overwriting without metadata drops the old metadata, as S3 does.
	if err := s.Put(ctx, keys[2], []byte("new"), nil); err != nil {
		t.Fatal(err)
	}
	if body, meta, err := s.Get(ctx, keys[2]); err != nil || string(body) != "new" || len(meta) != 0 {
		t.Errorf("after overwrite: Get = %q, %v, %v; want \"new\", no metadata", body, meta, err)
	}
	if _, _, err := s.Get(ctx, "AWSLogs/1/missing.json.gz"); !errors.Is(err, objstore.ErrNotFound) {
		t.Errorf("Get(missing) error = %v, want ErrNotFound", err)
	}

	tests := []struct {
		prefix, after string
		want          []string
	}{
		// Byte order: "CloudTrail-Digest/" sorts before "CloudTrail/".
		{"AWSLogs/1/", "", []string{keys[2], keys[1], keys[0]}},
		{"AWSLogs/1", "", []string{keys[2], keys[1], keys[0], keys[3]}},
		{"AWSLogs/1/CloudTrail/", keys[1], []string{keys[0]}},
		{"AWSLogs/1/CloudTrail/us-east-1/2026/01/05/a", "", []string{keys[1]}},
		{"", "AWSLogs/10/", []string{keys[3], keys[4]}},
		{"nothing/", "", nil},
	}
	for _, tc := range tests {
		got, err := s.List(ctx, tc.prefix, tc.after)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("List(%q, %q) mismatch (-want +got):\n%s", tc.prefix, tc.after, diff)
		}
	}
}

func TestDir(t *testing.T) {
	root := t.TempDir()
	d := objstore.NewDir(root, "my-bucket")
	testStore(t, d)
	if got := objstore.URL(d, "k"); got != "s3://my-bucket/k" {
		t.Errorf("URL = %q", got)
	}
	// No temporary files are left behind.
	err := filepath.WalkDir(root, func(p string, e os.DirEntry, err error) error {
		if err == nil && filepath.Base(p)[0] == '.' && !e.IsDir() {
			t.Errorf("left behind: %s", p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestDirRejectsKeysOutsideRoot(t *testing.T) {
	d := objstore.NewDir(t.TempDir(), "")
	for _, k := range []string{"", "/abs", "a/../../x", "../x", ".trailsight-meta/x"} {
		if err := d.Put(context.Background(), k, []byte("x"), nil); err == nil {
			t.Errorf("Put(%q) succeeded, want an error", k)
		}
	}
}

func TestDirNameDefaultsToBase(t *testing.T) {
	if got := objstore.NewDir("/tmp/some/bucket-copy/", "").Name(); got != "bucket-copy" {
		t.Errorf("Name = %q, want bucket-copy", got)
	}
}
