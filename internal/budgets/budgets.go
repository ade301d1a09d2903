// Package budgets holds what each measured request of the API may cost in
// AWS, once (the table budgets.yaml): the DynamoDB calls and capacity units, the KMS operations, the
// calls that run one after another, and the facts of the product beside
// them (the emails a request causes, the password hashes it computes).
//
// Two readers keep it honest. The budget tests of the services
// (TestAWSCallsPerRequest, build tag integration, internal/awscalls)
// measure every request against the local cloud and fail when one costs
// more than its budget here; the capacity model (internal/capacity, make
// capacity) multiplies these figures by the traffic of each route. A
// budget is therefore both a ceiling the tests enforce and the figure the
// model plans with.
package budgets

import (
	"bytes"
	_ "embed"
	"fmt"
	"maps"
	"slices"

	"go.yaml.in/yaml/v3"
)

// Budget is the most one request may cost, and what it causes.
type Budget struct {
	// Request names the measured request, as the budget tests' tables and
	// bench/REPORT.md print it: the route, and the case when a route has
	// more than one ("POST /v1/orders (warm catalog)").
	Request string `yaml:"request"`
	// Route is the route key of the template's Api event that serves it
	// ("POST /v1/orders", "GET /v1/products/{sku}").
	Route string `yaml:"route"`
	// Function is the function that serves it: "users" or "orders".
	Function string `yaml:"function"`

	// DynamoDB is the number of DynamoDB calls; KMS the KMS calls by
	// operation; Rounds how many of all those calls run one after another.
	DynamoDB int `yaml:"dynamodb"`
	KMS      KMS `yaml:"kms"`
	Rounds   int `yaml:"rounds"`
	// RCU and WCU are DynamoDB capacity units by AWS's documented rules
	// (internal/awscalls prices each call from the sizes of the items it
	// read and wrote).
	RCU float64 `yaml:"rcu"`
	WCU float64 `yaml:"wcu"`
	// Apart names items, by the prefix of their sort key, whose write
	// units are counted on their own line with their own budget, ApartWCU
	// (the order quota's counter); WCU is then the rest.
	Apart    string  `yaml:"apart"`
	ApartWCU float64 `yaml:"apartWCU"`

	// Emails is the number of emails the request causes (a fact of the
	// product: an order is confirmed by mail, a registration sends the
	// verification link, a reset request its link).
	Emails int `yaml:"emails"`
	// Hashes is the number of argon2id password hashes or verifications
	// the request computes (CPU time, not AWS).
	Hashes int `yaml:"hashes"`

	// Why says why the request needs what it has.
	Why string `yaml:"why"`
}

// KMS counts KMS calls by operation.
type KMS struct {
	Sign    int `yaml:"sign"`
	Encrypt int `yaml:"encrypt"`
	Decrypt int `yaml:"decrypt"`
}

// Total is the number of KMS calls.
func (k KMS) Total() int { return k.Sign + k.Encrypt + k.Decrypt }

// Calls is the number of AWS calls of every kind.
func (b Budget) Calls() int { return b.DynamoDB + b.KMS.Total() }

// TotalWCU is the write units of the request, those counted apart
// included.
func (b Budget) TotalWCU() float64 { return b.WCU + b.ApartWCU }

//go:embed budgets.yaml
var table []byte

// All returns every budget of budgets.yaml, in the order the budget tests
// measure them: orders first, then users. The table is part of the
// binary: one that does not read panics, in TestBudgetsAreConsistent first.
func All() []Budget {
	var all []Budget
	dec := yaml.NewDecoder(bytes.NewReader(table))
	dec.KnownFields(true)
	if err := dec.Decode(&all); err != nil {
		panic(fmt.Sprintf("budgets.yaml: %v", err))
	}
	return all
}

// ByRequest returns every budget by its request.
func ByRequest() map[string]Budget {
	out := map[string]Budget{}
	for _, b := range All() {
		out[b.Request] = b
	}
	return out
}

// For returns the budget of request, or an error naming the known ones.
func For(request string) (Budget, error) {
	all := ByRequest()
	if b, ok := all[request]; ok {
		return b, nil
	}
	return Budget{}, fmt.Errorf("budgets: no budget for %q (known: %q)", request, slices.Sorted(maps.Keys(all)))
}

// Of returns the budgets of one function's requests, in measuring order.
func Of(function string) []Budget {
	var out []Budget
	for _, b := range All() {
		if b.Function == function {
			out = append(out, b)
		}
	}
	return out
}
