//go:build integration

package awscalls

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/serverless-shop/backend/internal/budgets"
	"github.com/serverless-shop/backend/internal/testcloud"
)

// Row is one measured request and its budget (internal/budgets).
type Row struct {
	Request string
	Calls   []Call
	Budget  budgets.Budget
}

// Measured is what a row's calls cost: DynamoDB calls, KMS calls by
// operation, and the operations no budget has a place for.
func (r Row) Measured() (dynamo int, keys budgets.KMS, other []string) {
	for _, c := range r.Calls {
		switch {
		case c.Service == "dynamodb":
			dynamo++
		case c.Service == "kms" && c.Operation == "Sign":
			keys.Sign++
		case c.Service == "kms" && c.Operation == "Encrypt":
			keys.Encrypt++
		case c.Service == "kms" && c.Operation == "Decrypt":
			keys.Decrypt++
		default:
			other = append(other, c.Service+":"+c.Operation)
		}
	}
	return dynamo, keys, other
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

// Check fails the test for every row over its budget and for every budget
// of service (internal/budgets) that no row measured, logs every row, and,
// when the environment variable BENCH_CALLS_OUT names a file, appends a
// markdown table of the rows to it under the heading service.
func Check(t *testing.T, service string, rows []Row) {
	t.Helper()
	for _, b := range budgets.Of(service) {
		if !slices.ContainsFunc(rows, func(r Row) bool { return r.Request == b.Request }) {
			t.Errorf("%s has a budget (internal/budgets) but was not measured", b.Request)
		}
	}
	var table strings.Builder
	fmt.Fprintf(&table, "\n### %s\n\n", service)
	table.WriteString("Measured by `TestAWSCallsPerRequest` on the local cloud: capacity priced by AWS's documented rules from the sizes of the items read and written (`internal/awscalls`), the local cloud's own report beside it.")
	if i := slices.IndexFunc(rows, func(r Row) bool { return r.Budget.Apart != "" }); i >= 0 {
		fmt.Fprintf(&table, " `X + Y (%s)`: Y write units are those of the items whose sort key starts with %s, counted apart.", rows[i].Budget.Apart, rows[i].Budget.Apart)
	}
	table.WriteString("\n\n| route | AWS calls | sequential round trips | RCU (AWS rules) | WCU (AWS rules) | RCU / WCU reported by the local cloud | budget (calls, rounds, RCU, WCU) |\n")
	table.WriteString("| --- | --- | --- | --- | --- | --- | --- |\n")
	for _, r := range rows {
		rules, rep := Sum(r.Calls)
		rounds := Rounds(r.Calls)
		b := r.Budget
		wcu, budgetWCU := fmt.Sprint(rules.Write), fmt.Sprint(b.WCU)
		var apart float64
		if b.Apart != "" {
			for _, c := range r.Calls {
				for _, w := range c.Writes {
					if strings.HasPrefix(w.SortKey, b.Apart) {
						apart += w.WCU
					}
				}
			}
			rules.Write -= apart
			wcu = fmt.Sprintf("%g + %g (%s)", rules.Write, apart, b.Apart)
			budgetWCU = fmt.Sprintf("%g + %g", b.WCU, b.ApartWCU)
		}
		reported := "none"
		if slices.ContainsFunc(r.Calls, func(c Call) bool { return c.ReportedOK }) {
			reported = fmt.Sprintf("%g / %g", rep.Read, rep.Write)
		}
		fmt.Fprintf(&table, "| %s | %d (%s) | %d | %g | %s | %s | %d, %d, %g, %s: %s |\n",
			r.Request, len(r.Calls), cmp.Or(r.Ops(), "none"), rounds, rules.Read, wcu, reported,
			b.Calls(), b.Rounds, b.RCU, budgetWCU, b.Why)
		t.Logf("%-44s calls %d (%s), rounds %d, RCU %g, WCU %s (reported %s)", r.Request, len(r.Calls), r.Ops(), rounds, rules.Read, wcu, reported)
		dynamo, keys, other := r.Measured()
		if len(other) > 0 || dynamo > b.DynamoDB || keys.Sign > b.KMS.Sign || keys.Encrypt > b.KMS.Encrypt || keys.Decrypt > b.KMS.Decrypt ||
			rounds > b.Rounds || rules.Read > b.RCU || rules.Write > b.WCU || apart > b.ApartWCU {
			t.Errorf("%s over budget: %d calls (%s), %d rounds, %g RCU, %s WCU; budget %d DynamoDB and KMS %+v calls, %d rounds, %g RCU, %s WCU",
				r.Request, len(r.Calls), r.Ops(), rounds, rules.Read, wcu, b.DynamoDB, b.KMS, b.Rounds, b.RCU, budgetWCU)
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

// CheckShared fails the test for every shared partition key that listed
// does not know (listed is the capacity model's hot-key table: table, the
// key's value), and logs every shared key. A shared key is one that
// requests of two or more actors touched (Recorder.Shared).
func CheckShared(t *testing.T, shared []SharedKey, listed func(table, value string) bool) {
	t.Helper()
	for _, s := range shared {
		if listed(s.Table, s.Value) {
			t.Logf("shared partition key %s %q (touched by %s): in the hot-key table", s.Table, s.Value, strings.Join(s.Actors, ", "))
			continue
		}
		t.Errorf("partition key %s %q is shared (touched by %s) and not in the capacity model's hot-key table "+
			"(internal/capacity/hotkeys.yaml): list it there with its load and ceiling, or key it by user", s.Table, s.Value, strings.Join(s.Actors, ", "))
	}
}
