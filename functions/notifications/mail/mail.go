// Package mail renders the emails the notification service sends for order
// events, from versioned templates with a text and an HTML part. The HTML
// part is rendered by html/template, which escapes every value taken from an
// event according to its context.
package mail

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
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

// Renderer renders emails for order events.
type Renderer struct {
	subject map[string]*texttemplate.Template
	text    map[string]*texttemplate.Template
	html    map[string]*htmltemplate.Template
}

var funcs = map[string]any{"money": FormatMoney}

// NewRenderer parses the templates of TemplateVersion.
func NewRenderer() (*Renderer, error) {
	r := &Renderer{subject: map[string]*texttemplate.Template{}, text: map[string]*texttemplate.Template{}, html: map[string]*htmltemplate.Template{}}
	for _, typ := range []string{events.OrderCreated, events.OrderCancelled} {
		base := "templates/" + TemplateVersion + "/" + typ
		var err error
		if r.subject[typ], err = texttemplate.New("subject").Funcs(funcs).ParseFS(templateFS, base+".subject.tmpl"); err != nil {
			return nil, fmt.Errorf("parse %s subject: %w", typ, err)
		}
		if r.text[typ], err = texttemplate.New("text").Funcs(funcs).ParseFS(templateFS, base+".txt.tmpl"); err != nil {
			return nil, fmt.Errorf("parse %s text: %w", typ, err)
		}
		if r.html[typ], err = htmltemplate.New("html").Funcs(funcs).ParseFS(templateFS, base+".html.tmpl"); err != nil {
			return nil, fmt.Errorf("parse %s html: %w", typ, err)
		}
	}
	return r, nil
}

// view is what the templates see.
type view struct {
	Event      events.OrderEvent
	Name       string
	OrderID    string
	Lines      []events.Line
	Total      int64
	Currency   string
	OccurredAt string
}

// Render renders the email for an event. The event must be valid.
func (r *Renderer) Render(e events.OrderEvent) (Email, error) {
	subj, ok := r.subject[e.Type]
	if !ok {
		return Email{}, fmt.Errorf("render: no template for %q", e.Type)
	}
	name := strings.TrimSpace(e.Customer.Name)
	if name == "" {
		name = "customer"
	}
	v := view{
		Event: e, Name: name, OrderID: e.Order.ID, Lines: e.Order.Items, Total: e.Order.Total, Currency: e.Order.Currency,
		OccurredAt: e.OccurredAt.UTC().Format(time.RFC1123),
	}
	var s, t, h bytes.Buffer
	if err := subj.ExecuteTemplate(&s, e.Type+".subject.tmpl", v); err != nil {
		return Email{}, fmt.Errorf("render subject: %w", err)
	}
	if err := r.text[e.Type].ExecuteTemplate(&t, e.Type+".txt.tmpl", v); err != nil {
		return Email{}, fmt.Errorf("render text: %w", err)
	}
	if err := r.html[e.Type].ExecuteTemplate(&h, e.Type+".html.tmpl", v); err != nil {
		return Email{}, fmt.Errorf("render html: %w", err)
	}
	// A subject is one line: no value from the event may add a header.
	subject := strings.Join(strings.Fields(s.String()), " ")
	return Email{To: e.Customer.Email, Subject: subject, Text: t.String(), HTML: h.String()}, nil
}
