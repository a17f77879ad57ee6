package datasets

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/trailsight/trailsight/cloudtrail"
)

// Spacing rules for planted windows, in minutes.
const (
	padSameKey  = 60 // between two incidents on one API
	padDelivery = 30 // between a delivery trap and any labelled anomaly
	tailMargin  = 30 // an incident ends at least this long before the dataset
)

// conflicts reports whether a window on api (-1: a delivery trap) would
// overlap an earlier one it must stay clear of.
func (s *stream) conflicts(api int, anomaly bool, from, to int) bool {
	for _, b := range s.busy {
		pad := padSameKey
		if api < 0 || b.api < 0 {
			pad = padDelivery
		}
		if b.to+pad <= from || to+pad <= b.from {
			continue
		}
		switch {
		case api >= 0 && b.api == api:
			return true
		case api < 0 && (b.api < 0 || b.labelled):
			return true
		case b.api < 0 && anomaly:
			return true
		}
	}
	return false
}

// pickWindow draws a start minute for an incident of dur minutes after
// warm-up that conflicts with nothing on apis.
func (s *stream) pickWindow(r *rand.Rand, dur int, apis []int, anomaly bool, align int) (int, bool) {
	lo, hi := s.warm, s.minutes-dur-tailMargin
	if hi < lo {
		return 0, false
	}
	for range 300 {
		from := lo + r.IntN(hi-lo+1)
		from -= from % align
		if from < lo {
			from += align
		}
		ok := true
		for _, a := range apis {
			if s.conflicts(a, anomaly, from, from+dur) {
				ok = false
				break
			}
		}
		if ok {
			return from, true
		}
	}
	return 0, false
}

func (s *stream) occupy(api int, labelled bool, from, to int) {
	s.busy = append(s.busy, busyWindow{api: api, from: from, to: to, labelled: labelled})
}

func (s *stream) kind(k string) *KindCount {
	kc := s.kinds[k]
	if kc == nil {
		kc = &KindCount{}
		s.kinds[k] = kc
	}
	return kc
}

func (s *stream) skip(kind, why string) {
	s.skipped = append(s.skipped, fmt.Sprintf("%s %s %s: %s", s.acct.ID, s.region, kind, why))
}

// newGroup starts an incident and returns its group name.
func (s *stream) newGroup(kind string) string {
	s.groups++
	s.kind(kind).Incidents++
	return fmt.Sprintf("%s-%s-g%02d", s.acct.ID, s.region, s.groups)
}

func (s *stream) minuteTime(m int) time.Time { return time.Unix(s.start+int64(m)*60, 0).UTC() }

// addLabel records a label. api < 0 means the label names no API.
func (s *stream) addLabel(kind, group string, api int, typ, code string, from, to int, principal string) {
	l := Label{Account: s.acct.ID, Region: s.region, Type: typ, ErrorCode: code, Kind: kind,
		Trap: typ == "", Start: s.minuteTime(from), End: s.minuteTime(to), Principal: principal, Group: group}
	if api >= 0 {
		a := s.g.cat.apis[api]
		l.EventSource, l.EventName = a.source, a.name
	}
	s.labels = append(s.labels, l)
	s.kind(kind).Labels++
	s.occupy(api, typ != "", from, to)
}

// baseline is the per-minute rate of api over [from, from+dur) in normal
// times: the larger of the 7-day average of the same window and the same
// window a week earlier.
func (s *stream) baseline(api uint16, from, dur int) float64 {
	c := s.counts(api, nil)
	var tot, days int
	var week float64
	for d := 1; d <= 7; d++ {
		f := from - d*1440
		if f < 0 {
			break
		}
		n := sum(c, f, f+dur)
		tot += n
		days++
		if d == 7 {
			week = float64(n) / float64(dur)
		}
	}
	if days == 0 {
		return 0
	}
	return max(float64(tot)/float64(days*dur), week)
}

// spike adds Poisson calls of api by actor at rate per minute over
// [from, from+dur) and returns how many it added.
func (s *stream) spike(r *rand.Rand, api, actor, proc uint16, rate float64, from, dur int) int {
	n0 := len(s.events)
	for m := from; m < from+dur; m++ {
		for range poisson(r, rate) {
			s.emitOK(r, s.start+int64(m)*60+int64(r.IntN(60)), api, actor, proc, 0)
		}
	}
	return len(s.events) - n0
}

// remove deletes the events for which drop returns true and returns how
// many it deleted.
func (s *stream) remove(drop func(*event) bool) int {
	n0 := len(s.events)
	s.events = slices.DeleteFunc(s.events, func(e event) bool { return drop(&e) })
	return n0 - len(s.events)
}

func ints(ids ...uint16) []int {
	out := make([]int, len(ids))
	for i, id := range ids {
		out[i] = int(id)
	}
	return out
}

// newActor registers a principal never seen before in this account, using
// one of the given user agents.
func (s *stream) newActor(r *rand.Rand, user bool, uas []string) uint16 {
	s.newSeq++
	uas = uas[r.IntN(len(uas)):][:1]
	ip := fmt.Sprintf("%s%d", []string{"192.0.2.", "198.51.100.", "203.0.113."}[r.IntN(3)], between(r, 2, 254))
	words := []string{"backup", "sync", "migration", "ops", "jenkins", "support", "audit", "deploy"}
	name := fmt.Sprintf("%s-%s-%d%d", words[r.IntN(len(words))], []string{"svc", "legacy", "tmp", "admin"}[r.IntN(4)], between(r, 1, 9), s.newSeq)
	if user {
		return s.addActor(userActor(s.acct.ID, name, uas, []string{ip}))
	}
	role := []string{"OrganizationAccountAccessRole", "AdminRole", "BreakGlassRole", "vendor-support-access"}[r.IntN(4)]
	return s.addActor(roleActor(s.acct.ID, role, "/", []string{name + "-" + chars(r.Uint64(), 6, lowerAlnum)}, uas, []string{ip}))
}

var attackerUAs = []string{
	"aws-cli/1.18.69 Python/3.8.10 Linux/5.4.0-146-generic botocore/1.16.19",
	"Boto3/1.9.201 Python/2.7.18 Linux/4.15.0-1065-aws Botocore/1.12.201",
	"aws-sdk-go/1.44.180 (go1.19.4; linux; amd64)",
}

// planLevelShift makes a lasting change to a steady writing client's rate
// after warm-up. It runs before the normal traffic is generated.
func (s *stream) planLevelShift() {
	r := s.rng(fmt.Sprintf("plant/%s/%d", KindLevelShift, s.kind(KindLevelShift).Incidents+len(s.skipped)))
	cat := s.g.cat
	var cands []*steadySeries
	for _, ss := range s.steady {
		if !cat.apis[ss.api].readOnly && ss.base >= 0.2 && ss.shiftAt < 0 {
			cands = append(cands, ss)
		}
	}
	if len(cands) == 0 {
		s.skip(KindLevelShift, "no steady writing client")
		return
	}
	ss := cands[r.IntN(len(cands))]
	at, ok := s.pickWindow(r, 360, []int{int(ss.api)}, false, 1)
	if !ok {
		s.skip(KindLevelShift, "no room")
		return
	}
	ss.shiftAt, ss.shiftF = at, uniform(r, 1.4, 1.8)
	if r.IntN(2) == 0 {
		ss.shiftF = uniform(r, 0.6, 0.7)
	}
	g := s.newGroup(KindLevelShift)
	s.addLabel(KindLevelShift, g, int(ss.api), "", "", at, min(at+1440, s.minutes), s.actors[ss.actor].principal(s.acct.ID))
}

// plant plants one incident of kind.
func (s *stream) plant(kind string, c *cast) {
	r := s.rng(fmt.Sprintf("plant/%s/%d", kind, s.kind(kind).Incidents+len(s.skipped)))
	switch kind {
	case KindPeriodicGap:
		s.plantGap(r)
	case KindSteadyDrop:
		s.plantDrop(r)
	case KindErrorSurgeWrite:
		s.plantErrorSurge(r, kind, false)
	case KindErrorSurgeRead:
		s.plantErrorSurge(r, kind, true)
	case KindProvisioningSpike:
		s.plantProvisioning(r, c)
	case KindIAMBurst:
		s.plantIAMBurst(r)
	case KindTrapReadOnly:
		s.plantReadOnlyTrap(r)
	case KindTrapData:
		s.plantDataTrap(r, c)
	case KindTrapLate:
		s.plantLate(r)
	case KindTrapDuplicate:
		s.plantDuplicate(r)
	}
}

// plantGap stops a scheduled writing job for 1-4 hours.
func (s *stream) plantGap(r *rand.Rand) {
	cat := s.g.cat
	var cands []*cronJob
	for _, j := range s.crons {
		if j.period >= 5 && j.period <= 60 && len(j.writeAPIs(cat)) > 0 {
			cands = append(cands, j)
		}
	}
	if len(cands) == 0 {
		s.skip(KindPeriodicGap, "no scheduled writing job")
		return
	}
	j := cands[r.IntN(len(cands))]
	writes := ints(j.writeAPIs(cat)...)
	dur := between(r, max(60, 2*j.period), 240)
	from, ok := s.pickWindow(r, dur+j.period, writes, true, 1)
	if !ok {
		s.skip(KindPeriodicGap, "no room")
		return
	}
	first := from + ((j.offset-from)%j.period+j.period)%j.period
	last := first
	for last+j.period < from+dur {
		last += j.period
	}
	end := last + j.period
	lo, hi := s.start+int64(first)*60, s.start+int64(end)*60
	n := s.remove(func(e *event) bool { return e.proc == j.proc && e.t >= lo && e.t < hi })
	g := s.newGroup(KindPeriodicGap)
	s.kind(KindPeriodicGap).Events += n
	for _, api := range writes {
		s.addLabel(KindPeriodicGap, g, api, cloudtrail.APICallRateInsight, "", first, end, "")
	}
}

// plantDrop thins a steady writing client to at most 20% of its calls for
// 30-120 minutes.
func (s *stream) plantDrop(r *rand.Rand) {
	cat := s.g.cat
	var cands []*steadySeries
	for _, ss := range s.steady {
		if !cat.apis[ss.api].readOnly && ss.base >= 0.3 {
			cands = append(cands, ss)
		}
	}
	if len(cands) == 0 {
		s.skip(KindSteadyDrop, "no steady writing client")
		return
	}
	expect := func(ss *steadySeries, from, to int) float64 {
		var v float64
		for m := from; m < to; m++ {
			v += s.rate(ss, m)
		}
		return v
	}
	for range 20 {
		ss := cands[r.IntN(len(cands))]
		dur := between(r, 30, 120)
		from, ok := s.pickWindow(r, dur, []int{int(ss.api)}, true, 1)
		if !ok || expect(ss, from, from+dur)/float64(dur) < 0.4 {
			continue
		}
		// Instance agents fail together; series too thin to show the drop
		// (under 10 expected calls) are left alone.
		group := []*steadySeries{ss}
		for _, o := range s.steady {
			if o != ss && ss.prof == profFleet && o.prof == profFleet && o.actor == ss.actor &&
				expect(o, from, from+dur) >= 10 && !s.conflicts(int(o.api), true, from, from+dur) {
				group = append(group, o)
			}
		}
		var writes []int
		for _, o := range group {
			if !cat.apis[o.api].readOnly {
				writes = append(writes, int(o.api))
			}
		}
		keep := uniform(r, 0, 0.2)
		lo, hi := s.start+int64(from)*60, s.start+int64(from+dur)*60
		procs := map[uint16]bool{}
		for _, o := range group {
			procs[o.proc] = true
		}
		n := s.remove(func(e *event) bool {
			return procs[e.proc] && e.t >= lo && e.t < hi && unitFloat(mix2(e.seed, 0xD809)) >= keep
		})
		g := s.newGroup(KindSteadyDrop)
		s.kind(KindSteadyDrop).Events += n
		for _, api := range writes {
			s.addLabel(KindSteadyDrop, g, api, cloudtrail.APICallRateInsight, "", from, from+dur, "")
		}
		return
	}
	s.skip(KindSteadyDrop, "no room or too little traffic")
}

// plantErrorSurge makes 30-90% of an API's calls fail with one error code
// for 10-45 minutes (a revoked permission, a throttled dependency). APIs are
// tried in proportion to their traffic after warm-up.
func (s *stream) plantErrorSurge(r *rand.Rand, kind string, read bool) {
	cat := s.g.cat
	var cands []uint16
	var weights []float64
	counts := map[uint16][]int32{}
	for i, a := range cat.apis {
		if len(a.surge) == 0 || a.readOnly != read || a.data {
			continue
		}
		api := uint16(i)
		counts[api] = s.counts(api, func(e *event) bool { return e.err == 0 })
		if n := sum(counts[api], s.warm, s.minutes); n > 0 {
			cands = append(cands, api)
			weights = append(weights, float64(n))
		}
	}
	for try := 0; len(cands) > 0 && try < 100; try++ {
		api := cands[weighted(r, weights)]
		dur := between(r, 10, 45)
		from, ok := s.pickWindow(r, dur, []int{int(api)}, true, 1)
		// Prefer windows where the API is called at least once a minute, so
		// that the surge is more than a handful of errors.
		need := 1.0
		if try >= 50 {
			need = 0.5
		}
		if !ok || float64(sum(counts[api], from, from+dur))/float64(dur) < need {
			continue
		}
		a := cat.apis[api]
		code := a.surge[r.IntN(len(a.surge))]
		lo, hi := s.start+int64(from)*60, s.start+int64(from+dur)*60
		var calls []int
		for i := range s.events {
			if e := &s.events[i]; e.api == api && e.t >= lo && e.t < hi && e.err == 0 {
				calls = append(calls, i)
			}
		}
		// Exactly the drawn share fails, whatever the number of calls.
		r.Shuffle(len(calls), func(i, j int) { calls[i], calls[j] = calls[j], calls[i] })
		n := int(math.Round(uniform(r, 0.3, 0.9) * float64(len(calls))))
		arns := map[string]int{}
		for _, i := range calls[:n] {
			s.events[i].err = cat.errIndex[code]
			arns[s.eventARN(&s.events[i])]++
		}
		g := s.newGroup(kind)
		s.kind(kind).Events += n
		s.addLabel(kind, g, int(api), cloudtrail.APIErrorRateInsight, code, from, from+dur, dominant(arns, n))
		return
	}
	s.skip(kind, "no API with enough traffic and room")
}

// eventARN is the userIdentity.arn e is rendered with.
func (s *stream) eventARN(e *event) string {
	a := s.actors[e.actor]
	i := 0
	if a.kind == akRole && len(a.sessions) > 1 {
		i = int(mix2(e.seed, saltSess) % uint64(len(a.sessions)))
	}
	return a.arn(s.acct.ID, i)
}

// dominant returns the key holding at least half of total, or "".
func dominant(m map[string]int, total int) string {
	for k, v := range m {
		if 2*v >= total && total > 0 {
			return k
		}
	}
	return ""
}

// plantProvisioning makes a principal create instances or volumes at 5-20
// times the usual rate for 10-60 minutes: a runaway script, or stolen keys
// mining cryptocurrency.
func (s *stream) plantProvisioning(r *rand.Rand, c *cast) {
	cat := s.g.cat
	var apis []uint16
	var actor uint16
	pattern := weighted(r, []float64{0.4, 0.35, 0.25})
	switch pattern {
	case 0:
		apis = cat.ids("ec2:RunInstances", "ec2:CreateTags")
		actor = c.ciTF
		if len(s.humans) > 0 && r.IntN(2) == 0 {
			actor = s.humans[r.IntN(len(s.humans))].cli
		}
	case 1: // stolen access key
		apis = cat.ids("ec2:RunInstances")
		actor = s.newActor(r, true, attackerUAs)
	default:
		apis = cat.ids("ec2:CreateVolume", "ec2:AttachVolume")
		actor = c.ops
	}
	dur := between(r, 10, 60)
	from, ok := s.pickWindow(r, dur, ints(apis...), true, 1)
	if !ok {
		s.skip(KindProvisioningSpike, "no room")
		return
	}
	f := uniform(r, 5, 20)
	p := s.proc("plant provisioning")
	g := s.newGroup(KindProvisioningSpike)
	principal := s.actors[actor].principal(s.acct.ID)
	for _, api := range apis {
		rate := f * max(s.baseline(api, from, dur), 0.1)
		n := s.spike(r, api, actor, p, rate, from, dur)
		s.kind(KindProvisioningSpike).Events += n
		s.addLabel(KindProvisioningSpike, g, int(api), cloudtrail.APICallRateInsight, "", from, from+dur, principal)
	}
	if pattern != 1 {
		return
	}
	// A stolen key is first used to look around.
	for _, api := range cat.ids("ec2:DescribeRegions", "ec2:DescribeInstances", "ec2:DescribeImages") {
		for range between(r, 1, 3) {
			s.emitOK(r, s.start+int64(from)*60+int64(r.IntN(120)), api, actor, p, 0)
		}
	}
}

// plantIAMBurst has a never-seen principal make 15-60 IAM writes in 5-20
// minutes: mass user creation, role persistence or access-key harvesting.
func (s *stream) plantIAMBurst(r *rand.Rand) {
	cat := s.g.cat
	actor := s.newActor(r, r.Float64() < 0.6, attackerUAs)
	type step struct {
		api   uint16
		delay int64
	}
	var steps []step // calls per entity
	var n int
	flags := flagNewNames
	switch r.IntN(3) {
	case 0: // mass user creation
		n = between(r, 10, 20)
		policy := "iam:AttachUserPolicy"
		if r.IntN(2) == 0 {
			policy = "iam:PutUserPolicy"
		}
		for i, id := range cat.ids("iam:CreateUser", "iam:CreateAccessKey", policy) {
			steps = append(steps, step{id, int64(i * between(r, 1, 4))})
		}
	case 1: // role persistence
		n = between(r, 10, 15)
		for i, id := range cat.ids("iam:CreateRole", "iam:AttachRolePolicy") {
			steps = append(steps, step{id, int64(i * between(r, 1, 4))})
		}
		if r.IntN(2) == 0 {
			steps = append(steps, step{cat.id("iam", "PutRolePolicy"), int64(between(r, 6, 12))})
		}
	default: // access keys for existing users
		n = between(r, 15, 25)
		steps = []step{{cat.id("iam", "CreateAccessKey"), 0}}
		flags = 0
	}
	dur := between(r, 5, 20)
	var apis []int
	for _, st := range steps {
		apis = append(apis, int(st.api))
	}
	from, ok := s.pickWindow(r, dur, apis, true, 1)
	if !ok {
		s.skip(KindIAMBurst, "no room")
		return
	}
	p := s.proc("plant iam burst")
	lo := s.start + int64(from)*60
	span := int64(dur*60 - 30)
	first, last, count := map[uint16]int64{}, map[uint16]int64{}, map[uint16]int{}
	for i := range n {
		t := lo + span*int64(i)/int64(n) + int64(r.IntN(10))
		base := r.Uint64() &^ 0xff
		for k, st := range steps {
			tt := t + st.delay
			s.events = append(s.events, event{t: tt, seed: base | uint64(k), api: st.api, actor: actor, proc: p, flags: flags})
			if _, ok := first[st.api]; !ok {
				first[st.api] = tt
			}
			last[st.api] = tt
			count[st.api]++
		}
	}
	if len(steps) == 1 { // plus a few console passwords for the same users
		for range between(r, 2, 8) {
			s.emitOK(r, lo+int64(r.IntN(int(span))), cat.id("iam", "CreateLoginProfile"), actor, p, 0)
		}
	}
	for _, api := range cat.ids("sts:GetCallerIdentity", "iam:ListUsers", "iam:ListRoles", "iam:ListAttachedUserPolicies") {
		for range between(r, 1, 2) {
			s.emitOK(r, lo+int64(r.IntN(60)), api, actor, p, 0)
		}
	}
	g := s.newGroup(KindIAMBurst)
	principal := s.actors[actor].principal(s.acct.ID)
	for _, st := range steps {
		s.kind(KindIAMBurst).Events += count[st.api]
		if count[st.api] >= 10 {
			s.addLabel(KindIAMBurst, g, int(st.api), cloudtrail.APICallRateInsight, "",
				s.minuteOf(first[st.api]), s.minuteOf(last[st.api])+1, principal)
		}
	}
}

// plantReadOnlyTrap runs an audit script: 1-3 Describe/List APIs at 20 times
// their usual rate for 30 minutes. Reads never count for call-rate
// Insights, and these all succeed.
func (s *stream) plantReadOnlyTrap(r *rand.Rand) {
	names := []string{"ec2:DescribeInstances", "ec2:DescribeSecurityGroups", "ec2:DescribeVolumes", "ec2:DescribeSnapshots",
		"ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "lambda:ListFunctions20150331", "rds:DescribeDBInstances",
		"logs:DescribeLogGroups", "kms:ListKeys", "ecs:ListClusters"}
	if s.global {
		names = append(names, "iam:ListRoles", "iam:ListUsers", "iam:ListPolicies", "s3:ListBuckets")
	}
	ids := s.g.cat.ids(names...)
	r.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	apis := ids[:between(r, 1, 3)]
	const dur = 30
	from, ok := s.pickWindow(r, dur, ints(apis...), false, 1)
	if !ok {
		s.skip(KindTrapReadOnly, "no room")
		return
	}
	actor := s.addActor(roleActor(s.acct.ID, "SecurityAudit", "/", []string{"audit-" + chars(r.Uint64(), 8, hexDigits)},
		[]string{uaBotoEC2}, s.res.officeIPs))
	if len(s.humans) > 0 && r.IntN(2) == 0 {
		actor = s.humans[r.IntN(len(s.humans))].cli
	}
	p := s.proc("plant readonly trap")
	g := s.newGroup(KindTrapReadOnly)
	for _, api := range apis {
		n := s.spike(r, api, actor, p, 20*max(s.baseline(api, from, dur), 0.1), from, dur)
		s.kind(KindTrapReadOnly).Events += n
		s.addLabel(KindTrapReadOnly, g, int(api), "", "", from, from+dur, s.actors[actor].principal(s.acct.ID))
	}
}

// plantDataTrap runs a bulk download: S3 object reads (data events) at 50
// times their usual rate for 15-45 minutes.
func (s *stream) plantDataTrap(r *rand.Rand, c *cast) {
	apis := s.g.cat.ids("s3:GetObject")
	if r.IntN(2) == 0 {
		apis = s.g.cat.ids("s3:GetObject", "s3:HeadObject")
	}
	dur := between(r, 15, 45)
	from, ok := s.pickWindow(r, dur, ints(apis...), false, 1)
	if !ok {
		s.skip(KindTrapData, "no room")
		return
	}
	actor := c.app
	if r.IntN(2) == 0 {
		actor = s.addActor(roleActor(s.acct.ID, "data-backfill", "/", []string{"backfill-" + chars(r.Uint64(), 8, hexDigits)},
			[]string{uaJava}, s.res.natIPs))
	}
	p := s.proc("plant data trap")
	g := s.newGroup(KindTrapData)
	for _, api := range apis {
		n := s.spike(r, api, actor, p, 50*max(s.baseline(api, from, dur), 0.1), from, dur)
		s.kind(KindTrapData).Events += n
		s.addLabel(KindTrapData, g, int(api), "", "", from, from+dur, s.actors[actor].principal(s.acct.ID))
	}
}

// plantLate delays delivery of every file of a 15-30 minute stretch by
// 20-45 minutes.
func (s *stream) plantLate(r *rand.Rand) {
	l := 5 * between(r, 3, 6)
	from, ok := s.pickWindow(r, l, []int{-1}, false, 5)
	if !ok {
		s.skip(KindTrapLate, "no room")
		return
	}
	d := between(r, 20, 45)
	var n int
	for w := from / 5; w < (from+l)/5; w++ {
		s.late[w] = d
	}
	lo, hi := s.start+int64(from)*60, s.start+int64(from+l)*60
	for i := range s.events {
		if e := &s.events[i]; e.t >= lo && e.t < hi {
			e.flags |= flagAddendum
			n++
		}
	}
	g := s.newGroup(KindTrapLate)
	s.kind(KindTrapLate).Events += n
	s.addLabel(KindTrapLate, g, -1, "", "", from, from+l, "")
}

// plantDuplicate delivers the records of a 5-30 minute stretch a second
// time, in an extra file 5-30 minutes after the regular one.
func (s *stream) plantDuplicate(r *rand.Rand) {
	l := between(r, 5, 30)
	from, ok := s.pickWindow(r, l, []int{-1}, false, 1)
	if !ok {
		s.skip(KindTrapDuplicate, "no room")
		return
	}
	s.dups = append(s.dups, dupWindow{from: from, to: from + l, delay: between(r, 5, 30)})
	lo, hi := s.start+int64(from)*60, s.start+int64(from+l)*60
	var n int
	for i := range s.events {
		if e := &s.events[i]; e.t >= lo && e.t < hi {
			n++
		}
	}
	g := s.newGroup(KindTrapDuplicate)
	s.kind(KindTrapDuplicate).Events += n
	s.addLabel(KindTrapDuplicate, g, -1, "", "", from, from+l, "")
}
