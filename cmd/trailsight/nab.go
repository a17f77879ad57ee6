package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/trailsight/trailsight/eval"
)

func runEvalNAB(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("eval nab", flag.ContinueOnError)
	fs.SetOutput(stderr)
	corpus := fs.String("corpus", "", "NAB-layout corpus directory (data/, labels/combined_windows.json).")
	out := fs.String("out", "", "Directory to write results/<detector>/... to.")
	gen := fs.Bool("generate", false, "Generate a small synthetic NAB-format corpus in --corpus first.")
	name := fs.String("detector", "trailsight", "Detector name used in the results layout.")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *corpus == "" || *out == "" {
		fs.Usage()
		return errors.New("eval nab: --corpus and --out are required")
	}
	if *gen {
		if err := eval.GenerateNABCorpus(*corpus, 1); err != nil {
			return err
		}
	}
	res, err := eval.RunNAB(*corpus, *out, *name, func(step time.Duration) eval.NABDetector { return eval.NewNABModel(step) })
	if err != nil {
		return err
	}
	res.WriteTable(stdout)
	fmt.Fprintf(stdout, "Results under %s\n", *out)
	return nil
}
