package capacity_test

import (
	"bytes"
	"fmt"
	"maps"
	"math"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/functions/orders/store"
	"github.com/serverless-shop/backend/internal/budgets"
	"github.com/serverless-shop/backend/internal/capacity"
)

const root = "../.."

// load reads prod's inputs from the repository, with extra parameter
// overrides on top of samconfig.toml's.
func load(t *testing.T, env string, extra map[string]string) capacity.Inputs {
	t.Helper()
	in, err := capacity.Load(root, env)
	if err != nil {
		t.Fatal(err)
	}
	if len(extra) > 0 {
		overrides := maps.Clone(in.Env.Overrides)
		maps.Copy(overrides, extra)
		if in.Template, err = capacity.ReadTemplate(filepath.Join(root, "template.yaml"), overrides); err != nil {
			t.Fatal(err)
		}
	}
	return in
}

func build(t *testing.T, in capacity.Inputs) *capacity.Model {
	t.Helper()
	m, err := capacity.Build(in)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// written is what make capacity prints for m.
func written(t *testing.T, m *capacity.Model) string {
	t.Helper()
	var out bytes.Buffer
	if err := m.Write(&out); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func limit(t *testing.T, m *capacity.Model, name string) capacity.Limit {
	t.Helper()
	for _, l := range m.Limits {
		if l.Name == name {
			return l
		}
	}
	t.Fatalf("the model has no limit %q", name)
	return capacity.Limit{}
}

// TestCeilings is launch day's rule for prod: with prod's parameters and
// the documented mix, no template or design ceiling is below 10,000
// requests a second; the first ceilings are AWS quotas a user can raise.
// make capacity prints the same verdict and every figure behind it.
func TestCeilings(t *testing.T) {
	m := build(t, load(t, "prod", nil))
	for _, v := range m.Violations() {
		t.Error(v)
	}
}

// TestModelReadsTheRepository keeps TestCeilings from passing vacuously:
// the model must have read the routes, the limits and the figures it is
// known to depend on, from the files themselves.
func TestModelReadsTheRepository(t *testing.T) {
	in := load(t, "prod", nil)
	if in.Env.Overrides["Environment"] != "prod" || in.Env.Region == "" {
		t.Errorf("samconfig.toml's prod read as %+v", in.Env)
	}
	m := build(t, in)
	if m.Target != 10000 {
		t.Errorf("target %g, want 10,000", m.Target)
	}
	routes := map[string]capacity.Route{}
	for _, r := range m.Routes {
		routes[r.Route] = r
	}
	for _, want := range []string{"GET /v1/products", "GET /v1/users/me", "POST /v1/auth/login", "POST /v1/auth/refresh", "POST /v1/orders"} {
		if _, ok := routes[want]; !ok {
			t.Errorf("no route %s in the model", want)
		}
	}
	login := routes["POST /v1/auth/login"]
	if login.Budget.KMS.Sign != 1 || login.Function != "users" || login.DurationMS <= 0 {
		t.Errorf("login read as %+v", login)
	}
	// ThrottleRate is the stage default, which AWS applies per method.
	for route, param := range map[string]string{"POST /v1/auth/login": "AuthThrottleRate", "GET /v1/users/me": "ThrottleRate"} {
		want, err := in.Template.Number(param)
		if err != nil {
			t.Fatal(err)
		}
		if got := limit(t, m, "method throttle "+route).Value; got != want {
			t.Errorf("%s's method throttle %g, want the template's %s %g", route, got, param, want)
		}
	}
	labels := map[capacity.Label]int{}
	for _, l := range m.Limits {
		labels[l.Label]++
		if l.Ceiling <= 0 || l.From == "" {
			t.Errorf("limit %q: ceiling %g, from %q", l.Name, l.Ceiling, l.From)
		}
	}
	for _, want := range []capacity.Label{capacity.LabelTemplate, capacity.LabelDesign, capacity.LabelQuota} {
		if labels[want] == 0 {
			t.Errorf("no %s limit in the model", want)
		}
	}
	for _, name := range []string{
		"API Gateway requests, account and region", "Lambda concurrent executions, account and region",
		"KMS Sign (ECC), account and region", "KMS symmetric (Encrypt, Decrypt of links), account and region",
		"SES sending rate", "SES sending quota, 24 hours", "hot key CATALOG (OrdersTable)",
		"DynamoDB UsersTable reads", "DynamoDB OrdersTable writes",
	} {
		limit(t, m, name)
	}
	if !slices.ContainsFunc(m.Limits, func(l capacity.Limit) bool {
		return l.Label == capacity.LabelDesign && strings.Contains(l.Name, "(RevocationsTable)")
	}) {
		t.Error("no hot key of the revocations table in the model")
	}
	for i := 1; i < len(m.Limits); i++ {
		if m.Limits[i].Ceiling < m.Limits[i-1].Ceiling {
			t.Fatalf("limits not in the order they bind: %q before %q", m.Limits[i-1].Name, m.Limits[i].Name)
		}
	}
}

// list is the first design's revocation list, read whole by every
// environment every 10 s: the regression a feed replaced.
const list = `
- key: CATALOG
  table: OrdersTable
  model: catalog-copy
  readers: [orders]
  every: 300
  readBudget: "GET /v1/products (cold)"
  why: the catalog
- key: REVOKED
  table: RevocationsTable
  model: revocation-list
  readers: [users, orders]
  every: 10
  itemBytes: 150
  wcuPerWrite: 2
  leewaySeconds: 30
  revocations: {"POST /v1/auth/login": 1, "POST /v1/auth/password-reset/confirm": 1}
  why: the revocation list
`

// TestCeilingsCatchRegressions shows that TestCeilings fails when a
// change to the template or the design puts a ceiling below the target,
// one change at a time, from a base that passes (the template's own
// defaults, which reach the target).
func TestCeilingsCatchRegressions(t *testing.T) {
	hotFeed, err := capacity.LoadHotKeys()
	if err != nil {
		t.Fatal(err)
	}
	hotList, err := capacity.ParseHotKeys([]byte(list))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		overrides map[string]string
		hot       capacity.HotKeys
		want      []string // limits that must fail; none: the base passes
	}{
		{name: "sized template and the revocation feed: passes", hot: hotFeed},
		{name: "AuthThrottleRate back to 10", overrides: map[string]string{"AuthThrottleRate": "10"}, hot: hotFeed,
			want: []string{"method throttle POST /v1/auth/login", "method throttle POST /v1/auth/refresh", "method throttle POST /v1/auth/register"}},
		{name: "ThrottleRate back to 100", overrides: map[string]string{"ThrottleRate": "100"}, hot: hotFeed,
			want: []string{"method throttle GET /v1/products", "method throttle GET /v1/users/me", "method throttle POST /v1/orders"}},
		{name: "NotificationConcurrency 5 for SesMaxSendRate 14 (each sends 2 a second: 10 of 14)", overrides: map[string]string{"NotificationConcurrency": "5"}, hot: hotFeed,
			want: []string{"notification sending (concurrency × one environment's rate)"}},
		{name: "the revocation list read whole every 10 s", hot: hotList,
			want: []string{"hot key REVOKED (RevocationsTable)"}},
		{name: "StockShards 1: a hot SKU's stock in one item", overrides: map[string]string{"StockShards": "1"}, hot: hotFeed,
			want: []string{"hot key STOCK#* (OrdersTable)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := load(t, "prod", tt.overrides)
			in.HotKeys = tt.hot
			m := build(t, in)
			got := strings.Join(m.Violations(), "\n")
			if len(tt.want) == 0 && got != "" {
				t.Fatalf("the base fails:\n%s", got)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, `"`+w+`"`) {
					t.Errorf("no violation of %q; violations:\n%s", w, got)
				}
			}
		})
	}
}

// TestEveryQuotaCeilingHasAnAlarm: every AWS quota the traffic touches
// has an alarm in prod's template that fires before it binds (the SES
// alarms come with the mail pacing's template change).
func TestEveryQuotaCeilingHasAnAlarm(t *testing.T) {
	in := load(t, "prod", nil)
	m := build(t, in)
	alarms, err := in.Template.Alarms()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(alarms, "Api5xxAlarm") {
		t.Fatalf("template alarms read as %v", alarms)
	}
	for _, l := range m.Limits {
		if l.Label != capacity.LabelQuota {
			continue
		}
		if len(l.Alarms) == 0 {
			t.Errorf("AWS quota %q has no alarm", l.Name)
		}
		for _, a := range l.Alarms {
			if !slices.Contains(alarms, a) {
				t.Errorf("AWS quota %q: template.yaml has no alarm %s in prod", l.Name, a)
			}
		}
	}
}

// TestBudgetsAgreeWithTheTemplate: every budgeted request is a route of
// template.yaml, served by the function its budget names.
func TestBudgetsAgreeWithTheTemplate(t *testing.T) {
	fns, err := load(t, "prod", nil).Template.Functions()
	if err != nil {
		t.Fatal(err)
	}
	served := map[string]string{}
	for _, f := range fns {
		for route := range f.Routes {
			served[route] = f.Name
		}
	}
	for _, b := range budgets.All() {
		if got, ok := served[b.Route]; !ok || got != b.Function {
			t.Errorf("%s: budgeted as %s's route %s; template.yaml: %q", b.Request, b.Function, b.Route, got)
		}
	}
}

// TestDocumentedMix is the mix, category by category.
func TestDocumentedMix(t *testing.T) {
	want := map[string]float64{
		"catalog reads": 65, "authenticated reads": 29, "refresh": 2, "create order": 2, "login": 1.5,
		"register, verify, password reset": 0.5,
	}
	got := map[string]float64{}
	for _, s := range capacity.DocumentedMix().Shares {
		got[s.Category] += s.Percent
	}
	for c, p := range want {
		if got[c] < p-1e-9 || got[c] > p+1e-9 {
			t.Errorf("%s: %g %%, want %g %%", c, got[c], p)
		}
	}
	if len(got) != len(want) {
		t.Errorf("categories %v, want %v", got, want)
	}
}

// TestWrite prints every route and limit, the verdict and the costs.
func TestWrite(t *testing.T) {
	m := build(t, load(t, "prod", nil))
	text := written(t, m)
	for _, want := range []string{"## Routes", "## Ceilings, in the order they bind", "First template or design ceiling", "## Hot keys", "## Cost per million requests", "**the mix**", "## Assumptions"} {
		if !strings.Contains(text, want) {
			t.Errorf("output has no %q", want)
		}
	}
	for _, l := range m.Limits {
		if !strings.Contains(text, l.Name) {
			t.Errorf("output has no limit %q", l.Name)
		}
	}
	for _, r := range m.Routes {
		c := m.RouteCost(r)
		if c.Total <= 0 || c.Items["API Gateway"] <= 0 {
			t.Errorf("%s costs %+v", r.Route, c)
		}
	}
}

// TestOptionalLimits: the usage plan, the web ACL and the stage cache
// appear in the model when the environment turns them on.
func TestOptionalLimits(t *testing.T) {
	m := build(t, load(t, "prod", map[string]string{"ApiKeys": "true", "Waf": "true", "EdgeCache": "true"}))
	plan := limit(t, m, "usage plan rate, per client application's API key")
	if plan.Label != capacity.LabelTemplate || plan.Ceiling <= 0 {
		t.Errorf("usage plan limit %+v", plan)
	}
	waf := 0
	for _, c := range m.PerClient {
		if strings.HasPrefix(c.Name, "AWS WAF rule ") {
			waf++
		}
	}
	if waf != 4 {
		t.Errorf("%d WAF rules among the per-client limits, want the template's 4: %+v", waf, m.PerClient)
	}
	if !slices.ContainsFunc(m.PerClient, func(c capacity.PerClient) bool { return strings.Contains(c.Name, "POST to paths matching /v1/orders") }) {
		t.Errorf("the orders rule's scope-down (POST and a path) not read: %+v", m.PerClient)
	}
	for _, r := range m.Routes {
		if cached := strings.HasPrefix(r.Route, "GET /v1/products"); r.Cached != cached {
			t.Errorf("%s: cached %v with EdgeCache on", r.Route, r.Cached)
		}
	}
	if c := m.RouteCost(m.Routes[0]); c.Items["WAF"] <= 0 || c.Items["Lambda"] != 0 {
		t.Errorf("the cached catalog with WAF costs %+v", c.Items)
	}
	// No daily quota per key unless one is asked for: a public app's key
	// would let anyone use it up (docs/security.md, API keys).
	const quota = "usage plan daily quota, per client application's API key"
	if slices.ContainsFunc(m.Limits, func(l capacity.Limit) bool { return l.Name == quota }) {
		t.Errorf("a daily quota per API key with ClientDailyQuota at its default")
	}
	withQuota := build(t, load(t, "prod", map[string]string{"ApiKeys": "true", "ClientDailyQuota": "100000"}))
	if l := limit(t, withQuota, quota); l.Value != 100000 {
		t.Errorf("daily quota %+v, want 100000 a day", l)
	}
}

// TestHotSKUCeiling: the stock's hot key is a sharded counter whose
// ceiling, orders a second on one SKU, grows with StockShards: each shard
// one partition's write units (2 WCU a take) or the transactions it serves
// without conflicts, whichever is lower; make capacity prints it.
func TestHotSKUCeiling(t *testing.T) {
	for _, tt := range []struct {
		shards string
		want   float64
	}{{"", 400}, {"1", 50}, {"16", 800}, {"32", 1600}} {
		var extra map[string]string
		if tt.shards != "" {
			extra = map[string]string{"StockShards": tt.shards}
		}
		m := build(t, load(t, "prod", extra))
		i := slices.IndexFunc(m.In.HotKeys, func(k capacity.HotKey) bool { return k.Key == "STOCK#*" })
		if i < 0 || m.In.HotKeys[i].Model != capacity.ModelShardedCounter || m.In.HotKeys[i].ShardsParam != "StockShards" {
			t.Fatalf("the stock's hot key (STOCK#*) is not a sharded counter over StockShards: %+v", m.In.HotKeys)
		}
		c, err := m.ShardedCeiling(m.In.HotKeys[i])
		if err != nil {
			t.Fatal(err)
		}
		if c.Ceiling != tt.want || c.ByWCU != 500 {
			t.Errorf("StockShards %q: %+v, want %g orders a second on one SKU (500 a shard by its write units)", tt.shards, c, tt.want)
		}
		if want := fmt.Sprintf("**Hot SKU ceiling (STOCK#*): %s orders a second on one SKU**", strings.ReplaceAll(fmt.Sprintf("%g", tt.want), "1600", "1,600")); !strings.Contains(written(t, m), want) {
			t.Errorf("make capacity does not print %q", want)
		}
	}
}

// TestQueueCeiling: staff's queues (the orders table's index ByStatus) are
// a sharded queue per status, each split over store.QueueShards
// partitions; every route writes the queues the order's life cycle says
// (a new order joins PENDING; a transition leaves each status it may
// start from and joins its own), and the ceiling of one queue is
// QueueShards × 1,000 index writes a second: 8,000 orders placed a second,
// 400,000 rps of the mix, whose 2 % are orders. make capacity prints it.
func TestQueueCeiling(t *testing.T) {
	routes := map[string][]order.Transition{
		"POST /v1/orders/{id}/cancel":        {order.Cancel()},
		"POST /v1/admin/orders/{id}/confirm": {order.Confirm()},
		"POST /v1/admin/orders/{id}/ship":    {order.Ship(order.Shipment{})},
		"POST /v1/admin/orders/{id}/deliver": {order.Deliver()},
		"POST /v1/admin/orders/{id}/cancel":  {order.StaffCancel("")},
	}
	want := map[string]map[string]float64{} // the queue's key -> route -> index writes
	join := func(st order.Status, route string) {
		k := string(st) + "#*"
		if want[k] == nil {
			want[k] = map[string]float64{}
		}
		want[k][route]++
	}
	join(order.Pending, "POST /v1/orders")
	join(order.Pending, "POST /v1/orders/{id}/reorder")
	for route, ts := range routes {
		for _, tr := range ts {
			join(tr.To, route) // the entry's put on its new queue
			for _, from := range tr.From {
				join(from, route) // its delete from the old one: the worst case of each
			}
		}
	}
	m := build(t, load(t, "prod", nil))
	queues := map[order.Status]capacity.HotKey{}
	for _, k := range m.In.HotKeys {
		if k.Index != store.IndexByStatus {
			continue
		}
		if k.Table != "OrdersTable" || k.Model != capacity.ModelShardedQueue || capacity.ShardConsts[k.ShardsConst] != store.QueueShards || k.WCUPerWrite != 1 {
			t.Errorf("queue %s is %+v, want a sharded queue of OrdersTable over store.QueueShards, 1 WCU an index write (items under 1 KB)", k.Key, k)
		}
		for _, st := range order.Statuses {
			if ok, _ := path.Match(k.Key, fmt.Sprintf("%s#%d", st, store.QueueShards-1)); ok { // the store's queue key, "<status>#<n>"
				if _, dup := queues[st]; dup {
					t.Errorf("two queues of %s", st)
				}
				queues[st] = k
			}
		}
		if !maps.Equal(k.Writes, want[k.Key]) {
			t.Errorf("queue %s: writes %v, want %v (the life cycle's)", k.Key, k.Writes, want[k.Key])
		}
		for route := range k.Writes {
			if !slices.ContainsFunc(budgets.All(), func(b budgets.Budget) bool { return b.Route == route }) {
				t.Errorf("queue %s: %s is no budgeted route", k.Key, route)
			}
		}
		if m.In.HotKeys.Lists("OrdersTable", strings.Replace(k.Key, "*", "0", 1)) {
			t.Errorf("queue %s is listed as a key of the table itself", k.Key)
		}
	}
	if len(queues) != len(order.Statuses) {
		t.Fatalf("queues of %d statuses, want all %d: %v", len(queues), len(order.Statuses), queues)
	}
	pending := queues[order.Pending]
	c, err := m.ShardedCeiling(pending)
	if err != nil {
		t.Fatal(err)
	}
	if c.Shards != 8 || c.PerShard != 1000 || c.Ceiling != 8000 {
		t.Errorf("queue ceiling %+v, want 8 shards × 1,000 = 8,000 index writes a second", c)
	}
	l := limit(t, m, pending.LimitName())
	if l.Label != capacity.LabelDesign || math.Abs(l.Ceiling-400000) > 1 || math.Abs(l.AtTarget-0.025) > 1e-9 {
		t.Errorf("PENDING's limit binds at %g rps, %g of a partition at 10,000 rps; want 400,000 (8,000 orders a second), 2.5 %% (25 WCU/s a shard)", l.Ceiling, l.AtTarget)
	}
	if want := "**Queue ceiling (OrdersTable index ByStatus): 8,000 index writes a second on one status's queue**"; !strings.Contains(written(t, m), want) {
		t.Errorf("make capacity does not print %q", want)
	}
}
