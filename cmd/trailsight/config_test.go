package main

import (
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Every file under testdata/config is loaded: *.good.yaml must load, each
// *.bad.yaml must fail with an error that names the field and the value.
func TestServeConfigFiles(t *testing.T) {
	bad := map[string][]string{
		"unknown-key.bad.yaml":        {"line 3", "field topcs not found"},
		"unknown-section.bad.yaml":    {"line 1", "field detectr not found"},
		"bad-duration.bad.yaml":       {"line 2", "often"},
		"max-wait.bad.yaml":           {"kafka.max-wait=100ms", "at least 1s"},
		"drain-timeout.bad.yaml":      {"s3.drain-timeout=-5s", "must not be negative"},
		"start-offset.bad.yaml":       {`kafka.start-offset="beginning"`, "earliest or latest"},
		"same-topic.bad.yaml":         {`output.insights-topic="events"`, "kafka.topics[0]"},
		"no-output.bad.yaml":          {"output", "Insights must go somewhere"},
		"trail-no-keys.bad.yaml":      {"trails[0]", "main-trail", "signing.key-dir"},
		"trail-selector.bad.yaml":     {"trails[0]", "readOnly", "Equals"},
		"trail-twice.bad.yaml":        {"trails[1]", "used twice"},
		"time-zone.bad.yaml":          {"detector.time_zones[111122223333]", "Mars/Olympus_Mons"},
		"quiet-principal.bad.yaml":    {`detector.quiet_principals[0]="arn:aws:iam::[111122223333:user/x"`, "syntax error in pattern"},
		"two-docs.bad.yaml":           {"more than one YAML document"},
		"secret.bad.yaml":             {"field sasl_password not found"},
		"eventbridge-source.bad.yaml": {`output.eventbridge.source="aws.cloudtrail"`, "PutEvents refuses"},
	}
	files, err := filepath.Glob("testdata/config/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no config files: %v", err)
	}
	seen := 0
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			_, _, err := loadServeConfig([]string{"-config.file", f}, io.Discard)
			if strings.HasSuffix(name, ".good.yaml") {
				if err != nil {
					t.Fatalf("load: %v", err)
				}
				return
			}
			want, ok := bad[name]
			if !ok {
				t.Fatalf("no expected error listed for %s", name)
			}
			seen++
			if err == nil {
				t.Fatal("loaded; want an error")
			}
			for _, w := range want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if !strings.Contains(err.Error(), name) && strings.HasPrefix(want[0], "line") {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
	if seen != len(bad) {
		t.Errorf("%d bad files tested, %d listed", seen, len(bad))
	}
}

// The layers compose as documented: flag defaults, then the file, then the
// flags given explicitly.
func TestServeConfigPrecedence(t *testing.T) {
	f := "testdata/config/full.good.yaml"
	c, _, err := loadServeConfig([]string{"-config.file", f, "-kafka.group-id", "from-flag", "-kafka.topics", "a,b,c"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"group id (flag over file)", c.Kafka.GroupID, "from-flag"},
		{"topics (flag over file)", strings.Join(c.Kafka.Topics, ","), "a,b,c"},
		{"brokers (file)", strings.Join(c.Kafka.Brokers, ","), "kafka-1:9092,kafka-2:9092"},
		{"checkpoint interval (file)", c.Kafka.CheckpointInterval, time.Minute},
		{"warm-up (file)", c.Detector.WarmUp, 72 * time.Hour},
		{"start p (file)", c.Detector.StartP, 1e-8},
		{"end p (default: not in the file)", c.Detector.EndP, 0.01},
		{"dedup window (default)", c.Detector.DedupWindow, time.Hour},
		{"time zone (file)", c.Detector.TimeZones["111122223333"], "Europe/Berlin"},
		{"quiet principals (file)", strings.Join(c.Detector.QuietPrincipals, ","), "arn:aws:sts::*:assumed-role/ci-deploy/*,arn:aws:iam::111122223333:user/backup-exporter"},
		{"partitions (file)", c.Output.Partitions, 12},
		{"embedded addr (default)", c.Embedded.Addr, "127.0.0.1:9092"},
		{"s3 endpoint (file)", c.Delivery.S3.Endpoint, "http://127.0.0.1:9000"},
		{"spool bound (file)", c.Delivery.S3.SpoolMaxBytes, int64(2 << 30)},
		{"spool drain on stop (file)", c.Delivery.S3.DrainTimeout, 45 * time.Second},
		{"trails (file)", len(c.Delivery.Trails), 2},
		{"trail org (file)", c.Delivery.Trails[0].OrgID, "o-exampleorgid"},
		{"trail selectors (file)", c.Delivery.Trails[0].EventSelectors[0].ExcludeManagementEventSources[0], "kms.amazonaws.com"},
		{"trail insight types (file)", len(c.Delivery.Trails[0].InsightSelectors), 2},
		{"trail delivery interval (default)", c.Delivery.Trails[0].DeliveryInterval, 5 * time.Minute},
		{"trail delivery interval (file)", c.Delivery.Trails[1].DeliveryInterval, time.Minute},
		{"advanced selector (file)", c.Delivery.Trails[1].AdvancedEventSelectors[0].FieldSelectors[1].Equals[0], "AWS::S3::Object"},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s: got %v, want %v", ch.name, ch.got, ch.want)
		}
	}
	// A list flag replaces the file's list, as -kafka.topics does.
	c, _, err = loadServeConfig([]string{"-config.file", f, "-detector.quiet-principals", "arn:aws:iam::1:user/a, arn:aws:iam::1:user/b"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.Detector.QuietPrincipals, ","); got != "arn:aws:iam::1:user/a,arn:aws:iam::1:user/b" {
		t.Errorf("quiet principals (flag over file) = %q", got)
	}
	// Without a file, the defaults.
	c, _, err = loadServeConfig(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Kafka.GroupID != "trailsight" || len(c.Kafka.Brokers) != 0 || c.Output.InsightsTopic != "trailsight-insights" {
		t.Errorf("defaults: %+v", c)
	}
	if _, _, err := loadServeConfig([]string{"-config.file", "testdata/config/nope.yaml"}, io.Discard); err == nil {
		t.Error("a missing config file loaded")
	}
}
