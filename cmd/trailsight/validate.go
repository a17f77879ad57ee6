package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/trailsight/trailsight/cloudtrail"
	"github.com/trailsight/trailsight/cloudtrail/validate"
	"github.com/trailsight/trailsight/emitters"
	"github.com/trailsight/trailsight/internal/objstore"
)

// validateBucket adapts an objstore.Store to validate.Bucket.
type validateBucket struct{ objstore.Store }

func (b validateBucket) Get(ctx context.Context, key string) ([]byte, map[string]string, error) {
	body, meta, err := b.Store.Get(ctx, key)
	if errors.Is(err, objstore.ErrNotFound) {
		return nil, nil, fmt.Errorf("%w: %w", validate.ErrNotFound, err)
	}
	return body, meta, err
}

// validateTimeLayouts are the time formats --start-time and --end-time take.
var validateTimeLayouts = []string{time.RFC3339, "2006-01-02T15:04Z", "2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"}

func parseValidateTime(flagName, s string) (time.Time, error) {
	for _, l := range validateTimeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("--%s=%q: want a time such as 2026-01-05T10:00:00Z or 2026-01-05", flagName, s)
}

func runValidate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	arn := fs.String("trail-arn", "", "ARN of the trail, arn:aws:cloudtrail:<home-region>:<account>:trail/<name> (required).")
	start := fs.String("start-time", "", "Validate digests from this time on (required; RFC 3339 or YYYY-MM-DD, UTC).")
	end := fs.String("end-time", "", "Validate digests up to this time (default: now).")
	bucket := fs.String("s3-bucket", "", "Bucket of the trail's files (required unless -dir names a local copy).")
	dir := fs.String("dir", "", "A local copy of the bucket (its root holds AWSLogs/ or the prefix) to validate instead of S3.")
	prefix := fs.String("s3-prefix", "", "The trail's S3 key prefix.")
	account := fs.String("account-id", "", "Account whose files to validate (default: the ARN's; an organization trail's member account).")
	org := fs.String("org-id", "", "Organization ID (o-…) of an organization trail.")
	region := fs.String("region", "", "Region whose digests to validate (default: the trail's home Region).")
	keys := fs.String("public-keys", "", "Public keys as ListPublicKeys returns them: a JSON file, or a signing key directory holding public-keys.json (required).")
	verbose := fs.Bool("verbose", false, "Print a line for every valid file too.")
	var s3c s3Config
	fs.StringVar(&s3c.Endpoint, "s3.endpoint", "", "S3 endpoint URL for S3-compatible servers; empty uses AWS.")
	fs.StringVar(&s3c.Region, "s3.region", "", "Region of the bucket; empty takes the AWS SDK's default.")
	fs.BoolVar(&s3c.PathStyle, "s3.path-style", false, "Address buckets in the URL path.")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: trailsight validate --trail-arn ARN --start-time T --public-keys FILE (--s3-bucket B | --dir D) [flags]\n\n"+
			"Validates a trail's digest chain and log files as `aws cloudtrail validate-logs` does: same\n"+
			"messages, exit status 1 when a file is invalid.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *arn == "" || *start == "" || *keys == "" || (*bucket == "" && *dir == "") || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("validate: --trail-arn, --start-time, --public-keys and --s3-bucket or --dir are required")
	}
	o := validate.Options{TrailARN: *arn, Region: *region, AccountID: *account, OrgID: *org, Prefix: *prefix,
		Verbose: *verbose, Stdout: stdout, Stderr: stderr}
	var err error
	if o.Start, err = parseValidateTime("start-time", *start); err != nil {
		return err
	}
	if *end != "" {
		if o.End, err = parseValidateTime("end-time", *end); err != nil {
			return err
		}
	} else {
		o.End = time.Now().UTC().Truncate(time.Second)
	}
	keyFile := *keys
	if fi, err := os.Stat(keyFile); err == nil && fi.IsDir() {
		keyFile = filepath.Join(keyFile, emitters.PublicKeysFile)
	}
	b, err := os.ReadFile(keyFile)
	if err != nil {
		return fmt.Errorf("--public-keys: %w", err)
	}
	if o.PublicKeys, err = cloudtrail.ParsePublicKeyList(b); err != nil {
		return fmt.Errorf("--public-keys=%s: %w", keyFile, err)
	}
	if *dir != "" {
		o.Bucket = validateBucket{objstore.NewDir(*dir, *bucket)}
	} else {
		open := func(name string) (validate.Bucket, error) {
			s, err := objstore.NewS3(ctx, objstore.S3Config{Bucket: name, Region: s3c.Region, Endpoint: s3c.Endpoint, PathStyle: s3c.PathStyle})
			if err != nil {
				return nil, err
			}
			return validateBucket{s}, nil
		}
		if o.Bucket, err = open(*bucket); err != nil {
			return err
		}
		o.Open = open
	}
	res, err := validate.Validate(ctx, o)
	if err != nil {
		return err
	}
	if code := res.ExitCode(); code != 0 {
		// The report says it all; like the AWS CLI, only the status adds.
		return &exitError{code: code, silent: true, err: fmt.Errorf("validate: %d digest and %d log files invalid", res.DigestsInvalid, res.LogsInvalid)}
	}
	return nil
}
