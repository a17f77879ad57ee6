// Package emitters holds trailsight's sinks: Insights files in the trail
// layout (Dir), the Insights topic as EventBridge envelopes (Topic), and a
// Fanout of several; S3 and notifications come later.
//
// Every sink is idempotent on record content: file keys derive from a hash
// of the body and record IDs are name-based, so a redelivery after a crash
// or a rebalance rewrites the same object instead of adding a duplicate
// (the topic may carry a record twice; its trailsight-event-id header
// tells). A Dir is owned by one goroutine (a consumer keeps one per
// partition); a Topic may be shared when its writer is safe for concurrent
// use, as *kafka.Writer is.
package emitters
