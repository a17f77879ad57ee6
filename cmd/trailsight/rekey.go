package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/segmentio/kafka-go"

	"github.com/trailsight/trailsight/consumers"
)

func runRekey(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("rekey", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := consumers.RekeyConfig{Brokers: []string{"127.0.0.1:9092"}}
	fs.Func("brokers", "Comma-separated Kafka brokers (default 127.0.0.1:9092).", func(s string) error {
		cfg.Brokers = splitList(s)
		return nil
	})
	fs.Func("topics", "Comma-separated topics to read (required): unkeyed, or keyed by something other than the account.", func(s string) error {
		cfg.Topics = splitList(s)
		return nil
	})
	fs.StringVar(&cfg.GroupID, "group-id", "trailsight-rekey", "Consumer group of the stage.")
	out := fs.String("out", "cloudtrail-events", "Topic to write to, keyed by account: what trailsight serve reads.")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: trailsight rekey -topics IN[,IN...] [-out TOPIC] [flags]\n\nRepublishes CloudTrail records keyed by their recipientAccountId, so that\ntrailsight serve sees every record of an account on one partition. Runs\nuntil interrupted.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if len(cfg.Topics) == 0 || *out == "" {
		fs.Usage()
		return errors.New("rekey: -topics and -out are required")
	}
	for _, t := range cfg.Topics {
		if t == *out {
			return fmt.Errorf("rekey: -out=%q must differ from the topics it reads", *out)
		}
	}
	// The partitioner of Java clients and of trailsight produce.
	w := newWriter(cfg.Brokers, *out, &kafka.Murmur2Balancer{Consistent: true})
	defer w.Close()
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	var last consumers.RekeyStats
	err := consumers.Rekey(ctx, cfg, w, logger, func(s consumers.RekeyStats) { last = s })
	fmt.Fprintf(stdout, "Rekeyed %d messages into %d (%d split by account, %d undecodable passed on unkeyed)\n",
		last.In, last.Out, last.Split, last.Passed)
	return err
}
