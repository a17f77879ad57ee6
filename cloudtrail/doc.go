// Package cloudtrail holds trailsight's CloudTrail wire formats: it decodes
// event records (bare, in EventBridge envelopes, in log files, arrays and
// JSON Lines), encodes Insights records and their envelopes, and knows the S3
// key layouts, file kinds and digest files of a trail (the specification is
// shared/spec/cloudtrail-formats.md). It is the only package that knows
// CloudTrail field names; everything above it sees an Event.
//
// # Role in the pipeline
//
// Consumers (Kafka, trail files, S3 prefixes), the evaluation harness and the
// dataset generator all decode through a Decoder, so live and replayed data
// take one code path. Decoding is the hot path of the whole system:
// DecodeRecord extracts the dozen fields of Event with a hand-written
// single-pass scanner, skips everything else without allocating, and never
// builds a map of the record. Low-cardinality strings are interned per
// Decoder and the rest of a record's strings share one allocation, so a
// record costs at most one allocation.
//
// Bad input never stops a stream: DecodeBody sets a malformed record aside
// with a Reason (a metrics label), resynchronises on the next record and
// keeps its neighbours. Digest files and Insights records are recognised and
// counted, not analysed.
//
// # Concurrency
//
// A Decoder is not safe for concurrent use: give each goroutine (each Kafka
// partition, each file worker) its own. The Events it fills own their
// strings: they stay valid after the input buffer, or the Decoder, is reused.
// Everything else in the package is a pure function or immutable data, safe
// for concurrent use.
//
// # Time
//
// The package never reads the clock. Event.EventTime is the record's
// eventTime in Unix seconds; delivery times come from file names
// (DeliveryTime).
//
// # Metrics
//
// The package exports no metrics: callers count BodyStats and DecodeError
// reasons (Reason.String gives the label value) under their own names.
package cloudtrail
