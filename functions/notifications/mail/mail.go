// Package mail renders the emails the notification service sends, for order
// events and account events, from versioned templates with a text and an
// HTML part. The HTML part is rendered by html/template, which escapes every
// value taken from an event according to its context.
package mail

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"slices"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/serverless-shop/backend/shared/events"
)

// TemplateVersion is the version of the email templates in use. Templates of
// a new version live beside the old ones, so a change can be rolled back.
const TemplateVersion = "v1"

//go:embed templates
var templateFS embed.FS

// Email is a rendered message.
type Email struct {
	To      string
	Subject string
	Text    string
	HTML    string
}

// Renderer renders emails for order and account events.
type Renderer struct {
	templates map[string]templates // by event type
}

// templates are the three parts of one event type's email.
type templates struct {
	subject *texttemplate.Template
	text    *texttemplate.Template
	html    *htmltemplate.Template
}

var funcs = map[string]any{"money": FormatMoney}

// Event types by the renderer method that takes them: an event of one kind
// must never be rendered with a template written for the other's view.
var (
	orderTypes   = []string{events.OrderCreated, events.OrderCancelled}
	accountTypes = []string{events.AccountVerificationRequested, events.AccountPasswordResetRequested}
)

// NewRenderer parses the templates of TemplateVersion.
func NewRenderer() (*Renderer, error) {
	r := &Renderer{templates: map[string]templates{}}
	for _, typ := range slices.Concat(orderTypes, accountTypes) {
		base := "templates/" + TemplateVersion + "/" + typ
		var t templates
		var err error
		if t.subject, err = texttemplate.New("subject").Funcs(funcs).ParseFS(templateFS, base+".subject.tmpl"); err != nil {
			return nil, fmt.Errorf("parse %s subject: %w", typ, err)
		}
		if t.text, err = texttemplate.New("text").Funcs(funcs).ParseFS(templateFS, base+".txt.tmpl"); err != nil {
			return nil, fmt.Errorf("parse %s text: %w", typ, err)
		}
		if t.html, err = htmltemplate.New("html").Funcs(funcs).ParseFS(templateFS, base+".html.tmpl"); err != nil {
			return nil, fmt.Errorf("parse %s html: %w", typ, err)
		}
		r.templates[typ] = t
	}
	return r, nil
}

// view is what the order templates see.
type view struct {
	Event      events.OrderEvent
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
		Event: e, Name: greetingName(e.Customer.Name), OrderID: e.Order.ID, Lines: e.Order.Items, Total: e.Order.Total,
		Currency: e.Order.Currency, OccurredAt: formatTime(e.OccurredAt),
	}
	return r.render(orderTypes, e.Type, e.Customer.Email, v)
}

// render executes the templates of typ, which must be one of kind, with v.
func (r *Renderer) render(kind []string, typ, to string, v any) (Email, error) {
	t, ok := r.templates[typ]
	if !ok || !slices.Contains(kind, typ) {
		return Email{}, fmt.Errorf("render: no template for %q", typ)
	}
	var s, txt, h bytes.Buffer
	if err := t.subject.ExecuteTemplate(&s, typ+".subject.tmpl", v); err != nil {
		return Email{}, fmt.Errorf("render subject: %w", err)
	}
	if err := t.text.ExecuteTemplate(&txt, typ+".txt.tmpl", v); err != nil {
		return Email{}, fmt.Errorf("render text: %w", err)
	}
	if err := t.html.ExecuteTemplate(&h, typ+".html.tmpl", v); err != nil {
		return Email{}, fmt.Errorf("render html: %w", err)
	}
	// A subject is one line: no value from the event may add a header.
	subject := strings.Join(strings.Fields(s.String()), " ")
	return Email{To: to, Subject: subject, Text: txt.String(), HTML: h.String()}, nil
}

// greetingName is the name to greet: the trimmed name, or "customer" when
// the event has none.
func greetingName(name string) string {
	if name = strings.TrimSpace(name); name == "" {
		return "customer"
	}
	return name
}

// formatTime is how the emails show an instant.
func formatTime(t time.Time) string { return t.UTC().Format(time.RFC1123) }
