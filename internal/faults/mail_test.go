package faults_test

import (
	"encoding/json"
	"testing"

	"github.com/serverless-shop/backend/internal/faults"
)

func TestMailOf(t *testing.T) {
	t.Parallel()
	for subject, want := range map[string]faults.MailKey{
		"Order O1 confirmed: €12.50":                 key("O1", faults.Placed),
		"Order O1 is being prepared":                 key("O1", faults.Confirmed),
		"Order O1 shipped: DHL 00340434161094042557": key("O1", faults.Shipped),
		"Order O1 delivered":                         key("O1", faults.Delivered),
		"Order O1 cancelled":                         key("O1", faults.Cancelled),
		"Order O1 cancelled by the shop":             key("O1", faults.ShopCancelled),
	} {
		if got, ok := faults.MailOf(subject); !ok || got != want {
			t.Errorf("MailOf(%q) = %v, %v; want %v", subject, got, ok, want)
		}
	}
	for _, subject := range []string{
		"Confirm your email address", "Reset your password", "Order O1 cancelled by the shop!", "Order O1 delivered late", "Order  shipped: X 1",
	} {
		if got, ok := faults.MailOf(subject); ok {
			t.Errorf("MailOf(%q) = %v, want no order email", subject, got)
		}
	}
}

func TestEventMail(t *testing.T) {
	t.Parallel()
	event := func(typ, cancelledBy string) []byte {
		b, _ := json.Marshal(map[string]any{"type": typ, "version": 1, "order": map[string]any{"id": "O1"}, "cancelledBy": cancelledBy})
		return b
	}
	for _, tc := range []struct {
		body []byte
		want string // "" for none
	}{
		{event("order.created", ""), faults.Placed},
		{event("order.confirmed", ""), faults.Confirmed},
		{event("order.shipped", ""), faults.Shipped},
		{event("order.delivered", ""), faults.Delivered},
		{event("order.cancelled", ""), faults.Cancelled},
		{event("order.cancelled", "customer"), faults.Cancelled},
		{event("order.cancelled", "staff"), faults.ShopCancelled},
		{event("order.refunded", ""), ""},
		{event("account.verification_requested", ""), ""},
		{[]byte(`{"type":"order.created"}`), ""},
		{[]byte(`not json`), ""},
	} {
		got, ok := faults.EventMail(tc.body)
		if tc.want == "" {
			if ok {
				t.Errorf("EventMail(%s) = %v, want none", tc.body, got)
			}
		} else if !ok || got != key("O1", tc.want) {
			t.Errorf("EventMail(%s) = %v, %v; want %v", tc.body, got, ok, key("O1", tc.want))
		}
	}
}
