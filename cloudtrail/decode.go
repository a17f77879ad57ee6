package cloudtrail

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"math/bits"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxRecordSize is the largest record the decoder accepts, in bytes of JSON
// text. CloudTrail caps an event at 256 KB since eventVersion 1.05 and does
// not send larger ones to EventBridge (spec §1.5, §7), so anything bigger is
// not a CloudTrail record.
const MaxRecordSize = 256 << 10

// MaxBodySize caps the inflated size of a gzipped body. A delivered log file
// is at most 50 MB compressed (spec §1.5); the cap keeps a gzip bomb from
// exhausting memory while leaving room for very compressible files.
const MaxBodySize = 1 << 30

// maxNesting bounds the depth of nested objects and arrays the scanner
// follows. CloudTrail records nest about a dozen levels; the bound keeps
// hostile input from costing more than a fixed amount of stack.
const maxNesting = 1000

// ErrInsightRecord is returned by DecodeRecord for an Insights record
// (eventType AwsCloudTrailInsight): it is valid, but it is trailsight's own
// kind of output and is never analysed (spec §1.2). The Event is filled with
// what the record has. DecodeBody counts such records in BodyStats.Insights.
var ErrInsightRecord = errors.New("cloudtrail: Insights record, not analysed")

// Reason says why a record was set aside. The zero value is invalid.
type Reason uint8

// Reasons for setting a record aside.
const (
	_ Reason = iota
	// ReasonTruncated means the text ends, or the next record starts,
	// before the record's object closes.
	ReasonTruncated
	// ReasonNotObject means a JSON value other than an object stands
	// where a record belongs.
	ReasonNotObject
	// ReasonBadJSON means a JSON syntax error other than running out of
	// text.
	ReasonBadJSON
	// ReasonMissingEventTime means eventTime is absent, null or not a
	// string.
	ReasonMissingEventTime
	// ReasonBadTime means eventTime is not an RFC 3339 time after the
	// epoch.
	ReasonBadTime
	// ReasonOversize means the record is longer than MaxRecordSize, or a
	// gzipped body inflates beyond MaxBodySize.
	ReasonOversize
	// ReasonMissingField means eventSource, eventName, awsRegion or the
	// account (recipientAccountId, else userIdentity.accountId) is absent
	// or empty: together they make up the analysis key.
	ReasonMissingField
	// ReasonBadGzip means a body with the gzip magic number does not
	// inflate.
	ReasonBadGzip
)

var reasonNames = [...]string{
	ReasonTruncated:        "truncated",
	ReasonNotObject:        "not_object",
	ReasonBadJSON:          "bad_json",
	ReasonMissingEventTime: "missing_event_time",
	ReasonBadTime:          "bad_time",
	ReasonOversize:         "oversize",
	ReasonMissingField:     "missing_field",
	ReasonBadGzip:          "bad_gzip",
}

// String returns a short snake_case name for r, fit for a metrics label.
func (r Reason) String() string {
	if r > 0 && int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "reason_" + strconv.Itoa(int(r))
}

// DecodeError describes a record, or a whole body, that was set aside.
type DecodeError struct {
	// Offset is the byte offset of the record in the body passed to
	// DecodeBody, counted after gzip inflation. DecodeRecord reports 0.
	Offset int64
	Reason Reason
	// Err gives the detail, with positions relative to the record.
	Err error
}

// Error describes e.
func (e *DecodeError) Error() string {
	s := "decode record at offset " + strconv.FormatInt(e.Offset, 10) + ": " + e.Reason.String()
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns e.Err.
func (e *DecodeError) Unwrap() error { return e.Err }

// Details of DecodeErrors. They are fixed values so that setting a record
// aside allocates only the DecodeError itself.
var (
	errEmpty          = errors.New("no JSON value")
	errTrailing       = errors.New("data after the record")
	errTooBig         = errors.New("record longer than " + strconv.Itoa(MaxRecordSize) + " bytes")
	errBodyTooBig     = errors.New("inflated body longer than " + strconv.Itoa(MaxBodySize) + " bytes")
	errNoEventTime    = errors.New("no eventTime")
	errNoEventSource  = errors.New("no eventSource")
	errNoEventName    = errors.New("no eventName")
	errNoRegion       = errors.New("no awsRegion")
	errNoAccount      = errors.New("no recipientAccountId or userIdentity.accountId")
	errBadTime        = errors.New("eventTime is not an RFC 3339 time after 1970-01-01T00:00:00Z")
	errNotObject      = errors.New("value is not an object")
	errBodyEnds       = errors.New("body ends inside the records array")
	errEmptyElement   = errors.New("empty array element")
	errNotJSON        = errors.New("body is not JSON")
	errBodyNotRecords = errors.New("body is a JSON value that holds no records")
	errRescans        = errors.New("too many records cut short inside others; rest of body abandoned")
)

// syntaxError is the detail of a ReasonTruncated or ReasonBadJSON
// DecodeError: what the scanner met, and where in the record.
type syntaxError struct {
	pos  int // relative to the start of the record
	code scanErr
}

func (e *syntaxError) Error() string {
	return e.code.String() + " at byte " + strconv.Itoa(e.pos)
}

// scanErr is what the scanner returns instead of an error value, so that the
// hot path never allocates; a syntaxError is built only for bad records.
type scanErr uint8

const (
	scanOK scanErr = iota
	scanEOF
	scanSyntax
	scanControl
	scanEscape
	scanBadNumber
	scanBadLiteral
	scanDepth
)

func (e scanErr) String() string {
	switch e {
	case scanOK:
		return "no error"
	case scanEOF:
		return "unexpected end of input"
	case scanSyntax:
		return "invalid character"
	case scanControl:
		return "control character in string"
	case scanEscape:
		return "invalid escape in string"
	case scanBadNumber:
		return "invalid number"
	case scanBadLiteral:
		return "invalid literal"
	case scanDepth:
		return "nesting deeper than " + strconv.Itoa(maxNesting)
	}
	return "scan error " + strconv.Itoa(int(e))
}

// Indexes of the record's string fields in fields.s. Keeping them in an
// array lets the decoder record spans during the scan and build strings
// afterwards, once it knows the record is worth it.
const (
	fEventTime = iota
	fEventID
	fEventVersion
	fEventSource
	fEventName
	fAWSRegion
	fRecipientAccountID
	fEventType
	fEventCategory
	fUserIdentityARN
	fUserIdentityAccountID
	fUserIdentityInvokedBy
	fUserAgent
	fErrorCode
	nFields
)

// interned tells which fields are interned: those with few distinct values.
// eventID and userIdentity.arn are (nearly) unique per record and go to the
// per-record arena instead.
var interned = [nFields]bool{
	fEventVersion:          true,
	fEventSource:           true,
	fEventName:             true,
	fAWSRegion:             true,
	fRecipientAccountID:    true,
	fEventType:             true,
	fEventCategory:         true,
	fUserIdentityAccountID: true,
	fUserIdentityInvokedBy: true,
	fUserAgent:             true,
	fErrorCode:             true,
}

// Bounds of a Decoder's intern table. Past them new values go to the
// per-record arena: still one allocation per record, and memory stays bounded
// whatever the input.
const (
	maxInternLen     = 512
	maxInternEntries = 8192
	maxInternBytes   = 1 << 20
)

// span locates a JSON string value in the input: b[off:end] is the text
// between the quotes.
type span struct {
	off, end int
	esc      bool // the text has backslash escapes
	set      bool
}

// Markers of keys the decoder notes but does not extract: they tell record
// kinds and body kinds apart.
const (
	flRecords      = 1 << iota // "Records": [...] (a log file)
	flDetail                   // "detail": {...} (an EventBridge envelope)
	flDetailType               // "detail-type"
	flAWSAccountID             // "awsAccountId" (a digest)
	flDigestTimes              // "digestStartTime" or "digestEndTime"
	flLogFiles                 // "logFiles" (a digest)
)

// empty reports whether sp is absent or an empty string. (An escape always
// stands for at least one byte.)
func (sp span) empty() bool { return !sp.set || sp.off == sp.end }

// fields is what one scan of a record object finds.
type fields struct {
	s        [nFields]span
	readOnly Bool
	mgmt     Bool
	flags    uint16
	// detOff and detEnd locate an envelope's detail object in the input.
	detOff, detEnd int
}

func (f *fields) isEnvelope() bool {
	if f.flags&flDetail == 0 {
		return false
	}
	// A bare record has no "detail"; without "detail-type" the top level
	// must at least not look like a record itself.
	return f.flags&flDetailType != 0 || (!f.s[fEventTime].set && !f.s[fEventSource].set)
}

func (f *fields) isDigest() bool {
	return f.flags&flAWSAccountID != 0 && f.flags&(flDigestTimes|flLogFiles) != 0 &&
		f.flags&(flRecords|flDetail) == 0 && !f.s[fEventTime].set
}

// Decoder decodes CloudTrail records. It reuses its buffers and interns
// low-cardinality strings (eventSource, eventName, awsRegion, account IDs,
// eventType, eventCategory, eventVersion, errorCode, userAgent) in a bounded
// table, so a steady stream of records costs at most one allocation each. A
// Decoder is not safe for concurrent use: use one per goroutine.
type Decoder struct {
	top, det fields // the record, and the detail of an envelope
	ev       Event  // reused by DecodeBody

	tab      map[string]string
	tabBytes int
	last     [nFields]string // the last interned value of each field

	arena []byte // per-record strings, copied into one string
	ubuf  []byte // an unescaped value
	kbuf  []byte // an unescaped key

	zr      *gzip.Reader
	zin     bytes.Reader
	zbuf    bytes.Buffer
	maxBody int64 // MaxBodySize when 0; tests lower it

	// Memo of nextRecordStart, so that resynchronising after many broken
	// elements stays linear in the body size.
	candFrom, candAt int
	// budget is how many more bytes DecodeBody may scan. Resuming inside
	// a record that failed scans some bytes again; on hostile input
	// (every record cut short inside the next) that could grow
	// quadratically, so the body is abandoned when the budget runs out.
	budget int
}

// NewDecoder returns a Decoder with an empty intern table. The zero Decoder
// works too.
func NewDecoder() *Decoder {
	return &Decoder{tab: make(map[string]string, 256)}
}

// DecodeRecord decodes one record: a bare CloudTrail record or an
// EventBridge envelope whose "detail" holds the record (told apart by the
// top-level keys "detail-type" and "detail", spec §7). Leading and trailing
// whitespace is allowed; anything else after the object is an error.
//
// On success ev holds the record's fields; its strings are owned by ev (they
// never alias b) and stay valid for good. ev.Size is the length of the
// object, envelope included. For an Insights record DecodeRecord fills ev
// and returns ErrInsightRecord. Otherwise a failed record gives a
// *DecodeError with Offset 0, and ev is left in an unspecified state.
func (d *Decoder) DecodeRecord(b []byte, ev *Event) error {
	*ev = Event{}
	s := scanWS(b, 0)
	e := len(b)
	for e > s && isJSONSpace(b[e-1]) {
		e--
	}
	if s == e {
		return &DecodeError{Reason: ReasonTruncated, Err: errEmpty}
	}
	if e-s > MaxRecordSize {
		return &DecodeError{Reason: ReasonOversize, Err: errTooBig}
	}
	b = b[:e]
	if b[s] != '{' {
		return notObjectError(b, s)
	}
	f := &d.top
	*f = fields{}
	end, se := d.scanRecord(b, s, f, true)
	if se != scanOK {
		r := ReasonBadJSON
		if se == scanEOF {
			r = ReasonTruncated
		}
		return &DecodeError{Reason: r, Err: &syntaxError{pos: end - s, code: se}}
	}
	if end != e {
		return &DecodeError{Reason: ReasonBadJSON, Err: errTrailing}
	}
	r, err := d.fill(b, s, end, f, ev)
	if r != 0 {
		return &DecodeError{Reason: r, Err: err}
	}
	return err
}

// notObjectError classifies a value that starts at b[s] and is not an
// object: a well-formed other JSON value is ReasonNotObject, anything else a
// syntax error.
func notObjectError(b []byte, s int) *DecodeError {
	end, se := scanValue(b, s)
	switch {
	case se == scanOK:
		return &DecodeError{Reason: ReasonNotObject, Err: errNotObject}
	case se == scanEOF:
		return &DecodeError{Reason: ReasonTruncated, Err: &syntaxError{pos: end - s, code: se}}
	default:
		return &DecodeError{Reason: ReasonBadJSON, Err: &syntaxError{pos: end - s, code: se}}
	}
}

// fill checks the fields found in b[s:end] and copies them into ev. It
// returns a zero Reason and nil for a record to analyse, a zero Reason and
// ErrInsightRecord for an Insights record, and otherwise why the record is
// set aside.
func (d *Decoder) fill(b []byte, s, end int, f *fields, ev *Event) (Reason, error) {
	*ev = Event{Size: end - s, Raw: b[s:end]}
	if f.isEnvelope() {
		ev.Raw = b[f.detOff:f.detEnd]
		f = &d.det
	}
	insight := d.equal(b, f.s[fEventType], InsightEventType)
	if !insight {
		// Checks come before any string is built, so that bad records
		// cost no allocation beyond their DecodeError.
		t := f.s[fEventTime]
		if !t.set {
			return ReasonMissingEventTime, errNoEventTime
		}
		sec, ok := parseEventTime(d.raw(b, t))
		if !ok {
			return ReasonBadTime, errBadTime
		}
		ev.EventTime = sec
		switch {
		case f.s[fEventSource].empty():
			return ReasonMissingField, errNoEventSource
		case f.s[fEventName].empty():
			return ReasonMissingField, errNoEventName
		case f.s[fAWSRegion].empty():
			return ReasonMissingField, errNoRegion
		case f.s[fRecipientAccountID].empty() && f.s[fUserIdentityAccountID].empty():
			return ReasonMissingField, errNoAccount
		}
	} else if t := f.s[fEventTime]; t.set {
		ev.EventTime, _ = parseEventTime(d.raw(b, t))
	}
	ev.ReadOnly, ev.ManagementEvent = f.readOnly, f.mgmt

	// recipientAccountId is missing from some old records: the caller's
	// account is the best stand-in (spec §1.1).
	acct := fRecipientAccountID
	if f.s[acct].empty() {
		acct = fUserIdentityAccountID
	}
	dst := [nFields]*string{
		fEventID:               &ev.EventID,
		fEventVersion:          &ev.EventVersion,
		fEventSource:           &ev.EventSource,
		fEventName:             &ev.EventName,
		fAWSRegion:             &ev.AWSRegion,
		fEventType:             &ev.EventType,
		fEventCategory:         &ev.EventCategory,
		fUserIdentityARN:       &ev.UserIdentityARN,
		fUserIdentityInvokedBy: &ev.InvokedBy,
		fUserAgent:             &ev.UserAgent,
		fErrorCode:             &ev.ErrorCode,
	}
	dst[acct] = &ev.RecipientAccountID
	// Strings that are not interned are copied into one arena and cut
	// from a single string: one allocation for the whole record.
	var pos [nFields][2]int
	var inArena uint32
	d.arena = d.arena[:0]
	for i := range dst {
		sp := f.s[i]
		if dst[i] == nil || !sp.set {
			continue
		}
		v := d.raw(b, sp)
		if interned[i] {
			// Neighbouring records mostly repeat a field's value
			// (version, type, Region, account): one comparison
			// saves a map lookup.
			if last := d.last[i]; last == string(v) {
				*dst[i] = last
				continue
			}
			if str, ok := d.intern(v); ok {
				*dst[i] = str
				d.last[i] = str
				continue
			}
		}
		pos[i] = [2]int{len(d.arena), len(d.arena) + len(v)}
		d.arena = append(d.arena, v...)
		inArena |= 1 << i
	}
	if inArena != 0 {
		all := string(d.arena)
		for m := inArena; m != 0; m &= m - 1 {
			i := bits.TrailingZeros32(m)
			*dst[i] = all[pos[i][0]:pos[i][1]]
		}
	}
	if insight {
		return 0, ErrInsightRecord
	}
	return 0, nil
}

// raw returns the text of sp, unescaped when needed. The result may alias b
// or the Decoder's buffer and is valid until the next call.
func (d *Decoder) raw(b []byte, sp span) []byte {
	v := b[sp.off:sp.end]
	if sp.esc {
		d.ubuf = appendUnescaped(d.ubuf[:0], v)
		v = d.ubuf
	}
	return v
}

// equal reports whether sp holds the string want.
func (d *Decoder) equal(b []byte, sp span, want string) bool {
	return sp.set && string(d.raw(b, sp)) == want
}

// intern returns the interned copy of v, adding it when the table has room.
// ok is false when v is neither in the table nor allowed in.
func (d *Decoder) intern(v []byte) (s string, ok bool) {
	if len(v) == 0 {
		return "", true
	}
	// The compiler does not allocate for string(v) in a map index.
	if s, ok := d.tab[string(v)]; ok {
		return s, true
	}
	if len(v) > maxInternLen || len(d.tab) >= maxInternEntries || d.tabBytes+len(v) > maxInternBytes {
		return "", false
	}
	if d.tab == nil { // a zero Decoder
		d.tab = make(map[string]string, 256)
	}
	s = string(v)
	d.tab[s] = s
	d.tabBytes += len(s)
	return s, true
}

// scanRecord scans the object at b[i] (which is '{'), noting the spans of
// the fields trailsight uses and skipping everything else. top is true for
// the outermost object, where an EventBridge "detail" and body markers are
// recognised. It returns the index after the object, or on error the
// position of the error.
func (d *Decoder) scanRecord(b []byte, i int, f *fields, top bool) (int, scanErr) {
	n := len(b)
	i = scanWS(b, i+1)
	if i >= n {
		return i, scanEOF
	}
	if b[i] == '}' {
		return i + 1, scanOK
	}
	for {
		if b[i] != '"' {
			return i, scanSyntax
		}
		ke, esc, e := scanStr(b, i+1)
		if e != scanOK {
			return ke, e
		}
		key := b[i+1 : ke-1]
		if esc {
			d.kbuf = appendUnescaped(d.kbuf[:0], key)
			key = d.kbuf
		}
		i = scanWS(b, ke)
		if i >= n {
			return i, scanEOF
		}
		if b[i] != ':' {
			return i, scanSyntax
		}
		i = scanWS(b, i+1)
		if i >= n {
			return i, scanEOF
		}
		switch string(key) {
		case "eventVersion":
			i, e = scanStrField(b, i, &f.s[fEventVersion])
		case "userIdentity":
			i, e = d.scanIdentity(b, i, f)
		case "eventTime":
			i, e = scanStrField(b, i, &f.s[fEventTime])
		case "eventSource":
			i, e = scanStrField(b, i, &f.s[fEventSource])
		case "eventName":
			i, e = scanStrField(b, i, &f.s[fEventName])
		case "awsRegion":
			i, e = scanStrField(b, i, &f.s[fAWSRegion])
		case "userAgent":
			i, e = scanStrField(b, i, &f.s[fUserAgent])
		case "errorCode":
			i, e = scanStrField(b, i, &f.s[fErrorCode])
		case "eventID":
			i, e = scanStrField(b, i, &f.s[fEventID])
		case "readOnly":
			i, e = scanBoolField(b, i, &f.readOnly)
		case "eventType":
			i, e = scanStrField(b, i, &f.s[fEventType])
		case "managementEvent":
			i, e = scanBoolField(b, i, &f.mgmt)
		case "recipientAccountId":
			i, e = scanStrField(b, i, &f.s[fRecipientAccountID])
		case "eventCategory":
			i, e = scanStrField(b, i, &f.s[fEventCategory])
		case "detail", "detail-type", "Records", "awsAccountId", "digestStartTime", "digestEndTime", "logFiles":
			if top {
				i, e = d.scanMarker(b, i, f, key)
			} else {
				i, e = scanValue(b, i)
			}
		default:
			i, e = scanValue(b, i)
		}
		if e != scanOK {
			return i, e
		}
		i = scanWS(b, i)
		if i >= n {
			return i, scanEOF
		}
		switch b[i] {
		case ',':
			i = scanWS(b, i+1)
			if i >= n {
				return i, scanEOF
			}
		case '}':
			return i + 1, scanOK
		default:
			return i, scanSyntax
		}
	}
}

// scanMarker skips the value at b[i] of a top-level key the record fields do
// not use, noting keys that mark envelopes, log files and digests, and
// scanning an envelope's detail as a record.
func (d *Decoder) scanMarker(b []byte, i int, f *fields, key []byte) (int, scanErr) {
	switch string(key) {
	case "detail":
		if b[i] == '{' {
			f.flags |= flDetail
			d.det = fields{}
			end, e := d.scanRecord(b, i, &d.det, false)
			f.detOff, f.detEnd = i, end
			return end, e
		}
		f.flags &^= flDetail
	case "detail-type":
		f.flags |= flDetailType
	case "Records":
		if b[i] == '[' {
			f.flags |= flRecords
		}
	case "awsAccountId":
		f.flags |= flAWSAccountID
	case "digestStartTime", "digestEndTime":
		f.flags |= flDigestTimes
	case "logFiles":
		f.flags |= flLogFiles
	}
	return scanValue(b, i)
}

// scanIdentity scans the userIdentity value at b[i] for arn, accountId and
// invokedBy.
func (d *Decoder) scanIdentity(b []byte, i int, f *fields) (int, scanErr) {
	// Last key wins: a later userIdentity replaces an earlier one.
	f.s[fUserIdentityARN].set = false
	f.s[fUserIdentityAccountID].set = false
	f.s[fUserIdentityInvokedBy].set = false
	if b[i] != '{' {
		return scanValue(b, i)
	}
	n := len(b)
	i = scanWS(b, i+1)
	if i >= n {
		return i, scanEOF
	}
	if b[i] == '}' {
		return i + 1, scanOK
	}
	for {
		if b[i] != '"' {
			return i, scanSyntax
		}
		ke, esc, e := scanStr(b, i+1)
		if e != scanOK {
			return ke, e
		}
		key := b[i+1 : ke-1]
		if esc {
			d.kbuf = appendUnescaped(d.kbuf[:0], key)
			key = d.kbuf
		}
		i = scanWS(b, ke)
		if i >= n {
			return i, scanEOF
		}
		if b[i] != ':' {
			return i, scanSyntax
		}
		i = scanWS(b, i+1)
		if i >= n {
			return i, scanEOF
		}
		switch string(key) {
		case "arn":
			i, e = scanStrField(b, i, &f.s[fUserIdentityARN])
		case "accountId":
			i, e = scanStrField(b, i, &f.s[fUserIdentityAccountID])
		case "invokedBy":
			i, e = scanStrField(b, i, &f.s[fUserIdentityInvokedBy])
		default:
			i, e = scanValue(b, i)
		}
		if e != scanOK {
			return i, e
		}
		i = scanWS(b, i)
		if i >= n {
			return i, scanEOF
		}
		switch b[i] {
		case ',':
			i = scanWS(b, i+1)
			if i >= n {
				return i, scanEOF
			}
		case '}':
			return i + 1, scanOK
		default:
			return i, scanSyntax
		}
	}
}

// scanStrField scans the value at b[i] into sp. A value other than a string
// (null included) leaves the field absent.
func scanStrField(b []byte, i int, sp *span) (int, scanErr) {
	if b[i] == '"' {
		j, esc, e := scanStr(b, i+1)
		if e != scanOK {
			return j, e
		}
		*sp = span{off: i + 1, end: j - 1, esc: esc, set: true}
		return j, scanOK
	}
	sp.set = false
	return scanValue(b, i)
}

// scanBoolField scans the value at b[i] into v: true and false, also as the
// strings "true" and "false" some producers write; anything else is Unset.
func scanBoolField(b []byte, i int, v *Bool) (int, scanErr) {
	*v = Unset
	switch b[i] {
	case 't':
		*v = True
		return scanLit(b, i, "true")
	case 'f':
		*v = False
		return scanLit(b, i, "false")
	case '"':
		j, _, e := scanStr(b, i+1)
		if e != scanOK {
			return j, e
		}
		switch string(b[i+1 : j-1]) {
		case "true":
			*v = True
		case "false":
			*v = False
		}
		return j, scanOK
	}
	return scanValue(b, i)
}

// isJSONSpace reports whether c is JSON whitespace.
func isJSONSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t'
}

// scanWS returns the index of the first non-whitespace byte at or after i.
func scanWS(b []byte, i int) int {
	for i < len(b) {
		c := b[i]
		if c > ' ' || !isJSONSpace(c) {
			return i
		}
		i++
	}
	return i
}

// Constants of the SWAR (SIMD within a register) string scan.
const (
	swarLSB = 0x0101010101010101
	swarMSB = 0x8080808080808080
)

// stopMask flags the bytes of x (eight bytes of a string) where a string scan
// must stop: '"', '\\' and control bytes. For each test the lowest flagged
// byte is exact (borrows only cause false positives above a true one), so
// the lowest flag of all three is the first stop.
func stopMask(x uint64) uint64 {
	q := x ^ (swarLSB * '"')
	s := x ^ (swarLSB * '\\')
	return ((x-swarLSB*0x20)&^x | (q-swarLSB)&^q | (s-swarLSB)&^s) & swarMSB
}

// scanStr scans a string whose opening quote is at b[i-1]. It returns the
// index after the closing quote and whether the string has escapes, or the
// position of an error. Escapes are validated here, so that unescaping later
// cannot fail.
func scanStr(b []byte, i int) (int, bool, scanErr) {
	esc := false
	for {
		// Eight bytes at a time (SWAR: SIMD within a register), then
		// a byte at a time near the end of the input. The loop shape
		// matters: with b[i:i+8] the compiler drops most bounds checks.
		for ; i+8 <= len(b); i += 8 {
			if m := stopMask(binary.LittleEndian.Uint64(b[i : i+8])); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				goto stop
			}
		}
		for ; i < len(b); i++ {
			if c := b[i]; c == '"' || c == '\\' || c < 0x20 {
				goto stop
			}
		}
		return i, esc, scanEOF
	stop:
		switch b[i] {
		case '"':
			return i + 1, esc, scanOK
		case '\\':
			esc = true
			if i+1 >= len(b) {
				return len(b), esc, scanEOF
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				for k := i + 2; k < i+6; k++ {
					if k >= len(b) {
						return k, esc, scanEOF
					}
					if unhex(b[k]) < 0 {
						return k, esc, scanEscape
					}
				}
				i += 6
			default:
				return i + 1, esc, scanEscape
			}
		default:
			return i, esc, scanControl
		}
	}
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return int(c - 'A' + 10)
	}
	return -1
}

// hex4 decodes four hex digits that scanStr validated.
func hex4(b []byte) rune {
	return rune(unhex(b[0])<<12 | unhex(b[1])<<8 | unhex(b[2])<<4 | unhex(b[3]))
}

// appendUnescaped appends the unescaped form of the string text s, which
// scanStr validated, to dst. Like encoding/json it turns a lone or
// mismatched UTF-16 surrogate into U+FFFD.
func appendUnescaped(dst, s []byte) []byte {
	for len(s) > 0 {
		k := bytes.IndexByte(s, '\\')
		if k < 0 {
			return append(dst, s...)
		}
		dst = append(dst, s[:k]...)
		s = s[k:]
		c := s[1]
		s = s[2:]
		switch c {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(s)
			s = s[4:]
			if utf16.IsSurrogate(r) {
				r2 := utf8.RuneError
				if len(s) >= 6 && s[0] == '\\' && s[1] == 'u' {
					r2 = hex4(s[2:])
				}
				if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
					r = dec
					s = s[6:]
				} else {
					r = utf8.RuneError
				}
			}
			dst = utf8.AppendRune(dst, r)
		default: // '"', '\\', '/'
			dst = append(dst, c)
		}
	}
	return dst
}

// scanLit scans the literal lit at b[i]. An error is reported at the first
// byte that differs, so that a literal cut short reads as truncated.
func scanLit(b []byte, i int, lit string) (int, scanErr) {
	if len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit {
		return i + len(lit), scanOK
	}
	for k := 0; k < len(lit); k++ {
		if i+k >= len(b) {
			return i + k, scanEOF
		}
		if b[i+k] != lit[k] {
			return i + k, scanBadLiteral
		}
	}
	return i, scanBadLiteral // not reached
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// scanNumber scans a JSON number at b[i].
func scanNumber(b []byte, i int) (int, scanErr) {
	n := len(b)
	if b[i] == '-' {
		i++
		if i >= n {
			return i, scanEOF
		}
	}
	switch {
	case b[i] == '0':
		i++
	case isDigit(b[i]):
		for i++; i < n && isDigit(b[i]); i++ {
		}
	default:
		return i, scanBadNumber
	}
	if i < n && b[i] == '.' {
		i++
		if i >= n {
			return i, scanEOF
		}
		if !isDigit(b[i]) {
			return i, scanBadNumber
		}
		for i++; i < n && isDigit(b[i]); i++ {
		}
	}
	if i < n && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < n && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= n {
			return i, scanEOF
		}
		if !isDigit(b[i]) {
			return i, scanBadNumber
		}
		for i++; i < n && isDigit(b[i]); i++ {
		}
	}
	return i, scanOK
}

// scanValue skips the JSON value at b[i], validating it. It returns the
// index after the value, or the position of an error.
func scanValue(b []byte, i int) (int, scanErr) {
	if i >= len(b) {
		return i, scanEOF
	}
	switch c := b[i]; c {
	case '"':
		j, _, e := scanStr(b, i+1)
		return j, e
	case '{', '[':
		return scanContainer(b, i)
	case 't':
		return scanLit(b, i, "true")
	case 'f':
		return scanLit(b, i, "false")
	case 'n':
		return scanLit(b, i, "null")
	default:
		if c == '-' || isDigit(c) {
			return scanNumber(b, i)
		}
		return i, scanSyntax
	}
}

// scanContainer skips the object or array at b[i] without recursion: a bit
// stack remembers which kind each open level is, and obj caches the kind of
// the innermost one.
func scanContainer(b []byte, i int) (int, scanErr) {
	n := len(b)
	var stack [(maxNesting + 63) / 64]uint64
	depth := 0
	var e scanErr
	var obj bool
open: // b[i] is '{' or '['
	if depth >= maxNesting {
		return i, scanDepth
	}
	obj = b[i] == '{'
	if obj {
		stack[depth>>6] |= 1 << (depth & 63)
	} else {
		stack[depth>>6] &^= 1 << (depth & 63)
	}
	depth++
	i = scanWS(b, i+1)
	if i >= n {
		return i, scanEOF
	}
	if b[i] == '}' || b[i] == ']' {
		goto close
	}
member: // b[i] starts a member of an object or an element of an array
	if obj {
		if b[i] != '"' {
			return i, scanSyntax
		}
		if i, _, e = scanStr(b, i+1); e != scanOK {
			return i, e
		}
		i = scanWS(b, i)
		if i >= n {
			return i, scanEOF
		}
		if b[i] != ':' {
			return i, scanSyntax
		}
		i = scanWS(b, i+1)
		if i >= n {
			return i, scanEOF
		}
	}
	switch c := b[i]; c {
	case '{', '[':
		goto open
	case '"':
		i, _, e = scanStr(b, i+1)
	case 't':
		i, e = scanLit(b, i, "true")
	case 'f':
		i, e = scanLit(b, i, "false")
	case 'n':
		i, e = scanLit(b, i, "null")
	default:
		if c != '-' && !isDigit(c) {
			return i, scanSyntax
		}
		i, e = scanNumber(b, i)
	}
	if e != scanOK {
		return i, e
	}
after: // after a value inside a container
	i = scanWS(b, i)
	if i >= n {
		return i, scanEOF
	}
	switch b[i] {
	case ',':
		i = scanWS(b, i+1)
		if i >= n {
			return i, scanEOF
		}
		goto member
	case '}', ']':
		goto close
	default:
		return i, scanSyntax
	}
close: // b[i] is '}' or ']'
	if (b[i] == '}') != obj {
		return i, scanSyntax
	}
	depth--
	i++
	if depth == 0 {
		return i, scanOK
	}
	obj = stack[(depth-1)>>6]&(1<<((depth-1)&63)) != 0
	goto after
}

// parseEventTime parses an eventTime: "2023-04-13T19:56:38Z" by hand, also
// with fractional seconds (dropped: buckets are whole seconds) and a numeric
// offset; other forms go to time.Parse. It returns Unix seconds, and false
// for a malformed time or one not after the epoch (no CloudTrail record is
// that old, and EventTime 0 means "unset").
func parseEventTime(v []byte) (int64, bool) {
	sec, ok := parseRFC3339(v)
	if !ok {
		sec, ok = parseTimeSlow(v)
	}
	return sec, ok && sec > 0
}

// parseRFC3339 is the fast path of parseEventTime.
func parseRFC3339(v []byte) (int64, bool) {
	if len(v) < 20 || v[4] != '-' || v[7] != '-' || v[10] != 'T' || v[13] != ':' || v[16] != ':' {
		return 0, false
	}
	year, ok1 := digits(v[0:4])
	month, ok2 := digits(v[5:7])
	day, ok3 := digits(v[8:10])
	hour, ok4 := digits(v[11:13])
	minute, ok5 := digits(v[14:16])
	second, ok6 := digits(v[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) ||
		month < 1 || month > 12 || day < 1 || day > daysIn(month, year) ||
		hour > 23 || minute > 59 || second > 59 {
		return 0, false
	}
	i := 19
	if v[i] == '.' {
		i++
		j := i
		for i < len(v) && isDigit(v[i]) {
			i++
		}
		if i == j || i >= len(v) {
			return 0, false
		}
	}
	var offset int
	switch v[i] {
	case 'Z':
		if i+1 != len(v) {
			return 0, false
		}
	case '+', '-':
		if len(v)-i != 6 || v[i+3] != ':' {
			return 0, false
		}
		oh, okh := digits(v[i+1 : i+3])
		om, okm := digits(v[i+4 : i+6])
		if !okh || !okm || oh > 23 || om > 59 {
			return 0, false
		}
		offset = oh*3600 + om*60
		if v[i] == '-' {
			offset = -offset
		}
	default:
		return 0, false
	}
	days := daysFromCivil(year, month, day)
	return days*86400 + int64(hour*3600+minute*60+second-offset), true
}

// slowTimeLayouts are the odd eventTime forms accepted besides RFC 3339:
// offsets without a colon, a space for the T, and no zone (taken as UTC,
// CloudTrail's only zone).
var slowTimeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999",
}

func parseTimeSlow(v []byte) (int64, bool) {
	s := string(v)
	for _, layout := range slowTimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Unix(), true
		}
	}
	return 0, false
}

// digits decodes a run of ASCII digits.
func digits[T string | []byte](v T) (int, bool) {
	n := 0
	for i := range len(v) {
		if !isDigit(v[i]) {
			return 0, false
		}
		n = n*10 + int(v[i]-'0')
	}
	return n, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil returns the number of days from 1970-01-01 to the given
// proleptic Gregorian date (H. Hinnant's algorithm), for years 0 to 9999.
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// BodyKind says what a message or file body holds. The zero value is
// invalid.
type BodyKind uint8

// Kinds of bodies.
const (
	_ BodyKind = iota
	// BodyLogFile is a trail log file, {"Records":[...]} (spec §4.3).
	BodyLogFile
	// BodyArray is a top-level array of records, as some public datasets
	// ship them.
	BodyArray
	// BodyLines is several top-level values, normally one record per
	// line (JSON Lines).
	BodyLines
	// BodyRecord is one bare record.
	BodyRecord
	// BodyEnvelope is one EventBridge envelope (spec §7).
	BodyEnvelope
	// BodyDigest is a digest file (spec §5), which holds no records.
	BodyDigest
	// BodyInsightFile is a {"Records":[...]} file that holds Insights
	// records and nothing to analyse.
	BodyInsightFile
	// BodyEmpty is an empty or all-whitespace body.
	BodyEmpty
)

var bodyKindNames = [...]string{
	BodyLogFile:     "log_file",
	BodyArray:       "array",
	BodyLines:       "lines",
	BodyRecord:      "record",
	BodyEnvelope:    "envelope",
	BodyDigest:      "digest",
	BodyInsightFile: "insight_file",
	BodyEmpty:       "empty",
}

// String returns a short snake_case name for k, fit for a metrics label.
func (k BodyKind) String() string {
	if k > 0 && int(k) < len(bodyKindNames) {
		return bodyKindNames[k]
	}
	return "body_kind_" + strconv.Itoa(int(k))
}

// BodyStats sums up what DecodeBody found in a body.
type BodyStats struct {
	Kind BodyKind
	// Records is the number of records passed to fn, Invalid the number
	// set aside (passed to bad), Insights the number of Insights records
	// skipped.
	Records, Invalid, Insights int
	// Digest is true when the body is, or holds, a digest file.
	Digest bool
	// Bytes is the size of the JSON text, after gzip inflation.
	Bytes int64
}

// IsGzip reports whether b starts with gzip's magic number: a body
// DecodeBody inflates, into a buffer that its next call reuses.
func IsGzip(b []byte) bool {
	return len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b
}

// DecodeBody decodes a whole message or file body: a log file
// ({"Records":[...]}), a top-level array of records, JSON Lines, one record
// or EventBridge envelope, a digest file, or any sequence of these. A gzipped
// body (told by its magic number) is inflated into a buffer the Decoder
// reuses.
//
// DecodeBody calls fn, when not nil, for every record to analyse. The Event
// is reused between calls, so fn must copy what it keeps; the strings in it
// are owned by the Event and stay valid. It calls bad, when not nil, for
// every record set aside. A malformed record never costs its neighbours: the
// decoder resynchronises on the next record (the next array element that
// starts like a record, or the next line that starts with '{' or '[').
// Digest files and Insights records are counted in the BodyStats, not passed
// to fn or bad. fn and bad must not call DecodeBody on the same Decoder,
// whose buffer holds the inflated body.
//
// The error is non-nil only when the body cannot be used as a whole: it does
// not inflate, inflates beyond MaxBodySize, or is neither a JSON object or
// array nor lines of them. Then neither fn nor bad was called. The exception
// is a gzip stream that breaks off midway: the records of its readable part
// are decoded, and the error comes with their stats.
func (d *Decoder) DecodeBody(b []byte, fn func(*Event), bad func(DecodeError)) (BodyStats, error) {
	var st BodyStats
	var gzErr error
	if IsGzip(b) {
		out, err := d.inflate(b)
		if errors.Is(err, errBodyTooBig) {
			return st, &DecodeError{Reason: ReasonOversize, Err: err}
		}
		if err != nil {
			gzErr = &DecodeError{Reason: ReasonBadGzip, Err: err}
			if len(out) == 0 {
				return st, gzErr
			}
		}
		b = out
	}
	st.Bytes = int64(len(b))
	i := 0
	if bytes.HasPrefix(b, []byte("\xef\xbb\xbf")) { // a UTF-8 byte order mark
		i = 3
	}
	if i = scanWS(b, i); i == len(b) {
		st.Kind = BodyEmpty
		return st, gzErr
	}
	if c := b[i]; c != '{' && c != '[' && (gzErr != nil || nextLineStart(b, i) < 0) {
		// Not JSON Lines with a bad first line either.
		if gzErr != nil {
			return st, gzErr
		}
		if _, se := scanValue(b, i); se == scanOK {
			return st, &DecodeError{Offset: int64(i), Reason: ReasonNotObject, Err: errBodyNotRecords}
		}
		return st, &DecodeError{Offset: int64(i), Reason: ReasonBadJSON, Err: errNotJSON}
	}
	d.candFrom, d.candAt = -1, -1
	d.budget = 4*len(b) + 1<<16
	for values := 0; i < len(b); values++ {
		var k BodyKind
		k, i = d.bodyValue(b, i, &st, fn, bad)
		if values == 0 {
			st.Kind = k
		} else {
			st.Kind = BodyLines
		}
		i = scanWS(b, i)
	}
	return st, gzErr
}

// Release lets go of the buffer that holds inflated bodies when it has
// grown beyond keep bytes, so a Decoder kept for its next body does not hold
// on to the largest body it ever inflated. The Raw of records from earlier
// calls may point into that buffer: call it once they are no longer used.
func (d *Decoder) Release(keep int) {
	if d.zbuf.Cap() > keep {
		d.zbuf = bytes.Buffer{}
	}
}

// inflate gunzips b into the Decoder's buffer. On a stream that breaks off it
// returns what it could read along with the error.
func (d *Decoder) inflate(b []byte) ([]byte, error) {
	d.zin.Reset(b)
	var err error
	if d.zr == nil {
		d.zr, err = gzip.NewReader(&d.zin)
	} else {
		err = d.zr.Reset(&d.zin)
	}
	if err != nil {
		return nil, err
	}
	d.zbuf.Reset()
	limit := d.maxBody
	if limit == 0 {
		limit = MaxBodySize
	}
	n, err := d.zbuf.ReadFrom(io.LimitReader(d.zr, limit+1))
	if n > limit {
		return nil, errBodyTooBig
	}
	return d.zbuf.Bytes(), err
}

// setAside counts a record set aside and reports it to bad.
func setAside(st *BodyStats, bad func(DecodeError), off int, r Reason, err error) {
	st.Invalid++
	if bad != nil {
		bad(DecodeError{Offset: int64(off), Reason: r, Err: err})
	}
}

// bodyValue decodes the top-level value at b[s] and returns its kind and
// where the next value may start.
func (d *Decoder) bodyValue(b []byte, s int, st *BodyStats, fn func(*Event), bad func(DecodeError)) (BodyKind, int) {
	switch b[s] {
	case '[':
		if next := d.records(b, s+1, st, fn, bad); next >= 0 {
			return BodyArray, next
		}
		return BodyArray, len(b)
	case '{':
	default:
		// A line that does not start a record: skip to the next one.
		end, se := scanValue(b, s)
		if se == scanOK {
			setAside(st, bad, s, ReasonNotObject, errNotObject)
			return BodyLines, end
		}
		next, r := recoverLine(b, s, end)
		setAside(st, bad, s, r, &syntaxError{pos: end - s, code: se})
		return BodyLines, next
	}
	if recordsFirst(b, s) {
		return d.logFile(b, s, st, fn, bad)
	}
	f := &d.top
	*f = fields{}
	end, se := d.scanRecord(b, s, f, true)
	if d.budget -= end - s; d.budget < 0 {
		setAside(st, bad, s, ReasonBadJSON, errRescans)
		return BodyRecord, len(b)
	}
	switch {
	case f.flags&flRecords != 0:
		// A log file whose Records key is not first: walk it again as
		// one, even if the scan failed (inside a record, most likely).
		return d.logFile(b, s, st, fn, bad)
	case se != scanOK:
		next, r := recoverLine(b, s, end)
		setAside(st, bad, s, r, &syntaxError{pos: end - s, code: se})
		return BodyRecord, next
	case f.isDigest():
		st.Digest = true
		return BodyDigest, end
	}
	kind := BodyRecord
	if f.isEnvelope() {
		kind = BodyEnvelope
	}
	d.finish(b, s, end, f, st, fn, bad)
	return kind, end
}

// finish checks and delivers the record scanned from b[s:end].
func (d *Decoder) finish(b []byte, s, end int, f *fields, st *BodyStats, fn func(*Event), bad func(DecodeError)) {
	if end-s > MaxRecordSize {
		setAside(st, bad, s, ReasonOversize, errTooBig)
		return
	}
	r, err := d.fill(b, s, end, f, &d.ev)
	switch {
	case r != 0:
		setAside(st, bad, s, r, err)
	case err != nil: // ErrInsightRecord
		st.Insights++
	default:
		st.Records++
		if fn != nil {
			fn(&d.ev)
		}
	}
}

// recordsFirst reports whether the object at b[s] starts with the key
// "Records" and an array, as AWS writes log files (spec §4.3).
func recordsFirst(b []byte, s int) bool {
	i := scanWS(b, s+1)
	if !bytes.HasPrefix(b[i:], []byte(`"Records"`)) {
		return false
	}
	i = scanWS(b, i+len(`"Records"`))
	if i >= len(b) || b[i] != ':' {
		return false
	}
	i = scanWS(b, i+1)
	return i < len(b) && b[i] == '['
}

// logFile decodes the log file object at b[s]: every "Records" array in it,
// skipping other members. Damage outside the arrays costs no record and is
// not reported; the walk then goes on at the next line.
func (d *Decoder) logFile(b []byte, s int, st *BodyStats, fn func(*Event), bad func(DecodeError)) (BodyKind, int) {
	n := len(b)
	recs, ins := st.Records, st.Insights
	kind := func() BodyKind {
		if st.Records == recs && st.Insights > ins {
			return BodyInsightFile
		}
		return BodyLogFile
	}
	broken := func(p int) (BodyKind, int) {
		if q := nextLineStart(b, p); q >= 0 {
			return kind(), q
		}
		return kind(), n
	}
	i := scanWS(b, s+1)
	if i < n && b[i] == '}' {
		return kind(), i + 1
	}
	for {
		if i >= n || b[i] != '"' {
			return broken(i)
		}
		ke, esc, e := scanStr(b, i+1)
		if e != scanOK {
			return broken(ke)
		}
		key := b[i+1 : ke-1]
		if esc {
			d.kbuf = appendUnescaped(d.kbuf[:0], key)
			key = d.kbuf
		}
		records := string(key) == "Records"
		i = scanWS(b, ke)
		if i >= n || b[i] != ':' {
			return broken(i)
		}
		i = scanWS(b, i+1)
		if records && i < n && b[i] == '[' {
			if i = d.records(b, i+1, st, fn, bad); i < 0 {
				return kind(), n
			}
		} else if i, e = scanValue(b, i); e != scanOK {
			return broken(i)
		}
		i = scanWS(b, i)
		switch {
		case i >= n:
			return kind(), n
		case b[i] == ',':
			i = scanWS(b, i+1)
		case b[i] == '}':
			return kind(), i + 1
		default:
			return broken(i)
		}
	}
}

// records decodes the elements of the array whose '[' is at b[i-1]. It
// returns the index after the closing ']', or -1 when the body ends (or
// cannot be followed) inside the array.
func (d *Decoder) records(b []byte, i int, st *BodyStats, fn func(*Event), bad func(DecodeError)) int {
	n := len(b)
	i = scanWS(b, i)
	if i < n && b[i] == ']' {
		return i + 1
	}
	for {
		if i >= n {
			setAside(st, bad, n, ReasonTruncated, errBodyEnds)
			return -1
		}
		s := i
		next := s
		if b[s] == ',' {
			// An empty element; the comma is consumed below.
			setAside(st, bad, s, ReasonBadJSON, errEmptyElement)
		} else {
			next = d.element(b, s, st, fn, bad)
			if next < 0 {
				return -1
			}
		}
		i = scanWS(b, next)
		if i >= n {
			setAside(st, bad, n, ReasonTruncated, errBodyEnds)
			return -1
		}
		switch b[i] {
		case ',':
			if i = scanWS(b, i+1); i < n && b[i] == ']' {
				return i + 1 // a trailing comma is forgiven
			}
		case ']':
			return i + 1
		}
		// Anything else (a record after a missing comma, or junk) is
		// taken as the next element.
	}
}

// element decodes the array element at b[s] and returns where the next one
// may start (always past s), or -1 when nothing after it can be followed.
func (d *Decoder) element(b []byte, s int, st *BodyStats, fn func(*Event), bad func(DecodeError)) int {
	f := &d.top
	var end int
	var se scanErr
	if b[s] == '{' {
		*f = fields{}
		end, se = d.scanRecord(b, s, f, true)
	} else {
		end, se = scanValue(b, s)
	}
	if d.budget -= end - s; d.budget < 0 {
		setAside(st, bad, s, ReasonBadJSON, errRescans)
		return -1
	}
	switch {
	case se != scanOK:
		next, r, stop := d.recoverElement(b, s, end)
		setAside(st, bad, s, r, &syntaxError{pos: end - s, code: se})
		if stop {
			return -1
		}
		return max(next, s+1)
	case b[s] == '{':
		d.finish(b, s, end, f, st, fn, bad)
		return end
	case b[s] == '"':
		// A string swallows the start of the next record when it is
		// the cut-off start of a record itself: `{"eventVersion":"1.0`
		// then `,{"eventVersion"` reads as the string "1.0,{".
		if q := d.nextRecordStart(b, s+1); q >= 0 && q < end {
			setAside(st, bad, s, ReasonTruncated, &syntaxError{pos: q - s, code: scanEOF})
			return q
		}
	}
	setAside(st, bad, s, ReasonNotObject, errNotObject)
	return end
}

// recoverElement finds where to go on after a syntax error at p in the array
// element that starts at b[s]. The next record start is the anchor: when it
// comes before the error, or only separators lie between, the element was
// cut short (truncated); otherwise the damage is inside the element, and
// anything between it and the next record goes with it. Without a next
// record, bracket matching finds the element's end. stop is true when
// nothing after the element can be trusted.
func (d *Decoder) recoverElement(b []byte, s, p int) (next int, r Reason, stop bool) {
	if q := d.nextRecordStart(b, s+1); q >= 0 {
		if q <= p || onlySeparators(b[p:q]) {
			return q, ReasonTruncated, false
		}
		return q, ReasonBadJSON, false
	}
	if e := looseElementEnd(b, s); e >= 0 {
		return e, ReasonBadJSON, false
	}
	if p >= len(b) {
		return len(b), ReasonTruncated, true
	}
	return len(b), ReasonBadJSON, true
}

// onlySeparators reports whether v holds only whitespace and commas.
func onlySeparators(v []byte) bool {
	for _, c := range v {
		if c != ',' && !isJSONSpace(c) {
			return false
		}
	}
	return true
}

// looseElementEnd finds the ',' or ']' that ends the array element starting
// at b[s], by matching brackets and skipping strings without checking
// anything else. A raw newline ends a string too (valid JSON has none in a
// string), so one broken quote costs at most its line. It returns -1 when
// the element does not end.
func looseElementEnd(b []byte, s int) int {
	lim := len(b)
	depth := 0
	for i := s; i < lim; i++ {
		switch b[i] {
		case '"':
			for i++; i < lim && b[i] != '"' && b[i] != '\n'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
		case '{', '[':
			depth++
		case '}':
			if depth > 0 {
				depth--
			}
		case ']':
			if depth == 0 {
				return i
			}
			depth--
		case ',':
			if depth == 0 && i > s {
				return i
			}
		}
	}
	return -1
}

// nextRecordStart returns the index of the first '{' at or after from that
// plausibly starts a record in an array: it follows ',' or '[' and its first
// key is one every CloudTrail record or envelope starts with. It returns -1
// when there is none.
func (d *Decoder) nextRecordStart(b []byte, from int) int {
	if d.candFrom >= 0 && from >= d.candFrom && (d.candAt < 0 || from <= d.candAt) {
		return d.candAt
	}
	q := -1
	for i := from; i < len(b); {
		k := bytes.IndexByte(b[i:], '{')
		if k < 0 {
			break
		}
		if isRecordStart(b, i+k) {
			q = i + k
			break
		}
		i += k + 1
	}
	d.candFrom, d.candAt = from, q
	return q
}

func isRecordStart(b []byte, q int) bool {
	p := q - 1
	for p >= 0 && isJSONSpace(b[p]) {
		p--
	}
	if p < 0 || (b[p] != ',' && b[p] != '[') {
		return false
	}
	j := scanWS(b, q+1)
	if j >= len(b) || b[j] != '"' {
		return false
	}
	k := bytes.IndexByte(b[j+1:min(len(b), j+1+len("sessionCredentialFromConsole")+1)], '"')
	if k < 0 {
		return false
	}
	_, ok := recordKeys[string(b[j+1:j+1+k])]
	return ok
}

// recordKeys are the top-level keys of CloudTrail records (spec §1.1) and
// the first key of an EventBridge envelope. Writers that sort keys start
// records with any of them.
var recordKeys = map[string]struct{}{
	"additionalEventData": {}, "addendum": {}, "apiVersion": {}, "awsRegion": {},
	"edgeDeviceDetails": {}, "errorCode": {}, "errorMessage": {}, "eventCategory": {},
	"eventContext": {}, "eventID": {}, "eventName": {}, "eventSource": {},
	"eventTime": {}, "eventType": {}, "eventVersion": {}, "insightDetails": {},
	"managementEvent": {}, "readOnly": {}, "recipientAccountId": {}, "requestID": {},
	"requestParameters": {}, "resources": {}, "responseElements": {},
	"serviceEventDetails": {}, "sessionCredentialFromConsole": {}, "sharedEventID": {},
	"sourceIPAddress": {}, "tlsDetails": {}, "userAgent": {}, "userIdentity": {},
	"vpcEndpointId": {}, "detail-type": {},
}

// nextLineStart returns the index of the first line at or after from that
// starts with '{' or '[' in its first column, or -1.
func nextLineStart(b []byte, from int) int {
	for i := from; i < len(b); {
		k := bytes.IndexByte(b[i:], '\n')
		if k < 0 {
			return -1
		}
		q := i + k + 1
		if q < len(b) && (b[q] == '{' || b[q] == '[') {
			return q
		}
		i = q
	}
	return -1
}

// recoverLine finds where to go on after a syntax error at p in the
// top-level value that starts at b[s]: the next line that starts a value.
// The value was truncated when the error lies at or past the end of its
// line.
func recoverLine(b []byte, s, p int) (int, Reason) {
	q := nextLineStart(b, s+1)
	if q < 0 {
		if p >= len(b) {
			return len(b), ReasonTruncated
		}
		return len(b), ReasonBadJSON
	}
	if q <= p || onlySeparators(b[p:q]) {
		return q, ReasonTruncated
	}
	return q, ReasonBadJSON
}
