// Package consumers holds trailsight's sources: trail log files read from
// directory trees for replay (files.go, replay.go), and Kafka topics for the
// live service (group.go, partition.go, state.go).
//
// A replay reads files in delivery order (the timestamp in an S3-layout file
// name), decodes them on several goroutines and hands their events to the
// detector in that order, advancing the detector's clock to each file's
// delivery time first, so a replay simulates the live stream. Digest and
// Insights files found in a trail tree are recognised and skipped, never
// counted as bad input.
//
// A Group is a member of a Kafka consumer group (kafka-go's ConsumerGroup
// and Generation). Each assigned partition gets two goroutines: a fetcher
// that fetches and decodes its messages (with cloudtrail.Decoders of its
// own), and a worker that owns the partition's detector.Engine and Output
// and takes the decoded messages in order, in batches while the partition
// catches up: decoding overlaps detection, and no partition's hot path
// touches another's state. The worker restores the partition's newest
// Checkpoint from a StateStore (KafkaStore: a compacted topic), consumes from
// the checkpoint's offset, moves the Engine's clock to each message's arrival
// time (its trailsight-delivery-time header or its timestamp) before
// observing its records, and at the first message of each new clock minute
// flushes the Output and, when one is due, checkpoints: snapshot, save,
// commit. Offsets are committed only there, so every committed offset is
// covered by Insights already emitted and by a saved state. Undecodable
// messages go to a dead-letter topic and never block the partition.
// docs/DESIGN.md ("The Kafka service") gives the protocol and why it makes
// the Insights files exactly-once.
//
// Metrics (registered on the Registerer given to NewGroup):
//
//	trailsight_consumer_messages_total{result}         ok, partial, invalid, empty, digest
//	trailsight_consumer_records_total
//	trailsight_consumer_invalid_records_total{reason}
//	trailsight_consumer_dead_letters_total{reason}
//	trailsight_consumer_unkeyed_messages_total
//	trailsight_consumer_assigned_partitions
//	trailsight_consumer_next_offset{topic,partition}
//	trailsight_consumer_offset_lag{topic,partition}  messages behind the partition's end, as of the last fetch
//	trailsight_consumer_watermark_lag_seconds{topic,partition}
//	trailsight_consumer_checkpoints_total
//	trailsight_consumer_checkpoint_size_bytes
//	trailsight_consumer_checkpoint_duration_seconds
//	trailsight_consumer_restore_duration_seconds
//	trailsight_consumer_restore_size_bytes
//	trailsight_consumer_restore_failures_total
//	trailsight_consumer_commit_errors_total
//	trailsight_consumer_busy_seconds_total{stage}      decode (fetchers), detect (workers)
//	trailsight_detector_events_total{result}           the partitions' detectors, summed; added at each
//	trailsight_detector_insights_total{type,state}     minute of a partition's clock, at checkpoints and
//	trailsight_detector_active_series{type}            when a partition is let go (gauges then drop its part)
//	trailsight_detector_open_insights
//	trailsight_detector_warming_account_regions
package consumers
