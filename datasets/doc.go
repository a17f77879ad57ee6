// Package datasets generates labelled synthetic CloudTrail trails: the
// yardstick trailsight's detector is evaluated on.
//
// Generate writes a trail as CloudTrail delivers it to S3 (spec §4.1):
// AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<unique16>.json.gz,
// each file gzip({"Records":[...]}) with the records in no particular order,
// plus labels.json: the Manifest, whose Labels say where an Insight is
// expected and where nothing must be emitted. Preset returns the named
// configurations ("standard", "demo", "tiny"); cmd/trailsight exposes them
// as `trailsight gen --preset NAME --seed N --out DIR`.
//
// Nothing is tuned to any detector, and held-out data is used too: the
// model below is meant to be plausible, not convenient.
//
// # Determinism and concurrency
//
// Output is a pure function of the Config (for a given Go release, whose
// compress/gzip and embedded time zone database are part of it): every
// process draws from its own
// PCG generator seeded from (seed, preset, account, Region, process name),
// every record's details derive from a 64-bit per-event seed, time zones
// come from the embedded tz database, and file names hash the file body.
// Streams (one per account+Region) are generated and files written by
// Config.Workers goroutines; the bytes do not depend on their number.
// Generate never reads the wall clock. Separate Generate calls are
// independent and may run concurrently on different directories.
//
// # Records
//
// Records are built from a catalogue of about 190 APIs across EC2, S3
// (management and data events), Lambda, CloudFormation, ECS, ELB, CodeDeploy,
// Auto Scaling, SSM, CloudWatch Logs, KMS, STS, IAM, sign-in, Secrets
// Manager, ECR, RDS, Glue, Athena, Route 53, Config, CloudWatch, EventBridge
// and DynamoDB. Each API has its readOnly flag as AWS sets it (STS
// GetSessionToken is a write; AssumeRole, KMS Decrypt and ECR BatchGetImage
// are reads), request parameters shaped like the real API, response
// elements for successful writes (null for reads and failures), resources,
// additionalEventData where AWS adds it, and a normal error profile
// (ThrottlingException 0.2%, NoSuchBucketPolicy 45% of posture-scanner
// reads, CloudFormation "No updates are to be performed" 12%...).
// userIdentity is an STS assumed-role session (with sessionContext,
// hourly-rotating ASIA keys, ec2RoleDelivery for instance profiles), an IAM
// user (AKIA keys for the CLI, console sessions with MFA), an AWS service, or
// a service event. User agents are those of aws-cli v2 (with the command),
// Boto3, the Java, JS and Go SDKs, the SSM and ECS agents, Terraform,
// browsers and AWS services. Records average about 1.5 KB. Identifiers use
// fictitious account IDs, example.com and the documentation IP ranges.
// IAM, STS, Route 53 and console sign-in are recorded in us-east-1.
//
// # Normal behaviour
//
// Each account has a time zone; each of its Regions a volume Scale (1 is a
// busy production Region, about 25k records a day). Per account+Region:
//
//   - Steady clients: overdispersed Poisson arrivals (Gamma-Poisson, shape
//     2-8) around a rate that follows application load in local time (broad
//     afternoon peak, quieter weekends) or the instance fleet, with a linear
//     trend of ±10-20% over the dataset. The SSM agent of every instance
//     (UpdateInstanceInformation every 5 minutes, association status and
//     ListInstanceAssociations), Lambda log streams, application KMS,
//     Secrets Manager, SSM parameter, ECR and DynamoDB calls, STS AssumeRole
//     by applications and AWS services, and S3 data events
//     (GetObject/PutObject/HeadObject/ListObjects/DeleteObject).
//   - Autoscaling: the fleet grows by about half on weekday mornings (07:30
//     local) and shrinks back in the evening (19:30), plus about one
//     target-tracking change a day in working hours: RunInstances, kms CreateGrant and ELB RegisterTargets by
//     the Auto Scaling service-linked role, CompleteLifecycleAction by a hook
//     Lambda, then DeregisterTargets and TerminateInstances. The fleet size
//     drives the agents' steady traffic.
//   - Scheduled jobs: a service-discovery poll every 1-2 minutes
//     (DescribeInstances), a monitoring vendor's crawler every 5-10 minutes,
//     an hourly security-posture scan (S3 bucket Get* calls, many of which
//     fail routinely, IAM and inventory reads), and a seeded selection of
//     writing jobs: ECS RunTask every 5-10 minutes, Glue StartJobRun every
//     15-30, Athena reports every 30-60, SSM SendCommand hourly, Config
//     PutEvaluations every 30, Route 53 updates every 10-15 (us-east-1),
//     and daily jobs at fixed local times (DLM snapshots and retention at
//     02:00, RDS snapshots at 03:30, log exports at 01:15).
//   - People: sessions start at a rate following local business hours (peaks
//     at 10:30 and 15:00, a lunch dip, an evening tail; a weekend day has 7% of
//     a weekday's activity) with day-to-day variation; 60% console browsing (pages of 1-5 reads, a write
//     now and then), 30% CLI commands, 10% Terraform plans (30-150 reads in a
//     minute or two) and sometimes applies (2-12 writes).
//   - In us-east-1, console sign-ins (3% failing), MFA session tokens, and
//     a few IAM changes a working day by the account's administrators.
//   - Deployments: about four a week (scaled by √Scale) in working hours,
//     bursts of 20-100 writes within 2-8 minutes: CloudFormation change sets
//     whose resource updates often hit one API many times, ECS rolling
//     deployments (image push, task definition, service update, target
//     registration by the ECS service role) or CodeDeploy blue/green.
//   - AWS service events: the nightly ECR lifecycle-policy run
//     (PolicyExecutionEvent) and occasional automatic KMS key rotations.
//
// Delivery follows CloudTrail: the records of [t, t+5m) go into one file per
// account+Region named with delivery minute t+5m plus 0-4 minutes; 1% of
// records miss their window and arrive in the next file.
//
// # Planted incidents
//
// Incidents are placed at random (seeded) minutes after warm-up, at any hour,
// at least an hour apart on one API and ending at least 30 minutes before
// the dataset ends. Each incident produces one Label per affected API,
// sharing a Group. Label.Start/End are minute-aligned UTC, [Start, End).
//
//   - provisioning_spike (ApiCallRateInsight): RunInstances (+CreateTags) by
//     the CI role or a person's CLI, RunInstances by a never-seen IAM user
//     with a stolen key, or CreateVolume+AttachVolume by an operations role,
//     at 5-20 times the API's baseline (the larger of its 7-day average and
//     its rate a week earlier in the same window, at least 0.1/min) for
//     10-60 minutes. Principal is the caller.
//   - iam_burst_new_principal (ApiCallRateInsight, us-east-1): a never-seen
//     IAM user or role session makes 15-60 IAM writes in 5-20 minutes: mass
//     user creation (CreateUser, CreateAccessKey, AttachUserPolicy or
//     PutUserPolicy, referring to the users it creates), role persistence
//     (CreateRole, AttachRolePolicy, maybe PutRolePolicy) or access keys for
//     existing users. Each API with at least 10 calls is labelled from its
//     first to its last call.
//   - periodic_gap (ApiCallRateInsight, a drop): a job that writes every 5-60
//     minutes stops for 1-4 hours. Start is the first missed run's minute,
//     End the last missed run plus the period.
//   - steady_drop (ApiCallRateInsight, a drop): a steady writing client keeps
//     0-20% of its calls for 30-120 minutes. When the SSM agents fail, all
//     their writing series busy enough to show it (10+ expected calls) drop
//     together.
//   - error_surge_write, error_surge_read (ApiErrorRateInsight, ErrorCode
//     set): exactly 30-90% of a write (read) API's calls fail with one code
//     (AccessDeniedException, ThrottlingException,
//     Client.UnauthorizedOperation, Client.RequestLimitExceeded,
//     AccessDenied) for 10-45 minutes. APIs are drawn in proportion to their
//     traffic and the window must see at least one call a minute (0.5 if
//     nothing busier is free). The call volume is unchanged.
//
// # Traps: activity that must produce no Insight
//
//   - level_shift: a steady writing client's rate changes for good by
//     +40..+80% or -30..-40% at a random minute after warm-up. A shift that
//     lasts is normal after at most a day; the label covers that day so an
//     evaluation can report Insights it causes separately.
//   - trap_readonly_spike: an audit script (a new SecurityAudit role session
//     or a person's CLI) calls 1-3 Describe/List APIs at 20 times their rate
//     for 30 minutes. Read-only calls never count for call-rate Insights, and
//     these all succeed.
//   - trap_data_event_spike: a bulk download: S3 GetObject (and HeadObject)
//     data events at 50 times their rate for 15-45 minutes.
//   - trap_duplicate_delivery: the records of a 5-30 minute stretch are
//     delivered a second time, same eventIDs, in an extra file 5-30 minutes
//     after the last regular one.
//   - trap_late_delivery: every file of a 15-30 minute stretch arrives 20-45
//     minutes late (its records carry addendum DELIVERY_DELAY); later files
//     arrive on time.
//
// Delivery traps stay 30 minutes clear of labelled anomalies in their
// account+Region. Incidents that find no room or no suitable API are listed
// in Manifest.Counts.Skipped rather than forced.
//
// # Not modelled
//
// Organization trails, digest files, CloudWatch Logs delivery, Insights
// records, cross-account events (sharedEventID), VPC endpoint fields, and
// daylight-saving transitions beyond what the time zone database implies
// (they occur if the configured dates cross one).
package datasets
