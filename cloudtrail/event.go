package cloudtrail

// Bool is a JSON boolean that may also be absent: CloudTrail records older
// than a field's introduction simply omit it, and trailsight must tell
// "false" from "not said" (spec §1.2, §2.9 #14).
type Bool uint8

// Values of Bool. The zero value means the key was absent or null.
const (
	Unset Bool = iota
	False
	True
)

// Event is the part of one CloudTrail record that trailsight analyses. The
// decoder fills a caller-owned Event and never builds a map of the record
// (spec §1.1 lists the fields). Strings are never nil-vs-empty ambiguous: an
// absent key leaves the field "".
type Event struct {
	// EventTime is eventTime in Unix seconds (UTC). Always non-zero for an
	// Event the decoder accepted.
	EventTime int64

	EventID            string
	EventVersion       string
	EventSource        string
	EventName          string
	AWSRegion          string
	RecipientAccountID string
	EventType          string // AwsApiCall, AwsConsoleAction, ...
	EventCategory      string // Management, Data, ... ("" before 1.07)
	UserIdentityARN    string // userIdentity.arn
	// InvokedBy is userIdentity.invokedBy: the AWS service that made the
	// call on the account's behalf ("cloudformation.amazonaws.com" for a
	// stack's service role), "" for a call a principal made itself.
	InvokedBy string
	UserAgent string
	ErrorCode string // "" when the call succeeded

	ReadOnly        Bool
	ManagementEvent Bool

	// Size is the length in bytes of the record's JSON text.
	Size int

	// Raw is the record's JSON text, without an EventBridge envelope: what a
	// trail log file holds (spec §4.3). Unlike the strings above it aliases
	// the decoder's input or buffers, so it is valid only until the next
	// call to the Decoder (or, in DecodeBody, until fn returns); keep a copy
	// to hold it longer.
	Raw []byte
}

// IsManagement reports whether e is a management event: eventCategory
// "Management", or for records older than 1.07 managementEvent == true
// (spec §1.2).
func (e *Event) IsManagement() bool {
	if e.EventCategory != "" {
		return e.EventCategory == "Management"
	}
	return e.ManagementEvent == True
}

// IsWrite reports whether e is a write call: readOnly == false. A record
// without readOnly is not a write (spec §2.9 #14).
func (e *Event) IsWrite() bool { return e.ReadOnly == False }

// IsInsight reports whether e is itself an Insights record, which is never
// analysed (spec §1.2).
func (e *Event) IsInsight() bool { return e.EventType == "AwsCloudTrailInsight" }
