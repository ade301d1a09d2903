//go:build integration

package app_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/serverless-shop/backend/functions/notifications/app"
	"github.com/serverless-shop/backend/internal/testcloud"
)

// TestSESOutageOutlastsTheOldRedrive sends one valid event while SES
// throttles every send, and one poison message, through a real FIFO queue
// whose redrive policy moves messages to a real dead-letter queue. The
// handler's visibility changes are scaled down to 1 s (rigOptions.
// fastBackoff), and what it asked for is summed at full scale.
//
// The old maxReceiveCount (5) dead-lettered the valid event after 155 s of
// SES outage (TestRetryBudgetCoversHalfAnHourOfSESOutage). With
// app.MaxReceiveCount it is received 10 times and is dead-lettered only
// after the handler has asked for at least 30 minutes
// of backoff: by the backoff schedule alone when the mail circuit never
// opens, and longer when it does (the circuit returns messages past its
// cool-down). The poison message is dead-lettered at its first receive,
// with its reason, every time.
func TestSESOutageOutlastsTheOldRedrive(t *testing.T) {
	tests := []struct {
		name        string
		failures    int           // the circuit's threshold
		wantAtLeast time.Duration // of backoff asked for before the DLQ
		wantBelow   time.Duration
	}{
		{name: "circuit never opens", failures: 1000, wantAtLeast: app.RetryBudget(), wantBelow: app.RetryBudget() * 6 / 5},
		{name: "circuit opens", failures: app.BreakerFailures, wantAtLeast: 30 * time.Minute, wantBelow: 24 * time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// A cool-down longer than the test keeps the circuit open once
			// it opened, so the count of SES calls is exact.
			r := newRig(t, rigOptions{fastBackoff: true, breaker: app.BreakerConfig{Failures: tc.failures, CoolDown: time.Hour}})
			r.sesOut.Store(true)
			run := runID()
			e := event(run, 1)
			r.sendOrder(e)
			r.send("g-poison-"+run, "poison-"+run, `{"type":"order.created","version":1,"id":"broken"`)

			receives := map[string]int{} // the highest ApproximateReceiveCount seen, by body kind
			deadline := time.Now().Add(3 * time.Minute)
			for testcloud.Depth(t, r.sqs, r.dlq).Visible < 2 || !testcloud.Depth(t, r.sqs, r.queue).Empty() {
				if time.Now().After(deadline) {
					t.Fatalf("after 3 min: queue %+v, dead-letter queue %+v, receives %v", testcloud.Depth(t, r.sqs, r.queue), testcloud.Depth(t, r.sqs, r.dlq), receives)
				}
				for _, m := range r.pollOnce() {
					n, _ := strconv.Atoi(m.Attributes[string(sqstypes.MessageSystemAttributeNameApproximateReceiveCount)])
					kind := "valid"
					if strings.Contains(aws.ToString(m.Body), `"broken"`) {
						kind = "poison"
					}
					receives[kind] = max(receives[kind], n)
				}
			}

			if receives["valid"] != app.MaxReceiveCount {
				t.Errorf("valid event received %d times before the dead-letter queue, want maxReceiveCount %d", receives["valid"], app.MaxReceiveCount)
			}
			if receives["poison"] != 1 {
				t.Errorf("poison received %d times, want 1 (dead-lettered at once)", receives["poison"])
			}
			asked := time.Duration(r.asked.Load())
			t.Logf("maxReceiveCount %d: received %d times, backoff asked for %v (%.1f min) before the dead-letter queue; SES calls %d; circuit turned back %d",
				app.MaxReceiveCount, receives["valid"], asked, asked.Minutes(), r.sesCalls.Load(), r.metricTotal(app.MetricCircuitOpen))
			if asked < tc.wantAtLeast || asked >= tc.wantBelow {
				t.Errorf("backoff asked for %v, want at least %v and below %v", asked, tc.wantAtLeast, tc.wantBelow)
			}
			if want := int64(min(app.MaxReceiveCount, tc.failures)); r.sesCalls.Load() != want {
				t.Errorf("SES called %d times, want %d (the circuit opens after %d failures)", r.sesCalls.Load(), want, tc.failures)
			}
			if got, want := r.metricTotal(app.MetricCircuitOpen), app.MaxReceiveCount-tc.failures; got != max(want, 0) {
				t.Errorf("circuit turned back %d receives, want %d", got, max(want, 0))
			}

			// The poison one and the one SES never took: the poison carries
			// its reason; the redriven one arrives as SQS moved it, without one.
			var reasons []string
			for _, m := range r.deadLetters(2, "") {
				reasons = append(reasons, aws.ToString(m.MessageAttributes[app.AttrPoisonReason].StringValue))
			}
			if !strings.Contains(strings.Join(reasons, "|"), "invalid event") {
				t.Errorf("dead-letter reasons %q, want the poison's", reasons)
			}
			if len(testcloud.MailTo(t, e.Customer.Email, e.Order.ID)) != 0 {
				t.Error("an email went out while SES was out")
			}
		})
	}
}
