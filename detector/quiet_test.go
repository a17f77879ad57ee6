package detector

import (
	"strings"
	"testing"
)

// A burst that starts an Insight starts none once its principal is listed
// as quiet, by its session ARN's pattern or by its role; a pattern that
// matches nobody changes nothing, and so does a quiet principal that leads
// no burst.
func TestQuietPrincipals(t *testing.T) {
	deploy := "arn:aws:sts::111122223333:assumed-role/Deploy/pipeline"
	mallory := "arn:aws:iam::111122223333:user/mallory"
	for _, tc := range []struct {
		name     string
		quiet    []string
		who, api string
		size     int
		want     bool // an Insight on api
	}{
		{"unlisted, ten times its peak", nil, deploy, "TagRole", 400, true},
		{"sessions of the role", []string{"arn:aws:sts::*:assumed-role/Deploy/*"}, deploy, "TagRole", 400, false},
		{"the role", []string{"arn:aws:sts::111122223333:assumed-role/Deploy"}, deploy, "TagRole", 400, false},
		{"every role (the pattern matches the role)", []string{"arn:aws:sts::111122223333:assumed-role/*"}, deploy, "TagRole", 400, false},
		{"'*' stops at '/'", []string{"arn:aws:sts::111122223333:*"}, deploy, "TagRole", 400, true},
		{"another role", []string{"arn:aws:sts::*:assumed-role/Backup/*"}, deploy, "TagRole", 400, true},
		{"a new principal", []string{"arn:aws:iam::111122223333:user/mal*"}, mallory, "CreateAccessKey", 12, false},
		{"a new principal, unlisted", []string{"arn:aws:iam::111122223333:user/bob"}, mallory, "CreateAccessKey", 12, true},
	} {
		cfg := DefaultConfig()
		cfg.QuietPrincipals = tc.quiet
		if err := cfg.Validate(); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got := routineWorldWith(t, cfg, tc.who, tc.api, tc.size)
		found := false
		for _, in := range got {
			if in.Key.EventName == tc.api && in.State == StateStart {
				found = true
			}
		}
		if found != tc.want {
			t.Errorf("%s: Insight on %s = %v, want %v (%d Insights)", tc.name, tc.api, found, tc.want, len(got))
		}
	}
}

// Quiet calls are no evidence, and hide nobody else's: beside a quiet
// deploy role's burst, another principal's own calls to the same API are
// judged on their own, a newcomer's (novelty) and a known role's alike.
func TestQuietCallsHideNoOneElses(t *testing.T) {
	deploy := "arn:aws:sts::111122223333:assumed-role/Deploy/pipeline"
	agent := "arn:aws:sts::111122223333:assumed-role/agent/i-1" // writes all along
	mallory := "arn:aws:iam::111122223333:user/mallory"
	cfg := DefaultConfig()
	cfg.QuietPrincipals = []string{"arn:aws:sts::*:assumed-role/Deploy/*"}
	for _, tc := range []struct {
		name   string
		bursts []burst
		want   bool
	}{
		{"the quiet role alone", []burst{{deploy, "TagRole", 400, false}}, false},
		{"a newcomer beside it", []burst{{deploy, "TagRole", 400, false}, {mallory, "TagRole", 12, false}}, true},
		{"a known role beside it", []burst{{deploy, "TagRole", 400, false}, {agent, "TagRole", 60, false}}, true},
		{"a known role's few calls beside it", []burst{{deploy, "TagRole", 400, false}, {agent, "TagRole", 2, false}}, false},
	} {
		for seed := uint64(1); seed <= 3; seed++ {
			found := false
			for _, in := range incidentWorldWith(t, cfg, seed, tc.bursts...) {
				if in.Key.EventName == "TagRole" && in.State == StateStart {
					found = true
				}
			}
			if found != tc.want {
				t.Errorf("%s, seed %d: Insight on TagRole = %v, want %v", tc.name, seed, found, tc.want)
			}
		}
	}
}

func TestQuietShare(t *testing.T) {
	cfg := DefaultConfig()
	cfg.QuietPrincipals = []string{"arn:aws:sts::*:assumed-role/Deploy/*"}
	e := &Engine{cfg: cfg, vals: newValues()}
	h := &hotAttrs{}
	for i := range h.vals {
		h.vals[i] = map[uint32]float64{}
	}
	h.vals[0][e.vals.id("arn:aws:sts::111122223333:assumed-role/Deploy/pipeline")] = 300
	h.vals[0][e.vals.id("arn:aws:iam::111122223333:user/mallory")] = 100
	if got := e.quietShare(h, nil); got != 0.75 {
		t.Errorf("share = %v, want 0.75", got)
	}
	onlyMallory := func(arn string) bool { return arn == "arn:aws:iam::111122223333:user/mallory" }
	if got := e.quietShare(h, onlyMallory); got != 0 {
		t.Errorf("share among mallory's calls = %v, want 0", got)
	}
	e.cfg.QuietPrincipals = nil
	if got := e.quietShare(h, nil); got != 0 {
		t.Errorf("share with no quiet principals = %v, want 0", got)
	}
}

func TestQuietPrincipalsValidate(t *testing.T) {
	for _, tc := range []struct {
		pats []string
		want string
	}{
		{[]string{"arn:aws:iam::[1:user/x"}, `detector.quiet_principals[0]="arn:aws:iam::[1:user/x"`},
		{[]string{"arn:aws:iam::1:user/x", ""}, "detector.quiet_principals[1] is empty"},
	} {
		cfg := DefaultConfig()
		cfg.QuietPrincipals = tc.pats
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want one saying %q", tc.pats, err, tc.want)
		}
	}
}
