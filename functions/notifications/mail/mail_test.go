package mail_test

import (
	"cmp"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/serverless-shop/backend/functions/notifications/mail"
	"github.com/serverless-shop/backend/shared/events"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ with the rendered output")

// eventFixtures holds the order events; they live with the package that owns
// their schema, while the golden files rendered from them stay in testdata/.
const eventFixtures = "../../../shared/events/testdata"

// load parses an event fixture, so every fixture is also a valid event as
// the consumer sees it.
func load[E events.Event](t testing.TB, name string) E {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(eventFixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	e, err := events.Parse(data)
	if err != nil {
		t.Fatalf("fixture %s: %v", name, err)
	}
	typed, ok := e.(E)
	if !ok {
		t.Fatalf("fixture %s is a %T", name, e)
	}
	return typed
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

// TestRender checks each email's subject and recipient, an account email's
// links (the cancel link in a verification only), and its parts against
// their golden files.
func TestRender(t *testing.T) {
	r := newRenderer(t)
	for _, tc := range []struct{ fixture, subject, to, token, link, cancel string }{
		{fixture: "order_created.json", subject: "Order 01JORD0000000000000000001 confirmed: $1,279.55", to: "ada@example.com"},
		{fixture: "order_cancelled.json", subject: "Order 01JORD0000000000000000002 cancelled", to: "grace@example.com"},
		{"account_verification_requested.json", "Confirm your email address", "ada@example.com", verifyToken,
			base + "/verify-email?token=" + verifyToken, base + "/cancel-registration?token=" + verifyToken},
		{"account_password_reset_requested.json", "Reset your password", "ada@example.com", resetToken, base + "/reset-password?token=" + resetToken, ""},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			var got mail.Email
			var links mail.AccountLinks
			var err error
			switch e := load[events.Event](t, tc.fixture).(type) {
			case events.OrderEvent:
				got, err = r.Render(e)
			case events.AccountEvent:
				got, links = renderAccount(t, r, e, tc.token)
			}
			if err != nil || got.Subject != tc.subject || got.To != tc.to || links != (mail.AccountLinks{Link: tc.link, Cancel: tc.cancel}) {
				t.Fatalf("Render = %+v, %v with %+v; want %q to %s with %q and cancel %q", got, err, links, tc.subject, tc.to, tc.link, tc.cancel)
			}
			name := strings.TrimSuffix(tc.fixture, ".json")
			golden(t, name+".txt.golden", got.Text)
			golden(t, name+".html.golden", got.HTML)
		})
	}
}

// TestRenderGreeting: the parts of both order emails greet the customer by
// name as text.Name reads it, or as "customer"; the subject stays one line
// whatever the customer chose (Render trusts a valid event; some of these
// are not). An empty product or order id leaves the fixture's.
func TestRenderGreeting(t *testing.T) {
	r := newRenderer(t)
	for _, tc := range []struct{ customer, product, orderID, want string }{
		{customer: "Ada Lovelace", want: "Hello Ada Lovelace,"},
		{customer: "  Ada \n", want: "Hello Ada,"}, // surrounding space trimmed
		{customer: "", want: "Hello customer,"},
		// Names stored before today's rules (text.Name) are checked again
		// here: one that fails them is not shown.
		{customer: "Zoe\u0308", want: "Hello Zoë,"}, // in NFC
		{customer: "Ada\nBcc: victim@example.com", product: "Mug", want: "Hello customer,"},
		{customer: "Ada", product: "Mug\r\nBcc: victim@example.com", want: "Hello Ada,"},
		{customer: "Ada", orderID: "ord-1\r\nBcc: victim@example.com", want: "Hello Ada,"},
		{customer: "Ada", orderID: "ord-1\u2028\u2029\u0085x\vy\fz\tw", want: "Hello Ada,"},
	} {
		for _, fixture := range []string{"order_created.json", "order_cancelled.json"} {
			e := load[events.OrderEvent](t, fixture)
			e.Customer.Name, e.Order.Items[0].Name, e.Order.ID = tc.customer, cmp.Or(tc.product, e.Order.Items[0].Name), cmp.Or(tc.orderID, "ord-1")
			got, err := r.Render(e)
			if err != nil || !strings.Contains(got.Text, tc.want) || !strings.Contains(got.HTML, "<p>"+tc.want+"</p>") {
				t.Errorf("%s of %q: Render = %v; the parts do not greet %q:\n%s\n%s", fixture, tc, err, tc.want, got.Text, got.HTML)
			}
			if strings.ContainsAny(got.Subject, "\r\n\v\f\t\u0085\u2028\u2029") || got.Subject != strings.TrimSpace(got.Subject) ||
				strings.Contains(got.Subject, "  ") || !strings.HasPrefix(got.Subject, "Order ord-1") {
				t.Errorf("%s of %q: Subject %q spans more than one line, has stray spaces or does not start with the order id", fixture, tc, got.Subject)
			}
		}
	}
}

func BenchmarkRender(b *testing.B) {
	r := newRenderer(b)
	for _, fixture := range []string{"order_created.json", "order_cancelled.json"} {
		e := load[events.OrderEvent](b, fixture)
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
