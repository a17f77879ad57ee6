package emitters_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/trailsight/trailsight/detector"
	"github.com/trailsight/trailsight/emitters"
)

func TestInsightGauges(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	g := emitters.NewInsightGauges(reg)
	iam := detector.Insight{Key: detector.Key{Account: "111122223333", Region: "us-east-1", EventSource: "iam.amazonaws.com",
		EventName: "CreateAccessKey", Type: detector.APICallRate}, State: detector.StateStart,
		Start: time.Date(2026, 1, 12, 10, 0, 0, 0, time.UTC), Duration: 3, BaselineAverage: 0.25, InsightAverage: 12}
	denied := detector.Insight{Key: detector.Key{Account: "444455556666", Region: "eu-west-1", EventSource: "s3.amazonaws.com",
		EventName: "GetObject", Type: detector.APIErrorRate, ErrorCode: "AccessDenied"}, State: detector.StateStart,
		Start: time.Date(2026, 1, 12, 10, 5, 0, 0, time.UTC), Duration: 1, BaselineAverage: 0.01, InsightAverage: 0.5}
	if err := g.Emit(context.Background(), []detector.Insight{iam, denied}); err != nil {
		t.Fatal(err)
	}
	want := `
# HELP trailsight_insight_open 1 for each Insight open now; the series goes when the Insight ends.
# TYPE trailsight_insight_open gauge
trailsight_insight_open{account="111122223333",error_code="",event_name="CreateAccessKey",event_source="iam.amazonaws.com",insight_type="ApiCallRateInsight",region="us-east-1"} 1
trailsight_insight_open{account="444455556666",error_code="AccessDenied",event_name="GetObject",event_source="s3.amazonaws.com",insight_type="ApiErrorRateInsight",region="eu-west-1"} 1
# HELP trailsight_insight_average An open Insight's rate: calls (errors) per minute over its minutes so far (as of its Start, or of the owner's restore).
# TYPE trailsight_insight_average gauge
trailsight_insight_average{account="111122223333",error_code="",event_name="CreateAccessKey",event_source="iam.amazonaws.com",insight_type="ApiCallRateInsight",region="us-east-1"} 12
trailsight_insight_average{account="444455556666",error_code="AccessDenied",event_name="GetObject",event_source="s3.amazonaws.com",insight_type="ApiErrorRateInsight",region="eu-west-1"} 0.5
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "trailsight_insight_open", "trailsight_insight_average"); err != nil {
		t.Error(err)
	}
	end := iam
	end.State = detector.StateEnd
	if err := g.Emit(context.Background(), []detector.Insight{end}); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(reg, "trailsight_insight_open", "trailsight_insight_baseline_average",
		"trailsight_insight_average", "trailsight_insight_start_timestamp_seconds"); n != 4 {
		t.Errorf("after the IAM Insight's End: %d series, want the 4 of the one still open", n)
	}
	// An owner that lets its partition go takes its series along; the
	// next owner brings them back.
	g.Released([]detector.Insight{denied})
	if n := testutil.CollectAndCount(reg, "trailsight_insight_open"); n != 0 {
		t.Errorf("after Released: %d open series, want 0", n)
	}
	g.Holding([]detector.Insight{denied})
	if n := testutil.CollectAndCount(reg, "trailsight_insight_open"); n != 1 {
		t.Errorf("after Holding: %d open series, want 1", n)
	}
	// Fanout passes both on.
	emitters.Fanout{g}.Released([]detector.Insight{denied})
	if n := testutil.CollectAndCount(reg, "trailsight_insight_open"); n != 0 {
		t.Errorf("after Fanout.Released: %d open series, want 0", n)
	}
}
