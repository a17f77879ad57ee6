package datasets

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// profileKind selects what modulates a steady series.
type profileKind uint8

const (
	profFlat  profileKind = iota
	profApp               // application load (local time)
	profFleet             // number of instances in service (autoscaling, local time)
)

// steadySeries is a continuously running client: overdispersed Poisson
// arrivals around a rate that follows a profile, a slow linear trend and
// possibly a lasting level shift.
type steadySeries struct {
	api, actor, proc uint16
	base             float64 // calls per minute at the profile's reference level
	prof             profileKind
	amp              float64 // share of the rate that follows the profile
	trend            float64 // relative change over the whole dataset
	k                float64 // Gamma shape of the overdispersion; 0 = Poisson
	shiftAt          int     // first minute of a level shift; -1 = none
	shiftF           float64
}

// rate is the expected calls per minute of ss at minute m.
func (s *stream) rate(ss *steadySeries, m int) float64 {
	v := ss.base
	switch ss.prof {
	case profApp:
		v *= 1 - ss.amp + ss.amp*float64(s.app[m])/0.8
	case profFleet:
		v *= (s.fleetBase + float64(s.fleetExtra[m])) / s.fleetBase
	}
	v *= 1 + ss.trend*float64(m)/float64(s.minutes)
	if ss.shiftAt >= 0 && m >= ss.shiftAt {
		v *= ss.shiftF
	}
	return v
}

// cronJob is a scheduled job: every period minutes, or daily at a local
// time. Each run makes a few calls within spread seconds.
type cronJob struct {
	name         string
	proc, actor  uint16
	period       int // minutes; 0 = daily at local minute offset
	offset       int
	sec          int
	spread       int
	weekdaysOnly bool
	calls        []cronCall
}

type cronCall struct {
	api    uint16
	lo, hi int
}

// runs returns the start times of every run of j inside the dataset.
func (s *stream) runs(j *cronJob) []int64 {
	var out []int64
	end := s.start + int64(s.minutes)*60
	if j.period > 0 {
		for m := j.offset; m < s.minutes; m += j.period {
			out = append(out, s.start+int64(m)*60+int64(j.sec))
		}
		return out
	}
	for d := -1; d <= s.localDays(); d++ {
		if wd := s.localWeekday(d); j.weekdaysOnly && (wd == time.Saturday || wd == time.Sunday) {
			continue
		}
		if t := s.localAt(d, j.offset, j.sec); t >= s.start && t < end {
			out = append(out, t)
		}
	}
	return out
}

// writeAPIs returns the write APIs a job calls.
func (j *cronJob) writeAPIs(cat *catalog) []uint16 {
	var out []uint16
	for _, c := range j.calls {
		if !cat.apis[c.api].readOnly {
			out = append(out, c.api)
		}
	}
	return out
}

// cast names the actors the normal processes use.
type cast struct {
	fleet, lambdaLogs, lambdaApp, app, execRole, prom, datadog, cspm  uint16
	asg, lifecycle, ecsSLR, cfn, codedeploy, ci, ciTF, dlm, scheduler uint16
	etl, report, ops, extDNS, configRule, rdsBackup, logArchiver      uint16
	kmsSvc, awsInternal, svcLambda, svcECS                            uint16
}

// build creates the stream's resources, actors and normal processes.
func (s *stream) build() *cast {
	r := s.rng("world")
	s.res = newResources(r, s.acct, s.region, s.scale)
	res, acct := s.res, s.acct.ID
	nat := res.natIPs
	s.fleetBase = max(2, math.Round(12*s.scale))
	role := func(name string, sessions []string, uas ...string) *actor {
		return roleActor(acct, name, "/", sessions, uas, nat)
	}
	var c cast
	fleet := role(res.env+"-ec2-instance-role", res.instances, uaSSMAgent)
	fleet.ec2Role = true
	c.fleet = s.addActor(fleet)
	c.lambdaLogs = s.addActor(role("lambda-exec-"+res.env, res.functions, uaLambdaLog))
	c.lambdaApp = s.addActor(role("lambda-exec-"+res.env, res.functions, uaBotoLamb, uaJSLambda))
	c.app = s.addActor(role(res.env+"-app-task-role", res.taskIDs, uaJava))
	c.execRole = s.addActor(role("ecsTaskExecutionRole", res.taskIDs[:8], uaECSAgent))
	prom := role("prometheus-ec2-discovery", res.instances[:1], uaGoV1)
	prom.ec2Role = true
	c.prom = s.addActor(prom)
	c.datadog = s.addActor(roleActor(acct, "DatadogIntegrationRole", "/", []string{"DatadogAWSIntegration"}, []string{uaDatadog}, []string{"192.0.2.10", "192.0.2.11", "192.0.2.12"}))
	c.cspm = s.addActor(roleActor(acct, "SecurityPostureScanner", "/", []string{"cspm-" + chars(hashString(acct, 3), 8, hexDigits)}, []string{uaGoV2}, []string{"192.0.2.40", "192.0.2.41"}))
	c.asg = s.addActor(serviceRoleActor(acct, "AWSServiceRoleForAutoScaling", "autoscaling.amazonaws.com", "AutoScaling"))
	c.lifecycle = s.addActor(role("asg-lifecycle-hook-role", []string{"asg-lifecycle-handler"}, uaBotoLamb))
	c.ecsSLR = s.addActor(serviceRoleActor(acct, "AWSServiceRoleForECS", "ecs.amazonaws.com", "ecs-service-scheduler"))
	for _, v := range []struct {
		id            *uint16
		name, session string
		svc           string
	}{
		{&c.cfn, "cfn-exec-role", "AWSCloudFormation", "cloudformation.amazonaws.com"},
		{&c.codedeploy, "CodeDeployServiceRole", "CodeDeploy", "codedeploy.amazonaws.com"},
		{&c.dlm, "AWSDataLifecycleManagerDefaultRole", "DLMSession", "dlm.amazonaws.com"},
		{&c.scheduler, "eventbridge-scheduler-ecs", chars(hashString(acct+s.region, 4), 32, hexDigits), "scheduler.amazonaws.com"},
	} {
		a := roleActor(acct, v.name, "/service-role/", []string{v.session}, []string{v.svc}, []string{v.svc})
		a.invokedBy, a.noTLS = v.svc, true
		*v.id = s.addActor(a)
	}
	ciIPs := []string{"192.0.2.80", "192.0.2.81", "192.0.2.82", "192.0.2.83"}
	c.ci = s.addActor(roleActor(acct, "github-actions-deploy", "/", []string{"GitHubActions"}, []string{uaGHA}, ciIPs))
	c.ciTF = s.addActor(roleActor(acct, "github-actions-deploy", "/", []string{"GitHubActions"}, []string{uaTerraform}, ciIPs))
	c.etl = s.addActor(role("etl-trigger-lambda", []string{"etl-trigger"}, uaBotoLamb))
	c.report = s.addActor(role("reporting-lambda", []string{"reporting-" + res.env}, uaJSLambda))
	ops := role("ops-automation", res.instances[1:2], uaBotoEC2)
	ops.ec2Role = true
	c.ops = s.addActor(ops)
	c.extDNS = s.addActor(role("external-dns", []string{"external-dns-" + chars(hashString(acct, 5), 10, lowerAlnum)}, uaExtDNS))
	c.configRule = s.addActor(role("config-rule-evaluator", []string{"config-rule-evaluator"}, uaBotoLamb))
	c.rdsBackup = s.addActor(role("rds-snapshot-lambda", []string{"rds-snapshot-" + res.env}, uaBotoLamb))
	c.logArchiver = s.addActor(role("log-archiver", []string{"log-archiver"}, uaJSLambda))
	svc := func(kind actorKind, by string) uint16 {
		return s.addActor(&actor{kind: kind, invokedBy: by, uas: compileAll(by), ips: []string{by}, noTLS: true})
	}
	c.kmsSvc = svc(akServiceEvt, "kms.amazonaws.com")
	c.awsInternal = svc(akServiceEvt, uaAWSInt)
	c.svcLambda = svc(akService, "lambda.amazonaws.com")
	c.svcECS = svc(akService, "ecs-tasks.amazonaws.com")

	nh := s.acct.Humans
	if nh == 0 {
		nh = 4
	}
	for i := 0; i < nh; i++ {
		con, cli, tf, admin := humanActors(s.acct, i, res.officeIPs)
		s.humans = append(s.humans, human{admin: admin, console: s.addActor(con), cli: s.addActor(cli), tf: s.addActor(tf)})
	}
	s.defineSteady(&c)
	s.defineCrons(&c)
	return &c
}

// defineSteady sets up the continuously running clients.
func (s *stream) defineSteady(c *cast) {
	r := s.rng("steady")
	cat, sc := s.g.cat, s.scale
	add := func(api string, actor uint16, base float64, prof profileKind, amp, k float64) {
		svc, name := splitAPI(api)
		tr := uniform(r, 0.1, 0.2)
		if r.IntN(2) == 0 {
			tr = -tr
		}
		s.steady = append(s.steady, &steadySeries{api: cat.id(svc, name), actor: actor, proc: s.proc("steady " + api),
			base: base, prof: prof, amp: amp, trend: tr, k: k, shiftAt: -1})
	}
	fb := s.fleetBase
	add("ssm:UpdateInstanceInformation", c.fleet, fb/5, profFleet, 0, 0)
	add("ssm:UpdateInstanceAssociationStatus", c.fleet, fb/30, profFleet, 0, 0)
	add("ssm:ListInstanceAssociations", c.fleet, fb/10, profFleet, 0, 0)
	add("logs:CreateLogStream", c.lambdaLogs, 0.5*sc, profApp, 0.6, 4)
	add("kms:Decrypt", c.app, 1.2*sc, profApp, 0.5, 8)
	add("kms:Decrypt", c.lambdaApp, 0.5*sc, profApp, 0.6, 4)
	add("kms:GenerateDataKey", c.app, 0.45*sc, profApp, 0.5, 8)
	add("secretsmanager:GetSecretValue", c.lambdaApp, 0.35*sc, profApp, 0.6, 3)
	add("ssm:GetParameters", c.lambdaApp, 0.25*sc, profApp, 0.6, 3)
	add("ecr:GetAuthorizationToken", c.execRole, 0.08*sc, profApp, 0.5, 2)
	add("ecr:BatchGetImage", c.execRole, 0.15*sc, profApp, 0.5, 2)
	add("dynamodb:DescribeTable", c.app, 0.1*sc, profApp, 0.5, 2)
	add("s3:GetObject", c.app, 0.5*sc, profApp, 0.6, 2)
	add("s3:GetObject", c.lambdaApp, 0.3*sc, profApp, 0.6, 2)
	add("s3:PutObject", c.app, 0.2*sc, profApp, 0.6, 2)
	add("s3:PutObject", c.lambdaApp, 0.1*sc, profApp, 0.6, 2)
	add("s3:HeadObject", c.app, 0.2*sc, profApp, 0.6, 2)
	add("s3:ListObjects", c.lambdaApp, 0.06*sc, profApp, 0.6, 2)
	add("s3:DeleteObject", c.app, 0.03*sc, profApp, 0.6, 2)
	if s.global {
		ga := s.acctScale
		add("sts:AssumeRole", c.app, 0.5*ga, profApp, 0.5, 5)
		add("sts:AssumeRole", c.svcLambda, 0.3*ga, profApp, 0.6, 3)
		add("sts:AssumeRole", c.svcECS, 0.2*ga, profApp, 0.5, 3)
		add("sts:GetCallerIdentity", c.lambdaApp, 0.15*ga, profApp, 0.5, 3)
	}
}

// defineCrons sets up the scheduled jobs: pollers and scanners that read,
// and jobs that write every few minutes or once a day.
func (s *stream) defineCrons(c *cast) {
	r := s.rng("crons")
	cat, res := s.g.cat, s.res
	job := func(name string, actor uint16, period, offset, spread int, calls ...any) *cronJob {
		j := &cronJob{name: name, proc: s.proc("cron " + name), actor: actor, period: period, offset: offset,
			sec: r.IntN(50), spread: spread}
		for i := 0; i < len(calls); i += 3 {
			svc, n := splitAPI(calls[i].(string))
			j.calls = append(j.calls, cronCall{api: cat.id(svc, n), lo: calls[i+1].(int), hi: calls[i+2].(int)})
		}
		s.crons = append(s.crons, j)
		return j
	}
	// Service discovery refreshes every minute (every two in small Regions).
	promPeriod := 1
	if s.scale < 0.4 {
		promPeriod = 2
	}
	job("prometheus-sd", c.prom, promPeriod, 0, 2, "ec2:DescribeInstances", 1, 1)
	// A monitoring vendor crawls the account every 5 minutes.
	dd := []any{"ec2:DescribeInstances", 1, 1, "ec2:DescribeVolumes", 1, 1, "ec2:DescribeSecurityGroups", 1, 1,
		"autoscaling:DescribeAutoScalingGroups", 1, 1, "elasticloadbalancing:DescribeLoadBalancers", 1, 1,
		"elasticloadbalancing:DescribeTargetGroups", 1, 1, "rds:DescribeDBInstances", 1, 1,
		"lambda:ListFunctions20150331", 1, 1, "ecs:ListClusters", 1, 1, "dynamodb:ListTables", 1, 1}
	if s.global {
		dd = append(dd, "s3:ListBuckets", 1, 1)
	}
	ddPeriod := 5
	if s.scale < 0.5 {
		ddPeriod = 10
	}
	job("datadog-crawler", c.datadog, ddPeriod, 0, 25, dd...)
	// A posture scanner sweeps buckets and inventories hourly; several of its
	// Get* calls fail routinely (no policy, no replication...).
	nb := len(res.buckets)
	cs := []any{}
	for _, g := range []string{"GetBucketPolicy", "GetBucketPolicyStatus", "GetBucketAcl", "GetBucketEncryption",
		"GetBucketVersioning", "GetBucketTagging", "GetBucketLogging", "GetBucketPublicAccessBlock",
		"GetBucketReplication", "GetBucketLifecycle", "GetBucketWebsite"} {
		cs = append(cs, "s3:"+g, nb, nb)
	}
	cs = append(cs, "ec2:DescribeInstances", 1, 1, "ec2:DescribeSecurityGroups", 1, 2, "ec2:DescribeVolumes", 1, 1,
		"ec2:DescribeSnapshots", 1, 1, "ec2:DescribeVpcs", 1, 1, "ec2:DescribeSubnets", 1, 1,
		"ec2:DescribeNetworkInterfaces", 1, 1, "lambda:ListFunctions20150331", 1, 1, "lambda:GetPolicy20150331v2", 2, 6,
		"kms:ListKeys", 1, 1, "kms:ListAliases", 1, 1, "kms:DescribeKey", 2, 4, "rds:DescribeDBInstances", 1, 1,
		"rds:DescribeDBSnapshots", 1, 2, "logs:DescribeLogGroups", 1, 1)
	if s.global {
		cs = append(cs, "iam:ListRoles", 1, 1, "iam:ListUsers", 1, 1, "iam:ListPolicies", 1, 1,
			"iam:GetAccountSummary", 1, 1, "iam:ListAccessKeys", 4, 4, "iam:GetLoginProfile", 4, 4,
			"iam:ListMFADevices", 4, 4, "iam:GetRole", 3, 8, "iam:GetRolePolicy", 2, 6, "s3:ListBuckets", 1, 1)
	}
	job("posture-scan", c.cspm, 60, r.IntN(60), 150, cs...)

	// Writing jobs. Each stream runs a seeded selection.
	pick := func(p ...int) int { return p[r.IntN(len(p))] }
	type cand struct {
		p   float64
		def func()
	}
	cands := []cand{
		{0.85, func() { job("ecs-scheduled-task", c.scheduler, pick(5, 10), 0, 5, "ecs:RunTask", 1, 1) }},
		{0.75, func() {
			job("etl-trigger", c.etl, pick(15, 30), 0, 20, "glue:StartJobRun", 1, 2, "glue:GetJobRuns", 1, 1)
		}},
		{0.7, func() {
			job("athena-report", c.report, pick(30, 60), 0, 50, "athena:StartQueryExecution", 2, 5,
				"athena:GetQueryExecution", 4, 10, "athena:GetQueryResults", 2, 5)
		}},
		{0.7, func() {
			job("ssm-healthcheck", c.ops, 60, 0, 30, "ssm:SendCommand", 1, 1, "ssm:ListCommandInvocations", 1, 2,
				"ssm:DescribeInstanceInformation", 1, 1)
		}},
		{0.6, func() { job("config-rules", c.configRule, 30, 0, 20, "config:PutEvaluations", 1, 3) }},
	}
	if s.global {
		cands = append(cands, cand{0.8, func() {
			job("external-dns", c.extDNS, pick(10, 15), 0, 10, "route53:ListHostedZones", 1, 1,
				"route53:ListResourceRecordSets", 1, 2, "route53:ChangeResourceRecordSets", 1, 2)
		}})
	}
	picked := 0
	for _, cd := range cands {
		if r.Float64() < cd.p {
			cd.def()
			picked++
		}
	}
	if picked < 2 { // every stream has some sub-hourly writing job
		cands[0].def()
		cands[1].def()
	}
	for _, j := range s.crons {
		if j.period >= 5 {
			j.offset = r.IntN(j.period)
		}
	}
	vols := max(2, int(math.Round(6*s.scale)))
	if r.Float64() < 0.8 {
		job("dlm-snapshots", c.dlm, 0, 2*60+between(r, 0, 5), 60, "ec2:CreateSnapshot", vols, vols)
		job("dlm-retention", c.dlm, 0, 2*60+between(r, 10, 15), 60, "ec2:DeleteSnapshot", vols, vols)
	}
	if r.Float64() < 0.7 {
		job("rds-nightly-snapshot", c.rdsBackup, 0, 3*60+30, 20, "rds:CreateDBSnapshot", 2, 2,
			"rds:DescribeDBSnapshots", 2, 3, "rds:DeleteDBSnapshot", 1, 2)
	}
	if r.Float64() < 0.6 {
		job("log-export", c.logArchiver, 0, 60+between(r, 10, 20), 30, "logs:CreateExportTask", 2, 4,
			"logs:DescribeLogGroups", 1, 1)
	}
}

func splitAPI(s string) (svc, name string) {
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			return s[:i], s[i+1:]
		}
	}
	panic("BUG: datasets: API without service: " + s)
}

// generateNormal runs every normal process.
func (s *stream) generateNormal(c *cast) {
	s.genAutoscaling(c)
	s.genSteady()
	s.genCrons()
	s.genHumans()
	if s.global {
		s.genSignIns()
		s.genIAMAdmin()
	}
	s.genDeploys(c)
	s.genServiceEvents(c)
}

func (s *stream) genSteady() {
	for i, ss := range s.steady {
		r := s.rng(fmt.Sprintf("steady/%d", i))
		for m := 0; m < s.minutes; m++ {
			n := negBin(r, s.rate(ss, m), ss.k)
			for range n {
				s.emit(r, s.start+int64(m)*60+int64(r.IntN(60)), ss.api, ss.actor, ss.proc)
			}
		}
	}
}

func (s *stream) genCrons() {
	for _, j := range s.crons {
		r := s.rng("cron/" + j.name)
		for _, t0 := range s.runs(j) {
			t0 += int64(r.IntN(3))
			for _, cc := range j.calls {
				for range between(r, cc.lo, cc.hi) {
					s.emit(r, t0+int64(r.IntN(j.spread+1)), cc.api, j.actor, j.proc)
				}
			}
		}
	}
}

// genAutoscaling scales the fleet out every weekday morning and in every
// evening (local time), with a few target-tracking adjustments in between.
// It fills fleetExtra, which drives the agents' steady traffic.
func (s *stream) genAutoscaling(c *cast) {
	r := s.rng("autoscaling")
	s.fleetExtra = make([]float32, s.minutes)
	ids := s.g.cat.ids("ec2:RunInstances", "kms:CreateGrant", "autoscaling:CompleteLifecycleAction",
		"elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets", "ec2:TerminateInstances")
	run, grant, complete, reg, dereg, term := ids[0], ids[1], ids[2], ids[3], ids[4], ids[5]
	p := s.proc("autoscaling")
	inService := func(from, to int64) {
		for m := max(s.minuteOf(from), 0); m < min(s.minuteOf(to), s.minutes); m++ {
			s.fleetExtra[m]++
		}
	}
	launch := func(t int64) {
		s.emit(r, t, run, c.asg, p)
		s.emit(r, t+int64(between(r, 1, 5)), grant, c.asg, p)
		s.emit(r, t+int64(between(r, 90, 300)), complete, c.lifecycle, p)
		s.emit(r, t+int64(between(r, 120, 400)), reg, c.asg, p)
	}
	terminate := func(t int64) {
		s.emit(r, t, dereg, c.asg, p)
		s.emit(r, t+int64(between(r, 30, 200)), complete, c.lifecycle, p)
		s.emit(r, t+int64(between(r, 210, 320)), term, c.asg, p)
	}
	// The daytime capacity is about half the base fleet again, varying a
	// little from day to day; weekends mostly stay small.
	daytime := max(1, 0.5*s.fleetBase)
	for d := -1; d <= s.localDays(); d++ {
		wd := s.localWeekday(d)
		n := int(math.Round(daytime * logNormal(r, 0, 0.15)))
		if wd == time.Saturday || wd == time.Sunday {
			n = 0
			if r.Float64() < 0.3 {
				n = int(math.Round(0.3 * daytime))
			}
		}
		out := s.localAt(d, 7*60+30+between(r, -10, 10), r.IntN(60))
		in := s.localAt(d, 19*60+30+between(r, -15, 15), r.IntN(60))
		t, u := out, in
		for range n {
			t += int64(between(r, 2, 20))
			u += int64(between(r, 2, 30))
			launch(t)
			terminate(u)
			inService(t, u)
		}
		// Target tracking during the working day.
		for range poisson(r, math.Sqrt(s.scale)) {
			t := s.localAt(d, between(r, 9*60, 17*60), r.IntN(60))
			u := t + int64(between(r, 3600, 3*3600))
			k := between(r, 1, 2)
			for range k {
				launch(t)
				terminate(u)
				inService(t, u)
				t += int64(between(r, 5, 40))
			}
		}
	}
}

// focusGroup is what a person works on in one session: the console pages or
// CLI commands they read, and the changes they make.
type focusGroup struct {
	w      float64
	reads  []uint16
	writes []uint16
	ww     []float64
}

func (s *stream) focusGroups() []focusGroup {
	cat := s.g.cat
	fg := func(w float64, reads []string, writes ...any) focusGroup {
		g := focusGroup{w: w, reads: cat.ids(reads...)}
		for i := 0; i < len(writes); i += 2 {
			svc, n := splitAPI(writes[i].(string))
			g.writes = append(g.writes, cat.id(svc, n))
			g.ww = append(g.ww, writes[i+1].(float64))
		}
		return g
	}
	gs := []focusGroup{
		fg(4, []string{"ec2:DescribeInstances", "ec2:DescribeInstanceStatus", "ec2:DescribeSecurityGroups", "ec2:DescribeVolumes",
			"ec2:DescribeSubnets", "ec2:DescribeVpcs", "ec2:DescribeImages", "ec2:DescribeTags", "ec2:DescribeAddresses",
			"ec2:DescribeInstanceTypes", "ec2:DescribeLaunchTemplates", "ec2:DescribeKeyPairs", "ec2:DescribeAvailabilityZones"},
			"ec2:CreateTags", 5.0, "ec2:StopInstances", 1.0, "ec2:StartInstances", 1.0, "ec2:TerminateInstances", 0.8,
			"ec2:RunInstances", 0.8, "ec2:AuthorizeSecurityGroupIngress", 1.0, "ec2:ModifyInstanceAttribute", 0.4,
			"ec2:CreateSecurityGroup", 0.4, "ec2:DeleteTags", 0.5, "ec2:CreateVolume", 0.3, "ec2:AttachVolume", 0.3,
			"ec2:DeleteVolume", 0.3, "ec2:CreateLaunchTemplateVersion", 0.3),
		fg(2.5, []string{"s3:ListBuckets", "s3:GetBucketLocation", "s3:GetBucketPolicy", "s3:GetBucketAcl", "s3:GetBucketVersioning",
			"s3:GetBucketTagging", "s3:GetBucketEncryption", "s3:GetBucketPublicAccessBlock", "s3:GetBucketLogging"},
			"s3:PutBucketPolicy", 1.0, "s3:PutBucketTagging", 2.0, "s3:PutBucketPublicAccessBlock", 0.5,
			"s3:PutBucketVersioning", 0.5, "s3:PutBucketLifecycle", 0.5, "s3:CreateBucket", 0.3),
		fg(2, []string{"lambda:ListFunctions20150331", "lambda:GetFunction20150331v2", "lambda:GetFunctionConfiguration20150331v2",
			"lambda:GetPolicy20150331v2", "lambda:ListEventSourceMappings20150331", "logs:DescribeLogStreams"},
			"lambda:UpdateFunctionCode20150331v2", 2.0, "lambda:UpdateFunctionConfiguration20150331v2", 2.0,
			"lambda:PublishVersion20150331", 1.0, "lambda:AddPermission20150331v2", 0.3),
		fg(1.5, []string{"cloudformation:DescribeStacks", "cloudformation:DescribeStackEvents", "cloudformation:ListStacks",
			"cloudformation:GetTemplate", "cloudformation:DescribeStackResources", "cloudformation:ListStackResources"},
			"cloudformation:UpdateStack", 2.0, "cloudformation:CreateStack", 0.5, "cloudformation:DeleteStack", 0.3,
			"cloudformation:CreateChangeSet", 1.0, "cloudformation:ExecuteChangeSet", 1.0),
		fg(1.5, []string{"ecs:ListClusters", "ecs:DescribeClusters", "ecs:ListServices", "ecs:DescribeServices", "ecs:ListTasks",
			"ecs:DescribeTasks", "ecs:DescribeTaskDefinition", "elasticloadbalancing:DescribeTargetHealth"},
			"ecs:UpdateService", 2.0, "ecs:RegisterTaskDefinition", 1.0),
		fg(1, []string{"rds:DescribeDBInstances", "rds:DescribeDBSnapshots", "rds:DescribeDBClusters"}, "rds:ModifyDBInstance", 1.0),
		fg(1, []string{"ssm:GetParameter", "ssm:GetParametersByPath", "ssm:DescribeInstanceInformation"}, "ssm:PutParameter", 2.0),
		fg(1, []string{"monitoring:DescribeAlarms", "logs:DescribeLogGroups", "logs:DescribeLogStreams"},
			"monitoring:PutMetricAlarm", 2.0, "monitoring:DeleteAlarms", 0.3, "logs:PutRetentionPolicy", 0.5),
		fg(0.5, []string{"secretsmanager:DescribeSecret", "kms:ListAliases", "kms:DescribeKey"}, "secretsmanager:PutSecretValue", 1.0),
		fg(0.5, []string{"events:ListRules", "events:DescribeRule"}, "events:PutRule", 1.0, "events:PutTargets", 1.0),
	}
	if s.global {
		gs = append(gs, fg(1.5, []string{"iam:ListRoles", "iam:GetRole", "iam:ListAttachedRolePolicies", "iam:ListRolePolicies",
			"iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListUsers", "iam:GetUser", "iam:ListAccessKeys",
			"iam:ListGroupsForUser", "iam:ListPolicies", "sts:GetCallerIdentity"}))
	}
	return gs
}

// expSec draws an exponential number of seconds with the given mean.
func expSec(r *rand.Rand, mean float64) int64 { return int64(r.ExpFloat64() * mean) }

// genHumans simulates people at work: sessions start at a rate that follows
// the account's local business hours (with day-to-day variation) and mix
// console browsing, CLI commands and Terraform plans and applies.
func (s *stream) genHumans() {
	if len(s.humans) == 0 {
		return
	}
	r := s.rng("humans")
	groups := s.focusGroups()
	gw := make([]float64, len(groups))
	for i, g := range groups {
		gw[i] = g.w
	}
	dayF := make([]float64, s.localDays()+1)
	for i := range dayF {
		dayF[i] = logNormal(r, 0, 0.25)
	}
	p := s.proc("humans")
	perDay := 4.0 * s.scale * float64(len(s.humans))
	for m := 0; m < s.minutes; m++ {
		lam := perDay * float64(s.human[m]) * dayF[s.lday[m]] / s.humanDay
		for range poisson(r, lam) {
			s.humanSession(r, s.start+int64(m)*60+int64(r.IntN(60)), groups, gw, p)
		}
	}
}

func (s *stream) humanSession(r *rand.Rand, t int64, groups []focusGroup, gw []float64, p uint16) {
	h := s.humans[r.IntN(len(s.humans))]
	g := groups[weighted(r, gw)]
	read := func(g focusGroup) uint16 { return g.reads[r.IntN(len(g.reads))] }
	write := func(g focusGroup) (uint16, bool) {
		if len(g.writes) == 0 {
			return 0, false
		}
		return g.writes[weighted(r, g.ww)], true
	}
	switch weighted(r, []float64{0.6, 0.3, 0.1}) {
	case 0: // console
		pages := 1 + int(r.ExpFloat64()*7)
		for range pages {
			t += expSec(r, 45)
			for j := range between(r, 1, 5) {
				s.emit(r, t+int64(j/2), read(g), h.console, p)
			}
			if r.Float64() < 0.1 {
				if api, ok := write(g); ok {
					n := 1
					if s.g.cat.apis[api].name == "CreateTags" {
						n += r.IntN(4)
					}
					for j := range n {
						s.emit(r, t+2+int64(j), api, h.console, p)
					}
				}
			}
		}
	case 1: // CLI
		cmds := 1 + int(r.ExpFloat64()*5)
		for range cmds {
			t += expSec(r, 30)
			if r.Float64() < 0.15 {
				if api, ok := write(g); ok {
					s.emit(r, t, api, h.cli, p)
					continue
				}
			}
			s.emit(r, t, read(g), h.cli, p)
		}
	default: // terraform plan, sometimes apply
		gs := []focusGroup{g, groups[weighted(r, gw)], groups[weighted(r, gw)]}
		n, span := between(r, 30, 150), between(r, 60, 120)
		for range n {
			s.emit(r, t+int64(r.IntN(span)), read(gs[r.IntN(len(gs))]), h.tf, p)
		}
		if r.Float64() < 0.35 {
			t += int64(span) + expSec(r, 60)
			k, span := between(r, 2, 12), between(r, 30, 90)
			for range k {
				if api, ok := write(gs[r.IntN(len(gs))]); ok {
					s.emit(r, t+int64(r.IntN(span)), api, h.tf, p)
				}
			}
		}
	}
}

// perWeekday returns the per-minute rate of something that happens n times
// per weekday, following the human profile.
func (s *stream) perWeekday(n float64, m int) float64 {
	return n * float64(s.human[m]) / s.humanDay
}

// genSignIns records console sign-ins (in us-east-1) and the MFA session
// tokens CLI users of IAM users request.
func (s *stream) genSignIns() {
	r := s.rng("signin")
	cat := s.g.cat
	login, token := cat.id("signin", "ConsoleLogin"), cat.id("sts", "GetSessionToken")
	p := s.proc("signin")
	for m := 0; m < s.minutes; m++ {
		for _, h := range s.humans {
			if poisson(r, s.perWeekday(1.3, m)) > 0 {
				t := s.start + int64(m)*60 + int64(r.IntN(60))
				if r.Float64() < 0.03 {
					s.events = append(s.events, event{t: t, seed: r.Uint64(), api: login, actor: h.console, proc: p, flags: flagLoginFailure})
					t += int64(between(r, 10, 40))
				}
				s.emit(r, t, login, h.console, p)
			}
			if s.actors[h.cli].kind == akUser && poisson(r, s.perWeekday(0.6, m)) > 0 {
				s.emit(r, s.start+int64(m)*60+int64(r.IntN(60)), token, h.cli, p)
			}
		}
	}
}

// genIAMAdmin simulates the few IAM changes administrators make on working
// days (recorded in us-east-1).
func (s *stream) genIAMAdmin() {
	r := s.rng("iam-admin")
	cat := s.g.cat
	var admins []human
	for _, h := range s.humans {
		if h.admin {
			admins = append(admins, h)
		}
	}
	if len(admins) == 0 {
		return
	}
	writes := []string{"CreateRole", "AttachRolePolicy", "PutRolePolicy", "DetachRolePolicy", "TagRole", "UpdateAssumeRolePolicy",
		"CreatePolicy", "CreatePolicyVersion", "CreateUser", "CreateAccessKey", "DeleteAccessKey", "UpdateAccessKey",
		"AttachUserPolicy", "AddUserToGroup", "CreateLoginProfile", "DeleteRolePolicy", "PutUserPolicy"}
	ww := []float64{2, 3, 2, 1, 1, 0.5, 1, 1.5, 0.3, 0.3, 0.3, 0.3, 0.3, 0.5, 0.1, 0.5, 0.2}
	reads := cat.ids("iam:GetRole", "iam:ListRoles", "iam:ListAttachedRolePolicies", "iam:GetPolicy", "iam:ListPolicies",
		"iam:GetPolicyVersion", "iam:ListRolePolicies", "iam:GetUser")
	p := s.proc("iam-admin")
	for m := 0; m < s.minutes; m++ {
		for range poisson(r, s.perWeekday(2, m)) {
			h := admins[r.IntN(len(admins))]
			who := []uint16{h.console, h.cli, h.tf}[weighted(r, []float64{0.5, 0.2, 0.3})]
			t := s.start + int64(m)*60 + int64(r.IntN(60))
			for range between(r, 2, 10) {
				s.emit(r, t+int64(r.IntN(240)), reads[r.IntN(len(reads))], who, p)
			}
			for range between(r, 1, 5) {
				s.emit(r, t+int64(r.IntN(300)), cat.id("iam", writes[weighted(r, ww)]), who, p)
			}
		}
	}
}

// genDeploys plants routine deployments: a few per week in working hours,
// each a burst of 20-100 writes within minutes (CloudFormation updates,
// ECS rolling deployments or CodeDeploy blue/green).
func (s *stream) genDeploys(c *cast) {
	r := s.rng("deploys")
	p := s.proc("deploys")
	perWeek := 4 * math.Sqrt(s.scale)
	for m := 0; m < s.minutes; m++ {
		if s.ldow[m] == uint8(time.Saturday) || s.ldow[m] == uint8(time.Sunday) {
			continue
		}
		if poisson(r, s.perWeekday(perWeek/5, m)) > 0 {
			s.deployBurst(r, c, s.start+int64(m)*60+int64(r.IntN(60)), p)
		}
	}
}

func (s *stream) deployBurst(r *rand.Rand, c *cast, t0 int64, p uint16) {
	cat := s.g.cat
	w := min(100, max(20, int(logNormal(r, math.Log(40), 0.5))))
	dur := between(r, 120, 480)
	at := func() int64 { return t0 + int64(r.IntN(dur)) }
	emitN := func(n int, api string, actor uint16) {
		svc, name := splitAPI(api)
		id := cat.id(svc, name)
		for range n {
			s.emit(r, at(), id, actor, p)
		}
	}
	switch weighted(r, []float64{0.45, 0.35, 0.2}) {
	case 0: // CloudFormation change sets
		stacks := between(r, 1, 3)
		emitN(stacks, "cloudformation:CreateChangeSet", c.ci)
		emitN(stacks*between(r, 2, 5), "cloudformation:DescribeChangeSet", c.ci)
		emitN(stacks, "cloudformation:ExecuteChangeSet", c.ci)
		emitN(between(r, 5, 15), "cloudformation:DescribeStacks", c.ci)
		emitN(between(r, 5, 20), "cloudformation:DescribeStackEvents", c.ci)
		opts := []string{"lambda:UpdateFunctionCode20150331v2", "lambda:UpdateFunctionConfiguration20150331v2",
			"lambda:PublishVersion20150331", "ecs:RegisterTaskDefinition", "ecs:UpdateService",
			"elasticloadbalancing:ModifyTargetGroupAttributes", "ec2:CreateTags", "logs:PutRetentionPolicy",
			"events:PutRule", "events:PutTargets", "ssm:PutParameter", "monitoring:PutMetricAlarm"}
		if s.global {
			opts = append(opts, "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:TagRole")
		}
		dominant := opts[r.IntN(len(opts))]
		rest := w - 2*stacks
		emitN(rest/2, dominant, c.cfn)
		for range rest - rest/2 {
			emitN(1, opts[r.IntN(len(opts))], c.cfn)
		}
	case 1: // ECS rolling deployment
		k := between(r, 1, 4)
		emitN(k, "ecr:PutImage", c.ci)
		emitN(k, "ecs:RegisterTaskDefinition", c.ci)
		emitN(k, "ecs:UpdateService", c.ci)
		emitN(between(r, 10, 30), "ecs:DescribeServices", c.ci)
		tasks := max(1, (w-3*k)/2)
		emitN(tasks, "elasticloadbalancing:RegisterTargets", c.ecsSLR)
		emitN(tasks, "elasticloadbalancing:DeregisterTargets", c.ecsSLR)
	default: // CodeDeploy
		emitN(between(r, 1, 2), "codedeploy:CreateDeployment", c.ci)
		emitN(between(r, 10, 30), "codedeploy:GetDeployment", c.ci)
		hosts := max(1, w/2)
		emitN(hosts, "elasticloadbalancing:DeregisterTargets", c.codedeploy)
		emitN(hosts, "elasticloadbalancing:RegisterTargets", c.codedeploy)
	}
}

// genServiceEvents records AWS-initiated events (eventType
// AwsServiceEvent): the nightly run of ECR lifecycle policies, which
// expires a few images, and occasional automatic KMS key rotations.
func (s *stream) genServiceEvents(c *cast) {
	r := s.rng("service-events")
	cat := s.g.cat
	p := s.proc("service-events")
	at := between(r, 60, 300) // minute of the UTC day the ECR policies run
	for d := 0; d < s.minutes/1440; d++ {
		for range between(r, 0, 4) {
			s.emit(r, s.start+int64(d*1440+at)*60+int64(r.IntN(600)), cat.id("ecr", "PolicyExecutionEvent"), c.awsInternal, p)
		}
	}
	for range s.res.kmsKeys {
		if r.Float64() < 0.5 {
			s.emit(r, s.start+int64(r.IntN(s.minutes*60)), cat.id("kms", "RotateKey"), c.kmsSvc, p)
		}
	}
}
