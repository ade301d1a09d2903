package capacity

import (
	"fmt"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/serverless-shop/backend/functions/users/account"
	usersapp "github.com/serverless-shop/backend/functions/users/app"
	"github.com/serverless-shop/backend/internal/budgets"
	"github.com/serverless-shop/backend/internal/pricing"
)

// Label says whose a ceiling is: the template's (a default or a setting a
// user can change in template.yaml or samconfig.toml), the design's (a
// hot key: only a change of code moves it) or AWS's (a quota the account
// can ask to raise).
type Label string

// The labels of ceilings.
const (
	LabelTemplate Label = "template"
	LabelDesign   Label = "design"
	LabelQuota    Label = "AWS quota"
)

// Inputs are everything the model reads.
type Inputs struct {
	Env      Environment
	Template *Template
	Budgets  map[string]budgets.Budget
	Mix      Mix
	HotKeys  HotKeys
	Quotas   Quotas
	Assume   Assumptions
	Prices   pricing.Table
}

// The resources of template.yaml the model reads by name.
const (
	apiID       = "Api"
	usagePlanID = "ClientUsagePlan"
	webACLID    = "ApiWebAcl"
)

// Load reads the model's inputs from the repository at root for
// environment env of its samconfig.toml.
func Load(root, env string) (Inputs, error) {
	e, err := ReadEnvironment(filepath.Join(root, "samconfig.toml"), env)
	if err != nil {
		return Inputs{}, err
	}
	t, err := ReadTemplate(filepath.Join(root, "template.yaml"), e.Overrides)
	if err != nil {
		return Inputs{}, err
	}
	hot, err := LoadHotKeys()
	if err != nil {
		return Inputs{}, err
	}
	return Inputs{Env: e, Template: t, Budgets: budgets.ByRequest(), Mix: DocumentedMix(), HotKeys: hot,
		Quotas: DefaultQuotas(e.Region), Assume: readStated().Assumptions, Prices: pricing.ByKey()}, nil
}

// Route is one route of the mix, with what serves it and what it costs.
type Route struct {
	Share
	Budget    budgets.Budget
	Function  string // "users", "orders"
	Protected bool   // the authorizer guards it
	Cached    bool   // the stage cache answers it (EdgeCache)
	// DurationMS is the function's time per request: its CPU, password
	// hashes and sequential AWS round trips (Assumptions).
	DurationMS float64
	Throttle   Throttle
}

// RPS is the route's requests a second at total requests a second.
func (r Route) RPS(total float64) float64 { return total * r.Percent / 100 }

// perSecond adds up, over the routes at total requests a second, each
// route's requests a second times per of one of its requests.
func (m *Model) perSecond(total float64, per func(Route) float64) float64 {
	var s float64
	for _, r := range m.Routes {
		s += r.RPS(total) * per(r)
	}
	return s
}

// Limit is one limit the traffic touches, and the total rate at which it
// binds.
type Limit struct {
	Name  string
	Label Label
	Value float64
	Unit  string
	// ValueText, when set, is how Value is printed.
	ValueText string
	// From says where Value comes from: a template parameter, samconfig,
	// or an AWS default quota with its documentation.
	From string
	// Load is the limited quantity at total requests a second.
	Load func(total float64) float64
	// Ceiling is the total requests a second at which Load reaches Value
	// (+Inf when it never does).
	Ceiling float64
	// AtTarget is Load at the target rate; Detail says what it is made of.
	AtTarget float64
	Detail   string
	// Alarms fire before an AWS quota binds.
	Alarms []string
	// Follows, for a template limit sized from an AWS quota's parameter,
	// names that quota's limit: it may stay below the target as long as
	// it does not bind before the quota does.
	Follows string
	// QuotaCode is the Service Quotas code of an AWS quota.
	QuotaCode string
	Note      string
}

// Request is what to ask AWS for so that an AWS quota binds at the target
// rate or above: its load at the target, rounded up.
func (l Limit) Request() float64 { return math.Ceil(l.AtTarget) }

// PerClient is a limit of one client (an address, an account, an API
// key): abuse control, not capacity.
type PerClient struct{ Name, Value, From string }

// Model is the capacity model of one environment.
type Model struct {
	In        Inputs
	Target    float64
	Routes    []Route
	Functions map[string]Function
	Limits    []Limit // by Ceiling, lowest first
	PerClient []PerClient
	// Mail says how emails are sent: the per-email times and the
	// notification function's sending rate.
	Mail Mail
	// Background are the reads and writes no request pays for by itself
	// (the hot keys), at the target.
	Background []HotKeyAt
	EdgeCache  bool
	Waf        bool
	tokenTTL   float64 // access token life, seconds
}

// Mail is the mail pipeline's figures.
type Mail struct {
	RelayMS, OrderMailMS, LinkMailMS float64 // per email (RelayMS: the orders relay's)
	PerEnvironment                   float64 // emails a second one notification environment sends
	Concurrency                      float64 // MaximumConcurrency of the queue's event source (0: none)
	ConcurrencyFrom                  string
	Paced                            bool // the template paces mail to SesMaxSendRate
}

// HotKeyAt is a hot key's load at the target rate.
type HotKeyAt struct {
	Key  HotKey
	Load keyLoad
}

// Build computes the model of inputs.
func Build(in Inputs) (*Model, error) {
	m := &Model{In: in, Target: in.Assume.TargetRPS, Functions: map[string]Function{}}
	fns, err := in.Template.Functions()
	if err != nil {
		return nil, err
	}
	for _, f := range fns {
		m.Functions[f.Name] = f
	}
	for _, name := range []string{"users", "orders", "authorizer", "usersrelay", "ordersrelay", "notifications"} {
		if _, ok := m.Functions[name]; !ok {
			return nil, fmt.Errorf("template.yaml has no %s function", name)
		}
	}
	if m.EdgeCache, err = in.Template.Condition("UseEdgeCache"); err != nil {
		return nil, err
	}
	if m.Waf, err = in.Template.Condition("UseWaf"); err != nil {
		return nil, err
	}
	if err := m.routes(); err != nil {
		return nil, err
	}
	m.mail()
	ttl, err := in.Template.Param("AccessTokenTTL") // the revocation list's hot key needs it
	if err != nil {
		return nil, err
	}
	d, err := time.ParseDuration(ttl)
	if err != nil {
		return nil, fmt.Errorf("AccessTokenTTL: %w", err)
	}
	m.tokenTTL = d.Seconds()
	if err := m.limits(); err != nil {
		return nil, err
	}
	if err := m.perClient(); err != nil {
		return nil, err
	}
	return m, nil
}

// cpu is a function's time for cpuMS of work on one full core, at its
// memory size.
func (m *Model) cpu(function string, cpuMS float64) float64 {
	return cpuMS * math.Max(1, m.In.Assume.FullCoreMB/m.Functions[function].MemoryMB)
}

func (m *Model) routes() error {
	def, methods, err := m.In.Template.MethodThrottles(apiID)
	if err != nil {
		return err
	}
	a := m.In.Assume
	total := 0.0
	for _, s := range m.In.Mix.Shares {
		b, ok := m.In.Budgets[s.Request]
		if !ok {
			return fmt.Errorf("mix: no budget for %q (internal/budgets)", s.Request)
		}
		if b.Route != s.Route {
			return fmt.Errorf("mix: %s stands for %s but its budget is of %s", s.Request, s.Route, b.Route)
		}
		r := Route{Share: s, Budget: b}
		for name, f := range m.Functions {
			if protected, ok := f.Routes[s.Route]; ok {
				r.Function, r.Protected = name, protected
			}
		}
		if r.Function == "" {
			return fmt.Errorf("mix: template.yaml has no Api event %s", s.Route)
		}
		if r.Function != b.Function {
			return fmt.Errorf("%s: template.yaml serves it by %s, its budget says %s", s.Route, r.Function, b.Function)
		}
		r.Throttle = def
		if th, ok := methods[s.Route]; ok {
			r.Throttle = th
		}
		r.Cached = m.EdgeCache && r.Throttle.Cached
		r.DurationMS = m.cpu(r.Function, a.WarmCPUMS[r.Function]) + float64(b.Hashes)*m.cpu(r.Function, a.HashCPUMS) +
			float64(b.Rounds-b.KMS.Total())*a.DynamoDBMS + float64(b.KMS.Total())*a.KMSMS
		m.Routes = append(m.Routes, r)
		total += s.Percent
	}
	if math.Abs(total-100) > 1e-9 {
		return fmt.Errorf("mix %s adds up to %g %%, not 100 %%", m.In.Mix.Name, total)
	}
	return nil
}

// emails returns the emails a second at total rate, and those of them
// that carry a sealed link (account emails, sent by the users routes).
func (m *Model) emails(total float64) (all, links float64) {
	all = m.perSecond(total, func(r Route) float64 { return float64(r.Budget.Emails) })
	links = m.perSecond(total, func(r Route) float64 { return is(r.Function == "users") * float64(r.Budget.Emails) })
	return all, links
}

func (m *Model) mail() {
	a := m.In.Assume
	m.Mail.RelayMS = m.relayMS("orders")
	m.Mail.OrderMailMS = m.cpu("notifications", a.WarmCPUMS["notifications"]) + a.DedupeWRUPerEmail*a.DynamoDBMS + a.SESMS
	m.Mail.LinkMailMS = m.Mail.OrderMailMS + a.KMSMS // opening the sealed token
	all, links := m.emails(1)
	avg := m.Mail.OrderMailMS
	if all > 0 {
		avg = (links*m.Mail.LinkMailMS + (all-links)*m.Mail.OrderMailMS) / all
	}
	m.Mail.PerEnvironment = 1000 / avg
	f := m.Functions["notifications"]
	m.Mail.Concurrency, m.Mail.ConcurrencyFrom = f.QueueConcurrency, f.QueueConcurrencyFrom
	m.Mail.Paced = m.In.Template.Has("SesMaxSendRate")
}

// relayMS is what relaying one email's event takes the relay of a service
// (users: account emails; orders: order emails).
func (m *Model) relayMS(service string) float64 {
	return m.cpu(service+"relay", m.In.Assume.WarmCPUMS["relay"]) + m.In.Assume.SQSMS
}

// concurrency returns each function's concurrent executions at total
// rate (Little's law: requests a second × seconds each), which is also
// about how many warm execution environments it keeps.
func (m *Model) concurrency(total float64) map[string]float64 {
	a := m.In.Assume
	c := map[string]float64{}
	for _, r := range m.Routes {
		if r.Cached {
			continue
		}
		rps := r.RPS(total)
		c[r.Function] += rps * r.DurationMS / 1000
		if r.Protected {
			c["authorizer"] += rps * a.AuthorizerShare * m.cpu("authorizer", a.WarmCPUMS["authorizer"]) / 1000
		}
	}
	all, links := m.emails(total)
	c["usersrelay"] += links * a.RelayInvokesPerEmail * m.relayMS("users") / 1000
	c["ordersrelay"] += (all - links) * a.RelayInvokesPerEmail * m.relayMS("orders") / 1000
	notify := (links*m.Mail.LinkMailMS + (all-links)*m.Mail.OrderMailMS) / 1000
	if m.Mail.Concurrency > 0 {
		notify = math.Min(notify, m.Mail.Concurrency)
	}
	c["notifications"] += notify
	return c
}

// hotLoad returns the load of hot key k at total rate. Build's limits
// return the error of a key whose inputs are wrong, so that the loads it
// computes have none to report here.
func (m *Model) hotLoad(k HotKey, total float64) keyLoad {
	l, _ := m.load(k, total)
	return l
}

func (m *Model) limits() error {
	t, q := m.In.Template, m.In.Quotas
	add := func(l Limit) { m.Limits = append(m.Limits, l) }
	// quota is the limit of an AWS default quota, as inputs.yaml states it.
	quota := func(name string, q Quota, load func(float64) float64, alarms ...string) Limit {
		return Limit{Name: name, Label: LabelQuota, Value: q.Value, Unit: q.Unit, From: "AWS default quota: " + q.Source,
			QuotaCode: q.Code, Note: q.Note, Load: load, Alarms: alarms}
	}

	api := quota("API Gateway requests, account and region", q.APIGateway, func(total float64) float64 { return total }, "ApiRequestRateAlarm", "ApiThrottledAlarm")
	api.Note = fmt.Sprintf("%s; burst %s", q.APIGateway.Note, number(q.APIGatewayBurst.Value))
	add(api)

	for _, r := range m.Routes {
		add(Limit{Name: "method throttle " + r.Route, Label: LabelTemplate, Value: r.Throttle.Rate, Unit: "requests/s",
			From: m.paramFrom(r.Throttle.From) + fmt.Sprintf("; burst %g", r.Throttle.Burst),
			Load: r.RPS})
	}

	plan, err := t.UsagePlan(usagePlanID, "ApiClients")
	if err != nil {
		return err
	}
	if plan.On && plan.Clients > 0 {
		n := float64(plan.Clients)
		add(Limit{Name: "usage plan rate, per client application's API key", Label: LabelTemplate, Value: plan.Rate, Unit: "requests/s",
			From: fmt.Sprintf("%s (ApiKeys=true): ClientRateLimit; burst %g", usagePlanID, plan.Burst),
			Load: func(total float64) float64 { return total / n }, Note: fmt.Sprintf("traffic split evenly over the %d client applications", plan.Clients)})
		if plan.PerDay > 0 { // 0: no quota (the default; docs/security.md, API keys)
			add(Limit{Name: "usage plan daily quota, per client application's API key", Label: LabelTemplate, Value: plan.PerDay, Unit: "requests/day",
				From: usagePlanID + " (ApiKeys=true): ClientDailyQuota",
				Load: func(total float64) float64 { return total / n * 86400 }, Note: "sustained for a day"})
		}
	}

	add(quota("Lambda concurrent executions, account and region", q.LambdaConcurrency, func(total float64) float64 {
		var s float64
		for _, c := range m.concurrency(total) {
			s += c
		}
		return s
	}, "LambdaConcurrencyAlarm"))
	for _, name := range slices.Sorted(maps.Keys(m.Functions)) {
		f := m.Functions[name]
		if f.Reserved <= 0 {
			continue
		}
		add(Limit{Name: "reserved concurrency of " + name, Label: LabelTemplate, Value: f.Reserved, Unit: "executions",
			From: f.LogicalID + " ReservedConcurrentExecutions",
			Load: func(total float64) float64 { return m.concurrency(total)[name] }})
	}

	add(quota("KMS Sign (ECC), account and region", q.KMSECC, func(total float64) float64 {
		return m.perSecond(total, func(r Route) float64 { return float64(r.Budget.KMS.Sign) })
	}, "KmsSignQuotaAlarm"))
	symmetric := quota("KMS symmetric (Encrypt, Decrypt of links), account and region", q.KMSSymmetric, func(total float64) float64 {
		_, links := m.emails(total) // the notification function opens each link's sealed token
		return links + m.perSecond(total, func(r Route) float64 { return float64(r.Budget.KMS.Encrypt + r.Budget.KMS.Decrypt) })
	}, "KmsSymmetricQuotaAlarm")
	symmetric.From = fmt.Sprintf("AWS default quota in %s: %s", orUnknown(m.In.Env.Region), q.KMSSymmetric.Source)
	add(symmetric)

	emails := func(total float64) float64 { all, _ := m.emails(total); return all }
	rate, rateFrom, err := m.sesQuota([]string{"SesMaxSendRate"}, q.SESRate)
	if err != nil {
		return err
	}
	add(Limit{Name: "SES sending rate", Label: LabelQuota, Value: rate, Unit: "emails/s", From: rateFrom, Note: q.SESRate.Note,
		Load: emails, Alarms: []string{"SesSendRateAlarm"}})
	daily, dailyFrom, err := m.sesQuota([]string{"SesMax24HourSend", "SesDailyQuota"}, q.SESDaily)
	if err != nil {
		return err
	}
	add(Limit{Name: "SES sending quota, 24 hours", Label: LabelQuota, Value: daily, Unit: "emails/24 h", From: dailyFrom, Note: q.SESDaily.Note + "; load is the rate sustained for 24 hours",
		Load: func(total float64) float64 { return emails(total) * 86400 }, Alarms: []string{"SesDailyQuotaAlarm"}})
	if t.Has("SesMax24HourSend") {
		// The users function derives the cap from the quota it is told;
		// so does the model, with the function's own formula.
		perHour := float64(usersapp.AccountMailPerHour(int(daily)))
		add(Limit{Name: "registration and verification emails, all clients, a clock hour", Label: LabelTemplate, Value: perHour, Unit: "emails/hour",
			From: fmt.Sprintf("the users function's cap, app.AccountMailPerHour(SesMax24HourSend = %g, %s) = half of the quota over 24 hours", daily, t.Source("SesMax24HourSend")),
			Load: func(total float64) float64 {
				return 3600 * m.perSecond(total, func(r Route) float64 {
					return is(r.Route == "POST /v1/auth/register" || r.Route == "POST /v1/auth/verify-email/resend") * float64(r.Budget.Emails)
				})
			},
			Follows: "SES sending quota, 24 hours",
			Note:    "sized from SesMax24HourSend; the other half of the quota is left to order mail"})
	}
	if m.Mail.Concurrency > 0 {
		l := Limit{Name: "notification sending (concurrency × one environment's rate)", Label: LabelTemplate,
			Value: m.Mail.Concurrency * m.Mail.PerEnvironment, Unit: "emails/s",
			From: fmt.Sprintf("NotificationsFunction's queue MaximumConcurrency (%s = %g, %s) × %.1f emails/s per environment (assumed: one email at a time, %.0f ms each)",
				m.Mail.ConcurrencyFrom, m.Mail.Concurrency, m.sourceOf(m.Mail.ConcurrencyFrom), m.Mail.PerEnvironment, 1000/m.Mail.PerEnvironment),
			Load: emails}
		if m.Mail.Paced {
			// Each environment sends its share of the rate, whole emails a
			// second (functions/notifications/pace), at most what it can.
			share := math.Min(m.Mail.PerEnvironment, math.Floor(rate/m.Mail.Concurrency))
			l.Value = m.Mail.Concurrency * share
			l.From = fmt.Sprintf("NotificationsFunction's queue MaximumConcurrency (%s = %g, %s) × %g emails/s each: its share of SesMaxSendRate %g, whole emails (the pacer), at most the %.1f one environment sends (assumed: one email at a time, %.0f ms each)",
				m.Mail.ConcurrencyFrom, m.Mail.Concurrency, m.sourceOf(m.Mail.ConcurrencyFrom), share, rate, m.Mail.PerEnvironment, 1000/m.Mail.PerEnvironment)
			l.Follows = "SES sending rate"
			l.Note = "the template derives the concurrency from SesMaxSendRate"
		}
		add(l)
	}

	tables := []string{"UsersTable", "OrdersTable", "NotificationsTable", "RevocationsTable"}
	for _, table := range tables {
		rcu := func(total float64) float64 { r, _ := m.tableLoad(table, total); return r }
		wcu := func(total float64) float64 { _, w := m.tableLoad(table, total); return w }
		if rcu(m.Target) > 0 { // the notifications table is only written
			l := quota("DynamoDB "+table+" reads", q.TableRead, rcu, table+"ReadQuotaAlarm")
			l.Unit = "RRU/s"
			add(l)
		}
		l := quota("DynamoDB "+table+" writes", q.TableWrite, wcu, table+"WriteQuotaAlarm")
		l.Unit = "WRU/s"
		add(l)
	}

	for _, k := range m.In.HotKeys {
		at, err := m.load(k, m.Target)
		if err != nil {
			return fmt.Errorf("hot key %s: %w", k.Key, err)
		}
		value := fmt.Sprintf("one partition: %s RCU/s or %s WCU/s", number(PartitionRCU), number(PartitionWCU))
		detail := fmt.Sprintf("%s RCU/s (%s reads/s) + %s WCU/s", number(at.RCU), fixed(at.Reads, 1), number(at.WCU))
		if k.Model == ModelShardedCounter {
			value = fmt.Sprintf("one partition a shard (%g shards): %s WCU/s, or transactions holding it %g ms each all the time (assumed)", at.Shards, number(PartitionWCU), k.HoldMS)
			detail = fmt.Sprintf("%s WCU/s a shard, held %s of the time", number(at.WCU), percent(at.Busy))
		}
		if k.Model == ModelShardedQueue {
			value = fmt.Sprintf("one partition a shard (%g shards, %s): %s WCU/s", at.Shards, k.ShardsConst, number(PartitionWCU))
			detail = fmt.Sprintf("%s WCU/s a shard", number(at.WCU))
		}
		add(Limit{Name: k.LimitName(), Label: LabelDesign, Value: 1, Unit: "partition",
			ValueText: value,
			From:      fmt.Sprintf("DynamoDB's limit per partition key, or a linear combination of reads and writes (%s); load by the %s model of internal/capacity/hotkeys.yaml", PartitionSource, k.Model),
			Load:      func(total float64) float64 { return m.hotLoad(k, total).Use() },
			Detail:    detail,
			Note:      k.Why})
		m.Background = append(m.Background, HotKeyAt{Key: k, Load: at})
	}

	for i := range m.Limits {
		l := &m.Limits[i]
		l.Ceiling = ceiling(l.Load, l.Value)
		l.AtTarget = l.Load(m.Target)
	}
	sort.SliceStable(m.Limits, func(i, j int) bool { return m.Limits[i].Ceiling < m.Limits[j].Ceiling })
	return nil
}

// tableLoad returns a table's read and write units a second at total
// rate: the routes of the function that owns it, the notification
// function's dedupe writes, and the hot keys in it. A route's units all
// count against its function's table (the users routes' revocation writes
// count there too: an upper bound). An index's hot keys are not the
// table's: on-demand, each index has its own table-level quota.
func (m *Model) tableLoad(table string, total float64) (rcu, wcu float64) {
	owner := map[string]string{"UsersTable": "users", "OrdersTable": "orders"}[table]
	rcu = m.perSecond(total, func(r Route) float64 { return is(r.Function == owner) * r.Budget.RCU })
	wcu = m.perSecond(total, func(r Route) float64 { return is(r.Function == owner) * r.Budget.TotalWCU() })
	if table == "NotificationsTable" {
		all, _ := m.emails(total)
		wcu += all * m.In.Assume.DedupeWRUPerEmail
	}
	for _, k := range m.In.HotKeys {
		if k.Table == table && k.Index == "" {
			l := m.hotLoad(k, total)
			rcu += l.RCU * l.items()
			wcu += l.WCU * l.items()
		}
	}
	return rcu, wcu
}

// sesQuota returns an SES quota: the first of params the template
// declares (the value the stack is sized for, which mirrors the account's
// quota), or AWS's default.
func (m *Model) sesQuota(params []string, q Quota) (float64, string, error) {
	for _, p := range params {
		if m.In.Template.Has(p) {
			v, err := m.In.Template.Number(p)
			if err != nil {
				return 0, "", err
			}
			return v, fmt.Sprintf("template parameter %s = %g (%s), the account's quota as the stack is told it; AWS: %s", p, v, m.In.Template.Source(p), q.Source), nil
		}
	}
	return q.Value, fmt.Sprintf("AWS default (the SES sandbox), as template.yaml declares no %s: %s", strings.Join(params, " or "), q.Source), nil
}

// paramFrom adds the parameter's value and source to a description that
// ends in "!Ref Name".
func (m *Model) paramFrom(from string) string {
	i := strings.LastIndex(from, "!Ref ")
	if i < 0 {
		return "template.yaml: " + from
	}
	name := strings.Fields(from[i+len("!Ref "):])[0]
	v, err := m.In.Template.Param(name)
	if err != nil {
		return "template.yaml: " + from
	}
	return fmt.Sprintf("template.yaml: %s = %s (%s)", from, v, m.In.Template.Source(name))
}

// sourceOf is where the parameter of "!Ref Name" takes its value.
func (m *Model) sourceOf(from string) string {
	name, ok := strings.CutPrefix(from, "!Ref ")
	if !ok {
		return "template.yaml"
	}
	return m.In.Template.Source(name)
}

func (m *Model) perClient() error {
	t := m.In.Template
	rules, err := t.RateRules(webACLID)
	if err != nil {
		return err
	}
	if !m.Waf {
		m.PerClient = append(m.PerClient, PerClient{"AWS WAF rate rules per source address", "off", "Waf = false (" + t.Source("Waf") + ")"})
	}
	for _, r := range rules {
		m.PerClient = append(m.PerClient, PerClient{"AWS WAF rule " + r.Name + " (" + r.Applies() + "), per source address",
			fmt.Sprintf("%g requests / %g s", r.Limit, r.Window), webACLID})
	}
	plan, err := t.UsagePlan(usagePlanID, "ApiClients")
	if err != nil {
		return err
	}
	if !plan.On {
		m.PerClient = append(m.PerClient, PerClient{"usage plan per client application's API key", "off", "ApiKeys = false (" + t.Source("ApiKeys") + ")"})
	}
	for _, p := range []struct{ param, what string }{
		{"SourceRequestsPerSecond", "login (without a device token of the account), register, verify-email and reset requests per client address a second"},
		{"LoginAttemptsPerSource", "failed logins per client address an hour (without a device token) before each waits longer"},
		{"SourceRequestsPerHour", "register, verify-email and reset requests per client address an hour"},
		{"AccountEmailsPerHour", "verification or reset emails per recipient an hour"},
		{"OrdersPerHour", "orders per customer an hour"},
	} {
		if !t.Has(p.param) {
			continue
		}
		v, _ := t.Param(p.param)
		m.PerClient = append(m.PerClient, PerClient{p.what, v, p.param + " (" + t.Source(p.param) + ")"})
	}
	m.PerClient = append(m.PerClient,
		PerClient{"refreshes per session a clock hour", fmt.Sprint(account.DefaultRefreshesPerHour), "account.DefaultRefreshesPerHour (functions/users)"},
		PerClient{"revocations (logouts, password changes) per user an hour", fmt.Sprint(usersapp.DefaultRevocationsPerHour), "app.DefaultRevocationsPerHour (functions/users)"})
	return nil
}

// ceiling returns the total rate at which load reaches value, +Inf if it
// never does below a billion requests a second. Every load grows with the
// rate.
func ceiling(load func(float64) float64, value float64) float64 {
	const most = 1e9
	if load(most) <= value {
		return math.Inf(1)
	}
	lo, hi := 0.0, most
	for i := 0; i < 200 && hi-lo > 1e-6*math.Max(1, lo); i++ {
		mid := (lo + hi) / 2
		if load(mid) <= value {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

// is is 1 for true, 0 for false.
func is(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func orUnknown(s string) string {
	if s == "" {
		return "an unnamed region"
	}
	return s
}
