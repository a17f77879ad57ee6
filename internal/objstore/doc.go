// Package objstore reads and writes the objects of a trail's bucket: an S3
// bucket through aws-sdk-go-v2 (AWS itself or any S3-compatible server such
// as MinIO), or a local directory laid out as a copy of one. Emitters write
// through it, `trailsight validate` and replays read through it.
//
// A Store is safe for concurrent use. Objects are written whole: S3 makes a
// PutObject visible only once complete, and Dir writes through a temporary
// file and a rename, so a crash never leaves a partial object under its
// final key.
package objstore
