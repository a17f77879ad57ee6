package datasets

import (
	"fmt"
	"strings"
)

// apiDef describes one CloudTrail API (eventSource, eventName): how AWS flags
// it and how its records look.
type apiDef struct {
	source    string // eventSource, e.g. ec2.amazonaws.com
	name      string // eventName
	svc       string // short service id: ec2, s3, iam ...
	readOnly  bool
	data      bool    // data event: eventCategory Data, managementEvent false
	eventType string  // AwsApiCall unless set
	global    bool    // recorded in us-east-1 whatever the caller's Region
	version   string  // eventVersion
	req       []*tmpl // alternatives, picked per event; none = null
	resp      *tmpl   // successful writes only; nil = null
	resources *tmpl
	extra     *tmpl // additionalEventData
	svcEvent  *tmpl // serviceEventDetails
	errs      []errSpec
	surge     []string // error codes an error surge may use on this API
}

// errSpec is one error an API returns in normal operation.
type errSpec struct {
	code string
	p    float64
}

// catalog is the table of APIs the generator knows.
type catalog struct {
	apis  []*apiDef
	index map[string]uint16
	// errCodes interns error codes; event.err is an index into it plus one.
	errCodes []string
	errIndex map[string]uint16
	errMsgs  map[string]*tmpl
	// errMsgAPI overrides messages for one API: "source name code".
	errMsgAPI map[string]*tmpl
}

func (c *catalog) add(svc, name string, ro bool, req string, resp string) *apiDef {
	a := &apiDef{source: svc + ".amazonaws.com", name: name, svc: svc, readOnly: ro, version: "1.08"}
	switch svc {
	case "ec2", "ssm", "sts", "kms", "s3":
		a.version = "1.09"
	}
	switch svc {
	case "iam", "sts", "route53", "signin":
		a.global = true
	}
	if req != "" {
		a.req = compileAll(strings.Split(req, "\n|\n")...)
	}
	if resp != "" {
		a.resp = compile(resp)
	}
	key := a.source + " " + name
	if _, dup := c.index[key]; dup {
		panic("BUG: datasets: duplicate API " + key)
	}
	c.index[key] = uint16(len(c.apis))
	c.apis = append(c.apis, a)
	return a
}

func (a *apiDef) withErrs(pairs ...any) *apiDef {
	for i := 0; i < len(pairs); i += 2 {
		a.errs = append(a.errs, errSpec{code: pairs[i].(string), p: pairs[i+1].(float64)})
	}
	return a
}

func (a *apiDef) withSurge(codes ...string) *apiDef { a.surge = codes; return a }
func (a *apiDef) withRes(s string) *apiDef          { a.resources = compile(s); return a }
func (a *apiDef) withExtra(s string) *apiDef        { a.extra = compile(s); return a }

// id returns the index of an API; an unknown API is a bug in the generator.
func (c *catalog) id(svc, name string) uint16 {
	i, ok := c.index[svc+".amazonaws.com "+name]
	if !ok {
		panic(fmt.Sprintf("BUG: datasets: unknown API %s %s", svc, name))
	}
	return i
}

// ids resolves "svc:Name" pairs.
func (c *catalog) ids(names ...string) []uint16 {
	out := make([]uint16, len(names))
	for i, n := range names {
		svc, name, _ := strings.Cut(n, ":")
		out[i] = c.id(svc, name)
	}
	return out
}

// errID interns an error code.
func (c *catalog) errID(code string) uint16 {
	if i, ok := c.errIndex[code]; ok {
		return i
	}
	c.errCodes = append(c.errCodes, code)
	i := uint16(len(c.errCodes))
	c.errIndex[code] = i
	return i
}

const (
	s3Host   = `"Host":"${bucket}.s3.${region}.amazonaws.com"`
	s3Bucket = `"bucketName":"${bucket}",` + s3Host
	s3Res    = `[{"accountId":"${acct}","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::${bucket}"}]`
	s3ObjRes = `[{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::${bucket}/${objkey}"},{"accountId":"${acct}","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::${bucket}"}]`
	kmsRes   = `[{"accountId":"${acct}","type":"AWS::KMS::Key","ARN":"arn:aws:kms:${region}:${acct}:key/${kms}"}]`
	tgARN    = `arn:aws:elasticloadbalancing:${region}:${acct}:targetgroup/${tg}/${tgid}`
	policyJS = `{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"s3:GetObject\",\"s3:PutObject\"],\"Resource\":\"arn:aws:s3:::${bucket}/*\"}]}`
	trustJS  = `{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"lambda.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}`
	s3Extra  = `{"SignatureVersion":"SigV4","CipherSuite":"TLS_AES_128_GCM_SHA256","bytesTransferredIn":0,"AuthenticationMethod":"AuthHeader","x-amz-id-2":"${xamzid2}","bytesTransferredOut":${n100}}`
)

// newCatalog builds the API table. It is rebuilt per Generate call (it is
// cheap) so the package holds no mutable state.
func newCatalog() *catalog {
	c := &catalog{index: map[string]uint16{}, errIndex: map[string]uint16{}, errMsgs: map[string]*tmpl{}, errMsgAPI: map[string]*tmpl{}}
	const R, W = true, false

	// EC2.
	c.add("ec2", "RunInstances", W,
		`{"instancesSet":{"items":[{"imageId":"${ami}","minCount":1,"maxCount":1}]},"instanceType":"${itype}","blockDeviceMapping":{},"monitoring":{"enabled":false},"disableApiTermination":false,"disableApiStop":false,"clientToken":"${uuid2}","tagSpecificationSet":{"items":[{"resourceType":"instance","tags":[{"key":"Name","value":"${svc}-${env}"},{"key":"team","value":"${team}"}]}]},"launchTemplate":{"launchTemplateId":"lt-0${hex16}","version":"$Latest"}}`,
		`{"requestId":"${reqid}","reservationId":"r-0${hex16}","ownerId":"${acct}","groupSet":{},"instancesSet":{"items":[{"instanceId":"${newinst}","imageId":"${ami}","currentInstanceBootMode":"uefi","instanceState":{"code":0,"name":"pending"},"privateDnsName":"ip-10-${o1}-${o2}-${o3}.${region}.compute.internal","amiLaunchIndex":0,"productCodes":{},"instanceType":"${itype}","launchTime":${epochms},"placement":{"availabilityZone":"${az}","tenancy":"default"},"monitoring":{"state":"disabled"},"subnetId":"${subnet}","vpcId":"${vpc}","privateIpAddress":"10.${o1}.${o2}.${o3}","stateReason":{"code":"pending","message":"pending"},"architecture":"x86_64","rootDeviceType":"ebs","rootDeviceName":"/dev/xvda","blockDeviceMapping":{},"virtualizationType":"hvm","hypervisor":"xen","groupSet":{"items":[{"groupId":"${sg}","groupName":"${svc}-${env}"}]},"sourceDestCheck":true,"ebsOptimized":false,"enaSupport":true,"cpuOptions":{"coreCount":1,"threadsPerCore":2},"capacityReservationSpecification":{"capacityReservationPreference":"open"},"enclaveOptions":{"enabled":false},"metadataOptions":{"state":"pending","httpTokens":"required","httpPutResponseHopLimit":2,"httpEndpoint":"enabled","httpProtocolIpv4":"enabled","httpProtocolIpv6":"disabled","instanceMetadataTags":"disabled"},"maintenanceOptions":{"autoRecovery":"default"},"privateDnsNameOptions":{"hostnameType":"ip-name","enableResourceNameDnsARecord":false,"enableResourceNameDnsAAAARecord":false}}]}}`).
		withErrs("Client.InvalidParameterValue", 0.006, "Server.InsufficientInstanceCapacity", 0.004).
		withSurge("Client.UnauthorizedOperation", "Client.RequestLimitExceeded")
	c.add("ec2", "TerminateInstances", W, `{"instancesSet":{"items":[{"instanceId":"${inst}"}]}}`,
		`{"requestId":"${reqid}","instancesSet":{"items":[{"instanceId":"${inst}","currentState":{"code":32,"name":"shutting-down"},"previousState":{"code":16,"name":"running"}}]}}`).
		withErrs("Client.OperationNotPermitted", 0.008)
	c.add("ec2", "StartInstances", W, `{"instancesSet":{"items":[{"instanceId":"${inst}"}]}}`,
		`{"requestId":"${reqid}","instancesSet":{"items":[{"instanceId":"${inst}","currentState":{"code":0,"name":"pending"},"previousState":{"code":80,"name":"stopped"}}]}}`)
	c.add("ec2", "StopInstances", W, `{"instancesSet":{"items":[{"instanceId":"${inst}"}]},"force":false}`,
		`{"requestId":"${reqid}","instancesSet":{"items":[{"instanceId":"${inst}","currentState":{"code":64,"name":"stopping"},"previousState":{"code":16,"name":"running"}}]}}`)
	c.add("ec2", "CreateTags", W, `{"resourcesSet":{"items":[{"resourceId":"${inst}"}]},"tagSet":{"items":[{"key":"${tagkey}","value":"${tagval}"}]}}`,
		`{"requestId":"${reqid}","_return":true}`).
		withErrs("Client.InvalidInstanceID.NotFound", 0.004).
		withSurge("Client.UnauthorizedOperation", "Client.RequestLimitExceeded")
	c.add("ec2", "DeleteTags", W, `{"resourcesSet":{"items":[{"resourceId":"${inst}"}]},"tagSet":{"items":[{"key":"${tagkey}"}]}}`,
		`{"requestId":"${reqid}","_return":true}`)
	c.add("ec2", "CreateVolume", W, `{"size":${volsize},"zone":"${az}","volumeType":"gp3","encrypted":true,"tagSpecificationSet":{"items":[{"resourceType":"volume","tags":[{"key":"team","value":"${team}"}]}]}}`,
		`{"requestId":"${reqid}","volumeId":"${newvol}","size":"${volsize}","zone":"${az}","status":"creating","createTime":${epochms},"volumeType":"gp3","iops":3000,"encrypted":true,"masterEncryptionKeyId":"arn:aws:kms:${region}:${acct}:key/${kms}","tagSet":{"items":[{"key":"team","value":"${team}"}]},"multiAttachEnabled":false,"throughput":125}`)
	c.add("ec2", "AttachVolume", W, `{"volumeId":"${vol}","instanceId":"${inst}","device":"/dev/sdf"}`,
		`{"requestId":"${reqid}","volumeId":"${vol}","instanceId":"${inst}","device":"/dev/sdf","status":"attaching","attachTime":${epochms},"deleteOnTermination":false}`)
	c.add("ec2", "DeleteVolume", W, `{"volumeId":"${vol}"}`, `{"requestId":"${reqid}","_return":true}`)
	c.add("ec2", "CreateSnapshot", W, `{"volumeId":"${vol}","description":"Created for policy: policy-0${hex16} schedule: Default Schedule","tagSpecificationSet":{"items":[{"resourceType":"snapshot","tags":[{"key":"dlm:managed","value":"true"},{"key":"aws:dlm:lifecycle-schedule-name","value":"Default Schedule"}]}]}}`,
		`{"requestId":"${reqid}","snapshotId":"${newsnap}","volumeId":"${vol}","status":"pending","startTime":${epochms},"progress":"","ownerId":"${acct}","volumeSize":${volsize},"encrypted":true,"storageTier":"standard"}`)
	c.add("ec2", "DeleteSnapshot", W, `{"snapshotId":"snap-0${hex16}"}`, `{"requestId":"${reqid}","_return":true}`)
	c.add("ec2", "AuthorizeSecurityGroupIngress", W, `{"groupId":"${sg}","ipPermissions":{"items":[{"ipProtocol":"tcp","fromPort":${port},"toPort":${port},"groups":{},"ipRanges":{"items":[{"cidrIp":"${cidr}"}]},"ipv6Ranges":{},"prefixListIds":{}}]}}`,
		`{"requestId":"${reqid}","_return":true,"securityGroupRuleSet":{"items":[{"groupOwnerId":"${acct}","groupId":"${sg}","securityGroupRuleId":"sgr-0${hex16}","isEgress":false,"ipProtocol":"tcp","fromPort":${port},"toPort":${port},"cidrIpv4":"${cidr}"}]}}`).
		withErrs("Client.InvalidPermission.Duplicate", 0.05)
	c.add("ec2", "CreateSecurityGroup", W, `{"groupName":"${svc}-${env}-${hex8}","groupDescription":"Managed by Terraform","vpcId":"${vpc}"}`,
		`{"requestId":"${reqid}","_return":true,"groupId":"sg-0${hex16}"}`)
	c.add("ec2", "ModifyInstanceAttribute", W, `{"instanceId":"${inst}","instanceType":{"value":"${itype}"}}`, `{"requestId":"${reqid}","_return":true}`)
	c.add("ec2", "CreateLaunchTemplateVersion", W, `{"CreateLaunchTemplateVersionRequest":{"LaunchTemplateId":"lt-0${hex16}","SourceVersion":"$Latest","LaunchTemplateData":{"ImageId":"${ami}"}}}`,
		`{"CreateLaunchTemplateVersionResponse":{"xmlns":"http://ec2.amazonaws.com/doc/2016-11-15/","requestId":"${reqid}","launchTemplateVersion":{"launchTemplateId":"lt-0${hex16}","versionNumber":${n100},"createTime":"${time}","createdBy":"${arn}","defaultVersion":false}}}`)
	c.add("ec2", "ImportKeyPair", W, `{"keyName":"deploy-${hex8}","publicKeyMaterial":"<sensitiveDataRemoved>"}`,
		`{"requestId":"${reqid}","keyName":"deploy-${hex8}","keyFingerprint":"SHA256:${up20}","keyPairId":"key-0${hex16}"}`)
	c.add("ec2", "DescribeInstances", R, `{"instancesSet":{},"filterSet":{"items":[{"name":"instance-state-name","valueSet":{"items":[{"value":"running"},{"value":"pending"}]}}]}}`+"\n|\n"+`{"maxResults":1000,"instancesSet":{},"filterSet":{}}`+"\n|\n"+`{"instancesSet":{"items":[{"instanceId":"${inst}"}]},"filterSet":{}}`, "").
		withErrs("Client.UnauthorizedOperation", 0.002).
		withSurge("Client.UnauthorizedOperation", "Client.RequestLimitExceeded")
	c.add("ec2", "DescribeInstanceStatus", R, `{"instancesSet":{},"filterSet":{},"includeAllInstances":true}`, "")
	c.add("ec2", "DescribeVolumes", R, `{"volumeSet":{},"filterSet":{}}`+"\n|\n"+`{"volumeSet":{"items":[{"volumeId":"${vol}"}]},"filterSet":{}}`, "")
	c.add("ec2", "DescribeSnapshots", R, `{"snapshotSet":{},"ownersSet":{"items":[{"owner":"self"}]},"sharedUsersSet":{},"filterSet":{},"maxResults":1000}`, "")
	c.add("ec2", "DescribeSecurityGroups", R, `{"securityGroupSet":{},"securityGroupIdSet":{"items":[{"groupId":"${sg}"}]},"filterSet":{}}`+"\n|\n"+`{"securityGroupSet":{},"securityGroupIdSet":{},"filterSet":{"items":[{"name":"vpc-id","valueSet":{"items":[{"value":"${vpc}"}]}}]}}`, "")
	c.add("ec2", "DescribeSubnets", R, `{"subnetSet":{},"filterSet":{"items":[{"name":"vpc-id","valueSet":{"items":[{"value":"${vpc}"}]}}]}}`, "")
	c.add("ec2", "DescribeVpcs", R, `{"vpcSet":{},"filterSet":{}}`, "")
	c.add("ec2", "DescribeImages", R, `{"executableBySet":{},"imagesSet":{"items":[{"imageId":"${ami}"}]},"ownersSet":{},"availabilityZoneSet":{},"filterSet":{}}`, "")
	c.add("ec2", "DescribeNetworkInterfaces", R, `{"networkInterfaceIdSet":{},"filterSet":{"items":[{"name":"vpc-id","valueSet":{"items":[{"value":"${vpc}"}]}}]}}`, "")
	c.add("ec2", "DescribeRegions", R, `{"regionSet":{},"allRegions":false}`, "")
	c.add("ec2", "DescribeAddresses", R, `{"publicIpsSet":{},"allocationIdsSet":{},"filterSet":{}}`, "")
	c.add("ec2", "DescribeTags", R, `{"filterSet":{"items":[{"name":"resource-id","valueSet":{"items":[{"value":"${inst}"}]}}]}}`, "")
	c.add("ec2", "DescribeLaunchTemplates", R, `{"launchTemplateIdSet":{},"launchTemplateNameSet":{},"filterSet":{}}`, "")
	c.add("ec2", "DescribeAvailabilityZones", R, `{"availabilityZoneSet":{},"availabilityZoneIdSet":{},"filterSet":{}}`, "")
	c.add("ec2", "DescribeInstanceTypes", R, `{"instanceTypeSet":{"items":[{"instanceType":"${itype}"}]},"filterSet":{}}`, "")
	c.add("ec2", "DescribeKeyPairs", R, `{"keySet":{},"keyPairIdSet":{},"filterSet":{}}`, "")

	// S3 management events.
	for _, g := range []struct {
		name, sub string
		errs      []any
	}{
		{"GetBucketPolicy", "policy", []any{"NoSuchBucketPolicy", 0.45}},
		{"GetBucketPolicyStatus", "policyStatus", []any{"NoSuchBucketPolicy", 0.45}},
		{"GetBucketAcl", "acl", nil},
		{"GetBucketLocation", "location", nil},
		{"GetBucketEncryption", "encryption", nil},
		{"GetBucketVersioning", "versioning", nil},
		{"GetBucketTagging", "tagging", []any{"NoSuchTagSet", 0.3}},
		{"GetBucketLogging", "logging", nil},
		{"GetBucketPublicAccessBlock", "publicAccessBlock", []any{"NoSuchPublicAccessBlockConfiguration", 0.12}},
		{"GetBucketReplication", "replication", []any{"ReplicationConfigurationNotFoundError", 0.85}},
		{"GetBucketLifecycle", "lifecycle", []any{"NoSuchLifecycleConfiguration", 0.4}},
		{"GetBucketWebsite", "website", []any{"NoSuchWebsiteConfiguration", 0.95}},
	} {
		c.add("s3", g.name, R, `{`+s3Bucket+`,"`+g.sub+`":""}`, "").withRes(s3Res).withExtra(s3Extra).withErrs(g.errs...)
	}
	c.add("s3", "ListBuckets", R, `{"Host":"s3.${region}.amazonaws.com"}`, "").withExtra(s3Extra).withSurge("AccessDenied")
	c.add("s3", "PutBucketPolicy", W, `{"bucketPolicy":{"Version":"2012-10-17","Statement":[{"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::${bucket}","arn:aws:s3:::${bucket}/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]},`+s3Bucket+`,"policy":""}`, "").withRes(s3Res).withExtra(s3Extra)
	c.add("s3", "PutBucketTagging", W, `{"Tagging":{"xmlns":"http://s3.amazonaws.com/doc/2006-03-01/","TagSet":{"Tag":[{"Value":"${tagval}","Key":"${tagkey}"}]}},`+s3Bucket+`,"tagging":""}`, "").withRes(s3Res).withExtra(s3Extra)
	c.add("s3", "PutBucketPublicAccessBlock", W, `{"PublicAccessBlockConfiguration":{"xmlns":"http://s3.amazonaws.com/doc/2006-03-01/","RestrictPublicBuckets":true,"BlockPublicPolicy":true,"BlockPublicAcls":true,"IgnorePublicAcls":true},`+s3Bucket+`,"publicAccessBlock":""}`, "").withRes(s3Res).withExtra(s3Extra)
	c.add("s3", "PutBucketVersioning", W, `{"VersioningConfiguration":{"Status":"Enabled","xmlns":"http://s3.amazonaws.com/doc/2006-03-01/"},`+s3Bucket+`,"versioning":""}`, "").withRes(s3Res).withExtra(s3Extra)
	c.add("s3", "PutBucketLifecycle", W, `{"LifecycleConfiguration":{"Rule":{"Status":"Enabled","Filter":{"Prefix":"tmp/"},"Expiration":{"Days":30},"ID":"expire-tmp"},"xmlns":"http://s3.amazonaws.com/doc/2006-03-01/"},`+s3Bucket+`,"lifecycle":""}`, "").withRes(s3Res).withExtra(s3Extra)
	c.add("s3", "CreateBucket", W, `{"CreateBucketConfiguration":{"LocationConstraint":"${region}","xmlns":"http://s3.amazonaws.com/doc/2006-03-01/"},"bucketName":"${svc}-${env}-${hex8}","Host":"${svc}-${env}-${hex8}.s3.${region}.amazonaws.com"}`, "").withExtra(s3Extra)
	// S3 data events.
	s3Data := func(name string, ro bool, req string) *apiDef {
		a := c.add("s3", name, ro, req, "").withRes(s3ObjRes).withExtra(s3Extra)
		a.data = true
		return a
	}
	s3Data("GetObject", R, `{`+s3Bucket+`,"key":"${objkey}"}`).withErrs("NoSuchKey", 0.008, "AccessDenied", 0.001)
	s3Data("HeadObject", R, `{`+s3Bucket+`,"key":"${objkey}"}`).withErrs("NoSuchKey", 0.04)
	s3Data("PutObject", W, `{`+s3Bucket+`,"key":"${objkey}","x-amz-server-side-encryption":"aws:kms","x-amz-server-side-encryption-aws-kms-key-id":"arn:aws:kms:${region}:${acct}:key/${kms}"}`)
	s3Data("DeleteObject", W, `{`+s3Bucket+`,"key":"${objkey}"}`)
	s3Data("ListObjects", R, `{"list-type":"2",`+s3Bucket+`,"prefix":"data/${datepath}/","max-keys":"1000"}`)

	// Lambda.
	lambdaResp := `{"functionName":"${fn}","functionArn":"arn:aws:lambda:${region}:${acct}:function:${fn}","runtime":"python3.12","role":"arn:aws:iam::${acct}:role/${fn}-role","handler":"app.handler","codeSize":${nbig},"description":"","timeout":30,"memorySize":512,"lastModified":"${timems}","codeSha256":"${up20}${hex16}=","version":"$LATEST","tracingConfig":{"mode":"PassThrough"},"revisionId":"${uuid2}","state":"Active","lastUpdateStatus":"InProgress","lastUpdateStatusReason":"The function is being created.","lastUpdateStatusReasonCode":"Creating","packageType":"Zip","architectures":["arm64"],"ephemeralStorage":{"size":512},"snapStart":{"applyOn":"None","optimizationStatus":"Off"},"loggingConfig":{"logFormat":"Text","logGroup":"/aws/lambda/${fn}"}}`
	c.add("lambda", "UpdateFunctionCode20150331v2", W, `{"functionName":"${fn}","publish":true,"dryRun":false,"s3Bucket":"${bucket}","s3Key":"builds/${fn}/${hex16}.zip"}`, lambdaResp).
		withErrs("ResourceConflictException", 0.02)
	c.add("lambda", "UpdateFunctionConfiguration20150331v2", W, `{"functionName":"${fn}","environment":{},"timeout":30,"memorySize":512}`, lambdaResp).
		withErrs("ResourceConflictException", 0.03)
	c.add("lambda", "PublishVersion20150331", W, `{"functionName":"${fn}","description":"deploy ${hex8}"}`, lambdaResp)
	c.add("lambda", "AddPermission20150331v2", W, `{"functionName":"${fn}","statementId":"${uuid2}","action":"lambda:InvokeFunction","principal":"events.amazonaws.com","sourceArn":"arn:aws:events:${region}:${acct}:rule/${rule}"}`,
		`{"statement":"{\"Sid\":\"${uuid2}\",\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"events.amazonaws.com\"},\"Action\":\"lambda:InvokeFunction\",\"Resource\":\"arn:aws:lambda:${region}:${acct}:function:${fn}\"}"}`)
	c.add("lambda", "ListFunctions20150331", R, `{"functionVersion":"ALL"}`+"\n|\n"+`{"maxItems":50}`, "")
	c.add("lambda", "GetFunction20150331v2", R, `{"functionName":"${fn}"}`, "")
	c.add("lambda", "GetFunctionConfiguration20150331v2", R, `{"functionName":"${fn}"}`, "")
	c.add("lambda", "GetPolicy20150331v2", R, `{"functionName":"${fn}"}`, "").withErrs("ResourceNotFoundException", 0.3)
	c.add("lambda", "ListEventSourceMappings20150331", R, `{"functionName":"${fn}"}`, "")

	// CloudFormation.
	stackARN := `arn:aws:cloudformation:${region}:${acct}:stack/${stack}/${stackid}`
	tplURL := `"templateURL":"https://${bucket}.s3.${region}.amazonaws.com/templates/${stack}-${hex8}.yaml"`
	c.add("cloudformation", "CreateStack", W, `{"stackName":"${stack}",`+tplURL+`,"parameters":[{"parameterKey":"Environment","parameterValue":"${env}"}],"capabilities":["CAPABILITY_NAMED_IAM"],"tags":[{"key":"team","value":"${team}"}]}`, `{"stackId":"`+stackARN+`"}`).
		withErrs("AlreadyExistsException", 0.05)
	c.add("cloudformation", "UpdateStack", W, `{"stackName":"${stack}",`+tplURL+`,"parameters":[{"parameterKey":"Environment","parameterValue":"${env}"}],"capabilities":["CAPABILITY_NAMED_IAM"]}`, `{"stackId":"`+stackARN+`"}`).
		withErrs("ValidationError", 0.12)
	c.add("cloudformation", "DeleteStack", W, `{"stackName":"${stack}"}`, "")
	c.add("cloudformation", "CreateChangeSet", W, `{"stackName":"${stack}",`+tplURL+`,"changeSetName":"${stack}-${hex8}","changeSetType":"UPDATE","capabilities":["CAPABILITY_NAMED_IAM","CAPABILITY_AUTO_EXPAND"]}`,
		`{"id":"arn:aws:cloudformation:${region}:${acct}:changeSet/${stack}-${hex8}/${uuid2}","stackId":"`+stackARN+`"}`)
	c.add("cloudformation", "ExecuteChangeSet", W, `{"changeSetName":"arn:aws:cloudformation:${region}:${acct}:changeSet/${stack}-${hex8}/${uuid2}","stackName":"${stack}"}`, "")
	c.add("cloudformation", "DescribeStacks", R, `{"stackName":"${stack}"}`+"\n|\n"+`null`, "").withErrs("ValidationError", 0.02)
	c.add("cloudformation", "DescribeStackEvents", R, `{"stackName":"${stack}"}`, "")
	c.add("cloudformation", "DescribeStackResources", R, `{"stackName":"${stack}"}`, "")
	c.add("cloudformation", "ListStacks", R, `{"stackStatusFilter":["CREATE_COMPLETE","UPDATE_COMPLETE","UPDATE_ROLLBACK_COMPLETE","ROLLBACK_COMPLETE"]}`, "")
	c.add("cloudformation", "GetTemplate", R, `{"stackName":"${stack}","templateStage":"Original"}`, "")
	c.add("cloudformation", "DescribeChangeSet", R, `{"changeSetName":"${stack}-${hex8}","stackName":"${stack}"}`, "")
	c.add("cloudformation", "ListStackResources", R, `{"stackName":"${stack}"}`, "")

	// ECS.
	c.add("ecs", "UpdateService", W, `{"cluster":"${cluster}","service":"${service}","taskDefinition":"${taskfam}:${rev}","forceNewDeployment":false}`,
		`{"service":{"serviceArn":"arn:aws:ecs:${region}:${acct}:service/${cluster}/${service}","serviceName":"${service}","clusterArn":"arn:aws:ecs:${region}:${acct}:cluster/${cluster}","status":"ACTIVE","desiredCount":${n},"runningCount":${n},"pendingCount":0,"launchType":"FARGATE","platformVersion":"1.4.0","platformFamily":"Linux","taskDefinition":"arn:aws:ecs:${region}:${acct}:task-definition/${taskfam}:${rev}","deploymentConfiguration":{"deploymentCircuitBreaker":{"enable":true,"rollback":true},"maximumPercent":200,"minimumHealthyPercent":100},"createdAt":"${timeh}","schedulingStrategy":"REPLICA","enableECSManagedTags":true,"propagateTags":"SERVICE","enableExecuteCommand":false}}`)
	c.add("ecs", "RegisterTaskDefinition", W, `{"family":"${taskfam}","taskRoleArn":"arn:aws:iam::${acct}:role/${taskfam}-task","executionRoleArn":"arn:aws:iam::${acct}:role/ecsTaskExecutionRole","networkMode":"awsvpc","containerDefinitions":[{"name":"${taskfam}","image":"${acct}.dkr.ecr.${region}.amazonaws.com/${repo}:${hex8}","cpu":0,"portMappings":[{"containerPort":8080,"hostPort":8080,"protocol":"tcp"}],"essential":true,"environment":[],"logConfiguration":{"logDriver":"awslogs","options":{"awslogs-group":"/ecs/${taskfam}","awslogs-region":"${region}","awslogs-stream-prefix":"ecs"}}}],"requiresCompatibilities":["FARGATE"],"cpu":"512","memory":"1024"}`,
		`{"taskDefinition":{"taskDefinitionArn":"arn:aws:ecs:${region}:${acct}:task-definition/${taskfam}:${rev}","family":"${taskfam}","revision":${rev},"status":"ACTIVE","registeredAt":"${timeh}","registeredBy":"${arn}"}}`)
	c.add("ecs", "DeregisterTaskDefinition", W, `{"taskDefinition":"${taskfam}:${rev}"}`, `{"taskDefinition":{"taskDefinitionArn":"arn:aws:ecs:${region}:${acct}:task-definition/${taskfam}:${rev}","status":"INACTIVE"}}`)
	c.add("ecs", "RunTask", W, `{"cluster":"${cluster}","count":1,"launchType":"FARGATE","taskDefinition":"arn:aws:ecs:${region}:${acct}:task-definition/${taskfam}","networkConfiguration":{"awsvpcConfiguration":{"subnets":["${subnet}"],"securityGroups":["${sg}"],"assignPublicIp":"DISABLED"}},"startedBy":"chronos-schedule/${hex8}"}`,
		`{"tasks":[{"taskArn":"arn:aws:ecs:${region}:${acct}:task/${cluster}/${taskid}","clusterArn":"arn:aws:ecs:${region}:${acct}:cluster/${cluster}","taskDefinitionArn":"arn:aws:ecs:${region}:${acct}:task-definition/${taskfam}:${rev}","lastStatus":"PROVISIONING","desiredStatus":"RUNNING","cpu":"256","memory":"512","launchType":"FARGATE","platformVersion":"1.4.0","createdAt":"${timeh}","group":"family:${taskfam}"}],"failures":[]}`).
		withSurge("AccessDeniedException")
	c.add("ecs", "DescribeServices", R, `{"cluster":"${cluster}","services":["${service}"]}`, "")
	c.add("ecs", "ListTasks", R, `{"cluster":"${cluster}","serviceName":"${service}","desiredStatus":"RUNNING"}`, "")
	c.add("ecs", "DescribeTasks", R, `{"cluster":"${cluster}","tasks":["${taskid}"]}`, "")
	c.add("ecs", "ListClusters", R, `{"maxResults":100}`, "")
	c.add("ecs", "DescribeClusters", R, `{"clusters":["${cluster}"],"include":["SETTINGS"]}`, "")
	c.add("ecs", "DescribeTaskDefinition", R, `{"taskDefinition":"${taskfam}"}`, "")
	c.add("ecs", "ListServices", R, `{"cluster":"${cluster}","maxResults":100}`, "")

	// Elastic Load Balancing.
	c.add("elasticloadbalancing", "RegisterTargets", W, `{"targetGroupArn":"`+tgARN+`","targets":[{"id":"${inst}","port":8080}]}`, "")
	c.add("elasticloadbalancing", "DeregisterTargets", W, `{"targetGroupArn":"`+tgARN+`","targets":[{"id":"${inst}","port":8080}]}`, "")
	c.add("elasticloadbalancing", "ModifyTargetGroupAttributes", W, `{"targetGroupArn":"`+tgARN+`","attributes":[{"key":"deregistration_delay.timeout_seconds","value":"30"}]}`,
		`{"attributes":[{"key":"deregistration_delay.timeout_seconds","value":"30"},{"key":"stickiness.enabled","value":"false"}]}`)
	c.add("elasticloadbalancing", "DescribeTargetHealth", R, `{"targetGroupArn":"`+tgARN+`"}`, "")
	c.add("elasticloadbalancing", "DescribeLoadBalancers", R, `{"pageSize":400}`, "")
	c.add("elasticloadbalancing", "DescribeTargetGroups", R, `{"targetGroupArns":["`+tgARN+`"]}`, "")

	// CodeDeploy.
	c.add("codedeploy", "CreateDeployment", W, `{"applicationName":"${svc}","deploymentGroupName":"${svc}-${env}","revision":{"revisionType":"S3","s3Location":{"bucket":"${bucket}","key":"deploy/${svc}-${hex8}.zip","bundleType":"zip"}},"deploymentConfigName":"CodeDeployDefault.OneAtATime","fileExistsBehavior":"OVERWRITE"}`,
		`{"deploymentId":"d-${up9}"}`)
	c.add("codedeploy", "GetDeployment", R, `{"deploymentId":"d-${up9}"}`, "")

	// Auto Scaling.
	c.add("autoscaling", "CompleteLifecycleAction", W, `{"lifecycleHookName":"${hook}","autoScalingGroupName":"${asg}","lifecycleActionToken":"${uuid2}","lifecycleActionResult":"CONTINUE","instanceId":"${inst}"}`, "").
		withErrs("ValidationError", 0.015)
	c.add("autoscaling", "SetDesiredCapacity", W, `{"autoScalingGroupName":"${asg}","desiredCapacity":${n},"honorCooldown":false}`, "")
	c.add("autoscaling", "UpdateAutoScalingGroup", W, `{"autoScalingGroupName":"${asg}","minSize":2,"maxSize":${n100}}`, "")
	c.add("autoscaling", "DescribeAutoScalingGroups", R, `{"autoScalingGroupNames":["${asg}"]}`+"\n|\n"+`{"maxRecords":100}`, "")
	c.add("autoscaling", "DescribeScalingActivities", R, `{"autoScalingGroupName":"${asg}","maxRecords":20}`, "")
	c.add("autoscaling", "DescribeAutoScalingInstances", R, `{"instanceIds":["${inst}"]}`, "")
	c.add("autoscaling", "DescribeLifecycleHooks", R, `{"autoScalingGroupName":"${asg}"}`, "")

	// Systems Manager.
	c.add("ssm", "UpdateInstanceInformation", W, `{"instanceId":"${sess}","agentVersion":"3.3.1142.0","agentStatus":"Active","platformType":"Linux","platformName":"Amazon Linux","platformVersion":"2023","iPAddress":"HIDDEN_DUE_TO_SECURITY_REASONS","computerName":"ip-${sessip}.${region}.compute.internal","agentName":"amazon-ssm-agent","availabilityZone":"${az}","sSMConnectionChannel":"ssmmessages"}`, "").
		withErrs("ThrottlingException", 0.002).
		withSurge("AccessDeniedException", "ThrottlingException")
	c.add("ssm", "UpdateInstanceAssociationStatus", W, `{"associationId":"${uuid2}","instanceId":"${sess}","executionResult":{"status":"Success","errorCode":"","executionDate":"${timeh}","executionSummary":"1 out of 1 plugin processed, 1 success, 0 failed, 0 timedout, 0 skipped. ","outputUrl":{}}}`,
		`{"instanceAssociationStatusInfos":[{"associationId":"${uuid2}","name":"AWS-GatherSoftwareInventory","documentVersion":"1","instanceId":"${sess}","executionDate":"${timeh}","status":"Success","executionSummary":"1 out of 1 plugin processed, 1 success, 0 failed, 0 timedout, 0 skipped. "}]}`).
		withErrs("ThrottlingException", 0.002).
		withSurge("AccessDeniedException", "ThrottlingException")
	c.add("ssm", "ListInstanceAssociations", R, `{"instanceId":"${sess}","maxResults":50}`, "").
		withErrs("ThrottlingException", 0.002).
		withSurge("ThrottlingException", "AccessDeniedException")
	c.add("ssm", "SendCommand", W, `{"instanceIds":["${inst}","${inst2}"],"documentName":"AWS-RunShellScript","parameters":"HIDDEN_DUE_TO_SECURITY_REASONS","timeoutSeconds":600,"interactive":false}`,
		`{"command":{"commandId":"${uuid2}","documentName":"AWS-RunShellScript","documentVersion":"$DEFAULT","comment":"","expiresAfter":"${timeh}","parameters":"HIDDEN_DUE_TO_SECURITY_REASONS","instanceIds":["${inst}","${inst2}"],"targets":[],"requestedDateTime":"${timeh}","status":"Pending","statusDetails":"Pending","outputS3Region":"${region}","outputS3BucketName":"","outputS3KeyPrefix":"","maxConcurrency":"50","maxErrors":"0","targetCount":2,"completedCount":0,"errorCount":0,"deliveryTimedOutCount":0,"serviceRole":"","notificationConfig":{"notificationArn":"","notificationEvents":[],"notificationType":""},"cloudWatchOutputConfig":{"cloudWatchLogGroupName":"","cloudWatchOutputEnabled":false},"timeoutSeconds":600,"alarmConfiguration":{"ignorePollAlarmFailure":false,"alarms":[]},"triggeredAlarms":[]}}`)
	c.add("ssm", "PutParameter", W, `{"name":"${param}","type":"String","overwrite":true,"tier":"Standard"}`, `{"version":${n100},"tier":"Standard"}`)
	c.add("ssm", "GetParameter", R, `{"name":"${param}","withDecryption":true}`, "").withErrs("ParameterNotFound", 0.01)
	c.add("ssm", "GetParameters", R, `{"names":["${param}"],"withDecryption":true}`, "").withSurge("AccessDeniedException", "ThrottlingException")
	c.add("ssm", "GetParametersByPath", R, `{"path":"/${env}/${svc}/","recursive":true,"withDecryption":true}`, "")
	c.add("ssm", "DescribeInstanceInformation", R, `{"maxResults":50}`, "")
	c.add("ssm", "ListCommandInvocations", R, `{"commandId":"${uuid2}","details":true}`, "")

	// CloudWatch Logs.
	c.add("logs", "CreateLogStream", W, `{"logGroupName":"/aws/lambda/${sess}","logStreamName":"${datepath}/[$LATEST]${hex32}"}`, "").
		withErrs("ResourceAlreadyExistsException", 0.012).
		withSurge("AccessDeniedException", "ThrottlingException")
	c.add("logs", "CreateLogGroup", W, `{"logGroupName":"/ecs/${taskfam}"}`, "").withErrs("ResourceAlreadyExistsException", 0.2)
	c.add("logs", "PutRetentionPolicy", W, `{"logGroupName":"${lg}","retentionInDays":30}`, "")
	c.add("logs", "CreateExportTask", W, `{"taskName":"export-${date}","logGroupName":"${lg}","from":${epochms},"to":${epochms},"destination":"${bucket}","destinationPrefix":"exports/${datepath}"}`, `{"taskId":"${uuid2}"}`).
		withErrs("LimitExceededException", 0.03)
	c.add("logs", "DescribeLogGroups", R, `{"logGroupNamePrefix":"/aws/lambda/"}`+"\n|\n"+`{"limit":50}`, "")
	c.add("logs", "DescribeLogStreams", R, `{"logGroupName":"${lg}","orderBy":"LastEventTime","descending":true,"limit":50}`, "")

	// KMS.
	c.add("kms", "Decrypt", R, `{"encryptionContext":{"aws:lambda:FunctionArn":"arn:aws:lambda:${region}:${acct}:function:${fn}"},"encryptionAlgorithm":"SYMMETRIC_DEFAULT"}`+"\n|\n"+`{"keyId":"arn:aws:kms:${region}:${acct}:key/${kms}","encryptionAlgorithm":"SYMMETRIC_DEFAULT"}`+"\n|\n"+`{"encryptionContext":{"aws:s3:arn":"arn:aws:s3:::${bucket}/${objkey}"},"encryptionAlgorithm":"SYMMETRIC_DEFAULT"}`, "").
		withRes(kmsRes).withErrs("InvalidCiphertextException", 0.001, "ThrottlingException", 0.001).
		withSurge("AccessDeniedException")
	c.add("kms", "GenerateDataKey", R, `{"keyId":"arn:aws:kms:${region}:${acct}:key/${kms}","keySpec":"AES_256","encryptionContext":{"aws:s3:arn":"arn:aws:s3:::${bucket}"}}`, "").
		withRes(kmsRes).withErrs("ThrottlingException", 0.001).
		withSurge("AccessDeniedException", "ThrottlingException")
	c.add("kms", "Encrypt", R, `{"keyId":"alias/${svc}-${env}","encryptionAlgorithm":"SYMMETRIC_DEFAULT"}`, "").withRes(kmsRes)
	c.add("kms", "CreateGrant", W, `{"keyId":"arn:aws:kms:${region}:${acct}:key/${kms}","granteePrincipal":"ec2.${region}.amazonaws.com","operations":["Decrypt","Encrypt","GenerateDataKeyWithoutPlaintext","ReEncryptFrom","ReEncryptTo","CreateGrant","DescribeKey"],"constraints":{"encryptionContextSubset":{"aws:ebs:id":"${vol}"}},"retiringPrincipal":"ec2.${region}.amazonaws.com"}`,
		`{"grantId":"${hex64}","keyId":"arn:aws:kms:${region}:${acct}:key/${kms}"}`).withRes(kmsRes)
	c.add("kms", "DescribeKey", R, `{"keyId":"arn:aws:kms:${region}:${acct}:key/${kms}"}`, "").withRes(kmsRes)
	c.add("kms", "ListAliases", R, `{"limit":100}`, "")
	c.add("kms", "ListKeys", R, `{"limit":1000}`, "")
	rot := c.add("kms", "RotateKey", W, "", "").withRes(kmsRes)
	rot.eventType = "AwsServiceEvent"
	rot.extra = compile(`{"keyId":"arn:aws:kms:${region}:${acct}:key/${kms}","rotationType":"AUTO_ROTATION"}`)

	// STS (global: recorded in us-east-1).
	c.add("sts", "AssumeRole", R, `{"roleArn":"arn:aws:iam::${acct}:role/${role}","roleSessionName":"${svc}-${hex8}","durationSeconds":3600}`, "").
		withRes(`[{"accountId":"${acct}","type":"AWS::IAM::Role","ARN":"arn:aws:iam::${acct}:role/${role}"}]`).
		withErrs("AccessDenied", 0.006).withSurge("AccessDenied")
	c.add("sts", "GetCallerIdentity", R, "", "")
	c.add("sts", "GetSessionToken", W, `{"durationSeconds":43200,"serialNumber":"arn:aws:iam::${acct}:mfa/${user}"}`,
		`{"credentials":{"accessKeyId":"ASIA${up16}","sessionToken":"HIDDEN_DUE_TO_SECURITY_REASONS","expiration":"${timeh}"}}`).
		withErrs("AccessDenied", 0.02)

	// IAM (global: recorded in us-east-1).
	c.add("iam", "CreateRole", W, `{"roleName":"${newrole}","assumeRolePolicyDocument":"`+trustJS+`","maxSessionDuration":3600}`,
		`{"role":{"path":"/","roleName":"${newrole}","roleId":"AROA${up17}","arn":"arn:aws:iam::${acct}:role/${newrole}","createDate":"${timeh}","assumeRolePolicyDocument":"%7B%22Version%22%3A%222012-10-17%22%7D","maxSessionDuration":3600}}`).
		withErrs("EntityAlreadyExists", 0.03)
	c.add("iam", "AttachRolePolicy", W, `{"roleName":"${role}","policyArn":"${policyarn}"}`, "")
	c.add("iam", "DetachRolePolicy", W, `{"roleName":"${role}","policyArn":"${policyarn}"}`, "").withErrs("NoSuchEntityException", 0.03)
	c.add("iam", "PutRolePolicy", W, `{"roleName":"${role}","policyName":"${svc}-inline","policyDocument":"`+policyJS+`"}`, "")
	c.add("iam", "DeleteRolePolicy", W, `{"roleName":"${role}","policyName":"${svc}-inline"}`, "")
	c.add("iam", "TagRole", W, `{"roleName":"${role}","tags":[{"key":"team","value":"${team}"}]}`, "")
	c.add("iam", "UpdateAssumeRolePolicy", W, `{"roleName":"${role}","policyDocument":"`+trustJS+`"}`, "")
	c.add("iam", "CreatePolicy", W, `{"policyName":"${svc}-${hex8}","policyDocument":"`+policyJS+`","description":"Access for ${svc}"}`,
		`{"policy":{"policyName":"${svc}-${hex8}","policyId":"ANPA${up17}","arn":"arn:aws:iam::${acct}:policy/${svc}-${hex8}","path":"/","defaultVersionId":"v1","attachmentCount":0,"permissionsBoundaryUsageCount":0,"isAttachable":true,"createDate":"${timeh}","updateDate":"${timeh}"}}`)
	c.add("iam", "CreatePolicyVersion", W, `{"policyArn":"arn:aws:iam::${acct}:policy/${svc}-access","policyDocument":"`+policyJS+`","setAsDefault":true}`,
		`{"policyVersion":{"versionId":"v${n}","isDefaultVersion":true,"createDate":"${timeh}"}}`).
		withErrs("LimitExceeded", 0.05)
	c.add("iam", "CreateUser", W, `{"userName":"${newuser}"}`,
		`{"user":{"path":"/","userName":"${newuser}","userId":"AIDA${up17}","arn":"arn:aws:iam::${acct}:user/${newuser}","createDate":"${timeh}"}}`)
	c.add("iam", "CreateAccessKey", W, `{"userName":"${user}"}`,
		`{"accessKey":{"userName":"${user}","accessKeyId":"AKIA${up16}","status":"Active","createDate":"${timeh}"}}`)
	c.add("iam", "DeleteAccessKey", W, `{"userName":"${user}","accessKeyId":"AKIA${up16}"}`, "")
	c.add("iam", "UpdateAccessKey", W, `{"userName":"${user}","accessKeyId":"AKIA${up16}","status":"Inactive"}`, "")
	c.add("iam", "AttachUserPolicy", W, `{"userName":"${user}","policyArn":"${policyarn}"}`, "")
	c.add("iam", "PutUserPolicy", W, `{"userName":"${user}","policyName":"${svc}-inline","policyDocument":"`+policyJS+`"}`, "")
	c.add("iam", "CreateLoginProfile", W, `{"userName":"${user}","passwordResetRequired":false}`,
		`{"loginProfile":{"userName":"${user}","createDate":"${timeh}","passwordResetRequired":false}}`)
	c.add("iam", "AddUserToGroup", W, `{"groupName":"${group}","userName":"${user}"}`, "")
	c.add("iam", "GetRole", R, `{"roleName":"${role}"}`, "").withErrs("NoSuchEntityException", 0.04)
	c.add("iam", "ListRoles", R, `{"maxItems":1000}`+"\n|\n"+`null`, "")
	c.add("iam", "GetUser", R, `{"userName":"${user}"}`+"\n|\n"+`null`, "").withErrs("NoSuchEntityException", 0.02)
	c.add("iam", "ListUsers", R, `{"maxItems":1000}`+"\n|\n"+`null`, "")
	c.add("iam", "GetPolicy", R, `{"policyArn":"${policyarn}"}`, "")
	c.add("iam", "GetPolicyVersion", R, `{"policyArn":"${policyarn}","versionId":"v${n}"}`, "")
	c.add("iam", "ListAttachedRolePolicies", R, `{"roleName":"${role}"}`, "")
	c.add("iam", "ListRolePolicies", R, `{"roleName":"${role}"}`, "")
	c.add("iam", "GetRolePolicy", R, `{"roleName":"${role}","policyName":"${svc}-inline"}`, "").withErrs("NoSuchEntityException", 0.15)
	c.add("iam", "ListAccessKeys", R, `{"userName":"${user}"}`, "")
	c.add("iam", "GetAccountSummary", R, "", "")
	c.add("iam", "ListPolicies", R, `{"scope":"Local","onlyAttached":false,"maxItems":1000}`, "")
	c.add("iam", "ListAttachedUserPolicies", R, `{"userName":"${user}"}`, "")
	c.add("iam", "ListGroupsForUser", R, `{"userName":"${user}"}`, "")
	c.add("iam", "GetLoginProfile", R, `{"userName":"${user}"}`, "").withErrs("NoSuchEntityException", 0.5)
	c.add("iam", "GetAccountAuthorizationDetails", R, `{"filter":["User","Role","Group","LocalManagedPolicy"],"maxItems":100}`, "")
	c.add("iam", "ListMFADevices", R, `{"userName":"${user}"}`, "")

	// Console sign-in (global).
	login := c.add("signin", "ConsoleLogin", W, "", `{"ConsoleLogin":"Success"}`)
	login.eventType = "AwsConsoleSignIn"
	login.extra = compile(`{"LoginTo":"https://console.aws.amazon.com/console/home?hashArgs=%23&isauthcode=true&state=hashArgsFromTB_us-east-1_${hex16}","MobileVersion":"No","MFAUsed":"Yes"}`)

	// Secrets Manager.
	secARN := `arn:aws:secretsmanager:${region}:${acct}:secret:${secret}-${sfx6}`
	c.add("secretsmanager", "GetSecretValue", R, `{"secretId":"`+secARN+`"}`+"\n|\n"+`{"secretId":"${secret}"}`, "").
		withErrs("ResourceNotFoundException", 0.004).
		withSurge("AccessDeniedException")
	c.add("secretsmanager", "DescribeSecret", R, `{"secretId":"`+secARN+`"}`, "")
	c.add("secretsmanager", "PutSecretValue", W, `{"secretId":"`+secARN+`","clientRequestToken":"${uuid2}","versionStages":["AWSPENDING"]}`,
		`{"arn":"`+secARN+`","name":"${secret}","versionId":"${uuid2}","versionStages":["AWSPENDING"]}`)

	// ECR.
	c.add("ecr", "GetAuthorizationToken", R, `{"registryIds":["${acct}"]}`+"\n|\n"+`null`, "")
	c.add("ecr", "BatchGetImage", R, `{"registryId":"${acct}","repositoryName":"${repo}","imageIds":[{"imageTag":"${hex8}"}],"acceptedMediaTypes":["application/vnd.docker.distribution.manifest.v2+json","application/vnd.oci.image.manifest.v1+json"]}`, "").
		withRes(`[{"accountId":"${acct}","ARN":"arn:aws:ecr:${region}:${acct}:repository/${repo}"}]`).
		withErrs("ImageNotFoundException", 0.01)
	c.add("ecr", "PutImage", W, `{"repositoryName":"${repo}","imageTag":"${hex8}","registryId":"${acct}","imageManifestMediaType":"application/vnd.oci.image.manifest.v1+json"}`,
		`{"image":{"registryId":"${acct}","repositoryName":"${repo}","imageId":{"imageDigest":"sha256:${hex64}","imageTag":"${hex8}"},"imageManifestMediaType":"application/vnd.oci.image.manifest.v1+json"}}`).
		withRes(`[{"accountId":"${acct}","ARN":"arn:aws:ecr:${region}:${acct}:repository/${repo}"}]`)

	pol := c.add("ecr", "PolicyExecutionEvent", W, "", "").
		withRes(`[{"accountId":"${acct}","ARN":"arn:aws:ecr:${region}:${acct}:repository/${repo}"}]`)
	pol.eventType = "AwsServiceEvent"
	pol.svcEvent = compile(`{"repositoryName":"${repo}","lifecycleEventPolicy":{"lifecycleEventRules":[{"rulePriority":1,"description":"Expire untagged images","lifecycleEventSelection":{"tagStatus":"Untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":14},"action":"expire"}],"lastEvaluatedAt":0,"policyVersion":1,"policyId":"${uuid2}"},"lifecycleEventImageActions":[{"lifecycleEventImage":{"digest":"sha256:${hex64}","tagStatus":"Untagged","pushedAt":${epochms}},"rulePriority":1}]}`)

	// RDS.
	c.add("rds", "CreateDBSnapshot", W, `{"dBSnapshotIdentifier":"${db}-nightly-${date}","dBInstanceIdentifier":"${db}"}`,
		`{"dBSnapshotIdentifier":"${db}-nightly-${date}","dBInstanceIdentifier":"${db}","engine":"postgres","allocatedStorage":${n100},"status":"creating","port":5432,"availabilityZone":"${az}","vpcId":"${vpc}","instanceCreateTime":"${timeh}","masterUsername":"app","engineVersion":"16.3","licenseModel":"postgresql-license","snapshotType":"manual","optionGroupName":"default:postgres-16","percentProgress":0,"storageType":"gp3","encrypted":true,"kmsKeyId":"arn:aws:kms:${region}:${acct}:key/${kms}","dBSnapshotArn":"arn:aws:rds:${region}:${acct}:snapshot:${db}-nightly-${date}","iAMDatabaseAuthenticationEnabled":false,"processorFeatures":[],"dbiResourceId":"db-${up20}","tagList":[],"snapshotTarget":"region","storageThroughput":125,"dedicatedLogVolume":false,"multiTenant":false}`)
	c.add("rds", "DeleteDBSnapshot", W, `{"dBSnapshotIdentifier":"${db}-nightly-${date}"}`, `{"dBSnapshotIdentifier":"${db}-nightly-${date}","status":"deleted"}`)
	c.add("rds", "ModifyDBInstance", W, `{"dBInstanceIdentifier":"${db}","applyImmediately":false,"backupRetentionPeriod":7}`, `{"dBInstanceIdentifier":"${db}","dBInstanceStatus":"available"}`)
	c.add("rds", "DescribeDBInstances", R, `{"dBInstanceIdentifier":"${db}"}`+"\n|\n"+`null`, "")
	c.add("rds", "DescribeDBSnapshots", R, `{"dBInstanceIdentifier":"${db}","snapshotType":"manual","includeShared":false,"includePublic":false}`, "")
	c.add("rds", "DescribeDBClusters", R, `{"includeShared":false}`, "")

	// Glue and Athena (scheduled analytics).
	c.add("glue", "StartJobRun", W, `{"jobName":"${gluejob}","arguments":{"--run_date":"${dated}"}}`, `{"jobRunId":"jr_${hex64}"}`).
		withErrs("ConcurrentRunsExceededException", 0.01)
	c.add("glue", "GetJobRun", R, `{"jobName":"${gluejob}","runId":"jr_${hex64}","predecessorsIncluded":false}`, "")
	c.add("glue", "GetJobRuns", R, `{"jobName":"${gluejob}","maxResults":10}`, "")
	c.add("athena", "StartQueryExecution", W, `{"queryString":"SELECT count(*) FROM ${svc}_events WHERE dt = '${dated}'","clientRequestToken":"${uuid2}","queryExecutionContext":{"database":"analytics"},"workGroup":"primary"}`,
		`{"queryExecutionId":"${uuid2}"}`)
	c.add("athena", "GetQueryExecution", R, `{"queryExecutionId":"${uuid2}"}`, "")
	c.add("athena", "GetQueryResults", R, `{"queryExecutionId":"${uuid2}","maxResults":1000}`, "").withErrs("InvalidRequestException", 0.02)

	// Route 53 (global).
	c.add("route53", "ChangeResourceRecordSets", W, `{"hostedZoneId":"${zone}","changeBatch":{"changes":[{"action":"UPSERT","resourceRecordSet":{"name":"${svc}.${domain}.","type":"A","tTL":60,"resourceRecords":[{"value":"${ip}"}]}}]}}`,
		`{"changeInfo":{"id":"/change/C${up20}","status":"PENDING","submittedAt":"${timeh}"}}`).
		withErrs("PriorRequestNotComplete", 0.008)
	c.add("route53", "ListHostedZones", R, "", "")
	c.add("route53", "ListResourceRecordSets", R, `{"hostedZoneId":"${zone}"}`, "")
	c.add("route53", "GetChange", R, `{"id":"C${up20}"}`, "")

	// AWS Config, CloudWatch, EventBridge, DynamoDB.
	c.add("config", "PutEvaluations", W, `{"evaluations":[{"complianceResourceType":"AWS::EC2::Instance","complianceResourceId":"${inst}","complianceType":"COMPLIANT","orderingTimestamp":"${timeh}"}],"resultToken":"HIDDEN_DUE_TO_SECURITY_REASONS","testMode":false}`,
		`{"failedEvaluations":[]}`)
	c.add("config", "DescribeConfigRules", R, "", "")
	c.add("monitoring", "DescribeAlarms", R, `{"alarmNames":["${alarm}"]}`+"\n|\n"+`{"maxRecords":100}`, "")
	c.add("monitoring", "PutMetricAlarm", W, `{"alarmName":"${alarm}","metricName":"CPUUtilization","namespace":"AWS/EC2","statistic":"Average","period":300,"evaluationPeriods":3,"threshold":80.0,"comparisonOperator":"GreaterThanThreshold","alarmActions":["arn:aws:sns:${region}:${acct}:ops-alerts"],"treatMissingData":"missing"}`, "")
	c.add("monitoring", "DeleteAlarms", W, `{"alarmNames":["${alarm}"]}`, "")
	c.add("events", "PutRule", W, `{"name":"${rule}","scheduleExpression":"rate(5 minutes)","state":"ENABLED"}`, `{"ruleArn":"arn:aws:events:${region}:${acct}:rule/${rule}"}`)
	c.add("events", "PutTargets", W, `{"rule":"${rule}","targets":[{"id":"1","arn":"arn:aws:lambda:${region}:${acct}:function:${fn}"}]}`, `{"failedEntryCount":0,"failedEntries":[]}`)
	c.add("events", "DescribeRule", R, `{"name":"${rule}"}`, "")
	c.add("events", "ListRules", R, `{"limit":100}`, "")
	c.add("dynamodb", "DescribeTable", R, `{"tableName":"${svc}-${env}"}`, "").
		withRes(`[{"accountId":"${acct}","type":"AWS::DynamoDB::Table","ARN":"arn:aws:dynamodb:${region}:${acct}:table/${svc}-${env}"}]`)
	c.add("dynamodb", "ListTables", R, "", "")

	c.addErrorMessages()
	for _, a := range c.apis {
		for _, e := range a.errs {
			c.errID(e.code)
		}
		for _, code := range a.surge {
			c.errID(code)
		}
	}
	return c
}

// addErrorMessages sets the errorMessage text of each error code.
func (c *catalog) addErrorMessages() {
	notAuth := `User: ${arn} is not authorized to perform: ${action} because no identity-based policy allows the ${action} action`
	for code, msg := range map[string]string{
		"AccessDenied":                          notAuth,
		"AccessDeniedException":                 notAuth,
		"Client.UnauthorizedOperation":          `You are not authorized to perform this operation. ` + notAuth,
		"ThrottlingException":                   `Rate exceeded`,
		"Client.RequestLimitExceeded":           `Request limit exceeded.`,
		"Client.InvalidParameterValue":          `Value () for parameter groupId is invalid. The value cannot be empty`,
		"Server.InsufficientInstanceCapacity":   `We currently do not have sufficient ${itype} capacity in the Availability Zone you requested (${az}). Our system will be working on provisioning additional capacity.`,
		"Client.OperationNotPermitted":          `The instance '${inst}' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again.`,
		"Client.InvalidInstanceID.NotFound":     `The instance ID '${inst}' does not exist`,
		"Client.InvalidPermission.Duplicate":    `the specified rule "peer: ${cidr}, TCP, from port: ${port}, to port: ${port}, ALLOW" already exists`,
		"NoSuchBucketPolicy":                    `The bucket policy does not exist`,
		"NoSuchTagSet":                          `The TagSet does not exist`,
		"NoSuchPublicAccessBlockConfiguration":  `The public access block configuration was not found`,
		"ReplicationConfigurationNotFoundError": `The replication configuration was not found`,
		"NoSuchLifecycleConfiguration":          `The lifecycle configuration does not exist`,
		"NoSuchWebsiteConfiguration":            `The specified bucket does not have a website configuration`,
		"NoSuchKey":                             `The specified key does not exist.`,
		"ResourceConflictException":             `The operation cannot be performed at this time. An update is in progress for resource: arn:aws:lambda:${region}:${acct}:function:${fn}`,
		"ResourceNotFoundException":             `Secrets Manager can't find the specified secret.`,
		"AlreadyExistsException":                `Stack [${stack}] already exists`,
		"ValidationError":                       `No updates are to be performed.`,
		"ResourceAlreadyExistsException":        `The specified log stream already exists`,
		"LimitExceededException":                `Resource limit exceeded.`,
		"InvalidCiphertextException":            ``,
		"ParameterNotFound":                     ``,
		"EntityAlreadyExists":                   `Role with name ${newrole} already exists.`,
		"NoSuchEntityException":                 `The role with name ${role} cannot be found.`,
		"LimitExceeded":                         `A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.`,
		"ImageNotFoundException":                `Requested image not found`,
		"ConcurrentRunsExceededException":       `Concurrent runs exceeded for ${gluejob}`,
		"InvalidRequestException":               `Query has not yet finished. Current state: RUNNING`,
		"PriorRequestNotComplete":               `The request was rejected because Route 53 was still processing a prior request.`,
	} {
		c.errMsgs[code] = compile(msg)
	}
	for key, msg := range map[string]string{
		"s3.amazonaws.com * AccessDenied":                                              `Access Denied`,
		"lambda.amazonaws.com GetPolicy20150331v2 ResourceNotFoundException":           `The resource you requested does not exist.`,
		"autoscaling.amazonaws.com CompleteLifecycleAction ValidationError":            `No active Lifecycle Action found with token ${uuid2}`,
		"cloudformation.amazonaws.com DescribeStacks ValidationError":                  `Stack with id ${stack} does not exist`,
		"iam.amazonaws.com GetUser NoSuchEntityException":                              `The user with name ${user} cannot be found.`,
		"iam.amazonaws.com GetLoginProfile NoSuchEntityException":                      `Login Profile for User ${user} cannot be found.`,
		"iam.amazonaws.com GetRolePolicy NoSuchEntityException":                        `The role policy with name ${svc}-inline cannot be found.`,
		"iam.amazonaws.com DetachRolePolicy NoSuchEntityException":                     `Policy ${policyarn} was not found.`,
		"logs.amazonaws.com CreateLogGroup ResourceAlreadyExistsException":             `The specified log group already exists`,
		"sts.amazonaws.com GetSessionToken AccessDenied":                               `MultiFactorAuthentication failed with invalid MFA one time pass code.`,
		"ecr.amazonaws.com BatchGetImage ImageNotFoundException":                       `Requested image not found`,
		"secretsmanager.amazonaws.com GetSecretValue ResourceNotFoundException":        `Secrets Manager can't find the specified secret.`,
		"ec2.amazonaws.com AuthorizeSecurityGroupIngress Client.InvalidParameterValue": `Invalid CIDR`,
	} {
		c.errMsgAPI[key] = compile(msg)
	}
}

// errMessage returns the message template for an error on an API, or nil.
func (c *catalog) errMessage(a *apiDef, code string) *tmpl {
	if t, ok := c.errMsgAPI[a.source+" "+a.name+" "+code]; ok {
		return t
	}
	if t, ok := c.errMsgAPI[a.source+" * "+code]; ok {
		return t
	}
	return c.errMsgs[code]
}

// kebab turns an API name into the aws-cli command form: DescribeInstances
// -> describe-instances (Lambda's version suffixes are dropped).
func kebab(name string) string {
	if i := strings.IndexAny(name, "0123456789"); i > 0 {
		name = name[:i]
	}
	var b strings.Builder
	for i, r := range name {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('-')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
