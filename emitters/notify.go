package emitters

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/segmentio/kafka-go"

	"github.com/trailsight/trailsight/cloudtrail"
	"github.com/trailsight/trailsight/internal/retry"
)

// Notifier tells subscribers that an object was delivered (spec §6).
type Notifier interface {
	Notify(ctx context.Context, bucket, key string) error
}

// NotificationMessage returns the body CloudTrail publishes to SNS for
// delivered objects (spec §6): {"s3Bucket":…,"s3ObjectKey":[…]}, nothing
// else.
func NotificationMessage(bucket string, keys ...string) []byte {
	b, _ := json.Marshal(struct {
		S3Bucket    string   `json:"s3Bucket"`
		S3ObjectKey []string `json:"s3ObjectKey"`
	}{bucket, keys})
	return b
}

// Notifies reports whether objects of key's kind are notified: log and
// Insights files are, digests are not (spec §2.9 #8).
func Notifies(key string) bool {
	info, ok := cloudtrail.ParseKey(key)
	return ok && (info.Kind == cloudtrail.KeyKindLog || info.Kind == cloudtrail.KeyKindInsight)
}

// TopicNotifier publishes notifications to a Kafka topic, one message per
// object (a one-element s3ObjectKey, spec §2.9 #8), keyed by the object key
// so repeats of one object stay in order.
type TopicNotifier struct {
	w     MessageWriter
	retry retry.Policy
	log   *slog.Logger
}

var _ Notifier = (*TopicNotifier)(nil)

// NewTopicNotifier returns a TopicNotifier writing with w; its zero retry
// policy retries until the context ends. logger may be nil.
func NewTopicNotifier(w MessageWriter, p retry.Policy, logger *slog.Logger) *TopicNotifier {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &TopicNotifier{w: w, retry: p, log: logger.With("component", "emitter", "sink", "notifications")}
}

// Notify writes the message and waits for its acknowledgement.
func (n *TopicNotifier) Notify(ctx context.Context, bucket, key string) error {
	return n.retry.Do(ctx, n.log, func(ctx context.Context) error {
		return n.w.WriteMessages(ctx, kafka.Message{
			Key:     []byte(key),
			Value:   NotificationMessage(bucket, key),
			Headers: []kafka.Header{{Key: ContentTypeHeader, Value: []byte("application/json")}},
		})
	})
}

// SNSAPI is what SNSNotifier needs of an SNS client; *sns.Client has it.
type SNSAPI interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// SNSNotifier publishes notifications to an SNS topic, as CloudTrail does.
type SNSNotifier struct {
	client   SNSAPI
	topicARN string
	retry    retry.Policy
	log      *slog.Logger
}

var _ Notifier = (*SNSNotifier)(nil)

// NewSNSNotifier returns an SNSNotifier publishing to topicARN.
func NewSNSNotifier(client SNSAPI, topicARN string, p retry.Policy, logger *slog.Logger) *SNSNotifier {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &SNSNotifier{client: client, topicARN: topicARN, retry: p, log: logger.With("component", "emitter", "sink", "sns")}
}

// Notify publishes the message.
func (n *SNSNotifier) Notify(ctx context.Context, bucket, key string) error {
	msg := string(NotificationMessage(bucket, key))
	return n.retry.Do(ctx, n.log, func(ctx context.Context) error {
		_, err := n.client.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(n.topicARN), Message: aws.String(msg)})
		return err
	})
}
