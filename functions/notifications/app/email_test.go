package app_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/serverless-shop/backend/functions/notifications/app"
	shared "github.com/serverless-shop/backend/shared/events"
)

// TestHandleEmail checks the email handed to the sender and its tags.
func TestHandleEmail(t *testing.T) {
	tests := []struct {
		name        string
		fixture     string
		wantSubject string
		wantType    string
	}{
		{name: "order created", fixture: "order_created.json", wantSubject: "Order ord-1 confirmed: $1,279.55", wantType: shared.OrderCreated},
		{name: "order cancelled", fixture: "order_cancelled.json", wantSubject: "Order ord-1 cancelled", wantType: shared.OrderCancelled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := &world{}
			body := eventBody(t, tc.fixture, "evt-1", "ord-1")
			e, err := shared.ParseOrder([]byte(body))
			if err != nil {
				t.Fatal(err)
			}
			records := []events.SQSMessage{message("m1", "ord-1", 1, body)}
			if _, err := w.handler(t).Handle(context.Background(), events.SQSEvent{Records: records}); err != nil {
				t.Fatal(err)
			}
			if len(w.sent) != 1 {
				t.Fatalf("sent %d emails, want 1", len(w.sent))
			}
			got := w.sent[0]
			if got.email.To != e.Customer.Email {
				t.Errorf("To = %q, want %q", got.email.To, e.Customer.Email)
			}
			if got.email.Subject != tc.wantSubject {
				t.Errorf("Subject = %q, want %q", got.email.Subject, tc.wantSubject)
			}
			if !strings.Contains(got.email.Text, e.Customer.Name) || !strings.Contains(got.email.HTML, e.Customer.Name) {
				t.Errorf("email parts do not greet %q", e.Customer.Name)
			}
			wantTags := []app.Tag{{Name: "eventType", Value: tc.wantType}, {Name: "correlationId", Value: "corr-evt-1"}}
			if !slices.Equal(got.tags, wantTags) {
				t.Errorf("tags = %+v, want %+v", got.tags, wantTags)
			}
		})
	}
}
