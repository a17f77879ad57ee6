package detector

import (
	"flag"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/trailsight/trailsight/models"
)

// Config holds the detector's settings. Defaults live in RegisterFlags.
type Config struct {
	// AllowedLateness is how long after the newest event time a minute
	// stays open for late records (spec §2.9 #17).
	AllowedLateness time.Duration `yaml:"allowed_lateness"`
	// DedupWindow is how long an eventID is remembered (spec §2.9 #16).
	DedupWindow time.Duration `yaml:"dedup_window"`
	// WarmUp is how much history an account and Region need before any of
	// its APIs may produce Insights (spec §2.9 #4).
	WarmUp time.Duration `yaml:"warm_up"`
	// StartP is the tail probability below which evidence starts an
	// Insight; EndP the one above which a minute counts as normal again.
	StartP float64 `yaml:"start_p"`
	EndP   float64 `yaml:"end_p"`
	// MinCount is the fewest calls (or errors) in the evaluated window that
	// may start an Insight: a rate of 1/1 is not an anomaly.
	MinCount int `yaml:"min_count"`
	// CoolDown is how many consecutive normal minutes end an Insight.
	CoolDown int `yaml:"cool_down"`
	// TimeZones maps account IDs to IANA time zones; the daily and weekly
	// rhythm is learned in local time. Unlisted accounts use UTC.
	TimeZones map[string]string `yaml:"time_zones"`
	// ServiceEvents counts AwsServiceEvent records too (spec §2.9 #13).
	ServiceEvents bool `yaml:"service_events"`
	// QuietPrincipals are patterns (path.Match: '*' stops at '/') of
	// userIdentity ARNs whose calls are no evidence of a spike: a window is
	// judged without their share of its calls (quiet.go), so their bursts
	// start nothing and hide no one else's. Their calls still count and are
	// learned, and drops are judged as ever. For the automation users know
	// (a CI role, a backup job): detection-notes, "alert fatigue from
	// automation".
	QuietPrincipals []string `yaml:"quiet_principals"`

	Seasonal models.SeasonalConfig `yaml:"-"`
	Rate     models.RateConfig     `yaml:"-"`
}

// RegisterFlags registers the settings on f with their defaults.
func (c *Config) RegisterFlags(f *flag.FlagSet) {
	f.DurationVar(&c.AllowedLateness, "detector.allowed-lateness", 15*time.Minute, "How long a minute stays open for late records.")
	f.DurationVar(&c.DedupWindow, "detector.dedup-window", time.Hour, "How long an eventID is remembered for deduplication.")
	f.DurationVar(&c.WarmUp, "detector.warm-up", 7*24*time.Hour, "History an account and Region need before they produce Insights.")
	f.Float64Var(&c.StartP, "detector.start-p", 1e-7, "Tail probability below which evidence starts an Insight.")
	f.Float64Var(&c.EndP, "detector.end-p", 1e-2, "Tail probability above which a minute counts as normal again.")
	f.IntVar(&c.MinCount, "detector.min-count", 3, "Fewest calls or errors in a window that may start an Insight.")
	f.IntVar(&c.CoolDown, "detector.cool-down", 5, "Consecutive normal minutes that end an Insight.")
	f.BoolVar(&c.ServiceEvents, "detector.service-events", false, "Count AwsServiceEvent records too.")
	c.QuietPrincipals = nil
	f.Func("detector.quiet-principals", "Comma-separated userIdentity ARN patterns (path.Match: '*' stops at '/') whose calls are no evidence of a spike.", func(v string) error {
		c.QuietPrincipals = nil
		for _, pat := range strings.Split(v, ",") {
			if pat = strings.TrimSpace(pat); pat != "" {
				c.QuietPrincipals = append(c.QuietPrincipals, pat)
			}
		}
		return nil
	})
	c.Seasonal = models.DefaultSeasonalConfig()
	c.Rate = models.DefaultRateConfig()
}

// DefaultConfig returns the defaults of RegisterFlags.
func DefaultConfig() Config {
	var c Config
	c.RegisterFlags(flag.NewFlagSet("", flag.ContinueOnError))
	return c
}

// Validate reports the first setting that is out of range, naming it.
func (c *Config) Validate() error {
	switch {
	case c.AllowedLateness < 0 || c.AllowedLateness > time.Hour || c.AllowedLateness%time.Minute != 0:
		return fmt.Errorf("detector.allowed-lateness=%s: must be whole minutes between 0 and 1h", c.AllowedLateness)
	case c.DedupWindow < 0:
		return fmt.Errorf("detector.dedup-window=%s: must not be negative", c.DedupWindow)
	case c.WarmUp < 0:
		return fmt.Errorf("detector.warm-up=%s: must not be negative", c.WarmUp)
	case !(c.StartP > 0 && c.StartP < 0.01):
		return fmt.Errorf("detector.start-p=%g: must be in (0, 0.01)", c.StartP)
	case !(c.EndP > c.StartP && c.EndP < 1):
		return fmt.Errorf("detector.end-p=%g: must be in (start-p, 1)", c.EndP)
	case c.MinCount < 1:
		return fmt.Errorf("detector.min-count=%d: must be at least 1", c.MinCount)
	case c.CoolDown < 1 || c.CoolDown > 60:
		return fmt.Errorf("detector.cool-down=%d: must be between 1 and 60", c.CoolDown)
	}
	for i, pat := range c.QuietPrincipals {
		if pat == "" {
			return fmt.Errorf("detector.quiet_principals[%d] is empty: give an ARN or a pattern such as arn:aws:sts::111122223333:assumed-role/ci-deploy/*", i)
		}
		if _, err := path.Match(pat, ""); err != nil {
			return fmt.Errorf("detector.quiet_principals[%d]=%q: %v (patterns are path.Match's: *, ?, [...], and \\ escapes)", i, pat, err)
		}
	}
	for acct, tz := range c.TimeZones {
		if _, err := time.LoadLocation(tz); err != nil {
			return fmt.Errorf("detector.time_zones[%s]=%q: %v", acct, tz, err)
		}
	}
	if c.Seasonal.ProfileWeeks == 0 {
		c.Seasonal = models.DefaultSeasonalConfig()
	}
	if c.Rate.Minutes == 0 {
		c.Rate = models.DefaultRateConfig()
	}
	return nil
}
