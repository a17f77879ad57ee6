package cloudtrail

import (
	"regexp"
	"testing"
	"time"
)

// Standard namespaces of RFC 9562 §6.6.
var (
	nsDNS = [16]byte{0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}
	nsURL = [16]byte{0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}
)

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-([0-9a-f])[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestUUIDv5(t *testing.T) {
	for _, tc := range []struct {
		name string
		ns   [16]byte
		in   string
		want string
	}{
		// RFC 9562 appendix A.4.
		{"rfc 9562 example", nsDNS, "www.example.com", "2ed6657d-e927-568b-95e1-2665a8aea6a2"},
		// Python: uuid.uuid5(uuid.NAMESPACE_DNS, "python.org").
		{"python docs example", nsDNS, "python.org", "886313e1-3b8a-5372-9b90-0c9aee199e5d"},
		// The documented derivation of the trailsight namespace.
		{"trailsight namespace", nsURL, "https://github.com/trailsight/trailsight/insights", InsightIDNamespace},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := uuidV5(tc.ns, tc.in); got != tc.want {
				t.Errorf("uuidV5(%s, %q) = %s, want %s", formatUUID(tc.ns), tc.in, got, tc.want)
			}
		})
	}
}

func TestInsightIDNamespaceBytes(t *testing.T) {
	if got := formatUUID(insightIDNamespace); got != InsightIDNamespace {
		t.Errorf("insightIDNamespace = %s, want InsightIDNamespace = %s", got, InsightIDNamespace)
	}
}

func TestInsightIDs(t *testing.T) {
	start := time.Date(2026, 1, 12, 10, 0, 0, 0, time.UTC)
	type ids struct{ shared, start, end string }
	get := func(account, region, source, name, typ, code string, at time.Time) ids {
		var r ids
		r.shared, r.start, r.end = InsightIDs(account, region, source, name, typ, code, at)
		return r
	}

	// Pinned values, computed independently with Python's uuid.uuid5 over
	// the documented name layout. A change here changes every record ID
	// trailsight has written: that must be a deliberate, versioned decision.
	for _, tc := range []struct {
		name string
		got  ids
		want ids
	}{
		{
			"error rate",
			get("111122223333", "us-east-1", "iam.amazonaws.com", "GetRolePolicy", APIErrorRateInsight, "NoSuchEntityException", start),
			ids{"c6083948-7b7e-5ee4-9eec-a1963e7b7ea2", "eee7ec96-c00b-5c82-9837-9dc9929550a2", "f8fcf1f7-348e-5e58-89a1-bc8ddc2422cb"},
		},
		{
			"call rate",
			get("111122223333", "us-east-1", "ec2.amazonaws.com", "RunInstances", APICallRateInsight, "", start),
			ids{"a918e790-d867-5815-bf00-7da8236b979b", "14c74110-f696-5cd0-83a0-729afd1bee33", "6d3145c3-00e8-5cbf-b943-dd3615e995e1"},
		},
		{
			"any instant of the start minute, any zone",
			get("111122223333", "us-east-1", "ec2.amazonaws.com", "RunInstances", APICallRateInsight, "",
				start.Add(59*time.Second+999*time.Millisecond).In(time.FixedZone("UTC+2", 2*3600))),
			ids{"a918e790-d867-5815-bf00-7da8236b979b", "14c74110-f696-5cd0-83a0-729afd1bee33", "6d3145c3-00e8-5cbf-b943-dd3615e995e1"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("InsightIDs = %+v, want %+v", tc.got, tc.want)
			}
		})
	}

	// Every input takes part in the name, and the separator keeps shifted
	// field boundaries apart: all these must give distinct IDs.
	variants := map[string]ids{
		"base":         get("111122223333", "us-east-1", "ec2.amazonaws.com", "RunInstances", APICallRateInsight, "", start),
		"account":      get("111122223334", "us-east-1", "ec2.amazonaws.com", "RunInstances", APICallRateInsight, "", start),
		"region":       get("111122223333", "us-east-2", "ec2.amazonaws.com", "RunInstances", APICallRateInsight, "", start),
		"source":       get("111122223333", "us-east-1", "ec3.amazonaws.com", "RunInstances", APICallRateInsight, "", start),
		"name":         get("111122223333", "us-east-1", "ec2.amazonaws.com", "StopInstances", APICallRateInsight, "", start),
		"type":         get("111122223333", "us-east-1", "ec2.amazonaws.com", "RunInstances", APIErrorRateInsight, "", start),
		"error code":   get("111122223333", "us-east-1", "ec2.amazonaws.com", "RunInstances", APIErrorRateInsight, "Throttling", start),
		"next minute":  get("111122223333", "us-east-1", "ec2.amazonaws.com", "RunInstances", APICallRateInsight, "", start.Add(time.Minute)),
		"shifted left": get("111122223333u", "s-east-1", "ec2.amazonaws.com", "RunInstances", APICallRateInsight, "", start),
	}
	seen := map[string]string{}
	for variant, v := range variants {
		for _, id := range []string{v.shared, v.start, v.end} {
			if m := uuidPattern.FindStringSubmatch(id); m == nil || m[1] != "5" {
				t.Errorf("%s: %q is not a version 5 RFC 9562 UUID", variant, id)
			}
			if other, dup := seen[id]; dup {
				t.Errorf("%s and %s share ID %s", variant, other, id)
			}
			seen[id] = variant
		}
	}
}

func TestNewUUIDv4(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		id := NewUUIDv4()
		if m := uuidPattern.FindStringSubmatch(id); m == nil || m[1] != "4" {
			t.Fatalf("NewUUIDv4() = %q, want a version 4 RFC 9562 UUID", id)
		}
		if seen[id] {
			t.Fatalf("NewUUIDv4() repeated %s", id)
		}
		seen[id] = true
	}
}
