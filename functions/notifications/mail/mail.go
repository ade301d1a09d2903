// Package mail renders the emails the notification service sends, for order
// events and account events, with a text and an HTML part. The layouts are
// data (layouts/<version>/<type>.{subject,txt,html}.tmpl), written in the
// syntax of text/template and html/template but filled here by plain
// substitution of the few values they name: those packages call methods by
// reflection, which makes the linker keep every exported method of every
// type in the binary (the DynamoDB and SESv2 clients included) and made the
// function twice the size of the others. Every value taken from an event
// goes into the HTML part through escapeHTML, or escapeURLAttr in an href,
// which escape as html/template does in those contexts; a test renders the
// same files with text/template and html/template and compares. Besides the
// values, a layout may hold one {{range .Lines}}...{{end}}, the row repeated
// for every order line, and, outside it, {{if .Field}}...{{end}} blocks
// (not nested), kept when the value is not empty.
package mail

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
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

//go:embed layouts
var layoutFiles embed.FS

// Renderer renders emails for order and account events.
type Renderer struct {
	layouts map[string]layout // by event type
}

// Event types by the renderer method that takes them: an event of one kind
// must never be rendered with a layout written for the other's view.
var (
	orderTypes   = []string{events.OrderCreated, events.OrderConfirmed, events.OrderShipped, events.OrderDelivered, events.OrderCancelled}
	accountTypes = []string{events.AccountVerificationRequested, events.AccountPasswordResetRequested}
)

// cancelledByShop is the layout of an order.cancelled that staff made: the
// customer learns that the shop cancelled, and why.
const cancelledByShop = "order.cancelled_by_shop"

// layout is an event type's subject, text and HTML layout files, each cut
// around the row it repeats for every order line.
type layout [3]struct{ head, row, tail string }

// NewRenderer returns the renderer of TemplateVersion's layouts. They are
// compiled in: one missing is a broken build, which fails every test of
// this package, and NewRenderer panics then.
func NewRenderer() *Renderer { return newRenderer(layoutFiles) }

func newRenderer(files fs.FS) *Renderer {
	r := &Renderer{layouts: map[string]layout{}}
	for _, typ := range slices.Concat(orderTypes, []string{cancelledByShop}, accountTypes) {
		var l layout
		for i, ext := range []string{"subject", "txt", "html"} {
			b, err := fs.ReadFile(files, path.Join("layouts", TemplateVersion, typ+"."+ext+".tmpl"))
			if err != nil {
				panic(fmt.Sprintf("mail layouts: %v", err))
			}
			head, rest, _ := strings.Cut(string(b), "{{range .Lines}}")
			row, tail, _ := strings.Cut(rest, "{{end}}")
			l[i].head, l[i].row, l[i].tail = head, row, tail
		}
		r.layouts[typ] = l
	}
	return r
}

// fill renders the email to to of l with vars, the values by placeholder
// ("{{.Name}}"), and with each of rows (values by placeholder too) in its
// parts' row. The HTML part takes every value escaped, and a value in an
// href as a URL; the subject is made one line, so no value from the event
// may add a header.
func (l layout) fill(to string, vars map[string]string, rows ...map[string]string) Email {
	var out [3]strings.Builder
	for i, p := range l {
		each := replacer(vars, i == 2) // the HTML part
		out[i].WriteString(each.Replace(choose(p.head, vars)))
		for _, row := range rows {
			out[i].WriteString(replacer(row, i == 2).Replace(p.row))
		}
		out[i].WriteString(each.Replace(choose(p.tail, vars)))
	}
	return Email{To: to, Subject: strings.Join(strings.Fields(out[0].String()), " "), Text: out[1].String(), HTML: out[2].String()}
}

// choose resolves the {{if .Field}}...{{end}} blocks of s, a part of a
// layout before its values are filled in: it keeps a block's text when vars
// give {{.Field}} a value that is not empty and drops it otherwise, as
// text/template's if does with a string. Blocks do not nest.
func choose(s string, vars map[string]string) string {
	var b strings.Builder
	for {
		before, rest, ok := strings.Cut(s, "{{if ")
		if !ok {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(before)
		field, rest, _ := strings.Cut(rest, "}}")
		body, after, _ := strings.Cut(rest, "{{end}}")
		if vars["{{"+field+"}}"] != "" {
			b.WriteString(body)
		}
		s = after
	}
}

// replacer replaces each placeholder of vars with its value, escaped for
// HTML when html is set. It scans a layout once: a value is never read as
// a placeholder. No placeholder begins another, so the order of vars does
// not matter.
func replacer(vars map[string]string, html bool) *strings.Replacer {
	var pairs []string
	for name, value := range vars {
		if html {
			pairs = append(pairs, `href="`+name+`"`, `href="`+escapeURLAttr(value)+`"`)
			value = escapeHTML(value)
		}
		pairs = append(pairs, name, value)
	}
	return strings.NewReplacer(pairs...)
}

// Render renders the email for an order event: one layout per type, and a
// cancellation by staff in the shop's own, with its reason. The event must
// be valid (a shipped order has its shipment).
func (r *Renderer) Render(e events.OrderEvent) (Email, error) {
	if !slices.Contains(orderTypes, e.Type) {
		return Email{}, fmt.Errorf("render: no template for %q", e.Type)
	}
	money := func(n int64) string { return FormatMoney(n, e.Order.Currency) }
	vars := map[string]string{"{{.Name}}": greetingName(e.Customer.Name), "{{.OrderID}}": e.Order.ID,
		"{{.OccurredAt}}": formatTime(e.OccurredAt), "{{money .Total .Currency}}": money(e.Order.Total)}
	layout := e.Type
	switch {
	case e.Type == events.OrderShipped && e.Order.Shipment == nil:
		return Email{}, fmt.Errorf("render: %s without a shipment", e.Type)
	case e.Type == events.OrderShipped:
		// The shipment, and its tracking page ("" when the carrier is
		// unknown).
		s := e.Order.Shipment
		vars["{{.Carrier}}"], vars["{{.TrackingNumber}}"], vars["{{.TrackingURL}}"] = s.Carrier, s.TrackingNumber, TrackingURL(s.Carrier, s.TrackingNumber)
	case e.ByStaff():
		layout, vars["{{.Reason}}"] = cancelledByShop, e.Reason
	}
	var rows []map[string]string
	for _, line := range e.Order.Items {
		rows = append(rows, map[string]string{"{{.Quantity}}": strconv.Itoa(line.Quantity), "{{.Name}}": line.Name, "{{.SKU}}": line.SKU,
			"{{money .UnitPrice $.Currency}}": money(line.UnitPrice), "{{money .LineTotal $.Currency}}": money(line.LineTotal)})
	}
	return r.layouts[layout].fill(e.Customer.Email, vars, rows...), nil
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

// htmlEscaper escapes s for HTML text, <title> and a quoted attribute
// value: the replacements html/template makes in those contexts, so the
// HTML part reads exactly as it did when html/template rendered it. '+' is
// escaped because html/template does (against UTF-7 sniffing); NUL becomes
// U+FFFD as HTML5 parsers would. Every special is one ASCII byte, which
// never occurs inside a multi-byte sequence, so invalid UTF-8 is kept as
// it is, as html/template keeps it.
var htmlEscaper = strings.NewReplacer("\x00", "\uFFFD", `"`, "&#34;", "&", "&amp;", "'", "&#39;", "+", "&#43;", "<", "&lt;", ">", "&gt;")

// escapeHTML escapes s for HTML text, <title> and a quoted attribute value
// (see htmlEscaper).
func escapeHTML(s string) string { return htmlEscaper.Replace(s) }

// unsafeURL replaces a URL whose scheme is not http, https or mailto, as
// html/template does: a javascript: link never reaches an href.
const unsafeURL = "#ZgotmplZ"

// escapeURLAttr makes s the value of a quoted href attribute the way
// html/template does: an unsafe scheme is refused, the URL is normalised
// (every byte outside RFC 3986's unreserved and reserved sets, and a %
// that does not start an escape, percent-encoded) and the result escaped
// for the attribute.
func escapeURLAttr(s string) string {
	if scheme, _, ok := strings.Cut(s, ":"); ok && !strings.Contains(scheme, "/") &&
		!strings.EqualFold(scheme, "http") && !strings.EqualFold(scheme, "https") && !strings.EqualFold(scheme, "mailto") {
		s = unsafeURL
	}
	return escapeHTML(normalizeURL(s))
}

// urlKept are the bytes a URL keeps as they are: RFC 3986's unreserved and
// reserved sets, as html/template keeps them.
const urlKept = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!#$&*+,/:;=?@[]"

func normalizeURL(s string) string {
	const hex = "0123456789abcdefABCDEF" // lower case first: what it writes
	var b strings.Builder
	written := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if strings.IndexByte(urlKept, c) >= 0 || c == '%' && i+2 < len(s) && strings.Trim(s[i+1:i+3], hex) == "" {
			continue
		}
		b.WriteString(s[written:i])
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
		written = i + 1
	}
	b.WriteString(s[written:])
	return b.String()
}
