// Package iampolicy decides whether IAM identity-based policies allow one
// request, for tests that check a role against what it must be able to do
// (internal/contract checks the deploy roles of deploy/github-oidc.yaml),
// and whether a KMS key policy together with them does (internal/contract
// checks who may use the template's keys).
//
// It decides conservatively: a request is Allowed only when an Allow
// statement provably matches it and no Deny statement may match it. What the
// evaluator cannot prove (a condition key the request does not model, an
// operator it does not know, a policy variable) never allows, and a Deny it
// cannot rule out denies. Evaluate models one principal's identity policies;
// EvaluateKeyPolicy adds a KMS key policy in the principal's own account. No
// other resource policies, permissions boundaries, session policies or
// SCPs.
package iampolicy

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Policy is an IAM policy document.
type Policy struct {
	Name       string
	Statements []Statement
}

// Statement is one statement of a policy; every list is as written, a
// single string becoming a list of one.
type Statement struct {
	Sid         string
	Effect      string // Allow or Deny
	Action      []string
	NotAction   []string
	Resource    []string
	NotResource []string
	// Principal maps a principal type (AWS, Service) to its values, in a
	// resource policy; "*" alone is {"AWS": ["*"]}. NotPrincipal is refused.
	Principal map[string][]string
	// Condition maps an operator (StringEquals, ForAllValues:StringLike,
	// ...) to condition keys and their values.
	Condition map[string]map[string][]string
}

// ParseJSON reads a policy document from JSON.
func ParseJSON(name string, doc []byte) (Policy, error) {
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		return Policy{}, fmt.Errorf("policy %s: %w", name, err)
	}
	return Parse(name, v)
}

// Parse reads a policy document already decoded from JSON or YAML (maps of
// strings to values, lists, strings and booleans).
func Parse(name string, doc any) (Policy, error) {
	m, ok := doc.(map[string]any)
	if !ok {
		return Policy{}, fmt.Errorf("policy %s: not an object", name)
	}
	raw := m["Statement"]
	if one, ok := raw.(map[string]any); ok {
		raw = []any{one}
	}
	list, ok := raw.([]any)
	if !ok {
		return Policy{}, fmt.Errorf("policy %s: no Statement list", name)
	}
	p := Policy{Name: name}
	for i, s := range list {
		st, err := parseStatement(s)
		if err != nil {
			return Policy{}, fmt.Errorf("policy %s, statement %d: %w", name, i, err)
		}
		p.Statements = append(p.Statements, st)
	}
	return p, nil
}

func parseStatement(v any) (Statement, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return Statement{}, fmt.Errorf("not an object")
	}
	var st Statement
	var err error
	st.Sid, _ = m["Sid"].(string)
	st.Effect, _ = m["Effect"].(string)
	if st.Effect != "Allow" && st.Effect != "Deny" {
		return st, fmt.Errorf("effect %q", m["Effect"])
	}
	for key, dst := range map[string]*[]string{"Action": &st.Action, "NotAction": &st.NotAction, "Resource": &st.Resource, "NotResource": &st.NotResource} {
		if *dst, err = strings1(m[key]); err != nil {
			return st, fmt.Errorf("%s: %w", key, err)
		}
	}
	if (len(st.Action) == 0) == (len(st.NotAction) == 0) {
		return st, fmt.Errorf("needs exactly one of Action and NotAction")
	}
	if (len(st.Resource) == 0) == (len(st.NotResource) == 0) {
		return st, fmt.Errorf("needs exactly one of Resource and NotResource")
	}
	if _, ok := m["NotPrincipal"]; ok {
		return st, fmt.Errorf("NotPrincipal is not modelled")
	}
	if st.Principal, err = parsePrincipal(m["Principal"]); err != nil {
		return st, fmt.Errorf("principal: %w", err)
	}
	if c, ok := m["Condition"]; ok {
		cm, ok := c.(map[string]any)
		if !ok {
			return st, fmt.Errorf("condition is not an object")
		}
		st.Condition = map[string]map[string][]string{}
		for op, keys := range cm {
			km, ok := keys.(map[string]any)
			if !ok {
				return st, fmt.Errorf("condition %s is not an object", op)
			}
			st.Condition[op] = map[string][]string{}
			for k, vals := range km {
				if st.Condition[op][k], err = strings1(vals); err != nil {
					return st, fmt.Errorf("condition %s %s: %w", op, k, err)
				}
			}
		}
	}
	return st, nil
}

// parsePrincipal reads a Principal element: "*", or an object of principal
// types to a string or a list.
func parsePrincipal(v any) (map[string][]string, error) {
	switch t := v.(type) {
	case nil:
		return nil, nil
	case string:
		if t != "*" {
			return nil, fmt.Errorf("%q: only \"*\" may stand alone", t)
		}
		return map[string][]string{"AWS": {"*"}}, nil
	case map[string]any:
		out := map[string][]string{}
		for typ, vals := range t {
			list, err := strings1(vals)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", typ, err)
			}
			out[typ] = list
		}
		return out, nil
	}
	return nil, fmt.Errorf("%v (%T) is not \"*\" or an object", v, v)
}

// strings1 reads a string, a boolean or a list of them.
func strings1(v any) ([]string, error) {
	switch t := v.(type) {
	case nil:
		return nil, nil
	case string:
		return []string{t}, nil
	case bool:
		return []string{fmt.Sprint(t)}, nil
	case []any:
		out := make([]string, 0, len(t))
		for _, e := range t {
			s, err := strings1(e)
			if err != nil || len(s) != 1 {
				return nil, fmt.Errorf("list item %v is not a string", e)
			}
			out = append(out, s[0])
		}
		return out, nil
	}
	return nil, fmt.Errorf("%v (%T) is not a string or a list", v, v)
}

// String prints a statement on one line, for failure messages.
func (s Statement) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", s.Effect, s.Sid)
	if len(s.Action) > 0 {
		fmt.Fprintf(&b, " Action %v", s.Action)
	} else {
		fmt.Fprintf(&b, " NotAction %v", s.NotAction)
	}
	if len(s.Resource) > 0 {
		fmt.Fprintf(&b, " Resource %v", s.Resource)
	} else {
		fmt.Fprintf(&b, " NotResource %v", s.NotResource)
	}
	for _, op := range slices.Sorted(maps.Keys(s.Condition)) {
		fmt.Fprintf(&b, " %s %v", op, s.Condition[op])
	}
	return b.String()
}
