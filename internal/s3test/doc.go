// Package s3test starts real MinIO servers, trailsight's S3 server for tests: [Shared], one server
// that the tests of a binary share, and [New], a private one for a test that takes S3 away
// ([Server.Stop]) and brings it back ([Server.Start]) on the same port with the same objects.
// Both listen on 127.0.0.1 only (MinIO adds [::1] on the same port) and take the root
// credentials [Server.AccessKey] and [Server.SecretKey] in region [Server.Region], us-east-1;
// [Server.Client] returns an aws-sdk-go-v2 S3 client for them, path-style, with the SDK's
// default retries.
//
// # The server
//
// The servers run through scripts/minio/minio.sh (found by walking up from the working directory
// to go.mod), from a MinIO binary that `make deps` builds from source with go install into a
// cache outside the clone (${TRAILSIGHT_CACHE:-${XDG_CACHE_HOME:-~/.cache}/trailsight}/minio-<date>/bin).
// The tests do not build it themselves: go install takes minutes. A server starts in about a
// second, and every start waits until /minio/health/ready answers 200.
//
// Shared starts its server lazily, on the first call. Its tests name their buckets with
// [Server.Bucket] and must not assume an empty server. A package that uses Shared calls [Main]
// from TestMain, which stops the server and removes its data once the tests are done; if the
// binary dies first (a panic, -timeout, a signal), a watchdog started with the server stops it
// within a second and removes its data. New's servers are stopped and removed by tb.Cleanup, and
// by the same watchdog.
//
// When the MinIO binary is not there, Shared and New skip the test with a loud reason that names
// `make deps`; with the environment variable CI=true they fail it instead, so a CI run can never
// pass by skipping.
//
// # Concurrency
//
// A Server's methods may be called from any goroutine. Stop and Start belong to New's servers:
// on the shared server they fail the test. Restart interrupts every user of the server: on the
// shared server, call it only from tests that do not run in parallel with other tests using it.
package s3test
