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

// Only a majority of quiet calls is quiet: a listed role's burst with as
// many calls by someone else beside it is still an Insight.
func TestQuietNeedsTheMajority(t *testing.T) {
	cfg := DefaultConfig()
	cfg.QuietPrincipals = []string{"arn:aws:sts::*:assumed-role/Deploy/*"}
	e := &Engine{cfg: cfg, vals: newValues()}
	h := &hotAttrs{}
	for i := range h.vals {
		h.vals[i] = map[uint32]float64{}
	}
	h.vals[0][e.vals.id("arn:aws:sts::111122223333:assumed-role/Deploy/pipeline")] = 200
	h.vals[0][e.vals.id("arn:aws:iam::111122223333:user/mallory")] = 200
	if e.quiet(h) {
		t.Error("half the calls by a quiet role: quiet, want not")
	}
	h.vals[0][e.vals.id("arn:aws:sts::111122223333:assumed-role/Deploy/other")] = 1
	if !e.quiet(h) {
		t.Error("201 of 401 calls by a quiet role: not quiet, want quiet")
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
