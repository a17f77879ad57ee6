// Package validate checks the integrity of a trail's log files the way
// `aws cloudtrail validate-logs` does (spec shared/spec/cloudtrail-formats.md
// §5.7, §5.8): it lists the trail's digest files in a time range, walks the
// chain newest first through the previousDigest* links, verifies each
// digest's location and RSA signature, and checks the SHA-256 of every log
// file a valid digest lists. It prints the reference validator's messages,
// byte for byte, to the same streams, and its Result gives the same exit
// status, so output of trailsight and of AWS can be compared directly.
//
// trailsight adds one check the CLI does not make: a digest whose
// previousDigestHashValue does not match the previous digest's
// uncompressed bytes is reported INVALID.
//
// # Role in the pipeline
//
// Validate backs `trailsight validate`, which checks what the trail emitter
// wrote (to S3 or to a local directory), and the tests that prove
// trailsight's trail files pass the reference validator. It reads objects
// through the small Bucket interface it declares; S3 and local-directory
// implementations live with their callers.
//
// # Concurrency
//
// Validate keeps all its state in the call: concurrent calls are safe as
// long as the Buckets and writers they are given are.
//
// # Time
//
// Digest times come from digest files and their keys. The only clock read
// is the default of Options.End, which is the current time, as in the CLI.
//
// # Metrics
//
// The package exports no metrics; Result holds the counts.
package validate
