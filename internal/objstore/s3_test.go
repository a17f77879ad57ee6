package objstore_test

import (
	"context"
	"errors"
	"testing"

	"github.com/trailsight/trailsight/internal/objstore"
	"github.com/trailsight/trailsight/internal/s3test"
)

func TestMain(m *testing.M) { s3test.Main(m) }

// TestS3 runs the Store contract against a real S3 server (MinIO).
func TestS3(t *testing.T) {
	srv := s3test.Shared(t)
	s := objstore.NewS3FromClient(srv.Client(t), srv.Bucket(t))
	testStore(t, s)
}

// TestNewS3 builds the store the way trailsight's commands do, from an
// endpoint and credentials in the environment.
func TestNewS3(t *testing.T) {
	srv := s3test.Shared(t)
	bucket := srv.Bucket(t)
	t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey())
	t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey())
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	ctx := context.Background()
	s, err := objstore.NewS3(ctx, objstore.S3Config{Bucket: bucket, Region: srv.Region(), Endpoint: srv.Endpoint(), PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "k", []byte("v"), map[string]string{"a": "b"}); err != nil {
		t.Fatal(err)
	}
	if body, meta, err := s.Get(ctx, "k"); err != nil || string(body) != "v" || meta["a"] != "b" {
		t.Errorf("Get = %q, %v, %v", body, meta, err)
	}
	// A missing bucket is an error of its own, not a missing object.
	other, err := objstore.NewS3(ctx, objstore.S3Config{Bucket: bucket + "-none", Region: srv.Region(), Endpoint: srv.Endpoint(), PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := other.Get(ctx, "k"); err == nil || errors.Is(err, objstore.ErrNotFound) {
		t.Errorf("Get from a missing bucket: error = %v, want one that is not ErrNotFound", err)
	}
}
