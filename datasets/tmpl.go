package datasets

import (
	"fmt"
	"strings"
)

// A tmpl is a JSON (or plain text) fragment with ${name} placeholders,
// compiled once. Placeholder values are pure functions of the event being
// rendered (its seed, time, caller and stream), so the same event always
// renders to the same bytes and a placeholder used twice in one record has
// the same value both times.
type tmpl struct {
	src  string
	segs []seg
}

type seg struct {
	lit string
	ph  ph // 0: literal only
}

// ph names a placeholder. Values are produced by recCtx.appendPH.
type ph uint8

const (
	_ ph = iota
	phAcct
	phRegion
	phTime     // 2006-01-02T15:04:05Z
	phTimeH    // Jan 2, 2006, 3:04:05 PM
	phTimeMS   // 2006-01-02T15:04:05.000+0000
	phEpochMS  // Unix milliseconds
	phDate     // 20060102
	phDateDash // 2006-01-02
	phDatePath // 2006/01/02
	phReqID
	phARN
	phSess
	phSvcID
	phCmd
	phAction
	phInst
	phInst2
	phNewInst
	phAMI
	phIType
	phSG
	phSubnet
	phVPC
	phAZ
	phVol
	phNewVol
	phNewSnap
	phVolSize
	phIP
	phO1
	phO2
	phO3
	phSessIP
	phPort
	phCIDR
	phBucket
	phObjKey
	phXAmzID2
	phFn
	phStack
	phStackID
	phCluster
	phService
	phTaskFam
	phRev
	phTaskID
	phTG
	phTGID
	phRepo
	phRole
	phNewRole
	phUser
	phNewUser
	phGroup
	phPolicyARN
	phTeam
	phSvc
	phEnv
	phTagKey
	phTagVal
	phLogGroup
	phKMS
	phSecret
	phSfx6
	phParam
	phDB
	phGlueJob
	phZone
	phDomain
	phASG
	phHook
	phAlarm
	phRule
	phUUID
	phUUID2
	phHex8
	phHex16
	phHex32
	phHex64
	phUp9
	phUp16
	phUp17
	phUp20
	phN
	phN100
	phNBig
	phHost
)

var phNames = map[string]ph{
	"acct": phAcct, "region": phRegion, "time": phTime, "timeh": phTimeH, "timems": phTimeMS,
	"epochms": phEpochMS, "date": phDate, "dated": phDateDash, "datepath": phDatePath,
	"reqid": phReqID, "arn": phARN, "sess": phSess, "svcid": phSvcID, "cmd": phCmd, "action": phAction,
	"inst": phInst, "inst2": phInst2, "newinst": phNewInst, "ami": phAMI, "itype": phIType, "sg": phSG,
	"subnet": phSubnet, "vpc": phVPC, "az": phAZ, "vol": phVol, "newvol": phNewVol, "newsnap": phNewSnap,
	"volsize": phVolSize, "ip": phIP, "o1": phO1, "o2": phO2, "o3": phO3, "sessip": phSessIP,
	"port": phPort, "cidr": phCIDR, "bucket": phBucket, "objkey": phObjKey, "xamzid2": phXAmzID2,
	"fn": phFn, "stack": phStack, "stackid": phStackID, "cluster": phCluster, "service": phService,
	"taskfam": phTaskFam, "rev": phRev, "taskid": phTaskID, "tg": phTG, "tgid": phTGID, "repo": phRepo,
	"role": phRole, "newrole": phNewRole, "user": phUser, "newuser": phNewUser, "group": phGroup,
	"policyarn": phPolicyARN, "team": phTeam, "svc": phSvc, "env": phEnv, "tagkey": phTagKey,
	"tagval": phTagVal, "lg": phLogGroup, "kms": phKMS, "secret": phSecret, "sfx6": phSfx6,
	"param": phParam, "db": phDB, "gluejob": phGlueJob, "zone": phZone, "domain": phDomain,
	"asg": phASG, "hook": phHook, "alarm": phAlarm, "rule": phRule, "uuid": phUUID, "uuid2": phUUID2,
	"hex8": phHex8, "hex16": phHex16, "hex32": phHex32, "hex64": phHex64, "up9": phUp9,
	"up16": phUp16, "up17": phUp17, "up20": phUp20, "n": phN, "n100": phN100, "nbig": phNBig,
	"host": phHost,
}

// compile parses src. An unknown placeholder is a programming error in the
// static catalogue, reported with a panic.
func compile(src string) *tmpl {
	t := &tmpl{src: src}
	rest := src
	for {
		i := strings.Index(rest, "${")
		if i < 0 {
			t.segs = append(t.segs, seg{lit: rest})
			return t
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			panic(fmt.Sprintf("BUG: datasets: unterminated placeholder in %q", src))
		}
		name := rest[i+2 : i+j]
		p, ok := phNames[name]
		if !ok {
			panic(fmt.Sprintf("BUG: datasets: unknown placeholder ${%s} in %q", name, src))
		}
		t.segs = append(t.segs, seg{lit: rest[:i], ph: p})
		rest = rest[i+j+1:]
	}
}

// compileAll compiles each source; empty input gives nil.
func compileAll(srcs ...string) []*tmpl {
	var out []*tmpl
	for _, s := range srcs {
		out = append(out, compile(s))
	}
	return out
}

// appendTo expands t into b.
func (t *tmpl) appendTo(b []byte, c *recCtx) []byte {
	for _, s := range t.segs {
		b = append(b, s.lit...)
		if s.ph != 0 {
			b = c.appendPH(b, s.ph)
		}
	}
	return b
}
