package emitters_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/trailsight/trailsight/emitters"
	"github.com/trailsight/trailsight/internal/retry"
)

// TestSNSNotifier publishes through the real SDK client to a local server
// standing for SNS: the request is SNS's query protocol (Action=Publish,
// the topic, the message), signed for sns in the client's Region; the
// message is CloudTrail's notification body; a throttled request is
// retried.
func TestSNSNotifier(t *testing.T) {
	const topic = "arn:aws:sns:eu-west-1:111122223333:cloudtrail-notes"
	var mu sync.Mutex
	var got []url.Values
	throttle := 1
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		body, _ := io.ReadAll(r.Body)
		form, err := url.ParseQuery(string(body))
		if err != nil || r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			t.Errorf("request %s %q: %v", r.Method, body, err)
		}
		if a := r.Header.Get("Authorization"); !strings.Contains(a, "Credential=AKIDTEST/") || !strings.Contains(a, "/eu-west-1/sns/aws4_request") {
			t.Errorf("Authorization %q: want SigV4 for sns in eu-west-1", a)
		}
		if throttle > 0 {
			throttle--
			w.Header().Set("Content-Type", "text/xml")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>r-1</RequestId></ErrorResponse>`)
			return
		}
		got = append(got, form)
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprintf(w, `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>m-%d</MessageId></PublishResult><ResponseMetadata><RequestId>r-2</RequestId></ResponseMetadata></PublishResponse>`, len(got))
	}))
	defer srv.Close()
	client := sns.New(sns.Options{Region: "eu-west-1", BaseEndpoint: aws.String(srv.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		RetryMaxAttempts: 1})
	n := emitters.NewSNSNotifier(client, topic, retry.Policy{Backoff: time.Millisecond}, nil)
	key := "AWSLogs/111122223333/CloudTrail/eu-west-1/2026/01/12/111122223333_CloudTrail_eu-west-1_20260112T1005Z_abcdefghijklmnop.json.gz"
	if err := n.Notify(context.Background(), "trail-bucket", key); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 {
		t.Fatalf("SNS took %d publishes, want 1 (after one throttled)", len(got))
	}
	f := got[0]
	if f.Get("Action") != "Publish" || f.Get("TopicArn") != topic {
		t.Errorf("Action %q, TopicArn %q", f.Get("Action"), f.Get("TopicArn"))
	}
	var msg struct {
		S3Bucket    string   `json:"s3Bucket"`
		S3ObjectKey []string `json:"s3ObjectKey"`
	}
	if err := json.Unmarshal([]byte(f.Get("Message")), &msg); err != nil || msg.S3Bucket != "trail-bucket" || len(msg.S3ObjectKey) != 1 || msg.S3ObjectKey[0] != key {
		t.Errorf("Message %q: %v", f.Get("Message"), err)
	}
}
