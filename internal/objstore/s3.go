package objstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// S3Config says which bucket to use and how to reach it. Credentials come
// from the SDK's default chain (environment, shared files, IAM roles), never
// from configuration files.
type S3Config struct {
	Bucket string
	// Region is the bucket's Region; empty takes the SDK's default
	// (AWS_REGION, the shared config), then us-east-1.
	Region string
	// Endpoint, when set, replaces AWS's endpoint: an S3-compatible server
	// such as MinIO, e.g. http://127.0.0.1:9000.
	Endpoint string
	// PathStyle addresses the bucket in the path (endpoint/bucket/key)
	// instead of the host name, as most S3-compatible servers need.
	PathStyle bool
}

// S3 is a Store in an S3 bucket.
type S3 struct {
	client *s3.Client
	bucket string
}

var _ Store = (*S3)(nil)

// NewS3 returns a Store for cfg.Bucket. optFns adjust the client (tests pass
// static credentials).
func NewS3(ctx context.Context, cfg S3Config, optFns ...func(*s3.Options)) (*S3, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("s3: no bucket given")
	}
	var loadOpts []func(*config.LoadOptions) error
	if cfg.Region != "" {
		loadOpts = append(loadOpts, config.WithRegion(cfg.Region))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("s3: load AWS configuration: %w", err)
	}
	if awsCfg.Region == "" {
		awsCfg.Region = "us-east-1"
	}
	client := s3.NewFromConfig(awsCfg, append([]func(*s3.Options){func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.PathStyle
	}}, optFns...)...)
	return &S3{client: client, bucket: cfg.Bucket}, nil
}

// NewS3FromClient returns a Store for bucket through client.
func NewS3FromClient(client *s3.Client, bucket string) *S3 {
	return &S3{client: client, bucket: bucket}
}

// Name returns the bucket name.
func (s *S3) Name() string { return s.bucket }

// Put writes the object with PutObject, which S3 makes visible only whole.
func (s *S3) Put(ctx context.Context, key string, body []byte, meta map[string]string) error {
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(s.bucket),
		Key:           aws.String(key),
		Body:          bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))),
		Metadata:      meta,
	})
	if err != nil {
		return fmt.Errorf("put %s: %w", URL(s, key), err)
	}
	return nil
}

// Get reads the object with GetObject.
func (s *S3) Get(ctx context.Context, key string) ([]byte, map[string]string, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if err != nil {
		if isNotFound(err) {
			return nil, nil, fmt.Errorf("get %s: %w", URL(s, key), ErrNotFound)
		}
		return nil, nil, fmt.Errorf("get %s: %w", URL(s, key), err)
	}
	defer out.Body.Close()
	body, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, nil, fmt.Errorf("get %s: %w", URL(s, key), err)
	}
	meta := out.Metadata
	if meta == nil {
		meta = map[string]string{}
	}
	return body, meta, nil
}

// List pages through ListObjectsV2.
func (s *S3) List(ctx context.Context, prefix, startAfter string) ([]string, error) {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(s.bucket), Prefix: aws.String(prefix)}
	if startAfter != "" {
		in.StartAfter = aws.String(startAfter)
	}
	var keys []string
	for p := s3.NewListObjectsV2Paginator(s.client, in); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", URL(s, prefix), err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys, nil
}

func isNotFound(err error) bool {
	var nsk *types.NoSuchKey
	if errors.As(err, &nsk) {
		return true
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		// A missing bucket is a configuration error, not a missing object.
		return ae.ErrorCode() == "NoSuchKey" || ae.ErrorCode() == "NotFound"
	}
	var re interface{ HTTPStatusCode() int }
	return errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound
}
