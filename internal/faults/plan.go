package faults

import (
	"crypto/sha256"
	"math/rand/v2"
	"sync"
	"time"
)

// Kind is a kind of fault.
type Kind string

// The kinds of fault the campaign injects. The proxy injects the first
// eight on calls of the deployed functions; the campaign itself the
// duplicate deliveries (copies of real events sent to the queue again,
// shuffled) and the outages.
const (
	DynamoThrottling  Kind = "dynamodb-throttling"             // 400 ProvisionedThroughputExceededException, nothing written
	TransactionCancel Kind = "dynamodb-transaction-cancelled"  // 400 TransactionCanceledException (TransactionConflict), nothing written
	ResponseLost      Kind = "response-lost-after-write"       // the write is forwarded and done, the connection dropped before the answer
	KilledAfterWrite  Kind = "killed-after-write"              // the orders function's order or transition write is done, its answer held past the function's timeout
	SQSSendFailure    Kind = "sqs-send-failure"                // 500 InternalError on SendMessage(Batch) or ChangeMessageVisibility
	SESThrottling     Kind = "ses-throttling"                  // 429 TooManyRequestsException, not sent
	SESRejection      Kind = "ses-permanent-rejection"         // 400 MessageRejected, not sent
	KilledAfterSES    Kind = "killed-after-ses-accepted"       // SES sent the mail, the answer lost before the dedupe record
	SESOutage         Kind = "ses-outage"                      // 429 on every SendEmail during the outage window
	DuplicateDelivery Kind = "duplicate-out-of-order-delivery" // a copy of a real event sent to the queue again, shuffled
	RelayOutage       Kind = "relay-outage"                    // the relay's stream mapping disabled through the Lambda API
)

// Kinds lists every kind in the order the account prints them.
var Kinds = []Kind{
	DynamoThrottling, TransactionCancel, ResponseLost, KilledAfterWrite, SQSSendFailure,
	SESThrottling, SESRejection, KilledAfterSES, SESOutage, DuplicateDelivery, RelayOutage,
}

// Rates are the probabilities that an eligible call meets each kind of
// fault the proxy injects at random.
type Rates map[Kind]float64

// DefaultRates are the campaign's rates. They are high enough that more
// than a thousand faults land in a few minutes, and low enough that the
// SDK's three attempts and the queue's five receives mostly get through:
// what does not is the campaign's finding.
var DefaultRates = Rates{
	DynamoThrottling:  0.12,
	TransactionCancel: 0.10,
	ResponseLost:      0.08,
	KilledAfterWrite:  0.02,
	SQSSendFailure:    0.20,
	SESThrottling:     0.20,
	SESRejection:      0.04,
	KilledAfterSES:    0.03,
}

// eligible lists the kinds a call of role may meet, in a fixed order so
// that one seed draws the same faults for the same sequence of calls.
// Calls made at cold start (Secrets Manager, KMS keys) and reads of the
// stream are left alone: the campaign is about the order path.
func eligible(role string, c Call) []Kind {
	var kinds []Kind
	switch c.Service {
	case "dynamodb":
		kinds = append(kinds, DynamoThrottling)
		if c.Operation == "TransactWriteItems" {
			kinds = append(kinds, TransactionCancel)
		}
		// The orders function's order write: a placed order or a cancel
		// with stock (a transaction), or a transition (an UpdateItem).
		if role == "orders" && (c.Operation == "TransactWriteItems" || c.Operation == "UpdateItem") {
			kinds = append(kinds, KilledAfterWrite)
		}
		if c.IsWrite() {
			kinds = append(kinds, ResponseLost)
		}
	case "sqs":
		switch c.Operation {
		case "SendMessage", "SendMessageBatch":
			kinds = append(kinds, SQSSendFailure, ResponseLost)
		case "ChangeMessageVisibility":
			kinds = append(kinds, SQSSendFailure)
		}
	case "ses":
		if c.Operation == "SendEmail" {
			kinds = append(kinds, SESThrottling, SESRejection, KilledAfterSES)
		}
	}
	return kinds
}

// Window is a span of time during which a kind of outage holds.
type Window struct {
	Start, End time.Time
}

// Contains reports whether t falls in the window.
func (w Window) Contains(t time.Time) bool { return !t.Before(w.Start) && t.Before(w.End) }

// Plan decides, from a seed, which call meets which fault. Calls are drawn
// in the order they arrive, so a seed repeats the same decisions for the
// same sequence of calls; with concurrent functions the sequence itself
// varies a little from run to run.
type Plan struct {
	mu      sync.Mutex
	rng     *rand.Rand
	rates   Rates
	on      bool
	sesDown Window
	now     func() time.Time
	limits  map[string]int   // role+" "+operation -> most faults one request may meet
	met     map[[32]byte]int // faults met so far, by role, operation and request body
}

// NewPlan returns a plan drawing from seed with the given rates, switched
// off until Start.
func NewPlan(seed uint64, rates Rates) *Plan {
	return &Plan{
		rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), rates: rates, now: time.Now,
		limits: map[string]int{}, met: map[[32]byte]int{},
	}
}

// Limit caps the faults one request of role's operation may meet: the
// SDK's retries of a request send the same body, so with n below the SDK's
// attempts every such call gets through in the end. The campaign uses it
// for the relay's SendMessageBatch on MiniStack, whose stream mappings
// ignore ReportBatchItemFailures (docs/local-cloud.md, docs/faults.md).
func (p *Plan) Limit(role, operation string, n int) {
	p.mu.Lock()
	p.limits[role+" "+operation] = n
	p.mu.Unlock()
}

// Start switches random faults on; Stop switches them off (the system then
// heals and drains).
func (p *Plan) Start() { p.mu.Lock(); p.on = true; p.mu.Unlock() }

// Stop switches faults off.
func (p *Plan) Stop() { p.mu.Lock(); p.on = false; p.mu.Unlock() }

// SetSESOutage makes every SendEmail in w meet SESOutage.
func (p *Plan) SetSESOutage(w Window) { p.mu.Lock(); p.sesDown = w; p.mu.Unlock() }

// Decide returns the fault for a call of role with the given body, or ""
// for none.
func (p *Plan) Decide(role string, c Call, body []byte) Kind {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.on {
		return ""
	}
	limit, limited := p.limits[role+" "+c.Operation]
	var key [32]byte
	if limited {
		key = sha256.Sum256(append([]byte(role+" "+c.Operation+" "), body...))
		if p.met[key] >= limit {
			return ""
		}
	}
	if c.Service == "ses" && c.Operation == "SendEmail" && p.sesDown.Contains(p.now()) {
		return SESOutage
	}
	kinds := eligible(role, c)
	if len(kinds) == 0 {
		return ""
	}
	u := p.rng.Float64()
	for _, k := range kinds {
		if u < p.rates[k] {
			if limited {
				p.met[key]++
			}
			return k
		}
		u -= p.rates[k]
	}
	return ""
}

// Intn draws from the plan's generator (the campaign's other random
// choices: which events to duplicate, how to shuffle them).
func (p *Plan) Intn(n int) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rng.IntN(n)
}

// Float64 draws from the plan's generator.
func (p *Plan) Float64() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rng.Float64()
}
