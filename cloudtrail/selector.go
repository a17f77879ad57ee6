package cloudtrail

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// This file holds a trail's event selectors and insight selectors (spec §8,
// §9.1) and the Matcher that applies event selectors to records (§8.3). The
// JSON and YAML names are the CloudTrail API's, so the output of
// `aws cloudtrail get-event-selectors` or `get-insight-selectors` can be
// pasted into a configuration as it is.

// Limits of event selectors (spec §8).
const (
	// MaxEventSelectors is the number of basic event selectors a trail may have.
	MaxEventSelectors = 5
	// MaxDataResourceValues is the number of data resource ARNs (Values) all
	// the basic selectors of a trail may list together.
	MaxDataResourceValues = 250
	// MaxAdvancedValues is the number of values all the field selectors of
	// all the advanced selectors of a trail may list together.
	MaxAdvancedValues = 500
)

// Selectors are a trail's event selectors: basic or advanced, never both.
// The zero value (nothing configured) means what AWS gives a new trail: all
// management events, read and write, from every event source, and no data
// events. Compile accepts it.
type Selectors struct {
	EventSelectors         []EventSelector         `json:"EventSelectors,omitempty" yaml:"EventSelectors,omitempty"`
	AdvancedEventSelectors []AdvancedEventSelector `json:"AdvancedEventSelectors,omitempty" yaml:"AdvancedEventSelectors,omitempty"`
}

// EventSelector is a basic event selector (spec §8.1).
type EventSelector struct {
	// ReadWriteType is All, ReadOnly or WriteOnly; "" means All.
	ReadWriteType string `json:"ReadWriteType,omitempty" yaml:"ReadWriteType,omitempty"`
	// IncludeManagementEvents selects management events; nil means true,
	// as in AWS.
	IncludeManagementEvents *bool `json:"IncludeManagementEvents,omitempty" yaml:"IncludeManagementEvents,omitempty"`
	// DataResources select data events by resource type and ARN.
	DataResources []DataResource `json:"DataResources,omitempty" yaml:"DataResources,omitempty"`
	// ExcludeManagementEventSources lists event sources (such as
	// kms.amazonaws.com) whose management events are not selected. AWS
	// excludes nothing from a trail unless told to.
	ExcludeManagementEventSources []string `json:"ExcludeManagementEventSources,omitempty" yaml:"ExcludeManagementEventSources,omitempty"`
}

// DataResource selects the data events on resources of one type.
//
// Values are ARNs or ARN prefixes. For AWS::S3::Object each value is a
// prefix of the object ARN: "arn:aws:s3" (or "arn:aws:s3:::") selects every
// object, "arn:aws:s3:::bucket/" every object in a bucket and
// "arn:aws:s3:::bucket/images" the objects whose key starts with "images".
// For AWS::Lambda::Function and AWS::DynamoDB::Table, "arn:aws:lambda" and
// "arn:aws:dynamodb" select every function or table, and a full ARN selects
// exactly that resource: helloworld does not select helloworld2. A
// function ARN also selects its qualified forms (ARN ":" version or alias),
// a trailsight choice.
type DataResource struct {
	Type   string   `json:"Type" yaml:"Type"`
	Values []string `json:"Values" yaml:"Values"`
}

// AdvancedEventSelector is an advanced event selector (spec §8.2): it
// selects a record when all its field selectors match.
type AdvancedEventSelector struct {
	Name           string                  `json:"Name,omitempty" yaml:"Name,omitempty"`
	FieldSelectors []AdvancedFieldSelector `json:"FieldSelectors" yaml:"FieldSelectors"`
}

// AdvancedFieldSelector is one condition on one field of a record. A record
// matches when, if any positive operator (Equals, StartsWith, EndsWith) is
// given, one of their values matches, and no value of a negative operator
// (NotEquals, NotStartsWith, NotEndsWith) matches. Comparisons are
// case-sensitive; there are no wildcards.
type AdvancedFieldSelector struct {
	Field         string   `json:"Field" yaml:"Field"`
	Equals        []string `json:"Equals,omitempty" yaml:"Equals,omitempty"`
	StartsWith    []string `json:"StartsWith,omitempty" yaml:"StartsWith,omitempty"`
	EndsWith      []string `json:"EndsWith,omitempty" yaml:"EndsWith,omitempty"`
	NotEquals     []string `json:"NotEquals,omitempty" yaml:"NotEquals,omitempty"`
	NotStartsWith []string `json:"NotStartsWith,omitempty" yaml:"NotStartsWith,omitempty"`
	NotEndsWith   []string `json:"NotEndsWith,omitempty" yaml:"NotEndsWith,omitempty"`
}

// InsightSelector turns one Insights type on (spec §9.1).
type InsightSelector struct {
	// InsightType is ApiCallRateInsight or ApiErrorRateInsight.
	InsightType string `json:"InsightType" yaml:"InsightType"`
	// EventCategories are Management and/or Data; empty means Management.
	EventCategories []string `json:"EventCategories,omitempty" yaml:"EventCategories,omitempty"`
}

// Categories returns the event categories s analyses: EventCategories, or
// Management when it is empty, as in AWS.
func (s InsightSelector) Categories() []string {
	if len(s.EventCategories) == 0 {
		return []string{"Management"}
	}
	return s.EventCategories
}

// ValidateInsightSelectors checks insight selectors against the rules of
// PutInsightSelectors (spec §9.1): each type at most once, known types and
// categories, no category twice. An empty list is valid: Insights are off.
func ValidateInsightSelectors(sels []InsightSelector) error {
	for i, s := range sels {
		switch s.InsightType {
		case "ApiCallRateInsight", "ApiErrorRateInsight":
		default:
			return fmt.Errorf("insight selectors: InsightSelectors[%d].InsightType %q: must be ApiCallRateInsight or ApiErrorRateInsight", i, s.InsightType)
		}
		for j := range i {
			if sels[j].InsightType == s.InsightType {
				return fmt.Errorf("insight selectors: InsightSelectors[%d].InsightType %q: already given by InsightSelectors[%d]; give each type once", i, s.InsightType, j)
			}
		}
		for k, c := range s.EventCategories {
			if c != "Management" && c != "Data" {
				return fmt.Errorf("insight selectors: InsightSelectors[%d].EventCategories[%d] %q: must be Management or Data (omit for Management)", i, k, c)
			}
			for l := range k {
				if s.EventCategories[l] == c {
					return fmt.Errorf("insight selectors: InsightSelectors[%d].EventCategories[%d] %q: given twice", i, k, c)
				}
			}
		}
	}
	return nil
}

// Field names of advanced field selectors.
const (
	fnEventCategory    = "eventCategory"
	fnEventSource      = "eventSource"
	fnEventName        = "eventName"
	fnEventType        = "eventType"
	fnReadOnly         = "readOnly"
	fnUserIdentityARN  = "userIdentity.arn"
	fnErrorCode        = "errorCode"
	fnResourcesType    = "resources.type"
	fnResourcesARN     = "resources.ARN"
	fnSessionCredConso = "sessionCredentialFromConsole"
	fnVPCEndpointID    = "vpcEndpointId"
)

// categoryRule lists the fields an advanced selector of one eventCategory
// may use and must use besides eventCategory (spec §8.2 table, trail column).
type categoryRule struct {
	category string
	allowed  []string
	required string
}

// categoryRules follows the spec §8.2 table for trails. For Management,
// AWS allows eventName, eventType, userIdentity.arn and
// sessionCredentialFromConsole only in event data stores; trailsight
// accepts them on trails too, because it applies selectors itself (§8.3)
// rather than asking CloudTrail to. The Insight category (Lake destination
// stores) has no use in trailsight and is not accepted.
var categoryRules = []categoryRule{
	{"Management", []string{fnEventCategory, fnEventSource, fnReadOnly, fnEventName, fnEventType, fnUserIdentityARN, fnSessionCredConso}, ""},
	{"Data", []string{fnEventCategory, fnResourcesType, fnEventName, fnEventSource, fnEventType, fnReadOnly, fnResourcesARN, fnSessionCredConso, fnUserIdentityARN}, fnResourcesType},
	{"NetworkActivity", []string{fnEventCategory, fnEventSource, fnEventName, fnErrorCode, fnVPCEndpointID, fnUserIdentityARN}, fnEventSource},
}

// opNames are the operators of an AdvancedFieldSelector: three positive,
// then their negations in the same order.
var opNames = [numOps]string{"Equals", "StartsWith", "EndsWith", "NotEquals", "NotStartsWith", "NotEndsWith"}

const (
	opEquals = iota
	opStartsWith
	opEndsWith
	opNotEquals
	opNotStartsWith
	opNotEndsWith
	numOps
)

func (fs *AdvancedFieldSelector) ops() [numOps][]string {
	return [numOps][]string{fs.Equals, fs.StartsWith, fs.EndsWith, fs.NotEquals, fs.NotStartsWith, fs.NotEndsWith}
}

// dataResourceServices maps the resource types basic selectors support to
// the service part of their ARNs.
var dataResourceServices = map[string]string{
	"AWS::S3::Object":       "s3",
	"AWS::Lambda::Function": "lambda",
	"AWS::DynamoDB::Table":  "dynamodb",
}

// Validate checks s against the rules AWS applies to PutEventSelectors
// (spec §8): basic or advanced selectors, not both; 1 to 5 basic selectors,
// ReadWriteType All, ReadOnly or WriteOnly, at most 250 data resource
// values; each advanced selector has one eventCategory field selector and
// uses only the fields its category allows, each field once, with at least
// one value, Equals only for readOnly, eventCategory and resources.type, and
// at most 500 values in all. The zero Selectors is valid (see Selectors).
// The error names the selector, the field and what is allowed.
func (s Selectors) Validate() error {
	if len(s.EventSelectors) > 0 && len(s.AdvancedEventSelectors) > 0 {
		return errors.New("event selectors: both EventSelectors and AdvancedEventSelectors are set; a trail uses one or the other")
	}
	if err := validateBasic(s.EventSelectors); err != nil {
		return fmt.Errorf("event selectors: %w", err)
	}
	if err := validateAdvanced(s.AdvancedEventSelectors); err != nil {
		return fmt.Errorf("event selectors: %w", err)
	}
	return nil
}

func validateBasic(sels []EventSelector) error {
	if len(sels) > MaxEventSelectors {
		return fmt.Errorf("EventSelectors has %d selectors; allowed 1 to %d", len(sels), MaxEventSelectors)
	}
	values := 0
	for i, s := range sels {
		if _, ok := parseReadWrite(s.ReadWriteType); !ok {
			return fmt.Errorf("EventSelectors[%d].ReadWriteType %q: must be All, ReadOnly or WriteOnly (empty means All)", i, s.ReadWriteType)
		}
		for j, src := range s.ExcludeManagementEventSources {
			if src == "" {
				return fmt.Errorf("EventSelectors[%d].ExcludeManagementEventSources[%d] is empty: must name an event source such as kms.amazonaws.com", i, j)
			}
		}
		for j, dr := range s.DataResources {
			at := fmt.Sprintf("EventSelectors[%d].DataResources[%d]", i, j)
			service, ok := dataResourceServices[dr.Type]
			if !ok {
				return fmt.Errorf("%s.Type %q: basic selectors support AWS::S3::Object, AWS::Lambda::Function and AWS::DynamoDB::Table; use advanced selectors for other types", at, dr.Type)
			}
			if len(dr.Values) == 0 {
				return fmt.Errorf("%s.Values is empty: list at least one ARN or ARN prefix such as arn:aws:%s", at, service)
			}
			for k, v := range dr.Values {
				parts := strings.SplitN(v, ":", 4)
				if len(parts) < 3 || parts[0] != "arn" || parts[1] == "" || parts[2] != service {
					return fmt.Errorf("%s.Values[%d] %q: must be an ARN or ARN prefix of type %s, starting arn:<partition>:%s (arn:aws:%s selects all)", at, k, v, dr.Type, service, service)
				}
			}
			values += len(dr.Values)
		}
	}
	if values > MaxDataResourceValues {
		return fmt.Errorf("EventSelectors list %d data resource values in all; at most %d allowed", values, MaxDataResourceValues)
	}
	return nil
}

func validateAdvanced(sels []AdvancedEventSelector) error {
	values := 0
	for i := range sels {
		n, err := validateAdvancedSelector(&sels[i])
		if err != nil {
			at := fmt.Sprintf("AdvancedEventSelectors[%d]", i)
			if sels[i].Name != "" {
				at += fmt.Sprintf(" (Name %q)", sels[i].Name)
			}
			return fmt.Errorf("%s: %w", at, err)
		}
		values += n
	}
	if values > MaxAdvancedValues {
		return fmt.Errorf("AdvancedEventSelectors list %d values in all; at most %d allowed", values, MaxAdvancedValues)
	}
	return nil
}

// validateAdvancedSelector checks one advanced selector and returns the
// number of values it lists.
func validateAdvancedSelector(s *AdvancedEventSelector) (int, error) {
	var rule *categoryRule
	for i := range s.FieldSelectors {
		fs := &s.FieldSelectors[i]
		for j := range i {
			if s.FieldSelectors[j].Field == fs.Field {
				return 0, fmt.Errorf("FieldSelectors[%d] field %q: already used by FieldSelectors[%d]; give each field once, with all its values", i, fs.Field, j)
			}
		}
		if fs.Field != fnEventCategory {
			continue
		}
		if err := equalsOnly(fs); err != nil {
			return 0, fmt.Errorf("FieldSelectors[%d] field %q: %w", i, fs.Field, err)
		}
		if len(fs.Equals) != 1 {
			return 0, fmt.Errorf("FieldSelectors[%d] field %q: Equals has %d values; give exactly one of Management, Data or NetworkActivity", i, fs.Field, len(fs.Equals))
		}
		for k := range categoryRules {
			if categoryRules[k].category == fs.Equals[0] {
				rule = &categoryRules[k]
			}
		}
		if rule == nil {
			return 0, fmt.Errorf("FieldSelectors[%d] field %q: value %q: must be Management, Data or NetworkActivity", i, fs.Field, fs.Equals[0])
		}
	}
	if rule == nil {
		return 0, errors.New("no eventCategory field selector; every advanced selector needs one (Equals Management, Data or NetworkActivity)")
	}
	values := 0
	hasRequired := rule.required == ""
	for i := range s.FieldSelectors {
		fs := &s.FieldSelectors[i]
		at := fmt.Sprintf("FieldSelectors[%d] field %q", i, fs.Field)
		allowed := false
		for _, f := range rule.allowed {
			allowed = allowed || f == fs.Field
		}
		if !allowed {
			return 0, fmt.Errorf("%s: not allowed with eventCategory %s; allowed fields: %s", at, rule.category, strings.Join(rule.allowed, ", "))
		}
		hasRequired = hasRequired || fs.Field == rule.required
		n := 0
		for op, vs := range fs.ops() {
			for k, v := range vs {
				if v == "" {
					return 0, fmt.Errorf("%s: %s[%d] is empty; values must be non-empty", at, opNames[op], k)
				}
			}
			n += len(vs)
		}
		if n == 0 {
			return 0, fmt.Errorf("%s: no values; give at least one value to one of %s", at, strings.Join(opNames[:], ", "))
		}
		values += n
		switch fs.Field {
		case fnReadOnly:
			if err := equalsOnly(fs); err != nil {
				return 0, fmt.Errorf("%s: %w", at, err)
			}
			for k, v := range fs.Equals {
				if v != "true" && v != "false" {
					return 0, fmt.Errorf("%s: Equals[%d] %q: must be \"true\" or \"false\" (omit readOnly for both)", at, k, v)
				}
			}
		case fnResourcesType:
			if err := equalsOnly(fs); err != nil {
				return 0, fmt.Errorf("%s: %w", at, err)
			}
			if len(fs.Equals) != 1 {
				return 0, fmt.Errorf("%s: Equals has %d values; give exactly one resource type per selector (add a selector for another type)", at, len(fs.Equals))
			}
		}
	}
	if !hasRequired {
		return 0, fmt.Errorf("eventCategory %s needs a %s field selector", rule.category, rule.required)
	}
	return values, nil
}

// equalsOnly reports an error if fs uses an operator other than Equals.
func equalsOnly(fs *AdvancedFieldSelector) error {
	for op, vs := range fs.ops() {
		if op != opEquals && len(vs) > 0 {
			return fmt.Errorf("%s is not allowed; %s accepts only Equals", opNames[op], fs.Field)
		}
	}
	return nil
}

// readWrite is a compiled ReadWriteType.
type readWrite uint8

const (
	rwAll readWrite = iota
	rwReadOnly
	rwWriteOnly
)

func parseReadWrite(s string) (readWrite, bool) {
	switch s {
	case "", "All":
		return rwAll, true
	case "ReadOnly":
		return rwReadOnly, true
	case "WriteOnly":
		return rwWriteOnly, true
	}
	return 0, false
}

// admits reports whether a ReadWriteType selects a record with this
// readOnly. A record without readOnly is neither a read nor a write (spec
// §2.9 #14 says it is not a write, and §8.2 that it matches neither
// readOnly value), so only All selects it. This keeps a basic selector
// equivalent to the advanced one AWS converts it to: ReadOnly is readOnly
// Equals "true", WriteOnly is readOnly Equals "false", All omits readOnly.
func (rw readWrite) admits(b Bool) bool {
	switch rw {
	case rwReadOnly:
		return b == True
	case rwWriteOnly:
		return b == False
	}
	return true
}

// Matcher applies compiled event selectors to records. It is immutable and
// safe for concurrent use.
type Matcher struct {
	basic          []basicMatcher
	advanced       []advancedMatcher
	managementOnly bool
}

type basicMatcher struct {
	rw         readWrite
	management bool
	exclude    []string
	data       []dataMatcher
}

// dataMatcher is one DataResource value.
type dataMatcher struct {
	typ    string
	value  string
	prefix bool // else exact, or followed by ':'
}

type advancedMatcher struct {
	// fields hold the fields read from Event first, then those parsed from
	// the raw record, so a selector that fails on Event fields never parses.
	fields []fieldMatcher
	// typeSel is the resources.type field selector, or nil: resources.ARN
	// looks only at the resources it selects.
	typeSel *fieldMatcher
}

type selField uint8

const (
	sfEventCategory selField = iota
	sfEventSource
	sfEventName
	sfEventType
	sfReadOnly
	sfUserIdentityARN
	sfErrorCode
	// Fields below are parsed from the raw record.
	sfResourcesType
	sfResourcesARN
	sfSessionCredentialFromConsole
	sfVPCEndpointID
)

var selFields = map[string]selField{
	fnEventCategory:    sfEventCategory,
	fnEventSource:      sfEventSource,
	fnEventName:        sfEventName,
	fnEventType:        sfEventType,
	fnReadOnly:         sfReadOnly,
	fnUserIdentityARN:  sfUserIdentityARN,
	fnErrorCode:        sfErrorCode,
	fnResourcesType:    sfResourcesType,
	fnResourcesARN:     sfResourcesARN,
	fnSessionCredConso: sfSessionCredentialFromConsole,
	fnVPCEndpointID:    sfVPCEndpointID,
}

type fieldMatcher struct {
	field    selField
	ops      [numOps][]string
	positive bool // some positive operator has a value
}

// Compile validates s and returns its Matcher. The zero Selectors compiles
// to the AWS default for a new trail: all management events, read and write.
func (s Selectors) Compile() (*Matcher, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	m := &Matcher{managementOnly: true}
	basic := s.EventSelectors
	if len(basic) == 0 && len(s.AdvancedEventSelectors) == 0 {
		basic = []EventSelector{{ReadWriteType: "All"}}
	}
	for _, es := range basic {
		rw, _ := parseReadWrite(es.ReadWriteType)
		bm := basicMatcher{
			rw:         rw,
			management: es.IncludeManagementEvents == nil || *es.IncludeManagementEvents,
			exclude:    append([]string(nil), es.ExcludeManagementEventSources...),
		}
		for _, dr := range es.DataResources {
			for _, v := range dr.Values {
				// "arn:aws:lambda" and the like (no resource part) are
				// prefixes; S3 values always are.
				prefix := dr.Type == "AWS::S3::Object" || strings.Count(strings.TrimRight(v, ":"), ":") < 3
				bm.data = append(bm.data, dataMatcher{typ: dr.Type, value: v, prefix: prefix})
			}
		}
		if len(bm.data) > 0 {
			m.managementOnly = false
		}
		m.basic = append(m.basic, bm)
	}
	for _, as := range s.AdvancedEventSelectors {
		var am advancedMatcher
		for _, fs := range as.FieldSelectors {
			fm := fieldMatcher{field: selFields[fs.Field]}
			for op, vs := range fs.ops() {
				fm.ops[op] = append([]string(nil), vs...)
			}
			fm.positive = len(fm.ops[opEquals])+len(fm.ops[opStartsWith])+len(fm.ops[opEndsWith]) > 0
			am.fields = append(am.fields, fm)
			if fs.Field == fnEventCategory && fs.Equals[0] == "Data" {
				m.managementOnly = false
			}
		}
		// Event fields first (stable, so errors and tests stay predictable).
		var sorted []fieldMatcher
		for _, fm := range am.fields {
			if fm.field < sfResourcesType {
				sorted = append(sorted, fm)
			}
		}
		for _, fm := range am.fields {
			if fm.field >= sfResourcesType {
				sorted = append(sorted, fm)
			}
		}
		am.fields = sorted
		for i := range am.fields {
			if am.fields[i].field == sfResourcesType {
				am.typeSel = &am.fields[i]
			}
		}
		m.advanced = append(m.advanced, am)
	}
	return m, nil
}

// ManagementOnly reports whether no selector of m can accept a data event
// (eventCategory Data), so a caller that analyses only management events
// may skip data records before calling Match. It says nothing about raw:
// advanced management selectors on sessionCredentialFromConsole still read it.
func (m *Matcher) ManagementOnly() bool { return m.managementOnly }

// Match reports whether the selectors accept the record ev, whose JSON text
// is raw (spec §8.3): any selector accepting it is enough.
//
// Fields the decoder does not extract (resources.type, resources.ARN,
// sessionCredentialFromConsole, vpcEndpointId) are parsed from raw with
// encoding/json, once per call and only when a selector reaches them; when
// raw is nil or not a valid record they are absent. Selectors that use only
// Event fields do not allocate. Callers normally pass ev.Raw.
//
// An absent field (an empty string on Event, Unset readOnly, no resources)
// matches no positive operator and every negative one, so a field selector
// with only negative operators matches it. A list field (resources.*)
// matches when one of its elements satisfies every operator of the field
// selector. resources.ARN looks only at the resources whose type the
// selector's resources.type accepts, as in AWS. sessionCredentialFromConsole
// is "true" or "false": records carry it only when true (spec §1.1), so a
// parsed record without it is "false".
func (m *Matcher) Match(ev *Event, raw []byte) bool {
	lz := lazyRecord{raw: raw}
	for i := range m.basic {
		if m.basic[i].match(ev, &lz) {
			return true
		}
	}
	for i := range m.advanced {
		if m.advanced[i].match(ev, &lz) {
			return true
		}
	}
	return false
}

// isDataEvent reports whether ev is a data event: eventCategory "Data", or for
// records older than 1.07 managementEvent == false (the fallback of
// Event.IsManagement, spec §1.2).
func isDataEvent(ev *Event) bool {
	if ev.EventCategory != "" {
		return ev.EventCategory == "Data"
	}
	return ev.ManagementEvent == False
}

func (b *basicMatcher) match(ev *Event, lz *lazyRecord) bool {
	if !b.rw.admits(ev.ReadOnly) {
		return false
	}
	if ev.IsManagement() {
		if !b.management {
			return false
		}
		for _, src := range b.exclude {
			if ev.EventSource == src {
				return false
			}
		}
		return true
	}
	if len(b.data) == 0 || !isDataEvent(ev) {
		return false
	}
	rec := lz.get()
	if rec == nil {
		return false
	}
	for _, r := range rec.Resources {
		if r.ARN == "" {
			continue
		}
		for i := range b.data {
			if b.data[i].match(r.Type, r.ARN) {
				return true
			}
		}
	}
	return false
}

func (d *dataMatcher) match(typ, arn string) bool {
	if typ != d.typ || !strings.HasPrefix(arn, d.value) {
		return false
	}
	return d.prefix || len(arn) == len(d.value) || arn[len(d.value)] == ':'
}

func (a *advancedMatcher) match(ev *Event, lz *lazyRecord) bool {
	for i := range a.fields {
		if !a.matchField(&a.fields[i], ev, lz) {
			return false
		}
	}
	return true
}

func (a *advancedMatcher) matchField(f *fieldMatcher, ev *Event, lz *lazyRecord) bool {
	switch f.field {
	case sfEventCategory:
		return f.matchScalar(eventCategoryOf(ev))
	case sfEventSource:
		return f.matchScalar(ev.EventSource)
	case sfEventName:
		return f.matchScalar(ev.EventName)
	case sfEventType:
		return f.matchScalar(ev.EventType)
	case sfReadOnly:
		switch ev.ReadOnly {
		case True:
			return f.matchScalar("true")
		case False:
			return f.matchScalar("false")
		}
		return f.matchScalar("")
	case sfUserIdentityARN:
		return f.matchScalar(ev.UserIdentityARN)
	case sfErrorCode:
		return f.matchScalar(ev.ErrorCode)
	}
	rec := lz.get()
	switch f.field {
	case sfSessionCredentialFromConsole:
		if rec == nil {
			return f.matchScalar("")
		}
		if rec.SessionCredentialFromConsole.set {
			return f.matchScalar(rec.SessionCredentialFromConsole.s)
		}
		return f.matchScalar("false")
	case sfVPCEndpointID:
		if rec == nil {
			return f.matchScalar("")
		}
		return f.matchScalar(rec.VPCEndpointID)
	}
	var res []rawResource
	if rec != nil {
		res = rec.Resources
	}
	candidates := false
	for _, r := range res {
		var v string
		if f.field == sfResourcesType {
			v = r.Type
		} else {
			if r.ARN == "" || (a.typeSel != nil && !a.typeSel.matches(r.Type)) {
				continue
			}
			v = r.ARN
		}
		candidates = true
		if f.matches(v) {
			return true
		}
	}
	return !candidates && !f.positive
}

// eventCategoryOf returns ev's event category, falling back for records older
// than 1.07 on managementEvent as Event.IsManagement does; "" when unknown.
func eventCategoryOf(ev *Event) string {
	switch {
	case ev.EventCategory != "":
		return ev.EventCategory
	case ev.ManagementEvent == True:
		return "Management"
	case ev.ManagementEvent == False:
		return "Data"
	}
	return ""
}

// matchScalar matches a single-valued field; "" means absent.
func (f *fieldMatcher) matchScalar(v string) bool {
	if v == "" {
		return !f.positive
	}
	return f.matches(v)
}

// matches reports whether a present value v satisfies every operator of f.
func (f *fieldMatcher) matches(v string) bool {
	if f.positive {
		ok := false
		for op := opEquals; op <= opEndsWith && !ok; op++ {
			for _, x := range f.ops[op] {
				if holds(op, v, x) {
					ok = true
					break
				}
			}
		}
		if !ok {
			return false
		}
	}
	for op := opNotEquals; op <= opNotEndsWith; op++ {
		for _, x := range f.ops[op] {
			if holds(op, v, x) {
				return false
			}
		}
	}
	return true
}

// holds reports whether v satisfies the positive form of operator op for
// the value x.
func holds(op int, v, x string) bool {
	switch op % 3 {
	case opEquals:
		return v == x
	case opStartsWith:
		return strings.HasPrefix(v, x)
	default:
		return strings.HasSuffix(v, x)
	}
}

// lazyRecord parses the fields of a record the decoder does not extract, at
// most once, on first use.
type lazyRecord struct {
	raw  []byte
	rec  *rawRecord
	done bool
}

// get returns the parsed record, or nil when raw is empty or not a valid
// record.
func (l *lazyRecord) get() *rawRecord {
	if !l.done {
		l.done = true
		if len(l.raw) > 0 {
			r := new(rawRecord)
			if json.Unmarshal(l.raw, r) == nil {
				l.rec = r
			}
		}
	}
	return l.rec
}

// rawRecord holds the record fields selectors may need that Event lacks.
type rawRecord struct {
	Resources                    []rawResource `json:"resources"`
	SessionCredentialFromConsole flexString    `json:"sessionCredentialFromConsole"`
	VPCEndpointID                string        `json:"vpcEndpointId"`
}

type rawResource struct {
	ARN  string `json:"ARN"`
	Type string `json:"type"`
}

// flexString is a JSON string, or a boolean read as "true" or "false":
// sessionCredentialFromConsole is documented as a string but a boolean
// costs nothing to accept. Other JSON values leave it unset.
type flexString struct {
	s   string
	set bool
}

func (f *flexString) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case "true", "false":
		f.s, f.set = string(b), true
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &f.s); err != nil {
			return err
		}
		f.set = true
	}
	return nil
}
