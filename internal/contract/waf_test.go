package contract_test

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/serverless-shop/backend/internal/budgets"
	"github.com/serverless-shop/backend/internal/capacity"
)

// wafRule is a rate-based rule of the web ACL and the requests it counts:
// every request, or those of method (any when "") whose path matches path.
type wafRule struct {
	name   string
	method string
	path   *regexp.Regexp // nil: every request
}

func (r wafRule) counts(method, path string) bool {
	return r.path == nil || (r.method == "" || r.method == method) && r.path.MatchString(path)
}

func wafRules(t *testing.T) []wafRule {
	t.Helper()
	_, byID := resources(t)
	rules := mapping(mapping(byID["ApiWebAcl"], "Properties"), "Rules")
	if rules == nil {
		t.Fatal("template.yaml has no ApiWebAcl with Rules")
	}
	var out []wafRule
	for _, r := range rules.Content {
		st := mapping(mapping(r, "Statement"), "RateBasedStatement")
		if st == nil {
			t.Fatalf("rule %s is not rate-based", scalar(mapping(r, "Name")))
		}
		rule := wafRule{name: scalar(mapping(r, "Name"))}
		scope := mapping(st, "ScopeDownStatement")
		parts := []*yaml.Node{scope}
		if and := mapping(mapping(scope, "AndStatement"), "Statements"); and != nil {
			parts = and.Content
		}
		for _, p := range parts {
			if re := scalar(mapping(mapping(p, "RegexMatchStatement"), "RegexString")); re != "" {
				rule.path = regexp.MustCompile(re)
			}
			if m := mapping(p, "ByteMatchStatement"); m != nil && mapping(mapping(m, "FieldToMatch"), "Method") != nil {
				rule.method = scalar(mapping(m, "SearchString"))
			}
		}
		if scope != nil && rule.path == nil {
			t.Fatalf("rule %s: a scope-down statement this test cannot read", rule.name)
		}
		out = append(out, rule)
	}
	return out
}

// TestWafCoversEveryCostlyRoute: on AWS the WAF's rate rules per source IP
// are what limits one client's use of the routes that cost a password
// hash, a KMS call or an email (the gateway's throttles are shared by
// every client, and sized for capacity). Every such route (from the call
// budgets, internal/budgets, and the protected routes that write a
// revocation or mail a link) must be counted by a rule scoped to the
// costly routes, besides the whole API's; the catalog and the reads must
// not be. And the web ACL is on by default in staging and prod.
func TestWafCoversEveryCostlyRoute(t *testing.T) {
	rules := wafRules(t)
	costly := map[string]bool{"POST /v1/auth/logout": true, "POST /v1/auth/verify-email/resend": true}
	for _, b := range budgets.All() {
		if b.Hashes > 0 || b.KMS.Total() > 0 || b.Emails > 0 {
			costly[b.Route] = true
		}
	}
	if len(costly) < 10 {
		t.Fatalf("only %d costly routes read from the budgets: %v", len(costly), costly)
	}
	// The stage's name comes first in the path WAF sees.
	uri := func(route string) (string, string) {
		method, path, _ := strings.Cut(route, " ")
		path = strings.NewReplacer("{id}", "01JABCDEFGHJKMNPQRSTVWXYZ0", "{sku}", "COF-ESP-250").Replace(path)
		return method, "/api" + path
	}
	whole := false
	for _, r := range rules {
		whole = whole || r.path == nil
	}
	if !whole {
		t.Error("no rule counts every request to the API")
	}
	for route := range costly {
		method, path := uri(route)
		var by []string
		for _, r := range rules {
			if r.path != nil && r.counts(method, path) {
				by = append(by, r.name)
			}
		}
		if len(by) == 0 {
			t.Errorf("%s (costs a hash, a KMS call or an email): no WAF rule scoped to costly routes counts it", route)
		}
	}
	for _, route := range []string{"GET /v1/products", "GET /v1/products/{sku}", "GET /v1/orders", "GET /v1/orders/{id}", "GET /v1/users/me", "GET /v1/health", "GET /.well-known/jwks.json"} {
		method, path := uri(route)
		for _, r := range rules {
			if r.path != nil && r.counts(method, path) {
				t.Errorf("%s: counted by the rule %s, meant for costly routes", route, r.name)
			}
		}
	}
	for env, want := range map[string]bool{"local": false, "dev": false, "staging": true, "prod": true} {
		tmpl, err := capacity.ReadTemplate(filepath.Join(root, "template.yaml"), map[string]string{"Environment": env})
		if err != nil {
			t.Fatal(err)
		}
		if on, err := tmpl.Condition("UseWaf"); err != nil || on != want {
			t.Errorf("Environment %s: UseWaf %v, %v; want %v", env, on, err, want)
		}
	}
}
