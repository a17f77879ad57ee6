package main

import (
	"strings"
	"testing"
	"time"

	"github.com/trailsight/trailsight/cloudtrail"
)

// TestExplainGapInAJobsRuns: a drop started by missed runs is explained by
// the job's period and the minutes since its last run, not as a window
// test it was not.
func TestExplainGapInAJobsRuns(t *testing.T) {
	from := time.Date(2026, 1, 5, 10, 7, 0, 0, time.UTC)
	rec := &cloudtrail.InsightRecord{InsightType: "ApiCallRateInsight", EventSource: "ec2.amazonaws.com",
		EventName: "CreateSnapshot", RecipientAccountID: "111122223333", AWSRegion: "us-east-1", InsightDuration: 180}
	// Found at the second missed run's deadline, 3 minutes after it: a
	// window of 64 minutes from the first missed run, 123 since the last.
	why := &liveInsight{Direction: "drop", Scale: 64, PValue: 1e-5, Expected: 0.02, Period: 60}
	ex := &explanation{rec: rec, from: from, why: why, rules: detectorRules{StartP: 1e-4, CoolDown: 5}}
	var b strings.Builder
	if err := ex.print(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	wantLines(t, out, "a job that runs every 60 minutes had not run for 123 minutes (since 09:07Z)",
		"probability 1e-05", "threshold of 0.012 (-detector.start-p 0.0001 per minute × 123)", "It ends when the job runs again")
	if strings.Contains(out, "tail probability") {
		t.Errorf("a gap explained as a window test:\n%s", out)
	}
	// Any other Insight keeps the window explanation.
	why.Period = 0
	b.Reset()
	if err := ex.print(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "a drop over 64 minute(s) whose tail probability") {
		t.Errorf("window explanation missing:\n%s", b.String())
	}
}

// TestExplainSiblingDrop: a drop confirmed by another API's open drop is
// explained by that drop and the sibling threshold, not as a window test
// against -detector.start-p, which it did not pass.
func TestExplainSiblingDrop(t *testing.T) {
	rec := &cloudtrail.InsightRecord{InsightType: "ApiCallRateInsight", EventSource: "ssm.amazonaws.com",
		EventName: "UpdateInstanceAssociationStatus", RecipientAccountID: "111122223333", AWSRegion: "us-east-1", InsightDuration: 48}
	why := &liveInsight{Direction: "drop", Scale: 26, PValue: 8.4e-4, Expected: 0.25, SiblingOf: "UpdateInstanceInformation"}
	ex := &explanation{rec: rec, from: time.Date(2026, 1, 14, 10, 0, 0, 0, time.UTC), why: why, rules: detectorRules{StartP: 1e-7, CoolDown: 5}}
	var b strings.Builder
	if err := ex.print(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	wantLines(t, out, "UpdateInstanceInformation, another API of ssm.amazonaws.com in this account and Region, had an open drop Insight",
		"over the 26 minutes since that drop began had tail probability 0.00084", "threshold\nof 0.001 for a sibling of an open drop")
	if strings.Contains(out, "-detector.start-p") {
		t.Errorf("a sibling drop explained by the window threshold it did not pass:\n%s", out)
	}
}

// TestExplainNewPrincipals: a spike started by new principals' calls says
// so, and one confirmed as the companion of another API's Insight names
// that API and the companion threshold, not -detector.start-p.
func TestExplainNewPrincipals(t *testing.T) {
	rec := &cloudtrail.InsightRecord{InsightType: "ApiCallRateInsight", EventSource: "iam.amazonaws.com",
		EventName: "PutRolePolicy", RecipientAccountID: "111122223333", AWSRegion: "us-east-1", InsightDuration: 7}
	why := &liveInsight{Direction: "spike", Scale: 10, PValue: 2.6e-6, Expected: 0.01, Novel: true}
	ex := &explanation{rec: rec, from: time.Date(2026, 1, 12, 10, 13, 0, 0, time.UTC), why: why, rules: detectorRules{StartP: 1e-7, CoolDown: 5}}
	print := func() string {
		var b strings.Builder
		if err := ex.print(&b); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	out := print()
	wantLines(t, out, "the calls of principals new to the account (first seen less than a day ago) over 10 minute(s)",
		"tail probability 2.6e-06", "threshold of 1e-06 (-detector.start-p 1e-07 per minute of window × 10)")
	why.CompanionOf = "CreateUser"
	out = print()
	wantLines(t, out, "CreateUser, another API in this account and Region, had an open Insight holding calls by principals",
		"tail probability 2.6e-06", "threshold of 0.001 for a companion")
	if strings.Contains(out, "-detector.start-p") {
		t.Errorf("a companion explained by the window threshold it did not pass:\n%s", out)
	}
	// A leader companion (calls of a known principal) names the
	// principal's other Insight, not new principals.
	why.Novel, why.CompanionOf = false, "RunInstances"
	out = print()
	wantLines(t, out, "RunInstances, another API in this account and Region, had an open spike Insight led by the same principal;",
		"tail probability 2.6e-06", "threshold of 0.001 for a companion")
	if strings.Contains(out, "new to the account") || strings.Contains(out, "-detector.start-p") {
		t.Errorf("a leader companion explained as new principals' calls or by the window threshold:\n%s", out)
	}
}

// TestExplainLeader: a spike's Start says which principal led it and how
// far beyond its peak (or that it has none), and how to quiet it if its
// bursts are expected.
func TestExplainLeader(t *testing.T) {
	rec := &cloudtrail.InsightRecord{InsightType: "ApiCallRateInsight", EventSource: "ecs.amazonaws.com",
		EventName: "UpdateService", RecipientAccountID: "777788889999", AWSRegion: "us-east-1", InsightDuration: 8}
	role := "arn:aws:sts::777788889999:assumed-role/cfn-exec-role"
	why := &liveInsight{Direction: "spike", Scale: 10, PValue: 3.2e-15, Leader: role, LeaderCalls: 47, LeaderPeak: 22}
	ex := &explanation{rec: rec, from: time.Date(2026, 1, 12, 5, 15, 0, 0, time.UTC), why: why, rules: detectorRules{StartP: 1e-7, CoolDown: 5}}
	var b strings.Builder
	if err := ex.print(&b); err != nil {
		t.Fatal(err)
	}
	wantLines(t, b.String(), "made by "+role+": 47 write calls in the 10 minutes to the Start",
		"2.1 times its largest burst of the last weeks (22); up to 2 times it, a burst is routine",
		"-detector.quiet-principals '"+role+"' makes its calls no evidence")
	why.LeaderPeak = 0
	b.Reset()
	if err := ex.print(&b); err != nil {
		t.Fatal(err)
	}
	wantLines(t, b.String(), "made by "+role+" (47 write calls", "no burst on record in this account and Region")
	if strings.Contains(b.String(), "acts for") {
		t.Errorf("a principal that calls on its own explained as acting for a service:\n%s", b.String())
	}
	// A stack's service role whose work no request explained says so.
	why.LeaderAgent = "cloudformation.amazonaws.com"
	b.Reset()
	if err := ex.print(&b); err != nil {
		t.Fatal(err)
	}
	wantLines(t, b.String(), "It acts for cloudformation.amazonaws.com (userIdentity.invokedBy), which no principal of the account asked")
}

// wantLines reports each of wants that the explain output out lacks.
func wantLines(t *testing.T, out string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(out, want) {
			t.Errorf("explain output lacks %q:\n%s", want, out)
		}
	}
}
