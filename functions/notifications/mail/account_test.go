package mail_test

import (
	"html"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/serverless-shop/backend/functions/notifications/mail"
	"github.com/serverless-shop/backend/shared/events"
)

const (
	base        = "https://shop.example.com"
	verifyToken = "ev1.01JUSR0000000000000000001.dmVyaWZ5LXNlY3JldA"
	resetToken  = "ev1.01JUSR0000000000000000001.cmVzZXQtc2VjcmV0"
)

// loadAccount parses an account event fixture.
func loadAccount(t testing.TB, name string) events.AccountEvent {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(eventFixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	e, err := events.Parse(data)
	if err != nil {
		t.Fatalf("fixture %s: %v", name, err)
	}
	a, ok := e.(events.AccountEvent)
	if !ok {
		t.Fatalf("fixture %s is a %T, not an account event", name, e)
	}
	return a
}

// accountCases are the two account emails, with what each must say.
var accountCases = []struct {
	name        string
	fixture     string
	token       string
	wantLink    string
	wantSubject string
	wantText    []string // besides the greeting and the link
}{
	{
		name: "verification", fixture: "account_verification_requested.json", token: verifyToken,
		wantLink:    base + "/verify-email?token=" + verifyToken,
		wantSubject: "Confirm your email address",
		wantText:    []string{"confirm your email address", "works for 24 hours", "until Sat, 15 Mar 2025 09:26:53 UTC"},
	},
	{
		name: "password reset", fixture: "account_password_reset_requested.json", token: resetToken,
		wantLink:    base + "/reset-password?token=" + resetToken,
		wantSubject: "Reset your password",
		wantText: []string{"reset the password", "works for 30 minutes", "until Fri, 14 Mar 2025 09:56:53 UTC",
			"If you did not ask to reset your password, ignore this email: nothing changes"},
	},
}

// renderAccount renders e with the link to token, failing the test on error.
func renderAccount(t *testing.T, r *mail.Renderer, e events.AccountEvent, token string) (mail.Email, string) {
	t.Helper()
	link, err := mail.Link(base, e.Type, token)
	if err != nil {
		t.Fatalf("Link: %v", err)
	}
	got, err := r.RenderAccount(e, link)
	if err != nil {
		t.Fatalf("RenderAccount: %v", err)
	}
	return got, link
}

func TestRenderAccountGolden(t *testing.T) {
	r := newRenderer(t)
	for _, tc := range accountCases {
		t.Run(tc.name, func(t *testing.T) {
			e := loadAccount(t, tc.fixture)
			got, _ := renderAccount(t, r, e, tc.token)
			if got.Subject != tc.wantSubject {
				t.Errorf("Subject = %q, want %q", got.Subject, tc.wantSubject)
			}
			if got.To != e.Account.Email {
				t.Errorf("To = %q, want %q", got.To, e.Account.Email)
			}
			base := strings.TrimSuffix(tc.fixture, ".json")
			golden(t, base+".txt.golden", got.Text)
			golden(t, base+".html.golden", got.HTML)
		})
	}
}

func TestRenderAccountContent(t *testing.T) {
	r := newRenderer(t)
	for _, tc := range accountCases {
		t.Run(tc.name, func(t *testing.T) {
			e := loadAccount(t, tc.fixture)
			got, link := renderAccount(t, r, e, tc.token)
			if link != tc.wantLink {
				t.Fatalf("Link = %q, want %q", link, tc.wantLink)
			}
			// The text part carries the link on a line of its own, exactly,
			// so every mail client shows it whole and clickable.
			if !strings.Contains(got.Text, "\n"+tc.wantLink+"\n") {
				t.Errorf("text part does not carry the link %q on its own line:\n%s", tc.wantLink, got.Text)
			}
			if want := `<a href="` + tc.wantLink + `"`; !strings.Contains(got.HTML, want) {
				t.Errorf("HTML part does not contain %s:\n%s", want, got.HTML)
			}
			for _, w := range append([]string{"Hello Ada Lovelace,"}, tc.wantText...) {
				if !strings.Contains(got.Text, w) {
					t.Errorf("text part does not contain %q:\n%s", w, got.Text)
				}
				if !strings.Contains(html.UnescapeString(got.HTML), w) {
					t.Errorf("HTML part does not contain %q:\n%s", w, got.HTML)
				}
			}
			if strings.Contains(got.Subject+got.Text+got.HTML, "sealed:") {
				t.Errorf("the email shows the sealed token")
			}
		})
	}
}

func TestRenderAccountEscapesHTML(t *testing.T) {
	const script = `<script>alert(1)</script>`
	r := newRenderer(t)
	for _, tc := range accountCases {
		t.Run(tc.name, func(t *testing.T) {
			e := loadAccount(t, tc.fixture)
			e.Account.Name = script + ` & "Ada"`
			got, _ := renderAccount(t, r, e, tc.token)
			if strings.Contains(strings.ToLower(got.HTML), "<script") {
				t.Errorf("HTML part contains a raw <script:\n%s", got.HTML)
			}
			if want := "<p>Hello &lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;Ada&#34;,</p>"; !strings.Contains(got.HTML, want) {
				t.Errorf("HTML part does not contain %s:\n%s", want, got.HTML)
			}
			if want := "Hello " + e.Account.Name + ","; !strings.Contains(got.Text, want) {
				t.Errorf("text part does not contain %q verbatim:\n%s", want, got.Text)
			}
			if got.Subject != tc.wantSubject {
				t.Errorf("Subject = %q, want %q: the name has no place in it", got.Subject, tc.wantSubject)
			}
		})
	}
}

func TestRenderAccountHrefEscaped(t *testing.T) {
	// Link escapes the token into the query; html/template escapes the
	// link for the attribute. A token that needs both stays one value.
	r := newRenderer(t)
	e := loadAccount(t, "account_verification_requested.json")
	got, link := renderAccount(t, r, e, `a&b"c<d`)
	if want := base + "/verify-email?token=a%26b%22c%3Cd"; link != want {
		t.Fatalf("Link = %q, want %q", link, want)
	}
	if want := `<a href="` + link + `"`; !strings.Contains(got.HTML, want) {
		t.Errorf("HTML part does not contain %s:\n%s", want, got.HTML)
	}
	if strings.Contains(got.HTML, `a&b"c<d`) {
		t.Errorf("HTML part contains the raw token")
	}
}

func TestRenderAccountValidity(t *testing.T) {
	tests := []struct {
		lifetime time.Duration
		want     string
	}{
		{30 * time.Minute, "30 minutes"},
		{24 * time.Hour, "24 hours"},
		{time.Second, "1 minute"},
		{time.Minute, "1 minute"},
		{29*time.Minute + 40*time.Second, "30 minutes"},
		{time.Hour, "1 hour"},
		{90 * time.Minute, "90 minutes"},
		{2 * time.Hour, "2 hours"},
		{24*time.Hour - 2*time.Second, "24 hours"},
		{36*time.Hour + 20*time.Minute, "36 hours"},
		{48 * time.Hour, "2 days"},
		{7*24*time.Hour + time.Hour, "7 days"},
	}
	r := newRenderer(t)
	for _, tc := range tests {
		t.Run(tc.lifetime.String(), func(t *testing.T) {
			e := loadAccount(t, "account_password_reset_requested.json")
			e.Link.ExpiresAt = e.OccurredAt.Add(tc.lifetime)
			got, _ := renderAccount(t, r, e, resetToken)
			want := "The link works for " + tc.want + ", until " + e.Link.ExpiresAt.UTC().Format(time.RFC1123) + "."
			if !strings.Contains(got.Text, want) || !strings.Contains(got.HTML, want) {
				t.Errorf("parts do not say %q:\n%s", want, got.Text)
			}
		})
	}
}

func TestRenderAccountGreeting(t *testing.T) {
	tests := []struct{ name, account, want string }{
		{name: "name", account: "Ada Lovelace", want: "Hello Ada Lovelace,"},
		{name: "surrounding space trimmed", account: "  Ada \n", want: "Hello Ada,"},
		{name: "empty falls back", account: "", want: "Hello customer,"},
		{name: "blank falls back", account: " \t\n ", want: "Hello customer,"},
	}
	r := newRenderer(t)
	for _, ac := range accountCases {
		for _, tc := range tests {
			t.Run(ac.name+"/"+tc.name, func(t *testing.T) {
				e := loadAccount(t, ac.fixture)
				e.Account.Name = tc.account
				got, _ := renderAccount(t, r, e, ac.token)
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

func TestRenderAccountRefuses(t *testing.T) {
	r := newRenderer(t)
	link := base + "/verify-email?token=" + verifyToken
	tests := []struct {
		name string
		edit func(e *events.AccountEvent) string // returns the link to render with
	}{
		{name: "unknown type", edit: func(e *events.AccountEvent) string { e.Type = "account.deleted"; return link }},
		{name: "an order type", edit: func(e *events.AccountEvent) string { e.Type = events.OrderCreated; return link }},
		{name: "no link", edit: func(*events.AccountEvent) string { return "" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := loadAccount(t, "account_verification_requested.json")
			l := tc.edit(&e)
			if got, err := r.RenderAccount(e, l); err == nil {
				t.Fatalf("RenderAccount = %+v, want an error", got)
			}
		})
	}
}

// TestRenderRefusesAccountType checks that an order event can never be
// rendered with an account template, or the reverse.
func TestRenderRefusesAccountType(t *testing.T) {
	r := newRenderer(t)
	e := loadEvent(t, "order_created.json")
	e.Type = events.AccountVerificationRequested
	if got, err := r.Render(e); err == nil {
		t.Fatalf("Render(%q) = %+v, want an error", e.Type, got)
	}
}

func TestLink(t *testing.T) {
	tests := []struct {
		name      string
		base      string
		eventType string
		token     string
		want      string // "" when Link must refuse
	}{
		{name: "verification", base: base, eventType: events.AccountVerificationRequested, token: verifyToken, want: base + "/verify-email?token=" + verifyToken},
		{name: "reset", base: base, eventType: events.AccountPasswordResetRequested, token: resetToken, want: base + "/reset-password?token=" + resetToken},
		{name: "URL-safe token unchanged", base: base, eventType: events.AccountVerificationRequested, token: "AZaz09._-", want: base + "/verify-email?token=AZaz09._-"},
		{name: "token escaped", base: base, eventType: events.AccountVerificationRequested, token: "a b+c/d=e&f?g#h%", want: base + "/verify-email?token=a+b%2Bc%2Fd%3De%26f%3Fg%23h%25"},
		{name: "base with a path", base: "https://example.com/shop", eventType: events.AccountPasswordResetRequested, token: "t", want: "https://example.com/shop/reset-password?token=t"},
		{name: "trailing slash of base dropped", base: base + "/", eventType: events.AccountVerificationRequested, token: "t", want: base + "/verify-email?token=t"},
		{name: "local http base", base: "http://localhost:3000", eventType: events.AccountVerificationRequested, token: "t", want: "http://localhost:3000/verify-email?token=t"},
		{name: "unknown type", base: base, eventType: "account.deleted", token: "t"},
		{name: "order type", base: base, eventType: events.OrderCreated, token: "t"},
		{name: "empty type", base: base, eventType: "", token: "t"},
		{name: "empty token", base: base, eventType: events.AccountVerificationRequested, token: ""},
		{name: "no base", base: "", eventType: events.AccountVerificationRequested, token: "t"},
		{name: "relative base", base: "/app", eventType: events.AccountVerificationRequested, token: "t"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := mail.Link(tc.base, tc.eventType, tc.token)
			if tc.want == "" {
				if err == nil {
					t.Fatalf("Link = %q, want an error", got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Link = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// TestLinkErrorsHideTheToken checks that no refusal of Link quotes the token
// it was given: errors are logged, and the token opens an account.
func TestLinkErrorsHideTheToken(t *testing.T) {
	const token = "ev1.secret-token-value"
	for _, args := range [][2]string{{base, "account.deleted"}, {"ftp://example.com", events.AccountVerificationRequested}, {"", events.AccountVerificationRequested}} {
		_, err := mail.Link(args[0], args[1], token)
		if err == nil {
			t.Fatalf("Link(%q, %q) succeeded", args[0], args[1])
		}
		if strings.Contains(err.Error(), token) || strings.Contains(err.Error(), "secret") {
			t.Errorf("Link(%q, %q) error %q contains the token", args[0], args[1], err)
		}
	}
}

func TestBaseURL(t *testing.T) {
	tests := []struct {
		raw  string
		want string // "" when BaseURL must refuse
	}{
		{raw: "https://shop.example.com", want: "https://shop.example.com"},
		{raw: "https://shop.example.com/", want: "https://shop.example.com"},
		{raw: "https://shop.example.com/app//", want: "https://shop.example.com/app"},
		{raw: " https://shop.example.com ", want: "https://shop.example.com"},
		{raw: "http://localhost:3000", want: "http://localhost:3000"},
		{raw: ""},
		{raw: "shop.example.com"},
		{raw: "/verify"},
		{raw: "ftp://shop.example.com"},
		{raw: "javascript:alert(1)"},
		{raw: "https://"},
		{raw: "https://:443"},
		{raw: "https:shop.example.com"},
		{raw: "https://shop.example.com?ref=mail"},
		{raw: "https://shop.example.com/?"},
		{raw: "https://shop.example.com/#top"},
		{raw: "https://shop.example.com/#"},
		{raw: "https://user:pass@shop.example.com"},
		{raw: "https://shop example.com"},
	}
	for _, tc := range tests {
		t.Run(tc.raw, func(t *testing.T) {
			got, err := mail.BaseURL(tc.raw)
			if tc.want == "" {
				if err == nil {
					t.Fatalf("BaseURL(%q) = %q, want an error", tc.raw, got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("BaseURL(%q) = %q, %v; want %q", tc.raw, got, err, tc.want)
			}
		})
	}
}
