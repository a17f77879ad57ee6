package emitters

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzCompactRecord: for any valid JSON, compactRecord gives exactly what
// encoding/json's Compact gives (what a checkpoint would restore), and a
// copy, never the caller's buffer.
func FuzzCompactRecord(f *testing.F) {
	for _, s := range []string{
		`{"a":"x y","b":1}`, `{"a": 1}`, `{"a":"q\" ","b":[1, 2]}`, `{"a":"q\\","b":[1, 2]}`,
		`{"a":"q\\","b":[1,2]}`, `{"a":"q\\\"","b":[1,2]}`, " {\"a\":1}", "{\"a\":1}\n", "{\"a\":\"\\u0026 & <>\"}",
		"{\"a\":\t1}", `[]`, `"s p"`, `{"k":"v"}  `, `{"a":"x" }`, `{"a" :1}`, `[1 ,2]`, `{"a":"b c  d"}`, `{"a":"b ,c"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if !json.Valid(raw) {
			return
		}
		var want bytes.Buffer
		if err := json.Compact(&want, raw); err != nil {
			t.Fatal(err)
		}
		got := compactRecord(raw)
		if !bytes.Equal(got, want.Bytes()) {
			t.Errorf("compactRecord(%q) = %q, want %q", raw, got, want.Bytes())
		}
		if isCompact(raw) != bytes.Equal(raw, want.Bytes()) {
			t.Errorf("isCompact(%q) = %t", raw, isCompact(raw))
		}
		if !maybeSpaced(raw) && !bytes.Equal(raw, want.Bytes()) {
			t.Errorf("maybeSpaced(%q) = false, but it is not compact", raw)
		}
		if len(got) > 0 && len(raw) > 0 && &got[0] == &raw[0] {
			t.Error("compactRecord returned the caller's buffer")
		}
	})
}

// BenchmarkCompactRecord is what a trail adds per record to check that it
// is compact (and copy it), on a CloudTrail-like record of ~1.2 KB.
func BenchmarkCompactRecord(b *testing.B) {
	rec := []byte(`{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLE:i-0abc","arn":"arn:aws:sts::111122223333:assumed-role/app/i-0abc",` +
		`"accountId":"111122223333","accessKeyId":"ASIAEXAMPLE","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROAEXAMPLE","arn":"arn:aws:iam::111122223333:role/app",` +
		`"accountId":"111122223333","userName":"app"},"attributes":{"creationDate":"2026-01-05T10:00:00Z","mfaAuthenticated":"false"}}},"eventTime":"2026-01-05T10:00:01Z",` +
		`"eventSource":"ec2.amazonaws.com","eventName":"RunInstances","awsRegion":"us-east-1","sourceIPAddress":"10.0.0.1","userAgent":"aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64.amzn.2 prompt/off command/ec2.run-instances",` +
		`"requestParameters":{"instancesSet":{"items":[{"imageId":"ami-0abcdef","minCount":1,"maxCount":1}]},"instanceType":"t3.micro","tagSpecificationSet":{"items":[{"resourceType":"instance","tags":[{"key":"Name","value":"web server"}]}]}},` +
		`"responseElements":null,"requestID":"5f4e3d2c-1b0a-4f9e-8d7c-6b5a4f3e2d1c","eventID":"0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d","readOnly":false,"eventType":"AwsApiCall",` +
		`"managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management","tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"ec2.us-east-1.amazonaws.com"}}`)
	b.SetBytes(int64(len(rec)))
	for b.Loop() {
		_ = compactRecord(rec)
	}
}
