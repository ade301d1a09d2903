//go:build integration

package awscalls

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// Budget is the most a request may cost. Capacity is priced by AWS's rules
// (Call.Rules), which the budget holds; what the local cloud reports is
// printed beside it.
type Budget struct {
	Calls, Rounds int
	RCU, WCU      float64
	Why           string // why the request needs what it has
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
	table.WriteString("| route | AWS calls | sequential round trips | RCU (AWS rules) | WCU (AWS rules) | RCU / WCU reported by the local cloud | budget (calls, rounds, RCU, WCU) |\n")
	table.WriteString("| --- | --- | --- | --- | --- | --- | --- |\n")
	for _, r := range rows {
		rules, rep := Sum(r.Calls)
		rounds := Rounds(r.Calls)
		reported := "none"
		for _, c := range r.Calls {
			if c.ReportedOK {
				reported = fmt.Sprintf("%g / %g", rep.Read, rep.Write)
				break
			}
		}
		fmt.Fprintf(&table, "| %s | %d (%s) | %d | %g | %g | %s | %d, %d, %g, %g: %s |\n",
			r.Request, len(r.Calls), orNone(r.Ops()), rounds, rules.Read, rules.Write, reported,
			r.Budget.Calls, r.Budget.Rounds, r.Budget.RCU, r.Budget.WCU, r.Budget.Why)
		t.Logf("%-40s calls %d (%s), rounds %d, RCU %g, WCU %g (reported %s)", r.Request, len(r.Calls), r.Ops(), rounds, rules.Read, rules.Write, reported)
		b := r.Budget
		if len(r.Calls) > b.Calls || rounds > b.Rounds || rules.Read > b.RCU || rules.Write > b.WCU {
			t.Errorf("%s over budget: %d calls (%s), %d rounds, %g RCU, %g WCU; budget %d calls, %d rounds, %g RCU, %g WCU",
				r.Request, len(r.Calls), r.Ops(), rounds, rules.Read, rules.Write, b.Calls, b.Rounds, b.RCU, b.WCU)
		}
	}
	out := os.Getenv("BENCH_CALLS_OUT")
	if out == "" {
		return
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
