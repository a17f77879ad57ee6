package cloudtrail

import "time"

// Insight record constants (spec §2).
const (
	InsightEventVersion = "1.08"
	InsightEventType    = "AwsCloudTrailInsight"
	InsightCategory     = "Insight"

	StateStart = "Start"
	StateEnd   = "End"

	APICallRateInsight  = "ApiCallRateInsight"
	APIErrorRateInsight = "ApiErrorRateInsight"

	AttrUserIdentityARN = "userIdentityArn"
	AttrUserAgent       = "userAgent"
	AttrErrorCode       = "errorCode"
)

// InsightRecord is one Insights record (a Start or an End) as it is written
// to files and topics (spec §2). Field order here follows the wire order.
type InsightRecord struct {
	EventVersion       string
	EventTime          time.Time // whole minute, UTC
	AWSRegion          string
	EventID            string
	RecipientAccountID string
	SharedEventID      string

	State       string // StateStart or StateEnd
	EventSource string
	EventName   string
	InsightType string // APICallRateInsight or APIErrorRateInsight
	ErrorCode   string // error-rate records only (spec §2.9 #1)

	BaselineAverage  float64
	InsightAverage   float64
	InsightDuration  int // minutes, >= 1
	BaselineDuration int // minutes

	// Attributions in wire order: userIdentityArn, userAgent, and (call
	// rate only) errorCode.
	Attributions []Attribution
}

// Attribution is one entry of insightContext.attributions (spec §2.4).
type Attribution struct {
	Attribute string
	Insight   []AttributionValue // at most 5, highest average first
	Baseline  []AttributionValue // at most 5, highest average first
}

// AttributionValue is one value of an attribution with its per-minute
// average.
type AttributionValue struct {
	Value   string
	Average float64
}
