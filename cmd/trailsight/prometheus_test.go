package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/trailsight/trailsight/consumers"
	"github.com/trailsight/trailsight/internal/kafkatest"
	"github.com/trailsight/trailsight/internal/testenv"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestPrometheusAlertFires runs trailsight serve, feeds it the three-account
// trail and then a burst of CreateAccessKey calls by a new user, and runs a
// real Prometheus (the Debian package) that scrapes it with the rules of
// deploy/prometheus: the IAM Insight's alert goes firing, as its HTTP API
// tells.
func TestPrometheusAlertFires(t *testing.T) {
	if testing.Short() {
		t.Skip("runs trailsight serve and Prometheus")
	}
	prom := testenv.Tool(t, "prometheus", "prometheus")
	loadServeData(t)
	cluster := kafkatest.Fake(t)
	brokers := cluster.Brokers()
	p := startServe(t, []string{"-kafka.brokers=" + strings.Join(brokers, ","), "-detector.warm-up=24h", "-kafka.idle-advance=0"})
	target := strings.TrimSuffix(strings.TrimPrefix(p.metrics, "http://"), "/metrics")
	get := func(url string) (int, []byte) {
		resp, err := http.Get(url)
		if err != nil {
			return 0, []byte(err.Error())
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	waitUntil := func(what string, d time.Duration, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(d)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within %s\nserve log:\n%s", what, d, p.log())
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	waitUntil("serve ready", 60*time.Second, func() bool { c, _ := get("http://" + target + "/readyz"); return c == http.StatusOK })

	ctx := context.Background()
	var out strings.Builder
	if err := run(ctx, []string{"produce", "-brokers", brokers[0], serveData.trail}, &out, &out); err != nil {
		t.Fatalf("produce: %v\n%s", err, out.String())
	}
	// The burst: five minutes after the trail, 40 CreateAccessKey calls a
	// minute for five minutes by a user the account never saw.
	w := newWriter(brokers, "cloudtrail-events", &kafka.Murmur2Balancer{Consistent: true})
	defer w.Close()
	t0 := serveData.files[len(serveData.files)-1].Delivery.Add(5 * time.Minute).Truncate(time.Minute)
	for m := range 5 {
		var recs []string
		at := t0.Add(time.Duration(m) * time.Minute)
		for i := range 40 {
			recs = append(recs, fmt.Sprintf(`{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/intruder","accountId":"111122223333"},"eventTime":%q,"eventSource":"iam.amazonaws.com","eventName":"CreateAccessKey","awsRegion":"us-east-1","readOnly":false,"eventID":"burst-%d-%d","eventType":"AwsApiCall","managementEvent":true,"eventCategory":"Management","recipientAccountId":"111122223333"}`,
				at.Add(time.Duration(i)*time.Second).Format(time.RFC3339), m, i))
		}
		delivered := at.Add(time.Minute).Format(time.RFC3339)
		err := w.WriteMessages(ctx, kafka.Message{Key: []byte("111122223333"), Value: []byte(`{"Records":[` + strings.Join(recs, ",") + `]}`),
			Headers: []kafka.Header{{Key: consumers.HeaderDeliveryTime, Value: []byte(delivered)}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	waitUntil("the Insight's series", 120*time.Second, func() bool {
		_, b := get(p.metrics)
		return strings.Contains(string(b), `trailsight_insight_open{account="111122223333",error_code="",event_name="CreateAccessKey"`)
	})

	rules, err := filepath.Abs("../../deploy/prometheus/trailsight.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := fmt.Sprintf("global: {scrape_interval: 1s, evaluation_interval: 1s}\nrule_files: [%q]\nscrape_configs:\n  - job_name: trailsight\n    static_configs: [{targets: [%q]}]\n", rules, target)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	promAddr := freeAddr(t)
	var promLog strings.Builder
	cmd := exec.Command(prom, "--config.file="+filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+promAddr, "--web.enable-lifecycle")
	cmd.Stdout, cmd.Stderr = &promLog, &promLog
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	var alerts []byte
	deadline := time.Now().Add(90 * time.Second)
	for {
		_, alerts = get("http://" + promAddr + "/api/v1/alerts")
		var r struct {
			Data struct {
				Alerts []struct {
					Labels map[string]string `json:"labels"`
					State  string            `json:"state"`
				} `json:"alerts"`
			} `json:"data"`
		}
		firing := false
		if json.Unmarshal(alerts, &r) == nil {
			for _, a := range r.Data.Alerts {
				if a.Labels["alertname"] == "TrailsightIAMCallRateInsight" && a.Labels["event_name"] == "CreateAccessKey" &&
					a.Labels["account"] == "111122223333" && a.State == "firing" {
					firing = true
				}
			}
		}
		if firing {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the IAM Insight's alert did not fire within 90 s; /api/v1/alerts:\n%s\nprometheus log:\n%s", alerts, promLog.String())
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Logf("Prometheus /api/v1/alerts:\n%s", alerts)
}
