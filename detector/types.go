package detector

import (
	"strconv"
	"time"

	"github.com/trailsight/trailsight/cloudtrail"
)

// InsightType is the kind of activity an Insight is about.
type InsightType uint8

// Insight types. The zero value is invalid.
const (
	_ InsightType = iota
	APICallRate
	APIErrorRate
)

// String returns the wire name (spec §2.2).
func (t InsightType) String() string {
	switch t {
	case APICallRate:
		return cloudtrail.APICallRateInsight
	case APIErrorRate:
		return cloudtrail.APIErrorRateInsight
	}
	return "InsightType(" + strconv.Itoa(int(t)) + ")"
}

// State is the state an Insight record reports.
type State uint8

// States. The zero value is invalid.
const (
	_ State = iota
	StateStart
	StateEnd
)

// String returns the wire name.
func (s State) String() string {
	switch s {
	case StateStart:
		return cloudtrail.StateStart
	case StateEnd:
		return cloudtrail.StateEnd
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// Direction says whether the activity rose or fell.
type Direction uint8

// Directions. The zero value is invalid.
const (
	_ Direction = iota
	Spike
	Drop
)

// String returns "spike" or "drop".
func (d Direction) String() string {
	switch d {
	case Spike:
		return "spike"
	case Drop:
		return "drop"
	}
	return "Direction(" + strconv.Itoa(int(d)) + ")"
}

// Key names one analysed series: an API in an account and Region, and for
// error-rate series one error code.
type Key struct {
	Account     string
	Region      string
	EventSource string
	EventName   string
	Type        InsightType
	ErrorCode   string // APIErrorRate only
}

// String returns account/region/source/name[/errorCode] type.
func (k Key) String() string {
	s := k.Account + "/" + k.Region + "/" + k.EventSource + "/" + k.EventName
	if k.ErrorCode != "" {
		s += "/" + k.ErrorCode
	}
	return s + " " + k.Type.String()
}

// Insight is one transition of an Insight: its Start or its End. The End
// carries the final statistics and is authoritative (spec §2.9 #3).
type Insight struct {
	Key   Key
	State State

	Start    time.Time // first unusual minute
	Duration int       // minutes, >= 1

	BaselineAverage  float64 // per minute over the §2.6 window
	BaselineDuration int     // minutes
	InsightAverage   float64 // per minute over [Start, Start+Duration)

	// Attributions in wire order (spec §2.4, §2.9 #1).
	Attributions []cloudtrail.Attribution

	// Emitted is the engine's clock when the transition was produced: the
	// simulated delivery time in a replay.
	Emitted time.Time

	// Why it fired, for people (explain, plots); not part of the record.
	Direction Direction
	Scale     int     // minutes of the window whose evidence started it
	PValue    float64 // tail probability of that evidence
	Expected  float64 // expected count per minute over the Insight
	// Period is, on the Start of a drop opened by missed runs of a
	// scheduled job, the minutes between its runs (it last ran Period
	// minutes before Start); 0 otherwise.
	Period int
	// SiblingOf is, on the Start of a drop confirmed by another API's
	// open drop in the same service, account and Region, that API's
	// eventName; empty otherwise.
	SiblingOf string
	// Novel is true on the Start of a spike found by the calls of
	// principals new to the account (novelty.go).
	Novel bool
	// CompanionOf is, on the Start of a spike confirmed by another API's
	// open Insight in the same account and Region (companion.go), that
	// API's eventName; empty otherwise. Where Novel, both hold calls by
	// new principals; else one principal leads both.
	CompanionOf string
	// Leader is, on the Start of a call-rate spike whose unusual calls
	// one principal (a role's sessions together) made at least half of,
	// that principal; LeaderCalls its write calls in the 10 minutes to
	// the Start's newest minute (all APIs) and LeaderPeak its recent peak
	// (principal.go: a burst up to RoutineFactor times it is routine; 0
	// for a principal with none on record). LeaderAgent is the AWS
	// service the leader acts for (its userIdentity.invokedBy), empty for
	// a principal that calls on its own: such a leader's work was not
	// taken for a request's (principal.go, onRequest).
	Leader                  string
	LeaderCalls, LeaderPeak float64
	LeaderAgent             string
}

// Record returns the Insights record of this transition, with name-based
// IDs so a replay reproduces identical records (spec §2.9 #15).
func (in *Insight) Record() cloudtrail.InsightRecord {
	shared, startID, endID := cloudtrail.InsightIDs(in.Key.Account, in.Key.Region, in.Key.EventSource,
		in.Key.EventName, in.Key.Type.String(), in.Key.ErrorCode, in.Start)
	r := cloudtrail.InsightRecord{
		EventVersion:       cloudtrail.InsightEventVersion,
		EventTime:          in.Start,
		AWSRegion:          in.Key.Region,
		EventID:            startID,
		RecipientAccountID: in.Key.Account,
		SharedEventID:      shared,
		State:              in.State.String(),
		EventSource:        in.Key.EventSource,
		EventName:          in.Key.EventName,
		InsightType:        in.Key.Type.String(),
		ErrorCode:          in.Key.ErrorCode,
		BaselineAverage:    in.BaselineAverage,
		InsightAverage:     in.InsightAverage,
		InsightDuration:    in.Duration,
		BaselineDuration:   in.BaselineDuration,
		Attributions:       in.Attributions,
	}
	if in.State == StateEnd {
		r.EventID = endID
		r.EventTime = in.Start.Add(time.Duration(in.Duration) * time.Minute)
	}
	return r
}
