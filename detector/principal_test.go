package detector

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestPrincipalOfAssumedRoleIsTheRole(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"arn:aws:sts::111122223333:assumed-role/Deploy/session-1", "arn:aws:sts::111122223333:assumed-role/Deploy"},
		{"arn:aws:sts::111122223333:assumed-role/Deploy", "arn:aws:sts::111122223333:assumed-role/Deploy"},
		{"arn:aws:iam::111122223333:user/alice", "arn:aws:iam::111122223333:user/alice"},
		{"null", "null"},
	} {
		if got := principal(tc.in); got != tc.want {
			t.Errorf("principal(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// routineWorld runs nine days in which a deploy role calls UpdateService
// about ten times a minute, then a burst of size calls to api on day 9 by
// who.
func routineWorld(t *testing.T, who, api string, size int) []Insight {
	t.Helper()
	return routineWorldWith(t, DefaultConfig(), who, api, size)
}

func routineWorldWith(t *testing.T, cfg Config, who, api string, size int) []Insight {
	t.Helper()
	sink := &collect{}
	e, err := New(cfg, sink, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := &stream{e: e, t0: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), rng: rand.New(rand.NewPCG(9, 9)), label: "r"}
	ctx := context.Background()
	deploy := "arn:aws:sts::111122223333:assumed-role/Deploy/pipeline"
	last := 8*1440 + 700
	for i := 0; i <= last+60; i++ {
		_ = e.Advance(ctx, s.t0.Add(time.Duration(i)*time.Minute))
		// Steady traffic elsewhere keeps the account's clock and gap guard fed.
		s.minute(i, poissonN(s.rng, 5), "DescribeInstances", "", "arn:aws:iam::111122223333:role/app", false)
		s.minute(i, poissonN(s.rng, 10), "UpdateService", "", deploy, true)
		if i >= last && i < last+4 {
			s.minute(i, size/4, api, "", who, true)
		}
	}
	return sink.got
}

func TestRoutineBurstOfAKnownPrincipalStartsNothing(t *testing.T) {
	// The deploy role touches an API it never used, 20 calls: unusual for
	// the API, routine for the role (about 100 calls every 10 minutes).
	got := routineWorld(t, "arn:aws:sts::111122223333:assumed-role/Deploy/pipeline", "TagRole", 20)
	for _, in := range got {
		t.Errorf("unexpected %s %s at %s", in.Key, in.State, in.Start)
	}
}

func TestBurstOfANewPrincipalStarts(t *testing.T) {
	// Twelve calls to an API nobody called, by a principal nobody saw.
	got := routineWorld(t, "arn:aws:iam::111122223333:user/mallory", "CreateAccessKey", 12)
	if len(got) == 0 || got[0].State != StateStart || got[0].Key.EventName != "CreateAccessKey" {
		t.Fatalf("got %v, want a Start on CreateAccessKey", got)
	}
	if top := got[0].Attributions[0].Insight[0].Value; top != "arn:aws:iam::111122223333:user/mallory" {
		t.Errorf("top principal %q, want mallory", top)
	}
	// The Start says who led it and that it has no burst on record.
	if in := got[0]; in.Leader != "arn:aws:iam::111122223333:user/mallory" || in.LeaderPeak != 0 || in.LeaderCalls < 3 {
		t.Errorf("leader %q with %g calls and a peak of %g, want mallory, her calls so far, no peak", in.Leader, in.LeaderCalls, in.LeaderPeak)
	}
}

func TestKnownPrincipalFarBeyondItsPeakStarts(t *testing.T) {
	got := routineWorld(t, "arn:aws:sts::111122223333:assumed-role/Deploy/pipeline", "TagRole", 400)
	if len(got) == 0 || got[0].State != StateStart || got[0].Key.EventName != "TagRole" {
		t.Fatalf("got %v, want a Start on TagRole: 400 calls is four times the role's peak", got)
	}
	// The Start names the role (its sessions together) and the peak it
	// went beyond, for explain.
	in := got[0]
	if in.Leader != "arn:aws:sts::111122223333:assumed-role/Deploy" || in.LeaderPeak < 80 || in.LeaderCalls <= RoutineFactor*in.LeaderPeak {
		t.Errorf("leader %q with %g calls and a peak of %g, want the Deploy role beyond %d times its peak of about 100", in.Leader, in.LeaderCalls, in.LeaderPeak, RoutineFactor)
	}
}

// A principal's peak is its largest sliding 10-minute sum: a burst of 40
// calls over minutes 5 to 14, across a ten-minute boundary, is a peak of
// 40, as routine measures the next burst. (Windows aligned to ten minutes
// saw 20 and 20.)
func TestPrincipalPeakSlides(t *testing.T) {
	reg := &region{first: 0}
	p := reg.principalSeries(1)
	for m := int64(0); m < 30; m++ {
		if m >= 5 && m < 15 {
			p.counts.Add(m, 4)
		} else {
			p.counts.Add(m, 0)
		}
		reg.learnPrincipals(m)
	}
	if p.peak < 39.9 || p.peak > 40 {
		t.Errorf("peak = %v, want 40 (decayed by at most a few minutes)", p.peak)
	}
}

// agentWorld runs nine days of an account whose CloudFormation service
// role (its calls carry invokedBy cloudformation.amazonaws.com) makes,
// on day 9, a burst of 40 AttachRolePolicy calls, an API nobody calls. If
// roleKnown, the role made a few calls a day all along (a peak of a few
// calls); else the burst is its first call. requester, if not "", asks
// CloudFormation for it (ExecuteChangeSet) a minute before, in Region
// requestRegion: the CI role that has deployed every day, or a principal
// new to the account. (IAM's calls are recorded in us-east-1 whatever the
// stack's Region.) With requestRegion "later in the file", the request is
// made in the burst's first minute and observed after that minute's work,
// as records come in no order within a log file.
func agentWorld(t *testing.T, roleKnown bool, requester, requestRegion string) []Insight {
	t.Helper()
	got, _ := agentWorldEngine(t, roleKnown, requester, requestRegion, 10)
	return got
}

// agentWorldEngine is agentWorld with perMinute calls in each of the
// burst's four minutes (their times drawn apart from the rest's, so that
// worlds that differ in the burst alone differ in nothing else), and
// returns the Engine too.
func agentWorldEngine(t *testing.T, roleKnown bool, requester, requestRegion string, perMinute int) ([]Insight, *Engine) {
	laterInFile := requestRegion == "later in the file"
	if laterInFile {
		requestRegion = "us-east-1"
	}
	t.Helper()
	sink := &collect{}
	e, err := New(DefaultConfig(), sink, nil)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	rng, burstRNG := rand.New(rand.NewPCG(4, 4)), rand.New(rand.NewPCG(5, 5))
	seq := 0
	region := "us-east-1"
	call := func(rng *rand.Rand, i int, source, name, arn, agent string) {
		seq++
		ev := roleCall(t0, i, rng, fmt.Sprintf("a-%d", seq), source, name, "", true)
		ev.AWSRegion, ev.UserIdentityARN, ev.InvokedBy = region, arn, agent
		if agent != "" {
			ev.UserAgent = agent
		}
		e.Observe(&ev)
	}
	const (
		ci  = "arn:aws:sts::111122223333:assumed-role/ci-deploy/GitHubActions"
		cfn = "arn:aws:sts::111122223333:assumed-role/cfn-exec-role/AWSCloudFormation"
		app = "arn:aws:sts::111122223333:assumed-role/app/i-0123456789abcdef0"
		by  = "cloudformation.amazonaws.com"
	)
	ctx := context.Background()
	burst := 8*1440 + 700
	for i := 0; i <= burst+90; i++ {
		_ = e.Advance(ctx, t0.Add(time.Duration(i)*time.Minute))
		// Steady writes keep the clock, the gap guard and the account's
		// share of new principals' calls fed.
		for range poissonN(rng, 5) {
			call(rng, i, "ssm.amazonaws.com", "UpdateInstanceInformation", app, "")
		}
		if i%1440 == 600 { // the daily release
			region = requestRegion
			call(rng, i, "cloudformation.amazonaws.com", "ExecuteChangeSet", ci, "")
			region = "us-east-1"
			if roleKnown {
				for range 3 {
					call(rng, i+1, "ec2.amazonaws.com", "CreateTags", cfn, by)
				}
			}
		}
		if i == burst-1 && requester != "" && !laterInFile {
			region = requestRegion
			call(rng, i, "cloudformation.amazonaws.com", "ExecuteChangeSet", requester, "")
			region = "us-east-1"
		}
		if i >= burst && i < burst+4 {
			for range perMinute {
				call(burstRNG, i, "iam.amazonaws.com", "AttachRolePolicy", cfn, by)
			}
			if i == burst && requester != "" && laterInFile {
				call(rng, i, "cloudformation.amazonaws.com", "ExecuteChangeSet", requester, "")
			}
		}
	}
	return sink.got, e
}

// A service's work on a request by a known principal is routine, whether
// the service role is known or new to the account, in whichever Region the
// request was made and wherever in the log file it is; without a request, or on a request by a principal
// new to the account, it is judged as any other burst.
func TestServiceWorkOnARequest(t *testing.T) {
	const (
		ci      = "arn:aws:sts::111122223333:assumed-role/ci-deploy/GitHubActions"
		mallory = "arn:aws:iam::111122223333:user/mallory"
	)
	for _, tc := range []struct {
		name      string
		roleKnown bool
		requester string
		region    string
		start     bool
	}{
		{"known role, CI's request", true, ci, "us-east-1", false},
		{"known role, CI's request in another Region", true, ci, "eu-west-1", false},
		{"known role, CI's request later in the file", true, ci, "later in the file", false},
		{"known role, no request", true, "", "us-east-1", true},
		{"known role, a new principal's request", true, mallory, "us-east-1", true},
		{"new role, CI's request", false, ci, "us-east-1", false},
		{"new role, CI's request in another Region", false, ci, "eu-west-1", false},
		{"new role, CI's request later in the file", false, ci, "later in the file", false},
		{"new role, no request", false, "", "us-east-1", true},
		{"new role, a new principal's request", false, mallory, "us-east-1", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var starts []string
			for _, in := range agentWorld(t, tc.roleKnown, tc.requester, tc.region) {
				if in.State != StateStart {
					continue
				}
				starts = append(starts, in.Key.EventName)
				// A burst no request explained names the service its
				// leader acts for, for explain.
				if in.Key.EventName == "AttachRolePolicy" && in.LeaderAgent != "cloudformation.amazonaws.com" {
					t.Errorf("Start led by %q acting for %q, want the stack's role acting for CloudFormation", in.Leader, in.LeaderAgent)
				}
			}
			if tc.start != slices.Contains(starts, "AttachRolePolicy") {
				t.Errorf("Starts %v; want a Start on AttachRolePolicy: %v", starts, tc.start)
			}
		})
	}
}

// A burst the routine rules excused is the series' own normal, but it
// lends nothing to the account-Region's dispersion priors: otherwise every
// deploy would make each sparse API of the account look as bursty as the
// deploy's. The excused burst (40 calls on CI's request) leaves the priors
// as a world without it has them; four single calls, no burst to excuse,
// are lent (the control: the priors do see this API).
func TestExcusedBurstLendsNothingToThePriors(t *testing.T) {
	const ci = "arn:aws:sts::111122223333:assumed-role/ci-deploy/GitHubActions"
	prior := func(perMinute int) (dispersionPool, []Insight) {
		got, e := agentWorldEngine(t, true, ci, "us-east-1", perMinute)
		return e.regions[regionKey{"111122223333", "us-east-1"}].pool, got
	}
	none, _ := prior(0)
	excused, got := prior(10)
	single, _ := prior(1)
	if len(got) != 0 {
		t.Fatalf("the excused burst started %d Insights; the test needs it excused", len(got))
	}
	if excused != none {
		t.Errorf("priors after an excused burst %+v, without it %+v: the burst was lent", excused, none)
	}
	if single == none {
		t.Errorf("four single calls left the priors as they were (%+v): the test cannot see lending", none)
	}
}

// A service role new to the account doing a request's work is no new
// principal: its calls do not raise the account-Region's share of calls
// by new principals, against which every novelty test is judged. Without
// a request they do (the control).
func TestServiceWorkIsNoNewcomersShare(t *testing.T) {
	const ci = "arn:aws:sts::111122223333:assumed-role/ci-deploy/GitHubActions"
	novel := func(requester string, perMinute int) float64 {
		_, e := agentWorldEngine(t, false, requester, "us-east-1", perMinute)
		return e.regions[regionKey{"111122223333", "us-east-1"}].novelWrites
	}
	if none, asked := novel(ci, 0), novel(ci, 10); asked != none {
		t.Errorf("%g calls by new principals after the work of CI's request, %g without the work", asked, none)
	}
	if none, unasked := novel("", 0), novel("", 10); unasked != none+40 {
		t.Errorf("%g calls by new principals after an unasked burst of 40, %g without it: the test cannot see the share", unasked, none)
	}
}

// A ten-minute block that holds an excused burst in its middle, not at
// either end, is not lent to the priors either.
func TestExcusedInOverlaps(t *testing.T) {
	e, err := New(DefaultConfig(), &collect{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := &series{}
	e.excuse(s, 104, 106)
	for _, tc := range []struct {
		from, to int64
		want     bool
	}{{100, 109, true}, {105, 105, true}, {106, 115, true}, {90, 99, false}, {107, 116, false}, {103, 103, false}} {
		if got := e.excusedIn(s, tc.from, tc.to); got != tc.want {
			t.Errorf("excusedIn(%d, %d) = %v, want %v (span 104-106)", tc.from, tc.to, got, tc.want)
		}
	}
}
