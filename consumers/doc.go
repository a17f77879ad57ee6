// Package consumers holds trailsight's sources: trail log files read from
// directory trees for replay (files.go, replay.go), and Kafka topics for the
// live service.
//
// A replay reads files in delivery order (the timestamp in an S3-layout file
// name), decodes them on several goroutines and hands their events to the
// detector in that order, advancing the detector's clock to each file's
// delivery time first, so a replay simulates the live stream. Digest and
// Insights files found in a trail tree are recognised and skipped, never
// counted as bad input.
//
// The detector Engine is owned by the goroutine that calls Replay; decoding
// workers own one cloudtrail.Decoder each.
package consumers
