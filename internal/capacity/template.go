package capacity

import (
	"errors"
	"fmt"
	"iter"
	"maps"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Template is template.yaml as the model reads it: the parameters with one
// environment's values, the conditions they decide, and the resources
// whose settings are limits (functions, the API's method settings, the
// usage plan, the web ACL, the alarms). It reads the YAML as a node tree,
// so CloudFormation's short-form tags (!Ref, !If, !Sub) need no special
// decoding; Resolve resolves the intrinsic functions it knows. The
// contract tests resolve policies with it too (InStack, ARNs).
type Template struct {
	// ARNs are the ARNs of resources by logical id, which !GetAtt Id.Arn
	// and ${Id.Arn} stand for; the caller sets those it knows.
	ARNs map[string]string

	values     map[string]string // each parameter's value
	overridden map[string]bool   // set by the environment, not the default
	// The template's sections, and Globals.Function.
	params, conditions, mappings, resources, globals *yaml.Node
}

// ReadTemplate reads the template at path with the parameter values of
// overrides (an environment's parameter_overrides) over the defaults.
func ReadTemplate(path string, overrides map[string]string) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	t, err := ParseTemplate(data, overrides)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// ParseTemplate parses a template with the parameter values of overrides
// over the defaults. An override of a parameter the template does not
// declare is an error, as it is for sam deploy.
func ParseTemplate(data []byte, overrides map[string]string) (*Template, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse template: %w", err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("parse template: not a mapping")
	}
	root := doc.Content[0]
	t := &Template{
		ARNs: map[string]string{}, values: map[string]string{}, overridden: map[string]bool{},
		params: mapping(root, "Parameters"), conditions: mapping(root, "Conditions"), mappings: mapping(root, "Mappings"),
		resources: mapping(root, "Resources"), globals: mapping(mapping(root, "Globals"), "Function"),
	}
	for name, p := range entries(t.params) {
		t.values[name] = scalar(mapping(p, "Default"))
	}
	for name, v := range overrides {
		if !t.Has(name) {
			return nil, fmt.Errorf("parameter override %s: the template declares no such parameter", name)
		}
		t.values[name] = v
		t.overridden[name] = true
	}
	if t.resources == nil || t.resources.Kind != yaml.MappingNode || len(t.resources.Content) == 0 {
		return nil, errors.New("parse template: no Resources")
	}
	return t, nil
}

// Has reports whether the template declares parameter name.
func (t *Template) Has(name string) bool { return mapping(t.params, name) != nil }

// Param returns parameter name's value in this environment.
func (t *Template) Param(name string) (string, error) {
	if !t.Has(name) {
		return "", fmt.Errorf("template has no parameter %s", name)
	}
	return t.values[name], nil
}

// Number returns a numeric parameter's value.
func (t *Template) Number(name string) (float64, error) {
	v, err := t.Param(name)
	if err != nil {
		return 0, err
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, fmt.Errorf("parameter %s = %q: %w", name, v, err)
	}
	return f, nil
}

// Source says where parameter name's value comes from: the environment's
// overrides or the template's default.
func (t *Template) Source(name string) string {
	if t.overridden[name] {
		return "samconfig.toml"
	}
	return "template default"
}

// InStack sets the pseudo parameters (AWS::StackName, AWS::Region,
// AWS::AccountId, ...) of the stack the template is resolved for.
func (t *Template) InStack(stack, region, account string) {
	maps.Copy(t.values, map[string]string{"AWS::Partition": "aws", "AWS::Region": region,
		"AWS::AccountId": account, "AWS::StackName": stack, "AWS::URLSuffix": "amazonaws.com"})
}

// Condition evaluates the template's condition name in this environment.
func (t *Template) Condition(name string) (bool, error) {
	c := mapping(t.conditions, name)
	if c == nil {
		return false, fmt.Errorf("template has no condition %s", name)
	}
	return t.truth(c)
}

// truth resolves a node that must be a condition function.
func (t *Template) truth(n *yaml.Node) (bool, error) {
	v, err := t.Resolve(n)
	if b, ok := v.(bool); ok || err != nil {
		return b, err
	}
	return false, fmt.Errorf("line %d: not a condition", n.Line)
}

// intrinsic returns the intrinsic function a node calls, short form
// (!Equals [a, b]) or long (Fn::Equals: [a, b]; Ref: X), and its
// arguments. A Ref or Condition takes its name as the one argument.
func intrinsic(n *yaml.Node) (string, []*yaml.Node) {
	if n == nil {
		return "", nil
	}
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") { // !!str, !!int: YAML's own
		name := strings.TrimPrefix(n.Tag, "!")
		if n.Kind == yaml.SequenceNode {
			return name, n.Content
		}
		return name, []*yaml.Node{{Kind: yaml.ScalarNode, Value: n.Value, Line: n.Line}}
	}
	if n.Kind == yaml.MappingNode && len(n.Content) == 2 {
		key, val := n.Content[0].Value, n.Content[1]
		name := strings.TrimPrefix(key, "Fn::")
		if key == "Ref" || key == "Condition" || name != key {
			if val.Kind == yaml.SequenceNode {
				return name, val.Content
			}
			return name, []*yaml.Node{val}
		}
	}
	return "", nil
}

// Resolve returns what a node stands for in this environment, every
// intrinsic function in it resolved: a scalar's text, lists and maps of
// those, a condition function's truth. It knows !Ref of a parameter, !If,
// !FindInMap, !Sub, !GetAtt of a resource in ARNs and the condition
// functions (!Equals, !Not, !And, !Or, !Condition); anything else is an
// error.
func (t *Template) Resolve(n *yaml.Node) (any, error) {
	if n == nil {
		return nil, errors.New("missing value")
	}
	fn, args := intrinsic(n)
	switch fn {
	case "":
		return t.resolvePlain(n)
	case "Ref":
		if v, ok := t.values[args[0].Value]; ok {
			return v, nil
		}
		return nil, fmt.Errorf("line %d: !Ref %s is not a parameter", n.Line, args[0].Value)
	case "Condition":
		return t.Condition(args[0].Value)
	case "GetAtt":
		target := args[0].Value
		if len(args) == 2 { // !GetAtt [Id, Arn]
			target += "." + args[1].Value
		}
		if id, ok := strings.CutSuffix(target, ".Arn"); ok && t.ARNs[id] != "" {
			return t.ARNs[id], nil
		}
		return nil, fmt.Errorf("line %d: !GetAtt %s is no ARN of ARNs", n.Line, target)
	case "If":
		if len(args) != 3 {
			return nil, fmt.Errorf("line %d: If needs a condition and two values", n.Line)
		}
		v, err := t.chosen(n)
		if err != nil {
			return nil, err
		}
		return t.Resolve(v)
	case "Sub":
		return t.sub(n.Line, args)
	case "Not", "And", "Or":
		if fn == "Not" && len(args) != 1 {
			return nil, fmt.Errorf("line %d: Not needs one condition", n.Line)
		}
		want := fn == "Or"
		for _, a := range args {
			v, err := t.truth(a)
			if err != nil || fn == "Not" {
				return !v, err
			}
			if v == want {
				return want, nil
			}
		}
		return !want, nil
	case "Equals", "FindInMap":
		if want := map[string]int{"Equals": 2, "FindInMap": 3}[fn]; len(args) != want {
			return nil, fmt.Errorf("line %d: %s needs %d values", n.Line, fn, want)
		}
		keys := make([]string, len(args))
		for i, a := range args {
			var err error
			if keys[i], err = t.resolve(a); err != nil {
				return nil, err
			}
		}
		if fn == "Equals" {
			return keys[0] == keys[1], nil
		}
		v := mapping(mapping(mapping(t.mappings, keys[0]), keys[1]), keys[2])
		if v == nil {
			return nil, fmt.Errorf("line %d: no mapping %s", n.Line, strings.Join(keys, "."))
		}
		return t.Resolve(v)
	}
	return nil, fmt.Errorf("line %d: cannot resolve %s", n.Line, fn)
}

// resolvePlain resolves a node that calls no function: a scalar is its
// text, a list or a map has its items resolved.
func (t *Template) resolvePlain(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.ScalarNode:
		return n.Value, nil
	case yaml.SequenceNode:
		out := []any{}
		for _, c := range n.Content {
			v, err := t.Resolve(c)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		out := map[string]any{}
		for k, c := range entries(n) {
			v, err := t.Resolve(c)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			out[k] = v
		}
		return out, nil
	}
	return nil, fmt.Errorf("line %d: cannot resolve a YAML alias", n.Line)
}

// subVar is a variable of an !Sub's text; ${!Literal} is none.
var subVar = regexp.MustCompile(`\$\{([^}!][^}]*)\}`)

// sub resolves !Sub text or !Sub [text, {variables}]: each ${Name} is a
// variable, a parameter or an ARN (${Id.Arn}).
func (t *Template) sub(line int, args []*yaml.Node) (string, error) {
	vars := map[string]string{}
	if len(args) == 2 {
		for k, c := range entries(args[1]) {
			v, err := t.resolve(c)
			if err != nil {
				return "", err
			}
			vars[k] = v
		}
	} else if len(args) != 1 {
		return "", fmt.Errorf("line %d: Sub needs a text and its variables", line)
	}
	var err error
	out := subVar.ReplaceAllStringFunc(args[0].Value, func(m string) string {
		name := m[2 : len(m)-1]
		if v, ok := vars[name]; ok {
			return v
		}
		if v, ok := t.values[name]; ok {
			return v
		}
		if id, ok := strings.CutSuffix(name, ".Arn"); ok && t.ARNs[id] != "" {
			return t.ARNs[id]
		}
		err = fmt.Errorf("line %d: Sub: nothing named %s", line, name)
		return m
	})
	return strings.ReplaceAll(out, "${!", "${"), err
}

// resolve resolves a node that must stand for a scalar.
func (t *Template) resolve(n *yaml.Node) (string, error) {
	v, err := t.Resolve(n)
	if s, ok := v.(string); ok || err != nil {
		return s, err
	}
	return "", fmt.Errorf("line %d: not a scalar", n.Line)
}

// number resolves a node to a number.
func (t *Template) number(n *yaml.Node) (float64, error) {
	v, err := t.resolve(n)
	if err != nil {
		return 0, err
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, fmt.Errorf("line %d: %q is not a number", n.Line, v)
	}
	return f, nil
}

// present reports whether resource id exists in this environment (its
// Condition, if any, holds).
func (t *Template) present(r *yaml.Node) (bool, error) {
	c := mapping(r, "Condition")
	if c == nil {
		return true, nil
	}
	return t.Condition(c.Value)
}

// Function is a function of the template, with the settings that limit
// it.
type Function struct {
	LogicalID string // "UsersFunction"
	Name      string // the bootstrap's name: "users"
	MemoryMB  float64
	TimeoutS  float64
	// Reserved is the function's reserved concurrency, 0 for none.
	Reserved float64
	// Routes are its Api events by route key, with whether the Jwt
	// authorizer guards them.
	Routes map[string]bool
	// QueueConcurrency is the maximum concurrency of its SQS event source
	// (ScalingConfig.MaximumConcurrency), 0 for none.
	QueueConcurrency float64
	// QueueConcurrencyFrom names what sets QueueConcurrency.
	QueueConcurrencyFrom string
}

// Functions returns the template's functions (AWS::Serverless::Function).
func (t *Template) Functions() ([]Function, error) {
	defaults := Function{MemoryMB: 128, TimeoutS: 3} // AWS's
	if err := t.functionSettings(&defaults, t.globals, "globals"); err != nil {
		return nil, err
	}
	var out []Function
	for id, r := range entries(t.resources) {
		if scalar(mapping(r, "Type")) != "AWS::Serverless::Function" {
			continue
		}
		props := mapping(r, "Properties")
		f := defaults
		f.LogicalID, f.Name, f.Routes = id, strings.ToLower(strings.TrimSuffix(id, "Function")), map[string]bool{}
		if err := t.functionSettings(&f, props, id); err != nil {
			return nil, err
		}
		for name, ev := range entries(mapping(props, "Events")) {
			ep := mapping(ev, "Properties")
			switch scalar(mapping(ev, "Type")) {
			case "Api":
				key := scalar(mapping(ep, "Method")) + " " + scalar(mapping(ep, "Path"))
				f.Routes[key] = scalar(mapping(mapping(ep, "Auth"), "Authorizer")) != ""
			case "SQS":
				n := mapping(mapping(ep, "ScalingConfig"), "MaximumConcurrency")
				if n == nil {
					continue
				}
				v, err := t.number(n)
				if err != nil {
					return nil, fmt.Errorf("%s event %s MaximumConcurrency: %w", id, name, err)
				}
				f.QueueConcurrency = v
				f.QueueConcurrencyFrom = describe(n)
			}
		}
		out = append(out, f)
	}
	if len(out) == 0 {
		return nil, errors.New("template has no functions")
	}
	return out, nil
}

// functionSettings reads the settings of f that props (a function's
// Properties or Globals.Function) sets.
func (t *Template) functionSettings(f *Function, props *yaml.Node, where string) error {
	for key, dst := range map[string]*float64{"MemorySize": &f.MemoryMB, "Timeout": &f.TimeoutS, "ReservedConcurrentExecutions": &f.Reserved} {
		if n := mapping(props, key); n != nil {
			v, err := t.number(n)
			if err != nil {
				return fmt.Errorf("%s %s: %w", where, key, err)
			}
			*dst = v
		}
	}
	return nil
}

// describe says where a node's value comes from ("!Ref NotificationConcurrency").
func describe(n *yaml.Node) string {
	fn, args := intrinsic(n)
	switch {
	case fn == "":
		return "a literal in template.yaml"
	case len(args) == 1 && args[0].Kind == yaml.ScalarNode:
		return "!" + fn + " " + args[0].Value
	}
	return "!" + fn
}

// Throttle is a method's throttle of the API stage.
type Throttle struct {
	Rate, Burst float64
	// Cached is whether the stage cache answers the method (its
	// CachingEnabled, resolved).
	Cached bool
	// From says which setting of MethodSettings applies: the method's own
	// or the stage's default, and the parameter that sets its rate.
	From string
}

// MethodThrottles returns the API's throttles: the stage default, which
// AWS applies to each method on its own, and each method that has a
// setting of its own, keyed "GET /v1/products". ApiID names the
// AWS::Serverless::Api resource.
func (t *Template) MethodThrottles(apiID string) (def Throttle, methods map[string]Throttle, err error) {
	api := mapping(t.resources, apiID)
	if api == nil {
		return def, nil, fmt.Errorf("template has no resource %s", apiID)
	}
	settings := mapping(mapping(api, "Properties"), "MethodSettings")
	if settings == nil || settings.Kind != yaml.SequenceNode {
		return def, nil, fmt.Errorf("%s has no MethodSettings", apiID)
	}
	methods = map[string]Throttle{}
	found := false
	for _, s := range settings.Content {
		rateNode := mapping(s, "ThrottlingRateLimit")
		if rateNode == nil {
			continue
		}
		rate, err := t.number(rateNode)
		if err != nil {
			return def, nil, fmt.Errorf("%s MethodSettings: %w", apiID, err)
		}
		burst := rate
		if b := mapping(s, "ThrottlingBurstLimit"); b != nil {
			if burst, err = t.number(b); err != nil {
				return def, nil, fmt.Errorf("%s MethodSettings: %w", apiID, err)
			}
		}
		path, method := scalar(mapping(s, "ResourcePath")), scalar(mapping(s, "HttpMethod"))
		th := Throttle{Rate: rate, Burst: burst, From: describe(rateNode)}
		if c := mapping(s, "CachingEnabled"); c != nil {
			v, err := t.resolve(c)
			if err != nil {
				return def, nil, fmt.Errorf("%s MethodSettings: %w", apiID, err)
			}
			th.Cached = v == "true"
		}
		if path == "/*" && method == "*" {
			th.From = "stage default (/*, *), applied to each method on its own, " + th.From
			def, found = th, true
			continue
		}
		th.From = "its own MethodSettings entry, " + th.From
		// "/~1v1~1auth~1login": a "/" of the stage's path, then the
		// resource path with each "/" escaped as "~1".
		methods[method+" "+strings.ReplaceAll(strings.TrimPrefix(path, "/"), "~1", "/")] = th
	}
	if !found {
		return def, nil, fmt.Errorf("%s MethodSettings has no stage default (/*, *)", apiID)
	}
	return def, methods, nil
}

// UsagePlan is the throttle and quota each client application's API key
// gets, when the stack requires API keys.
type UsagePlan struct {
	On          bool
	Clients     int
	Rate, Burst float64
	PerDay      float64 // 0: no daily quota
}

// UsagePlan reads the resource id (an AWS::ApiGateway::UsagePlan) and the
// client list parameter clients.
func (t *Template) UsagePlan(id, clients string) (UsagePlan, error) {
	r := mapping(t.resources, id)
	if r == nil {
		return UsagePlan{}, nil
	}
	on, err := t.present(r)
	if err != nil || !on {
		return UsagePlan{}, err
	}
	props := mapping(r, "Properties")
	p := UsagePlan{On: true}
	quota, err := t.chosen(mapping(props, "Quota"))
	if err != nil {
		return UsagePlan{}, fmt.Errorf("%s Quota: %w", id, err)
	}
	for node, dst := range map[*yaml.Node]*float64{
		mapping(mapping(props, "Throttle"), "RateLimit"):  &p.Rate,
		mapping(mapping(props, "Throttle"), "BurstLimit"): &p.Burst,
		mapping(quota, "Limit"):                           &p.PerDay,
	} {
		if node == nil {
			continue
		}
		if *dst, err = t.number(node); err != nil {
			return UsagePlan{}, fmt.Errorf("%s: %w", id, err)
		}
	}
	list, err := t.Param(clients)
	if err != nil {
		return UsagePlan{}, err
	}
	for _, c := range strings.Split(list, ",") {
		if strings.TrimSpace(c) != "" {
			p.Clients++
		}
	}
	return p, nil
}

// chosen is the value a property's node stands for in this environment:
// the node itself, or the branch an !If chooses; nil for !Ref
// AWS::NoValue (the property is absent).
func (t *Template) chosen(n *yaml.Node) (*yaml.Node, error) {
	fn, args := intrinsic(n)
	switch {
	case fn == "If" && len(args) == 3:
		ok, err := t.Condition(args[0].Value)
		if err != nil {
			return nil, err
		}
		if ok {
			return t.chosen(args[1])
		}
		return t.chosen(args[2])
	case fn == "Ref" && len(args) == 1 && args[0].Value == "AWS::NoValue":
		return nil, nil
	}
	return n, nil
}

// RateRule is a rate-based rule of the web ACL: requests one source
// address may send in a window.
type RateRule struct {
	Name   string
	Limit  float64
	Window float64 // seconds
	// Method and Path are the requests it counts: those of Method (any
	// when "") whose path matches the regular expression Path; every
	// request when Path is "".
	Method, Path string
}

// Applies says which requests the rule counts.
func (r RateRule) Applies() string {
	switch {
	case r.Path == "":
		return "every request"
	case r.Method == "":
		return "paths matching " + r.Path
	}
	return r.Method + " to paths matching " + r.Path
}

// RateRules returns the rate-based rules of the web ACL resource id, none
// when the stack has no web ACL.
func (t *Template) RateRules(id string) ([]RateRule, error) {
	r := mapping(t.resources, id)
	if r == nil {
		return nil, nil
	}
	on, err := t.present(r)
	if err != nil || !on {
		return nil, err
	}
	rules := mapping(mapping(r, "Properties"), "Rules")
	if rules == nil {
		return nil, nil
	}
	var out []RateRule
	for _, rule := range rules.Content {
		st := mapping(mapping(rule, "Statement"), "RateBasedStatement")
		if st == nil {
			continue
		}
		limit, err := t.number(mapping(st, "Limit"))
		if err != nil {
			return nil, fmt.Errorf("%s rule %s: %w", id, scalar(mapping(rule, "Name")), err)
		}
		window := 300.0 // AWS WAF's default evaluation window
		if w := mapping(st, "EvaluationWindowSec"); w != nil {
			if window, err = t.number(w); err != nil {
				return nil, err
			}
		}
		rate := RateRule{Name: scalar(mapping(rule, "Name")), Limit: limit, Window: window}
		if rate.Method, rate.Path, err = scopeDown(mapping(st, "ScopeDownStatement")); err != nil {
			return nil, fmt.Errorf("%s rule %s: %w", id, rate.Name, err)
		}
		out = append(out, rate)
	}
	return out, nil
}

// scopeDown reads which requests a rate-based rule's scope-down statement
// counts: a path pattern, or a method and a path pattern (AndStatement).
func scopeDown(st *yaml.Node) (method, path string, err error) {
	parts := []*yaml.Node{st}
	if and := mapping(mapping(st, "AndStatement"), "Statements"); and != nil {
		parts = and.Content
	}
	for _, p := range parts {
		if re := scalar(mapping(mapping(p, "RegexMatchStatement"), "RegexString")); re != "" {
			path = re
		}
		if m := mapping(p, "ByteMatchStatement"); m != nil && mapping(mapping(m, "FieldToMatch"), "Method") != nil {
			method = scalar(mapping(m, "SearchString"))
		}
	}
	if st != nil && path == "" {
		return "", "", fmt.Errorf("line %d: a scope-down statement this reader cannot read", st.Line)
	}
	return method, path, nil
}

// Alarms returns the logical ids of the alarms (AWS::CloudWatch::Alarm)
// that exist in this environment, those an Fn::ForEach fragment repeats
// ([Identifier, [values], {"${Identifier}Alarm": {...}}]) included.
func (t *Template) Alarms() ([]string, error) {
	var out []string
	for id, n := range entries(t.resources) {
		named := map[string]*yaml.Node{id: n}
		if strings.HasPrefix(id, "Fn::ForEach::") {
			clear(named)
			for i := 0; n.Kind == yaml.SequenceNode && len(n.Content) == 3 && i < len(n.Content[1].Content); i++ {
				ident, v := n.Content[0].Value, n.Content[1].Content[i].Value
				for key, r := range entries(n.Content[2]) {
					named[strings.NewReplacer("${"+ident+"}", v, "&{"+ident+"}", v).Replace(key)] = r
				}
			}
		}
		for name, r := range named {
			if scalar(mapping(r, "Type")) != "AWS::CloudWatch::Alarm" {
				continue
			}
			on, err := t.present(r)
			if err != nil {
				return nil, fmt.Errorf("alarm %s: %w", name, err)
			}
			if on {
				out = append(out, name)
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

// mapping is the value of key in a mapping node (nil when it has none, or
// n is no mapping).
func mapping(n *yaml.Node, key string) *yaml.Node {
	for k, v := range entries(n) {
		if k == key {
			return v
		}
	}
	return nil
}

func scalar(n *yaml.Node) string {
	if n == nil {
		return ""
	}
	return n.Value
}

// entries lists the keys and values of a mapping node (none for anything
// else).
func entries(n *yaml.Node) iter.Seq2[string, *yaml.Node] {
	return func(yield func(string, *yaml.Node) bool) {
		for i := 0; n != nil && n.Kind == yaml.MappingNode && i+1 < len(n.Content); i += 2 {
			if !yield(n.Content[i].Value, n.Content[i+1]) {
				return
			}
		}
	}
}
