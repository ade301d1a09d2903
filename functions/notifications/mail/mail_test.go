package mail_test

import (
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/serverless-shop/backend/functions/notifications/mail"
	"github.com/serverless-shop/backend/shared/events"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ with the rendered output")

// eventFixtures holds the order events; they live with the package that owns
// their schema, while the golden files rendered from them stay in testdata/.
const eventFixtures = "../../../shared/events/testdata"

// loadEvent parses an event fixture, so every fixture is also a valid event
// as the consumer sees it.
func loadEvent(t testing.TB, name string) events.OrderEvent {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(eventFixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	e, err := events.ParseOrder(data)
	if err != nil {
		t.Fatalf("fixture %s: %v", name, err)
	}
	return e
}

func newRenderer(t testing.TB) *mail.Renderer {
	t.Helper()
	r, err := mail.NewRenderer()
	if err != nil {
		t.Fatalf("NewRenderer: %v", err)
	}
	return r
}

// golden compares got with testdata/name, or rewrites the file with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the rendered output (run go test -update to accept it)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestRenderGolden(t *testing.T) {
	tests := []struct {
		name        string
		fixture     string
		wantSubject string
	}{
		{name: "order created", fixture: "order_created.json", wantSubject: "Order 01JORD0000000000000000001 confirmed: $1,279.55"},
		{name: "order cancelled", fixture: "order_cancelled.json", wantSubject: "Order 01JORD0000000000000000002 cancelled"},
	}
	r := newRenderer(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := loadEvent(t, tc.fixture)
			got, err := r.Render(e)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if got.Subject != tc.wantSubject {
				t.Errorf("Subject = %q, want %q", got.Subject, tc.wantSubject)
			}
			if got.To != e.Customer.Email {
				t.Errorf("To = %q, want %q", got.To, e.Customer.Email)
			}
			base := strings.TrimSuffix(tc.fixture, ".json")
			golden(t, base+".txt.golden", got.Text)
			golden(t, base+".html.golden", got.HTML)
		})
	}
}

func TestRenderContent(t *testing.T) {
	tests := []struct {
		name    string
		fixture string
		// subject holds what the subject must contain besides the order id.
		subject []string
		// unitPrices: the created email shows each line's unit price; the
		// cancelled one shows only line totals.
		unitPrices bool
	}{
		{name: "order created", fixture: "order_created.json", subject: []string{"confirmed", "$1,279.55"}, unitPrices: true},
		{name: "order cancelled", fixture: "order_cancelled.json", subject: []string{"cancelled"}},
	}
	r := newRenderer(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := loadEvent(t, tc.fixture)
			got, err := r.Render(e)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			for _, want := range append([]string{e.Order.ID}, tc.subject...) {
				if !strings.Contains(got.Subject, want) {
					t.Errorf("Subject %q does not contain %q", got.Subject, want)
				}
			}
			total := mail.FormatMoney(e.Order.Total, e.Order.Currency)
			parts := map[string]string{"text": got.Text, "html": got.HTML}
			for part, body := range parts {
				want := []string{e.Customer.Name, e.Order.ID, total}
				for _, l := range e.Order.Items {
					want = append(want, l.Name, l.SKU, strconv.Itoa(l.Quantity), mail.FormatMoney(l.LineTotal, e.Order.Currency))
					if tc.unitPrices {
						want = append(want, mail.FormatMoney(l.UnitPrice, e.Order.Currency))
					}
				}
				for _, w := range want {
					if !strings.Contains(body, w) {
						t.Errorf("%s part does not contain %q", part, w)
					}
				}
			}
		})
	}
}

func TestRenderEscapesHTML(t *testing.T) {
	const (
		script = `<script>alert(1)</script>`
		img    = `"><img src=x onerror=alert(1)>`
		amp    = `Salt & Pepper`
	)
	tests := []struct {
		name     string
		customer string
		product  string
		// wantHTML are escaped forms the HTML part must contain.
		wantHTML []string
	}{
		{
			name:     "script in customer name",
			customer: script,
			product:  "Coffee mug",
			wantHTML: []string{"&lt;script&gt;alert(1)&lt;/script&gt;"},
		},
		{
			name:     "attribute breakout in product name",
			customer: "Ada",
			product:  img,
			wantHTML: []string{"&#34;&gt;&lt;img src=x onerror=alert(1)&gt;"},
		},
		{
			name:     "ampersand in both",
			customer: amp,
			product:  amp,
			wantHTML: []string{"Salt &amp; Pepper"},
		},
		{
			name:     "script in customer and img in product",
			customer: script,
			product:  img,
			wantHTML: []string{"&lt;script&gt;", "&lt;img"},
		},
	}
	r := newRenderer(t)
	for _, fixture := range []string{"order_created.json", "order_cancelled.json"} {
		for _, tc := range tests {
			t.Run(strings.TrimSuffix(fixture, ".json")+"/"+tc.name, func(t *testing.T) {
				e := loadEvent(t, fixture)
				e.Customer.Name = tc.customer
				e.Order.Items[0].Name = tc.product
				got, err := r.Render(e)
				if err != nil {
					t.Fatalf("Render: %v", err)
				}
				lower := strings.ToLower(got.HTML)
				for _, raw := range []string{"<script", "<img", "onerror=alert(1)>"} {
					if strings.Contains(lower, raw) {
						t.Errorf("HTML part contains raw %q:\n%s", raw, got.HTML)
					}
				}
				for _, raw := range []string{tc.customer, tc.product} {
					if strings.ContainsAny(raw, `<>&"`) && strings.Contains(got.HTML, raw) {
						t.Errorf("HTML part contains the unescaped value %q", raw)
					}
				}
				for _, w := range tc.wantHTML {
					if !strings.Contains(got.HTML, w) {
						t.Errorf("HTML part does not contain escaped %q:\n%s", w, got.HTML)
					}
				}
				// The text part is plain text: the values read as written.
				for _, w := range []string{"Hello " + tc.customer + ",", tc.product} {
					if !strings.Contains(got.Text, w) {
						t.Errorf("text part does not contain %q verbatim:\n%s", w, got.Text)
					}
				}
			})
		}
	}
}

func TestRenderSubjectIsOneLine(t *testing.T) {
	tests := []struct {
		name     string
		customer string
		product  string
		orderID  string // Render trusts a valid event; this one is not.
	}{
		{name: "newline in customer name", customer: "Ada\nBcc: victim@example.com", product: "Mug", orderID: "ord-1"},
		{name: "CRLF in product name", customer: "Ada", product: "Mug\r\nBcc: victim@example.com", orderID: "ord-1"},
		{name: "CRLF in order id", customer: "Ada", product: "Mug", orderID: "ord-1\r\nBcc: victim@example.com"},
		{name: "unicode line separators in order id", customer: "Ada", product: "Mug", orderID: "ord-1\u2028\u2029\u0085x\vy\fz\tw"},
	}
	r := newRenderer(t)
	for _, fixture := range []string{"order_created.json", "order_cancelled.json"} {
		for _, tc := range tests {
			t.Run(strings.TrimSuffix(fixture, ".json")+"/"+tc.name, func(t *testing.T) {
				e := loadEvent(t, fixture)
				e.Customer.Name = tc.customer
				e.Order.Items[0].Name = tc.product
				e.Order.ID = tc.orderID
				got, err := r.Render(e)
				if err != nil {
					t.Fatalf("Render: %v", err)
				}
				if strings.ContainsAny(got.Subject, "\r\n\v\f\t\u0085\u2028\u2029") {
					t.Errorf("Subject %q spans more than one line", got.Subject)
				}
				if got.Subject != strings.TrimSpace(got.Subject) || strings.Contains(got.Subject, "  ") {
					t.Errorf("Subject %q has stray spaces", got.Subject)
				}
				if !strings.HasPrefix(got.Subject, "Order ord-1") {
					t.Errorf("Subject %q does not start with the order id", got.Subject)
				}
			})
		}
	}
}

func TestRenderGreeting(t *testing.T) {
	tests := []struct {
		name     string
		customer string
		want     string
	}{
		{name: "name", customer: "Ada Lovelace", want: "Hello Ada Lovelace,"},
		{name: "surrounding space trimmed", customer: "  Ada \n", want: "Hello Ada,"},
		{name: "empty falls back", customer: "", want: "Hello customer,"},
		{name: "blank falls back", customer: " \t\n ", want: "Hello customer,"},
		// Names stored before today's rules (text.Name) are checked again
		// here: one that fails them is not shown.
		{name: "in NFC", customer: "Zoe\u0308", want: "Hello Zoë,"},
		{name: "too long falls back", customer: strings.Repeat("a", 101), want: "Hello customer,"},
		{name: "bidi override falls back", customer: "Ada\u202e", want: "Hello customer,"},
		{name: "line break inside falls back", customer: "Ada\nPay at https://evil.example", want: "Hello customer,"},
	}
	r := newRenderer(t)
	for _, fixture := range []string{"order_created.json", "order_cancelled.json"} {
		for _, tc := range tests {
			t.Run(strings.TrimSuffix(fixture, ".json")+"/"+tc.name, func(t *testing.T) {
				e := loadEvent(t, fixture)
				e.Customer.Name = tc.customer
				got, err := r.Render(e)
				if err != nil {
					t.Fatalf("Render: %v", err)
				}
				if !strings.Contains(got.Text, tc.want) {
					t.Errorf("text part does not contain %q:\n%s", tc.want, got.Text)
				}
				if !strings.Contains(got.HTML, "<p>"+tc.want+"</p>") {
					t.Errorf("HTML part does not contain %q:\n%s", tc.want, got.HTML)
				}
			})
		}
	}
}

func TestRenderUnknownType(t *testing.T) {
	r := newRenderer(t)
	e := loadEvent(t, "order_created.json")
	e.Type = "order.shipped"
	if got, err := r.Render(e); err == nil {
		t.Fatalf("Render(%q) = %+v, want an error", e.Type, got)
	}
}

func BenchmarkRender(b *testing.B) {
	r := newRenderer(b)
	for _, fixture := range []string{"order_created.json", "order_cancelled.json"} {
		e := loadEvent(b, fixture)
		b.Run(strings.TrimSuffix(fixture, ".json"), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.Render(e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
