package contract_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// What CloudFormation's handlers act on. A handler permission of the
// resource type's own service (lambda:* for AWS::Lambda::Function) is
// authorized on the resource types the Service Authorization Reference gives
// it (testdata/iam-actions.json): none means "*", one the resource itself
// has means the resource's ARN (selfARNs), any other needs a rule below. A
// permission of another service is needed only as a rule below says: every
// one of them is there, or the test fails and asks for one.

// typeInfo is what the test knows of a resource type.
type typeInfo struct {
	service   string // the prefix of its own actions
	principal string // the service a role in its properties is passed to
	// nameProp is the property that names the resource; maxName the
	// longest name CloudFormation may give it when the property is absent.
	nameProp string
	maxName  int
}

var resourceTypes = map[string]typeInfo{
	"AWS::ApiGateway::Account":        {service: "apigateway", principal: "apigateway.amazonaws.com"},
	"AWS::ApiGateway::ApiKey":         {service: "apigateway"},
	"AWS::ApiGateway::Deployment":     {service: "apigateway"},
	"AWS::ApiGateway::RestApi":        {service: "apigateway", principal: "apigateway.amazonaws.com"},
	"AWS::ApiGateway::Stage":          {service: "apigateway"},
	"AWS::ApiGateway::UsagePlan":      {service: "apigateway"},
	"AWS::ApiGateway::UsagePlanKey":   {service: "apigateway"},
	"AWS::CloudWatch::Alarm":          {service: "cloudwatch", nameProp: "AlarmName", maxName: 255},
	"AWS::CloudWatch::Dashboard":      {service: "cloudwatch", nameProp: "DashboardName", maxName: 255},
	"AWS::DynamoDB::Table":            {service: "dynamodb", nameProp: "TableName", maxName: 255},
	"AWS::IAM::Role":                  {service: "iam", nameProp: "RoleName", maxName: 64},
	"AWS::KMS::Key":                   {service: "kms"},
	"AWS::Lambda::Alias":              {service: "lambda"},
	"AWS::Lambda::EventSourceMapping": {service: "lambda"},
	"AWS::Lambda::Function":           {service: "lambda", principal: "lambda.amazonaws.com", nameProp: "FunctionName", maxName: 64},
	"AWS::Lambda::Permission":         {service: "lambda"},
	"AWS::Lambda::Version":            {service: "lambda"},
	"AWS::Logs::LogGroup":             {service: "logs", nameProp: "LogGroupName", maxName: 512},
	"AWS::Logs::MetricFilter":         {service: "logs"},
	"AWS::Logs::QueryDefinition":      {service: "logs"},
	"AWS::S3::Bucket":                 {service: "s3", principal: "s3.amazonaws.com", nameProp: "BucketName", maxName: 63},
	"AWS::S3::BucketPolicy":           {service: "s3"},
	"AWS::SES::ConfigurationSet":      {service: "ses", nameProp: "Name", maxName: 64},
	"AWS::SES::EmailIdentity":         {service: "ses"},
	"AWS::SNS::Subscription":          {service: "sns", principal: "sns.amazonaws.com"},
	"AWS::SNS::Topic":                 {service: "sns", principal: "sns.amazonaws.com", nameProp: "TopicName", maxName: 256},
	"AWS::SQS::Queue":                 {service: "sqs", nameProp: "QueueName", maxName: 80},
	"AWS::SecretsManager::Secret":     {service: "secretsmanager"},
	"AWS::WAFv2::WebACL":              {service: "wafv2"},
	"AWS::WAFv2::WebACLAssociation":   {service: "wafv2"},
	"AWS::XRay::SamplingRule":         {service: "xray"},
}

// need is what one handler permission needs for one resource: the ARNs it
// is authorized on, with extra condition keys; or why it is not needed; or
// what the test cannot tell (a failure).
type need struct {
	arns    []string
	context map[string][]string
	known   []string
	skip    string
	err     string
}

// rule decides a handler permission for one resource.
type rule func(s *stackModel, r *stackResource) need

// rules are keyed "<type> <action>", "<type> <service>:*" or "* <action>",
// tried in that order.
var rules = map[string]rule{
	// A role named in a resource's properties is passed to its service
	// (and read). Lambda functions name their role; the API Gateway account
	// its CloudWatch role; nothing else here names one.
	"* iam:PassRole": passRole(true),
	"* iam:GetRole":  passRole(false),

	// The packaged code, read by Lambda with CloudFormation's credentials.
	"AWS::Lambda::Function s3:GetObject":                codeObject,
	"AWS::Lambda::Function s3:GetObjectVersion":         onlyWith("Code.S3ObjectVersion"),
	"AWS::Lambda::Function ec2:*":                       onlyWith("VpcConfig"),
	"AWS::Lambda::Function elasticfilesystem:*":         onlyWith("FileSystemConfigs"),
	"AWS::Lambda::Function s3files:*":                   onlyWith("FileSystemConfigs"),
	"AWS::Lambda::Function kms:*":                       onlyWith("KmsKeyArn"),
	"AWS::Lambda::Function lambda:GetLayerVersion":      onlyWith("Layers"),
	"AWS::Lambda::Function lambda:GetCodeSigningConfig": onlyWith("CodeSigningConfigArn"),
	"AWS::Lambda::Function lambda:PassCapacityProvider": onlyWith("CapacityProviderConfig"),
	"AWS::Lambda::EventSourceMapping kms:*":             onlyWith("KMSKeyArn"),
	"AWS::Lambda::Alias codedeploy:*":                   onlyWithUpdatePolicy("CodeDeployLambdaAliasUpdate"),
	"AWS::DynamoDB::Table kinesis:*":                    onlyWith("KinesisStreamSpecification"),
	"AWS::DynamoDB::Table kms:*":                        onlyWith("SSESpecification.KMSMasterKeyId"),
	"AWS::DynamoDB::Table s3:*":                         onlyWith("ImportSourceSpecification"),
	"AWS::DynamoDB::Table logs:*":                       onlyWith("ImportSourceSpecification"),
	"AWS::DynamoDB::Table dynamodb:DescribeImport":      onlyWith("ImportSourceSpecification"),
	// DynamoDB creates its Contributor Insights role the first time they
	// are turned on (DynamoDB developer guide, Contributor_Insights_IAM).
	"AWS::DynamoDB::Table iam:CreateServiceLinkedRole": onlyWith("ContributorInsightsSpecification"),
	// A log group's data protection policy sends its findings to S3 or
	// Firehose through a log delivery.
	"AWS::Logs::LogGroup s3:*":                   onlyWith("DataProtectionPolicy"),
	"AWS::Logs::LogGroup firehose:*":             onlyWith("DataProtectionPolicy"),
	"AWS::Logs::LogGroup logs:CreateLogDelivery": onlyWith("DataProtectionPolicy"),
	// Account-wide policies of CloudWatch Logs (no resource type, so
	// "*"): a log group's resource policy and field index policies.
	"AWS::Logs::LogGroup logs:PutResourcePolicy":              onlyWith("ResourcePolicyDocument"),
	"AWS::Logs::LogGroup logs:DeleteResourcePolicy":           onlyWith("ResourcePolicyDocument"),
	"AWS::Logs::LogGroup logs:PutIndexPolicy":                 onlyWith("FieldIndexPolicies"),
	"AWS::Logs::LogGroup logs:DeleteIndexPolicy":              onlyWith("FieldIndexPolicies"),
	"AWS::SNS::Topic kms:*":                                   onlyWith("KmsMasterKeyId"),
	"AWS::ApiGateway::RestApi s3:GetObject":                   onlyWith("BodyS3Location"),
	"AWS::ApiGateway::RestApi apigateway:UpdateRestApiPolicy": onlyWith("Policy"),
	// An association calls the service of the resource it protects.
	"AWS::WAFv2::WebACLAssociation apigateway:SetWebACL":      associatedStage,
	"AWS::WAFv2::WebACLAssociation elasticloadbalancing:*":    associatedService("elasticloadbalancing"),
	"AWS::WAFv2::WebACLAssociation appsync:*":                 associatedService("appsync"),
	"AWS::WAFv2::WebACLAssociation cognito-idp:*":             associatedService("cognito-idp"),
	"AWS::WAFv2::WebACLAssociation apprunner:*":               associatedService("apprunner"),
	"AWS::WAFv2::WebACLAssociation ec2:*":                     associatedService("ec2"),
	"AWS::WAFv2::WebACLAssociation amplify:*":                 associatedService("amplify"),
	"AWS::WAFv2::WebACLAssociation bedrock-agentcore:*":       associatedService("bedrock-agentcore"),
	"AWS::WAFv2::WebACLAssociation wafv2:PutPermissionPolicy": noneOfType("AWS::WAFv2::RuleGroup"),
	"AWS::WAFv2::WebACLAssociation wafv2:GetPermissionPolicy": noneOfType("AWS::WAFv2::RuleGroup"),
	// Listed by WAF's handler for creating and updating a web ACL; the
	// reference has no resource type for it, so it is granted on "*".
	"AWS::WAFv2::WebACL payments:GetConnectedAccount": star,
	// The SAM CLI's artifact bucket (the managed stack, created once).
	"AWS::S3::Bucket s3:PutAccelerateConfiguration":             onlyWith("AccelerateConfiguration"),
	"AWS::S3::Bucket s3:PutAnalyticsConfiguration":              onlyWith("AnalyticsConfigurations"),
	"AWS::S3::Bucket s3:PutBucketAbac":                          onlyWith("AbacStatus"),
	"AWS::S3::Bucket s3:PutBucketCORS":                          onlyWith("CorsConfiguration"),
	"AWS::S3::Bucket s3:PutBucketLogging":                       onlyWith("LoggingConfiguration"),
	"AWS::S3::Bucket s3:PutBucketNotification":                  onlyWith("NotificationConfiguration"),
	"AWS::S3::Bucket s3:PutBucketObjectLockConfiguration":       onlyWith("ObjectLockConfiguration", "ObjectLockEnabled"),
	"AWS::S3::Bucket s3:PutObjectLockConfiguration":             onlyWith("ObjectLockConfiguration", "ObjectLockEnabled"),
	"AWS::S3::Bucket s3:PutBucketOwnershipControls":             onlyWith("OwnershipControls"),
	"AWS::S3::Bucket s3:PutBucketReplication":                   onlyWith("ReplicationConfiguration"),
	"AWS::S3::Bucket s3:PutReplicationConfiguration":            onlyWith("ReplicationConfiguration"),
	"AWS::S3::Bucket s3:PutBucketWebsite":                       onlyWith("WebsiteConfiguration"),
	"AWS::S3::Bucket s3:PutIntelligentTieringConfiguration":     onlyWith("IntelligentTieringConfigurations"),
	"AWS::S3::Bucket s3:PutInventoryConfiguration":              onlyWith("InventoryConfigurations"),
	"AWS::S3::Bucket s3:PutLifecycleConfiguration":              onlyWith("LifecycleConfiguration"),
	"AWS::S3::Bucket s3:PutMetricsConfiguration":                onlyWith("MetricsConfigurations"),
	"AWS::S3::Bucket s3:CreateBucketMetadataTableConfiguration": onlyWith("MetadataTableConfiguration", "MetadataConfiguration"),
	"AWS::S3::Bucket s3:GetBucketMetadataTableConfiguration":    onlyWith("MetadataTableConfiguration", "MetadataConfiguration"),
	"AWS::S3::Bucket s3tables:*":                                onlyWith("MetadataTableConfiguration", "MetadataConfiguration"),
	"AWS::S3::Bucket s3:PutObjectAcl":                           unverified("acts on objects; the bucket is new and holds none"),
	"AWS::S3::Bucket s3:DeleteObject":                           unverified("acts on objects; the bucket is new and holds none"),
}

// authorizedAs maps the names handler schemas list that are S3 API
// operations, not IAM actions, to the action S3 authorizes them with (S3
// API reference: "To use this operation, you must have permission to
// perform the s3:PutBucketTagging action"), or to "" where none is needed.
var authorizedAs = map[string]string{
	"s3:DeleteBucketTagging":                "s3:PutBucketTagging",
	"s3:DeleteBucketCors":                   "s3:PutBucketCORS",
	"s3:DeleteBucketEncryption":             "s3:PutEncryptionConfiguration",
	"s3:DeleteBucketLifecycle":              "s3:PutLifecycleConfiguration",
	"s3:DeleteBucketReplication":            "s3:PutReplicationConfiguration",
	"s3:DeleteBucketAnalyticsConfiguration": "s3:PutAnalyticsConfiguration",
	"s3:DeleteBucketMetricsConfiguration":   "s3:PutMetricsConfiguration",
}

// unverified marks what the test does not check; it prints each.
func unverified(why string) rule {
	return func(*stackModel, *stackResource) need { return need{skip: "NOT CHECKED: " + why} }
}

func star(*stackModel, *stackResource) need { return need{arns: []string{"*"}} }

// onlyIf: the permission serves what; needed only when the resource (or
// its stack) has it, and then the test cannot tell on what.
func onlyIf(what string, has func(s *stackModel, r *stackResource) bool) rule {
	return func(s *stackModel, r *stackResource) need {
		if has(s, r) {
			return need{err: "the resource has " + what + ": say in deployrole_rules_test.go what it needs"}
		}
		return need{skip: "only with " + what}
	}
}

// onlyWith: the permission serves a property of the resource.
func onlyWith(props ...string) rule {
	return onlyIf(strings.Join(props, " or "), func(_ *stackModel, r *stackResource) bool { return slices.ContainsFunc(props, r.has) })
}

func onlyWithUpdatePolicy(policy string) rule {
	return onlyIf("UpdatePolicy "+policy, func(_ *stackModel, r *stackResource) bool { return slices.Contains(r.UpdatePolicy, policy) })
}

// noneOfType: the permission acts on a resource of type typ of the stack.
func noneOfType(typ string) rule {
	return onlyIf("a "+typ+" in its stack", func(s *stackModel, _ *stackResource) bool {
		return slices.ContainsFunc(s.Resources, func(o *stackResource) bool { return o.Type == typ })
	})
}

func passRole(pass bool) rule {
	return func(s *stackModel, r *stackResource) need {
		info := resourceTypes[r.Type]
		var arns []string
		for prop := range r.Refs {
			arns = append(arns, s.refARNs(r, prop, "iam:role")...)
			if lit := roleARN.FindString(fmt.Sprint(r.Properties[prop])); lit != "" {
				arns = append(arns, lit)
			}
		}
		if len(arns) == 0 {
			return need{skip: "passes no role"}
		}
		n := need{arns: arns}
		if pass {
			if info.principal == "" {
				return need{err: "passes a role to a service the test does not know"}
			}
			n.context = map[string][]string{"iam:PassedToService": {info.principal}}
			n.known = []string{"iam:PassedToService"}
		}
		return n
	}
}

var roleARN = regexp.MustCompile(`arn:aws:iam::[0-9]{12}:role/[\w+=,.@/-]+`)

func codeObject(s *stackModel, r *stackResource) need {
	if !r.has("Code.S3Bucket") {
		return need{skip: "no code in S3"}
	}
	return need{arns: []string{s.artifactARN(r.ID)}}
}

func associatedStage(s *stackModel, r *stackResource) need {
	for _, id := range r.Refs["ResourceArn"] {
		if o := s.byID[id]; o != nil && o.Type == "AWS::ApiGateway::RestApi" {
			return need{arns: []string{s.stageARN(r)}}
		}
	}
	return need{skip: "protects no API Gateway stage"}
}

// associatedService: the permission acts on the protected resource, of
// service.
func associatedService(service string) rule {
	return onlyIf("a ResourceArn of "+service, func(_ *stackModel, r *stackResource) bool {
		return strings.Contains(fmt.Sprint(r.Properties["ResourceArn"]), ":"+service+":")
	})
}

// idToken stands for an id AWS chooses (a key id, a REST API id): derived
// from the stack and the logical id, so that runs agree, and shaped so that
// no name prefix of the stack matches it.
func idToken(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "/")))
	return hex.EncodeToString(h[:])
}

// physicalName is the name CloudFormation gives a resource: its name
// property, or <stack>-<LogicalId>-<13 characters>. A name too long for that
// is truncated by CloudFormation in ways the test does not model, so it is
// "?" (which no name pattern of a policy but * matches).
func (s *stackModel) physicalName(r *stackResource) string {
	info := resourceTypes[r.Type]
	if v, ok := r.Properties[info.nameProp].(string); ok && info.nameProp != "" && v != "(omitted)" {
		return v
	}
	if info.nameProp != "" && r.Properties[info.nameProp] != nil {
		return "?" + idToken(s.Stack, r.ID)[:8]
	}
	suffix := strings.ToUpper(idToken(s.Stack, r.ID)[:13])
	name := s.Stack + "-" + r.ID + "-" + suffix
	if r.Type == "AWS::S3::Bucket" {
		name = strings.ToLower(name)
	}
	if r.Type == "AWS::SQS::Queue" && r.Properties["FifoQueue"] == true {
		name += ".fifo"
	}
	if info.maxName == 0 || len(name) > info.maxName {
		return "?" + idToken(s.Stack, r.ID)[:8]
	}
	return name
}

func (s *stackModel) arn(service, rest string) string {
	return fmt.Sprintf("arn:aws:%s:%s:%s:%s", service, s.Region, s.account, rest)
}

func (s *stackModel) restAPI(r *stackResource, prop string) string {
	for _, id := range r.Refs[prop] {
		return "/restapis/" + idToken(s.Stack, id)[:10]
	}
	return "/restapis/?"
}

func (s *stackModel) apigw(path string) string {
	return fmt.Sprintf("arn:aws:apigateway:%s::%s", s.Region, path)
}

func (s *stackModel) tagsARN(path string) string {
	return s.apigw("/tags/" + url.QueryEscape(s.apigw(path)))
}

// apigwItem maps the IAM resource types of an API Gateway resource named
// name in the collection at path (a RestApi, its Stage) to its ARN, its
// collection's and its tags'.
func (s *stackModel) apigwItem(kind, path, name string) map[string][]string {
	item := path + "/" + name
	return map[string][]string{"apigateway:" + kind: {s.apigw(item)}, "apigateway:" + kind + "s": {s.apigw(path)}, "apigateway:Tags": {s.tagsARN(item)}}
}

func (s *stackModel) stageARN(r *stackResource) string {
	for _, id := range r.Refs["ResourceArn"] {
		if o := s.byID[id]; o != nil && o.Type == "AWS::ApiGateway::RestApi" {
			for _, st := range s.Resources {
				if st.Type == "AWS::ApiGateway::Stage" && len(st.Refs["RestApiId"]) > 0 && st.Refs["RestApiId"][0] == id {
					return s.apigw(s.restAPI(st, "RestApiId") + "/stages/" + fmt.Sprint(st.Properties["StageName"]))
				}
			}
		}
	}
	return s.apigw("/restapis/?/stages/?")
}

func (s *stackModel) artifactARN(id string) string {
	return fmt.Sprintf("arn:aws:s3:::aws-sam-cli-managed-default-samclisourcebucket-%s/%s/%s",
		idToken("bucket")[:12], s.S3Prefix, idToken(s.Stack, id)[:32])
}

// refARNs are the ARNs (of one IAM resource type) of the resource a
// property refers to.
func (s *stackModel) refARNs(r *stackResource, prop, iamType string) []string {
	var out []string
	for _, id := range r.Refs[prop] {
		if o := s.byID[id]; o != nil {
			out = append(out, s.selfARNs(o)[iamType]...)
		}
	}
	return out
}

// selfARNs maps the IAM resource types ("lambda:function") a resource is
// (or, for a resource that configures another, acts on) to its ARNs.
func (s *stackModel) selfARNs(r *stackResource) map[string][]string {
	name := s.physicalName(r)
	id := idToken(s.Stack, r.ID)
	switch r.Type {
	case "AWS::ApiGateway::RestApi":
		return s.apigwItem("RestApi", "/restapis", id[:10])
	case "AWS::ApiGateway::Deployment":
		// A deployment's handler may also PUT on its REST API.
		api := s.restAPI(r, "RestApiId")
		p := api + "/deployments"
		return map[string][]string{"apigateway:Deployment": {s.apigw(p + "/" + id[:6])}, "apigateway:Deployments": {s.apigw(p)}, "apigateway:RestApi": {s.apigw(api)}}
	case "AWS::ApiGateway::Stage":
		return s.apigwItem("Stage", s.restAPI(r, "RestApiId")+"/stages", fmt.Sprint(r.Properties["StageName"]))
	case "AWS::ApiGateway::Account":
		return map[string][]string{"apigateway:Account": {s.apigw("/account")}}
	case "AWS::ApiGateway::ApiKey":
		return s.apigwItem("ApiKey", "/apikeys", id[:10])
	case "AWS::ApiGateway::UsagePlan":
		return s.apigwItem("UsagePlan", "/usageplans", id[:6])
	case "AWS::ApiGateway::UsagePlanKey":
		plan := "/usageplans/?"
		for _, pid := range r.Refs["UsagePlanId"] {
			plan = "/usageplans/" + idToken(s.Stack, pid)[:6]
		}
		key := "?"
		for _, kid := range r.Refs["KeyId"] {
			key = idToken(s.Stack, kid)[:10]
		}
		return map[string][]string{"apigateway:UsagePlanKey": {s.apigw(plan + "/keys/" + key)}, "apigateway:UsagePlanKeys": {s.apigw(plan + "/keys")}}
	case "AWS::CloudWatch::Alarm":
		return map[string][]string{"cloudwatch:alarm": {s.arn("cloudwatch", "alarm:"+name)}}
	case "AWS::CloudWatch::Dashboard":
		return map[string][]string{"cloudwatch:dashboard": {fmt.Sprintf("arn:aws:cloudwatch::%s:dashboard/%s", s.account, name)}}
	case "AWS::DynamoDB::Table":
		return map[string][]string{"dynamodb:table": {s.arn("dynamodb", "table/"+name)}}
	case "AWS::IAM::Role":
		path := "/" // a role's Path comes before its name in its ARN
		if p, ok := r.Properties["Path"].(string); ok && strings.HasPrefix(p, "/") {
			path = p
		}
		return map[string][]string{"iam:role": {fmt.Sprintf("arn:aws:iam::%s:role%s%s", s.account, path, name)}}
	case "AWS::KMS::Key":
		return map[string][]string{"kms:key": {s.arn("kms", "key/"+id[:8]+"-"+id[8:12]+"-"+id[12:16]+"-"+id[16:20]+"-"+id[20:32])}}
	case "AWS::Lambda::Function":
		return map[string][]string{"lambda:function": {s.arn("lambda", "function:"+name)}}
	case "AWS::Lambda::Version":
		fn := s.refARNs(r, "FunctionName", "lambda:function")
		return map[string][]string{"lambda:function": fn, "lambda:function version": suffixed(fn, ":1")}
	case "AWS::Lambda::Alias":
		fn := s.refARNs(r, "FunctionName", "lambda:function")
		alias := suffixed(fn, ":"+fmt.Sprint(r.Properties["Name"]))
		return map[string][]string{"lambda:function": fn, "lambda:function alias": alias}
	case "AWS::Lambda::Permission":
		return map[string][]string{"lambda:function": s.refARNs(r, "FunctionName", "lambda:function")}
	case "AWS::Lambda::EventSourceMapping":
		return map[string][]string{"lambda:eventSourceMapping": {s.arn("lambda", "event-source-mapping:"+id[:8]+"-"+id[8:12]+"-"+id[12:16]+"-"+id[16:20]+"-"+id[20:32])}}
	case "AWS::Logs::LogGroup":
		lg := s.arn("logs", "log-group:"+name)
		return map[string][]string{"logs:log-group": {lg, lg + ":*"}}
	case "AWS::Logs::MetricFilter":
		return map[string][]string{"logs:log-group": s.refARNs(r, "LogGroupName", "logs:log-group")}
	case "AWS::Logs::QueryDefinition":
		return map[string][]string{}
	case "AWS::S3::Bucket":
		return map[string][]string{"s3:bucket": {"arn:aws:s3:::" + name}}
	case "AWS::S3::BucketPolicy":
		return map[string][]string{"s3:bucket": s.refARNs(r, "Bucket", "s3:bucket")}
	case "AWS::SES::ConfigurationSet":
		return map[string][]string{"ses:configuration-set": {s.arn("ses", "configuration-set/"+name)}}
	case "AWS::SES::EmailIdentity":
		return map[string][]string{"ses:identity": {s.arn("ses", "identity/"+fmt.Sprint(r.Properties["EmailIdentity"]))}}
	case "AWS::SNS::Topic":
		return map[string][]string{"sns:topic": {s.arn("sns", name)}}
	case "AWS::SNS::Subscription":
		return map[string][]string{"sns:topic": s.refARNs(r, "TopicArn", "sns:topic")}
	case "AWS::SQS::Queue":
		return map[string][]string{"sqs:queue": {s.arn("sqs", name)}}
	case "AWS::SecretsManager::Secret":
		// No Name: CloudFormation names it; the test does not assume how.
		return map[string][]string{"secretsmanager:Secret": {s.arn("secretsmanager", "secret:?"+id[:8]+"-"+id[8:14])}}
	case "AWS::WAFv2::WebACL":
		return map[string][]string{"wafv2:webacl": {s.arn("wafv2", "regional/webacl/?"+id[:8]+"/"+id[8:44])}}
	case "AWS::WAFv2::WebACLAssociation":
		return map[string][]string{"wafv2:webacl": s.refARNs(r, "WebACLArn", "wafv2:webacl"), "wafv2:apigateway": {s.stageARN(r)}}
	case "AWS::XRay::SamplingRule":
		rule, _ := r.Properties["SamplingRule"].(map[string]any)
		return map[string][]string{"xray:sampling-rule": {s.arn("xray", "sampling-rule/"+fmt.Sprint(rule["RuleName"]))}}
	}
	return nil
}

func suffixed(arns []string, suffix string) []string {
	out := make([]string, len(arns))
	for i, a := range arns {
		out[i] = a + suffix
	}
	return out
}
