package contract_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/serverless-shop/backend/internal/capacity"
	"github.com/serverless-shop/backend/internal/iampolicy"
)

// deployRoles are the roles deploy/github-oidc.yaml creates for one
// environment, as they would be in an account: their ARNs and policies.
type deployRoles struct {
	arns map[string]string
	// policies holds each role's inline policies by logical id.
	policies map[string][]iampolicy.Policy
}

// loadDeployRoles resolves deploy/github-oidc.yaml with Environment=env and
// the other parameters at their defaults, in the given region and account.
func loadDeployRoles(t *testing.T, env, region, account string) deployRoles {
	t.Helper()
	top := yamlFile(t, "deploy", "github-oidc.yaml")
	stack := "serverless-shop-github-" + env // as docs/operations.md names the OIDC stack
	e := stackTemplate(t, "deploy/github-oidc.yaml", stack, region, account, map[string]string{"Environment": env, "GitHubRepository": "owner/repo"})
	res := mapping(top, "Resources")
	roles := deployRoles{arns: map[string]string{}, policies: map[string][]iampolicy.Policy{}}
	for id, r := range entries(res) {
		switch scalar(mapping(r, "Type")) {
		case "AWS::IAM::Role":
			// No RoleName: CloudFormation names it <stack>-<LogicalId>-<suffix>.
			e.ARNs[id] = fmt.Sprintf("arn:aws:iam::%s:role/%s-%s-ABCDEFGHIJKLM", account, stack, id)
			roles.arns[id] = e.ARNs[id]
		case "AWS::IAM::OIDCProvider":
			e.ARNs[id] = fmt.Sprintf("arn:aws:iam::%s:oidc-provider/token.actions.githubusercontent.com", account)
		}
	}
	for id, r := range entries(res) {
		if _, ok := roles.arns[id]; !ok {
			continue
		}
		for _, p := range seq(mapping(mapping(r, "Properties"), "Policies")) {
			name := scalar(mapping(p, "PolicyName"))
			v, err := e.Resolve(mapping(p, "PolicyDocument"))
			if err != nil {
				t.Fatalf("%s policy %s: %v", id, name, err)
			}
			if s, ok := v.(string); ok { // a JSON document in a !Sub
				if err := json.Unmarshal([]byte(s), &v); err != nil {
					t.Fatalf("%s policy %s is not JSON: %v", id, name, err)
				}
			}
			pol, err := iampolicy.Parse(id+"/"+name, v)
			if err != nil {
				t.Fatal(err)
			}
			roles.policies[id] = append(roles.policies[id], pol)
		}
	}
	return roles
}

// stackTemplate reads the template at path (under root) with the
// parameters at their defaults but for params, and resolves it for the
// stack named stack in region and account.
func stackTemplate(t *testing.T, path, stack, region, account string, params map[string]string) *capacity.Template {
	t.Helper()
	tpl, err := capacity.ReadTemplate(filepath.Join(root, path), params)
	if err != nil {
		t.Fatal(err)
	}
	tpl.InStack(stack, region, account)
	return tpl
}
