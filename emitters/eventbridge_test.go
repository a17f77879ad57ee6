package emitters_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/trailsight/trailsight/cloudtrail"
	"github.com/trailsight/trailsight/detector"
	"github.com/trailsight/trailsight/emitters"
	"github.com/trailsight/trailsight/internal/retry"
)

// putEventsServer stands for EventBridge: it checks each PutEvents request
// the SDK sends as the service would (target, signature scope, limits,
// entry fields) and answers in the service's JSON, failing the entries
// and requests it is told to.
type putEventsServer struct {
	t *testing.T

	mu       sync.Mutex
	bodies   [][]byte
	details  []string // accepted details, in order
	failNext map[int]string
	status   []int // HTTP statuses to answer before accepting
}

func (s *putEventsServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.t
	body, _ := io.ReadAll(r.Body)
	if r.Method != http.MethodPost || r.Header.Get("X-Amz-Target") != "AWSEvents.PutEvents" ||
		r.Header.Get("Content-Type") != "application/x-amz-json-1.1" {
		t.Errorf("request %s %s, target %q, content type %q", r.Method, r.URL, r.Header.Get("X-Amz-Target"), r.Header.Get("Content-Type"))
	}
	if a := r.Header.Get("Authorization"); !strings.HasPrefix(a, "AWS4-HMAC-SHA256 Credential=AKIDTEST/") || !strings.Contains(a, "/eu-west-1/events/aws4_request") {
		t.Errorf("Authorization %q: want SigV4 for events in eu-west-1", a)
	}
	if len(s.status) > 0 {
		code := s.status[0]
		s.status = s.status[1:]
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(code)
		_, _ = io.WriteString(w, `{"__type":"InternalException","message":"try again"}`)
		return
	}
	s.bodies = append(s.bodies, body)
	var req struct {
		Entries []struct {
			Source, DetailType, Detail, EventBusName string
			Resources                                []string
			Time                                     float64
		}
	}
	if err := json.Unmarshal(body, &req); err != nil {
		t.Fatalf("request body: %v\n%s", err, body)
	}
	if n := len(req.Entries); n == 0 || n > 10 {
		t.Errorf("%d entries in one request; PutEvents takes 1 to 10", n)
	}
	type result struct {
		EventID      string `json:"EventId,omitempty"`
		ErrorCode    string `json:",omitempty"`
		ErrorMessage string `json:",omitempty"`
	}
	var out struct {
		Entries          []result
		FailedEntryCount int
	}
	for i, e := range req.Entries {
		rec, err := cloudtrail.DecodeInsightRecord([]byte(e.Detail))
		if err != nil || e.Source != "trailsight" || e.DetailType != "AWS Insight via CloudTrail" || e.EventBusName != "insights" ||
			int64(e.Time) != rec.EventTime.Unix() {
			t.Errorf("entry %d: source %q, detail-type %q, bus %q, time %v, detail %v", i, e.Source, e.DetailType, e.EventBusName, e.Time, err)
		}
		if code, ok := s.failNext[i]; ok {
			delete(s.failNext, i)
			out.Entries = append(out.Entries, result{ErrorCode: code, ErrorMessage: "rate exceeded"})
			out.FailedEntryCount++
			continue
		}
		out.Entries = append(out.Entries, result{EventID: fmt.Sprintf("e-%d", len(s.details))})
		s.details = append(s.details, rec.EventID)
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(out)
}

func newEventBridgeClient(url string) *eventbridge.Client {
	return eventbridge.New(eventbridge.Options{
		Region:           "eu-west-1",
		BaseEndpoint:     aws.String(url),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		RetryMaxAttempts: 1, // the emitter retries; the SDK's retryer would hide what the test counts
	})
}

// manyInsights returns n distinct Insights: the golden batch at later
// starts.
func manyInsights(n int) []detector.Insight {
	var out []detector.Insight
	for i := 0; len(out) < n; i++ {
		for _, in := range goldenBatch() {
			in.Start = in.Start.Add(time.Duration(i) * time.Hour)
			out = append(out, in)
		}
	}
	return out[:n]
}

// TestEventBridge puts 23 Insights through the real SDK client on a local
// server standing for EventBridge: three requests of at most ten entries,
// the entry the service fails is sent again alone, a failed request is
// retried, and every record arrives once, in order.
func TestEventBridge(t *testing.T) {
	srv := &putEventsServer{t: t, failNext: map[int]string{3: "ThrottlingException"}, status: []int{500}}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	reg := prometheus.NewPedanticRegistry()
	eb := emitters.NewEventBridge(newEventBridgeClient(hs.URL), emitters.EventBridgeOptions{Bus: "insights",
		Retry: retry.Policy{Backoff: time.Millisecond}, Registerer: reg}, nil)
	batch := manyInsights(23)
	if err := eb.Emit(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range batch {
		want = append(want, batch[i].Record().EventID)
	}
	// Entry 3 of the first request failed and went again by itself, right
	// after its request's others.
	wantOrder := append(append(append([]string{}, want[:3]...), want[4:10]...), want[3])
	wantOrder = append(wantOrder, want[10:]...)
	if got := srv.details; strings.Join(got, ",") != strings.Join(wantOrder, ",") {
		t.Errorf("EventBridge took\n%v\nwant\n%v", got, wantOrder)
	}
	if n := len(srv.bodies); n != 4 {
		t.Errorf("%d accepted requests; want 4 (10, the failed entry, 10, 3)", n)
	}
	if sent, errs := testutil.ToFloat64(gauge(t, reg, "trailsight_emitter_eventbridge_entries_sent_total")),
		testutil.ToFloat64(gauge(t, reg, "trailsight_emitter_eventbridge_errors_total")); sent != 23 || errs != 2 {
		t.Errorf("metrics: sent %v, errors %v; want 23 and 2 (the 500, the failed entry)", sent, errs)
	}
	checkGolden(t, "eventbridge-putevents", append(srv.bodies[0], '\n'))

	// An entry the service keeps failing stops Emit once the policy gives
	// up, saying why: the partition must not commit past it.
	srv.failNext = map[int]string{0: "ThrottlingException"}
	srv.status = nil
	eb = emitters.NewEventBridge(newEventBridgeClient(hs.URL), emitters.EventBridgeOptions{Bus: "insights",
		Retry: retry.Policy{MaxAttempts: 1}}, nil)
	err := eb.Emit(context.Background(), manyInsights(1))
	if err == nil || !strings.Contains(err.Error(), "1 of 1 entries failed (first: ThrottlingException: rate exceeded)") {
		t.Errorf("Emit with a failing entry: %v", err)
	}
	if errors.Is(err, context.Canceled) {
		t.Error("gave up for the context, not the policy")
	}
}
