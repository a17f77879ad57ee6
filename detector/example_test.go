package detector_test

import (
	"context"
	"fmt"
	"time"

	"github.com/trailsight/trailsight/cloudtrail"
	"github.com/trailsight/trailsight/detector"
)

type printSink struct{}

func (printSink) Emit(_ context.Context, batch []detector.Insight) error {
	for _, in := range batch {
		fmt.Printf("%s %s %s start=%s duration=%dm insight.average=%.1f emitted=%s\n", in.State, in.Key.EventName,
			in.Key.Type, in.Start.Format("15:04"), in.Duration, in.InsightAverage, in.Emitted.Format("15:04"))
	}
	return nil
}

// An account is watched for a day with steady tagging; then a principal
// nobody has seen creates access keys. The Start is emitted within a minute
// of the evidence; the End once the activity has been back to normal for
// five minutes after the minutes closed (15 minutes of allowed lateness).
func ExampleEngine() {
	cfg := detector.DefaultConfig()
	cfg.WarmUp = 24 * time.Hour
	e, err := detector.New(cfg, printSink{}, nil)
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	t0 := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	id := 0
	call := func(t time.Time, name, arn string) {
		id++
		e.Observe(&cloudtrail.Event{
			EventTime: t.Unix(), EventID: fmt.Sprint(id), EventSource: "iam.amazonaws.com", EventName: name,
			AWSRegion: "us-east-1", RecipientAccountID: "111122223333", EventType: "AwsApiCall",
			EventCategory: "Management", ReadOnly: cloudtrail.False, UserIdentityARN: arn, UserAgent: "aws-cli/2",
		})
	}
	for m := 0; m < 26*60; m++ {
		t := t0.Add(time.Duration(m) * time.Minute)
		_ = e.Advance(ctx, t)
		call(t, "TagRole", "arn:aws:sts::111122223333:assumed-role/Automation/run")
		if m >= 25*60 && m < 25*60+6 {
			for k := 0; k < 5; k++ {
				call(t.Add(time.Duration(k)*time.Second), "CreateAccessKey", "arn:aws:iam::111122223333:user/mallory")
			}
		}
	}
	// Output:
	// Start CreateAccessKey ApiCallRateInsight start=01:00 duration=1m insight.average=5.0 emitted=01:01
	// End CreateAccessKey ApiCallRateInsight start=01:00 duration=6m insight.average=5.0 emitted=01:34
}
