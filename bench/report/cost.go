package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// price is one line of the price table: AWS's public on-demand prices in
// us-east-1, first tier, without free tiers.
type price struct {
	item, unit string
	usd        float64
	source     string
}

// pricesRead is when the price pages below were read.
const pricesRead = "2026-11-22 (stored copies of the pages, dated 2025–2026)"

var prices = map[string]price{
	"apigw":   {"API Gateway REST API requests", "per million", 3.50, "https://aws.amazon.com/api-gateway/pricing/ (first 333 million a month; table reproduced in https://docs.aws.amazon.com/whitepapers/latest/best-practices-api-gateway-private-apis-integration/cost-optimization.html)"},
	"lreq":    {"Lambda requests", "per million", 0.20, "https://aws.amazon.com/lambda/pricing/"},
	"lgbs":    {"Lambda duration, Arm", "per GB-second", 0.0000133334, "https://aws.amazon.com/lambda/pricing/ (first 7.5 billion GB-s a month; figure as quoted in https://cloudchipr.com/blog/aws-lambda-pricing)"},
	"wru":     {"DynamoDB on-demand write request units", "per million", 0.625, "https://aws.amazon.com/dynamodb/pricing/on-demand/ (after the November 2024 cut; as quoted in https://airbyte.com/data-engineering-resources/dynamodb-pricing)"},
	"rru":     {"DynamoDB on-demand read request units", "per million", 0.125, "same as above"},
	"sqsfifo": {"SQS FIFO requests (64 KB chunks)", "per million", 0.50, "https://aws.amazon.com/sqs/pricing/ (as quoted in https://cloudburn.io/blog/amazon-sqs-pricing, March 2026)"},
	"ses":     {"SES outbound email", "per 1,000 emails", 0.10, "https://aws.amazon.com/ses/pricing/ (as quoted in https://www.acecloudinterviews.com/tutorials/aws/ses/)"},
	"logs":    {"CloudWatch Logs ingestion (Lambda logs, first tier)", "per GB", 0.50, "https://aws.amazon.com/cloudwatch/pricing/ (Lambda logs tiered since May 2025, first tier $0.50: https://www.duckbillgroup.com/?p=9080)"},
	"xray":    {"X-Ray traces recorded", "per million", 5.00, "https://aws.amazon.com/xray/pricing/"},
	"xrayget": {"X-Ray traces retrieved or scanned", "per million", 0.50, "https://aws.amazon.com/xray/pricing/"},
}

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

// journeyStep is one Lambda invocation of an order's journey.
type journeyStep struct {
	fn, route string
	count     float64
	ioMS      float64 // assumed latency of its AWS calls
	extraCPU  func(r *report) float64
}

// journey is what one order costs in requests: a login, the catalog, the
// order, its event through the outbox, the queue and the email.
var journey = []journeyStep{
	{fn: "users", route: "POST /v1/auth/login (3 DynamoDB + 1 KMS Sign)", count: 1, ioMS: 3*8 + 15,
		extraCPU: func(r *report) float64 { return float64(r.argonCPU()) / 1e6 }},
	{fn: "orders", route: "GET /v1/products (1 DynamoDB)", count: 1, ioMS: 8},
	{fn: "authorizer", route: "authorizer, POST /v1/orders (cached 300 s per token)", count: 1},
	{fn: "orders", route: "POST /v1/orders (3 DynamoDB)", count: 1, ioMS: 3 * 8},
	{fn: "relay", route: "stream → SendMessageBatch (1 SQS)", count: 1, ioMS: 15},
	{fn: "notifications", route: "queue → email (2 DynamoDB + 1 SES)", count: 1, ioMS: 2*8 + 60},
}

// Per order, as assumed (the AWS calls per route are measured by the
// integration tests; see that section).
const (
	apiRequestsPerOrder = 3
	wruPerOrder         = 2 + 9 + 2 // login (session, attempts), create order (the count for a 2-line order), email dedupe
	rruPerOrder         = 1 + 1 + 1 // login, catalog, create order
	sqsPerOrder         = 3         // send (batch), receive, delete
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

func (r *report) xrayCost(t *tree) float64 { return xrayTraces(t) * prices["xray"].usd }

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
	add(prices["apigw"].item, fmt.Sprintf("%d requests", apiRequestsPerOrder), apiRequestsPerOrder*prices["apigw"].usd)
	var invokes, gbs, logBytes float64
	for _, inv := range journey {
		a := r.agg(t.name, inv.fn, "http")
		cpu := float64(a.warm.median()) / 1e6
		if inv.extraCPU != nil {
			cpu += inv.extraCPU(r)
		}
		f := max(1, float64(lambdaFullCoreMB)/float64(mem[inv.fn]))
		d := cpu*f + inv.ioMS
		invokes += inv.count
		gbs += inv.count * d / 1000 * float64(mem[inv.fn]) / 1024
		if a.warmN > 0 {
			logBytes += inv.count * float64(a.warmLogs) / float64(a.warmN)
		}
	}
	add(prices["lreq"].item, fmt.Sprintf("%.0f invocations", invokes), invokes*prices["lreq"].usd)
	add(prices["lgbs"].item, fmt.Sprintf("%.3f GB-s", gbs), gbs*million*prices["lgbs"].usd)
	add(prices["wru"].item, fmt.Sprintf("%d WRU", wruPerOrder), wruPerOrder*prices["wru"].usd)
	add(prices["rru"].item, fmt.Sprintf("%d RRU", rruPerOrder), rruPerOrder*prices["rru"].usd)
	add(prices["sqsfifo"].item, fmt.Sprintf("%d requests", sqsPerOrder), sqsPerOrder*prices["sqsfifo"].usd)
	add(prices["ses"].item, fmt.Sprintf("%d email", emailsPerOrder), emailsPerOrder*million/1000*prices["ses"].usd)
	add(prices["logs"].item, fmt.Sprintf("%.0f bytes", logBytes), logBytes*million/(1<<30)*prices["logs"].usd)
	add(prices["xray"].item, fmt.Sprintf("%.2f traces", xrayTraces(t)), r.xrayCost(t))
	return c
}

func (r *report) costSection(p printer, before, after *tree) {
	p("## Cost per million orders on AWS")
	p("")
	p("us-east-1, on-demand, first price tiers, no free tier. One order is: %s. Lambda duration per invocation = the warm invoke measured here (HTTP) × %d / MemorySize (CPU share, at most 1) + the assumed latency of its AWS calls (DynamoDB 8 ms, KMS and SQS 15 ms, SES 60 ms); the login adds one argon2id hash. Logs: the bytes the functions wrote per warm invoke here (platform lines not counted: SystemLogLevel is WARN). X-Ray: at low traffic, where the default rule's reservoir (1 a second) takes every request.", journeyText(), lambdaFullCoreMB)
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
	p("Prices (read %s):", pricesRead)
	p("")
	p("| Item | Price (USD) | Unit | Source |")
	p("| --- | --- | --- | --- |")
	keys := []string{"apigw", "lreq", "lgbs", "wru", "rru", "sqsfifo", "ses", "logs", "xray", "xrayget"}
	for _, k := range keys {
		pr := prices[k]
		p("| %s | %g | %s | %s |", pr.item, pr.usd, pr.unit, pr.source)
	}
	p("")
}

func journeyText() string {
	var parts []string
	for _, inv := range journey {
		parts = append(parts, inv.route)
	}
	return strings.Join(parts, "; ")
}
