package contract_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/serverless-shop/backend/internal/iampolicy"
)

// The deploy roles of deploy/github-oidc.yaml, checked against what they
// must do: the ExecutionRole everything CloudFormation's resource handlers
// need to create, read, update, tag and delete every resource of
// template.yaml in dev, staging and prod (as samconfig.toml configures them,
// and with every optional switch on); the DeployRole what `sam deploy`
// itself calls, and what the SAM CLI's managed stack (its artifact bucket,
// created with the DeployRole's own credentials on the first deploy in a
// region) needs. testdata/stack-resources.json lists the resources and the
// handler permissions (localstack/stack_resources.py writes it from the
// pinned SAM CLI; `make lint` checks it is current), testdata/iam-actions.json
// what each action is authorized on (scripts/iam_actions.py).

// stackResource is one resource of the transformed template.
type stackResource struct {
	ID           string              `json:"id"`
	Type         string              `json:"type"`
	Properties   map[string]any      `json:"properties"`
	Refs         map[string][]string `json:"refs"`
	UpdatePolicy []string            `json:"updatePolicy"`
}

// has reports whether a property (a dotted path: Code.S3Bucket) is set.
func (r *stackResource) has(path string) bool {
	var v any = r.Properties
	for _, p := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		if v, ok = m[p]; !ok {
			return false
		}
	}
	return true
}

// stackModel is one stack of one environment.
type stackModel struct {
	Environment string            `json:"environment"`
	Variant     string            `json:"variant"`
	Stack       string            `json:"stack"`
	Region      string            `json:"region"`
	S3Prefix    string            `json:"s3Prefix"`
	Role        string            `json:"role"`
	Parameters  map[string]string `json:"parameters"`
	Resources   []*stackResource  `json:"resources"`

	account string
	byID    map[string]*stackResource
}

// typeFacts is what a resource type's registry schema says.
type typeFacts struct {
	Handlers       map[string][]string `json:"handlers"`
	Taggable       bool                `json:"taggable"`
	TagOnCreate    bool                `json:"tagOnCreate"`
	SystemTags     bool                `json:"systemTags"`
	TagPermissions []string            `json:"tagPermissions"`
}

type actionFacts struct {
	ResourceTypes []struct {
		Name     string `json:"name"`
		Required bool   `json:"required"`
	} `json:"resourceTypes"`
	ConditionKeys []string `json:"conditionKeys"`
}

func (a *actionFacts) takesRequestTags() bool {
	return slices.Contains(a.ConditionKeys, "aws:RequestTag/${TagKey}")
}

// checker holds the inputs and collects what the roles cannot do.
type checker struct {
	t         *testing.T
	types     map[string]*typeFacts
	actions   map[string]*actionFacts
	stackTags map[string]string // what the workflow's sam deploy --tags passes
	failures  map[string]*failure
	skipped   map[string]bool
	checked   int
}

// failure is one permission a role lacks, with where it is needed.
type failure struct {
	role, what, decision, arn string
	where                     map[string]bool
}

func readJSON(t *testing.T, name string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(readFile(t, "testdata", name)), v); err != nil {
		t.Fatalf("testdata/%s: %v", name, err)
	}
}

var tagFlag = regexp.MustCompile(`--tags ((?:[A-Za-z0-9_.:/+-]+=\S+ ?)+)`)

// workflowStackTags reads the stack tags the deploy workflow passes to sam
// deploy; CloudFormation propagates them to every taggable resource. A
// shell variable stands for a commit id.
func workflowStackTags(t *testing.T) map[string]string {
	t.Helper()
	tags := map[string]string{}
	for _, m := range tagFlag.FindAllStringSubmatch(readFile(t, root, ".github", "workflows", "deploy-environment.yml"), -1) {
		for _, kv := range strings.Fields(strings.Trim(m[1], `"`)) {
			k, v, _ := strings.Cut(strings.Trim(kv, `"`), "=")
			if strings.HasPrefix(v, "$") {
				v = strings.Repeat("0123456789", 4)
			}
			tags[k] = v
		}
	}
	if len(tags) == 0 {
		t.Fatal("deploy-environment.yml passes no --tags to sam deploy; the test expects the stack's Commit tag")
	}
	return tags
}

func TestDeployRolesCanDeployTheTemplate(t *testing.T) {
	var res struct {
		Account string                `json:"account"`
		Stacks  []*stackModel         `json:"stacks"`
		Types   map[string]*typeFacts `json:"types"`
	}
	readJSON(t, "stack-resources.json", &res)
	var iam struct {
		Actions map[string]*actionFacts `json:"actions"`
	}
	readJSON(t, "iam-actions.json", &iam)
	c := &checker{t: t, types: res.Types, actions: iam.Actions, stackTags: workflowStackTags(t),
		failures: map[string]*failure{}, skipped: map[string]bool{}}

	var managed *stackModel
	for _, s := range res.Stacks {
		s.account = res.Account
		s.byID = map[string]*stackResource{}
		for _, r := range s.Resources {
			s.byID[r.ID] = r
		}
		if s.Role == "DeployRole" {
			managed = s
		}
	}
	if managed == nil {
		t.Fatal("testdata/stack-resources.json has no managed stack")
	}
	for _, s := range res.Stacks {
		if s.Role != "ExecutionRole" {
			continue
		}
		roles := loadDeployRoles(t, s.Environment, s.Region, res.Account)
		where := s.Environment + " (" + s.Variant + ")"
		for _, r := range s.Resources {
			c.resource(s, r, roles.policies["ExecutionRole"], "ExecutionRole", where, []string{"create", "read", "update", "delete"}, c.stackTags)
		}
		c.samDeploy(s, roles, where)
		// The managed stack is created once, by whichever environment
		// deploys first in the account and region, and never updated.
		for _, r := range managed.Resources {
			c.resource(managed, r, roles.policies["DeployRole"], "DeployRole", s.Environment+" (first deploy in the region)",
				[]string{"create"}, map[string]string{"ManagedStackSource": "AwsSamCli"})
		}
	}
	t.Logf("%d requests checked", c.checked)
	for _, k := range keys(c.skipped) {
		if strings.Contains(k, "NOT CHECKED") {
			t.Log(k)
		}
	}
	if len(c.failures) == 0 {
		return
	}
	var lines []string
	for _, f := range c.failures {
		lines = append(lines, fmt.Sprintf("%s cannot %s: %s on %s\n      needed in %s",
			f.role, f.what, f.decision, f.arn, strings.Join(keys(f.where), ", ")))
	}
	sort.Strings(lines)
	t.Errorf("deploy/github-oidc.yaml: %d permissions missing:\n  %s", len(lines), strings.Join(lines, "\n  "))
}

// resource checks every handler permission of one resource, in the phases
// given, against a role's policies.
func (c *checker) resource(s *stackModel, r *stackResource, policies []iampolicy.Policy, role, where string, phases []string, stackTags map[string]string) {
	if len(policies) == 0 {
		c.t.Fatalf("deploy/github-oidc.yaml has no %s policies", role)
	}
	if strings.HasPrefix(r.Type, "Custom::") {
		// CloudFormation invokes a custom resource's function with the
		// stack's role, on create, update and delete.
		for _, p := range slices.DeleteFunc(slices.Clone(phases), func(p string) bool { return p == "read" }) {
			for _, arn := range s.refARNs(r, "ServiceToken", "lambda:function") {
				c.check(policies, role, fmt.Sprintf("%s %s lambda:InvokeFunction", r.Type, p), r.ID, where,
					iampolicy.Request{Action: "lambda:InvokeFunction", Resource: arn})
			}
		}
		return
	}
	facts := c.types[r.Type]
	if facts == nil {
		c.t.Errorf("%s: no registry schema for %s in testdata/stack-resources.json", r.ID, r.Type)
		return
	}
	created := c.tags(s, r, facts, stackTags)
	system := maps.Clone(created)
	if facts.SystemTags {
		system["aws:cloudformation:stack-name"] = s.Stack
		system["aws:cloudformation:logical-id"] = r.ID
		system["aws:cloudformation:stack-id"] = fmt.Sprintf("arn:aws:cloudformation:%s:%s:stack/%s/%s", s.Region, s.account, s.Stack, idToken(s.Stack))
	}
	for _, phase := range phases {
		perms := facts.Handlers[phase]
		if phase == "create" || phase == "update" {
			perms = append(append([]string{}, perms...), facts.TagPermissions...)
		}
		for _, action := range dedupe(perms) {
			what := fmt.Sprintf("%s %s %s", r.Type, phase, action)
			if as, ok := authorizedAs[action]; ok {
				action = as
				what += " (as " + as + ")"
			}
			n := c.need(s, r, action)
			switch {
			case n.err != "":
				c.t.Errorf("%s: %s", what, n.err)
				continue
			case n.skip != "":
				c.skipped[what+": "+n.skip] = true
				continue
			}
			for _, arn := range n.arns {
				req := iampolicy.Request{Action: action, Resource: arn, Context: map[string][]string{}, Known: n.known}
				maps.Copy(req.Context, n.context)
				if n.context == nil && n.known == nil {
					c.tagContext(&req, phase, action, created, system, stackTags, facts)
				}
				c.check(policies, role, what, r.ID, where, req)
			}
		}
	}
}

// tags are the tags a resource is created with: its Tags property, and the
// stack's tags where CloudFormation propagates them.
func (c *checker) tags(s *stackModel, r *stackResource, facts *typeFacts, stackTags map[string]string) map[string]string {
	out := map[string]string{}
	if facts.Taggable && facts.TagOnCreate {
		maps.Copy(out, stackTags)
	}
	switch tags := r.Properties["Tags"].(type) {
	case nil:
	case []any:
		for _, tag := range tags {
			m, _ := tag.(map[string]any)
			out[fmt.Sprint(m["Key"])] = fmt.Sprint(m["Value"])
		}
	case map[string]any:
		for k, v := range tags {
			out[k] = fmt.Sprint(v)
		}
	default:
		c.t.Errorf("%s %s: cannot read its Tags %v", s.Stack, r.ID, tags)
	}
	return out
}

// tagContext sets the tag condition keys of a request on the resource
// itself. The call that creates it (an action that takes request tags, in
// the create handler) carries its tags and finds none on the resource; every
// later call finds them on it (with CloudFormation's aws:cloudformation:*
// tags where the type takes them); an update carries the stack's tags anew.
func (c *checker) tagContext(req *iampolicy.Request, phase, action string, created, system, stackTags map[string]string, facts *typeFacts) {
	req.Known = tagConditions
	a := c.actions[action]
	takes := a != nil && a.takesRequestTags()
	request := map[string]string{}
	switch {
	case phase == "create" && takes:
		request = created
	case phase == "update" && takes && facts.Taggable:
		request = stackTags
	}
	if !(phase == "create" && takes) {
		for k, v := range system {
			req.Context["aws:ResourceTag/"+k] = []string{v}
		}
	}
	if len(request) > 0 {
		requestTags(req.Context, request)
	}
}

// tagConditions are the condition keys of tags.
var tagConditions = []string{"aws:RequestTag/*", "aws:ResourceTag/*", "aws:TagKeys"}

// requestTags sets the condition keys of a request that carries tags.
func requestTags(ctx map[string][]string, tags map[string]string) {
	for k, v := range tags {
		ctx["aws:RequestTag/"+k] = []string{v}
	}
	ctx["aws:TagKeys"] = keys(tags)
}

// need decides what one handler permission needs for one resource.
func (c *checker) need(s *stackModel, r *stackResource, action string) need {
	info, ok := resourceTypes[r.Type]
	if !ok {
		return need{err: "a resource type deployrole_rules_test.go does not know"}
	}
	service, _, _ := strings.Cut(action, ":")
	for _, key := range []string{r.Type + " " + action, r.Type + " " + service + ":*", "* " + action} {
		if rl, ok := rules[key]; ok {
			return rl(s, r)
		}
	}
	if service != info.service {
		return need{err: "a permission of another service, and no rule in deployrole_rules_test.go says when it is needed"}
	}
	a, ok := c.actions[action]
	if !ok {
		return need{err: "not in testdata/iam-actions.json: run scripts/iam_actions.py (see its docstring)"}
	}
	self := s.selfARNs(r)
	if a == nil {
		// Not in the Service Authorization Reference: the resource's own
		// ARNs.
		var arns []string
		for _, k := range keys(self) {
			arns = append(arns, self[k]...)
		}
		if len(arns) == 0 {
			arns = []string{"*"}
		}
		return need{arns: arns}
	}
	if len(a.ResourceTypes) == 0 {
		return need{arns: []string{"*"}}
	}
	var arns, names []string
	for _, rt := range a.ResourceTypes {
		names = append(names, rt.Name)
		arns = append(arns, self[service+":"+rt.Name]...)
	}
	if len(arns) == 0 {
		return need{err: fmt.Sprintf("authorized on %v, none of which the resource is: say in deployrole_rules_test.go what it needs", names)}
	}
	return need{arns: dedupe(arns)}
}

// check evaluates one request and records a failure.
func (c *checker) check(policies []iampolicy.Policy, role, what, id, where string, req iampolicy.Request) {
	c.checked++
	got := iampolicy.Evaluate(req, policies...)
	if got.Decision == iampolicy.Allowed {
		return
	}
	decision := got.Decision.String()
	if got.Why != "" {
		decision += " (" + got.Why + ")"
	}
	key := role + "|" + what + "|" + decision
	f := c.failures[key]
	if f == nil {
		f = &failure{role: role, what: what + " (" + id + ")", decision: decision, arn: req.Resource, where: map[string]bool{}}
		if len(req.Context) > 0 {
			f.arn += " with " + contextString(req.Context)
		}
		c.failures[key] = f
	}
	f.where[where] = true
}

// contextString prints a request's condition keys briefly: the tag keys of
// the request and of the resource, the other keys with their values.
func contextString(ctx map[string][]string) string {
	var req, res, other []string
	for _, k := range keys(ctx) {
		switch {
		case strings.HasPrefix(k, "aws:RequestTag/"):
			req = append(req, strings.TrimPrefix(k, "aws:RequestTag/"))
		case strings.HasPrefix(k, "aws:ResourceTag/aws:cloudformation:"):
			if !slices.Contains(res, "aws:cloudformation:*") {
				res = append(res, "aws:cloudformation:*")
			}
		case strings.HasPrefix(k, "aws:ResourceTag/"):
			res = append(res, strings.TrimPrefix(k, "aws:ResourceTag/"))
		case k != "aws:TagKeys":
			other = append(other, k+"="+strings.Join(ctx[k], ","))
		}
	}
	var parts []string
	if req != nil {
		parts = append(parts, "request tags "+strings.Join(req, ","))
	}
	if res != nil {
		parts = append(parts, "resource tags "+strings.Join(res, ","))
	}
	return strings.Join(append(parts, other...), "; ")
}

// dedupe sorts a list and drops its repeats.
func dedupe(in []string) []string { return slices.Compact(slices.Sorted(slices.Values(in))) }

// samDeploy checks what `sam deploy --config-env <env> --role-arn <ExecutionRole>
// --tags ...` calls with the DeployRole (samcli/lib/deploy/deployer.py,
// samcli/lib/package/s3_uploader.py), and what the workflow reads.
func (c *checker) samDeploy(s *stackModel, roles deployRoles, where string) {
	policies := roles.policies["DeployRole"]
	stackARN := fmt.Sprintf("arn:aws:cloudformation:%s:%s:stack/%s/%s", s.Region, s.account, s.Stack, idToken(s.Stack)[:8])
	managedARN := fmt.Sprintf("arn:aws:cloudformation:%s:%s:stack/aws-sam-cli-managed-default/%s", s.Region, s.account, idToken("managed")[:8])
	// tagged is a request that carries tags and the extra condition keys.
	tagged := func(action, arn string, tags map[string]string, extra map[string][]string) iampolicy.Request {
		req := iampolicy.Request{Action: action, Resource: arn, Context: map[string][]string{}, Known: slices.Clone(tagConditions)}
		requestTags(req.Context, tags)
		for k, v := range extra {
			req.Context[k] = v
			req.Known = append(req.Known, k)
		}
		return req
	}
	transform := func(name string) string {
		return fmt.Sprintf("arn:aws:cloudformation:%s:aws:transform/%s", s.Region, name)
	}
	type call struct {
		what string
		req  iampolicy.Request
	}
	managedTags, changeSet := map[string]string{"ManagedStackSource": "AwsSamCli"}, map[string][]string{"cloudformation:CreateAction": {"CreateChangeSet"}}
	calls := []call{
		{"read the stack (sam deploy, sam list stack-outputs, the workflow's running version)", iampolicy.Request{Action: "cloudformation:DescribeStacks", Resource: stackARN}},
		{"read the stack's parameters (sam deploy)", iampolicy.Request{Action: "cloudformation:GetTemplateSummary", Resource: stackARN}},
		{"create a change set with --role-arn and --tags", tagged("cloudformation:CreateChangeSet", stackARN, c.stackTags, map[string][]string{"cloudformation:RoleArn": {roles.arns["ExecutionRole"]}})},
		{"tag the stack as it creates the change set", tagged("cloudformation:TagResource", stackARN, c.stackTags, changeSet)},
		{"run the SAM transform", iampolicy.Request{Action: "cloudformation:CreateChangeSet", Resource: transform("Serverless-2016-10-31")}},
		{"run the LanguageExtensions transform", iampolicy.Request{Action: "cloudformation:CreateChangeSet", Resource: transform("LanguageExtensions")}},
		{"wait for the change set", iampolicy.Request{Action: "cloudformation:DescribeChangeSet", Resource: stackARN}},
		{"execute the change set", iampolicy.Request{Action: "cloudformation:ExecuteChangeSet", Resource: stackARN}},
		{"follow the stack's events", iampolicy.Request{Action: "cloudformation:DescribeStackEvents", Resource: stackARN}},
		{"hand the ExecutionRole to CloudFormation", iampolicy.Request{Action: "iam:PassRole", Resource: roles.arns["ExecutionRole"],
			Context: map[string][]string{"iam:PassedToService": {"cloudformation.amazonaws.com"}}, Known: []string{"iam:PassedToService"}}},
		{"upload the code and the template", iampolicy.Request{Action: "s3:PutObject", Resource: s.artifactARN("code")}},
		{"see whether an artifact is there already, and let CloudFormation read the template", iampolicy.Request{Action: "s3:GetObject", Resource: s.artifactARN("template")}},
		{"find the SAM CLI's managed stack", iampolicy.Request{Action: "cloudformation:DescribeStacks", Resource: managedARN}},
		{"create the managed stack (first deploy in the region)", tagged("cloudformation:CreateChangeSet", managedARN, managedTags, nil)},
		{"tag the managed stack", tagged("cloudformation:TagResource", managedARN, managedTags, changeSet)},
		{"run the managed stack's SAM transform", iampolicy.Request{Action: "cloudformation:CreateChangeSet", Resource: transform("Serverless-2016-10-31")}},
		{"wait for the managed stack's change set", iampolicy.Request{Action: "cloudformation:DescribeChangeSet", Resource: managedARN}},
		{"execute the managed stack's change set", iampolicy.Request{Action: "cloudformation:ExecuteChangeSet", Resource: managedARN}},
	}
	for _, cl := range calls {
		c.check(policies, "DeployRole", "sam deploy: "+cl.what+": "+cl.req.Action, s.Stack, where, cl.req)
	}
}
