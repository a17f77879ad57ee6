package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/segmentio/kafka-go"

	"github.com/trailsight/trailsight/consumers"
)

// produceOptions are the settings of trailsight produce.
type produceOptions struct {
	brokers  []string
	topic    string
	mode     string  // file or record
	speed    float64 // event-time seconds per wall second; 0: no pacing
	balancer string
}

func runProduce(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("produce", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := produceOptions{brokers: []string{"127.0.0.1:9092"}}
	fs.Func("brokers", "Comma-separated Kafka brokers (default 127.0.0.1:9092, the embedded broker of trailsight serve).", func(s string) error {
		o.brokers = splitList(s)
		return nil
	})
	fs.StringVar(&o.topic, "topic", "cloudtrail-events", "Topic to publish to.")
	fs.StringVar(&o.mode, "mode", "file", "file: one message per log file ({\"Records\":[...]}); record: one message per record.")
	fs.Float64Var(&o.speed, "speed", 0, "Pace by delivery time, this many times faster than real time (60: an hour a minute); 0 publishes as fast as the broker takes it.")
	fs.StringVar(&o.balancer, "balancer", "murmur2", "Partitioner for the account key: murmur2 (Java clients) or crc32 (librdkafka, kcat).")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: trailsight produce [flags] PATH...\n\nPublishes trail log files to a Kafka topic, keyed by account ID, with each\nmessage's timestamp set to its file's delivery time, in delivery order.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errors.New("produce: at least one PATH is required")
	}
	if o.mode != "file" && o.mode != "record" {
		return fmt.Errorf("produce: -mode=%q: must be file or record", o.mode)
	}
	if o.speed < 0 {
		return fmt.Errorf("produce: -speed=%g: must not be negative", o.speed)
	}
	var bal kafka.Balancer
	switch o.balancer {
	case "murmur2":
		bal = &kafka.Murmur2Balancer{Consistent: true}
	case "crc32":
		bal = &kafka.CRC32Balancer{Consistent: true}
	default:
		return fmt.Errorf("produce: -balancer=%q: must be murmur2 or crc32", o.balancer)
	}
	if len(o.brokers) == 0 {
		return errors.New("produce: -brokers must name at least one broker")
	}
	files, err := consumers.ListFiles(fs.Args())
	if err != nil {
		return err
	}
	w := newWriter(o.brokers, o.topic, bal)
	w.BatchSize = 1000
	defer w.Close()
	st, err := consumers.Publish(ctx, w, files, consumers.PublishOptions{PerRecord: o.mode == "record", Speed: o.speed})
	fmt.Fprintf(stdout, "Published %d messages (%d records, %.1f MB) from %d files to %s; %d files skipped\n",
		st.Messages, st.Records, float64(st.Bytes)/1e6, st.Files, o.topic, st.Skipped)
	return err
}
