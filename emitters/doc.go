// Package emitters holds trailsight's sinks: Insights files in the trail
// layout (InsightFiles), the Insights topic as EventBridge envelopes
// (Topic), a Fanout of several; the trail delivery path: S3 writes with
// retries and a spool on disk (S3, S3Batch), trails that deliver log files
// and signed hourly digests (Trail, KeyRing), and notifications of
// delivered objects (TopicNotifier, SNSNotifier).
//
// Every sink is idempotent on record content: file keys derive from a hash
// of the body and record IDs are name-based, so a redelivery after a crash
// or a rebalance rewrites the same object instead of adding a duplicate
// (the topic may carry a record twice; its trailsight-event-id header
// tells). A Trail works on the caller's clock, never the wall clock, so the
// same input gives the same log files and digests.
//
// Concurrency: an InsightFiles and a Trail are owned by one goroutine (a
// consumer keeps one of each per partition). An S3, a KeyRing, a Topic
// with a *kafka.Writer and the notifiers are safe for concurrent use and
// shared; each owner writes through its own S3Batch, whose Flush waits for
// that owner's objects only.
//
// Metrics (when a Registerer is given):
//
//	trailsight_emitter_s3_objects_sent_total, _sent_bytes_total, _errors_total,
//	_put_duration_seconds, _spooled_total, _unspooled_total, _spool_full_total,
//	_spool_objects, _spool_bytes, _spool_capacity_bytes   (one set per S3; serve labels them by trail)
//	trailsight_emitter_topic_records_sent_total, _errors_total, _write_duration_seconds   (the Insights topic)
//	trailsight_trail_records_total{trail,result}          result: accepted, filtered, duplicate
//	trailsight_trail_log_files_total{trail}, trailsight_trail_digests_total{trail}
//	trailsight_insight_open, _baseline_average, _average, _start_timestamp_seconds
//	    {account,region,event_source,event_name,insight_type,error_code}: open Insights only (InsightGauges)
package emitters
