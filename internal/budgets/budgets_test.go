package budgets_test

import (
	"strings"
	"testing"

	"github.com/serverless-shop/backend/internal/budgets"
)

// TestBudgetsAreConsistent checks what a budget can get wrong without a
// cloud: a request named twice, a route that is not its request's, calls
// that cannot run in the rounds given.
func TestBudgetsAreConsistent(t *testing.T) {
	all := budgets.All()
	if len(all) < 20 {
		t.Fatalf("%d budgets: is the table still there?", len(all))
	}
	seen := map[string]bool{}
	for _, b := range all {
		if seen[b.Request] {
			t.Errorf("%s: budgeted twice", b.Request)
		}
		seen[b.Request] = true
		if !strings.HasPrefix(b.Request, b.Route) && !strings.HasPrefix(b.Request, "replay") {
			t.Errorf("%s: route %q is not the start of its request", b.Request, b.Route)
		}
		if b.Function != "users" && b.Function != "orders" {
			t.Errorf("%s: function %q", b.Request, b.Function)
		}
		if b.Rounds > b.Calls() || (b.Calls() > 0 && b.Rounds == 0) {
			t.Errorf("%s: %d rounds for %d calls", b.Request, b.Rounds, b.Calls())
		}
		if b.Rounds < b.KMS.Total() {
			t.Errorf("%s: %d KMS calls cannot fit in %d rounds (each is its own)", b.Request, b.KMS.Total(), b.Rounds)
		}
		if (b.Apart == "") != (b.ApartWCU == 0) {
			t.Errorf("%s: Apart %q with ApartWCU %g", b.Request, b.Apart, b.ApartWCU)
		}
		if b.Why == "" {
			t.Errorf("%s: no reason given", b.Request)
		}
	}
	for _, fn := range []string{"users", "orders"} {
		if len(budgets.Of(fn)) == 0 {
			t.Errorf("no budget for %s", fn)
		}
	}
	if _, err := budgets.For("GET /nowhere"); err == nil {
		t.Error("For(unknown) = nil error")
	}
	login, err := budgets.For("POST /v1/auth/login")
	if err != nil {
		t.Fatal(err)
	}
	if login.KMS.Sign != 1 {
		t.Errorf("a login signs %d tokens, want 1", login.KMS.Sign)
	}
}
