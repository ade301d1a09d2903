package faults_test

import (
	"testing"
	"time"

	"github.com/serverless-shop/backend/internal/faults"
)

var (
	transact = faults.Call{Service: "dynamodb", Operation: "TransactWriteItems"}
	send     = faults.Call{Service: "ses", Operation: "SendEmail"}
	batch    = faults.Call{Service: "sqs", Operation: "SendMessageBatch"}
)

func draw(p *faults.Plan, n int, role string, c faults.Call) []faults.Kind {
	out := make([]faults.Kind, n)
	for i := range out {
		out[i] = p.Decide(role, c, []byte{byte(i), byte(i >> 8)})
	}
	return out
}

func TestPlanRepeatsItsSeed(t *testing.T) {
	t.Parallel()
	a, b := faults.NewPlan(42, faults.DefaultRates), faults.NewPlan(42, faults.DefaultRates)
	a.Start()
	b.Start()
	x, y := draw(a, 500, "orders", transact), draw(b, 500, "orders", transact)
	for i := range x {
		if x[i] != y[i] {
			t.Fatalf("call %d: %q and %q from the same seed", i, x[i], y[i])
		}
	}
	c := faults.NewPlan(43, faults.DefaultRates)
	c.Start()
	z := draw(c, 500, "orders", transact)
	same := 0
	for i := range x {
		if x[i] == z[i] {
			same++
		}
	}
	if same == len(x) {
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
	p.Start()
	allowed := map[string]map[faults.Kind]bool{
		"orders transact":    {"": true, faults.DynamoThrottling: true, faults.TransactionCancel: true, faults.KilledAfterWrite: true, faults.ResponseLost: true},
		"users transact":     {"": true, faults.DynamoThrottling: true, faults.TransactionCancel: true, faults.ResponseLost: true},
		"notifications send": {"": true, faults.SESThrottling: true, faults.SESRejection: true, faults.KilledAfterSES: true},
		"relay batch":        {"": true, faults.SQSSendFailure: true, faults.ResponseLost: true},
	}
	calls := map[string]struct {
		role string
		c    faults.Call
	}{
		"orders transact": {"orders", transact}, "users transact": {"users", transact},
		"notifications send": {"notifications", send}, "relay batch": {"relay", batch},
	}
	for name, rc := range calls {
		seen := map[faults.Kind]int{}
		for _, k := range draw(p, 2000, rc.role, rc.c) {
			if !allowed[name][k] {
				t.Fatalf("%s: drew %q", name, k)
			}
			seen[k]++
		}
		if len(seen) != len(allowed[name]) {
			t.Fatalf("%s: drew %v, want each of %v", name, seen, allowed[name])
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

func TestWindow(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	w := faults.Window{Start: t0, End: t0.Add(time.Minute)}
	for at, want := range map[time.Duration]bool{-time.Second: false, 0: true, 59 * time.Second: true, time.Minute: false} {
		if got := w.Contains(t0.Add(at)); got != want {
			t.Errorf("Contains(start%+v) = %v, want %v", at, got, want)
		}
	}
}
