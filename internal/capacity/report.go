package capacity

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/serverless-shop/backend/internal/pricing"
)

// Write prints the model as markdown: the inputs, every route, every
// ceiling in the order it binds with its label, the hot keys, the
// per-client limits, the cost per million requests of each route, and
// the assumptions.
func (m *Model) Write(w io.Writer) error {
	p := &printer{w: w}
	m.writeHeader(p)
	m.writeRoutes(p)
	m.writeCeilings(p)
	m.writeVerdict(p)
	m.writeHotKeys(p)
	m.writePerClient(p)
	m.writeCost(p)
	m.writeAssumptions(p)
	return p.err
}

type printer struct {
	w   io.Writer
	err error
}

func (p *printer) f(format string, args ...any) {
	if p.err != nil {
		return
	}
	_, p.err = fmt.Fprintf(p.w, format+"\n", args...)
}

func (m *Model) writeHeader(p *printer) {
	e := m.In.Env
	p.f("# Capacity model: ENV=%s, region %s", e.Name, orUnknown(e.Region))
	p.f("")
	p.f("Read at run time: template.yaml (parameter defaults, MethodSettings, functions, event sources, usage plan, web ACL, alarms) with samconfig.toml's `[%s]` parameter_overrides (`%s`); the AWS calls of each request from internal/budgets, which TestAWSCallsPerRequest measures; the hot keys from internal/capacity/hotkeys.yaml, which TestSharedPartitionKeys checks; AWS's default quotas of the region; prices from internal/pricing (read %s). Mix: %s. Target: %s requests a second.",
		e.Name, e.OverridesText, pricing.Read, m.In.Mix.Name, rps(m.Target))
	p.f("")
}

func (m *Model) writeRoutes(p *printer) {
	p.f("## Routes at %s requests a second", rps(m.Target))
	p.f("")
	p.f("| route | share | rps | function | request measured | DynamoDB calls | KMS Sign / Encrypt / Decrypt | rounds | RCU | WCU | emails | hashes | duration (ms) | method throttle, rate / burst |")
	p.f("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, r := range m.Routes {
		b := r.Budget
		fn := r.Function
		if r.Protected {
			fn += " (+ authorizer)"
		}
		if r.Cached {
			fn = "stage cache"
		}
		p.f("| %s | %s %% | %s | %s | %s | %d | %d / %d / %d | %d | %s | %s | %d | %d | %s | %s / %s |",
			r.Route, number(r.Percent), number(r.RPS(m.Target)), fn, b.Request, b.DynamoDB, b.KMS.Sign, b.KMS.Encrypt, b.KMS.Decrypt,
			b.Rounds, number(b.RCU), number(b.TotalWCU()), b.Emails, b.Hashes, fixed(r.DurationMS, 1), number(r.Throttle.Rate), number(r.Throttle.Burst))
	}
	p.f("")
	var splits []string
	for _, c := range slices.Sorted(maps.Keys(m.In.Mix.Splits)) {
		splits = append(splits, c+": "+m.In.Mix.Splits[c])
	}
	p.f("Split of the mix's categories (assumed): %s.", strings.Join(splits, "; "))
	p.f("")
	conc := m.concurrency(m.Target)
	var fns []string
	for _, f := range slices.Sorted(maps.Keys(conc)) {
		fns = append(fns, fmt.Sprintf("%s %s (%g MB)", f, fixed(conc[f], 1), m.Functions[f].MemoryMB))
	}
	all, links := m.emails(m.Target)
	var reserved []string
	for _, f := range slices.Sorted(maps.Keys(m.Functions)) {
		if r := m.Functions[f].Reserved; r > 0 {
			reserved = append(reserved, fmt.Sprintf("%s %g", f, r))
		}
	}
	reservedText := "none (every function shares the account's pool)"
	if len(reserved) > 0 {
		reservedText = strings.Join(reserved, ", ")
	}
	p.f("Concurrent executions at %s rps (requests a second × duration): %s. Reserved concurrency: %s. Emails: %s a second (%s of them account emails with a sealed link).",
		rps(m.Target), strings.Join(fns, ", "), reservedText, fixed(all, 1), fixed(links, 1))
	p.f("")
}

func (m *Model) writeCeilings(p *printer) {
	p.f("## Ceilings, in the order they bind")
	p.f("")
	p.f("| # | binds at (total rps) | label | limit | value | load at %s rps | to reach %s rps | alarm before it binds | from |", rps(m.Target), rps(m.Target))
	p.f("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
	for i, l := range m.Limits {
		request := "–"
		if !reaches(l.Ceiling, m.Target) {
			switch l.Label {
			case LabelQuota:
				request = "ask for " + number(l.Request()) + " " + l.Unit
				if l.QuotaCode != "" {
					request += " (" + l.QuotaCode + ")"
				}
			case LabelTemplate:
				if l.Follows != "" {
					request = "follows " + l.Follows
				} else {
					request = "raise to " + number(math.Ceil(l.AtTarget)) + " " + l.Unit
				}
			case LabelDesign:
				request = "change the design"
			}
		}
		load := number(l.AtTarget) + " " + l.Unit
		if l.Detail != "" {
			load = fmt.Sprintf("%s (%s)", percent(l.AtTarget), l.Detail)
		}
		alarms := "–"
		if len(l.Alarms) > 0 {
			alarms = strings.Join(l.Alarms, ", ")
		}
		name := l.Name
		if l.Note != "" && l.Label != LabelDesign {
			name += " (" + l.Note + ")"
		}
		value := number(l.Value) + " " + l.Unit
		if l.ValueText != "" {
			value = l.ValueText
		}
		p.f("| %d | %s | %s | %s | %s | %s | %s | %s | %s |", i+1, rps(l.Ceiling), l.Label, name, value, load, request, alarms, l.From)
	}
	p.f("")
}

func (m *Model) writeVerdict(p *printer) {
	if own := m.own(); len(own) == 0 {
		p.f("No template or design ceiling.")
	} else {
		first, verdict := own[0], "at or above"
		if !reaches(first.Ceiling, m.Target) {
			verdict = "BELOW"
		}
		p.f("**First template or design ceiling: %s rps** (%s, %s): %s %s rps.", rps(first.Ceiling), first.Name, first.Label, verdict, rps(m.Target))
	}
	p.f("")
	if v := m.Violations(); len(v) > 0 {
		p.f("Template or design ceilings below %s rps (TestCeilings fails on each):", rps(m.Target))
		p.f("")
		for _, s := range v {
			p.f("- %s", s)
		}
		p.f("")
	}
	if qs := m.QuotasBelowTarget(); len(qs) > 0 {
		p.f("AWS quotas below %s rps, and what to ask for (docs/operations.md, Asking AWS for more):", rps(m.Target))
		p.f("")
		for _, l := range qs {
			code := ""
			if l.QuotaCode != "" {
				code = ", quota code " + l.QuotaCode
			}
			p.f("- %s: %s %s now, binds at %s rps; ask for %s %s%s.", l.Name, number(l.Value), l.Unit, rps(l.Ceiling), number(l.Request()), l.Unit, code)
		}
		p.f("")
	}
}

func (m *Model) writeHotKeys(p *printer) {
	p.f("## Hot keys (internal/capacity/hotkeys.yaml)")
	p.f("")
	p.f("| key | table | model | readers | at %s rps | partition used | binds at (total rps) |", rps(m.Target))
	p.f("| --- | --- | --- | --- | --- | --- | --- |")
	for _, b := range m.Background {
		var binds float64
		for _, l := range m.Limits {
			if l.Name == b.Key.LimitName() {
				binds = l.Ceiling
			}
		}
		what := fmt.Sprintf("%s reads/s of %s RCU = %s RCU/s; %s WCU/s", fixed(b.Load.Reads, 1), number(b.Load.RCU/math.Max(b.Load.Reads, 1e-9)), number(b.Load.RCU), number(b.Load.WCU))
		if b.Load.Entries > 0 {
			what += fmt.Sprintf("; %s entries a read", number(b.Load.Entries))
		}
		readers := fmt.Sprintf("%s every %g s", strings.Join(b.Key.Readers, ", "), b.Key.Every)
		writers := " (written by " + strings.Join(slices.Sorted(maps.Keys(b.Key.Writes)), ", ") + ")"
		switch b.Key.Model {
		case ModelCounter:
			readers, what = "none"+writers, fmt.Sprintf("%s WCU/s", number(b.Load.WCU))
		case ModelShardedCounter:
			readers = "none" + writers
			what = fmt.Sprintf("%s WCU/s a shard of %g; each shard held %s of the time", number(b.Load.WCU), b.Load.Shards, percent(b.Load.Busy))
		case ModelShardedQueue:
			readers, what = "staff's queue pages, not in the mix"+writers, fmt.Sprintf("%s WCU/s a shard of %g", number(b.Load.WCU), b.Load.Shards)
		}
		table := b.Key.Table
		if b.Key.Index != "" {
			table += ", index " + b.Key.Index
		}
		p.f("| %s | %s | %s | %s | %s | %s | %s |", b.Key.Key, table, b.Key.Model, readers, what, percent(b.Load.Use()), rps(binds))
	}
	p.f("")
	m.writeQueueCeiling(p)
	for _, b := range m.Background {
		if b.Key.Model != ModelShardedCounter {
			continue
		}
		c, _ := m.ShardedCeiling(b.Key) // Build computed it
		p.f("**Hot SKU ceiling (%s): %s orders a second on one SKU** = %g shards (%s) × min(%s WCU/s ÷ %g WCU a take, 1,000 ms ÷ %g ms a transaction holds its shard (assumed)) = %g × %s, when every order has a line of the SKU; at %s rps the mix places %s such orders a second.",
			b.Key.Key, number(c.Ceiling), c.Shards, b.Key.ShardsParam, number(PartitionWCU), b.Key.WCUPerWrite, b.Key.HoldMS, c.Shards, number(c.PerShard),
			rps(m.Target), number(b.Load.WCU*b.Load.items()/b.Key.WCUPerWrite))
		p.f("")
	}
}

// writeQueueCeiling prints the ceiling of each index's sharded queues: the
// same for each of its keys, and the busiest of them at the target.
func (m *Model) writeQueueCeiling(p *printer) {
	busiest := map[string]HotKeyAt{}
	var indexes []string
	for _, b := range m.Background {
		if b.Key.Model != ModelShardedQueue {
			continue
		}
		i := b.Key.Table + " index " + b.Key.Index
		top, ok := busiest[i]
		if !ok {
			indexes = append(indexes, i)
		}
		if !ok || b.Load.WCU > top.Load.WCU {
			busiest[i] = b
		}
	}
	for _, i := range indexes {
		b := busiest[i]
		c, _ := m.ShardedCeiling(b.Key) // Build computed it
		p.f("**Queue ceiling (%s): %s index writes a second on one status's queue** = %g shards (%s) × %s WCU/s ÷ %g WCU an index write: orders joining one status a second (half that if as many leave it); at %s rps the busiest, %s, takes %s a second.",
			i, number(c.Ceiling), c.Shards, b.Key.ShardsConst, number(PartitionWCU), b.Key.WCUPerWrite, rps(m.Target), b.Key.Key, number(b.Load.WCU*b.Load.items()/b.Key.WCUPerWrite))
		p.f("")
	}
}

func (m *Model) writePerClient(p *printer) {
	p.f("## Per-client limits (abuse control, not capacity: no ceiling of the total)")
	p.f("")
	p.f("| limit | value | from |")
	p.f("| --- | --- | --- |")
	for _, c := range m.PerClient {
		p.f("| %s | %s | %s |", c.Name, c.Value, c.From)
	}
	p.f("")
}

func (m *Model) writeCost(p *printer) {
	cols := CostColumns()
	p.f("## Cost per million requests, by route (USD, at scale)")
	p.f("")
	p.f("| route | %s | total |", strings.Join(cols, " | "))
	p.f("| --- |%s --- |", strings.Repeat(" --- |", len(cols)))
	row := func(name string, c Cost) {
		cells := make([]string, len(cols))
		for i, col := range cols {
			cells[i] = fixed(c.Items[col], 2)
		}
		p.f("| %s | %s | **%s** |", name, strings.Join(cells, " | "), fixed(c.Total, 2))
	}
	for _, r := range m.Routes {
		row(r.Route, m.RouteCost(r))
	}
	row(fmt.Sprintf("background: the hot keys' reads and writes at %s rps, per million requests", rps(m.Target)), m.BackgroundCost())
	row("**the mix** (each route by its share, and the background)", m.MixCost())
	p.f("")
	arch, _ := m.In.Template.Param("Architecture")
	waf := "off (Waf=false)"
	if m.Waf {
		waf = "on"
	}
	p.f("First price tiers of us-east-1, no free tier; Lambda %s; WAF %s. Lambda: the route's invocation and, on protected routes, the authorizer's (one per request: the upper bound). mail: SES, %g SQS FIFO requests, a relay and a notification invocation and %g dedupe write units per email. KMS: Sign $%g, Encrypt and Decrypt $%g per 10,000. data out: the response body and %g bytes of headers. logs: what each function logs per invoke and %g bytes of access log. Prices and sources: internal/pricing.",
		arch, waf, m.In.Assume.SQSPerEmail, m.In.Assume.DedupeWRUPerEmail, m.In.Prices.USD(pricing.KMSAsymmetric), m.In.Prices.USD(pricing.KMSSymmetric), m.In.Assume.HeaderBytes, m.In.Assume.AccessLogBytes)
	p.f("")
}

func (m *Model) writeAssumptions(p *printer) {
	a := m.In.Assume
	p.f("## Assumptions")
	p.f("")
	p.f("- Duration of a request: the function's CPU per warm invoke (bench/REPORT.md: %s ms on one full core), scaled by %g MB / MemorySize below one core; %g ms per argon2id hash on one core; DynamoDB %g ms and KMS %g ms per sequential round trip. Concurrency = requests a second × duration; warm environments are taken as equal to it (idle environments kept from earlier peaks add to it).",
		warmList(a.WarmCPUMS), a.FullCoreMB, a.HashCPUMS, a.DynamoDBMS, a.KMSMS)
	p.f("- Mail: the relay %s ms per email (one invocation each, an upper bound); the notification function sends one email at a time, %s ms each (%s ms for an account email, which opens its link with KMS Decrypt): %s emails a second per environment.",
		fixed(m.Mail.RelayMS, 1), fixed(m.Mail.OrderMailMS, 1), fixed(m.Mail.LinkMailMS, 1), fixed(m.Mail.PerEnvironment, 1))
	if !m.Mail.Paced {
		p.f("- SES: template.yaml declares no SesMaxSendRate: the model takes AWS's defaults of a new account (the sandbox: 1 email a second, 200 a day) and the notification function's MaximumConcurrency as a fixed template setting.")
	}
	p.f("- Revocations: one per login (every session ends in a logout), one per password change and reset (hotkeys.yaml); access tokens live AccessTokenTTL = %s s plus leeway.", number(m.tokenTTL))
	p.f("- Not modelled: cold starts' extra time and Lambda's scaling rate (1,000 new environments per function every 10 s), DynamoDB on-demand's ramp (a new table serves 12,000 RRU or 4,000 WRU at once, then doubles its previous peak within 30 minutes: pre-warm before launch), SQS FIFO throughput, CloudWatch and X-Ray API quotas.")
	p.f("")
}

func warmList(m map[string]float64) string {
	keys := slices.Sorted(maps.Keys(m))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %g", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// rps formats a rate of requests a second: to the request, and to three
// figures below a hundred.
func rps(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "never"
	case v < 100:
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
	return number(math.Round(v))
}

// number formats v with thousands separators, and decimals below 100.
func number(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "∞"
	case v != math.Trunc(v) && math.Abs(v) < 100:
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
	return message.NewPrinter(language.English).Sprintf("%.0f", math.Round(v)) // 12,345
}

func fixed(v float64, decimals int) string { return strconv.FormatFloat(v, 'f', decimals, 64) }

func percent(v float64) string { return fixed(v*100, 1) + " %" }
