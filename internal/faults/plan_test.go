package faults_test

import (
	"slices"
	"testing"
	"time"

	"github.com/serverless-shop/backend/internal/faults"
)

var (
	transact = faults.Call{Service: "dynamodb", Operation: "TransactWriteItems"}
	send     = faults.Call{Service: "ses", Operation: "SendEmail"}
	batch    = faults.Call{Service: "sqs", Operation: "SendMessageBatch"}
)

// draw starts p and draws n decisions for calls c of role.
func draw(p *faults.Plan, n int, role string, c faults.Call) []faults.Kind {
	p.Start()
	out := make([]faults.Kind, n)
	for i := range out {
		out[i] = p.Decide(role, c, []byte{byte(i), byte(i >> 8)})
	}
	return out
}

func TestPlanRepeatsItsSeed(t *testing.T) {
	t.Parallel()
	a, b := faults.NewPlan(42, faults.DefaultRates), faults.NewPlan(42, faults.DefaultRates)
	x, y := draw(a, 500, "orders", transact), draw(b, 500, "orders", transact)
	if !slices.Equal(x, y) {
		t.Fatal("seed 42 drew two sequences of decisions")
	}
	if slices.Equal(x, draw(faults.NewPlan(43, faults.DefaultRates), 500, "orders", transact)) {
		t.Fatal("seeds 42 and 43 drew the same 500 decisions")
	}
}

func TestPlanDrawsOnlyEligibleKinds(t *testing.T) {
	t.Parallel()
	rates := faults.Rates{}
	for _, k := range faults.Kinds {
		rates[k] = 0.05
	}
	p := faults.NewPlan(7, rates)
	for _, tc := range []struct {
		role    string
		c       faults.Call
		allowed []faults.Kind // besides none
	}{
		{"orders", transact, []faults.Kind{faults.DynamoThrottling, faults.TransactionCancel, faults.KilledAfterWrite, faults.ResponseLost}},
		{"orders", faults.Call{Service: "dynamodb", Operation: "UpdateItem"}, []faults.Kind{faults.DynamoThrottling, faults.KilledAfterWrite, faults.ResponseLost}},
		{"users", faults.Call{Service: "dynamodb", Operation: "UpdateItem"}, []faults.Kind{faults.DynamoThrottling, faults.ResponseLost}},
		{"users", transact, []faults.Kind{faults.DynamoThrottling, faults.TransactionCancel, faults.ResponseLost}},
		{"notifications", send, []faults.Kind{faults.SESThrottling, faults.SESRejection, faults.KilledAfterSES}},
		{"relay", batch, []faults.Kind{faults.SQSSendFailure, faults.ResponseLost}},
	} {
		seen := map[faults.Kind]int{}
		for _, k := range draw(p, 2000, tc.role, tc.c) {
			if k != "" && !slices.Contains(tc.allowed, k) {
				t.Fatalf("%s %s: drew %q", tc.role, tc.c.Operation, k)
			}
			seen[k]++
		}
		if len(seen) != len(tc.allowed)+1 {
			t.Fatalf("%s %s: drew %v, want none and each of %v", tc.role, tc.c.Operation, seen, tc.allowed)
		}
	}
	if k := p.Decide("orders", faults.Call{Service: "secretsmanager", Operation: "GetSecretValue"}, nil); k != "" {
		t.Fatalf("a cold-start call met %q", k)
	}
}

func TestPlanOffAndOutage(t *testing.T) {
	t.Parallel()
	p := faults.NewPlan(1, faults.Rates{faults.SESThrottling: 1})
	if k := p.Decide("notifications", send, nil); k != "" {
		t.Fatalf("before Start: %q", k)
	}
	p.Start()
	if k := p.Decide("notifications", send, nil); k != faults.SESThrottling {
		t.Fatalf("at rate 1: %q", k)
	}
	p.SetSESOutage(faults.Window{Start: time.Now().Add(-time.Minute), End: time.Now().Add(time.Minute)})
	if k := p.Decide("notifications", send, nil); k != faults.SESOutage {
		t.Fatalf("in the outage: %q", k)
	}
	// A window holds from its start to just before its end.
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for at, want := range map[time.Duration]bool{-time.Second: false, 0: true, 59 * time.Second: true, time.Minute: false} {
		if got := (faults.Window{Start: t0, End: t0.Add(time.Minute)}).Contains(t0.Add(at)); got != want {
			t.Errorf("Contains(start%+v) = %v, want %v", at, got, want)
		}
	}
	p.Stop()
	if k := p.Decide("notifications", send, nil); k != "" {
		t.Fatalf("after Stop: %q", k)
	}
}

func TestPlanLimit(t *testing.T) {
	t.Parallel()
	p := faults.NewPlan(1, faults.Rates{faults.SQSSendFailure: 1})
	p.Start()
	p.Limit("relay", "SendMessageBatch", 2)
	body := []byte(`{"Entries":[1]}`)
	got := []faults.Kind{p.Decide("relay", batch, body), p.Decide("relay", batch, body), p.Decide("relay", batch, body)}
	if got[0] != faults.SQSSendFailure || got[1] != faults.SQSSendFailure || got[2] != "" {
		t.Fatalf("three attempts of one batch met %q: want two faults, then through", got)
	}
	if k := p.Decide("relay", batch, []byte(`{"Entries":[2]}`)); k != faults.SQSSendFailure {
		t.Fatalf("another batch met %q", k)
	}
}
