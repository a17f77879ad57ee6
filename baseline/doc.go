// Package baseline holds the per-series state the detector's baselines
// are built from, independent of CloudTrail: Counts keeps one series'
// counts per minute, per quarter hour and per UTC day behind a single head,
// in fixed arrays (328 bytes), so that a series' windows, long drop windows
// and the spec's seven-day baseline statistics need no maps keyed by time.
//
// The models that learn from these counts live in package models; the
// table of series, warm-up, eviction and snapshots live with the Engine in
// package detector until the Kafka service needs them on their own.
//
// Values are not safe for concurrent use; each belongs to one series owned
// by one goroutine.
package baseline
