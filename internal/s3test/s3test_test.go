package s3test_test

import (
	"bytes"
	"context"
	"io"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/trailsight/trailsight/internal/s3test"
)

func TestMain(m *testing.M) { s3test.Main(m) }

// TestShared puts an object with user metadata on the shared server, then gets, heads and lists
// it.
func TestShared(t *testing.T) {
	srv := s3test.Shared(t)
	if got, want := srv.Region(), "us-east-1"; got != want {
		t.Errorf("Region() = %q, want %q", got, want)
	}
	if !regexp.MustCompile(`^http://127\.0\.0\.1:[0-9]+$`).MatchString(srv.Endpoint()) {
		t.Errorf("Endpoint() = %q, want http://127.0.0.1:PORT", srv.Endpoint())
	}
	if s3test.Shared(t) != srv {
		t.Error("a second Shared call returned another server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := srv.Client(t)
	bucket := srv.Bucket(t)
	if other := srv.Bucket(t); other == bucket {
		t.Errorf("Bucket returned %q twice", bucket)
	}

	body := []byte(`{"Records":[]}`)
	key := "AWSLogs/123456789012/CloudTrail/us-east-1/2026/01/02/trail.json.gz"
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{
		Bucket:   aws.String(bucket),
		Key:      aws.String(key),
		Body:     bytes.NewReader(body),
		Metadata: map[string]string{"signature": "ab"},
	}); err != nil {
		t.Fatalf("PutObject: %v", err)
	}

	got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	data, err := io.ReadAll(got.Body)
	got.Body.Close()
	if err != nil {
		t.Fatalf("GetObject: read the body: %v", err)
	}
	if !bytes.Equal(data, body) {
		t.Errorf("GetObject body = %q, want %q", data, body)
	}
	if sig := got.Metadata["signature"]; sig != "ab" {
		t.Errorf("GetObject Metadata = %v, want signature=ab", got.Metadata)
	}

	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("HeadObject: %v", err)
	}
	if sig := head.Metadata["signature"]; sig != "ab" {
		t.Errorf("HeadObject Metadata = %v, want signature=ab", head.Metadata)
	}
	if n := aws.ToInt64(head.ContentLength); n != int64(len(body)) {
		t.Errorf("HeadObject ContentLength = %d, want %d", n, len(body))
	}

	list, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String("AWSLogs/")})
	if err != nil {
		t.Fatalf("ListObjectsV2: %v", err)
	}
	var keys []string
	for _, o := range list.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	if !slices.Equal(keys, []string{key}) {
		t.Errorf("ListObjectsV2 keys = %q, want [%q]", keys, key)
	}
}

// TestOutage stops a private server, sees a PutObject fail, starts it again on the same port and
// finds the object stored before the outage, and can store another.
func TestOutage(t *testing.T) {
	t.Parallel()
	srv := s3test.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := srv.Client(t)
	bucket := srv.Bucket(t)
	put := func(key string, opts ...func(*s3.Options)) error {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader([]byte(key)),
		}, opts...)
		return err
	}
	if err := put("before"); err != nil {
		t.Fatalf("PutObject before the outage: %v", err)
	}
	endpoint := srv.Endpoint()

	srv.Stop(t)
	t0 := time.Now()
	if err := put("during"); err == nil {
		t.Fatal("PutObject succeeded while the server was stopped")
	} else {
		t.Logf("PutObject during the outage failed after %s, with the SDK's retries: %v",
			time.Since(t0).Round(time.Millisecond), err)
	}

	srv.Start(t)
	if srv.Endpoint() != endpoint {
		t.Errorf("Endpoint() = %q after Start, want %q as before", srv.Endpoint(), endpoint)
	}
	got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("before")})
	if err != nil {
		t.Fatalf("GetObject after the outage: %v", err)
	}
	data, err := io.ReadAll(got.Body)
	got.Body.Close()
	if err != nil || string(data) != "before" {
		t.Errorf("GetObject after the outage = %q, %v; want %q", data, err, "before")
	}
	if err := put("after"); err != nil {
		t.Errorf("PutObject after the outage: %v", err)
	}
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("during")}); err == nil {
		t.Error(`HeadObject "during": the object exists, though its PutObject failed`)
	}

	srv.Restart(t)
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("after")}); err != nil {
		t.Errorf(`HeadObject "after" after Restart: %v`, err)
	}
}
