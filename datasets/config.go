package datasets

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// GeneratorVersion identifies the generator's model. It changes whenever the
// same Config and seed would produce different bytes.
const GeneratorVersion = "1.0.0"

// Label kinds. The first six are planted anomalies that should produce an
// Insight; the rest are traps that must produce none.
const (
	KindProvisioningSpike = "provisioning_spike"
	KindIAMBurst          = "iam_burst_new_principal"
	KindPeriodicGap       = "periodic_gap"
	KindSteadyDrop        = "steady_drop"
	KindErrorSurgeWrite   = "error_surge_write"
	KindErrorSurgeRead    = "error_surge_read"

	KindLevelShift    = "level_shift"
	KindTrapReadOnly  = "trap_readonly_spike"
	KindTrapData      = "trap_data_event_spike"
	KindTrapDuplicate = "trap_duplicate_delivery"
	KindTrapLate      = "trap_late_delivery"
)

// regionKinds are planted per account+Region; accountKinds once per account
// (IAM bursts in us-east-1, where IAM is recorded; delivery traps in one of
// the account's Regions). The order is the planting order.
var (
	regionKinds = []string{
		KindPeriodicGap, KindSteadyDrop, KindErrorSurgeWrite, KindErrorSurgeRead,
		KindProvisioningSpike, KindTrapReadOnly, KindTrapData,
	}
	accountKinds = []string{KindIAMBurst, KindTrapDuplicate, KindTrapLate}
)

// Kinds lists every label kind in a stable order.
func Kinds() []string {
	return []string{
		KindProvisioningSpike, KindIAMBurst, KindPeriodicGap, KindSteadyDrop, KindErrorSurgeWrite,
		KindErrorSurgeRead, KindLevelShift, KindTrapReadOnly, KindTrapData, KindTrapDuplicate, KindTrapLate,
	}
}

// Config describes one dataset. Presets fill it; callers may adjust any
// field (usually Seed) before calling Generate.
type Config struct {
	// Preset names the preset the config came from ("" for custom); it is
	// the dataset name in the manifest.
	Preset string
	// Seed drives every random choice. Same Config and Seed, same bytes.
	Seed int64
	// Start is the first minute of the dataset: UTC midnight of a Monday.
	Start time.Time
	// Days is the dataset length; the first WarmupDays are anomaly-free.
	Days       int
	WarmupDays int
	Accounts   []AccountSpec
	// PerRegion is the number of incidents of each kind planted in every
	// account+Region: provisioning_spike, periodic_gap, steady_drop,
	// error_surge_write, error_surge_read, level_shift,
	// trap_readonly_spike, trap_data_event_spike.
	PerRegion map[string]int
	// PerAccount is the number of incidents of each kind planted once per
	// account: iam_burst_new_principal (in us-east-1, where IAM calls are
	// recorded; skipped for accounts without us-east-1),
	// trap_duplicate_delivery and trap_late_delivery (in a Region picked by
	// the seed).
	PerAccount map[string]int
	// Workers bounds the goroutines rendering and writing files; 0 means
	// GOMAXPROCS. It never changes the output.
	Workers int
}

// AccountSpec is one AWS account of the dataset.
type AccountSpec struct {
	ID       string // 12 digits
	Name     string // alias, used in resource names
	TimeZone string // IANA zone of the people and schedules behind the account
	Regions  []RegionSpec
	// Humans is the number of people working in the account (console, CLI,
	// IAM administration). 0 means 4.
	Humans int
}

// RegionSpec is one Region of an account.
type RegionSpec struct {
	Name string
	// Scale multiplies the volume of automation and human activity in this
	// Region (1 = the reference workload, about 25k records a day). 0 means 1.
	Scale float64
}

// ErrUnknownPreset is returned by Preset for a name it does not know.
var ErrUnknownPreset = errors.New("datasets: unknown preset")

// Presets lists the preset names.
func Presets() []string { return []string{"standard", "demo", "tiny"} }

// Preset returns a named configuration:
//
//   - "standard": 4 accounts in 4 time zones x 2 Regions x 10 days, 7 warm-up
//     days, one incident of each kind per account+Region in days 8-10
//     (about 1.3M records);
//   - "demo": 1 account x 1 Region x 8 days, 6 anomalies and 4 traps on the
//     last day (about 175k records, a few seconds);
//   - "tiny": 1 account x 1 Region x 3 days at a fifth of the volume, every
//     kind planted on day 3; for tests.
func Preset(name string) (Config, error) {
	monday := time.Date(2026, time.January, 5, 0, 0, 0, 0, time.UTC)
	one := func(kinds ...string) map[string]int {
		m := map[string]int{}
		for _, k := range kinds {
			m[k] = 1
		}
		return m
	}
	switch name {
	case "standard":
		return Config{
			Preset: name, Seed: 1, Start: monday, Days: 10, WarmupDays: 7,
			Accounts: []AccountSpec{
				{ID: "111122223333", Name: "acme-prod", TimeZone: "America/New_York", Humans: 6,
					Regions: []RegionSpec{{"us-east-1", 1}, {"us-east-2", 0.45}}},
				{ID: "444455556666", Name: "acme-eu", TimeZone: "Europe/Berlin", Humans: 5,
					Regions: []RegionSpec{{"eu-central-1", 0.9}, {"us-east-1", 0.35}}},
				{ID: "777788889999", Name: "acme-jp", TimeZone: "Asia/Tokyo", Humans: 4,
					Regions: []RegionSpec{{"ap-northeast-1", 0.75}, {"us-east-1", 0.3}}},
				{ID: "210987654321", Name: "acme-dev", TimeZone: "America/Los_Angeles", Humans: 7,
					Regions: []RegionSpec{{"us-west-2", 0.6}, {"us-east-1", 0.3}}},
			},
			PerRegion: one(KindProvisioningSpike, KindPeriodicGap, KindSteadyDrop, KindErrorSurgeWrite,
				KindErrorSurgeRead, KindLevelShift, KindTrapReadOnly, KindTrapData),
			PerAccount: map[string]int{KindIAMBurst: 2, KindTrapDuplicate: 1, KindTrapLate: 1},
		}, nil
	case "demo":
		return Config{
			Preset: name, Seed: 1, Start: monday, Days: 8, WarmupDays: 7,
			Accounts: []AccountSpec{{ID: "111122223333", Name: "acme-demo", TimeZone: "America/New_York", Humans: 5,
				Regions: []RegionSpec{{"us-east-1", 0.85}}}},
			PerRegion: one(KindProvisioningSpike, KindPeriodicGap, KindSteadyDrop, KindErrorSurgeWrite,
				KindErrorSurgeRead, KindTrapReadOnly, KindTrapData),
			PerAccount: one(KindIAMBurst, KindTrapDuplicate, KindTrapLate),
		}, nil
	case "tiny":
		return Config{
			Preset: name, Seed: 1, Start: monday, Days: 3, WarmupDays: 2,
			Accounts: []AccountSpec{{ID: "111122223333", Name: "acme-tiny", TimeZone: "Europe/Berlin", Humans: 3,
				Regions: []RegionSpec{{"us-east-1", 0.2}}}},
			PerRegion: one(KindProvisioningSpike, KindPeriodicGap, KindSteadyDrop, KindErrorSurgeWrite,
				KindErrorSurgeRead, KindLevelShift, KindTrapReadOnly, KindTrapData),
			PerAccount: one(KindIAMBurst, KindTrapDuplicate, KindTrapLate),
		}, nil
	}
	return Config{}, fmt.Errorf("%w %q (known: %v)", ErrUnknownPreset, name, Presets())
}

// Validate reports the first problem with c.
func (c *Config) Validate() error {
	if !c.Start.Equal(c.Start.UTC().Truncate(24*time.Hour)) || c.Start.UTC().Weekday() != time.Monday {
		return fmt.Errorf("start=%s: must be a Monday, 00:00 UTC", c.Start.Format(time.RFC3339))
	}
	if c.Days < 1 || c.Days > 60 {
		return fmt.Errorf("days=%d: must be in [1, 60]", c.Days)
	}
	if c.WarmupDays < 0 || c.WarmupDays >= c.Days {
		return fmt.Errorf("warmup_days=%d: must be in [0, days=%d)", c.WarmupDays, c.Days)
	}
	if len(c.Accounts) == 0 {
		return errors.New("accounts: at least one account is required")
	}
	if c.Workers < 0 {
		return fmt.Errorf("workers=%d: must be >= 0", c.Workers)
	}
	seen := map[string]bool{}
	for i, a := range c.Accounts {
		if len(a.ID) != 12 || !isDigits(a.ID) {
			return fmt.Errorf("accounts[%d].id=%q: must be 12 digits", i, a.ID)
		}
		if seen[a.ID] {
			return fmt.Errorf("accounts[%d].id=%q: duplicate account", i, a.ID)
		}
		seen[a.ID] = true
		if _, err := time.LoadLocation(a.TimeZone); err != nil || a.TimeZone == "" {
			return fmt.Errorf("accounts[%d].time_zone=%q: must be an IANA time zone", i, a.TimeZone)
		}
		if len(a.Regions) == 0 {
			return fmt.Errorf("accounts[%d].regions: at least one Region is required", i)
		}
		var names []string
		for j, r := range a.Regions {
			if !isRegionName(r.Name) || slices.Contains(names, r.Name) {
				return fmt.Errorf("accounts[%d].regions[%d]=%q: must be a distinct Region name like us-east-1", i, j, r.Name)
			}
			if r.Scale < 0 || r.Scale > 20 {
				return fmt.Errorf("accounts[%d].regions[%d].scale=%g: must be in [0, 20]", i, j, r.Scale)
			}
			names = append(names, r.Name)
		}
		if a.Humans < 0 || a.Humans > 50 {
			return fmt.Errorf("accounts[%d].humans=%d: must be in [0, 50]", i, a.Humans)
		}
	}
	for k, n := range c.PerRegion {
		if !slices.Contains(regionKinds, k) && k != KindLevelShift {
			return fmt.Errorf("per_region[%q]: not a per-Region kind (allowed: %v, %s)", k, regionKinds, KindLevelShift)
		}
		if n < 0 || n > 20 {
			return fmt.Errorf("per_region[%q]=%d: must be in [0, 20]", k, n)
		}
	}
	for k, n := range c.PerAccount {
		if !slices.Contains(accountKinds, k) {
			return fmt.Errorf("per_account[%q]: not a per-account kind (allowed: %v)", k, accountKinds)
		}
		if n < 0 || n > 20 {
			return fmt.Errorf("per_account[%q]=%d: must be in [0, 20]", k, n)
		}
	}
	return nil
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// isRegionName accepts names shaped like AWS Regions: letters and digits
// separated by dashes, ending in a digit.
func isRegionName(s string) bool {
	if len(s) < 4 || s[len(s)-1] < '0' || s[len(s)-1] > '9' {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// end returns the first minute after the dataset.
func (c *Config) end() time.Time { return c.Start.AddDate(0, 0, c.Days) }

// warmupEnd returns the first minute after warm-up.
func (c *Config) warmupEnd() time.Time { return c.Start.AddDate(0, 0, c.WarmupDays) }
