// Package detector turns CloudTrail events into Insights: it holds the
// vocabulary (Key, Insight, InsightType, State, Direction) and the Engine.
//
// The Engine counts write management calls per minute per (account,
// Region, eventSource, eventName) and errored calls per error code,
// deduplicates eventIDs, closes minutes behind a watermark (the newest of
// the event times and the caller's clock, minus the allowed lateness),
// tests every series every minute against its model (package models) over
// several windows, and runs the Start/End state machine. Spikes are also
// tested on still-open minutes, since counts only grow. Insights go to a
// Sink, which must be idempotent on record IDs. docs/DESIGN.md explains the
// decision rule.
//
// Time: the Engine never reads the wall clock. Event time and the clock
// passed to Advance (a file's delivery time in a replay, the wall clock in a
// live service) are its only times, so a replay reproduces what a live
// service would have emitted, byte for byte.
//
// Concurrency: an Engine is not safe for concurrent use; one goroutine owns
// it (one per Kafka partition or replay shard), so the hot path takes no
// locks.
//
// Metrics: the Engine counts events by Result, series, open Insights and
// Starts/Ends by type in Stats(); the service exports them.
package detector
