package detector

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"
)

// incidentWorld runs nine days in which a deploy role puts clusters of 20
// to 40 inline policies (PutRolePolicy) twice a day, beside an agent's
// steady writes and an application's reads, and from day 8 on a new
// application's few writes (so that calls by new principals are not
// unheard of: about one write in fifty);
// on day 9, bursts of n calls spread over four minutes.
type burst struct {
	who, api string
	n        int
	known    bool // the principal made a read call on day 1, in the warm-up
}

func incidentWorld(t *testing.T, seed uint64, bursts ...burst) []Insight {
	t.Helper()
	return incidentWorldWith(t, DefaultConfig(), seed, bursts...)
}

func incidentWorldWith(t *testing.T, cfg Config, seed uint64, bursts ...burst) []Insight {
	t.Helper()
	return incidentWorldTraced(t, cfg, seed, nil, bursts...)
}

// incidentWorldTraced is incidentWorldWith with the Engine handed to setup
// first (to trace a series, say).
func incidentWorldTraced(t *testing.T, cfg Config, seed uint64, setup func(*Engine), bursts ...burst) []Insight {
	t.Helper()
	sink := &collect{}
	e, err := New(cfg, sink, nil)
	if err != nil {
		t.Fatal(err)
	}
	if setup != nil {
		setup(e)
	}
	s := &stream{e: e, t0: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), rng: rand.New(rand.NewPCG(seed, 7)), label: "c"}
	ctx := context.Background()
	deploy := "arn:aws:sts::111122223333:assumed-role/Deploy/pipeline"
	last := 8*1440 + 700
	cluster := map[int]int{}
	for d := range 9 {
		for _, at := range []int{300, 900} {
			cluster[d*1440+at+s.rng.IntN(400)] = 20 + s.rng.IntN(21)
		}
	}
	left := 0
	for i := 0; i <= last+60; i++ {
		_ = e.Advance(ctx, s.t0.Add(time.Duration(i)*time.Minute))
		s.minute(i, poissonN(s.rng, 5), "DescribeInstances", "", "arn:aws:iam::111122223333:role/app", false)
		s.minute(i, poissonN(s.rng, 3), "UpdateInstanceInformation", "", "arn:aws:sts::111122223333:assumed-role/agent/i-1", true)
		if i == 60 {
			for _, b := range bursts {
				if b.known {
					s.minute(i, 1, "DescribeInstances", "", b.who, false)
				}
			}
		}
		if i >= 7*1440+600 {
			s.minute(i, poissonN(s.rng, 0.1), "PutParameter", "", "arn:aws:sts::111122223333:assumed-role/new-app/x", true)
		}
		if n, ok := cluster[i]; ok {
			left = n
		}
		if left > 0 {
			n := min(left, 10)
			s.minute(i, n, "PutRolePolicy", "", deploy, true)
			left -= n
		}
		if i >= last && i < last+4 {
			for _, b := range bursts {
				k := i - last
				s.minute(i, b.n/4+min(1, max(0, b.n%4-k)), b.api, "", b.who, true)
			}
		}
	}
	return sink.got
}

func starts(got []Insight) map[string]*Insight {
	m := map[string]*Insight{}
	for i := range got {
		if got[i].State == StateStart {
			m[got[i].Key.EventName] = &got[i]
		}
	}
	return m
}

// A newcomer's ten PutRolePolicy calls, an API deploys burst on, are no
// Insight alone; beside its CreateUser calls (an API nobody calls, an
// Insight at once) they are, as that Insight's companion.
func TestEngineCompanionOfANewPrincipalsInsight(t *testing.T) {
	mallory := "arn:aws:iam::111122223333:user/mallory"
	for seed := uint64(1); seed <= 10; seed++ {
		alone := starts(incidentWorld(t, seed, burst{mallory, "PutRolePolicy", 12, false}))
		if in := alone["PutRolePolicy"]; in != nil {
			t.Fatalf("seed %d: 12 PutRolePolicy calls by a newcomer alone started an Insight (p=%g): the world is too easy to show the rule", seed, in.PValue)
		}
		got := starts(incidentWorld(t, seed, burst{mallory, "CreateUser", 4, false}, burst{mallory, "PutRolePolicy", 12, false}))
		if got["CreateUser"] == nil {
			t.Fatalf("seed %d: no Insight on CreateUser", seed)
		}
		in := got["PutRolePolicy"]
		if in == nil {
			t.Errorf("seed %d: no Insight on PutRolePolicy beside the newcomer's CreateUser Insight", seed)
			continue
		}
		if in.CompanionOf != "CreateUser" || !in.Novel {
			t.Errorf("seed %d: PutRolePolicy CompanionOf=%q Novel=%v, want CreateUser, true", seed, in.CompanionOf, in.Novel)
		}
		if top := in.Attributions[0].Insight[0].Value; top != mallory {
			t.Errorf("seed %d: top principal %q, want mallory", seed, top)
		}
	}
}

// Only an Insight that holds calls by new principals (min_count of them)
// has companions: the deploy role's own Insight (a burst far beyond its
// peak), with two calls of the newcomer in it, does not make the
// newcomer's PutRolePolicy calls one.
func TestEngineCompanionNeedsNewPrincipalsInTheInsight(t *testing.T) {
	mallory := "arn:aws:iam::111122223333:user/mallory"
	deploy := "arn:aws:sts::111122223333:assumed-role/Deploy/pipeline"
	for seed := uint64(1); seed <= 10; seed++ {
		got := starts(incidentWorld(t, seed, burst{deploy, "TagRole", 400, false}, burst{mallory, "TagRole", 2, false}, burst{mallory, "PutRolePolicy", 12, false}))
		if got["TagRole"] == nil {
			t.Fatalf("seed %d: no Insight on TagRole: 400 calls are ten times the deploy role's peak", seed)
		}
		if in := got["PutRolePolicy"]; in != nil {
			t.Errorf("seed %d: PutRolePolicy Insight (CompanionOf %q) beside an Insight that holds only two calls of newcomers", seed, in.CompanionOf)
		}
	}
}

// A trace shows the novelty tests (Point.NoveltyP): on the newcomer's
// PutRolePolicy calls, the tail probability a companion passes and the
// window test does not; 1 on a series without calls by new principals.
func TestTraceShowsNoveltyTests(t *testing.T) {
	mallory := "arn:aws:iam::111122223333:user/mallory"
	key := func(name string) Key {
		return Key{Account: "111122223333", Region: "us-east-1", EventSource: "ec2.amazonaws.com", EventName: name, Type: APICallRate}
	}
	best := map[string]float64{"PutRolePolicy": 1, "UpdateInstanceInformation": 1}
	trace := func(e *Engine) {
		for name := range best {
			e.Trace(key(name), func(p Point) { best[name] = min(best[name], p.NoveltyP[0], p.NoveltyP[1]) })
		}
	}
	incidentWorldTraced(t, DefaultConfig(), 1, trace, burst{mallory, "CreateUser", 4, false}, burst{mallory, "PutRolePolicy", 12, false})
	if p := best["PutRolePolicy"]; !(p < companionP && p >= DefaultConfig().StartP*10) {
		t.Errorf("PutRolePolicy's best novelty p = %g, want in [1e-6, 1e-3): a companion's, not a window test's", p)
	}
	if p := best["UpdateInstanceInformation"]; p != 1 {
		t.Errorf("UpdateInstanceInformation's best novelty p = %g, want 1: no new principal called it", p)
	}
}

// A known principal's incident spans APIs too: its PutRolePolicy calls, an
// API deploys burst on, are no Insight alone; beside its RunInstances
// calls (an API nobody calls, an Insight at once) they are, as that
// Insight's leader companion, where their best window reaches companionP
// (the deploys' clusters make some worlds too erratic for 18 calls to; in
// those there must be no Insight). All its calls come in the same minutes,
// so whichever series is tested first, the other is tested again.
func TestEngineLeaderCompanion(t *testing.T) {
	ops := "arn:aws:sts::111122223333:assumed-role/ops/alice"
	key := Key{Account: "111122223333", Region: "us-east-1", EventSource: "ec2.amazonaws.com", EventName: "PutRolePolicy", Type: APICallRate}
	incident := time.Date(2026, 1, 13, 11, 40, 0, 0, time.UTC) // incidentWorld's day 9
	shown := 0
	for seed := uint64(1); seed <= 10; seed++ {
		alone := starts(incidentWorld(t, seed, burst{ops, "PutRolePolicy", 18, true}))
		if in := alone["PutRolePolicy"]; in != nil {
			t.Fatalf("seed %d: 18 PutRolePolicy calls alone started an Insight (p=%g): the world is too easy to show the rule", seed, in.PValue)
		}
		best := 1.0
		trace := func(e *Engine) {
			e.Trace(key, func(p Point) {
				if p.Minute.Before(incident) {
					return
				}
				for _, q := range p.SpikeP {
					best = min(best, q)
				}
			})
		}
		got := starts(incidentWorldTraced(t, DefaultConfig(), seed, trace, burst{ops, "RunInstances", 80, true}, burst{ops, "PutRolePolicy", 18, true}))
		if got["RunInstances"] == nil {
			t.Fatalf("seed %d: no Insight on RunInstances", seed)
		}
		in := got["PutRolePolicy"]
		if best >= companionP {
			if in != nil {
				t.Errorf("seed %d: PutRolePolicy Insight (p=%g) whose best window p = %g is not even a companion's evidence", seed, in.PValue, best)
			}
			continue
		}
		shown++
		if in == nil {
			t.Errorf("seed %d: no Insight on PutRolePolicy (best p = %g) beside the same principal's RunInstances Insight", seed, best)
			continue
		}
		if in.CompanionOf != "RunInstances" || in.Novel || in.Leader != principal(ops) {
			t.Errorf("seed %d: PutRolePolicy CompanionOf=%q Novel=%v Leader=%q, want RunInstances, false, the ops role", seed, in.CompanionOf, in.Novel, in.Leader)
		}
		// The same calls observed in the other order within each minute
		// (PutRolePolicy's series is then tested first) give the same
		// Insights, emitted at the same minutes.
		swapped := starts(incidentWorld(t, seed, burst{ops, "PutRolePolicy", 18, true}, burst{ops, "RunInstances", 80, true}))
		for _, api := range []string{"RunInstances", "PutRolePolicy"} {
			a, b := got[api], swapped[api]
			if b == nil {
				t.Errorf("seed %d: no %s Insight with the calls in the other order", seed, api)
			} else if !a.Start.Equal(b.Start) || !a.Emitted.Equal(b.Emitted) || a.CompanionOf != b.CompanionOf {
				t.Errorf("seed %d: %s's Start depends on the order of the calls: from %v emitted %v (companion of %q), then from %v emitted %v (%q)",
					seed, api, a.Start, a.Emitted, a.CompanionOf, b.Start, b.Emitted, b.CompanionOf)
			}
		}
		if p := in.PValue; !(p < companionP && p >= DefaultConfig().StartP) {
			t.Errorf("seed %d: PutRolePolicy's p = %g, want in [start_p, companionP): a companion's evidence", seed, p)
		}
	}
	if shown < 5 {
		t.Errorf("the rule was shown in %d worlds of 10, want at least 5", shown)
	}
}

// The open Insight must be led by the same principal: another known
// principal's PutRolePolicy calls in the same minutes are judged alone.
func TestEngineLeaderCompanionNeedsTheSameLeader(t *testing.T) {
	ops := "arn:aws:sts::111122223333:assumed-role/ops/alice"
	bob := "arn:aws:iam::111122223333:user/bob"
	for seed := uint64(1); seed <= 10; seed++ {
		got := starts(incidentWorld(t, seed, burst{ops, "RunInstances", 80, true}, burst{bob, "PutRolePolicy", 18, true}))
		if got["RunInstances"] == nil {
			t.Fatalf("seed %d: no Insight on RunInstances", seed)
		}
		if in := got["PutRolePolicy"]; in != nil {
			t.Errorf("seed %d: PutRolePolicy Insight (CompanionOf %q, leader %q) led by another principal than RunInstances'", seed, in.CompanionOf, in.Leader)
		}
	}
}
