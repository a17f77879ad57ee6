package cloudtrail

// EventBridge envelope constants for Insights (spec §7, §2.9 #5).
// InsightDetailType is the EventBridge detail-type of Insights events
// (spec §7).
const InsightDetailType = "AWS Insight via CloudTrail"

const (
	insightEnvelopeDetailType = InsightDetailType
	insightEnvelopeSource     = "aws.cloudtrail"
)

// AppendInsightEnvelope appends the EventBridge event that carries r
// (spec §7, §2.9 #5) to dst and returns the extended buffer:
//
//	{"version":"0","id":id,"detail-type":"AWS Insight via CloudTrail",
//	 "source":"aws.cloudtrail","account":recipientAccountId,"time":eventTime,
//	 "region":awsRegion,"resources":[],"detail":<r.AppendJSON>}
//
// id is the envelope's own ID, normally NewUUIDv4(): unlike record IDs it is
// fresh per delivery, as EventBridge IDs are.
func AppendInsightEnvelope(dst []byte, r *InsightRecord, id string) []byte {
	dst = append(dst, `{"version":"0","id":`...)
	dst = appendJSONStr(dst, id)
	dst = append(dst, `,"detail-type":"`+insightEnvelopeDetailType+`","source":"`+insightEnvelopeSource+`","account":`...)
	dst = appendJSONStr(dst, r.RecipientAccountID)
	dst = append(dst, `,"time":"`...)
	dst = r.EventTime.UTC().AppendFormat(dst, insightTimeLayout)
	dst = append(dst, `","region":`...)
	dst = appendJSONStr(dst, r.AWSRegion)
	dst = append(dst, `,"resources":[],"detail":`...)
	dst = r.AppendJSON(dst)
	return append(dst, '}')
}
