package iampolicy

import (
	"fmt"
	"slices"
	"strings"
)

// Request is one authorization: an action on a resource, with the
// condition keys the request carries.
type Request struct {
	Action   string // service:Name
	Resource string // the ARN the action is authorized on, "*" for an action without a resource type
	// Principal is the caller, for EvaluateKeyPolicy: an IAM ARN or a
	// service principal's name. (Conditions on aws:PrincipalArn read
	// Context, like every other key.)
	Principal string
	// Context holds the condition keys the request carries and their
	// values (aws:TagKeys may have several). Keys compare case-insensitively.
	Context map[string][]string
	// Known lists the condition keys (a trailing "*" matches any ending,
	// "aws:RequestTag/*") whose absence from Context is a fact: a
	// condition on such a key that Context lacks sees a missing key. Every
	// other key Context lacks is unknown, and a condition on it is never
	// proven.
	Known []string
}

// Decision is the outcome of evaluating a request.
type Decision int

const (
	// ImplicitDeny: no Allow statement matches.
	ImplicitDeny Decision = iota
	// Allowed: an Allow statement matches and no Deny statement can.
	Allowed
	// ExplicitDeny: a Deny statement matches.
	ExplicitDeny
	// Unproven: a statement might match, but the evaluator cannot tell (an
	// unknown condition key or operator, a policy variable), so the request
	// is not allowed.
	Unproven
)

func (d Decision) String() string {
	return [...]string{"implicitly denied", "allowed", "explicitly denied", "not proven"}[d]
}

// Result is a decision and the statement that made it, if one did.
type Result struct {
	Decision  Decision
	Statement *Statement // the matching Deny or Allow, or the first unproven one
	Why       string     // for Unproven: what could not be decided
}

// tri is a match that may be unknown.
type tri int

const (
	no tri = iota
	yes
	unknown
)

func and(a, b tri) tri {
	switch {
	case a == no || b == no:
		return no
	case a == unknown || b == unknown:
		return unknown
	}
	return yes
}

// Evaluate decides r against every statement of the policies (all of one
// principal): an explicit Deny wins, then an Allow.
func Evaluate(r Request, policies ...Policy) Result {
	var allow, unsure *Statement
	var why string
	for pi := range policies {
		for si := range policies[pi].Statements {
			s := &policies[pi].Statements[si]
			m, w := s.matches(r)
			switch {
			case m == yes && s.Effect == "Deny":
				return Result{Decision: ExplicitDeny, Statement: s}
			case m == unknown && s.Effect == "Deny":
				return Result{Decision: Unproven, Statement: s, Why: "a Deny may apply: " + w}
			case m == yes && allow == nil:
				allow = s
			case m == unknown && unsure == nil:
				unsure, why = s, w
			}
		}
	}
	switch {
	case allow != nil:
		return Result{Decision: Allowed, Statement: allow}
	case unsure != nil:
		return Result{Decision: Unproven, Statement: unsure, Why: why}
	}
	return Result{Decision: ImplicitDeny}
}

func (s *Statement) matches(r Request) (tri, string) {
	act := anyMatch(s.Action, r.Action, true)
	if len(s.NotAction) > 0 {
		act = !anyMatch(s.NotAction, r.Action, true)
	}
	if !act {
		return no, ""
	}
	res, why := resourceMatch(s.Resource, r.Resource)
	if len(s.NotResource) > 0 {
		res, why = resourceMatch(s.NotResource, r.Resource)
		res = not(res)
	}
	if res == no {
		return no, ""
	}
	cond, cwhy := s.conditionMatch(r)
	if cwhy != "" {
		why = strings.TrimPrefix(why+"; "+cwhy, "; ")
	}
	return and(res, cond), why
}

func not(t tri) tri { return [...]tri{no: yes, yes: no, unknown: unknown}[t] }

func anyMatch(patterns []string, value string, fold bool) bool {
	return slices.ContainsFunc(patterns, func(p string) bool { return Wildcard(p, value, fold) })
}

func resourceMatch(patterns []string, arn string) (tri, string) {
	out, why := no, ""
	for _, p := range patterns {
		if strings.Contains(p, "${") {
			out, why = unknown, "policy variable in "+p
			continue
		}
		if Wildcard(p, arn, false) {
			return yes, ""
		}
	}
	return out, why
}

// Wildcard matches value against an IAM pattern: * is any run of
// characters (slashes and colons too), ? any one character.
func Wildcard(pattern, value string, fold bool) bool {
	if fold {
		pattern, value = strings.ToLower(pattern), strings.ToLower(value)
	}
	p, v := 0, 0
	star, mark := -1, 0
	for v < len(value) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == value[v]):
			p++
			v++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, v
			p++
		case star >= 0:
			p = star + 1
			mark++
			v = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

func (s *Statement) conditionMatch(r Request) (tri, string) {
	out := yes
	var whys []string
	for op, keys := range s.Condition {
		for key, vals := range keys {
			m, why := evalCondition(op, key, vals, r)
			out = and(out, m)
			if why != "" {
				whys = append(whys, why)
			}
		}
	}
	return out, strings.Join(whys, "; ")
}

// lookup finds a condition key in the request: its values, and whether its
// presence or absence is known.
func lookup(r Request, key string) (vals []string, present, known bool) {
	for k, v := range r.Context {
		if strings.EqualFold(k, key) {
			return v, true, true
		}
	}
	return nil, false, slices.ContainsFunc(r.Known, func(k string) bool { return Wildcard(k, key, true) })
}

func evalCondition(op, key string, want []string, r Request) (tri, string) {
	set, base, ifExists := "", op, false
	if i := strings.Index(base, ":"); i >= 0 {
		set, base = base[:i], base[i+1:]
		if set != "ForAllValues" && set != "ForAnyValue" {
			return unknown, "operator " + op
		}
	}
	if b, ok := strings.CutSuffix(base, "IfExists"); ok {
		base, ifExists = b, true
	}
	for _, w := range want {
		if strings.Contains(w, "${") {
			return unknown, fmt.Sprintf("%s %s: policy variable in %s", op, key, w)
		}
	}
	got, present, known := lookup(r, key)
	if !known {
		return unknown, fmt.Sprintf("%s %s: the request does not model %s", op, key, key)
	}
	if base == "Null" {
		if set != "" || ifExists || len(want) != 1 {
			return unknown, "operator " + op
		}
		return boolTri(strings.EqualFold(want[0], "true") == !present), ""
	}
	cmp, negated, ok := comparer(base)
	if !ok {
		return unknown, "operator " + op
	}
	matchOne := func(v string) bool { return slices.ContainsFunc(want, func(w string) bool { return cmp(w, v) }) }
	if !present {
		switch {
		case ifExists, set == "ForAllValues":
			return yes, ""
		case set == "ForAnyValue":
			return no, ""
		}
		return boolTri(negated), ""
	}
	switch set {
	case "ForAllValues": // no value fails
		return boolTri(!slices.ContainsFunc(got, func(v string) bool { return matchOne(v) == negated })), ""
	case "ForAnyValue":
		return boolTri(slices.ContainsFunc(got, func(v string) bool { return matchOne(v) != negated })), ""
	}
	if len(got) != 1 {
		return unknown, fmt.Sprintf("%s on %s, which has %d values, without ForAllValues or ForAnyValue", op, key, len(got))
	}
	return boolTri(matchOne(got[0]) != negated), ""
}

func boolTri(b bool) tri {
	if b {
		return yes
	}
	return no
}

// comparer returns how an operator compares a policy value with a request
// value, and whether the operator is negated (StringNotEquals).
func comparer(op string) (cmp func(want, got string) bool, negated, ok bool) {
	base, negated := op, false
	for _, prefix := range []string{"StringNot", "ArnNot"} {
		if rest, found := strings.CutPrefix(op, prefix); found {
			base, negated = strings.TrimSuffix(prefix, "Not")+rest, true
		}
	}
	switch base {
	case "StringEquals":
		return func(w, g string) bool { return w == g }, negated, true
	case "StringEqualsIgnoreCase":
		return strings.EqualFold, negated, true
	case "StringLike":
		return func(w, g string) bool { return Wildcard(w, g, false) }, negated, true
	case "ArnEquals", "ArnLike":
		return arnLike, negated, true
	case "Bool":
		if negated {
			return nil, false, false
		}
		return strings.EqualFold, false, true
	}
	return nil, false, false
}

// arnLike matches an ARN against an ARN pattern as ArnLike does: each of
// the six colon-separated parts on its own (a wildcard does not reach into
// the next part; the last part, the resource, may hold colons of its own),
// case-sensitively.
func arnLike(pattern, arn string) bool {
	p, a := strings.SplitN(pattern, ":", 6), strings.SplitN(arn, ":", 6)
	if len(p) != 6 || len(a) != 6 {
		return false
	}
	for i := range p {
		if !Wildcard(p[i], a[i], false) {
			return false
		}
	}
	return true
}

// EvaluateKeyPolicy decides r against a KMS key policy and the identity
// policies of the calling principal, which is in the key's account: r's
// Principal is its ARN (a role's: arn:aws:iam::<account>:role/<path><name>,
// what aws:PrincipalArn holds), or a service principal's name. As KMS
// decides (developer guide, "Determining access to a KMS key"): an
// explicit Deny in either denies; a key policy statement naming the
// principal itself (or "*") allows by itself; one naming the principal's
// account (arn:aws:iam::<account>:root or the account id) allows only if
// the identity policies allow too; and nothing allows without the key
// policy, whatever the identity policies say.
func EvaluateKeyPolicy(r Request, key Policy, identity ...Policy) Result {
	var direct, delegated []Statement
	for _, s := range key.Statements {
		switch principalMatch(s.Principal, r.Principal) {
		case principalItself:
			direct = append(direct, s)
		case principalAccount:
			delegated = append(delegated, s)
		}
	}
	// Denies first, wherever they are: Evaluate stops at the first Deny
	// that applies or may.
	if d := Evaluate(r, Policy{Name: key.Name, Statements: append(append([]Statement{}, direct...), delegated...)}); d.Statement != nil && d.Statement.Effect == "Deny" {
		return d
	}
	idr := Evaluate(r, identity...)
	if idr.Decision == ExplicitDeny || (idr.Decision == Unproven && idr.Statement != nil && idr.Statement.Effect == "Deny") {
		return idr
	}
	directRes := Evaluate(r, Policy{Name: key.Name, Statements: direct})
	if directRes.Decision == Allowed {
		return directRes
	}
	keyRes := Evaluate(r, Policy{Name: key.Name, Statements: delegated})
	var out Result
	switch {
	case keyRes.Decision == Allowed && idr.Decision == Allowed:
		return keyRes
	case keyRes.Decision == Allowed || keyRes.Decision == Unproven && idr.Decision != ImplicitDeny:
		// Delegated (or maybe): what IAM says decides.
		out = idr
		if idr.Decision == Allowed {
			out = keyRes
		}
		if out.Decision == ImplicitDeny {
			out.Why = "the key policy delegates to IAM, whose policies do not allow it"
		}
	default:
		out = keyRes
		if keyRes.Decision == Unproven { // and IAM denies it anyway
			out = Result{Decision: ImplicitDeny, Why: "IAM's policies do not allow it"}
		}
	}
	if out.Decision == ImplicitDeny && directRes.Decision == Unproven {
		return directRes
	}
	return out
}

// principalKind is how a key policy's Principal names the caller.
type principalKind int

const (
	principalNone    principalKind = iota
	principalItself                // the caller's own ARN or name, or "*"
	principalAccount               // the caller's account, which delegates to IAM
)

// principalMatch reports how a statement's Principal names the caller
// caller (an IAM ARN, or a service principal's name).
func principalMatch(p map[string][]string, caller string) principalKind {
	out := principalNone
	id, root := account(caller)
	for typ, vals := range p {
		for _, v := range vals {
			switch {
			case typ == "AWS" && (v == "*" || v == caller):
				return principalItself
			case typ == "Service" && v == caller:
				return principalItself
			case typ == "AWS" && id != "" && (v == id || v == root):
				out = principalAccount
			}
		}
	}
	return out
}

// account returns the account id of an IAM ARN and that account's
// principal (arn:aws:iam::<account>:root); "" for anything else.
func account(arn string) (id, root string) {
	if parts := strings.SplitN(arn, ":", 6); len(parts) == 6 && parts[0] == "arn" {
		return parts[4], "arn:" + parts[1] + ":iam::" + parts[4] + ":root"
	}
	return "", ""
}
