package contract_test

import (
	"testing"
	"time"

	"github.com/serverless-shop/backend/functions/notifications/app"
)

// TestEventsQueueRetryBudget checks the events queue of template.yaml
// against the notification function's retry budget: the redrive's
// maxReceiveCount is the one the budget is computed with, the queue keeps
// a message far longer than the budget, and its visibility timeout covers
// the function's.
func TestEventsQueueRetryBudget(t *testing.T) {
	_, byID := resources(t)
	props := mapping(byID["OrderEventsQueue"], "Properties")
	if props == nil {
		t.Fatal("template.yaml has no OrderEventsQueue")
	}
	receives := number(t, mapping(mapping(props, "RedrivePolicy"), "maxReceiveCount"))
	if receives != app.MaxReceiveCount {
		t.Errorf("OrderEventsQueue maxReceiveCount = %d, app.MaxReceiveCount = %d: the retry budget is computed with the latter", receives, app.MaxReceiveCount)
	}
	retention := time.Duration(number(t, mapping(props, "MessageRetentionPeriod"))) * time.Second
	if retention < 24*app.RetryBudget() {
		t.Errorf("OrderEventsQueue keeps messages %v, want far longer than the retry budget %v", retention, app.RetryBudget())
	}
	visibility := time.Duration(number(t, mapping(props, "VisibilityTimeout"))) * time.Second
	fnTimeout := timeout(t, byID["NotificationsFunction"])
	if visibility < 6*fnTimeout {
		t.Errorf("OrderEventsQueue VisibilityTimeout %v, want at least six times the function's timeout %v (AWS Lambda's advice for SQS)", visibility, fnTimeout)
	}
}
