package capacity

import (
	"github.com/serverless-shop/backend/internal/pricing"
)

// CostColumns returns the items of a route's cost, in the order printed.
func CostColumns() []string {
	return []string{"API Gateway", "WAF", "Lambda", "DynamoDB", "KMS", "mail", "logs", "X-Ray", "data out"}
}

// Cost is what a million requests cost, by item (CostColumns) in USD.
type Cost struct {
	Items map[string]float64
	Total float64
}

func (c *Cost) add(item string, usd float64) {
	if c.Items == nil {
		c.Items = map[string]float64{}
	}
	c.Items[item] += usd
	c.Total += usd
}

const (
	million = 1e6
	gib     = 1 << 30
)

// lambdaGBs is the price of a Lambda GB-second with the template's
// architecture.
func (m *Model) lambdaGBs() float64 {
	arch, _ := m.In.Template.Param("Architecture")
	if arch == "x86_64" {
		return m.In.Prices.USD(pricing.LambdaX86)
	}
	return m.In.Prices.USD(pricing.LambdaArm)
}

// gbs is the GB-seconds of ms of a function.
func (m *Model) gbs(function string, ms float64) float64 {
	return ms / 1000 * m.Functions[function].MemoryMB / 1024
}

// RouteCost is what a million requests of r cost at scale: first price
// tiers, no free tier, and every email, authorizer call and log line the
// requests cause.
func (m *Model) RouteCost(r Route) Cost {
	p, a := m.In.Prices, m.In.Assume
	var c Cost
	c.add("API Gateway", p.USD(pricing.APIGateway))
	if m.Waf {
		c.add("WAF", p.USD(pricing.WAFRequests))
	}
	invokes, gbs, logBytes := 0.0, 0.0, a.AccessLogBytes
	if !r.Cached {
		invokes++
		gbs += m.gbs(r.Function, r.DurationMS)
		logBytes += a.LogBytes[r.Function]
	}
	if r.Protected {
		invokes += a.AuthorizerShare
		gbs += a.AuthorizerShare * m.gbs("authorizer", m.cpu("authorizer", a.WarmCPUMS["authorizer"]))
		logBytes += a.AuthorizerShare * a.LogBytes["authorizer"]
	}
	c.add("Lambda", invokes*p.USD(pricing.LambdaRequests)+gbs*million*m.lambdaGBs())
	c.add("DynamoDB", r.Budget.RCU*p.USD(pricing.ReadUnits)+r.Budget.TotalWCU()*p.USD(pricing.WriteUnits))
	kms := float64(r.Budget.KMS.Sign)*p.USD(pricing.KMSAsymmetric)*million/10000 +
		float64(r.Budget.KMS.Encrypt+r.Budget.KMS.Decrypt)*p.USD(pricing.KMSSymmetric)*million/10000
	if emails := float64(r.Budget.Emails); emails > 0 {
		mailMS := m.Mail.OrderMailMS
		if r.Function == "users" { // an account email: its link is opened with KMS Decrypt
			mailMS = m.Mail.LinkMailMS
			kms += emails * p.USD(pricing.KMSSymmetric) * million / 10000
		}
		mail := emails * (p.USD(pricing.SES)*million/1000 +
			a.SQSPerEmail*p.USD(pricing.SQSFIFO) +
			(a.RelayInvokesPerEmail+a.NotifyInvokesPerEmail)*p.USD(pricing.LambdaRequests) +
			(a.RelayInvokesPerEmail*m.gbs(r.Function+"relay", m.relayMS(r.Function))+a.NotifyInvokesPerEmail*m.gbs("notifications", mailMS))*million*m.lambdaGBs() +
			a.DedupeWRUPerEmail*p.USD(pricing.WriteUnits))
		c.add("mail", mail)
		logBytes += emails * (a.RelayInvokesPerEmail*a.LogBytes["relay"] + a.NotifyInvokesPerEmail*a.LogBytes["notifications"])
	}
	c.add("KMS", kms)
	c.add("logs", logBytes*million/gib*p.USD(pricing.Logs))
	rate, _ := m.In.Template.Number("TraceSampleRate")
	c.add("X-Ray", rate*p.USD(pricing.XRay))
	c.add("data out", (a.ResponseBytes[r.Route]+a.HeaderBytes)*million/gib*p.USD(pricing.DataTransferOut))
	return c
}

// BackgroundCost is what the hot keys' reads and writes, which no request
// pays for by itself, add to a million requests of the mix at the target
// rate, and an index's writes, which the budgets do not itemise.
func (m *Model) BackgroundCost() Cost {
	var c Cost
	for _, b := range m.Background {
		wcu := b.Load.WCU
		if b.Key.Index != "" { // every shard's index writes, which the budgets do not itemise
			wcu *= b.Load.items()
		}
		perRequest := (b.Load.RCU*m.In.Prices.USD(pricing.ReadUnits) + wcu*m.In.Prices.USD(pricing.WriteUnits)) / m.Target
		c.add("DynamoDB", perRequest)
	}
	return c
}

// MixCost is what a million requests of the mix cost: each route's cost
// by its share, and the background.
func (m *Model) MixCost() Cost {
	var c Cost
	for _, r := range m.Routes {
		rc := m.RouteCost(r)
		for item, usd := range rc.Items {
			c.add(item, usd*r.Percent/100)
		}
	}
	for item, usd := range m.BackgroundCost().Items {
		c.add(item, usd)
	}
	return c
}
