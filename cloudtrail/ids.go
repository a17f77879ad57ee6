package cloudtrail

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"strings"
	"time"
)

// InsightIDNamespace is the UUID v5 namespace of trailsight's Insights record
// IDs (spec §2.9 #15). It is itself the name-based UUID
// uuid5(NAMESPACE_URL, "https://github.com/trailsight/trailsight/insights"),
// so anyone can re-derive it. It must never change: every sharedEventID
// and eventID trailsight has ever written depends on it.
const InsightIDNamespace = "683392a0-e6c9-50ea-b5c6-5f295d2c1d96"

// insightIDNamespace is InsightIDNamespace as bytes; a test keeps the two
// equal.
var insightIDNamespace = [16]byte{
	0x68, 0x33, 0x92, 0xa0, 0xe6, 0xc9, 0x50, 0xea,
	0xb5, 0xc6, 0x5f, 0x29, 0x5d, 0x2c, 0x1d, 0x96,
}

// insightIDSep separates the parts of an ID name. CloudTrail account IDs,
// Region names, service endpoints, API names, insight types and error codes
// never contain NUL, so no two different inputs give the same name.
const insightIDSep = "\x00"

// InsightIDs returns the sharedEventID of the Insight with the given key and
// start minute, and the eventIDs of its Start and End records (spec §2.9
// #15). They are UUID v5 in InsightIDNamespace, so replaying the same events
// reproduces identical records and a redelivered record overwrites itself.
//
// The name hashed for sharedEventID is account, region, eventSource,
// eventName, insightType, errorCode ("" for call rate) and the start minute
// in RFC 3339 UTC, joined by NUL; the eventIDs append NUL and the state
// ("Start" or "End"). start is truncated to the minute, so any instant in
// the start minute gives the same IDs.
func InsightIDs(account, region, eventSource, eventName, insightType, errorCode string, start time.Time) (sharedEventID, startEventID, endEventID string) {
	name := strings.Join([]string{
		account, region, eventSource, eventName, insightType, errorCode,
		start.UTC().Truncate(time.Minute).Format(time.RFC3339),
	}, insightIDSep)
	return uuidV5(insightIDNamespace, name),
		uuidV5(insightIDNamespace, name+insightIDSep+StateStart),
		uuidV5(insightIDNamespace, name+insightIDSep+StateEnd)
}

// uuidV5 returns the name-based UUID (version 5, SHA-1) of name in namespace
// ns, per RFC 9562 §5.5, in canonical lowercase form. SHA-1 is what the
// RFC prescribes; it names records here and protects nothing.
func uuidV5(ns [16]byte, name string) string {
	sum := sha1.Sum(append(ns[:], name...))
	var u [16]byte
	copy(u[:], sum[:16])
	u[6] = u[6]&0x0f | 0x50 // version 5
	u[8] = u[8]&0x3f | 0x80 // RFC 9562 variant (10xx)
	return formatUUID(u)
}

// NewUUIDv4 returns a random UUID (version 4) in canonical lowercase form.
// EventBridge envelopes use one per delivery (spec §2.9 #5), unlike record
// IDs, which are deterministic.
func NewUUIDv4() string {
	var u [16]byte
	// Since Go 1.24 crypto/rand.Read never returns an error: it crashes the
	// program if the system's random source fails.
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 9562 variant (10xx)
	return formatUUID(u)
}

// formatUUID writes u as xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx.
func formatUUID(u [16]byte) string {
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:36], u[10:16])
	return string(b[:])
}
