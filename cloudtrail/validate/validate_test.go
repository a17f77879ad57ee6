package validate_test

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trailsight/trailsight/cloudtrail"
	"github.com/trailsight/trailsight/cloudtrail/validate"
)

// chainStart is the start of the first digest of the test chains; digests
// end on the hour plus 7:32, as AWS digests drift off the hour.
var chainStart = time.Date(2026, 1, 12, 10, 7, 32, 0, time.UTC)

const testBucket = "trail-bucket"

// world is a bucket holding a four-hour chain D0…D3 (D3 newest) of trail
// "audit", with two log files per hour.
type world struct {
	bucket *MemBucket
	chain  *Chain
	opts   validate.Options
}

func newWorld(t *testing.T) *world {
	t.Helper()
	keys := TestKeys()
	b := NewMemBucket(testBucket)
	c := NewChain(t, b, "audit", keys[0])
	for i := range 4 {
		c.Hour(chainStart.Add(time.Duration(i)*time.Hour), 2)
	}
	return &world{bucket: b, chain: c, opts: validate.Options{
		TrailARN:   c.ARN(),
		Start:      time.Date(2026, 1, 12, 10, 0, 0, 0, time.UTC),
		End:        time.Date(2026, 1, 12, 14, 30, 0, 0, time.UTC),
		Region:     c.Region,
		PublicKeys: PublicKeys(keys[0], keys[1]),
		Bucket:     b,
	}}
}

// digest returns the s3:// URL of digest i.
func (w *world) digest(i int) string { return "s3://" + testBucket + "/" + w.chain.Digests[i] }

// log returns the s3:// URL of log file j of digest i.
func (w *world) log(i, j int) string { return "s3://" + testBucket + "/" + w.chain.Logs[i][j] }

// run validates with o and returns what it printed.
func run(t *testing.T, o validate.Options) (stdout, stderr string, res validate.Result) {
	t.Helper()
	var out, errOut bytes.Buffer
	o.Stdout, o.Stderr = &out, &errOut
	res, err := validate.Validate(context.Background(), o)
	if err != nil {
		t.Fatalf("Validate: %v\nstdout:\n%s\nstderr:\n%s", err, out.String(), errOut.String())
	}
	return out.String(), errOut.String(), res
}

// errLines is the stderr of the CLI for these lines, in non-verbose mode:
// each followed by a blank line.
func errLines(lines ...string) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l + "\n\n")
	}
	return b.String()
}

// cleanStdout is the non-verbose stdout of a run over the untouched world.
const cleanStdout = "Validating log files for trail arn:aws:cloudtrail:us-east-1:111122223333:trail/audit between 2026-01-12T10:00:00Z and 2026-01-12T14:30:00Z\n" +
	"\n" +
	"Results requested for 2026-01-12T10:00:00Z to 2026-01-12T14:30:00Z\n" +
	"Results found for 2026-01-12T10:07:32Z to 2026-01-12T14:07:32Z:\n" +
	"\n" +
	"4/4 digest files valid\n" +
	"8/8 log files valid\n"

// TestTamper is the tamper matrix: each case damages a genuine chain the
// way an attacker or an accident would and checks the exact stderr of the
// reference validator, the counts and the exit status.
func TestTamper(t *testing.T) {
	keys := TestKeys()
	for _, tc := range []struct {
		name       string
		tamper     func(t *testing.T, w *world)
		wantStderr func(w *world) string
		want       validate.Result
	}{
		{
			name:       "untouched",
			tamper:     func(*testing.T, *world) {},
			wantStderr: func(*world) string { return "" },
			want:       validate.Result{DigestsValid: 4, LogsValid: 8},
		},
		{
			name: "log file content changed",
			tamper: func(t *testing.T, w *world) {
				w.bucket.Rewrite(t, w.chain.Logs[1][0], func(p []byte) []byte {
					return bytes.Replace(p, []byte("RunInstances"), []byte("RunInstanceS"), 1)
				})
			},
			wantStderr: func(w *world) string {
				return errLines("Log file\t" + w.log(1, 0) + "\tINVALID: hash value doesn't match")
			},
			want: validate.Result{DigestsValid: 4, LogsValid: 7, LogsInvalid: 1},
		},
		{
			name: "log file truncated",
			tamper: func(t *testing.T, w *world) {
				body, _ := w.bucket.Object(t, w.chain.Logs[2][1])
				w.bucket.Put(w.chain.Logs[2][1], body[:len(body)/2], nil)
			},
			wantStderr: func(w *world) string {
				return errLines("Log file\t" + w.log(2, 1) + "\tINVALID: hash value doesn't match")
			},
			want: validate.Result{DigestsValid: 4, LogsValid: 7, LogsInvalid: 1},
		},
		{
			name: "log file gzip checksum damaged",
			tamper: func(t *testing.T, w *world) {
				body, _ := w.bucket.Object(t, w.chain.Logs[0][1])
				body[len(body)-8] ^= 0xff // CRC-32 of the gzip trailer
				w.bucket.Put(w.chain.Logs[0][1], body, nil)
			},
			wantStderr: func(w *world) string {
				return errLines("Log file\t" + w.log(0, 1) + "\tINVALID: invalid format")
			},
			want: validate.Result{DigestsValid: 4, LogsValid: 7, LogsInvalid: 1},
		},
		{
			name: "log file not gzip",
			tamper: func(t *testing.T, w *world) {
				w.bucket.Put(w.chain.Logs[3][0], []byte(`{"Records":[]}`), nil)
			},
			wantStderr: func(w *world) string {
				return errLines("Log file\t" + w.log(3, 0) + "\tINVALID: invalid format")
			},
			want: validate.Result{DigestsValid: 4, LogsValid: 7, LogsInvalid: 1},
		},
		{
			name:   "log file deleted",
			tamper: func(t *testing.T, w *world) { w.bucket.Delete(w.chain.Logs[1][1]) },
			wantStderr: func(w *world) string {
				return errLines("Log file\t" + w.log(1, 1) + "\tINVALID: not found")
			},
			want: validate.Result{DigestsValid: 4, LogsValid: 7, LogsInvalid: 1},
		},
		{
			name:   "middle digest deleted: the walk resumes at the next older digest",
			tamper: func(t *testing.T, w *world) { w.bucket.Delete(w.chain.Digests[2]) },
			wantStderr: func(w *world) string {
				return errLines("Digest file\t" + w.digest(2) + "\tINVALID: not found")
			},
			want: validate.Result{DigestsValid: 3, DigestsInvalid: 1, LogsValid: 6},
		},
		{
			name: "newest digest moved",
			tamper: func(t *testing.T, w *world) {
				w.bucket.Move(t, w.chain.Digests[3], movedKey(w, 3))
			},
			wantStderr: func(w *world) string {
				return errLines("Digest file\ts3://" + testBucket + "/" + movedKey(w, 3) + "\tINVALID: has been moved from its original location")
			},
			want: validate.Result{DigestsValid: 3, DigestsInvalid: 1, LogsValid: 6},
		},
		{
			name: "middle digest moved: missing where linked, moved where found",
			tamper: func(t *testing.T, w *world) {
				w.bucket.Move(t, w.chain.Digests[2], movedKey(w, 2))
			},
			wantStderr: func(w *world) string {
				return errLines(
					"Digest file\t"+w.digest(2)+"\tINVALID: not found",
					"Digest file\ts3://"+testBucket+"/"+movedKey(w, 2)+"\tINVALID: has been moved from its original location")
			},
			want: validate.Result{DigestsValid: 3, DigestsInvalid: 2, LogsValid: 6},
		},
		{
			name: "newest digest JSON edited",
			tamper: func(t *testing.T, w *world) {
				w.bucket.Rewrite(t, w.chain.Digests[3], func(p []byte) []byte {
					return bytes.Replace(p, []byte(`"awsAccountId":"111122223333"`), []byte(`"awsAccountId":"999999999999"`), 1)
				})
			},
			wantStderr: func(w *world) string {
				return errLines("Digest file\t" + w.digest(3) + "\tINVALID: signature verification failed")
			},
			want: validate.Result{DigestsValid: 3, DigestsInvalid: 1, LogsValid: 6},
		},
		{
			// A log file and its hash in the digest changed together: the
			// digest's signature fails, and trailsight's previous-hash
			// check also flags the newer digest, whose signature holds.
			name: "middle digest edited to hide a changed log file",
			tamper: func(t *testing.T, w *world) {
				lk := w.chain.Logs[1][0]
				d := w.bucket.Digest(t, w.chain.Digests[1])
				var newHash string
				w.bucket.Rewrite(t, lk, func(p []byte) []byte {
					p = bytes.Replace(p, []byte("RunInstances"), []byte("DescribeVpcs"), 1)
					newHash = cloudtrail.HashHex(p)
					return p
				})
				w.bucket.Rewrite(t, w.chain.Digests[1], func(p []byte) []byte {
					for _, f := range d.LogFiles {
						if f.S3Object == lk {
							return bytes.Replace(p, []byte(f.HashValue), []byte(newHash), 1)
						}
					}
					t.Fatal("log file not in digest")
					return nil
				})
			},
			wantStderr: func(w *world) string {
				return errLines(
					"Digest file\t"+w.digest(2)+"\tINVALID: previousDigestHashValue doesn't match previous digest "+w.digest(1)+" (trailsight check)",
					"Digest file\t"+w.digest(1)+"\tINVALID: signature verification failed")
			},
			want: validate.Result{DigestsValid: 2, DigestsInvalid: 2, LogsValid: 4},
		},
		{
			// Only trailsight notices: the replacement is validly signed,
			// so aws cloudtrail validate-logs accepts both digests.
			name: "previous digest replaced by a validly signed one",
			tamper: func(t *testing.T, w *world) {
				d := w.bucket.Digest(t, w.chain.Digests[1])
				d.LogFiles = d.LogFiles[1:] // hide the newer log file
				PutDigest(t, w.bucket, d, keys[0])
			},
			wantStderr: func(w *world) string {
				return errLines("Digest file\t" + w.digest(2) + "\tINVALID: previousDigestHashValue doesn't match previous digest " + w.digest(1) + " (trailsight check)")
			},
			want: validate.Result{DigestsValid: 3, DigestsInvalid: 1, LogsValid: 5},
		},
		{
			name:   "signed with another known key",
			tamper: func(t *testing.T, w *world) { Resign(t, w.bucket, w.chain.Digests[1], keys[1]) },
			wantStderr: func(w *world) string {
				return errLines("Digest file\t" + w.digest(1) + "\tINVALID: signature verification failed")
			},
			want: validate.Result{DigestsValid: 3, DigestsInvalid: 1, LogsValid: 6},
		},
		{
			name: "unknown fingerprint",
			tamper: func(t *testing.T, w *world) {
				d := w.bucket.Digest(t, w.chain.Digests[3])
				d.DigestPublicKeyFingerprint = cloudtrail.Fingerprint(&keys[2].PublicKey)
				PutDigest(t, w.bucket, d, keys[2])
			},
			wantStderr: func(w *world) string {
				// The CLI names the home Region, not the Region scanned.
				return errLines("Digest file\t" + w.digest(3) + "\tINVALID: public key not found in region us-east-1 for fingerprint " +
					cloudtrail.Fingerprint(&keys[2].PublicKey))
			},
			want: validate.Result{DigestsValid: 3, DigestsInvalid: 1, LogsValid: 6},
		},
		{
			name: "public key not loadable",
			tamper: func(t *testing.T, w *world) {
				w.opts.PublicKeys[0].Value = []byte("not DER")
			},
			wantStderr: func(w *world) string {
				var lines []string
				for i := 3; i >= 0; i-- {
					lines = append(lines, "Digest file\t"+w.digest(i)+"\tINVALID: Unable to load PKCS #1 key with fingerprint "+
						cloudtrail.Fingerprint(&keys[0].PublicKey))
				}
				return errLines(lines...)
			},
			want: validate.Result{DigestsInvalid: 4},
		},
		{
			name: "signature metadata missing",
			tamper: func(t *testing.T, w *world) {
				w.bucket.EditMeta(t, w.chain.Digests[2], func(m map[string]string) { delete(m, cloudtrail.MetaSignature) })
			},
			wantStderr: func(w *world) string {
				return errLines("Digest file\t" + w.digest(2) + "\tINVALID: signature verification failed")
			},
			want: validate.Result{DigestsValid: 3, DigestsInvalid: 1, LogsValid: 6},
		},
		{
			name: "signature-algorithm metadata missing",
			tamper: func(t *testing.T, w *world) {
				w.bucket.EditMeta(t, w.chain.Digests[0], func(m map[string]string) { delete(m, cloudtrail.MetaSignatureAlgorithm) })
			},
			wantStderr: func(w *world) string {
				return errLines("Digest file\t" + w.digest(0) + "\tINVALID: signature verification failed")
			},
			want: validate.Result{DigestsValid: 3, DigestsInvalid: 1, LogsValid: 6},
		},
		{
			name: "digest not gzip",
			tamper: func(t *testing.T, w *world) {
				_, meta := w.bucket.Object(t, w.chain.Digests[3])
				w.bucket.Put(w.chain.Digests[3], w.bucket.Digest(t, w.chain.Digests[3]).AppendJSON(nil), meta)
			},
			wantStderr: func(w *world) string {
				return errLines("Digest file\t" + w.digest(3) + "\tINVALID: invalid format")
			},
			want: validate.Result{DigestsValid: 3, DigestsInvalid: 1, LogsValid: 6},
		},
		{
			name: "digest missing a required key",
			tamper: func(t *testing.T, w *world) {
				w.bucket.Rewrite(t, w.chain.Digests[3], func(p []byte) []byte {
					return bytes.Replace(p, []byte(`"digestStartTime"`), []byte(`"digestBeginTime"`), 1)
				})
			},
			wantStderr: func(w *world) string {
				return errLines("Digest file\t" + w.digest(3) + "\tINVALID: invalid format")
			},
			want: validate.Result{DigestsValid: 3, DigestsInvalid: 1, LogsValid: 6},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			tc.tamper(t, w)
			stdout, stderr, res := run(t, w.opts)
			if want := tc.wantStderr(w); stderr != want {
				t.Errorf("stderr:\n%s", cmp.Diff(want, stderr))
			}
			if diff := cmp.Diff(res, tc.want); diff != "" {
				t.Errorf("Result (-got +want):\n%s", diff)
			}
			wantExit := 0
			if tc.want.DigestsInvalid+tc.want.LogsInvalid > 0 {
				wantExit = 1
			}
			if got := res.ExitCode(); got != wantExit {
				t.Errorf("ExitCode = %d, want %d", got, wantExit)
			}
			if tc.name == "untouched" && stdout != cleanStdout {
				t.Errorf("stdout (-want +got):\n%s", cmp.Diff(cleanStdout, stdout))
			}
			if !strings.Contains(stdout, ratioLine(res.DigestsValid, res.DigestsInvalid, "digest")) {
				t.Errorf("stdout lacks the digest ratio of %+v:\n%s", res, stdout)
			}
		})
	}
}

// movedKey is where the "moved" cases put digest i: the same folder, one
// minute earlier, so the listing still finds it.
func movedKey(w *world, i int) string {
	c := w.chain
	return cloudtrail.DigestFileKey(c.Prefix, c.Account, c.Region, c.Trail, c.HomeRegion,
		chainStart.Add(time.Duration(i+1)*time.Hour-time.Minute))
}

// ratioLine is the summary's digest or log line.
func ratioLine(valid, invalid int, name string) string {
	total := valid + invalid
	s := "\n" + strconv.Itoa(valid) + "/" + strconv.Itoa(total) + " " + name + " files valid"
	if invalid > 0 {
		s += ", " + strconv.Itoa(invalid) + "/" + strconv.Itoa(total) + " " + name + " files INVALID"
	}
	return s + "\n"
}

// TestGap checks the gap line between a starting digest and the older
// chain it does not link to (spec §5.3): validation was off for an hour.
func TestGap(t *testing.T) {
	keys := TestKeys()
	b := NewMemBucket(testBucket)
	c := NewChain(t, b, "audit", keys[0])
	c.Hour(chainStart, 1)
	c.Hour(chainStart.Add(time.Hour), 1)
	c.Restart()
	c.Hour(chainStart.Add(3*time.Hour), 1)
	c.Hour(chainStart.Add(4*time.Hour), 1)
	_, stderr, res := run(t, validate.Options{
		TrailARN: c.ARN(), Region: c.Region, Bucket: b, PublicKeys: PublicKeys(keys[0]),
		Start: chainStart, End: chainStart.Add(5 * time.Hour),
	})
	want := errLines("No log files were delivered by CloudTrail between 2026-01-12T12:07:32Z and 2026-01-12T13:07:32Z")
	if stderr != want {
		t.Errorf("stderr:\n%s", cmp.Diff(want, stderr))
	}
	if diff := cmp.Diff(res, validate.Result{DigestsValid: 4, LogsValid: 4}); diff != "" {
		t.Errorf("Result (-got +want):\n%s", diff)
	}
	if res.ExitCode() != 0 {
		t.Errorf("ExitCode = %d, want 0: a gap is not an error", res.ExitCode())
	}
}

// TestVerbose pins the verbose output, blank lines included: valid lines
// on stdout, and a blank line before an INVALID line that follows them.
func TestVerbose(t *testing.T) {
	w := newWorld(t)
	w.bucket.Delete(w.chain.Logs[1][0])
	w.opts.Verbose = true
	stdout, stderr, _ := run(t, w.opts)

	var want strings.Builder
	want.WriteString("Validating log files for trail arn:aws:cloudtrail:us-east-1:111122223333:trail/audit between 2026-01-12T10:00:00Z and 2026-01-12T14:30:00Z\n\n")
	for i := 3; i >= 0; i-- {
		want.WriteString("Digest file\t" + w.digest(i) + "\tvalid\n")
		for j := 1; j >= 0; j-- {
			if i == 1 && j == 0 {
				continue
			}
			want.WriteString("Log file\t" + w.log(i, j) + "\tvalid\n")
		}
	}
	want.WriteString("\nResults requested for 2026-01-12T10:00:00Z to 2026-01-12T14:30:00Z\n" +
		"Results found for 2026-01-12T10:07:32Z to 2026-01-12T14:07:32Z:\n\n" +
		"4/4 digest files valid\n" +
		"7/8 log files valid, 1/8 log files INVALID\n")
	if stdout != want.String() {
		t.Errorf("stdout (-want +got):\n%s", cmp.Diff(want.String(), stdout))
	}
	if wantErr := "\nLog file\t" + w.log(1, 0) + "\tINVALID: not found\n\n"; stderr != wantErr {
		t.Errorf("stderr (-want +got):\n%s", cmp.Diff(wantErr, stderr))
	}
}

// TestRange checks where the walk starts and stops: the listing keeps
// digests ending from the start to one hour past the end, and the walk
// stops after the first digest that starts before the start.
func TestRange(t *testing.T) {
	for _, tc := range []struct {
		name       string
		start, end time.Time
		wantValid  []int // digests validated, newest first
		wantFound  string
	}{
		{
			name:  "whole chain",
			start: time.Date(2026, 1, 12, 0, 0, 0, 0, time.UTC), end: time.Date(2026, 1, 13, 0, 0, 0, 0, time.UTC),
			wantValid: []int{3, 2, 1, 0}, wantFound: "Results found for 2026-01-12T10:07:32Z to 2026-01-12T14:07:32Z:",
		},
		{
			// D2 starts before the start: it is validated, and ends the
			// walk. The CLI reports the found range from D3's start.
			name:  "start inside D2",
			start: time.Date(2026, 1, 12, 12, 30, 0, 0, time.UTC), end: time.Date(2026, 1, 12, 14, 30, 0, 0, time.UTC),
			wantValid: []int{3, 2}, wantFound: "Results found for 2026-01-12T13:07:32Z to 2026-01-12T14:07:32Z:",
		},
		{
			// D2 ends after end + 1h and is not listed.
			name:  "end before D2",
			start: time.Date(2026, 1, 12, 10, 0, 0, 0, time.UTC), end: time.Date(2026, 1, 12, 12, 0, 0, 0, time.UTC),
			wantValid: []int{1, 0}, wantFound: "Results found for 2026-01-12T10:07:32Z to 2026-01-12T12:00:00Z:",
		},
		{
			// end + 1h reaches D2: digests that spill past the end count.
			name:  "end within an hour of D2",
			start: time.Date(2026, 1, 12, 10, 0, 0, 0, time.UTC), end: time.Date(2026, 1, 12, 12, 7, 32, 0, time.UTC),
			wantValid: []int{2, 1, 0}, wantFound: "Results found for 2026-01-12T10:07:32Z to 2026-01-12T12:07:32Z:",
		},
		{
			name:  "start after the last digest",
			start: time.Date(2026, 1, 12, 14, 8, 0, 0, time.UTC), end: time.Date(2026, 1, 12, 15, 0, 0, 0, time.UTC),
			wantValid: nil, wantFound: "No digests found",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			w.opts.Start, w.opts.End, w.opts.Verbose = tc.start, tc.end, true
			stdout, stderr, res := run(t, w.opts)
			if stderr != "" {
				t.Errorf("stderr: %s", stderr)
			}
			var got []int
			for i := 3; i >= 0; i-- {
				if strings.Contains(stdout, "Digest file\t"+w.digest(i)+"\tvalid\n") {
					got = append(got, i)
				}
			}
			if diff := cmp.Diff(got, tc.wantValid); diff != "" {
				t.Errorf("digests validated (-got +want):\n%s", diff)
			}
			if res.DigestsValid != len(tc.wantValid) || res.LogsValid != 2*len(tc.wantValid) {
				t.Errorf("Result = %+v, want %d valid digests", res, len(tc.wantValid))
			}
			if !strings.Contains(stdout, "\n"+tc.wantFound+"\n") {
				t.Errorf("stdout lacks %q:\n%s", tc.wantFound, stdout)
			}
		})
	}
}

// TestNoValidDigests checks the summary when every digest is invalid.
func TestNoValidDigests(t *testing.T) {
	w := newWorld(t)
	w.opts.PublicKeys = PublicKeys(TestKeys()[1])
	stdout, _, res := run(t, w.opts)
	want := "Results requested for 2026-01-12T10:00:00Z to 2026-01-12T14:30:00Z\n" +
		"No valid digests found in range\n\n" +
		"0/4 digest files valid, 4/4 digest files INVALID\n"
	if !strings.HasSuffix(stdout, want) {
		t.Errorf("stdout:\n%s\nwant suffix:\n%s", stdout, want)
	}
	if res.ExitCode() != 1 {
		t.Errorf("ExitCode = %d, want 1", res.ExitCode())
	}
}

// TestTrailNameUnderscores validates an organization trail with a key
// prefix whose name has underscores, next to the digests of a trail whose
// name extends it in a way the CLI's pattern alone would confuse with it.
func TestTrailNameUnderscores(t *testing.T) {
	keys := TestKeys()
	b := NewMemBucket(testBucket)
	kp := cloudtrail.KeyPrefix{Prefix: "logs/o-abc123", OrgID: "o-abc123"}
	c := NewChain(t, b, "XXXX_Infosec_Audit", keys[0])
	c.Prefix = kp
	// "XXXX_Infosec_Audit_us-east-1_x" with home Region us-east-1 writes
	// keys matching XXXX_Infosec_Audit_us\-east\-1_.+\.json\.gz.
	other := NewChain(t, b, "XXXX_Infosec_Audit_us-east-1_x", keys[2])
	other.Prefix = kp
	for i := range 3 {
		c.Hour(chainStart.Add(time.Duration(i)*time.Hour), 1)
		other.Hour(chainStart.Add(time.Duration(i)*time.Hour+30*time.Minute), 1)
	}
	stdout, stderr, res := run(t, validate.Options{
		TrailARN: c.ARN(), Region: c.Region, Prefix: kp.Prefix, OrgID: kp.OrgID,
		Bucket: b, PublicKeys: PublicKeys(keys[0]),
		Start: chainStart, End: chainStart.Add(3 * time.Hour), Verbose: true,
	})
	if stderr != "" {
		t.Errorf("stderr:\n%s", stderr)
	}
	if diff := cmp.Diff(res, validate.Result{DigestsValid: 3, LogsValid: 3}); diff != "" {
		t.Errorf("Result (-got +want):\n%s\nstdout:\n%s", diff, stdout)
	}
	if strings.Contains(stdout, "_x_") {
		t.Errorf("the other trail's files were validated:\n%s", stdout)
	}
}

// TestBucketChange follows a chain whose older digests are in another
// bucket, with and without a way to open it.
func TestBucketChange(t *testing.T) {
	keys := TestKeys()
	build := func(t *testing.T) (oldB, newB *MemBucket, c *Chain) {
		oldB, newB = NewMemBucket("old-bucket"), NewMemBucket("new-bucket")
		c = NewChain(t, oldB, "audit", keys[0])
		c.Hour(chainStart, 1)
		c.Hour(chainStart.Add(time.Hour), 1)
		c.Bucket = newB
		c.Hour(chainStart.Add(2*time.Hour), 1)
		c.Hour(chainStart.Add(3*time.Hour), 1)
		return oldB, newB, c
	}
	opts := func(c *Chain, b validate.Bucket) validate.Options {
		return validate.Options{
			TrailARN: c.ARN(), Region: c.Region, Bucket: b, PublicKeys: PublicKeys(keys[0]),
			Start: chainStart, End: chainStart.Add(4 * time.Hour),
		}
	}

	t.Run("with Open", func(t *testing.T) {
		oldB, newB, c := build(t)
		o := opts(c, newB)
		var opened []string
		o.Open = func(name string) (validate.Bucket, error) {
			opened = append(opened, name)
			if name != oldB.Name() {
				return nil, errors.New("no such bucket")
			}
			return oldB, nil
		}
		_, stderr, res := run(t, o)
		if stderr != "" {
			t.Errorf("stderr:\n%s", stderr)
		}
		if diff := cmp.Diff(res, validate.Result{DigestsValid: 4, LogsValid: 4}); diff != "" {
			t.Errorf("Result (-got +want):\n%s", diff)
		}
		if diff := cmp.Diff(opened, []string{"old-bucket"}); diff != "" {
			t.Errorf("buckets opened (-got +want):\n%s", diff)
		}
	})
	t.Run("without Open", func(t *testing.T) {
		_, newB, c := build(t)
		_, stderr, res := run(t, opts(c, newB))
		want := errLines("Digest file\ts3://old-bucket/" + c.Digests[1] + "\tINVALID: not found")
		if stderr != want {
			t.Errorf("stderr:\n%s", cmp.Diff(want, stderr))
		}
		if diff := cmp.Diff(res, validate.Result{DigestsValid: 2, DigestsInvalid: 1, LogsValid: 2}); diff != "" {
			t.Errorf("Result (-got +want):\n%s", diff)
		}
	})
}

// TestFatal checks the conditions that stop a run with an error.
func TestFatal(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name    string
		edit    func(w *world)
		wantErr string
	}{
		{"bad ARN", func(w *world) { w.opts.TrailARN = "arn:aws:s3:::trail-bucket" }, "invalid trail ARN"},
		{"no bucket", func(w *world) { w.opts.Bucket = nil }, "no bucket"},
		{"no start", func(w *world) { w.opts.Start = time.Time{} }, "no start time"},
		{"start after end", func(w *world) { w.opts.Start = w.opts.End.Add(time.Second) }, "is after end time"},
		{"no public keys", func(w *world) { w.opts.PublicKeys = nil },
			"no public keys found between 2026-01-12T10:00:00Z and 2026-01-12T14:30:00Z"},
		{"listing fails", func(w *world) { w.bucket.ListErr = boom }, "boom"},
		{"reading a digest fails", func(w *world) { w.bucket.GetErr[w.chain.Digests[2]] = boom }, "boom"},
		{"reading a log file fails", func(w *world) { w.bucket.GetErr[w.chain.Logs[0][0]] = boom }, "boom"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			tc.edit(w)
			var out bytes.Buffer
			w.opts.Stdout = &out
			_, err := validate.Validate(context.Background(), w.opts)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Validate = %v, want an error containing %q", err, tc.wantErr)
			}
			if strings.Contains(out.String(), "Results requested") {
				t.Errorf("summary printed after a fatal error:\n%s", out.String())
			}
		})
	}
}

func TestParseTrailARN(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want validate.TrailARN
		ok   bool
	}{
		{"arn:aws:cloudtrail:us-east-1:111122223333:trail/audit",
			validate.TrailARN{Partition: "aws", HomeRegion: "us-east-1", AccountID: "111122223333", Name: "audit"}, true},
		{"arn:aws-cn:cloudtrail:cn-north-1:111122223333:trail/My_Trail-1",
			validate.TrailARN{Partition: "aws-cn", HomeRegion: "cn-north-1", AccountID: "111122223333", Name: "My_Trail-1"}, true},
		{"arn:aws-us-gov:cloudtrail:us-gov-west-1:111122223333:trail/t",
			validate.TrailARN{Partition: "aws-us-gov", HomeRegion: "us-gov-west-1", AccountID: "111122223333", Name: "t"}, true},
		{"arn:aws:cloudtrail:us-east-1:11112222333:trail/short-account", validate.TrailARN{}, false},
		{"arn:aws:cloudtrail:us-east-1:111122223333:eventdatastore/x", validate.TrailARN{}, false},
		{"arn:aws:cloudtrail:us-east-1:111122223333:trail/", validate.TrailARN{}, false},
		{"arn:aws:cloudtrail::111122223333:trail/x", validate.TrailARN{}, false},
		{"arn::cloudtrail:us-east-1:111122223333:trail/x", validate.TrailARN{}, false},
		{"audit", validate.TrailARN{}, false},
	} {
		got, err := validate.ParseTrailARN(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseTrailARN(%q) = %+v, %v; want %+v, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
