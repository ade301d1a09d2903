// Package mail renders the emails the notification service sends, for order
// events and account events, with a text and an HTML part. The layouts are
// written in Go rather than text/template and html/template: those packages
// call methods by reflection, which makes the linker keep every exported
// method of every type in the binary (the DynamoDB and SESv2 clients
// included) and made the function twice the size of the others. Every value
// taken from an event goes into the HTML part through escapeHTML or
// escapeURLAttr, which escape as html/template did for the same contexts; a
// test renders the former templates (testdata/templates) with html/template
// and compares.
package mail

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/serverless-shop/backend/shared/events"
	"github.com/serverless-shop/backend/shared/text"
)

// TemplateVersion is the version of the email layouts in use. Layouts of a
// new version are written beside the old ones, so a change can be rolled
// back.
const TemplateVersion = "v2"

// Email is a rendered message.
type Email struct {
	To      string
	Subject string
	Text    string
	HTML    string
}

// Renderer renders emails for order and account events.
type Renderer struct {
	order   map[string]func(view) parts
	account map[string]func(accountView) parts
}

// parts are the three parts of one email, before the subject is made one
// line.
type parts struct{ subject, text, html string }

// Event types by the renderer method that takes them: an event of one kind
// must never be rendered with a layout written for the other's view.
var (
	orderTypes   = []string{events.OrderCreated, events.OrderCancelled}
	accountTypes = []string{events.AccountVerificationRequested, events.AccountPasswordResetRequested}
)

// NewRenderer returns the renderer of TemplateVersion. It cannot fail
// today; the error stays for layouts that need checking when loaded.
func NewRenderer() (*Renderer, error) {
	return &Renderer{
		order: map[string]func(view) parts{
			events.OrderCreated:   orderCreated,
			events.OrderCancelled: orderCancelled,
		},
		account: map[string]func(accountView) parts{
			events.AccountVerificationRequested:  verificationRequested,
			events.AccountPasswordResetRequested: passwordResetRequested,
		},
	}, nil
}

// view is what the order layouts see.
type view struct {
	Name       string
	OrderID    string
	Lines      []events.Line
	Total      int64
	Currency   string
	OccurredAt string
}

// Render renders the email for an order event. The event must be valid.
func (r *Renderer) Render(e events.OrderEvent) (Email, error) {
	v := view{
		Name: greetingName(e.Customer.Name), OrderID: e.Order.ID, Lines: e.Order.Items, Total: e.Order.Total,
		Currency: e.Order.Currency, OccurredAt: formatTime(e.OccurredAt),
	}
	f, ok := r.order[e.Type]
	if !ok || !slices.Contains(orderTypes, e.Type) {
		return Email{}, fmt.Errorf("render: no template for %q", e.Type)
	}
	return finish(e.Customer.Email, f(v)), nil
}

// finish makes the email of p: a subject is one line, so no value from the
// event may add a header.
func finish(to string, p parts) Email {
	return Email{To: to, Subject: strings.Join(strings.Fields(p.subject), " "), Text: p.text, HTML: p.html}
}

// htmlHead starts an HTML part with its title, escaped.
func htmlHead(title string) string {
	return "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>" + title +
		"</title></head>\n<body style=\"font-family: sans-serif; color: #222;\">\n"
}

const htmlTail = "</body>\n</html>\n"

func orderCreated(v view) parts {
	money := func(n int64) string { return FormatMoney(n, v.Currency) }
	var t, h strings.Builder
	t.WriteString("Hello " + v.Name + ",\n\n" +
		"Thank you for your order. We have received it and will let you know when it ships.\n\n" +
		"Order: " + v.OrderID + "\nPlaced: " + v.OccurredAt + "\n\n")
	for _, l := range v.Lines {
		t.WriteString("  " + strconv.Itoa(l.Quantity) + " x " + l.Name + " (" + l.SKU + ") at " + money(l.UnitPrice) + " = " + money(l.LineTotal) + "\n")
	}
	t.WriteString("\nTotal: " + money(v.Total) + "\n\nIf you did not place this order, reply to this email.\n")

	id := escapeHTML(v.OrderID)
	h.WriteString(htmlHead("Order "+id+" confirmed") +
		"<p>Hello " + escapeHTML(v.Name) + ",</p>\n" +
		"<p>Thank you for your order. We have received it and will let you know when it ships.</p>\n" +
		"<p><strong>Order:</strong> " + id + "<br><strong>Placed:</strong> " + escapeHTML(v.OccurredAt) + "</p>\n" +
		"<table cellpadding=\"6\" style=\"border-collapse: collapse;\">\n" +
		"<thead><tr><th align=\"left\">Item</th><th align=\"left\">SKU</th><th align=\"right\">Qty</th><th align=\"right\">Unit price</th><th align=\"right\">Amount</th></tr></thead>\n" +
		"<tbody>\n")
	for _, l := range v.Lines {
		h.WriteString("<tr><td>" + escapeHTML(l.Name) + "</td><td>" + escapeHTML(l.SKU) + "</td><td align=\"right\">" + strconv.Itoa(l.Quantity) +
			"</td><td align=\"right\">" + escapeHTML(money(l.UnitPrice)) + "</td><td align=\"right\">" + escapeHTML(money(l.LineTotal)) + "</td></tr>\n")
	}
	h.WriteString("</tbody>\n" +
		"<tfoot><tr><td colspan=\"4\" align=\"right\"><strong>Total</strong></td><td align=\"right\"><strong>" + escapeHTML(money(v.Total)) + "</strong></td></tr></tfoot>\n" +
		"</table>\n<p>If you did not place this order, reply to this email.</p>\n" + htmlTail)
	return parts{subject: "Order " + v.OrderID + " confirmed: " + money(v.Total), text: t.String(), html: h.String()}
}

func orderCancelled(v view) parts {
	money := func(n int64) string { return FormatMoney(n, v.Currency) }
	var t, h strings.Builder
	t.WriteString("Hello " + v.Name + ",\n\nYour order " + v.OrderID + " has been cancelled on " + v.OccurredAt + ".\n\n")
	for _, l := range v.Lines {
		t.WriteString("  " + strconv.Itoa(l.Quantity) + " x " + l.Name + " (" + l.SKU + ") = " + money(l.LineTotal) + "\n")
	}
	t.WriteString("\nAmount not charged: " + money(v.Total) + "\n\nIf you did not cancel this order, reply to this email.\n")

	id := escapeHTML(v.OrderID)
	h.WriteString(htmlHead("Order "+id+" cancelled") +
		"<p>Hello " + escapeHTML(v.Name) + ",</p>\n" +
		"<p>Your order <strong>" + id + "</strong> has been cancelled on " + escapeHTML(v.OccurredAt) + ".</p>\n" +
		"<table cellpadding=\"6\" style=\"border-collapse: collapse;\">\n<tbody>\n")
	for _, l := range v.Lines {
		h.WriteString("<tr><td>" + strconv.Itoa(l.Quantity) + " &times; " + escapeHTML(l.Name) + " (" + escapeHTML(l.SKU) + ")</td><td align=\"right\">" + escapeHTML(money(l.LineTotal)) + "</td></tr>\n")
	}
	h.WriteString("</tbody>\n" +
		"<tfoot><tr><td align=\"right\"><strong>Amount not charged</strong></td><td align=\"right\"><strong>" + escapeHTML(money(v.Total)) + "</strong></td></tr></tfoot>\n" +
		"</table>\n<p>If you did not cancel this order, reply to this email.</p>\n" + htmlTail)
	return parts{subject: "Order " + v.OrderID + " cancelled", text: t.String(), html: h.String()}
}

// greetingName is the name to greet: the name as text.Name reads it
// (trimmed and in NFC), or "customer" when the event has none, or one that
// fails today's rules (a name stored under older ones is checked nowhere
// else on its way here).
func greetingName(name string) string {
	if name, ok := text.Name(name); ok {
		return name
	}
	return "customer"
}

// formatTime is how the emails show an instant.
func formatTime(t time.Time) string { return t.UTC().Format(time.RFC1123) }
