package contract_test

import (
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/serverless-shop/backend/internal/budgets"
	"github.com/serverless-shop/backend/internal/capacity"
)

// wafRule is a rate-based rule of the web ACL (as capacity reads it,
// prod's) and the requests it counts.
type wafRule struct {
	capacity.RateRule
	path *regexp.Regexp // nil: every request
}

func (r wafRule) counts(method, path string) bool {
	return r.path == nil || (r.Method == "" || r.Method == method) && r.path.MatchString(path)
}

func wafRules(t *testing.T) []wafRule {
	t.Helper()
	rates, err := stackTemplate(t, "template.yaml", "serverless-shop-prod", "eu-west-1", keyAccount, map[string]string{"Environment": "prod"}).RateRules("ApiWebAcl")
	if err != nil || len(rates) == 0 {
		t.Fatalf("template.yaml has no ApiWebAcl with rate-based rules in prod (%v)", err)
	}
	var out []wafRule
	for _, r := range rates {
		rule := wafRule{RateRule: r}
		if r.Path != "" {
			rule.path = regexp.MustCompile(r.Path)
		}
		out = append(out, rule)
	}
	return out
}

// costKinds are the values of an operation's x-costs in api/openapi.yaml.
var costKinds = []string{"password-hash", "kms", "email", "revocation", "link-token"}

// operationCosts reads every operation's x-costs from api/openapi.yaml, by
// route key; an operation without it is an error, so that a new route
// cannot escape the WAF's check by saying nothing.
func operationCosts(t *testing.T) map[string][]string {
	t.Helper()
	doc := loadOpenAPI(t)
	out := map[string][]string{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			route := method + " " + path
			raw, ok := op.Extensions["x-costs"].([]any)
			if !ok {
				t.Errorf("%s has no x-costs list in api/openapi.yaml (what it costs: %v, or [] for none)", route, costKinds)
				continue
			}
			costs := []string{}
			for _, v := range raw {
				c, _ := v.(string)
				if !slices.Contains(costKinds, c) {
					t.Errorf("%s: x-costs %v: %q is none of %v", route, raw, v, costKinds)
				}
				costs = append(costs, c)
			}
			out[route] = costs
		}
	}
	return out
}

// TestWafCoversEveryCostlyRoute: on AWS the WAF's rate rules per source IP
// are what limits one client's use of the routes that cost a password
// hash, a KMS call or an email (the gateway's throttles are shared by
// every client, and sized for capacity), and of those that write a
// revocation or take a link's token. Which routes those are is said once,
// by every operation's x-costs in api/openapi.yaml, which must agree with
// the measured budgets (internal/budgets: a route whose budget hashes,
// calls KMS or mails says so). Every route with a cost must be counted by
// a rule scoped to the costly routes, besides the whole API's; no route
// without one may be. And the web ACL is on by default in staging and
// prod.
func TestWafCoversEveryCostlyRoute(t *testing.T) {
	rules := wafRules(t)
	costs := operationCosts(t)
	for _, b := range budgets.All() {
		for kind, has := range map[string]bool{"password-hash": b.Hashes > 0, "kms": b.KMS.Total() > 0, "email": b.Emails > 0} {
			if got, ok := costs[b.Route]; has && (!ok || !slices.Contains(got, kind)) {
				t.Errorf("%s: its budget (%s) costs %s, its x-costs in api/openapi.yaml are %v", b.Route, b.Request, kind, got)
			}
		}
	}
	costly := 0
	for _, c := range costs {
		if len(c) > 0 {
			costly++
		}
	}
	if costly < 12 {
		t.Fatalf("only %d operations with x-costs: %v", costly, costs)
	}
	// The stage's name comes first in the path WAF sees.
	uri := func(route string) (string, string) {
		method, path, _ := strings.Cut(route, " ")
		path = strings.NewReplacer("{id}", "01JABCDEFGHJKMNPQRSTVWXYZ0", "{sku}", "COF-ESP-250").Replace(path)
		return method, "/api" + path
	}
	if !slices.ContainsFunc(rules, func(r wafRule) bool { return r.path == nil }) {
		t.Error("no rule counts every request to the API")
	}
	for _, route := range slices.Sorted(maps.Keys(costs)) {
		method, path := uri(route)
		var by []string
		for _, r := range rules {
			if r.path != nil && r.counts(method, path) {
				by = append(by, r.Name)
			}
		}
		switch {
		case len(costs[route]) > 0 && len(by) == 0:
			t.Errorf("%s (x-costs %v): no WAF rule scoped to costly routes counts it", route, costs[route])
		case len(costs[route]) == 0 && len(by) > 0:
			t.Errorf("%s (x-costs []): counted by the rules %v, meant for costly routes", route, by)
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
