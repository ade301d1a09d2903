package contract_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/serverless-shop/backend/internal/iampolicy"
)

// deployRoles are the roles deploy/github-oidc.yaml creates for one
// environment, as they would be in an account: their ARNs and policies.
type deployRoles struct {
	stack string // the OIDC stack (docs/operations.md names it serverless-shop-github-<env>)
	arns  map[string]string
	// policies holds each role's inline policies by logical id.
	policies map[string][]iampolicy.Policy
}

// cfnEnv resolves the intrinsic functions of a template: Ref, Fn::Sub,
// Fn::If, Fn::Equals, Fn::FindInMap and Fn::GetAtt ...Arn, with the
// parameter values, the pseudo parameters and the ARNs its resources would
// get.
type cfnEnv struct {
	params     map[string]string
	conditions map[string]*yaml.Node
	arns       map[string]string
	mappings   *yaml.Node
}

// loadDeployRoles resolves deploy/github-oidc.yaml with Environment=env and
// the other parameters at their defaults, in the given region and account.
func loadDeployRoles(t *testing.T, env, region, account string) deployRoles {
	t.Helper()
	top := yamlFile(t, "deploy", "github-oidc.yaml")
	stack := "serverless-shop-github-" + env
	e := newCfnEnv(top, stack, region, account, map[string]string{"Environment": env, "GitHubRepository": "owner/repo"})
	res := mapping(top, "Resources")
	roles := deployRoles{stack: stack, arns: map[string]string{}, policies: map[string][]iampolicy.Policy{}}
	for id, r := range entries(res) {
		switch scalar(mapping(r, "Type")) {
		case "AWS::IAM::Role":
			// No RoleName: CloudFormation names it <stack>-<LogicalId>-<suffix>.
			e.arns[id] = fmt.Sprintf("arn:aws:iam::%s:role/%s-%s-ABCDEFGHIJKLM", account, stack, id)
			roles.arns[id] = e.arns[id]
		case "AWS::IAM::OIDCProvider":
			e.arns[id] = fmt.Sprintf("arn:aws:iam::%s:oidc-provider/token.actions.githubusercontent.com", account)
		}
	}
	for id, r := range entries(res) {
		if _, ok := roles.arns[id]; !ok {
			continue
		}
		for _, p := range seq(mapping(mapping(r, "Properties"), "Policies")) {
			name := scalar(mapping(p, "PolicyName"))
			v, err := e.resolve(mapping(p, "PolicyDocument"))
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

// newCfnEnv resolves doc for the stack named stack in region and account,
// with its parameters at their defaults but for params.
func newCfnEnv(doc *yaml.Node, stack, region, account string, params map[string]string) *cfnEnv {
	e := &cfnEnv{
		params: map[string]string{
			"AWS::Partition": "aws", "AWS::Region": region, "AWS::AccountId": account, "AWS::StackName": stack,
			"AWS::URLSuffix": "amazonaws.com",
		},
		conditions: map[string]*yaml.Node{},
		arns:       map[string]string{},
		mappings:   mapping(doc, "Mappings"),
	}
	for name, p := range entries(mapping(doc, "Parameters")) {
		e.params[name] = scalar(mapping(p, "Default"))
	}
	maps.Copy(e.params, params)
	maps.Insert(e.conditions, entries(mapping(doc, "Conditions")))
	return e
}

// resolve turns a node into plain values with every intrinsic function
// resolved; a value the function does not know is an error.
func (e *cfnEnv) resolve(n *yaml.Node) (any, error) {
	if n == nil {
		return nil, nil
	}
	switch name, arg := intrinsic(n); name {
	case "Ref":
		return e.ref(arg.Value)
	case "Fn::Sub":
		return e.sub(arg)
	case "Fn::If":
		return e.fnIf(arg)
	case "Fn::GetAtt":
		return e.getAtt(arg.Value)
	case "Fn::Equals":
		return e.equals(arg)
	case "Fn::FindInMap":
		return e.findInMap(arg)
	}
	switch n.Kind {
	case yaml.ScalarNode:
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, err
		}
		return v, nil
	case yaml.SequenceNode:
		out := []any{}
		for _, c := range n.Content {
			v, err := e.resolve(c)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		out := map[string]any{}
		for k, c := range entries(n) {
			v, err := e.resolve(c)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			out[k] = v
		}
		return out, nil
	}
	return nil, fmt.Errorf("cannot resolve %v", n.Kind)
}

func (e *cfnEnv) findInMap(n *yaml.Node) (any, error) {
	var path []string
	for _, c := range n.Content {
		v, err := e.resolve(c)
		if err != nil {
			return nil, err
		}
		path = append(path, fmt.Sprint(v))
	}
	if len(path) != 3 {
		return nil, fmt.Errorf("Fn::FindInMap needs three arguments")
	}
	v := mapping(mapping(mapping(e.mappings, path[0]), path[1]), path[2])
	if v == nil {
		return nil, fmt.Errorf("mapping %s has no %s.%s", path[0], path[1], path[2])
	}
	return e.resolve(v)
}

func (e *cfnEnv) ref(name string) (any, error) {
	if v, ok := e.params[name]; ok {
		return v, nil
	}
	return nil, fmt.Errorf("Ref %s: not a parameter", name)
}

func (e *cfnEnv) getAtt(target string) (any, error) {
	if id, ok := strings.CutSuffix(target, ".Arn"); ok {
		if arn, ok := e.arns[id]; ok {
			return arn, nil
		}
	}
	return nil, fmt.Errorf("GetAtt %s: unknown", target)
}

func (e *cfnEnv) equals(n *yaml.Node) (any, error) {
	if n.Kind != yaml.SequenceNode || len(n.Content) != 2 {
		return nil, fmt.Errorf("Fn::Equals needs two values")
	}
	a, err := e.resolve(n.Content[0])
	if err != nil {
		return nil, err
	}
	b, err := e.resolve(n.Content[1])
	if err != nil {
		return nil, err
	}
	return fmt.Sprint(a) == fmt.Sprint(b), nil
}

func (e *cfnEnv) fnIf(n *yaml.Node) (any, error) {
	if n.Kind != yaml.SequenceNode || len(n.Content) != 3 {
		return nil, fmt.Errorf("Fn::If needs [condition, then, else]")
	}
	c, ok := e.conditions[n.Content[0].Value]
	if !ok {
		return nil, fmt.Errorf("no condition %s", n.Content[0].Value)
	}
	holds, err := e.resolve(c)
	if err != nil {
		return nil, err
	}
	if holds == true {
		return e.resolve(n.Content[1])
	}
	return e.resolve(n.Content[2])
}

var subVar = regexp.MustCompile(`\$\{([^}!][^}]*)\}`)

func (e *cfnEnv) sub(n *yaml.Node) (any, error) {
	text, vars := n.Value, map[string]string{}
	if n.Kind == yaml.SequenceNode {
		if len(n.Content) != 2 {
			return nil, fmt.Errorf("Fn::Sub needs [text, variables]")
		}
		text = n.Content[0].Value
		for k, c := range entries(n.Content[1]) {
			v, err := e.resolve(c)
			if err != nil {
				return nil, err
			}
			vars[k] = fmt.Sprint(v)
		}
	}
	var err error
	out := subVar.ReplaceAllStringFunc(text, func(m string) string {
		name := m[2 : len(m)-1]
		if v, ok := vars[name]; ok {
			return v
		}
		if v, ok := e.params[name]; ok {
			return v
		}
		if v, gerr := e.getAtt(name); gerr == nil {
			return v.(string)
		}
		err = fmt.Errorf("Fn::Sub: nothing named %s", name)
		return m
	})
	return strings.ReplaceAll(out, "${!", "${"), err
}
