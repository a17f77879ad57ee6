package datasets

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// resources are the names and IDs one account+Region's records refer to.
// They are drawn once per stream so the same instances, buckets and
// functions recur, as in a real account.
type resources struct {
	acctName, env, domain                          string
	svcs, teams                                    []string
	instances, amis, sgs, subnets, vpcs, volumes   []string
	buckets, functions, stacks, stackIDs, clusters []string
	services, taskFams, tgs, tgIDs, repos          []string
	roles, users, groups, logGroups, kmsKeys       []string
	secrets, sfx, params, dbs, glueJobs, zones     []string
	asgs, alarms, rules, azs, natIPs, officeIPs    []string
	taskIDs                                        []string
	policyARNs                                     []string
}

var serviceWords = []string{"orders", "billing", "auth", "search", "payments", "inventory", "catalog", "notify", "reports", "ingest", "checkout", "profile"}

func hexID(r *rand.Rand, prefix string, n int) string {
	return prefix + chars(r.Uint64(), n, hexDigits)
}

func newResources(r *rand.Rand, acct *AccountSpec, region string, scale float64) *resources {
	env := "prod"
	if i := strings.LastIndexByte(acct.Name, '-'); i >= 0 && i+1 < len(acct.Name) {
		env = acct.Name[i+1:]
	}
	res := &resources{acctName: acct.Name, env: env, domain: acct.Name + ".example.com"}
	words := append([]string(nil), serviceWords...)
	r.Shuffle(len(words), func(i, j int) { words[i], words[j] = words[j], words[i] })
	res.svcs = words[:6]
	res.teams = []string{"platform", "data", "payments", "web", "sre"}
	n := func(base int) int { return max(2, int(float64(base)*min(scale, 2)+0.5)) }
	for range n(40) {
		res.instances = append(res.instances, hexID(r, "i-0", 16))
		res.volumes = append(res.volumes, hexID(r, "vol-0", 16))
	}
	for range 4 {
		res.amis = append(res.amis, hexID(r, "ami-0", 16))
	}
	for range 6 {
		res.sgs = append(res.sgs, hexID(r, "sg-0", 16))
		res.subnets = append(res.subnets, hexID(r, "subnet-0", 16))
	}
	res.vpcs = []string{hexID(r, "vpc-0", 16), hexID(r, "vpc-0", 16)}
	for _, z := range []string{"a", "b", "c"} {
		res.azs = append(res.azs, region+z)
	}
	for _, s := range res.svcs {
		res.functions = append(res.functions, s+"-"+env+"-handler", s+"-"+env+"-worker")
		res.stacks = append(res.stacks, s+"-"+env)
		res.stackIDs = append(res.stackIDs, uuid(r.Uint64()))
		res.services = append(res.services, s+"-api")
		res.taskFams = append(res.taskFams, s+"-"+env)
		res.tgs = append(res.tgs, s+"-"+env+"-tg")
		res.tgIDs = append(res.tgIDs, chars(r.Uint64(), 16, hexDigits))
		res.repos = append(res.repos, s)
		res.roles = append(res.roles, s+"-"+env+"-role", s+"-lambda-exec")
		res.logGroups = append(res.logGroups, "/aws/lambda/"+s+"-"+env+"-handler", "/ecs/"+s+"-"+env)
		res.secrets = append(res.secrets, env+"/"+s+"/db")
		res.sfx = append(res.sfx, chars(r.Uint64(), 6, base62[10:]))
		res.params = append(res.params, "/"+env+"/"+s+"/config", "/"+env+"/"+s+"/feature-flags")
		res.asgs = append(res.asgs, s+"-"+env+"-asg")
		res.alarms = append(res.alarms, s+"-"+env+"-cpu-high", s+"-"+env+"-5xx")
		res.rules = append(res.rules, s+"-"+env+"-schedule")
	}
	for _, b := range []string{"logs", "artifacts", "data", "backups", res.svcs[0], res.svcs[1], res.svcs[2], "athena-results"}[:max(2, min(8, int(8*scale+0.5)))] {
		res.buckets = append(res.buckets, acct.Name+"-"+b+"-"+region)
	}
	res.clusters = []string{env + "-cluster", env + "-batch"}
	res.users = []string{"ci-deployer", "backup-exporter", "grafana-reader", "legacy-batch"}
	res.groups = []string{"admins", "developers", "readonly"}
	for range 4 {
		res.kmsKeys = append(res.kmsKeys, uuid(r.Uint64()))
	}
	res.dbs = []string{res.svcs[0] + "-" + env + "-db", res.svcs[1] + "-" + env + "-db"}
	res.glueJobs = []string{res.svcs[0] + "-daily-etl", "events-compaction", res.svcs[2] + "-export"}
	res.zones = []string{"Z0" + chars(r.Uint64(), 12, upperAlnum), "Z0" + chars(r.Uint64(), 14, upperAlnum)}
	for range 16 {
		res.taskIDs = append(res.taskIDs, chars(r.Uint64(), 32, hexDigits))
	}
	res.natIPs = []string{fmt.Sprintf("198.51.100.%d", between(r, 2, 250)), fmt.Sprintf("198.51.100.%d", between(r, 2, 250))}
	res.officeIPs = []string{fmt.Sprintf("203.0.113.%d", between(r, 2, 120)), fmt.Sprintf("203.0.113.%d", between(r, 121, 250))}
	res.policyARNs = []string{
		"arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
		"arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy", "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
		"arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole", "arn:aws:iam::" + acct.ID + ":policy/" + res.svcs[0] + "-access",
	}
	return res
}

// actorKind is the shape of a record's userIdentity.
type actorKind uint8

const (
	_            actorKind = iota
	akRole                 // AssumedRole: STS session of an IAM role
	akUser                 // IAMUser
	akService              // AWSService
	akServiceEvt           // service event: accountId and invokedBy only
)

// actor is a principal together with how it calls AWS: its user agents,
// source addresses and session names. Several actors may share one IAM
// identity (a person's console and CLI use).
type actor struct {
	kind      actorKind
	role      string // IAM role name (akRole)
	rolePath  string
	roleID    string // AROA...
	user      string // IAM user name (akUser)
	userID    string // AIDA...
	akia      string // long-term access key; "" means session credentials
	sessions  []string
	uas       []*tmpl
	ips       []string
	invokedBy string
	mfa       bool
	ec2Role   bool // credentials delivered by instance metadata (sessionContext.ec2RoleDelivery)
	console   bool // calls made from the console (sessionCredentialFromConsole)
	noTLS     bool // calls made by AWS services carry no tlsDetails
}

// arn returns the userIdentity.arn of session i.
func (a *actor) arn(acct string, i int) string {
	switch a.kind {
	case akRole:
		return "arn:aws:sts::" + acct + ":assumed-role/" + a.role + "/" + a.sessions[i]
	case akUser:
		return "arn:aws:iam::" + acct + ":user/" + a.user
	}
	return ""
}

// principal returns the ARN every call of a carries, or "" when its calls
// are spread over several sessions (and so several ARNs).
func (a *actor) principal(acct string) string {
	if a.kind == akRole && len(a.sessions) != 1 {
		return ""
	}
	return a.arn(acct, 0)
}

// idFor derives a stable IAM unique ID (AROA..., AIDA...) for a name.
func idFor(prefix, acct, name string) string {
	return prefix + chars(hashString(acct+"/"+name, 11), 17, upperAlpha)
}

func roleActor(acct, name, path string, sessions []string, uas []string, ips []string) *actor {
	return &actor{kind: akRole, role: name, rolePath: path, roleID: idFor("AROA", acct, name),
		sessions: sessions, uas: compileAll(uas...), ips: ips}
}

func serviceRoleActor(acct, name, service, session string) *actor {
	a := roleActor(acct, name, "/aws-service-role/"+service+"/", []string{session}, []string{service}, []string{service})
	a.invokedBy, a.noTLS = service, true
	return a
}

func userActor(acct, name string, uas, ips []string) *actor {
	return &actor{kind: akUser, user: name, userID: idFor("AIDA", acct, name),
		akia: "AKIA" + chars(hashString(acct+"/key/"+name, 12), 16, upperAlpha), uas: compileAll(uas...), ips: ips}
}

// User agents. ${cmd} and ${svcid} make the agent depend on the API called,
// as aws-cli v2 and the v2/v3 SDKs do.
const (
	uaSSMAgent  = "aws-sdk-go/1.54.0 (go1.22.4; linux; amd64) amazon-ssm-agent/3.3.1142.0"
	uaLambdaLog = "awslambda-worker/1.0 rusoto/0.48.0 rust/1.76.0 linux"
	uaJava      = "aws-sdk-java/2.25.60 Linux/5.10.219-208.866.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.11+9-LTS Java/17.0.11 vendor/Amazon.com_Inc. md/internal exec-env/AWS_ECS_FARGATE io/sync http/Apache cfg/retry-mode/legacy"
	uaBotoLamb  = "Boto3/1.34.145 md/Botocore#1.34.145 ua/2.0 os/linux#5.10.219-229.866.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.4 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 cfg/retry-mode#legacy Botocore/1.34.145"
	uaBotoEC2   = "Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#6.1.97-104.177.amzn2023.x86_64 md/arch#x86_64 lang/python#3.9.16 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.69"
	uaJSLambda  = "aws-sdk-js/3.614.0 ua/2.0 os/linux#5.10.219-229.866.amzn2.x86_64 lang/js md/nodejs#20.15.1 api/${svcid}#3.614.0 exec-env/AWS_Lambda_nodejs20.x"
	uaGoV2      = "aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/${svcid}#1.170.0"
	uaGoV1      = "aws-sdk-go/1.55.5 (go1.22.7; linux; amd64)"
	uaECSAgent  = "aws-sdk-go/1.54.13 (go1.21.11; linux; amd64) amazon-ecs-agent/1.85.1"
	uaExtDNS    = "aws-sdk-go/1.50.38 (go1.22.5; linux; amd64) ExternalDNS/v0.14.2"
	uaDatadog   = "Boto3/1.34.37 md/Botocore#1.34.37 ua/2.0 os/linux#5.15.0-1052-aws md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard Botocore/1.34.37 datadog-aws-crawler"
	uaTerraform = "APN/1.0 HashiCorp/1.0 Terraform/1.9.2 (+https://www.terraform.io) terraform-provider-aws/5.59.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.30.3 ua/2.0 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/${svcid}#1.58.3"
	uaGHA       = "aws-cli/2.17.13 md/awscrt#0.20.11 ua/2.0 os/linux#6.5.0-1023-azure md/arch#x86_64 lang/python#3.11.9 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.22 md/prompt#off md/command#${cmd}"
	uaConsole   = "console.amazonaws.com"
	uaAWSInt    = "AWS Internal"
)

var browserUAs = []string{
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:128.0) Gecko/20100101 Firefox/128.0",
	"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36",
}

var humanNames = []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "wendy", "yves"}

// human is a person working in an account, with the three ways they call
// AWS: the console, the CLI and Terraform run from a laptop.
type human struct {
	admin            bool
	console, cli, tf uint16 // actor indices in the stream
}

// humanActors builds a person's actors. The identity (SSO role session or
// IAM user) depends only on the account, so it is the same in every Region.
func humanActors(acct *AccountSpec, i int, office []string) (console, cli, tf *actor, admin bool) {
	name := humanNames[i%len(humanNames)]
	if i >= len(humanNames) {
		name += fmt.Sprint(i / len(humanNames))
	}
	admin = i < 2
	h := hashString(acct.ID+"/human/"+name, 1)
	sso := h%3 != 0 // two thirds use IAM Identity Center
	cliUA := fmt.Sprintf("aws-cli/2.%d.%d md/awscrt#0.19.19 ua/2.0 os/macos#23.%d.0 md/arch#arm64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/prompt#off md/command#${cmd}",
		13+h%5, h>>8%30, h>>16%6)
	browser := browserUAs[h>>24%uint64(len(browserUAs))]
	ips := []string{office[h>>32%uint64(len(office))]}
	if h>>40%4 == 0 { // works from home too
		ips = append(ips, fmt.Sprintf("192.0.2.%d", 2+h>>44%250))
	}
	if sso {
		set := "PowerUserAccess"
		if admin {
			set = "AdministratorAccess"
		}
		role := "AWSReservedSSO_" + set + "_" + chars(hashString(acct.ID+"/sso/"+set, 2), 16, hexDigits)
		path := "/aws-reserved/sso.amazonaws.com/"
		email := name + "@example.com"
		console = roleActor(acct.ID, role, path, []string{email}, []string{browser, browser, uaConsole}, ips)
		console.console = true
		cli = roleActor(acct.ID, role, path, []string{email}, []string{cliUA}, ips)
		tf = roleActor(acct.ID, role, path, []string{email}, []string{uaTerraform}, ips)
		return console, cli, tf, admin
	}
	console = userActor(acct.ID, name, []string{browser, browser, uaConsole}, ips)
	console.akia, console.console, console.mfa = "", true, true
	cli = userActor(acct.ID, name, []string{cliUA}, ips)
	tf = userActor(acct.ID, name, []string{uaTerraform}, ips)
	return console, cli, tf, admin
}
