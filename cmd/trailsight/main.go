// Command trailsight watches CloudTrail events and writes CloudTrail
// Insights records when the rate of write calls or of errors leaves its
// normal. Run `trailsight help` for the subcommands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

type command struct {
	name, args, help string
	run              func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"replay", "[flags] PATH...", "Replay trail log files (trees, files, or - for JSON Lines on stdin) and write Insights files; through trails, also log files and digests.", runReplay},
		{"gen", "[flags]", "Generate a deterministic labelled synthetic trail.", runGen},
		{"eval", "[flags] | eval nab [flags]", "Replay a labelled dataset and score the Insights; or run and score a NAB-format corpus.", runEval},
		{"series", "[flags] DATASET", "Replay a trail and print one series minute by minute beside what the detector expected.", runSeries},
		{"explain", "-data PATH -insights FILE|DIR EVENT-ID", "Replay the trail an Insight came from and print why it fired, minute by minute.", runExplain},
		{"plot", "-account A -source S -name N -from T -to T [flags] PATH...", "Replay a trail and draw one series as SVG: counts, expected, normal band, Insights shaded.", runPlot},
		{"serve", "[-config.file FILE] [flags]", "Consume CloudTrail records from Kafka (an embedded broker by default) and emit Insights.", runServe},
		{"produce", "[flags] PATH...", "Publish trail log files to a Kafka topic, keyed by account, paced by delivery time.", runProduce},
		{"rekey", "-topics IN [-out TOPIC] [flags]", "Republish CloudTrail records keyed by account, for topics that are not.", runRekey},
		{"validate", "--trail-arn ARN --start-time T [flags]", "Validate a trail's digest chain and log files, as `aws cloudtrail validate-logs` does.", runValidate},
		{"demo", "[flags]", "Generate a small labelled trail, replay it and show the Insights beside the planted anomalies.", runDemo},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		var ee *exitError
		if !errors.Is(err, flag.ErrHelp) && !(errors.As(err, &ee) && ee.silent) {
			fmt.Fprintln(os.Stderr, "trailsight:", err)
		}
		os.Exit(exitCode(err))
	}
}

// exitError carries a specific exit status; a silent one has been
// reported already.
type exitError struct {
	code   int
	silent bool
	err    error
}

func (e *exitError) Error() string { return e.err.Error() }

func exitCode(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 2
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	usage(stderr)
	return fmt.Errorf("unknown command %q", args[0])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "trailsight: CloudTrail Insights, self-hosted.\n\nUsage: trailsight COMMAND [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-7s %s\n          %s\n", c.name, c.args, c.help)
	}
	fmt.Fprintln(w, "\nRun 'trailsight COMMAND -h' for a command's flags.")
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
