package cloudtrail

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestInsightEnvelopeGolden wraps the trailsight error-rate Start record in
// the envelope of spec §7, with the spec example's envelope id.
func TestInsightEnvelopeGolden(t *testing.T) {
	rec := insightCases(t)[2].rec
	got := AppendInsightEnvelope(nil, &rec, "6a7e8feb-b491-4cf7-a9f1-bf3703467718")
	checkGolden(t, "envelope-error-rate-start", got)
}

func TestInsightEnvelope(t *testing.T) {
	for _, tc := range insightCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			id := NewUUIDv4()
			prefix := []byte("existing ")
			b := AppendInsightEnvelope(bytes.Clone(prefix), &tc.rec, id)
			if !bytes.HasPrefix(b, prefix) {
				t.Fatalf("AppendInsightEnvelope overwrote dst: %q", b)
			}
			b = b[len(prefix):]

			var env struct {
				Version    string          `json:"version"`
				ID         string          `json:"id"`
				DetailType string          `json:"detail-type"`
				Source     string          `json:"source"`
				Account    string          `json:"account"`
				Time       string          `json:"time"`
				Region     string          `json:"region"`
				Resources  []string        `json:"resources"`
				Detail     json.RawMessage `json:"detail"`
			}
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&env); err != nil {
				t.Fatalf("decode envelope %s: %v", b, err)
			}
			type fields struct{ Version, ID, DetailType, Source, Account, Time, Region string }
			gotF := fields{env.Version, env.ID, env.DetailType, env.Source, env.Account, env.Time, env.Region}
			wantF := fields{"0", id, "AWS Insight via CloudTrail", "aws.cloudtrail", tc.rec.RecipientAccountID,
				tc.rec.EventTime.UTC().Format("2006-01-02T15:04:05Z"), tc.rec.AWSRegion}
			if diff := cmp.Diff(wantF, gotF); diff != "" {
				t.Errorf("envelope fields (-want +got):\n%s", diff)
			}
			if env.Resources == nil || len(env.Resources) != 0 {
				t.Errorf("resources = %#v, want []", env.Resources)
			}
			if want := tc.rec.AppendJSON(nil); !bytes.Equal(env.Detail, want) {
				t.Errorf("detail = %s\nwant %s", env.Detail, want)
			}
		})
	}
}
