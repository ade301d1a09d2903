package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/serverless-shop/backend/internal/pricing"
)

// prices is the price table (internal/pricing, which make capacity reads
// too).
func prices() pricing.Table { return pricing.ByKey() }

// memorySizes reads each function's MemorySize from a template: the
// function's own, or the Globals one. Keys are the bootstrap names
// (UsersFunction → users).
func memorySizes(dir string) map[string]int {
	data, err := os.ReadFile(filepath.Join(dir, "template.yaml"))
	if err != nil {
		return nil
	}
	out := map[string]int{}
	def := 128
	resource := ""
	inGlobals := false
	res := regexp.MustCompile(`^  ([A-Za-z0-9]+):\s*$`)
	mem := regexp.MustCompile(`^\s+MemorySize:\s*(\d+)`)
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "Globals:") {
			inGlobals = true
			continue
		}
		if len(line) > 0 && line[0] != ' ' && line[0] != '#' {
			inGlobals = inGlobals && strings.HasPrefix(line, "Globals")
			resource = ""
		}
		if m := res.FindStringSubmatch(line); m != nil && !inGlobals {
			resource = m[1]
		}
		if m := mem.FindStringSubmatch(line); m != nil {
			n, _ := strconv.Atoi(m[1])
			switch {
			case inGlobals:
				def = n
			case strings.HasSuffix(resource, "Function"):
				out[strings.ToLower(strings.TrimSuffix(resource, "Function"))] = n
			}
		}
	}
	for _, fn := range served {
		if _, ok := out[fn]; !ok {
			out[fn] = def
		}
	}
	return out
}

// tracing reads how a template traces: the functions' Tracing mode
// (Globals) and whether it has an X-Ray sampling rule for the API.
func tracing(dir string) (mode string, rate float64) {
	data, err := os.ReadFile(filepath.Join(dir, "template.yaml"))
	if err != nil {
		return "", 0
	}
	if m := regexp.MustCompile(`(?m)^    Tracing:\s*(\w+)`).FindSubmatch(data); m != nil {
		mode = string(m[1])
	}
	if m := regexp.MustCompile(`(?m)^  TraceSampleRate:\n(?:    .*\n)*?    Default:\s*["']?([0-9.]+)`).FindSubmatch(data); m != nil {
		rate, _ = strconv.ParseFloat(string(m[1]), 64)
	}
	return mode, rate
}

// journeyStep is one Lambda invocation of an order's journey. Its AWS
// calls and capacity units are the measured row (service, request) of the
// calls tables of the tree priced; without one, the assumed figures.
type journeyStep struct {
	fn, route        string
	service, request string // measured row, if any
	count            float64
	ioMS             float64 // assumed latency of its AWS calls
	wru, rru         float64 // assumed capacity units
	extraCPU         func(r *report) float64
}

// Assumed latency of one AWS round trip from Lambda, by service.
const (
	dynamoMS = 8
	kmsMS    = 15
)

// journey is what one order costs in requests: a login, the catalog, the
// order, its event through the outbox, the queue and the email.
var journey = []journeyStep{
	{fn: "users", route: "login", service: "users", request: loginRequest, count: 1, ioMS: 3*dynamoMS + kmsMS, wru: 2, rru: 1,
		extraCPU: func(r *report) float64 { return float64(r.argonCPU()) / 1e6 }},
	{fn: "orders", route: "the catalog", service: "orders", request: productsWarm, count: 1, ioMS: dynamoMS, rru: 1},
	{fn: "authorizer", route: "authorizer, POST /v1/orders (cached 300 s per token)", count: 1},
	{fn: "orders", route: "create order", service: "orders", request: createKeyWarm, count: 1, ioMS: 3 * dynamoMS, wru: 9, rru: 1},
	{fn: "ordersrelay", route: "stream → SendMessageBatch (1 SQS, assumed)", count: 1, ioMS: 15},
	{fn: "notifications", route: "queue → email (2 DynamoDB writes of 1 unit each for the dedupe record + 1 SES, assumed)", count: 1, ioMS: 2*dynamoMS + 60, wru: 2},
}

// measured is the step's measured row in t's calls tables, if any.
func (r *report) measured(t *tree, s journeyStep) (callRow, bool) {
	if s.request == "" || r.calls == nil {
		return callRow{}, false
	}
	run := r.calls.after
	if t.name == "before" {
		run = r.calls.before
	}
	return run.row(s.service, s.request)
}

// units are the step's AWS latency and capacity units for t: measured
// when there is a row, assumed otherwise.
func (r *report) units(t *tree, s journeyStep) (ioMS, wru, rru float64, label string) {
	row, ok := r.measured(t, s)
	if !ok {
		if s.request == "" {
			return s.ioMS, s.wru, s.rru, s.route
		}
		return s.ioMS, s.wru, s.rru, fmt.Sprintf("%s (%s; not measured: assumed %g WRU, %g RRU)", s.route, s.request, s.wru, s.rru)
	}
	kmsCalls := strings.Count(row.ops, "kms:")
	ioMS = float64((row.rounds-kmsCalls)*dynamoMS + kmsCalls*kmsMS)
	return ioMS, row.wcu + row.apart, row.rcu, fmt.Sprintf("%s (%s, measured: AWS calls %d, round trips %d, RCU %g, WCU %g)", s.route, s.request, row.calls, row.rounds, row.rcu, row.wcu+row.apart)
}

// Per order, as assumed.
const (
	apiRequestsPerOrder = 3
	sqsPerOrder         = 3 // send (batch), receive, delete
	emailsPerOrder      = 1
)

type costLine struct {
	item, quantity string
	usd            float64
}

type orderCost struct {
	lines []costLine
	total float64
}

// xrayTraces is the traces recorded per order at low traffic (under one
// request a second, where the default rule's reservoir takes every
// request).
func xrayTraces(t *tree) float64 {
	mode, rate := tracing(t.dir)
	async := 0.0
	if mode == "Active" {
		async = 1 // the relay's journeyStep starts a trace; notifications join it
	}
	if rate > 0 {
		return apiRequestsPerOrder*rate + async
	}
	return apiRequestsPerOrder + async
}

func (r *report) xrayCost(t *tree) float64 { return xrayTraces(t) * prices().USD(pricing.XRay) }

// costPerMillion is the cost of a million orders with t's configuration
// and t's measured CPU times.
func (r *report) costPerMillion(t *tree) orderCost {
	var c orderCost
	add := func(item, quantity string, usd float64) {
		c.lines = append(c.lines, costLine{item, quantity, usd})
		c.total += usd
	}
	const million = 1e6
	mem := memorySizes(t.dir)
	add(prices()[pricing.APIGateway].Item, fmt.Sprintf("%d requests", apiRequestsPerOrder), apiRequestsPerOrder*prices()[pricing.APIGateway].USD)
	var invokes, gbs, logBytes, wru, rru float64
	for _, inv := range journey {
		ioMS, w, rd, _ := r.units(t, inv)
		wru += inv.count * w
		rru += inv.count * rd
		a := r.agg(t.name, inv.fn, "http")
		cpu := float64(a.warm.median()) / 1e6
		if inv.extraCPU != nil {
			cpu += inv.extraCPU(r)
		}
		f := max(1, float64(lambdaFullCoreMB)/float64(mem[inv.fn]))
		d := cpu*f + ioMS
		invokes += inv.count
		gbs += inv.count * d / 1000 * float64(mem[inv.fn]) / 1024
		if a.warmN > 0 {
			logBytes += inv.count * float64(a.warmLogs) / float64(a.warmN)
		}
	}
	add(prices()[pricing.LambdaRequests].Item, fmt.Sprintf("%.0f invocations", invokes), invokes*prices()[pricing.LambdaRequests].USD)
	add(prices()[pricing.LambdaArm].Item, fmt.Sprintf("%.3f GB-s", gbs), gbs*million*prices()[pricing.LambdaArm].USD)
	add(prices()[pricing.WriteUnits].Item, fmt.Sprintf("%g WRU", wru), wru*prices()[pricing.WriteUnits].USD)
	add(prices()[pricing.ReadUnits].Item, fmt.Sprintf("%g RRU", rru), rru*prices()[pricing.ReadUnits].USD)
	add(prices()[pricing.SQSFIFO].Item, fmt.Sprintf("%d requests", sqsPerOrder), sqsPerOrder*prices()[pricing.SQSFIFO].USD)
	add(prices()[pricing.SES].Item, fmt.Sprintf("%d email", emailsPerOrder), emailsPerOrder*million/1000*prices()[pricing.SES].USD)
	add(prices()[pricing.Logs].Item, fmt.Sprintf("%.0f bytes", logBytes), logBytes*million/(1<<30)*prices()[pricing.Logs].USD)
	add(prices()[pricing.XRay].Item, fmt.Sprintf("%.2f traces", xrayTraces(t)), r.xrayCost(t))
	return c
}

func (r *report) costSection(p printer, before, after *tree) {
	p("## Cost per million orders on AWS")
	p("")
	p("us-east-1, on-demand, first price tiers, no free tier. One order is (after): %s. Before, the same steps with the code before's measured rows: %s. DynamoDB capacity units and round trips of the login, the catalog and create order are the measured rows of the section above, for each code (the catalog: a warm function's answer; an execution environment reads it again every 5 minutes); the others are assumed as written. Lambda duration per invocation = the warm invoke measured here (HTTP) × %d / MemorySize (CPU share, at most 1) + the assumed latency of its AWS round trips (DynamoDB %d ms, KMS and SQS 15 ms, SES 60 ms); the login adds one argon2id hash. Logs: the bytes the functions wrote per warm invoke here (platform lines not counted: SystemLogLevel is WARN). X-Ray: at low traffic, where the default rule's reservoir (1 a second) takes every request.", r.journeyText(after), r.journeyText(before), lambdaFullCoreMB, dynamoMS)
	p("")
	bc := orderCost{}
	if before != nil {
		bc = r.costPerMillion(before)
	}
	ac := r.costPerMillion(after)
	p("| Item | Per order (after) | Before, USD per million orders | After, USD per million orders |")
	p("| --- | --- | --- | --- |")
	for i, l := range ac.lines {
		b := "–"
		if i < len(bc.lines) {
			b = fmt.Sprintf("%.2f", bc.lines[i].usd)
		}
		p("| %s | %s | %s | %.2f |", l.item, l.quantity, b, l.usd)
	}
	b := "–"
	if before != nil {
		b = fmt.Sprintf("**%.2f**", bc.total)
	}
	p("| **Total** | | %s | **%.2f** |", b, ac.total)
	p("")
	p("Prices (read %s):", pricing.Read)
	p("")
	p("| Item | Price (USD) | Unit | Source |")
	p("| --- | --- | --- | --- |")
	table := prices()
	for _, k := range []string{pricing.APIGateway, pricing.LambdaRequests, pricing.LambdaArm, pricing.WriteUnits, pricing.ReadUnits, pricing.SQSFIFO, pricing.SES, pricing.Logs, pricing.XRay, pricing.XRayRetrieved} {
		pr := table[k]
		p("| %s | %g | %s | %s |", pr.Item, pr.USD, pr.Unit, pr.Source)
	}
	p("")
}

func (r *report) journeyText(t *tree) string {
	if t == nil {
		return "not measured"
	}
	var parts []string
	for _, inv := range journey {
		_, _, _, label := r.units(t, inv)
		parts = append(parts, label)
	}
	return strings.Join(parts, "; ")
}
