package faults

import (
	"encoding/json"
	"regexp"
)

// What an order email is about, as MailKey.What names it: the order placed
// (order.created), each staff transition of its life cycle, and either
// cancellation.
const (
	Placed        = "placed"         // order.created: "Order <id> confirmed: <total>"
	Confirmed     = "confirmed"      // order.confirmed: "Order <id> is being prepared"
	Shipped       = "shipped"        // order.shipped: "Order <id> shipped: <carrier> <tracking number>"
	Delivered     = "delivered"      // order.delivered: "Order <id> delivered"
	Cancelled     = "cancelled"      // order.cancelled by the customer: "Order <id> cancelled"
	ShopCancelled = "shop-cancelled" // order.cancelled by staff: "Order <id> cancelled by the shop"
)

// Whats lists what order emails are about, in the order the account
// prints them.
var Whats = []string{Placed, Confirmed, Shipped, Delivered, Cancelled, ShopCancelled}

// StaffWhats are the emails of staff's transitions: what the campaign's
// staff acknowledged transitions must each cause once.
var StaffWhats = []string{Confirmed, Shipped, Delivered, ShopCancelled}

// subjects tell the order emails apart by their subject (the layouts of
// functions/notifications/mail); the shop's cancellation is tried before
// the customer's, whose subject it extends.
var subjects = []struct {
	re   *regexp.Regexp
	what string
}{
	{regexp.MustCompile(`^Order (\S+) confirmed: `), Placed},
	{regexp.MustCompile(`^Order (\S+) is being prepared$`), Confirmed},
	{regexp.MustCompile(`^Order (\S+) shipped: `), Shipped},
	{regexp.MustCompile(`^Order (\S+) delivered$`), Delivered},
	{regexp.MustCompile(`^Order (\S+) cancelled by the shop$`), ShopCancelled},
	{regexp.MustCompile(`^Order (\S+) cancelled$`), Cancelled},
}

// MailOf names the order email whose subject is subject; false for any
// other email.
func MailOf(subject string) (MailKey, bool) {
	for _, s := range subjects {
		if m := s.re.FindStringSubmatch(subject); m != nil {
			return MailKey{OrderID: m[1], What: s.what}, true
		}
	}
	return MailKey{}, false
}

// eventWhats are the emails of the order event types (order.cancelled by
// staff aside).
var eventWhats = map[string]string{
	"order.created": Placed, "order.confirmed": Confirmed, "order.shipped": Shipped,
	"order.delivered": Delivered, "order.cancelled": Cancelled,
}

// EventMail names the email an order event asks for, from the event's JSON
// (shared/events: type, order.id, and cancelledBy "staff" on the shop's
// cancellation); false for anything else.
func EventMail(body []byte) (MailKey, bool) {
	var e struct {
		Type        string `json:"type"`
		CancelledBy string `json:"cancelledBy"`
		Order       struct {
			ID string `json:"id"`
		} `json:"order"`
	}
	if json.Unmarshal(body, &e) != nil || e.Order.ID == "" {
		return MailKey{}, false
	}
	return EventTypeMail(e.Order.ID, e.Type, e.CancelledBy)
}

// EventTypeMail names the email of an event of type eventType on order id,
// cancelledBy as order.cancelled says; false for a type that mails none.
func EventTypeMail(id, eventType, cancelledBy string) (MailKey, bool) {
	what, ok := eventWhats[eventType]
	if !ok {
		return MailKey{}, false
	}
	if what == Cancelled && cancelledBy == "staff" {
		what = ShopCancelled
	}
	return MailKey{OrderID: id, What: what}, true
}
