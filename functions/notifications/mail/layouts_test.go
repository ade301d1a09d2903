package mail

import (
	"bytes"
	htmltemplate "html/template"
	"path"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	texttemplate "text/template"

	"github.com/serverless-shop/backend/shared/events"
)

// The layouts are filled without text/template and html/template (see the
// package comment). These tests render the layout files with those
// packages and require the same bytes from the renderer, for hostile values
// above all: html/template's escaping is the reference for the HTML part.

var templateFuncs = map[string]any{"money": FormatMoney}

// view is what the order layouts see, as the templates read it.
type view struct {
	Name, OrderID string
	Lines         []events.Line
	Total         int64
	Currency      string
	OccurredAt    string
	// Carrier, TrackingNumber, TrackingURL are the shipped email's; Reason
	// the shop's cancellation's.
	Carrier, TrackingNumber, TrackingURL, Reason string
}

// render fills l with v's values, under the placeholders Render fills.
func (v view) render(l layout) Email {
	money := func(n int64) string { return FormatMoney(n, v.Currency) }
	var rows []map[string]string
	for _, line := range v.Lines {
		rows = append(rows, map[string]string{"{{.Quantity}}": strconv.Itoa(line.Quantity), "{{.Name}}": line.Name, "{{.SKU}}": line.SKU,
			"{{money .UnitPrice $.Currency}}": money(line.UnitPrice), "{{money .LineTotal $.Currency}}": money(line.LineTotal)})
	}
	return l.fill("", map[string]string{"{{.Name}}": v.Name, "{{.OrderID}}": v.OrderID, "{{.OccurredAt}}": v.OccurredAt,
		"{{money .Total .Currency}}": money(v.Total), "{{.Carrier}}": v.Carrier, "{{.TrackingNumber}}": v.TrackingNumber,
		"{{.TrackingURL}}": v.TrackingURL, "{{.Reason}}": v.Reason}, rows...)
}

// accountView is what the account layouts see, as the templates read it.
type accountView struct{ Link, Cancel, Validity, ExpiresAt string }

// render fills l with v's values, under the placeholders RenderAccount fills.
func (v accountView) render(l layout) Email {
	return l.fill("", map[string]string{"{{.Link}}": v.Link, "{{.Cancel}}": v.Cancel, "{{.Validity}}": v.Validity, "{{.ExpiresAt}}": v.ExpiresAt})
}

// templateParts renders the three layout files of typ with v as templates,
// the subject as the email carries it: on one line.
func templateParts(t testing.TB, typ string, v any) Email {
	t.Helper()
	read := func(suffix string) string {
		b, err := layoutFiles.ReadFile(path.Join("layouts", TemplateVersion, typ+suffix))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	var s, txt, h bytes.Buffer
	for _, err := range []error{
		texttemplate.Must(texttemplate.New("s").Funcs(templateFuncs).Parse(read(".subject.tmpl"))).Execute(&s, v),
		texttemplate.Must(texttemplate.New("t").Funcs(templateFuncs).Parse(read(".txt.tmpl"))).Execute(&txt, v),
		htmltemplate.Must(htmltemplate.New("h").Funcs(templateFuncs).Parse(read(".html.tmpl"))).Execute(&h, v),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return Email{Subject: strings.Join(strings.Fields(s.String()), " "), Text: txt.String(), HTML: h.String()}
}

// compareParts compares the renderer's parts with the templates'.
func compareParts(t *testing.T, got, want Email) {
	t.Helper()
	if got != want {
		t.Errorf("the layout gives\n%q\nthe templates give\n%q", got, want)
	}
}

// hostile are values that exercise every escaping rule: HTML specials,
// '+', NUL, invalid UTF-8, noncharacters, line breaks, URL specials.
var hostile = []string{
	"Ada Lovelace",
	`<script>alert(1)</script>`,
	`"><img src=x onerror=alert(1)>`,
	`Salt & Pepper's "best" + more`,
	"nul\x00byte",
	"bad \xff\xfe utf-8",
	"non\ufdd0char\uffff",
	"line\r\nBcc: victim@example.com",
	"Zoë 日本 €",
	"",
}

// hostileLinks are links as Links makes them and as it never would.
var hostileLinks = []string{
	"https://shop.example.com/verify-email?token=abc.DEF_-",
	"https://shop.example.com/verify-email?token=a%26b%22c%3Cd",
	"javascript:alert(1)",
	"JavaScript:alert(1)",
	"data:text/html,<b>x</b>",
	"https://ex.com/a b?c=d&e='f'+\"g\"#h",
	"https://ex.com/%zz%4g%41",
	"/relative/path:with?colon",
	"mailto:ada@example.com",
	"https://ex.com/\x00\xff\u00e9",
}

func TestNewRendererNeedsItsLayouts(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("a renderer without its layouts")
		}
	}()
	newRenderer(fstest.MapFS{})
}

// FuzzLayoutsMatchTemplates renders each layout with the renderer and with
// the template packages, for any name, product and link (the order emails
// take them as carrier, tracking number, tracking page and reason too); its
// seeds are every hostile value and link.
func FuzzLayoutsMatchTemplates(f *testing.F) {
	for i, s := range hostile {
		f.Add(s, hostile[(i+1)%len(hostile)], hostileLinks[i%len(hostileLinks)])
	}
	r := NewRenderer()
	f.Fuzz(func(t *testing.T, name, product, link string) {
		v := view{Name: name, OrderID: "ord-" + product, OccurredAt: "Sun, 02 Mar 2025 12:30:15 UTC", Currency: "USD", Total: 123456,
			Lines: []events.Line{
				{SKU: "SKU-" + product, Name: product, Quantity: 2, UnitPrice: 1290, LineTotal: 2580},
				{SKU: "TEA", Name: "Tea + " + name, Quantity: 1, UnitPrice: -5, LineTotal: 0},
			}}
		for _, typ := range slices.Concat(orderTypes, []string{cancelledByShop}) {
			compareParts(t, v.render(r.layouts[typ]), templateParts(t, typ, v))
			noLines := view{Name: name, OrderID: "ord-0", Currency: "JPY"}
			compareParts(t, noLines.render(r.layouts[typ]), templateParts(t, typ, noLines))
			// The shipment, its tracking page and the shop's reason: every
			// layout is given them, whether it shows them or not; the
			// tracking link both as anything at all and as none.
			for _, tracking := range []string{link, ""} {
				w := v
				w.Carrier, w.TrackingNumber, w.TrackingURL, w.Reason = product, name, tracking, name+product
				compareParts(t, w.render(r.layouts[typ]), templateParts(t, typ, w))
			}
		}
		for _, typ := range accountTypes {
			a := accountView{Link: link, Validity: "24 hours" + product, ExpiresAt: name}
			if typ == events.AccountVerificationRequested { // RenderAccount gives only a verification a cancel link
				a.Cancel = link
			}
			compareParts(t, a.render(r.layouts[typ]), templateParts(t, typ, a))
		}
	})
}
