package app_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/serverless-shop/backend/functions/notifications/app"
)

// rejectionBatchCases check that an email SES refuses for good is recorded
// and never retried, and that recording failures do not resend an email.
var rejectionBatchCases = []batchCase{
	{
		name: "permanent rejection",
		records: func(t *testing.T) []events.SQSMessage {
			return []events.SQSMessage{
				message("m1", "ord-1", 1, eventBody(t, "order_created.json", "evt-1", "ord-1")),
				message("m2", "ord-1", 1, eventBody(t, "order_cancelled.json", "evt-2", "ord-1")),
				message("m3", "ord-3", 1, eventBody(t, "order_created.json", "evt-3", "ord-3")),
			}
		},
		setup: func(w *world) { w.sendErr = map[string]error{"ord-3": errRejected} },
		want: batchWant{
			claimed:  []string{"evt-1", "evt-2", "evt-3"},
			sent:     []string{"ord-1", "ord-1", "ord-3"},
			finished: map[string]string{"evt-1": app.Sent, "evt-2": app.Sent, "evt-3": app.Rejected},
			metrics:  map[string]float64{app.MetricSent: 2, app.MetricRejected: 1},
		},
	},
	{
		name: "recording fails after the email is out",
		records: func(t *testing.T) []events.SQSMessage {
			return []events.SQSMessage{
				message("m1", "ord-1", 1, eventBody(t, "order_created.json", "evt-1", "ord-1")),
				message("m2", "ord-2", 1, eventBody(t, "order_created.json", "evt-2", "ord-2")),
			}
		},
		setup: func(w *world) {
			w.finishErr = errThrottled
			w.sendErr = map[string]error{"ord-2": errRejected}
		},
		want: batchWant{
			claimed:  []string{"evt-1", "evt-2"},
			sent:     []string{"ord-1", "ord-2"},
			finished: map[string]string{"evt-1": app.Sent, "evt-2": app.Rejected},
			metrics:  map[string]float64{app.MetricSent: 1, app.MetricRejected: 1},
		},
	},
}

// TestHandleRejectionRecorded checks what a permanent rejection records.
func TestHandleRejectionRecorded(t *testing.T) {
	errRejected := fmt.Errorf("%w: MessageRejected: address on suppression list", app.ErrPermanent)
	w := &world{sendErr: map[string]error{"ord-1": errRejected}}
	records := []events.SQSMessage{message("m1", "ord-1", 1, eventBody(t, "order_created.json", "evt-1", "ord-1"))}
	if _, err := w.handler(t).Handle(context.Background(), events.SQSEvent{Records: records}); err != nil {
		t.Fatal(err)
	}
	want := []finish{{eventID: "evt-1", owner: "owner-1", status: app.Rejected, detail: errRejected.Error()}}
	if !slices.Equal(w.finishes, want) {
		t.Errorf("finishes = %+v, want %+v", w.finishes, want)
	}
	if len(w.releases) != 0 || len(w.visibility) != 0 || len(w.dlq) != 0 {
		t.Errorf("rejection released %v, changed visibility of %d, moved %d; want none", w.releases, len(w.visibility), len(w.dlq))
	}
}
