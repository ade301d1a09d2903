package iampolicy_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/serverless-shop/backend/internal/iampolicy"
)

const keyARN = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"

// tags is the context of a request that carries the given tags.
func tags(requestTags, resourceTags map[string]string) map[string][]string {
	ctx := map[string][]string{}
	for k, v := range requestTags {
		ctx["aws:RequestTag/"+k] = []string{v}
	}
	if len(requestTags) > 0 {
		ctx["aws:TagKeys"] = slices.Collect(maps.Keys(requestTags))
	}
	for k, v := range resourceTags {
		ctx["aws:ResourceTag/"+k] = []string{v}
	}
	return ctx
}

// on is action on resource with the condition keys ctx, whose tag keys are
// known (absent ones are absent, not unknown); nil: a request without any.
func on(action, resource string, ctx map[string][]string) iampolicy.Request {
	if ctx == nil {
		return iampolicy.Request{Action: action, Resource: resource}
	}
	return iampolicy.Request{Action: action, Resource: resource, Context: ctx, Known: []string{"aws:RequestTag/*", "aws:ResourceTag/*", "aws:TagKeys"}}
}

// parse reads a policy document of the test's.
func parse(t *testing.T, name, doc string) iampolicy.Policy {
	t.Helper()
	p, err := iampolicy.ParseJSON(name, []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEvaluate(t *testing.T) {
	createCtx := tags(map[string]string{"stack": "shop-dev", "Commit": "abc"}, nil)
	existingCtx := tags(nil, map[string]string{"stack": "shop-dev"})
	otherCtx := tags(nil, map[string]string{"stack": "shop-prod"})
	untagged := tags(nil, nil)

	tests := []struct {
		name   string
		policy string
		req    iampolicy.Request
		want   iampolicy.Decision
	}{
		{
			name:   "exact action and resource",
			policy: `{"Statement": {"Effect": "Allow", "Action": "kms:DescribeKey", "Resource": "` + keyARN + `"}}`,
			req:    on("kms:DescribeKey", keyARN, nil),
			want:   iampolicy.Allowed,
		},
		{
			name:   "actions compare without case, resources with",
			policy: `{"Statement": [{"Effect": "Allow", "Action": "KMS:describekey", "Resource": "arn:aws:kms:eu-west-1:123456789012:KEY/*"}]}`,
			req:    on("kms:DescribeKey", keyARN, nil),
			want:   iampolicy.ImplicitDeny,
		},
		{
			name:   "action wildcard",
			policy: `{"Statement": [{"Effect": "Allow", "Action": ["kms:Describe*", "kms:Get?eyPolicy"], "Resource": "*"}]}`,
			req:    on("kms:GetKeyPolicy", keyARN, nil),
			want:   iampolicy.Allowed,
		},
		{
			name:   "the wildcard of an action does not reach another service",
			policy: `{"Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}`,
			req:    on("xray:CreateSamplingRule", "*", nil),
			want:   iampolicy.ImplicitDeny,
		},
		{
			name:   "a resource wildcard crosses slashes and colons",
			policy: `{"Statement": [{"Effect": "Allow", "Action": "logs:CreateLogGroup", "Resource": "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/shop-dev-*"}]}`,
			req:    on("logs:CreateLogGroup", "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/shop-dev-users:*", nil),
			want:   iampolicy.Allowed,
		},
		{
			name:   "a name prefix does not match another stack",
			policy: `{"Statement": [{"Effect": "Allow", "Action": "dynamodb:CreateTable", "Resource": "arn:aws:dynamodb:*:*:table/shop-dev-*"}]}`,
			req:    on("dynamodb:CreateTable", "arn:aws:dynamodb:eu-west-1:123456789012:table/shop-devil-UsersTable-ABC", nil),
			want:   iampolicy.ImplicitDeny,
		},
		{
			name:   "a resource of * needs a policy resource that matches the literal *",
			policy: `{"Statement": [{"Effect": "Allow", "Action": "kms:CreateKey", "Resource": "arn:aws:kms:eu-west-1:123456789012:key/*"}]}`,
			req:    on("kms:CreateKey", "*", nil),
			want:   iampolicy.ImplicitDeny,
		},
		{
			name:   "NotAction allows what it does not name",
			policy: `{"Statement": [{"Effect": "Allow", "NotAction": ["iam:*", "kms:ScheduleKeyDeletion"], "Resource": "*"}]}`,
			req:    on("kms:DescribeKey", keyARN, nil),
			want:   iampolicy.Allowed,
		},
		{
			name:   "NotAction excludes what it names",
			policy: `{"Statement": [{"Effect": "Allow", "NotAction": ["iam:*", "kms:ScheduleKeyDeletion"], "Resource": "*"}]}`,
			req:    on("kms:ScheduleKeyDeletion", keyARN, nil),
			want:   iampolicy.ImplicitDeny,
		},
		{
			name:   "NotResource",
			policy: `{"Statement": [{"Effect": "Allow", "Action": "kms:*", "NotResource": "arn:aws:kms:*:*:key/1234*"}]}`,
			req:    on("kms:DescribeKey", keyARN, nil),
			want:   iampolicy.ImplicitDeny,
		},
		{
			name: "an explicit deny wins over an allow",
			policy: `{"Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"},
				{"Effect": "Deny", "Action": "kms:ScheduleKeyDeletion", "Resource": "*"}]}`,
			req:  on("kms:ScheduleKeyDeletion", keyARN, nil),
			want: iampolicy.ExplicitDeny,
		},
		{
			name: "a deny on another action leaves the allow",
			policy: `{"Statement": [{"Effect": "Deny", "Action": "kms:ScheduleKeyDeletion", "Resource": "*"},
				{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}`,
			req:  on("kms:DescribeKey", keyARN, nil),
			want: iampolicy.Allowed,
		},
		{
			name:   "tag on create: the request's tags",
			policy: `{"Statement": [{"Effect": "Allow", "Action": ["kms:CreateKey", "kms:TagResource"], "Resource": "*", "Condition": {"StringEquals": {"aws:RequestTag/stack": "shop-dev"}}}]}`,
			req:    on("kms:TagResource", keyARN, createCtx),
			want:   iampolicy.Allowed,
		},
		{
			name:   "tag on create: a condition on the resource's tags fails, it has none yet",
			policy: `{"Statement": [{"Effect": "Allow", "Action": "kms:TagResource", "Resource": "*", "Condition": {"StringEquals": {"aws:ResourceTag/stack": "shop-dev"}}}]}`,
			req:    on("kms:TagResource", keyARN, createCtx),
			want:   iampolicy.ImplicitDeny,
		},
		{
			name:   "an existing resource's tags",
			policy: `{"Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*", "Condition": {"StringEquals": {"aws:ResourceTag/stack": ["shop-dev", "shop-staging"]}}}]}`,
			req:    on("kms:ScheduleKeyDeletion", keyARN, existingCtx),
			want:   iampolicy.Allowed,
		},
		{
			name:   "another stack's resource",
			policy: `{"Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*", "Condition": {"StringEquals": {"aws:ResourceTag/stack": "shop-dev"}}}]}`,
			req:    on("kms:ScheduleKeyDeletion", keyARN, otherCtx),
			want:   iampolicy.ImplicitDeny,
		},
		{
			name:   "tag keys compare without case",
			policy: `{"Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*", "Condition": {"StringEquals": {"AWS:RESOURCETAG/STACK": "shop-dev"}}}]}`,
			req:    on("kms:DescribeKey", keyARN, existingCtx),
			want:   iampolicy.Allowed,
		},
		{
			name:   "StringLike",
			policy: `{"Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*", "Condition": {"StringLike": {"aws:ResourceTag/stack": "shop-*"}}}]}`,
			req:    on("kms:DescribeKey", keyARN, otherCtx),
			want:   iampolicy.Allowed,
		},
		{
			name:   "StringNotEquals on a missing key holds",
			policy: `{"Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*", "Condition": {"StringNotEquals": {"aws:ResourceTag/stack": "shop-prod"}}}]}`,
			req:    on("kms:DescribeKey", keyARN, untagged),
			want:   iampolicy.Allowed,
		},
		{
			name:   "IfExists on a missing key holds",
			policy: `{"Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*", "Condition": {"StringEqualsIfExists": {"aws:ResourceTag/stack": "shop-dev"}}}]}`,
			req:    on("kms:TagResource", keyARN, createCtx),
			want:   iampolicy.Allowed,
		},
		{
			name:   "ForAllValues holds when every tag key is listed",
			policy: `{"Statement": [{"Effect": "Allow", "Action": "kms:TagResource", "Resource": "*", "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["stack", "Commit", "Owner"]}}}]}`,
			req:    on("kms:TagResource", keyARN, createCtx),
			want:   iampolicy.Allowed,
		},
		{
			name:   "ForAllValues fails on a tag key it does not list",
			policy: `{"Statement": [{"Effect": "Allow", "Action": "kms:TagResource", "Resource": "*", "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["stack"]}}}]}`,
			req:    on("kms:TagResource", keyARN, createCtx),
			want:   iampolicy.ImplicitDeny,
		},
		{
			name:   "ForAllValues holds on no tags at all",
			policy: `{"Statement": [{"Effect": "Allow", "Action": "kms:DescribeKey", "Resource": "*", "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["stack"]}}}]}`,
			req:    on("kms:DescribeKey", keyARN, untagged),
			want:   iampolicy.Allowed,
		},
		{
			name:   "ForAnyValue",
			policy: `{"Statement": [{"Effect": "Allow", "Action": "kms:TagResource", "Resource": "*", "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": ["Commit"]}}}]}`,
			req:    on("kms:TagResource", keyARN, createCtx),
			want:   iampolicy.Allowed,
		},
		{
			name:   "ForAnyValue fails on no tags",
			policy: `{"Statement": [{"Effect": "Allow", "Action": "kms:TagResource", "Resource": "*", "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": ["Commit"]}}}]}`,
			req:    on("kms:TagResource", keyARN, untagged),
			want:   iampolicy.ImplicitDeny,
		},
		{
			name:   "a single-valued operator on a key with several values is not proven",
			policy: `{"Statement": [{"Effect": "Allow", "Action": "kms:TagResource", "Resource": "*", "Condition": {"StringEquals": {"aws:TagKeys": "stack"}}}]}`,
			req:    on("kms:TagResource", keyARN, createCtx),
			want:   iampolicy.Unproven,
		},
		{
			name:   "Null",
			policy: `{"Statement": [{"Effect": "Allow", "Action": "kms:TagResource", "Resource": "*", "Condition": {"Null": {"aws:ResourceTag/stack": "true", "aws:RequestTag/stack": "false"}}}]}`,
			req:    on("kms:TagResource", keyARN, createCtx),
			want:   iampolicy.Allowed,
		},
		{
			name:   "every operator and key must hold",
			policy: `{"Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*", "Condition": {"StringEquals": {"aws:RequestTag/stack": "shop-dev", "aws:RequestTag/Commit": "other"}}}]}`,
			req:    on("kms:TagResource", keyARN, createCtx),
			want:   iampolicy.ImplicitDeny,
		},
		{
			name:   "PassRole to the named service",
			policy: `{"Statement": [{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::123456789012:role/shop-dev-*", "Condition": {"StringEquals": {"iam:PassedToService": ["lambda.amazonaws.com", "apigateway.amazonaws.com"]}}}]}`,
			req:    on("iam:PassRole", "arn:aws:iam::123456789012:role/shop-dev-UsersFunctionRole-ABCDEFGHIJKLM", map[string][]string{"iam:PassedToService": {"lambda.amazonaws.com"}}),
			want:   iampolicy.Allowed,
		},
		{
			name:   "PassRole to another service",
			policy: `{"Statement": [{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*", "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}}]}`,
			req:    on("iam:PassRole", "arn:aws:iam::123456789012:role/x", map[string][]string{"iam:PassedToService": {"ec2.amazonaws.com"}}),
			want:   iampolicy.ImplicitDeny,
		},
		{
			name:   "a condition key the request does not model is never proven",
			policy: `{"Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*", "Condition": {"StringEquals": {"aws:CalledVia": "cloudformation.amazonaws.com"}}}]}`,
			req:    on("kms:DescribeKey", keyARN, existingCtx),
			want:   iampolicy.Unproven,
		},
		{
			name:   "an operator the evaluator does not know is never proven",
			policy: `{"Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*", "Condition": {"NumericLessThan": {"aws:ResourceTag/stack": "3"}}}]}`,
			req:    on("kms:DescribeKey", keyARN, existingCtx),
			want:   iampolicy.Unproven,
		},
		{
			name: "a deny the evaluator cannot rule out denies",
			policy: `{"Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"},
				{"Effect": "Deny", "Action": "kms:*", "Resource": "*", "Condition": {"Bool": {"aws:ViaAWSService": "false"}}}]}`,
			req:  on("kms:DescribeKey", keyARN, existingCtx),
			want: iampolicy.Unproven,
		},
		{
			name: "a deny whose condition fails does not apply",
			policy: `{"Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"},
				{"Effect": "Deny", "Action": "kms:*", "Resource": "*", "Condition": {"Null": {"aws:ResourceTag/stack": "false"}, "StringNotEquals": {"aws:ResourceTag/stack": "shop-dev"}}}]}`,
			req:  on("kms:DescribeKey", keyARN, existingCtx),
			want: iampolicy.Allowed,
		},
		{
			name: "a deny whose condition holds applies",
			policy: `{"Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"},
				{"Effect": "Deny", "Action": "kms:*", "Resource": "*", "Condition": {"Null": {"aws:ResourceTag/stack": "false"}, "StringNotEquals": {"aws:ResourceTag/stack": "shop-dev"}}}]}`,
			req:  on("kms:DescribeKey", keyARN, otherCtx),
			want: iampolicy.ExplicitDeny,
		},
		{
			name:   "a policy variable is never proven",
			policy: `{"Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "arn:aws:kms:*:${aws:PrincipalAccount}:key/*"}]}`,
			req:    on("kms:DescribeKey", keyARN, nil),
			want:   iampolicy.Unproven,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := parse(t, tc.name, tc.policy)
			got := iampolicy.Evaluate(tc.req, p)
			if got.Decision != tc.want {
				t.Errorf("%s on %s: %s (%s), want %s", tc.req.Action, tc.req.Resource, got.Decision, got.Why, tc.want)
			}
		})
	}
}

func TestParseRefusesMalformedStatements(t *testing.T) {
	for name, doc := range map[string]string{
		"no effect":                 `{"Statement": [{"Action": "s3:*", "Resource": "*"}]}`,
		"action and not action":     `{"Statement": [{"Effect": "Allow", "Action": "s3:*", "NotAction": "s3:Get*", "Resource": "*"}]}`,
		"no resource":               `{"Statement": [{"Effect": "Allow", "Action": "s3:*"}]}`,
		"a number as a resource":    `{"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": 3}]}`,
		"a NotPrincipal":            `{"Statement": [{"Effect": "Deny", "NotPrincipal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*", "Resource": "*"}]}`,
		"a principal not *":         `{"Statement": [{"Effect": "Allow", "Principal": "arn:aws:iam::123456789012:root", "Action": "kms:*", "Resource": "*"}]}`,
		"not JSON":                  `{"Statement": `,
		"not an object":             `[]`,
		"no statement list":         `{"Statement": "s3:*"}`,
		"a statement not an object": `{"Statement": ["s3:*"]}`,
		"a condition not an object": `{"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": []}]}`,
	} {
		if _, err := iampolicy.ParseJSON(name, []byte(doc)); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

// TestStatementString: failure messages name a statement and a decision.
func TestStatementString(t *testing.T) {
	p := parse(t, "p", `{"Statement": {"Sid": "S", "Effect": "Deny", "NotAction": "s3:*", "NotResource": "*", "Condition": {"Bool": {"aws:SecureTransport": false}}}}`)
	if got, want := p.Statements[0].String()+", "+iampolicy.Allowed.String(), "Deny S NotAction [s3:*] NotResource [*] Bool map[aws:SecureTransport:[false]], allowed"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
}

func TestWildcard(t *testing.T) {
	for _, tc := range []struct {
		pattern, value string
		want           bool
	}{
		{"*", "", true},
		{"a*c", "abbbc", true},
		{"a*c", "abbbd", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"arn:aws:s3:::bucket-*/stack/*", "arn:aws:s3:::bucket-x1/stack/abc/def", true},
		{"arn:aws:s3:::bucket-*/stack/*", "arn:aws:s3:::bucket-x1/other/stack/x", true}, // * crosses slashes: bucket-x1/other
		{"arn:aws:s3:::bucket-*/stack/*", "arn:aws:s3:::bucket-x1/stackx/abc", false},
	} {
		if got := iampolicy.Wildcard(tc.pattern, tc.value, false); got != tc.want {
			t.Errorf("Wildcard(%q, %q) = %v", tc.pattern, tc.value, got)
		}
	}
}

func TestArnConditions(t *testing.T) {
	role := "arn:aws:iam::123456789012:role/shop-users/shop-UsersFunctionRole-ABC"
	for _, tc := range []struct {
		name, op, pattern, value string
		want                     iampolicy.Decision
	}{
		{"a path and any name", "ArnLike", "arn:aws:iam::123456789012:role/shop-users/*", role, iampolicy.Allowed},
		{"the same name without the path", "ArnLike", "arn:aws:iam::123456789012:role/shop-users/*", "arn:aws:iam::123456789012:role/shop-UsersFunctionRole-ABC", iampolicy.ImplicitDeny},
		{"a longer stack's path", "ArnLike", "arn:aws:iam::123456789012:role/shop-users/*", "arn:aws:iam::123456789012:role/shop-users-x/shop-users-x-Role-A", iampolicy.ImplicitDeny},
		{"another account", "ArnLike", "arn:aws:iam::123456789012:role/shop-users/*", "arn:aws:iam::210987654321:role/shop-users/r", iampolicy.ImplicitDeny},
		{"a wildcard stays within its part", "ArnLike", "arn:aws:iam::*", role, iampolicy.ImplicitDeny},
		{"a wildcard for a whole part", "ArnLike", "arn:aws:iam::*:role/shop-users/*", role, iampolicy.Allowed},
		{"a wildcard does not reach across a colon", "ArnLike", "arn:aws:iam:*:role/shop-users/*", role, iampolicy.ImplicitDeny},
		{"case counts", "ArnLike", "arn:aws:iam::123456789012:role/Shop-users/*", role, iampolicy.ImplicitDeny},
		{"the resource part keeps its colons", "ArnLike", "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/*", "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/x:*", iampolicy.Allowed},
		{"ArnNotLike of a match", "ArnNotLike", "arn:aws:iam::123456789012:role/shop-users/*", role, iampolicy.ImplicitDeny},
		{"ArnEquals of the same", "ArnEquals", role, role, iampolicy.Allowed},
		{"not an ARN", "ArnLike", "arn:aws:iam::123456789012:role/*", "shop-users", iampolicy.ImplicitDeny},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := parse(t, tc.name, `{"Statement": {"Effect": "Allow", "Action": "kms:Sign", "Resource": "*",
				"Condition": {"`+tc.op+`": {"aws:PrincipalArn": "`+tc.pattern+`"}}}}`)
			req := iampolicy.Request{Action: "kms:Sign", Resource: keyARN, Context: map[string][]string{"aws:PrincipalArn": {tc.value}}}
			if got := iampolicy.Evaluate(req, p); got.Decision != tc.want {
				t.Errorf("%s %q on %q: %s (%s), want %s", tc.op, tc.pattern, tc.value, got.Decision, got.Why, tc.want)
			}
		})
	}
}

func TestEvaluateKeyPolicy(t *testing.T) {
	const (
		account = "arn:aws:iam::123456789012:root"
		users   = "arn:aws:iam::123456789012:role/shop-users/shop-UsersFunctionRole-ABC"
		other   = "arn:aws:iam::123456789012:role/shop-OrdersFunctionRole-XYZ"
		foreign = "arn:aws:iam::210987654321:role/shop-users/shop-UsersFunctionRole-ABC"
	)
	keyPolicy := `{"Statement": [
		{"Sid": "Admin", "Effect": "Allow", "Principal": {"AWS": "` + account + `"}, "Action": ["kms:Describe*", "kms:Put*"], "Resource": "*"},
		{"Sid": "Public", "Effect": "Allow", "Principal": {"AWS": "` + account + `"}, "Action": "kms:GetPublicKey", "Resource": "*"},
		{"Sid": "UsersSign", "Effect": "Allow", "Principal": {"AWS": "` + account + `"}, "Action": "kms:Sign", "Resource": "*",
		 "Condition": {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/shop-users/*"}}},
		{"Sid": "Seal", "Effect": "Allow", "Principal": {"AWS": "` + account + `"}, "Action": "kms:Encrypt", "Resource": "*",
		 "Condition": {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/shop-users/*"},
		               "Null": {"kms:EncryptionContext:eventId": "false"},
		               "ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["eventId", "eventType"]}}},
		{"Sid": "CloudWatch", "Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": "kms:Decrypt", "Resource": "*"},
		{"Sid": "Anyone", "Effect": "Allow", "Principal": "*", "Action": "kms:Verify", "Resource": "*"},
		{"Sid": "NoOneDisables", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "kms:DisableKey", "Resource": "*"}
	]}`
	key := parse(t, "key", keyPolicy)
	allKMS := parse(t, "kms:* on *", `{"Statement": {"Effect": "Allow", "Action": "kms:*", "Resource": "*"}}`)
	none := iampolicy.Policy{Name: "none"}
	ec := func(keys ...string) map[string][]string {
		ctx := map[string][]string{"kms:EncryptionContextKeys": keys}
		for _, k := range keys {
			ctx["kms:EncryptionContext:"+k] = []string{"v"}
		}
		return ctx
	}
	req := func(action, principal string, ctx map[string][]string) iampolicy.Request {
		c := map[string][]string{"aws:PrincipalArn": {principal}}
		maps.Copy(c, ctx)
		return iampolicy.Request{Action: action, Resource: keyARN, Principal: principal, Context: c,
			Known: []string{"aws:PrincipalArn", "kms:EncryptionContext:*", "kms:EncryptionContextKeys"}}
	}
	for _, tc := range []struct {
		name     string
		req      iampolicy.Request
		identity iampolicy.Policy
		want     iampolicy.Decision
	}{
		{"delegated and allowed by IAM", req("kms:Sign", users, nil), allKMS, iampolicy.Allowed},
		{"delegated, but IAM allows nothing", req("kms:Sign", users, nil), none, iampolicy.ImplicitDeny},
		{"IAM allows kms:*, the key policy's condition does not match", req("kms:Sign", other, nil), allKMS, iampolicy.ImplicitDeny},
		{"another account's role of the same path", req("kms:Sign", foreign, nil), allKMS, iampolicy.ImplicitDeny},
		{"IAM allows kms:*, the key policy has no statement for it", req("kms:Decrypt", users, ec("eventId")), allKMS, iampolicy.ImplicitDeny},
		{"delegated to the whole account", req("kms:GetPublicKey", other, nil), allKMS, iampolicy.Allowed},
		{"with the context the key policy asks for", req("kms:Encrypt", users, ec("eventId", "eventType")), allKMS, iampolicy.Allowed},
		{"a required context key missing", req("kms:Encrypt", users, ec("eventType")), allKMS, iampolicy.ImplicitDeny},
		{"no context at all", req("kms:Encrypt", users, ec()), allKMS, iampolicy.ImplicitDeny},
		{"a context key more", req("kms:Encrypt", users, ec("eventId", "eventType", "extra")), allKMS, iampolicy.ImplicitDeny},
		{"a service principal named by the key policy needs no IAM", req("kms:Decrypt", "cloudwatch.amazonaws.com", nil), none, iampolicy.Allowed},
		{"a key policy's * needs no IAM", req("kms:Verify", other, nil), none, iampolicy.Allowed},
		{"a key policy's Deny wins over IAM", req("kms:DisableKey", users, nil), allKMS, iampolicy.ExplicitDeny},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := iampolicy.EvaluateKeyPolicy(tc.req, key, tc.identity); got.Decision != tc.want {
				t.Errorf("%s by %s: %s (%s), want %s", tc.req.Action, tc.req.Principal, got.Decision, got.Why, tc.want)
			}
		})
	}
	deny := parse(t, "deny", `{"Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}, {"Effect": "Deny", "Action": "kms:Sign", "Resource": "*"}]}`)
	if got := iampolicy.EvaluateKeyPolicy(req("kms:Sign", users, nil), key, deny); got.Decision != iampolicy.ExplicitDeny {
		t.Errorf("an identity policy's Deny: %s, want %s", got.Decision, iampolicy.ExplicitDeny)
	}
}
