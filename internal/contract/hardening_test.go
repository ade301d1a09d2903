package contract_test

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/serverless-shop/backend/internal/capacity"
)

// keyAdministration is the key administrators statement of KMS's default key
// policy (AWS KMS developer guide, key-policy-default, "Allows key
// administrators to administer the KMS key"): management, and no
// cryptographic operation.
var keyAdministration = []string{
	"kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*",
	"kms:Update*", "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*",
	"kms:TagResource", "kms:UntagResource", "kms:ScheduleKeyDeletion",
	"kms:CancelKeyDeletion",
}

// keyUse lists, per KeyUsage, the cryptographic operations a use statement of
// a key policy may allow.
var keyUse = map[string][]string{
	"SIGN_VERIFY":     {"kms:Sign", "kms:Verify", "kms:GetPublicKey"},
	"ENCRYPT_DECRYPT": {"kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:GenerateDataKey*"},
}

// statefulTypes are the resource types whose data outlives a deployment:
// prod must keep them when the stack is deleted or the resource replaced,
// other environments must clean them up.
var statefulTypes = []string{
	"AWS::DynamoDB::Table", "AWS::KMS::Key", "AWS::SecretsManager::Secret", "AWS::SQS::Queue",
}

// TestKMSKeyPoliciesSeparateAdministrationAndUse checks every KMS key's
// policy: nothing grants kms:* (or *, or NotAction); one statement lets the
// account principal administer the key with exactly the documented
// administrator actions, so IAM administrators and the deploying role keep
// control of it; and separate statements allow only the cryptographic
// operations of the key's usage.
func TestKMSKeyPoliciesSeparateAdministrationAndUse(t *testing.T) {
	checked := 0
	for id, res := range ofType(t, "AWS::KMS::Key") {
		checked++
		props := mapping(res, "Properties")
		usage := cmp.Or(scalar(mapping(props, "KeyUsage")), "ENCRYPT_DECRYPT") // or the KMS default
		allowedUse, ok := keyUse[usage]
		if !ok {
			t.Errorf("%s: KeyUsage %s has no list of use operations here", id, usage)
			continue
		}
		statements := mapping(mapping(props, "KeyPolicy"), "Statement")
		if statements == nil || statements.Kind != yaml.SequenceNode {
			t.Errorf("%s: no KeyPolicy statements", id)
			continue
		}
		var admin, use int
		for i, st := range statements.Content {
			sid := cmp.Or(scalar(mapping(st, "Sid")), fmt.Sprintf("statement %d", i))
			if mapping(st, "NotAction") != nil || mapping(st, "NotPrincipal") != nil {
				t.Errorf("%s %s: NotAction/NotPrincipal in a key policy", id, sid)
			}
			actions := scalars(mapping(st, "Action"))
			for _, a := range actions {
				if a == "*" || strings.EqualFold(a, "kms:*") {
					t.Errorf("%s %s grants %s", id, sid, a)
				}
			}
			if scalar(mapping(st, "Effect")) != "Allow" {
				continue
			}
			isAdmin := slices.ContainsFunc(actions, func(a string) bool { return slices.Contains(keyAdministration, a) })
			isUse := slices.ContainsFunc(actions, func(a string) bool { return slices.Contains(allowedUse, a) })
			switch {
			case isAdmin && isUse:
				t.Errorf("%s %s mixes administration and use: %v", id, sid, actions)
			case isAdmin:
				admin++
				if !accountPrincipal(mapping(st, "Principal")) {
					t.Errorf("%s %s: administration must stay with the account principal (IAM administrators, the deploying role)", id, sid)
				}
				if !slices.Equal(slices.Sorted(slices.Values(actions)), slices.Sorted(slices.Values(keyAdministration))) {
					t.Errorf("%s %s: administration actions %v, want KMS's documented key administrators statement %v", id, sid, actions, keyAdministration)
				}
			case isUse:
				use++
				for _, a := range actions {
					if !slices.Contains(allowedUse, a) {
						t.Errorf("%s %s: use statement allows %s, not an operation of a %s key %v", id, sid, a, usage, allowedUse)
					}
				}
			default:
				t.Errorf("%s %s is neither administration nor use of a %s key: %v", id, sid, usage, actions)
			}
		}
		if admin != 1 {
			t.Errorf("%s: %d administration statements, want 1", id, admin)
		}
		if use == 0 {
			t.Errorf("%s: no use statement separate from administration", id)
		}
	}
	if checked == 0 {
		t.Fatal("template.yaml has no AWS::KMS::Key")
	}
}

// TestAlarmTopicEncryptedWithACustomerManagedKey checks that the alarm topic
// (and any other topic) is encrypted with a key of the template, and that
// the key lets CloudWatch publish alarms to it: the AWS managed key
// alias/aws/sns cannot (SNS developer guide, sns-key-management,
// "Enable compatibility between event sources from AWS services and
// encrypted topics").
func TestAlarmTopicEncryptedWithACustomerManagedKey(t *testing.T) {
	_, byID := resources(t)
	if scalar(mapping(byID["AlarmTopic"], "Type")) != "AWS::SNS::Topic" {
		t.Fatal("template.yaml has no AlarmTopic")
	}
	for id := range ofType(t, "AWS::SNS::Topic") {
		keyID := mapping(mapping(byID[id], "Properties"), "KmsMasterKeyId")
		if keyID == nil {
			t.Errorf("%s has no KmsMasterKeyId", id)
			continue
		}
		keys := referencedKeys(keyID, byID)
		if len(keys) != 1 {
			t.Errorf("%s: KmsMasterKeyId %q is not a KMS key of the template", id, keyID.Value)
			continue
		}
		if id != "AlarmTopic" {
			continue
		}
		var decrypt, generate bool
		for _, st := range seq(mapping(mapping(mapping(byID[keys[0]], "Properties"), "KeyPolicy"), "Statement")) {
			if scalar(mapping(st, "Effect")) != "Allow" || scalar(mapping(mapping(st, "Principal"), "Service")) != "cloudwatch.amazonaws.com" {
				continue
			}
			actions := scalars(mapping(st, "Action"))
			decrypt = decrypt || slices.Contains(actions, "kms:Decrypt")
			generate = generate || slices.Contains(actions, "kms:GenerateDataKey*")
		}
		if !decrypt || !generate {
			t.Errorf("%s's key %s does not allow cloudwatch.amazonaws.com kms:Decrypt and kms:GenerateDataKey*; alarms could not publish", id, keys[0])
		}
	}
}

// TestStatefulResourcesRetainedInProd checks that every table, KMS key,
// secret and queue has a DeletionPolicy and an UpdateReplacePolicy that
// resolve to Retain for Environment=prod and to Delete in every other
// environment (as AWS::LanguageExtensions resolves them), so a
// deleted or replaced prod resource keeps its data and dev stacks clean up.
func TestStatefulResourcesRetainedInProd(t *testing.T) {
	doc := template(t)
	envs := scalars(mapping(mapping(mapping(doc, "Parameters"), "Environment"), "AllowedValues"))
	if !slices.Contains(envs, "prod") || len(envs) < 2 {
		t.Fatalf("Environment's AllowedValues %v do not include prod and others", envs)
	}
	byEnv := map[string]*capacity.Template{}
	for _, env := range envs {
		byEnv[env] = stackTemplate(t, "template.yaml", "serverless-shop-"+env, "eu-west-1", keyAccount, map[string]string{"Environment": env})
	}
	ids, byID := resources(t)
	var checked []string
	for _, id := range ids {
		if !slices.Contains(statefulTypes, scalar(mapping(byID[id], "Type"))) {
			continue
		}
		checked = append(checked, id)
		for _, attr := range []string{"DeletionPolicy", "UpdateReplacePolicy"} {
			node := mapping(byID[id], attr)
			if node == nil {
				t.Errorf("%s has no %s", id, attr)
				continue
			}
			for _, env := range envs {
				want := "Delete"
				if env == "prod" {
					want = "Retain"
				}
				got, err := byEnv[env].Resolve(node)
				if err != nil {
					t.Errorf("%s %s: %v", id, attr, err)
					break
				}
				if got != want {
					t.Errorf("%s %s is %s with Environment=%s, want %s", id, attr, got, env, want)
				}
			}
		}
	}
	for _, id := range []string{
		"UsersTable", "OrdersTable", "NotificationsTable", "RevocationsTable",
		"SigningKeyA", "SigningKeyB", "LinkKey", "AlarmTopicKey",
		"CursorSecret", "OrderEventsQueue", "OrderEventsDLQ",
	} {
		if !slices.Contains(checked, id) {
			t.Errorf("%s is not in the template as a table, key, secret or queue", id)
		}
	}
}

// accountPrincipal reports whether a principal is this account's principal
// (arn:...:iam::${AWS::AccountId}:root), which delegates to IAM policies.
func accountPrincipal(p *yaml.Node) bool {
	return strings.HasSuffix(scalar(mapping(p, "AWS")), ":iam::${AWS::AccountId}:root")
}

// referencedKeys lists the KMS keys of the template a node refers to
// (!Ref Key, !GetAtt Key.Arn, also inside !If and lists).
func referencedKeys(n *yaml.Node, byID map[string]*yaml.Node) []string {
	var out []string
	var walk func(*yaml.Node)
	walk = func(n *yaml.Node) {
		if n == nil {
			return
		}
		var id string
		switch {
		case n.Tag == "!Ref" && n.Kind == yaml.ScalarNode:
			id = n.Value
		case n.Tag == "!GetAtt" && n.Kind == yaml.ScalarNode:
			id, _, _ = strings.Cut(n.Value, ".")
		case n.Tag == "!GetAtt" && n.Kind == yaml.SequenceNode && len(n.Content) > 0:
			id = n.Content[0].Value
		}
		if id != "" && scalar(mapping(byID[id], "Type")) == "AWS::KMS::Key" && !slices.Contains(out, id) {
			out = append(out, id)
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(n)
	return out
}

// seq returns the items of a sequence node (none for anything else).
func seq(n *yaml.Node) []*yaml.Node {
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	return n.Content
}
