package objstore

import (
	"context"
	"errors"
)

// ErrNotFound is wrapped by Get's error when the object does not exist.
var ErrNotFound = errors.New("object not found")

// Store is a bucket of objects with user metadata.
type Store interface {
	// Name is the bucket's name: what s3://<name>/<key> URLs and digest
	// files call it.
	Name() string
	// Put writes the object whole, replacing any object under key.
	// Metadata keys are lowercase and without the x-amz-meta- prefix.
	Put(ctx context.Context, key string, body []byte, meta map[string]string) error
	// Get returns the object's bytes as stored and its user metadata. A
	// missing object gives an error wrapping ErrNotFound.
	Get(ctx context.Context, key string) (body []byte, meta map[string]string, err error)
	// List returns the keys under prefix that sort after startAfter, in
	// lexicographic (byte) order.
	List(ctx context.Context, prefix, startAfter string) ([]string, error)
}

// URL returns s3://<bucket>/<key>, the way CloudTrail's tools name objects.
func URL(s Store, key string) string { return "s3://" + s.Name() + "/" + key }
