package cloudtrail

import (
	"os"
	"path/filepath"
	"testing"
)

// selFuzzFields are the fields FuzzMatch picks from; the last ones are not
// allowed in every category, so Validate gets exercised too.
var selFuzzFields = []string{
	"eventSource", "eventName", "eventType", "readOnly", "userIdentity.arn", "errorCode",
	"resources.type", "resources.ARN", "sessionCredentialFromConsole", "vpcEndpointId", "bogus",
}

var selFuzzCategories = []string{"Management", "Data", "NetworkActivity"}

// FuzzMatch compiles an advanced selector (eventCategory, the field its
// category requires, and one fuzzed field selector) and a basic selector
// with a fuzzed data resource value, and matches them against a fuzzed
// record. Properties: no panics; Match is deterministic; a selector that
// reads only Event fields ignores raw; on a single-valued field a positive
// operator and its negation disagree.
func FuzzMatch(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "records", "*.json"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(0), uint8(1), uint8(0), "RunInstances", "arn:aws:s3")
	}
	for i, raw := range []string{rawS3, rawS3Other, rawLambda, rawLambdaQ, rawConsole, rawVPCE, `{"resources":[{"type":1}]}`, `[`, ``} {
		f.Add([]byte(raw), uint8(i), uint8(i), uint8(i), "arn:aws:s3:::mybucket/", "arn:aws:lambda:us-west-2:111111111111:function:helloworld")
	}
	d := NewDecoder()
	f.Fuzz(func(t *testing.T, raw []byte, cat, field, op uint8, value, dataValue string) {
		if len(raw) > maxFuzzInput {
			t.Skip("input too big")
		}
		var ev Event
		if d.DecodeRecord(raw, &ev) != nil {
			// Still match: the selectors must cope with any Event and raw.
			ev = Event{EventSource: value, EventName: value, EventCategory: selFuzzCategories[int(cat)%3],
				ReadOnly: Bool(op % 3), ManagementEvent: Bool(field % 3), ErrorCode: value}
		}

		category := selFuzzCategories[int(cat)%len(selFuzzCategories)]
		fs := AdvancedFieldSelector{Field: selFuzzFields[int(field)%len(selFuzzFields)]}
		ops := selOpLists(&fs)
		*ops[int(op)%numOps] = []string{value}
		sel := []AdvancedFieldSelector{{Field: "eventCategory", Equals: []string{category}}}
		switch category {
		case "Data":
			if fs.Field != "resources.type" {
				sel = append(sel, AdvancedFieldSelector{Field: "resources.type", Equals: []string{"AWS::S3::Object"}})
			}
		case "NetworkActivity":
			if fs.Field != "eventSource" {
				sel = append(sel, AdvancedFieldSelector{Field: "eventSource", Equals: []string{"kms.amazonaws.com"}})
			}
		}
		sel = append(sel, fs)
		sels := []Selectors{
			{AdvancedEventSelectors: []AdvancedEventSelector{{Name: value, FieldSelectors: sel}}},
			{EventSelectors: []EventSelector{{
				ReadWriteType: []string{"All", "ReadOnly", "WriteOnly", value}[op%4],
				DataResources: []DataResource{{Type: []string{"AWS::S3::Object", "AWS::Lambda::Function", "AWS::DynamoDB::Table"}[cat%3], Values: []string{dataValue}}},
			}}},
		}
		for _, s := range sels {
			verr := s.Validate()
			m, err := s.Compile()
			if (verr == nil) != (err == nil) {
				t.Fatalf("Validate() = %v but Compile() = %v", verr, err)
			}
			if err != nil {
				continue
			}
			got := m.Match(&ev, raw)
			if again := m.Match(&ev, raw); again != got {
				t.Fatalf("Match not deterministic: %v then %v", got, again)
			}
			m.Match(&ev, nil)
			m.ManagementOnly()
		}

		// Event-only field selectors do not look at raw.
		fm := fieldMatcher{field: selFields[fs.Field]}
		if _, known := selFields[fs.Field]; !known {
			return
		}
		var a advancedMatcher
		k := int(op) % numOps
		fm.ops[k] = []string{value}
		fm.positive = k <= opEndsWith
		if fm.field < sfResourcesType {
			withRaw := a.matchField(&fm, &ev, &lazyRecord{raw: raw})
			if without := a.matchField(&fm, &ev, &lazyRecord{}); withRaw != without {
				t.Fatalf("field %s: Match with raw %v, without %v", fs.Field, withRaw, without)
			}
		}
		// A scalar field matches an operator exactly when it fails its negation.
		if fm.field != sfResourcesType && fm.field != sfResourcesARN {
			neg := fieldMatcher{field: fm.field, positive: !fm.positive}
			neg.ops[(k+3)%numOps] = fm.ops[k]
			p := a.matchField(&fm, &ev, &lazyRecord{raw: raw})
			n := a.matchField(&neg, &ev, &lazyRecord{raw: raw})
			if p == n {
				t.Fatalf("field %s, %s %q and its negation both give %v", fs.Field, opNames[k], value, p)
			}
		}
	})
}

// selOpLists returns pointers to the operator lists of fs, in opNames order.
func selOpLists(fs *AdvancedFieldSelector) [numOps]*[]string {
	return [numOps]*[]string{&fs.Equals, &fs.StartsWith, &fs.EndsWith, &fs.NotEquals, &fs.NotStartsWith, &fs.NotEndsWith}
}
