//go:build integration

package awscalls

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/serverless-shop/backend/internal/testcloud"
)

// Budget is the most a request may cost. Capacity is priced by AWS's rules
// (Call.Rules), which the budget holds; what the local cloud reports is
// printed beside it.
type Budget struct {
	Calls, Rounds int
	RCU, WCU      float64
	// Apart names items, by the prefix of their sort key, whose write
	// units are counted on their own line with their own budget, ApartWCU
	// (the order quota's counter, say); WCU is then the rest.
	Apart    string
	ApartWCU float64
	Why      string // why the request needs what it has
}

// Row is one measured request.
type Row struct {
	Request string
	Calls   []Call
	Budget  Budget
}

// Ops lists the row's operations in order ("BatchGetItem TransactWriteItems").
func (r Row) Ops() string {
	ops := make([]string, len(r.Calls))
	for i, c := range r.Calls {
		ops[i] = c.Operation
		if c.Service != "dynamodb" {
			ops[i] = c.Service + ":" + c.Operation
		}
	}
	return strings.Join(ops, " ")
}

// Check fails the test for every row over its budget, logs every row, and,
// when the environment variable BENCH_CALLS_OUT names a file, appends a
// markdown table of the rows to it under the heading service.
func Check(t *testing.T, service string, rows []Row) {
	t.Helper()
	var table strings.Builder
	fmt.Fprintf(&table, "\n### %s\n\n", service)
	table.WriteString("Measured by `TestAWSCallsPerRequest` on the local cloud: capacity priced by AWS's documented rules from the sizes of the items read and written (`internal/awscalls`), the local cloud's own report beside it.")
	for _, r := range rows {
		if r.Budget.Apart != "" {
			fmt.Fprintf(&table, " `X + Y (%s)`: Y write units are those of the items whose sort key starts with %s, counted apart.", r.Budget.Apart, r.Budget.Apart)
			break
		}
	}
	table.WriteString("\n\n")
	table.WriteString("| route | AWS calls | sequential round trips | RCU (AWS rules) | WCU (AWS rules) | RCU / WCU reported by the local cloud | budget (calls, rounds, RCU, WCU) |\n")
	table.WriteString("| --- | --- | --- | --- | --- | --- | --- |\n")
	for _, r := range rows {
		rules, rep := Sum(r.Calls)
		rounds := Rounds(r.Calls)
		wcu := fmt.Sprint(rules.Write)
		var apart float64
		if r.Budget.Apart != "" {
			for _, c := range r.Calls {
				for _, w := range c.Writes {
					if strings.HasPrefix(w.SortKey, r.Budget.Apart) {
						apart += w.WCU
					}
				}
			}
			rules.Write -= apart
			wcu = fmt.Sprintf("%g + %g (%s)", rules.Write, apart, r.Budget.Apart)
		}
		reported := "none"
		for _, c := range r.Calls {
			if c.ReportedOK {
				reported = fmt.Sprintf("%g / %g", rep.Read, rep.Write)
				break
			}
		}
		b := r.Budget
		budgetWCU := fmt.Sprint(b.WCU)
		if b.Apart != "" {
			budgetWCU = fmt.Sprintf("%g + %g", b.WCU, b.ApartWCU)
		}
		fmt.Fprintf(&table, "| %s | %d (%s) | %d | %g | %s | %s | %d, %d, %g, %s: %s |\n",
			r.Request, len(r.Calls), orNone(r.Ops()), rounds, rules.Read, wcu, reported,
			b.Calls, b.Rounds, b.RCU, budgetWCU, b.Why)
		t.Logf("%-44s calls %d (%s), rounds %d, RCU %g, WCU %s (reported %s)", r.Request, len(r.Calls), r.Ops(), rounds, rules.Read, wcu, reported)
		if len(r.Calls) > b.Calls || rounds > b.Rounds || rules.Read > b.RCU || rules.Write > b.WCU || apart > b.ApartWCU {
			t.Errorf("%s over budget: %d calls (%s), %d rounds, %g RCU, %s WCU; budget %d calls, %d rounds, %g RCU, %s WCU",
				r.Request, len(r.Calls), r.Ops(), rounds, rules.Read, wcu, b.Calls, b.Rounds, b.RCU, budgetWCU)
		}
	}
	out := os.Getenv("BENCH_CALLS_OUT")
	if out == "" {
		return
	}
	if !filepath.IsAbs(out) { // go test runs in the package's directory
		out = filepath.Join(testcloud.RepoRoot(), out)
	}
	f, err := os.OpenFile(out, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatalf("BENCH_CALLS_OUT: %v", err)
	}
	defer f.Close()
	if _, err := f.WriteString(table.String()); err != nil {
		t.Fatalf("BENCH_CALLS_OUT: %v", err)
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
