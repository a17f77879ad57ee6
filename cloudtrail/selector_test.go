package cloudtrail

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

// Records the selector tests match. Their raw JSON holds only what the
// lazily parsed fields need; Event holds the rest.
var (
	selWrite = Event{
		EventSource: "ec2.amazonaws.com", EventName: "RunInstances", EventType: "AwsApiCall",
		EventCategory: "Management", ReadOnly: False, ManagementEvent: True,
		UserIdentityARN: "arn:aws:sts::111122223333:assumed-role/Deploy/pipeline",
	}
	selRead = Event{
		EventSource: "ec2.amazonaws.com", EventName: "DescribeInstances", EventType: "AwsApiCall",
		EventCategory: "Management", ReadOnly: True, ManagementEvent: True,
		UserIdentityARN: "arn:aws:iam::111122223333:user/Mary",
	}
	// selNoReadOnly is a management record without readOnly (§2.9 #14).
	selNoReadOnly = Event{
		EventSource: "health.amazonaws.com", EventName: "HealthEvent", EventType: "AwsServiceEvent",
		EventCategory: "Management", ManagementEvent: True,
	}
	selKMS = Event{
		EventSource: "kms.amazonaws.com", EventName: "Decrypt", EventType: "AwsApiCall",
		EventCategory: "Management", ReadOnly: True, ManagementEvent: True,
	}
	selS3Put = Event{
		EventSource: "s3.amazonaws.com", EventName: "PutObject", EventType: "AwsApiCall",
		EventCategory: "Data", ReadOnly: False, ManagementEvent: False,
		UserIdentityARN: "arn:aws:iam::111122223333:user/Mary",
	}
	selS3Get = Event{
		EventSource: "s3.amazonaws.com", EventName: "GetObject", EventType: "AwsApiCall",
		EventCategory: "Data", ReadOnly: True, ManagementEvent: False,
	}
	selInvoke = Event{
		EventSource: "lambda.amazonaws.com", EventName: "Invoke", EventType: "AwsApiCall",
		EventCategory: "Data", ReadOnly: False, ManagementEvent: False,
	}
	selVPCE = Event{
		EventSource: "kms.amazonaws.com", EventName: "ListKeys", EventType: "AwsVpceEvent",
		EventCategory: "NetworkActivity", ErrorCode: "VpceAccessDenied",
	}
	// selOldWrite and selOldData predate eventCategory (1.06).
	selOldWrite = Event{EventSource: "ec2.amazonaws.com", EventName: "StartInstances", ReadOnly: False, ManagementEvent: True}
	selOldData  = Event{EventSource: "s3.amazonaws.com", EventName: "PutObject", ReadOnly: False, ManagementEvent: False}
)

const (
	// rawS3 is an S3 object data event's resources: the object, then its bucket.
	rawS3 = `{"eventSource":"s3.amazonaws.com","resources":[` +
		`{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::mybucket/prefix/a.txt"},` +
		`{"accountId":"111122223333","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::mybucket"}]}`
	rawS3Other = `{"resources":[{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::otherbucket/a.txt"},` +
		`{"accountId":"111122223333","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::otherbucket"}]}`
	rawLambda  = `{"resources":[{"accountId":"111111111111","type":"AWS::Lambda::Function","ARN":"arn:aws:lambda:us-west-2:111111111111:function:helloworld"}]}`
	rawLambda2 = `{"resources":[{"accountId":"111111111111","type":"AWS::Lambda::Function","ARN":"arn:aws:lambda:us-west-2:111111111111:function:helloworld2"}]}`
	rawLambdaQ = `{"resources":[{"accountId":"111111111111","type":"AWS::Lambda::Function","ARN":"arn:aws:lambda:us-west-2:111111111111:function:helloworld:prod"}]}`
	rawConsole = `{"eventName":"RunInstances","sessionCredentialFromConsole":"true"}`
	rawVPCE    = `{"eventType":"AwsVpceEvent","vpcEndpointId":"vpce-0123456789abcdef0"}`
)

func boolPtr(b bool) *bool { return &b }

// mgmt returns advanced selectors with one selector on management events
// and the given field selectors.
func mgmt(fs ...AdvancedFieldSelector) Selectors {
	return Selectors{AdvancedEventSelectors: []AdvancedEventSelector{{
		Name:           "test",
		FieldSelectors: append([]AdvancedFieldSelector{{Field: "eventCategory", Equals: []string{"Management"}}}, fs...),
	}}}
}

// s3Data returns advanced selectors on S3 object data events.
func s3Data(fs ...AdvancedFieldSelector) Selectors {
	return Selectors{AdvancedEventSelectors: []AdvancedEventSelector{{
		FieldSelectors: append([]AdvancedFieldSelector{
			{Field: "eventCategory", Equals: []string{"Data"}},
			{Field: "resources.type", Equals: []string{"AWS::S3::Object"}},
		}, fs...),
	}}}
}

func basic(sels ...EventSelector) Selectors { return Selectors{EventSelectors: sels} }

type matchCase struct {
	name string
	sel  Selectors
	ev   Event
	raw  string
	want bool
}

func runMatchCases(t *testing.T, cases []matchCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := tc.sel.Compile()
			if err != nil {
				t.Fatalf("Compile(%+v): %v", tc.sel, err)
			}
			var raw []byte
			if tc.raw != "" {
				raw = []byte(tc.raw)
			}
			if got := m.Match(&tc.ev, raw); got != tc.want {
				t.Errorf("Match(%+v, %s) = %v, want %v; selectors %+v", tc.ev, tc.raw, got, tc.want, tc.sel)
			}
		})
	}
}

func TestMatchOperators(t *testing.T) {
	name := func(fs AdvancedFieldSelector) Selectors { fs.Field = "eventName"; return mgmt(fs) }
	runMatchCases(t, []matchCase{
		{"Equals hit", name(AdvancedFieldSelector{Equals: []string{"RunInstances"}}), selWrite, "", true},
		{"Equals miss", name(AdvancedFieldSelector{Equals: []string{"Run"}}), selWrite, "", false},
		{"Equals any value", name(AdvancedFieldSelector{Equals: []string{"StopInstances", "RunInstances"}}), selWrite, "", true},
		{"Equals case-sensitive", name(AdvancedFieldSelector{Equals: []string{"runinstances"}}), selWrite, "", false},
		{"StartsWith hit", name(AdvancedFieldSelector{StartsWith: []string{"Run"}}), selWrite, "", true},
		{"StartsWith miss", name(AdvancedFieldSelector{StartsWith: []string{"Describe"}}), selWrite, "", false},
		{"EndsWith hit", name(AdvancedFieldSelector{EndsWith: []string{"Instances"}}), selWrite, "", true},
		{"EndsWith miss", name(AdvancedFieldSelector{EndsWith: []string{"Volumes"}}), selWrite, "", false},
		{"NotEquals hit", name(AdvancedFieldSelector{NotEquals: []string{"RunInstances"}}), selWrite, "", false},
		{"NotEquals miss", name(AdvancedFieldSelector{NotEquals: []string{"StopInstances"}}), selWrite, "", true},
		{"NotEquals any value excludes", name(AdvancedFieldSelector{NotEquals: []string{"StopInstances", "RunInstances"}}), selWrite, "", false},
		{"NotStartsWith hit", name(AdvancedFieldSelector{NotStartsWith: []string{"Run"}}), selWrite, "", false},
		{"NotStartsWith miss", name(AdvancedFieldSelector{NotStartsWith: []string{"Describe"}}), selWrite, "", true},
		{"NotEndsWith hit", name(AdvancedFieldSelector{NotEndsWith: []string{"Instances"}}), selWrite, "", false},
		{"NotEndsWith miss", name(AdvancedFieldSelector{NotEndsWith: []string{"Volumes"}}), selWrite, "", true},
		{"positive and negative both hold", name(AdvancedFieldSelector{StartsWith: []string{"Run"}, NotEquals: []string{"RunScheduledInstances"}}), selWrite, "", true},
		{"positive holds, negative fails", name(AdvancedFieldSelector{StartsWith: []string{"Run"}, NotEndsWith: []string{"Instances"}}), selWrite, "", false},
		{"negative holds, positive fails", name(AdvancedFieldSelector{Equals: []string{"StopInstances"}, NotEquals: []string{"X"}}), selWrite, "", false},
		{"positive operators are or-ed", name(AdvancedFieldSelector{Equals: []string{"X"}, EndsWith: []string{"Instances"}}), selWrite, "", true},
		{"eventSource", mgmt(AdvancedFieldSelector{Field: "eventSource", NotEquals: []string{"kms.amazonaws.com"}}), selKMS, "", false},
		{"eventType", mgmt(AdvancedFieldSelector{Field: "eventType", Equals: []string{"AwsServiceEvent"}}), selNoReadOnly, "", true},
		{"userIdentity.arn", mgmt(AdvancedFieldSelector{Field: "userIdentity.arn", StartsWith: []string{"arn:aws:sts::111122223333:assumed-role/Deploy/"}}), selWrite, "", true},
		{"absent field fails positive", mgmt(AdvancedFieldSelector{Field: "userIdentity.arn", StartsWith: []string{"arn:"}}), selNoReadOnly, "", false},
		{"absent field passes negative", mgmt(AdvancedFieldSelector{Field: "userIdentity.arn", NotStartsWith: []string{"arn:"}}), selNoReadOnly, "", true},
		{"all field selectors must match", mgmt(
			AdvancedFieldSelector{Field: "eventSource", Equals: []string{"ec2.amazonaws.com"}},
			AdvancedFieldSelector{Field: "eventName", Equals: []string{"StopInstances"}}), selWrite, "", false},
		{"category mismatch", mgmt(), selS3Put, rawS3, false},
		{"category of old record", mgmt(), selOldWrite, "", true},
		{"errorCode", Selectors{AdvancedEventSelectors: []AdvancedEventSelector{{FieldSelectors: []AdvancedFieldSelector{
			{Field: "eventCategory", Equals: []string{"NetworkActivity"}},
			{Field: "eventSource", Equals: []string{"kms.amazonaws.com"}},
			{Field: "errorCode", Equals: []string{"VpceAccessDenied"}},
		}}}}, selVPCE, "", true},
	})
}

func TestMatchReadOnlyField(t *testing.T) {
	ro := func(v ...string) Selectors { return mgmt(AdvancedFieldSelector{Field: "readOnly", Equals: v}) }
	runMatchCases(t, []matchCase{
		{"true on read", ro("true"), selRead, "", true},
		{"true on write", ro("true"), selWrite, "", false},
		{"false on write", ro("false"), selWrite, "", true},
		{"false on read", ro("false"), selRead, "", false},
		{"true on no readOnly", ro("true"), selNoReadOnly, "", false},
		{"false on no readOnly", ro("false"), selNoReadOnly, "", false},
		{"both on no readOnly", ro("true", "false"), selNoReadOnly, "", false},
		{"omitted on no readOnly", mgmt(), selNoReadOnly, "", true},
	})
}

func TestMatchSelectorsAreOred(t *testing.T) {
	two := Selectors{AdvancedEventSelectors: []AdvancedEventSelector{
		mgmt(AdvancedFieldSelector{Field: "eventName", Equals: []string{"RunInstances"}}).AdvancedEventSelectors[0],
		s3Data(AdvancedFieldSelector{Field: "eventName", Equals: []string{"PutObject"}}).AdvancedEventSelectors[0],
	}}
	basicTwo := basic(
		EventSelector{ReadWriteType: "WriteOnly"},
		EventSelector{ReadWriteType: "ReadOnly", IncludeManagementEvents: boolPtr(false),
			DataResources: []DataResource{{Type: "AWS::S3::Object", Values: []string{"arn:aws:s3"}}}},
	)
	runMatchCases(t, []matchCase{
		{"advanced first", two, selWrite, "", true},
		{"advanced second", two, selS3Put, rawS3, true},
		{"advanced neither", two, selRead, "", false},
		{"advanced neither data", two, selS3Get, rawS3, false},
		{"basic management write", basicTwo, selWrite, "", true},
		{"basic management read", basicTwo, selRead, "", false},
		{"basic data read", basicTwo, selS3Get, rawS3, true},
		{"basic data write", basicTwo, selS3Put, rawS3, false},
	})
}

func TestMatchDefault(t *testing.T) {
	runMatchCases(t, []matchCase{
		{"write", Selectors{}, selWrite, "", true},
		{"read", Selectors{}, selRead, "", true},
		{"no readOnly", Selectors{}, selNoReadOnly, "", true},
		{"kms", Selectors{}, selKMS, "", true},
		{"pre-1.07 management", Selectors{}, selOldWrite, "", true},
		{"data", Selectors{}, selS3Put, rawS3, false},
		{"pre-1.07 data", Selectors{}, selOldData, rawS3, false},
		{"network activity", Selectors{}, selVPCE, rawVPCE, false},
		{"no category at all", Selectors{}, Event{EventSource: "ec2.amazonaws.com", EventName: "X", ReadOnly: False}, "", false},
	})
}

func TestMatchBasic(t *testing.T) {
	rw := func(t string) Selectors { return basic(EventSelector{ReadWriteType: t}) }
	s3 := func(rwt string, values ...string) Selectors {
		return basic(EventSelector{ReadWriteType: rwt, IncludeManagementEvents: boolPtr(false),
			DataResources: []DataResource{{Type: "AWS::S3::Object", Values: values}}})
	}
	fn := func(values ...string) Selectors {
		return basic(EventSelector{DataResources: []DataResource{{Type: "AWS::Lambda::Function", Values: values}}})
	}
	const helloworld = "arn:aws:lambda:us-west-2:111111111111:function:helloworld"
	runMatchCases(t, []matchCase{
		{"All write", rw("All"), selWrite, "", true},
		{"All read", rw("All"), selRead, "", true},
		{"All no readOnly", rw("All"), selNoReadOnly, "", true},
		{"empty type is All", rw(""), selNoReadOnly, "", true},
		{"ReadOnly read", rw("ReadOnly"), selRead, "", true},
		{"ReadOnly write", rw("ReadOnly"), selWrite, "", false},
		{"ReadOnly no readOnly", rw("ReadOnly"), selNoReadOnly, "", false},
		{"WriteOnly write", rw("WriteOnly"), selWrite, "", true},
		{"WriteOnly read", rw("WriteOnly"), selRead, "", false},
		{"WriteOnly no readOnly", rw("WriteOnly"), selNoReadOnly, "", false},
		{"management off", basic(EventSelector{IncludeManagementEvents: boolPtr(false)}), selWrite, "", false},
		{"management on", basic(EventSelector{IncludeManagementEvents: boolPtr(true)}), selWrite, "", true},
		{"kms excluded", basic(EventSelector{ExcludeManagementEventSources: []string{"kms.amazonaws.com", "rdsdata.amazonaws.com"}}), selKMS, "", false},
		{"other source not excluded", basic(EventSelector{ExcludeManagementEventSources: []string{"kms.amazonaws.com"}}), selRead, "", true},
		{"empty exclusion list", basic(EventSelector{ExcludeManagementEventSources: []string{}}), selKMS, "", true},
		{"kms included by another selector", basic(
			EventSelector{ExcludeManagementEventSources: []string{"kms.amazonaws.com"}},
			EventSelector{ReadWriteType: "ReadOnly"}), selKMS, "", true},
		{"exclusion ignores data events", basic(EventSelector{ExcludeManagementEventSources: []string{"s3.amazonaws.com"},
			DataResources: []DataResource{{Type: "AWS::S3::Object", Values: []string{"arn:aws:s3"}}}}), selS3Put, rawS3, true},
		{"no data resources, data event", rw("All"), selS3Put, rawS3, false},
		{"s3 all arn:aws:s3", s3("All", "arn:aws:s3"), selS3Put, rawS3, true},
		{"s3 all arn:aws:s3:::", s3("All", "arn:aws:s3:::"), selS3Put, rawS3, true},
		{"s3 bucket", s3("All", "arn:aws:s3:::mybucket/"), selS3Put, rawS3, true},
		{"s3 bucket and prefix", s3("All", "arn:aws:s3:::mybucket/prefix"), selS3Put, rawS3, true},
		{"s3 other prefix", s3("All", "arn:aws:s3:::mybucket/other"), selS3Put, rawS3, false},
		{"s3 other bucket", s3("All", "arn:aws:s3:::mybucket/"), selS3Put, rawS3Other, false},
		{"s3 any of several values", s3("All", "arn:aws:s3:::nope/", "arn:aws:s3:::otherbucket/"), selS3Put, rawS3Other, true},
		{"s3 bucket ARN is not an object", s3("All", "arn:aws:s3:::mybucket"), selS3Put,
			`{"resources":[{"type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::mybucket"}]}`, false},
		{"s3 ReadOnly rejects write", s3("ReadOnly", "arn:aws:s3"), selS3Put, rawS3, false},
		{"s3 ReadOnly read", s3("ReadOnly", "arn:aws:s3"), selS3Get, rawS3, true},
		{"s3 WriteOnly write", s3("WriteOnly", "arn:aws:s3"), selS3Put, rawS3, true},
		{"s3 without raw", s3("All", "arn:aws:s3"), selS3Put, "", false},
		{"s3 malformed raw", s3("All", "arn:aws:s3"), selS3Put, `{"resources":[{"type":`, false},
		{"s3 resources not an array", s3("All", "arn:aws:s3"), selS3Put, `{"resources":{"type":"AWS::S3::Object"}}`, false},
		{"s3 pre-1.07 data event", s3("All", "arn:aws:s3"), selOldData, rawS3, true},
		{"s3 selector, lambda event", s3("All", "arn:aws:s3"), selInvoke, rawLambda, false},
		{"lambda all", fn("arn:aws:lambda"), selInvoke, rawLambda, true},
		{"lambda exact", fn(helloworld), selInvoke, rawLambda, true},
		{"lambda exact is not a prefix", fn(helloworld), selInvoke, rawLambda2, false},
		{"lambda qualified", fn(helloworld), selInvoke, rawLambdaQ, true},
		{"dynamodb table", basic(EventSelector{DataResources: []DataResource{{Type: "AWS::DynamoDB::Table",
			Values: []string{"arn:aws:dynamodb:us-east-1:111122223333:table/Books"}}}}),
			Event{EventSource: "dynamodb.amazonaws.com", EventName: "GetItem", EventCategory: "Data", ReadOnly: True},
			`{"resources":[{"accountId":"111122223333","type":"AWS::DynamoDB::Table","ARN":"arn:aws:dynamodb:us-east-1:111122223333:table/Books"}]}`, true},
		{"dynamodb other table", basic(EventSelector{DataResources: []DataResource{{Type: "AWS::DynamoDB::Table",
			Values: []string{"arn:aws:dynamodb:us-east-1:111122223333:table/Books"}}}}),
			Event{EventSource: "dynamodb.amazonaws.com", EventName: "GetItem", EventCategory: "Data", ReadOnly: True},
			`{"resources":[{"accountId":"111122223333","type":"AWS::DynamoDB::Table","ARN":"arn:aws:dynamodb:us-east-1:111122223333:table/BooksArchive"}]}`, false},
		{"network activity never basic", rw("All"), selVPCE, rawVPCE, false},
	})
}

// TestBasicAsAdvanced checks that a basic management selector matches like
// the advanced selector AWS converts it to.
func TestBasicAsAdvanced(t *testing.T) {
	conv := map[string]Selectors{
		"All":       mgmt(),
		"ReadOnly":  mgmt(AdvancedFieldSelector{Field: "readOnly", Equals: []string{"true"}}),
		"WriteOnly": mgmt(AdvancedFieldSelector{Field: "readOnly", Equals: []string{"false"}}),
	}
	for rwt, adv := range conv {
		b, err := basic(EventSelector{ReadWriteType: rwt}).Compile()
		if err != nil {
			t.Fatal(err)
		}
		a, err := adv.Compile()
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range []Event{selWrite, selRead, selNoReadOnly, selKMS, selOldWrite, selS3Put, selVPCE} {
			if got, want := b.Match(&ev, nil), a.Match(&ev, nil); got != want {
				t.Errorf("%s: basic Match(%+v) = %v, advanced %v", rwt, ev, got, want)
			}
		}
	}
}

func TestMatchLazyFields(t *testing.T) {
	arn := func(fs AdvancedFieldSelector) Selectors { fs.Field = "resources.ARN"; return s3Data(fs) }
	console := func(fs AdvancedFieldSelector) Selectors { fs.Field = "sessionCredentialFromConsole"; return mgmt(fs) }
	vpce := func(fs AdvancedFieldSelector) Selectors {
		fs.Field = "vpcEndpointId"
		return Selectors{AdvancedEventSelectors: []AdvancedEventSelector{{FieldSelectors: []AdvancedFieldSelector{
			{Field: "eventCategory", Equals: []string{"NetworkActivity"}},
			{Field: "eventSource", Equals: []string{"kms.amazonaws.com"}},
			fs,
		}}}}
	}
	runMatchCases(t, []matchCase{
		{"resources.type", s3Data(), selS3Put, rawS3, true},
		{"resources.type other", s3Data(), selInvoke, rawLambda, false},
		{"resources.type without raw", s3Data(), selS3Put, "", false},
		{"resources.type no resources", s3Data(), selS3Put, `{"resources":[]}`, false},
		{"resources.type null", s3Data(), selS3Put, `{"resources":null}`, false},
		{"resources.type malformed", s3Data(), selS3Put, `{"resources":[{"type":"AWS::S3::Object"}`, false},
		{"resources.ARN StartsWith", arn(AdvancedFieldSelector{StartsWith: []string{"arn:aws:s3:::mybucket/"}}), selS3Put, rawS3, true},
		{"resources.ARN StartsWith other bucket", arn(AdvancedFieldSelector{StartsWith: []string{"arn:aws:s3:::mybucket/"}}), selS3Put, rawS3Other, false},
		{"resources.ARN Equals", arn(AdvancedFieldSelector{Equals: []string{"arn:aws:s3:::mybucket/prefix/a.txt"}}), selS3Put, rawS3, true},
		// The bucket element does not start with "arn:aws:s3:::mybucket/",
		// but resources.type restricts resources.ARN to the object.
		{"resources.ARN NotStartsWith", arn(AdvancedFieldSelector{NotStartsWith: []string{"arn:aws:s3:::mybucket/"}}), selS3Put, rawS3, false},
		{"resources.ARN NotStartsWith other bucket", arn(AdvancedFieldSelector{NotStartsWith: []string{"arn:aws:s3:::mybucket/"}}), selS3Put, rawS3Other, true},
		{"resources.ARN EndsWith", arn(AdvancedFieldSelector{EndsWith: []string{".txt"}}), selS3Put, rawS3, true},
		{"resources.ARN bucket ARN ignored", arn(AdvancedFieldSelector{Equals: []string{"arn:aws:s3:::mybucket"}}), selS3Put, rawS3, false},
		{"resources.ARN any element", arn(AdvancedFieldSelector{StartsWith: []string{"arn:aws:s3:::b/"}}), selS3Put,
			`{"resources":[{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::a/x"},{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::b/y"}]}`, true},
		{"resources.ARN both kinds on one element", arn(AdvancedFieldSelector{StartsWith: []string{"arn:aws:s3:::b/"}, NotEndsWith: []string{"/y"}}), selS3Put,
			`{"resources":[{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::a/x"},{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::b/y"}]}`, false},
		{"resources.ARN and eventName", s3Data(
			AdvancedFieldSelector{Field: "eventName", Equals: []string{"PutObject", "DeleteObject"}},
			AdvancedFieldSelector{Field: "resources.ARN", StartsWith: []string{"arn:aws:s3:::mybucket/"}}), selS3Get, rawS3, false},
		{"console true", console(AdvancedFieldSelector{Equals: []string{"true"}}), selWrite, rawConsole, true},
		{"console true as boolean", console(AdvancedFieldSelector{Equals: []string{"true"}}), selWrite, `{"sessionCredentialFromConsole":true}`, true},
		{"console absent is false", console(AdvancedFieldSelector{Equals: []string{"false"}}), selWrite, `{"eventName":"RunInstances"}`, true},
		{"console absent is not true", console(AdvancedFieldSelector{Equals: []string{"true"}}), selWrite, `{"eventName":"RunInstances"}`, false},
		{"console NotEquals true", console(AdvancedFieldSelector{NotEquals: []string{"true"}}), selWrite, rawConsole, false},
		{"console without raw", console(AdvancedFieldSelector{Equals: []string{"false"}}), selWrite, "", false},
		{"console nested is not top-level", console(AdvancedFieldSelector{Equals: []string{"true"}}), selWrite,
			`{"additionalEventData":{"sessionCredentialFromConsole":"true"}}`, false},
		{"vpcEndpointId", vpce(AdvancedFieldSelector{StartsWith: []string{"vpce-0123"}}), selVPCE, rawVPCE, true},
		{"vpcEndpointId NotEquals", vpce(AdvancedFieldSelector{NotEquals: []string{"vpce-0123456789abcdef0"}}), selVPCE, rawVPCE, false},
		{"vpcEndpointId absent", vpce(AdvancedFieldSelector{NotEquals: []string{"vpce-0123456789abcdef0"}}), selVPCE, `{}`, true},
	})
}

// TestMatchParsesOnce checks that raw is parsed at most once per Match:
// three selectors that each read resources cost what one does.
func TestMatchParsesOnce(t *testing.T) {
	miss := func(prefix string) AdvancedEventSelector {
		return s3Data(AdvancedFieldSelector{Field: "resources.ARN", StartsWith: []string{prefix}}).AdvancedEventSelectors[0]
	}
	one, err := Selectors{AdvancedEventSelectors: []AdvancedEventSelector{miss("arn:aws:s3:::x/")}}.Compile()
	if err != nil {
		t.Fatal(err)
	}
	three, err := Selectors{AdvancedEventSelectors: []AdvancedEventSelector{miss("arn:aws:s3:::x/"), miss("arn:aws:s3:::y/"), miss("arn:aws:s3:::z/")}}.Compile()
	if err != nil {
		t.Fatal(err)
	}
	ev, raw := selS3Put, []byte(rawS3)
	got := testing.AllocsPerRun(100, func() { three.Match(&ev, raw) })
	want := testing.AllocsPerRun(100, func() { one.Match(&ev, raw) })
	if got != want || want == 0 {
		t.Errorf("allocations: three selectors %v, one selector %v; want equal and non-zero", got, want)
	}
}

func TestMatchAllocs(t *testing.T) {
	for name, sel := range map[string]Selectors{
		"default": {},
		"basic": basic(EventSelector{ReadWriteType: "WriteOnly", ExcludeManagementEventSources: []string{"kms.amazonaws.com"}},
			EventSelector{ReadWriteType: "ReadOnly", DataResources: []DataResource{{Type: "AWS::S3::Object", Values: []string{"arn:aws:s3"}}}}),
		"advanced": mgmt(
			AdvancedFieldSelector{Field: "eventSource", NotEquals: []string{"kms.amazonaws.com"}},
			AdvancedFieldSelector{Field: "eventName", StartsWith: []string{"Describe", "List"}},
			AdvancedFieldSelector{Field: "readOnly", Equals: []string{"true"}},
			AdvancedFieldSelector{Field: "userIdentity.arn", NotEndsWith: []string{"/admin"}}),
		// The data selector fails on eventCategory before it reaches resources.
		"advanced with a data selector": {AdvancedEventSelectors: append(
			mgmt(AdvancedFieldSelector{Field: "eventName", Equals: []string{"Nothing"}}).AdvancedEventSelectors,
			s3Data(AdvancedFieldSelector{Field: "resources.ARN", StartsWith: []string{"arn:aws:s3:::b/"}}).AdvancedEventSelectors...)},
	} {
		m, err := sel.Compile()
		if err != nil {
			t.Fatal(err)
		}
		raw := []byte(rawConsole)
		for _, ev := range []Event{selWrite, selRead, selKMS} {
			if got := testing.AllocsPerRun(100, func() { m.Match(&ev, raw) }); got != 0 {
				t.Errorf("%s: Match(%s %s) allocates %v times, want 0", name, ev.EventSource, ev.EventName, got)
			}
		}
	}
}

func BenchmarkMatch(b *testing.B) {
	bench := []struct {
		name string
		sel  Selectors
		ev   Event
		raw  string
	}{
		{"default", Selectors{}, selWrite, rawConsole},
		{"basic", basic(EventSelector{ReadWriteType: "WriteOnly", ExcludeManagementEventSources: []string{"kms.amazonaws.com", "rdsdata.amazonaws.com"}}), selWrite, rawConsole},
		{"advanced", mgmt(
			AdvancedFieldSelector{Field: "eventSource", NotEquals: []string{"kms.amazonaws.com", "rdsdata.amazonaws.com"}},
			AdvancedFieldSelector{Field: "eventName", NotStartsWith: []string{"Describe", "List", "Get"}},
			AdvancedFieldSelector{Field: "readOnly", Equals: []string{"false"}}), selWrite, rawConsole},
		{"lazy", s3Data(AdvancedFieldSelector{Field: "resources.ARN", StartsWith: []string{"arn:aws:s3:::mybucket/"}}), selS3Put, rawS3},
	}
	for _, bc := range bench {
		b.Run(bc.name, func(b *testing.B) {
			m, err := bc.sel.Compile()
			if err != nil {
				b.Fatal(err)
			}
			raw := []byte(bc.raw)
			if !m.Match(&bc.ev, raw) {
				b.Fatal("no match")
			}
			b.ReportAllocs()
			for b.Loop() {
				m.Match(&bc.ev, raw)
			}
		})
	}
}

func TestManagementOnly(t *testing.T) {
	for _, tc := range []struct {
		name string
		sel  Selectors
		want bool
	}{
		{"default", Selectors{}, true},
		{"basic management", basic(EventSelector{ReadWriteType: "WriteOnly"}), true},
		{"basic data", basic(EventSelector{}, EventSelector{DataResources: []DataResource{{Type: "AWS::S3::Object", Values: []string{"arn:aws:s3"}}}}), false},
		{"advanced management", mgmt(), true},
		{"advanced data", s3Data(), false},
		{"advanced network activity", Selectors{AdvancedEventSelectors: []AdvancedEventSelector{{FieldSelectors: []AdvancedFieldSelector{
			{Field: "eventCategory", Equals: []string{"NetworkActivity"}}, {Field: "eventSource", Equals: []string{"kms.amazonaws.com"}},
		}}}}, true},
	} {
		m, err := tc.sel.Compile()
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := m.ManagementOnly(); got != tc.want {
			t.Errorf("%s: ManagementOnly() = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestCompileCopies(t *testing.T) {
	sel := mgmt(AdvancedFieldSelector{Field: "eventName", Equals: []string{"RunInstances"}})
	m, err := sel.Compile()
	if err != nil {
		t.Fatal(err)
	}
	sel.AdvancedEventSelectors[0].FieldSelectors[1].Equals[0] = "Other"
	if !m.Match(&selWrite, nil) {
		t.Error("changing the Selectors after Compile changed the Matcher")
	}
}

func TestValidate(t *testing.T) {
	fs := func(field string, eq ...string) AdvancedFieldSelector {
		return AdvancedFieldSelector{Field: field, Equals: eq}
	}
	adv := func(name string, f ...AdvancedFieldSelector) Selectors {
		return Selectors{AdvancedEventSelectors: []AdvancedEventSelector{{Name: name, FieldSelectors: f}}}
	}
	cat := fs("eventCategory", "Management")
	data := fs("eventCategory", "Data")
	s3 := fs("resources.type", "AWS::S3::Object")
	many := func(n int) []string {
		v := make([]string, n)
		for i := range v {
			v[i] = fmt.Sprintf("arn:aws:s3:::bucket/%d", i)
		}
		return v
	}
	six := make([]EventSelector, 6)
	for _, tc := range []struct {
		name string
		sel  Selectors
		want string // substring of the error; "" for none
	}{
		{"empty", Selectors{}, ""},
		{"§8.1 example", basic(EventSelector{ReadWriteType: "All", IncludeManagementEvents: boolPtr(true),
			DataResources:                 []DataResource{{Type: "AWS::S3::Object", Values: []string{"arn:aws:s3:::mybucket/prefix"}}},
			ExcludeManagementEventSources: []string{"kms.amazonaws.com", "rdsdata.amazonaws.com"}}), ""},
		{"§8.2 example", adv("S3 writes to one bucket", data, s3, fs("eventName", "PutObject", "DeleteObject"),
			AdvancedFieldSelector{Field: "resources.ARN", StartsWith: []string{"arn:aws:s3:::mybucket/"}}), ""},
		{"management with data-store fields", adv("", cat, fs("eventName", "ConsoleLogin"), fs("eventType", "AwsConsoleSignIn"),
			AdvancedFieldSelector{Field: "userIdentity.arn", NotStartsWith: []string{"arn:aws:sts::"}}, fs("sessionCredentialFromConsole", "true")), ""},
		{"network activity", adv("", fs("eventCategory", "NetworkActivity"), fs("eventSource", "s3.amazonaws.com"),
			fs("errorCode", "VpceAccessDenied"), AdvancedFieldSelector{Field: "vpcEndpointId", NotEquals: []string{"vpce-1"}}), ""},
		{"250 data values", basic(EventSelector{DataResources: []DataResource{{Type: "AWS::S3::Object", Values: many(250)}}}), ""},
		{"500 advanced values", adv("", data, s3, AdvancedFieldSelector{Field: "resources.ARN", StartsWith: many(498)}), ""},

		{"both kinds", Selectors{EventSelectors: []EventSelector{{}}, AdvancedEventSelectors: mgmt().AdvancedEventSelectors},
			"both EventSelectors and AdvancedEventSelectors are set"},
		{"six basic selectors", Selectors{EventSelectors: six}, "EventSelectors has 6 selectors; allowed 1 to 5"},
		{"read write type", basic(EventSelector{}, EventSelector{ReadWriteType: "Both"}),
			`EventSelectors[1].ReadWriteType "Both": must be All, ReadOnly or WriteOnly`},
		{"empty excluded source", basic(EventSelector{ExcludeManagementEventSources: []string{""}}),
			"EventSelectors[0].ExcludeManagementEventSources[0] is empty"},
		{"data resource type", basic(EventSelector{DataResources: []DataResource{{Type: "AWS::S3::Bucket", Values: []string{"arn:aws:s3"}}}}),
			`EventSelectors[0].DataResources[0].Type "AWS::S3::Bucket": basic selectors support AWS::S3::Object, AWS::Lambda::Function and AWS::DynamoDB::Table`},
		{"data resource no values", basic(EventSelector{DataResources: []DataResource{{Type: "AWS::Lambda::Function"}}}),
			"EventSelectors[0].DataResources[0].Values is empty: list at least one ARN or ARN prefix such as arn:aws:lambda"},
		{"data resource wrong service", basic(EventSelector{DataResources: []DataResource{{Type: "AWS::Lambda::Function", Values: []string{"arn:aws:s3:::b/"}}}}),
			`EventSelectors[0].DataResources[0].Values[0] "arn:aws:s3:::b/": must be an ARN or ARN prefix of type AWS::Lambda::Function, starting arn:<partition>:lambda`},
		{"data resource not an ARN", basic(EventSelector{DataResources: []DataResource{{Type: "AWS::S3::Object", Values: []string{"mybucket/"}}}}),
			`Values[0] "mybucket/": must be an ARN or ARN prefix`},
		{"251 data values", basic(
			EventSelector{DataResources: []DataResource{{Type: "AWS::S3::Object", Values: many(200)}}},
			EventSelector{DataResources: []DataResource{{Type: "AWS::S3::Object", Values: many(51)}}}),
			"EventSelectors list 251 data resource values in all; at most 250 allowed"},
		{"no eventCategory", adv("mine", fs("eventName", "RunInstances")),
			`AdvancedEventSelectors[0] (Name "mine"): no eventCategory field selector; every advanced selector needs one`},
		{"no field selectors", Selectors{AdvancedEventSelectors: []AdvancedEventSelector{{}}},
			"AdvancedEventSelectors[0]: no eventCategory field selector"},
		{"eventCategory value", adv("", fs("eventCategory", "Insight")),
			`FieldSelectors[0] field "eventCategory": value "Insight": must be Management, Data or NetworkActivity`},
		{"eventCategory two values", adv("", fs("eventCategory", "Management", "Data")),
			`field "eventCategory": Equals has 2 values; give exactly one`},
		{"eventCategory operator", adv("", AdvancedFieldSelector{Field: "eventCategory", NotEquals: []string{"Data"}}),
			`field "eventCategory": NotEquals is not allowed; eventCategory accepts only Equals`},
		{"field not allowed for management", adv("", cat, fs("resources.ARN", "arn:aws:s3:::b/k")),
			`FieldSelectors[1] field "resources.ARN": not allowed with eventCategory Management; allowed fields: eventCategory, eventSource, readOnly, eventName, eventType, userIdentity.arn, sessionCredentialFromConsole`},
		{"field not allowed for data", adv("", data, s3, fs("errorCode", "AccessDenied")),
			`field "errorCode": not allowed with eventCategory Data`},
		{"field not allowed for network activity", adv("", fs("eventCategory", "NetworkActivity"), fs("eventSource", "s3.amazonaws.com"), fs("readOnly", "true")),
			`field "readOnly": not allowed with eventCategory NetworkActivity`},
		{"unknown field", adv("", cat, fs("eventname", "RunInstances")),
			`field "eventname": not allowed with eventCategory Management`},
		{"data needs resources.type", adv("", data, fs("eventName", "PutObject")),
			"eventCategory Data needs a resources.type field selector"},
		{"network activity needs eventSource", adv("", fs("eventCategory", "NetworkActivity")),
			"eventCategory NetworkActivity needs a eventSource field selector"},
		{"readOnly operator", adv("", cat, AdvancedFieldSelector{Field: "readOnly", StartsWith: []string{"t"}}),
			`field "readOnly": StartsWith is not allowed; readOnly accepts only Equals`},
		{"readOnly value", adv("", cat, fs("readOnly", "yes")),
			`field "readOnly": Equals[0] "yes": must be "true" or "false" (omit readOnly for both)`},
		{"resources.type operator", adv("", data, AdvancedFieldSelector{Field: "resources.type", Equals: []string{"AWS::S3::Object"}, NotEquals: []string{"x"}}),
			`field "resources.type": NotEquals is not allowed; resources.type accepts only Equals`},
		{"resources.type two values", adv("", data, fs("resources.type", "AWS::S3::Object", "AWS::Lambda::Function")),
			`field "resources.type": Equals has 2 values; give exactly one resource type per selector`},
		{"no operator", adv("", cat, AdvancedFieldSelector{Field: "eventName"}),
			`field "eventName": no values; give at least one value to one of Equals, StartsWith, EndsWith, NotEquals, NotStartsWith, NotEndsWith`},
		{"operators without values", adv("", cat, AdvancedFieldSelector{Field: "eventName", Equals: []string{}, NotEquals: []string{}}),
			`field "eventName": no values`},
		{"empty value", adv("", cat, AdvancedFieldSelector{Field: "eventName", NotStartsWith: []string{"Get", ""}}),
			`field "eventName": NotStartsWith[1] is empty`},
		{"duplicate field", adv("dup", cat, fs("eventName", "A"), fs("eventName", "B")),
			`AdvancedEventSelectors[0] (Name "dup"): FieldSelectors[2] field "eventName": already used by FieldSelectors[1]`},
		{"duplicate eventCategory", adv("", cat, cat),
			`FieldSelectors[1] field "eventCategory": already used by FieldSelectors[0]`},
		{"second selector named", Selectors{AdvancedEventSelectors: []AdvancedEventSelector{
			{FieldSelectors: []AdvancedFieldSelector{cat}}, {Name: "bad", FieldSelectors: []AdvancedFieldSelector{fs("readOnly", "true")}}}},
			`AdvancedEventSelectors[1] (Name "bad"): no eventCategory`},
		{"501 advanced values", adv("", data, s3, AdvancedFieldSelector{Field: "resources.ARN", StartsWith: many(499)}),
			"AdvancedEventSelectors list 501 values in all; at most 500 allowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.sel.Validate()
			_, cerr := tc.sel.Compile()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tc.want == "":
				if cerr != nil {
					t.Fatalf("Compile() = %v, want nil", cerr)
				}
			case err == nil:
				t.Fatalf("Validate() = nil, want error containing %q", tc.want)
			case !strings.Contains(err.Error(), tc.want):
				t.Fatalf("Validate() = %q, want it to contain %q", err, tc.want)
			case cerr == nil || cerr.Error() != err.Error():
				t.Fatalf("Compile() error = %v, want %v", cerr, err)
			}
		})
	}
}

func TestValidateInsightSelectors(t *testing.T) {
	for _, tc := range []struct {
		name string
		sels []InsightSelector
		want string
	}{
		{"none", nil, ""},
		{"§9.1 example", []InsightSelector{
			{InsightType: "ApiCallRateInsight", EventCategories: []string{"Management", "Data"}},
			{InsightType: "ApiErrorRateInsight", EventCategories: []string{"Management"}}}, ""},
		{"default categories", []InsightSelector{{InsightType: "ApiErrorRateInsight"}}, ""},
		{"unknown type", []InsightSelector{{InsightType: "ApiCallRate"}},
			`InsightSelectors[0].InsightType "ApiCallRate": must be ApiCallRateInsight or ApiErrorRateInsight`},
		{"type twice", []InsightSelector{{InsightType: "ApiCallRateInsight"}, {InsightType: "ApiCallRateInsight"}},
			`InsightSelectors[1].InsightType "ApiCallRateInsight": already given by InsightSelectors[0]`},
		{"unknown category", []InsightSelector{{InsightType: "ApiCallRateInsight", EventCategories: []string{"NetworkActivity"}}},
			`InsightSelectors[0].EventCategories[0] "NetworkActivity": must be Management or Data`},
		{"category twice", []InsightSelector{{InsightType: "ApiCallRateInsight", EventCategories: []string{"Data", "Data"}}},
			`InsightSelectors[0].EventCategories[1] "Data": given twice`},
	} {
		err := ValidateInsightSelectors(tc.sels)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: ValidateInsightSelectors() = %v, want nil", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: ValidateInsightSelectors() = %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
}

func TestInsightSelectorCategories(t *testing.T) {
	if diff := cmp.Diff(InsightSelector{InsightType: "ApiCallRateInsight"}.Categories(), []string{"Management"}); diff != "" {
		t.Errorf("default categories (-got +want):\n%s", diff)
	}
	given := InsightSelector{InsightType: "ApiCallRateInsight", EventCategories: []string{"Data"}}
	if diff := cmp.Diff(given.Categories(), []string{"Data"}); diff != "" {
		t.Errorf("given categories (-got +want):\n%s", diff)
	}
}

// TestSelectorsJSON decodes the examples of spec §8.1 and §8.2 and the
// output of aws cloudtrail get-event-selectors.
func TestSelectorsJSON(t *testing.T) {
	const basicJSON = `[{"ReadWriteType":"All","IncludeManagementEvents":true,
  "DataResources":[{"Type":"AWS::S3::Object","Values":["arn:aws:s3:::mybucket/prefix"]}],
  "ExcludeManagementEventSources":["kms.amazonaws.com","rdsdata.amazonaws.com"]}]`
	const advancedJSON = `[{"Name":"S3 writes to one bucket",
  "FieldSelectors":[{"Field":"eventCategory","Equals":["Data"]},{"Field":"resources.type","Equals":["AWS::S3::Object"]},
                    {"Field":"eventName","Equals":["PutObject","DeleteObject"]},
                    {"Field":"resources.ARN","StartsWith":["arn:aws:s3:::mybucket/"]}]}]`
	wantBasic := []EventSelector{{
		ReadWriteType: "All", IncludeManagementEvents: boolPtr(true),
		DataResources:                 []DataResource{{Type: "AWS::S3::Object", Values: []string{"arn:aws:s3:::mybucket/prefix"}}},
		ExcludeManagementEventSources: []string{"kms.amazonaws.com", "rdsdata.amazonaws.com"},
	}}
	wantAdvanced := []AdvancedEventSelector{{Name: "S3 writes to one bucket", FieldSelectors: []AdvancedFieldSelector{
		{Field: "eventCategory", Equals: []string{"Data"}},
		{Field: "resources.type", Equals: []string{"AWS::S3::Object"}},
		{Field: "eventName", Equals: []string{"PutObject", "DeleteObject"}},
		{Field: "resources.ARN", StartsWith: []string{"arn:aws:s3:::mybucket/"}},
	}}}

	var gotBasic []EventSelector
	if err := json.Unmarshal([]byte(basicJSON), &gotBasic); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(gotBasic, wantBasic); diff != "" {
		t.Errorf("§8.1 (-got +want):\n%s", diff)
	}
	var gotAdvanced []AdvancedEventSelector
	if err := json.Unmarshal([]byte(advancedJSON), &gotAdvanced); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(gotAdvanced, wantAdvanced); diff != "" {
		t.Errorf("§8.2 (-got +want):\n%s", diff)
	}

	// get-event-selectors wraps them with the trail ARN.
	for name, tc := range map[string]struct {
		in   string
		want Selectors
		ev   Event
		raw  string
	}{
		"basic":    {`{"TrailARN":"arn:aws:cloudtrail:us-east-1:111122223333:trail/t","EventSelectors":` + basicJSON + `}`, Selectors{EventSelectors: wantBasic}, selS3Put, rawS3},
		"advanced": {`{"TrailARN":"arn:aws:cloudtrail:us-east-1:111122223333:trail/t","AdvancedEventSelectors":` + advancedJSON + `}`, Selectors{AdvancedEventSelectors: wantAdvanced}, selS3Put, rawS3},
	} {
		var got Selectors
		if err := json.Unmarshal([]byte(tc.in), &got); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if diff := cmp.Diff(got, tc.want); diff != "" {
			t.Errorf("%s (-got +want):\n%s", name, diff)
		}
		m, err := got.Compile()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !m.Match(&tc.ev, []byte(tc.raw)) {
			t.Errorf("%s: the example rejects %s", name, tc.raw)
		}
		// Encoding gives the API's names back.
		b, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		var again Selectors
		if err := json.Unmarshal(b, &again); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(again, got); diff != "" {
			t.Errorf("%s: round trip through %s (-got +want):\n%s", name, b, diff)
		}
	}
}

func TestSelectorsYAML(t *testing.T) {
	const in = `
name: insights-trail
event_selectors:
  EventSelectors:
    - ReadWriteType: WriteOnly
      ExcludeManagementEventSources: [kms.amazonaws.com]
    - ReadWriteType: ReadOnly
      IncludeManagementEvents: false
      DataResources:
        - Type: AWS::S3::Object
          Values: ["arn:aws:s3:::mybucket/"]
insight_selectors:
  - InsightType: ApiCallRateInsight
  - InsightType: ApiErrorRateInsight
    EventCategories: [Management, Data]
`
	var got struct {
		Name             string            `yaml:"name"`
		EventSelectors   Selectors         `yaml:"event_selectors"`
		InsightSelectors []InsightSelector `yaml:"insight_selectors"`
	}
	dec := yaml.NewDecoder(strings.NewReader(in))
	dec.KnownFields(true)
	if err := dec.Decode(&got); err != nil {
		t.Fatal(err)
	}
	want := Selectors{EventSelectors: []EventSelector{
		{ReadWriteType: "WriteOnly", ExcludeManagementEventSources: []string{"kms.amazonaws.com"}},
		{ReadWriteType: "ReadOnly", IncludeManagementEvents: boolPtr(false),
			DataResources: []DataResource{{Type: "AWS::S3::Object", Values: []string{"arn:aws:s3:::mybucket/"}}}},
	}}
	if diff := cmp.Diff(got.EventSelectors, want); diff != "" {
		t.Errorf("event selectors (-got +want):\n%s", diff)
	}
	wantInsight := []InsightSelector{{InsightType: "ApiCallRateInsight"}, {InsightType: "ApiErrorRateInsight", EventCategories: []string{"Management", "Data"}}}
	if diff := cmp.Diff(got.InsightSelectors, wantInsight); diff != "" {
		t.Errorf("insight selectors (-got +want):\n%s", diff)
	}
	if err := got.EventSelectors.Validate(); err != nil {
		t.Error(err)
	}
	if err := ValidateInsightSelectors(got.InsightSelectors); err != nil {
		t.Error(err)
	}

	const advanced = `
AdvancedEventSelectors:
  - Name: Management writes, no KMS
    FieldSelectors:
      - Field: eventCategory
        Equals: [Management]
      - Field: readOnly
        Equals: ["false"]
      - Field: eventSource
        NotEquals: [kms.amazonaws.com]
`
	var adv Selectors
	dec = yaml.NewDecoder(strings.NewReader(advanced))
	dec.KnownFields(true)
	if err := dec.Decode(&adv); err != nil {
		t.Fatal(err)
	}
	wantAdv := mgmt(
		AdvancedFieldSelector{Field: "readOnly", Equals: []string{"false"}},
		AdvancedFieldSelector{Field: "eventSource", NotEquals: []string{"kms.amazonaws.com"}})
	wantAdv.AdvancedEventSelectors[0].Name = "Management writes, no KMS"
	if diff := cmp.Diff(adv, wantAdv); diff != "" {
		t.Errorf("advanced (-got +want):\n%s", diff)
	}

	// A misspelt key fails under KnownFields, as the config loader decodes.
	dec = yaml.NewDecoder(bytes.NewReader([]byte("EventSelectors:\n  - ReadWriteTyp: All\n")))
	dec.KnownFields(true)
	if err := dec.Decode(&adv); err == nil || !strings.Contains(err.Error(), "ReadWriteTyp") {
		t.Errorf("Decode(misspelt key) = %v, want an error naming ReadWriteTyp", err)
	}
}
