package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/trailsight/trailsight/consumers"
	"github.com/trailsight/trailsight/detector"
	"github.com/trailsight/trailsight/emitters"
)

// serveConfig is the whole configuration of trailsight serve. Every field
// has a flag; the YAML file (-config.file) uses the yaml names. Secrets
// (SASL passwords, cloud credentials) never come from the file.
type serveConfig struct {
	Kafka    consumers.GroupConfig `yaml:"kafka"`
	Detector detector.Config       `yaml:"detector"`
	Output   outputConfig          `yaml:"output"`
	Embedded embeddedConfig        `yaml:"embedded"`
	HTTP     httpConfig            `yaml:"http"`
	// The trail delivery path: s3, sns, signing and trails.
	Delivery deliveryConfig `yaml:",inline"`
}

type outputConfig struct {
	// InsightsTopic gets every Insight as an EventBridge envelope; empty
	// disables it.
	InsightsTopic string `yaml:"insights_topic"`
	// Dir gets Insights files in the trail layout; empty disables it.
	Dir string `yaml:"dir"`
	// CreateTopics creates missing topics (source, state, dead letters,
	// Insights) on start.
	CreateTopics bool `yaml:"create_topics"`
	// Partitions is the partition count of topics it creates.
	Partitions int `yaml:"partitions"`
	// EventBridge puts every Insight on an event bus (PutEvents).
	EventBridge eventBridgeConfig `yaml:"eventbridge"`
}

type eventBridgeConfig struct {
	// Bus is the event bus name or ARN ("default" for the account's
	// default bus); empty disables EventBridge.
	Bus string `yaml:"bus"`
	// Source of the events; PutEvents refuses "aws." sources.
	Source   string `yaml:"source"`
	Endpoint string `yaml:"endpoint"`
	Region   string `yaml:"region"`
}

type embeddedConfig struct {
	// Addr is where the embedded broker listens when kafka.brokers is
	// empty.
	Addr string `yaml:"addr"`
	// DataDir keeps the embedded broker's log between runs; empty keeps
	// it in memory.
	DataDir string `yaml:"data_dir"`
}

type httpConfig struct {
	// Listen is the address of /metrics and /healthz; empty disables it.
	Listen string `yaml:"listen"`
	// Pprof serves Go's profiles under /debug/pprof/ on the same address.
	Pprof bool `yaml:"pprof"`
}

func (c *serveConfig) registerFlags(f *flag.FlagSet) {
	c.Kafka.RegisterFlags(f)
	c.Detector.RegisterFlags(f)
	f.StringVar(&c.Output.InsightsTopic, "output.insights-topic", "trailsight-insights", "Topic for Insights as EventBridge envelopes; empty disables it.")
	f.StringVar(&c.Output.Dir, "output.dir", "", "Directory for Insights files in the trail layout; empty disables it.")
	f.BoolVar(&c.Output.CreateTopics, "output.create-topics", true, "Create missing topics on start.")
	f.IntVar(&c.Output.Partitions, "output.partitions", 3, "Partitions of the topics it creates.")
	f.StringVar(&c.Output.EventBridge.Bus, "output.eventbridge.bus", "", "Put every Insight on this EventBridge bus (name or ARN; \"default\" is the account's default bus) with PutEvents; empty disables it.")
	f.StringVar(&c.Output.EventBridge.Source, "output.eventbridge.source", emitters.DefaultEventBridgeSource, "Source of the events put on EventBridge (PutEvents refuses sources beginning with \"aws.\").")
	f.StringVar(&c.Output.EventBridge.Endpoint, "output.eventbridge.endpoint", "", "EventBridge endpoint URL; empty uses AWS.")
	f.StringVar(&c.Output.EventBridge.Region, "output.eventbridge.region", "", "EventBridge Region; empty takes the AWS SDK's default.")
	f.StringVar(&c.Embedded.Addr, "embedded.addr", "127.0.0.1:9092", "Listen address of the embedded broker (used when -kafka.brokers is empty).")
	f.StringVar(&c.Embedded.DataDir, "embedded.data-dir", "", "Directory for the embedded broker's data; empty keeps it in memory.")
	f.StringVar(&c.HTTP.Listen, "http.listen", "127.0.0.1:9464", "Address of /metrics, /healthz, /readyz and the live view of recent Insights (/, /api/v1/...); empty disables it.")
	f.BoolVar(&c.HTTP.Pprof, "http.pprof", false, "Also serve Go's profiles under /debug/pprof/ (CPU, heap, goroutines).")
	c.Delivery.registerFlags(f)
}

func (c *serveConfig) validate() error {
	if len(c.Kafka.Brokers) == 0 && c.Embedded.Addr == "" {
		return errors.New("embedded.addr: must not be empty when kafka.brokers is empty")
	}
	if err := c.Kafka.Validate(); err != nil {
		return err
	}
	if err := c.Detector.Validate(); err != nil {
		return err
	}
	if err := c.Delivery.validate(); err != nil {
		return err
	}
	if c.Output.InsightsTopic == "" && c.Output.Dir == "" && c.Output.EventBridge.Bus == "" && len(c.Delivery.Trails) == 0 {
		return errors.New("output: set output.insights-topic, output.dir or output.eventbridge.bus, or configure trails: Insights must go somewhere")
	}
	if src := c.Output.EventBridge.Source; c.Output.EventBridge.Bus != "" && (src == "" || strings.HasPrefix(src, "aws.")) {
		return fmt.Errorf("output.eventbridge.source=%q: must be non-empty and must not begin with \"aws.\" (PutEvents refuses AWS's own sources)", src)
	}
	for i, tr := range c.Delivery.Trails {
		if t := tr.NotificationTopic; t != "" && (slices.Contains(c.Kafka.Topics, t) || t == c.Output.InsightsTopic) {
			return fmt.Errorf("trails[%d].notification_topic=%q: must differ from the input and Insights topics", i, t)
		}
	}
	for i, t := range c.Kafka.Topics {
		if t == c.Output.InsightsTopic {
			return fmt.Errorf("output.insights-topic=%q: must differ from kafka.topics[%d]", t, i)
		}
	}
	if c.Output.Partitions < 1 || c.Output.Partitions > 1024 {
		return fmt.Errorf("output.partitions=%d: must be in [1, 1024]", c.Output.Partitions)
	}
	return nil
}

// loadServeConfig composes the configuration as dskit does: flag defaults,
// then the YAML file decoded strictly (an unknown key is an error), then
// the flags given explicitly, then validation.
func loadServeConfig(args []string, stderr io.Writer) (*serveConfig, *flag.FlagSet, error) {
	var c serveConfig
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.registerFlags(fs)
	file := fs.String("config.file", "", "YAML configuration file; flags given explicitly override it.")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: trailsight serve [-config.file FILE] [flags]\n\nConsumes CloudTrail records from Kafka and emits Insights. With no\n-kafka.brokers it starts an embedded broker on 127.0.0.1:9092.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, fs, err
	}
	if fs.NArg() > 0 {
		return nil, fs, fmt.Errorf("serve: unexpected arguments %q", fs.Args())
	}
	if *file != "" {
		b, err := os.ReadFile(*file)
		if err != nil {
			return nil, fs, err
		}
		if err := decodeStrict(b, &c); err != nil {
			return nil, fs, fmt.Errorf("%s: %w", *file, err)
		}
		// Parsing again applies the explicit flags over the file.
		if err := fs.Parse(args); err != nil {
			return nil, fs, err
		}
	}
	if err := c.validate(); err != nil {
		return nil, fs, err
	}
	return &c, fs, nil
}

// decodeStrict decodes YAML into v, rejecting unknown keys and a second
// document.
func decodeStrict(b []byte, v any) error {
	d := yaml.NewDecoder(bytes.NewReader(b))
	d.KnownFields(true)
	if err := d.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return nil // an empty file changes nothing
		}
		return errors.New(strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var extra any
	if err := d.Decode(&extra); !errors.Is(err, io.EOF) {
		return errors.New("more than one YAML document")
	}
	return nil
}
