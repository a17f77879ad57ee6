package datasets

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// recCtx is what placeholders may depend on while one record is rendered.
type recCtx struct {
	s     *stream
	e     *event
	a     *apiDef
	act   *actor
	sess  int
	arn   string
	t     time.Time
	reqID []byte
}

// Salts separating the values derived from an event seed.
const (
	saltEventID = 0xE1D
	saltReqID   = 0x4E0
	saltSess    = 0x5E5
	saltUA      = 0x0A
	saltIP      = 0x1B
	saltReq     = 0x2C
	saltTLS     = 0x3D
	saltSlip    = 0x511
)

var (
	instanceTypes = []string{"t3.medium", "m6i.large", "c6i.xlarge", "t3.large", "m7g.large", "r6i.large", "c7g.2xlarge"}
	volSizes      = []string{"8", "20", "50", "100", "200", "500"}
	ports         = []string{"22", "443", "5432", "8080", "3306", "6379"}
	tagKeys       = []string{"Name", "team", "owner", "cost-center", "env", "service"}
	objPrefixes   = []string{"data/", "uploads/", "exports/", "tmp/", "events/"}
	objSuffixes   = []string{".parquet", ".json", ".csv.gz", ".avro", ".json.gz"}
)

func pick(list []string, v uint64) string { return list[v%uint64(len(list))] }

// appendPH appends the value of placeholder p.
func (c *recCtx) appendPH(b []byte, p ph) []byte {
	s, res, e := c.s, c.s.res, c.e
	v := mix2(e.seed, uint64(p))
	switch p {
	case phAcct:
		return append(b, s.acct.ID...)
	case phRegion:
		return append(b, s.region...)
	case phTime:
		return c.t.AppendFormat(b, "2006-01-02T15:04:05Z")
	case phTimeH:
		return c.t.AppendFormat(b, "Jan 2, 2006, 3:04:05 PM")
	case phTimeMS:
		return c.t.Add(time.Duration(v%1000)*time.Millisecond).AppendFormat(b, "2006-01-02T15:04:05.000+0000")
	case phEpochMS:
		return strconv.AppendInt(b, e.t*1000+int64(v%1000), 10)
	case phDate:
		return c.t.AppendFormat(b, "20060102")
	case phDateDash:
		return c.t.AppendFormat(b, "2006-01-02")
	case phDatePath:
		return c.t.AppendFormat(b, "2006/01/02")
	case phReqID:
		return append(b, c.reqID...)
	case phARN:
		return append(b, c.arn...)
	case phSess:
		if c.act.kind == akRole {
			return append(b, c.act.sessions[c.sess]...)
		}
		return append(b, c.act.user...)
	case phSvcID:
		return append(b, c.a.svc...)
	case phCmd:
		return append(append(append(b, c.a.svc...), '.'), kebab(c.a.name)...)
	case phAction:
		svc := c.a.svc
		if svc == "monitoring" {
			svc = "cloudwatch"
		}
		name := c.a.name
		if i := strings.IndexAny(name, "0123456789"); i > 0 {
			name = name[:i]
		}
		return append(append(append(b, svc...), ':'), name...)
	case phInst, phInst2:
		return append(b, pick(res.instances, v)...)
	case phNewInst:
		return appendChars(append(b, "i-0"...), v, 16, hexDigits)
	case phAMI:
		return append(b, pick(res.amis, v)...)
	case phIType:
		return append(b, pick(instanceTypes, v)...)
	case phSG:
		return append(b, pick(res.sgs, v)...)
	case phSubnet:
		return append(b, pick(res.subnets, v)...)
	case phVPC:
		return append(b, pick(res.vpcs, v)...)
	case phAZ:
		return append(b, pick(res.azs, v)...)
	case phVol:
		return append(b, pick(res.volumes, v)...)
	case phNewVol:
		return appendChars(append(b, "vol-0"...), v, 16, hexDigits)
	case phNewSnap:
		return appendChars(append(b, "snap-0"...), v, 16, hexDigits)
	case phVolSize:
		return append(b, pick(volSizes, v)...)
	case phIP:
		return strconv.AppendInt(append(b, "198.51.100."...), int64(2+v%250), 10)
	case phO1, phO2, phO3:
		return strconv.AppendInt(b, int64(v%254+1), 10)
	case phSessIP:
		name := c.act.user
		if len(c.act.sessions) > 0 {
			name = c.act.sessions[c.sess]
		}
		h := hashString(name, 7)
		b = append(b, "10-0-"...)
		b = strconv.AppendInt(b, int64(h%64), 10)
		b = append(b, '-')
		return strconv.AppendInt(b, int64(h>>8%254+1), 10)
	case phPort:
		return append(b, pick(ports, v)...)
	case phCIDR:
		b = strconv.AppendInt(append(b, "10."...), int64(v%250), 10)
		return append(b, ".0.0/16"...)
	case phBucket:
		return append(b, pick(res.buckets, v)...)
	case phObjKey:
		b = append(b, pick(objPrefixes, v)...)
		b = c.t.AppendFormat(b, "2006/01/02/")
		b = appendChars(b, v>>7, 12, hexDigits)
		return append(b, pick(objSuffixes, v>>3)...)
	case phXAmzID2:
		return append(appendChars(b, v, 76, base62), '=')
	case phFn:
		return append(b, pick(res.functions, v)...)
	case phStack:
		return append(b, pick(res.stacks, mix2(e.seed, uint64(phStack)))...)
	case phStackID:
		return append(b, pick(res.stackIDs, mix2(e.seed, uint64(phStack)))...)
	case phCluster:
		return append(b, pick(res.clusters, v)...)
	case phService:
		return append(b, pick(res.services, v)...)
	case phTaskFam:
		return append(b, pick(res.taskFams, v)...)
	case phRev:
		return strconv.AppendInt(b, int64(1+v%400), 10)
	case phTaskID:
		return append(b, pick(res.taskIDs, v)...)
	case phTG:
		return append(b, pick(res.tgs, mix2(e.seed, uint64(phTG)))...)
	case phTGID:
		return append(b, pick(res.tgIDs, mix2(e.seed, uint64(phTG)))...)
	case phRepo:
		return append(b, pick(res.repos, v)...)
	case phRole:
		if e.flags&flagNewNames != 0 {
			return c.appendPH(b, phNewRole)
		}
		return append(b, pick(res.roles, v)...)
	case phNewRole:
		n := e.seed >> 8
		return appendChars(append(append(b, pick(res.svcs, mix(n))...), '-'), n, 6, lowerAlnum)
	case phUser:
		if e.flags&flagNewNames != 0 {
			return c.appendPH(b, phNewUser)
		}
		return append(b, pick(res.users, v)...)
	case phNewUser:
		n := e.seed >> 8
		return appendChars(append(append(b, "svc-"...), pick(res.svcs, mix(n))...), n, 4, lowerAlnum)
	case phGroup:
		return append(b, pick(res.groups, v)...)
	case phPolicyARN:
		if e.flags&flagNewNames != 0 {
			return append(b, "arn:aws:iam::aws:policy/AdministratorAccess"...)
		}
		return append(b, pick(res.policyARNs, v)...)
	case phTeam:
		return append(b, pick(res.teams, v)...)
	case phSvc:
		return append(b, pick(res.svcs, v)...)
	case phEnv:
		return append(b, res.env...)
	case phTagKey:
		return append(b, pick(tagKeys, v)...)
	case phTagVal:
		return append(b, pick(res.svcs, v)...)
	case phLogGroup:
		return append(b, pick(res.logGroups, v)...)
	case phKMS:
		return append(b, pick(res.kmsKeys, v)...)
	case phSecret:
		return append(b, pick(res.secrets, mix2(e.seed, uint64(phSecret)))...)
	case phSfx6:
		return append(b, pick(res.sfx, mix2(e.seed, uint64(phSecret)))...)
	case phParam:
		return append(b, pick(res.params, v)...)
	case phDB:
		return append(b, pick(res.dbs, v)...)
	case phGlueJob:
		return append(b, pick(res.glueJobs, v)...)
	case phZone:
		return append(b, pick(res.zones, v)...)
	case phDomain:
		return append(b, res.domain...)
	case phASG:
		return append(b, pick(res.asgs, v)...)
	case phHook:
		if v%2 == 0 {
			return append(b, "launch-hook"...)
		}
		return append(b, "terminate-hook"...)
	case phAlarm:
		return append(b, pick(res.alarms, v)...)
	case phRule:
		return append(b, pick(res.rules, v)...)
	case phUUID, phUUID2:
		return appendUUID(b, v)
	case phHex8:
		return appendChars(b, v, 8, hexDigits)
	case phHex16:
		return appendChars(b, v, 16, hexDigits)
	case phHex32:
		return appendChars(b, v, 32, hexDigits)
	case phHex64:
		return appendChars(appendChars(b, v, 32, hexDigits), v^0xabcdef, 32, hexDigits)
	case phUp9:
		return appendChars(b, v, 9, upperAlnum)
	case phUp16:
		return appendChars(b, v, 16, upperAlpha)
	case phUp17:
		return appendChars(b, v, 17, upperAlpha)
	case phUp20:
		return appendChars(b, v, 20, upperAlnum)
	case phN:
		return strconv.AppendInt(b, int64(1+v%5), 10)
	case phN100:
		return strconv.AppendInt(b, int64(1+v%400), 10)
	case phNBig:
		return strconv.AppendInt(b, int64(100000+v%9900000), 10)
	case phHost:
		return c.appendHost(b)
	}
	panic("BUG: datasets: placeholder without a value")
}

// appendHost appends the endpoint a call was sent to (tlsDetails).
func (c *recCtx) appendHost(b []byte) []byte {
	a := c.a
	switch a.svc {
	case "iam", "sts", "route53":
		return append(append(b, a.svc...), ".amazonaws.com"...)
	case "signin":
		return append(b, "signin.aws.amazon.com"...)
	case "s3":
		if a.name != "ListBuckets" {
			b = c.appendPH(b, phBucket)
			b = append(b, '.')
		}
		return append(append(append(b, "s3."...), c.s.region...), ".amazonaws.com"...)
	case "ecr":
		b = append(b, "api."...)
	}
	return append(append(append(append(b, a.svc...), '.'), c.s.region...), ".amazonaws.com"...)
}

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			b = append(b, c)
			i++
			continue
		}
		if c < utf8.RuneSelf {
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			continue
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		b = append(b, s[i:i+size]...)
		i += size
	}
	return append(b, '"')
}

// appendTmplString expands t as the content of a JSON string.
func appendTmplString(b []byte, t *tmpl, c *recCtx, scratch []byte) ([]byte, []byte) {
	scratch = t.appendTo(scratch[:0], c)
	return appendString(b, string(scratch)), scratch
}

// renderer renders records of one stream; it holds scratch buffers and is
// used by one goroutine at a time.
type renderer struct {
	s       *stream
	scratch []byte
}

// appendRecord appends the JSON text of e.
func (rd *renderer) appendRecord(b []byte, e *event) []byte {
	s := rd.s
	cat := s.g.cat
	a := cat.apis[e.api]
	act := s.actors[e.actor]
	c := recCtx{s: s, e: e, a: a, act: act, t: time.Unix(e.t, 0).UTC()}
	if act.kind == akRole && len(act.sessions) > 1 {
		c.sess = int(mix2(e.seed, saltSess) % uint64(len(act.sessions)))
	}
	c.arn = act.arn(s.acct.ID, c.sess)
	if a.svc == "s3" {
		c.reqID = appendChars(make([]byte, 0, 16), mix2(e.seed, saltReqID), 16, upperHexSet)
	} else {
		c.reqID = appendUUID(make([]byte, 0, 36), mix2(e.seed, saltReqID))
	}

	b = append(b, `{"eventVersion":"`...)
	b = append(b, a.version...)
	b = append(b, `","userIdentity":`...)
	b = rd.appendIdentity(b, &c)
	b = append(b, `,"eventTime":"`...)
	b = c.t.AppendFormat(b, "2006-01-02T15:04:05Z")
	b = append(b, `","eventSource":"`...)
	b = append(b, a.source...)
	b = append(b, `","eventName":"`...)
	b = append(b, a.name...)
	b = append(b, `","awsRegion":"`...)
	b = append(b, s.region...)
	b = append(b, `","sourceIPAddress":`...)
	b = appendString(b, pick(act.ips, mix2(e.seed, saltIP)))
	b = append(b, `,"userAgent":`...)
	ua := act.uas[mix2(e.seed, saltUA)%uint64(len(act.uas))]
	b, rd.scratch = appendTmplString(b, ua, &c, rd.scratch)
	failed := e.err != 0
	if failed {
		code := cat.errCodes[e.err-1]
		b = append(b, `,"errorCode":`...)
		b = appendString(b, code)
		if t := cat.errMessage(a, code); t != nil && t.src != "" {
			b = append(b, `,"errorMessage":`...)
			b, rd.scratch = appendTmplString(b, t, &c, rd.scratch)
		}
	}
	if e.flags&flagLoginFailure != 0 {
		b = append(b, `,"errorMessage":"Failed authentication"`...)
	}
	b = append(b, `,"requestParameters":`...)
	if len(a.req) == 0 {
		b = append(b, "null"...)
	} else {
		b = a.req[mix2(e.seed, saltReq)%uint64(len(a.req))].appendTo(b, &c)
	}
	b = append(b, `,"responseElements":`...)
	switch {
	case e.flags&flagLoginFailure != 0:
		b = append(b, `{"ConsoleLogin":"Failure"}`...)
	case failed || a.readOnly || a.resp == nil:
		b = append(b, "null"...)
	default:
		b = a.resp.appendTo(b, &c)
	}
	if a.extra != nil {
		b = append(b, `,"additionalEventData":`...)
		b = a.extra.appendTo(b, &c)
	}
	b = append(b, `,"requestID":"`...)
	b = append(b, c.reqID...)
	b = append(b, `","eventID":"`...)
	b = appendUUID(b, mix2(e.seed, saltEventID))
	b = append(b, `","readOnly":`...)
	b = strconv.AppendBool(b, a.readOnly)
	if a.resources != nil {
		b = append(b, `,"resources":`...)
		b = a.resources.appendTo(b, &c)
	}
	b = append(b, `,"eventType":"`...)
	if a.eventType != "" {
		b = append(b, a.eventType...)
	} else {
		b = append(b, "AwsApiCall"...)
	}
	b = append(b, `","managementEvent":`...)
	b = strconv.AppendBool(b, !a.data)
	b = append(b, `,"recipientAccountId":"`...)
	b = append(b, s.acct.ID...)
	b = append(b, '"')
	if a.svcEvent != nil {
		b = append(b, `,"serviceEventDetails":`...)
		b = a.svcEvent.appendTo(b, &c)
	}
	b = append(b, `,"eventCategory":"`...)
	if a.data {
		b = append(b, "Data"...)
	} else {
		b = append(b, "Management"...)
	}
	b = append(b, '"')
	if !act.noTLS && a.eventType == "" {
		h := mix2(e.seed, saltTLS)
		if hashString(ua.src, 9)%4 == 0 {
			b = append(b, `,"tlsDetails":{"tlsVersion":"TLSv1.2","cipherSuite":"ECDHE-RSA-AES128-GCM-SHA256","clientProvidedHostHeader":"`...)
		} else if h%16 == 0 {
			b = append(b, `,"tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_256_GCM_SHA384","clientProvidedHostHeader":"`...)
		} else {
			b = append(b, `,"tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"`...)
		}
		b = c.appendHost(b)
		b = append(b, `"}`...)
	}
	if act.console && a.eventType == "" {
		b = append(b, `,"sessionCredentialFromConsole":"true"`...)
	}
	if e.flags&flagAddendum != 0 {
		b = append(b, `,"addendum":{"reason":"DELIVERY_DELAY"}`...)
	}
	return append(b, '}')
}

// appendIdentity appends the userIdentity object.
func (rd *renderer) appendIdentity(b []byte, c *recCtx) []byte {
	act, acct, e := c.act, c.s.acct.ID, c.e
	signIn := c.a.eventType == "AwsConsoleSignIn"
	switch act.kind {
	case akService:
		return append(append(append(b, `{"type":"AWSService","invokedBy":"`...), act.invokedBy...), `"}`...)
	case akServiceEvt:
		b = append(append(append(b, `{"accountId":"`...), acct...), `","invokedBy":"`...)
		return append(append(b, act.invokedBy...), `"}`...)
	case akUser:
		b = append(b, `{"type":"IAMUser","principalId":"`...)
		b = append(b, act.userID...)
		b = append(b, `","arn":"`...)
		b = append(b, c.arn...)
		b = append(b, `","accountId":"`...)
		b = append(b, acct...)
		if !signIn {
			b = append(b, `","accessKeyId":"`...)
			if act.akia != "" {
				b = append(b, act.akia...)
			} else {
				b = appendChars(append(b, "ASIA"...), hashString(act.user, uint64(e.t/3600)), 16, upperAlpha)
			}
		}
		b = append(b, `","userName":"`...)
		b = append(b, act.user...)
		b = append(b, '"')
		if act.akia == "" && !signIn {
			b = append(b, `,"sessionContext":{"sessionIssuer":{},"webIdFederationData":{},"attributes":{"creationDate":"`...)
			b = time.Unix(e.t-e.t%3600, 0).UTC().AppendFormat(b, "2006-01-02T15:04:05Z")
			b = append(b, `","mfaAuthenticated":"`...)
			b = strconv.AppendBool(b, act.mfa)
			b = append(b, `"}}`...)
		}
		return append(b, '}')
	}
	sess := act.sessions[c.sess]
	// Session credentials are renewed every hour (every 6 hours for
	// instance profiles), at an offset particular to each session.
	period := int64(3600)
	if act.ec2Role {
		period = 6 * 3600
	}
	off := int64(hashString(act.role+"/"+sess, 8) % uint64(period))
	created := e.t - (e.t+off)%period
	b = append(b, `{"type":"AssumedRole","principalId":"`...)
	b = append(append(append(b, act.roleID...), ':'), sess...)
	b = append(b, `","arn":"`...)
	b = append(b, c.arn...)
	b = append(b, `","accountId":"`...)
	b = append(b, acct...)
	if !signIn {
		b = append(b, `","accessKeyId":"`...)
		b = appendChars(append(b, "ASIA"...), hashString(act.role+"/"+sess, uint64(created)), 16, upperAlpha)
	}
	b = append(b, `","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"`...)
	b = append(b, act.roleID...)
	b = append(b, `","arn":"arn:aws:iam::`...)
	b = append(b, acct...)
	b = append(b, ":role"...)
	b = append(b, act.rolePath...)
	b = append(b, act.role...)
	b = append(b, `","accountId":"`...)
	b = append(b, acct...)
	b = append(b, `","userName":"`...)
	b = append(b, act.role...)
	b = append(b, `"},"webIdFederationData":{},"attributes":{"creationDate":"`...)
	b = time.Unix(created, 0).UTC().AppendFormat(b, "2006-01-02T15:04:05Z")
	b = append(b, `","mfaAuthenticated":"`...)
	b = strconv.AppendBool(b, act.mfa)
	b = append(b, '"', '}')
	if act.ec2Role {
		b = append(b, `,"ec2RoleDelivery":"2.0"`...)
	}
	b = append(b, '}')
	if act.invokedBy != "" {
		b = append(append(append(b, `,"invokedBy":"`...), act.invokedBy...), '"')
	}
	return append(b, '}')
}
