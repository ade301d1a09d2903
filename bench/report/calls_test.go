package main

import (
	"testing"
	"time"
)

func TestParseCallTables(t *testing.T) {
	md := `
### orders

Measured by ` + "`TestAWSCallsPerRequest`" + `.

| route | AWS calls | sequential round trips | RCU (AWS rules) | WCU (AWS rules) | RCU / WCU reported by the local cloud | budget (calls, rounds, RCU, WCU) |
| --- | --- | --- | --- | --- | --- | --- |
| POST /v1/orders with Idempotency-Key (warm) | 3 (PutItem BatchGetItem TransactWriteItems) | 3 | 1 | 7 + 2 (QUOTA#) | 0 / 9 | 1, 1, 0, 6 + 2: why |
| GET /v1/products (warm) | 0 (none) | 0 | 0 | 0 | none | 0, 0, 0, 0: why |

### users

| route | AWS calls | sequential round trips | RCU (AWS rules) | WCU (AWS rules) | RCU / WCU reported by the local cloud | budget (calls, rounds, RCU, WCU) |
| --- | --- | --- | --- | --- | --- | --- |
| POST /v1/auth/login | 6 (BatchGetItem GetItem TransactWriteItems kms:Sign TransactWriteItems UpdateItem) | 6 | 4 | 11 | 1 / 11 | 6, 6, 4, 11: why |
`
	run := &callsRun{markdown: md, tables: parseCallTables(md)}
	got, ok := run.row("orders", "POST /v1/orders with Idempotency-Key (warm)")
	want := callRow{calls: 3, rounds: 3, ops: "PutItem BatchGetItem TransactWriteItems", rcu: 1, wcu: 7, apart: 2}
	if !ok || got != want {
		t.Errorf("create order: %+v, %v; want %+v", got, ok, want)
	}
	if got, ok := run.row("orders", "GET /v1/products (warm)"); !ok || got.calls != 0 || got.ops != "none" {
		t.Errorf("products: %+v, %v", got, ok)
	}
	if got, ok := run.row("users", "POST /v1/auth/login"); !ok || got.wcu != 11 || got.rcu != 4 || got.apart != 0 {
		t.Errorf("login: %+v, %v", got, ok)
	}
	if _, ok := run.row("users", "GET /v1/products (warm)"); ok {
		t.Error("a row of orders found under users")
	}
	if order := tableOrder(md, "orders"); len(order) != 2 || order[1] != "GET /v1/products (warm)" {
		t.Errorf("tableOrder: %q", order)
	}
	var none *callsRun
	if _, ok := none.row("orders", "GET /v1/orders"); ok {
		t.Error("a row from a run that did not happen")
	}
}

func TestRounds(t *testing.T) {
	at := func(ms int) time.Time { return time.Unix(0, 0).Add(time.Duration(ms) * time.Millisecond) }
	call := func(from, to int) stubCall {
		return stubCall{op: "TrentService.GetPublicKey", start: at(from), end: at(to)}
	}
	for _, tc := range []struct {
		name  string
		calls []stubCall
		want  int
	}{
		{"none", nil, 0},
		{"one", []stubCall{call(0, 5)}, 1},
		{"two together", []stubCall{call(0, 5), call(1, 6)}, 1},
		{"one after the other", []stubCall{call(0, 5), call(5, 9)}, 2},
		{"the issue's users: one, then two together", []stubCall{call(0, 5), call(6, 10), call(6, 11)}, 2},
	} {
		if got := rounds(tc.calls); got != tc.want {
			t.Errorf("%s: %d rounds, want %d", tc.name, got, tc.want)
		}
	}
}
