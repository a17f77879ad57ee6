package consumers_test

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/trailsight/trailsight/cloudtrail"
)

// This file builds trail trees for the tests and benchmarks: CloudTrail
// records shaped like real ones (nested userIdentity with sessionContext,
// requestParameters, responseElements, tlsDetails), written in the S3 key
// layout with cloudtrail.EncodeRecordsFile.

// call describes one record; everything else in it is derived.
type call struct {
	time      time.Time
	account   string
	region    string
	source    string // ec2.amazonaws.com
	name      string // RunInstances
	role      string // assumed role name
	session   string // role session name
	userAgent string
	errorCode string // "" for a successful call
	readOnly  bool
	seq       uint64 // makes eventID, requestID and resource IDs unique
}

// mix is splitmix64: a cheap, well-spread hash for deterministic IDs.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// appendHex appends the n low hex digits of v.
func appendHex(b []byte, v uint64, n int) []byte {
	const digits = "0123456789abcdef"
	for i := n - 1; i >= 0; i-- {
		b = append(b, digits[v>>(4*uint(i))&0xf])
	}
	return b
}

// appendUUID appends a version-4-shaped UUID derived from v.
func appendUUID(b []byte, v uint64) []byte {
	h1, h2 := mix(v), mix(v^0x5bd1e995)
	b = appendHex(b, h1>>32, 8)
	b = append(b, '-')
	b = appendHex(b, h1>>16, 4)
	b = append(b, "-4"...)
	b = appendHex(b, h1, 3)
	b = append(b, "-a"...)
	b = appendHex(b, h2>>48, 3)
	b = append(b, '-')
	return appendHex(b, h2, 12)
}

// id is the seq of c made unique across accounts.
func (c *call) id() uint64 {
	a, _ := strconv.ParseUint(c.account, 10, 64)
	return c.seq ^ a<<20
}

// eventID returns the record's eventID.
func (c *call) eventID() string { return string(appendUUID(nil, c.id())) }

// appendJSON appends the record, about 1.5 KB of compact JSON.
func (c *call) appendJSON(b []byte) []byte {
	id := c.id()
	h := mix(id)
	b = append(b, `{"eventVersion":"1.09","userIdentity":{"type":"AssumedRole","principalId":"AROA`...)
	b = appendHex(b, mix(uint64(len(c.role))), 12)
	b = append(b, ':')
	b = append(b, c.session...)
	b = append(b, `","arn":"arn:aws:sts::`...)
	b = append(b, c.account...)
	b = append(b, `:assumed-role/`...)
	b = append(b, c.role...)
	b = append(b, '/')
	b = append(b, c.session...)
	b = append(b, `","accountId":"`...)
	b = append(b, c.account...)
	b = append(b, `","accessKeyId":"ASIA`...)
	b = appendHex(b, h, 16)
	b = append(b, `","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROA`...)
	b = appendHex(b, mix(uint64(len(c.role))), 12)
	b = append(b, `","arn":"arn:aws:iam::`...)
	b = append(b, c.account...)
	b = append(b, `:role/`...)
	b = append(b, c.role...)
	b = append(b, `","accountId":"`...)
	b = append(b, c.account...)
	b = append(b, `","userName":"`...)
	b = append(b, c.role...)
	b = append(b, `"},"webIdFederationData":{},"attributes":{"creationDate":"`...)
	b = c.time.Add(-37*time.Minute).UTC().AppendFormat(b, "2006-01-02T15:04:05Z")
	b = append(b, `","mfaAuthenticated":"false"}}},"eventTime":"`...)
	b = c.time.UTC().AppendFormat(b, "2006-01-02T15:04:05Z")
	b = append(b, `","eventSource":"`...)
	b = append(b, c.source...)
	b = append(b, `","eventName":"`...)
	b = append(b, c.name...)
	b = append(b, `","awsRegion":"`...)
	b = append(b, c.region...)
	b = append(b, `","sourceIPAddress":"10.`...)
	b = strconv.AppendUint(b, h>>8&0xff, 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, h>>16&0xff, 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, h>>24&0xff, 10)
	b = append(b, `","userAgent":"`...)
	b = append(b, c.userAgent...)
	b = append(b, '"')
	if c.errorCode != "" {
		b = append(b, `,"errorCode":"`...)
		b = append(b, c.errorCode...)
		b = append(b, `","errorMessage":"User: arn:aws:sts::`...)
		b = append(b, c.account...)
		b = append(b, `:assumed-role/`...)
		b = append(b, c.role...)
		b = append(b, '/')
		b = append(b, c.session...)
		b = append(b, ` is not authorized to perform: ec2:`...)
		b = append(b, c.name...)
		b = append(b, ` because no identity-based policy allows the \"ec2:`...)
		b = append(b, c.name...)
		b = append(b, `\" action"`...)
	}
	b = append(b, `,"requestParameters":{"instancesSet":{"items":[{"imageId":"ami-`...)
	b = appendHex(b, h>>3, 17)
	b = append(b, `","minCount":1,"maxCount":1,"keyName":"deploy"}]},"instanceType":"t3.micro","blockDeviceMapping":{"items":[{"deviceName":"/dev/xvda","ebs":{"volumeSize":20,"volumeType":"gp3","deleteOnTermination":true}}]},"subnetId":"subnet-`...)
	b = appendHex(b, h>>7, 17)
	b = append(b, `","tagSpecificationSet":{"items":[{"resourceType":"instance","tags":[{"key":"team","value":"platform"}]}]}}`...)
	if c.errorCode != "" || c.readOnly {
		b = append(b, `,"responseElements":null`...)
	} else {
		b = append(b, `,"responseElements":{"requestId":"`...)
		b = appendUUID(b, id^1)
		b = append(b, `","reservationId":"r-`...)
		b = appendHex(b, h>>5, 17)
		b = append(b, `","ownerId":"`...)
		b = append(b, c.account...)
		b = append(b, `","groupSet":{},"instancesSet":{"items":[{"instanceId":"i-`...)
		b = appendHex(b, h>>9, 17)
		b = append(b, `","instanceState":{"code":0,"name":"pending"},"instanceType":"t3.micro","privateIpAddress":"10.0.`...)
		b = strconv.AppendUint(b, h>>40&0xff, 10)
		b = append(b, '.')
		b = strconv.AppendUint(b, h>>48&0xff, 10)
		b = append(b, `"}]}}`...)
	}
	b = append(b, `,"requestID":"`...)
	b = appendUUID(b, id^1)
	b = append(b, `","eventID":"`...)
	b = appendUUID(b, id)
	b = append(b, `","readOnly":`...)
	b = strconv.AppendBool(b, c.readOnly)
	b = append(b, `,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"`...)
	b = append(b, c.account...)
	b = append(b, `","eventCategory":"Management","tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"`...)
	b = append(b, c.source[:len(c.source)-len(".amazonaws.com")]...)
	b = append(b, '.')
	b = append(b, c.region...)
	b = append(b, `.amazonaws.com"}}`...)
	return b
}

// logSpec is a log file to write.
type logSpec struct {
	account, region string
	delivery        time.Time
	records         [][]byte
}

// writeLogs writes logs as writeLog does, on GOMAXPROCS goroutines, and
// returns their paths.
func writeLogs(tb testing.TB, root string, logs []logSpec) []string {
	tb.Helper()
	paths := make([]string, len(logs))
	errs := make([]error, len(logs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range next {
				l := &logs[i]
				body := cloudtrail.EncodeRecordsFile(l.records)
				key := cloudtrail.LogFileKey(cloudtrail.KeyPrefix{}, l.account, l.region, l.delivery, cloudtrail.UniqueFromBody(body))
				paths[i] = filepath.Join(root, filepath.FromSlash(key))
				if errs[i] = os.MkdirAll(filepath.Dir(paths[i]), 0o755); errs[i] == nil {
					errs[i] = os.WriteFile(paths[i], body, 0o644)
				}
			}
		})
	}
	for i := range logs {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			tb.Fatal(err)
		}
	}
	return paths
}

// writeFile writes body at the slash-separated key under root and returns
// its path.
func writeFile(tb testing.TB, root, key string, body []byte) string {
	tb.Helper()
	path := filepath.Join(root, filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, body, 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// writeLog writes a log file of records delivered at delivery, at its S3
// key under root, and returns its path.
func writeLog(tb testing.TB, root, account, region string, delivery time.Time, records [][]byte) string {
	tb.Helper()
	body := cloudtrail.EncodeRecordsFile(records)
	key := cloudtrail.LogFileKey(cloudtrail.KeyPrefix{}, account, region, delivery, cloudtrail.UniqueFromBody(body))
	return writeFile(tb, root, key, body)
}

// gzipBytes returns the gzip of b.
func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(b) // writes to a bytes.Buffer cannot fail
	_ = zw.Close()
	return buf.Bytes()
}

// writeDigest writes a digest file whose window ends at end and returns its
// path.
func writeDigest(tb testing.TB, root, account, region string, end time.Time) string {
	tb.Helper()
	var b []byte
	b = append(b, `{"awsAccountId":"`...)
	b = append(b, account...)
	b = append(b, `","digestStartTime":"`...)
	b = end.Add(-time.Hour).UTC().AppendFormat(b, time.RFC3339)
	b = append(b, `","digestEndTime":"`...)
	b = end.UTC().AppendFormat(b, time.RFC3339)
	b = append(b, `","digestS3Bucket":"trail-bucket","digestPublicKeyFingerprint":"47aaa19f7eec22e9bd0b5e58cfade8cb","digestSignatureAlgorithm":"SHA256withRSA","logFiles":[]}`...)
	key := cloudtrail.DigestFileKey(cloudtrail.KeyPrefix{}, account, region, "main-trail", region, end)
	return writeFile(tb, root, key, gzipBytes(b))
}

// trail is a generated trail tree and what replaying it must find.
type trail struct {
	root     string
	files    int // every file ListFiles returns
	digests  int
	insights int
	records  int64 // good records
	bytes    int64 // size of the log files
	invalid  map[string]int
	failed   int       // files that cannot be decoded
	newest   time.Time // delivery of the last log file
	// deliveries holds the delivery times of the log files.
	deliveries map[time.Time]bool
	// spikeStart is the first minute of the planted RunInstances spike,
	// spikeFile the delivery of the file that carries it.
	spikeStart, spikeFile time.Time
	// slowStart is the first minute of a planted CreateSnapshot burst
	// too slow for the 1-minute test (2 calls a minute), slowFile the
	// delivery of the file that carries it.
	slowStart, slowFile time.Time
}

// Shape of the generated trail.
const (
	trailHours   = 28
	fileMinutes  = 5 // CloudTrail delivers about every five minutes
	deliveryLag  = 3 * time.Minute
	spikeMinutes = 10
)

// genTrail writes a trail of trailHours from day0: account acct in
// us-east-1 with steady RunInstances (write) and DescribeInstances (read)
// traffic, at 24:00 a ten-minute burst of RunInstances by a new role and
// at 25:00 ten minutes of two CreateSnapshot calls a minute by another;
// account acct2 in eu-west-1 with light traffic. Files cover five minutes
// (half an hour in eu-west-1) and arrive deliveryLag after. Hourly digests,
// an Insights file, a log file with two broken records and a corrupt one
// are mixed in.
func genTrail(tb testing.TB) *trail {
	tb.Helper()
	tr := &trail{
		root:       tb.TempDir(),
		invalid:    map[string]int{},
		deliveries: map[time.Time]bool{},
		spikeStart: at(24, 0),
		slowStart:  at(25, 0),
	}
	rng := uint64(1)
	next := func(n uint64) uint64 { // deterministic, in [0, n)
		rng = mix(rng)
		return rng % n
	}
	var seq uint64
	var eu [][]byte
	var logs []logSpec
	addLog := func(account, region string, delivery time.Time, recs [][]byte) {
		logs = append(logs, logSpec{account, region, delivery, recs})
	}
	for w := day0; w.Before(day0.Add(trailHours * time.Hour)); w = w.Add(fileMinutes * time.Minute) {
		delivery := w.Add(fileMinutes*time.Minute + deliveryLag)
		var us [][]byte
		for m := w; m.Before(w.Add(fileMinutes * time.Minute)); m = m.Add(time.Minute) {
			emit := func(dst *[][]byte, c call, n int) {
				for range n {
					seq++
					c.seq = seq
					c.time = m.Add(time.Duration(next(60)) * time.Second)
					*dst = append(*dst, c.appendJSON(nil))
				}
			}
			app := testCall(m, 0)
			emit(&us, app, int(1+next(3)))
			describe := app
			describe.name, describe.readOnly = "DescribeInstances", true
			emit(&us, describe, int(next(2)))
			// plant makes n calls c a minute for spikeMinutes from start
			// and notes the delivery of the file with the first.
			plant := func(start time.Time, file *time.Time, c call, n int) {
				if !m.Before(start) && m.Before(start.Add(spikeMinutes*time.Minute)) {
					emit(&us, c, n)
					if m.Equal(start) {
						*file = delivery
					}
				}
			}
			mallory := app
			mallory.role, mallory.session, mallory.userAgent = "mallory", "laptop", "python-requests/2.31.0"
			plant(tr.spikeStart, &tr.spikeFile, mallory, 60)
			backup := app
			backup.name, backup.role, backup.session = "CreateSnapshot", "backup", "nightly"
			plant(tr.slowStart, &tr.slowFile, backup, 2)
			other := app
			other.account, other.region, other.role = acct2, "eu-west-1", "batch"
			n := len(eu)
			emit(&eu, other, int(next(2)))
			tr.records += int64(len(eu) - n)
		}
		tr.records += int64(len(us))
		if w.Equal(at(12, 0)) {
			// Broken records between good ones.
			us = append(us[:2:2], append([][]byte{
				[]byte(`{"eventVersion":"1.09","eventSource":"ec2.amazonaws.com","eventName":"RunInstances","awsRegion":"us-east-1","recipientAccountId":"111122223333"}`),
			}, us[2:]...)...)
			us = append(us, []byte(`{"eventVersion":"1.09","eventTime":"12 Jan 2026","eventSource":"ec2.amazonaws.com","eventName":"RunInstances","awsRegion":"us-east-1","recipientAccountId":"111122223333"}`))
			tr.invalid["missing_event_time"]++
			tr.invalid["bad_time"]++
		}
		addLog(acct, region, delivery, us)
		// A quiet Region's records are delivered every half hour.
		if end := w.Add(fileMinutes * time.Minute); end.Minute()%30 == 0 && len(eu) > 0 {
			addLog(acct2, "eu-west-1", delivery, eu)
			eu = nil
		}
		if w.Minute() == 0 {
			writeDigest(tb, tr.root, acct, region, w.Add(42*time.Second))
			tr.files++
			tr.digests++
		}
	}
	for i, path := range writeLogs(tb, tr.root, logs) {
		tr.addLogFile(tb, path, logs[i].delivery)
	}
	// A corrupt log file: counted, skipped, and the replay goes on.
	corrupt := at(20, 0).Add(90 * time.Second)
	path := writeFile(tb, tr.root, cloudtrail.LogFileKey(cloudtrail.KeyPrefix{}, acct, region, corrupt, "CorruptCorrupt00"), []byte("\x1f\x8b\x08\x00broken"))
	tr.addLogFile(tb, path, corrupt)
	tr.failed++
	tr.invalid["bad_gzip"]++
	// An Insights file from an earlier run: recognised, not read.
	writeFile(tb, tr.root, cloudtrail.InsightFileKey(cloudtrail.KeyPrefix{}, acct, region, at(2, 0), "ZyXwVuTs98765432"), cloudtrail.EncodeRecordsFile(nil))
	tr.files++
	tr.insights++
	return tr
}

func (tr *trail) addLogFile(tb testing.TB, path string, delivery time.Time) {
	tb.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		tb.Fatal(err)
	}
	tr.files++
	tr.bytes += fi.Size()
	tr.deliveries[delivery] = true
	if delivery.After(tr.newest) {
		tr.newest = delivery
	}
}
