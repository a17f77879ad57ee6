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
		alone := starts(incidentWorld(t, seed, burst{mallory, "PutRolePolicy", 12}))
		if in := alone["PutRolePolicy"]; in != nil {
			t.Fatalf("seed %d: 12 PutRolePolicy calls by a newcomer alone started an Insight (p=%g): the world is too easy to show the rule", seed, in.PValue)
		}
		got := starts(incidentWorld(t, seed, burst{mallory, "CreateUser", 4}, burst{mallory, "PutRolePolicy", 12}))
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
		got := starts(incidentWorld(t, seed, burst{deploy, "TagRole", 400}, burst{mallory, "TagRole", 2}, burst{mallory, "PutRolePolicy", 12}))
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
	incidentWorldTraced(t, DefaultConfig(), 1, trace, burst{mallory, "CreateUser", 4}, burst{mallory, "PutRolePolicy", 12})
	if p := best["PutRolePolicy"]; !(p < companionP && p >= DefaultConfig().StartP*10) {
		t.Errorf("PutRolePolicy's best novelty p = %g, want in [1e-6, 1e-3): a companion's, not a window test's", p)
	}
	if p := best["UpdateInstanceInformation"]; p != 1 {
		t.Errorf("UpdateInstanceInformation's best novelty p = %g, want 1: no new principal called it", p)
	}
}
