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
	wantCancel  string // a verification's cancel link
	wantSubject string
	wantText    []string // besides the greeting and the link
}{
	{
		name: "verification", fixture: "account_verification_requested.json", token: verifyToken,
		wantLink:    base + "/verify-email?token=" + verifyToken,
		wantCancel:  base + "/cancel-registration?token=" + verifyToken,
		wantSubject: "Confirm your email address",
		wantText: []string{"confirm your email address", "works for 24 hours", "until Sat, 15 Mar 2025 09:26:53 UTC",
			"If you did not create an account with this address, someone else entered it. To cancel that registration, which deletes the account and frees your address"},
	},
	{
		name: "password reset", fixture: "account_password_reset_requested.json", token: resetToken,
		wantLink:    base + "/reset-password?token=" + resetToken,
		wantSubject: "Reset your password",
		wantText: []string{"reset the password", "works for 30 minutes", "until Fri, 14 Mar 2025 09:56:53 UTC",
			"If you did not ask to reset your password, ignore this email: nothing changes"},
	},
}

// renderAccount renders e with the links to token, failing the test on
// error.
func renderAccount(t *testing.T, r *mail.Renderer, e events.AccountEvent, token string) (mail.Email, mail.AccountLinks) {
	t.Helper()
	links, err := mail.Links(base, e.Type, token)
	if err != nil {
		t.Fatalf("Links: %v", err)
	}
	got, err := r.RenderAccount(e, links)
	if err != nil {
		t.Fatalf("RenderAccount: %v", err)
	}
	return got, links
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
			got, links := renderAccount(t, r, e, tc.token)
			if links.Link != tc.wantLink || links.Cancel != tc.wantCancel {
				t.Fatalf("Links = %+v, want %q and cancel %q", links, tc.wantLink, tc.wantCancel)
			}
			// The text part carries the link on a line of its own, exactly,
			// so every mail client shows it whole and clickable.
			if !strings.Contains(got.Text, "\n"+tc.wantLink+"\n") {
				t.Errorf("text part does not carry the link %q on its own line:\n%s", tc.wantLink, got.Text)
			}
			if want := `<a href="` + tc.wantLink + `"`; !strings.Contains(got.HTML, want) {
				t.Errorf("HTML part does not contain %s:\n%s", want, got.HTML)
			}
			if tc.wantCancel != "" {
				if !strings.Contains(got.Text, "\n"+tc.wantCancel+"\n") {
					t.Errorf("text part does not carry the cancel link %q on its own line:\n%s", tc.wantCancel, got.Text)
				}
				if want := `<a href="` + tc.wantCancel + `"`; !strings.Contains(got.HTML, want) {
					t.Errorf("HTML part does not contain %s:\n%s", want, got.HTML)
				}
			} else if strings.Contains(got.Text+got.HTML, mail.CancelPath) {
				t.Errorf("a %s email carries a cancel link", tc.name)
			}
			for _, w := range append([]string{"Hello,"}, tc.wantText...) {
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

// TestRenderAccountGreetsNobody: an account email may go to an address
// nobody has proved (a verification; a reset of an unverified account), so
// it greets without a name and shows nothing the registrant chose.
func TestRenderAccountGreetsNobody(t *testing.T) {
	r := newRenderer(t)
	for _, tc := range accountCases {
		t.Run(tc.name, func(t *testing.T) {
			e := loadAccount(t, tc.fixture)
			got, _ := renderAccount(t, r, e, tc.token)
			if !strings.HasPrefix(got.Text, "Hello,\n\n") {
				t.Errorf("text part does not begin with a greeting without a name:\n%s", got.Text)
			}
			if !strings.Contains(got.HTML, "<p>Hello,</p>") {
				t.Errorf("HTML part does not greet without a name:\n%s", got.HTML)
			}
			if strings.Contains(got.Text+got.HTML, "customer") {
				t.Errorf("an account email greets a customer: it has none yet")
			}
		})
	}
}

func TestRenderAccountHrefEscaped(t *testing.T) {
	// Link escapes the token into the query; html/template escapes the
	// link for the attribute. A token that needs both stays one value.
	r := newRenderer(t)
	e := loadAccount(t, "account_verification_requested.json")
	got, links := renderAccount(t, r, e, `a&b"c<d`)
	link := links.Link
	if want := base + "/verify-email?token=a%26b%22c%3Cd"; link != want {
		t.Fatalf("Link = %q, want %q", link, want)
	}
	if want := `<a href="` + links.Cancel + `"`; links.Cancel != base+"/cancel-registration?token=a%26b%22c%3Cd" || !strings.Contains(got.HTML, want) {
		t.Errorf("cancel link %q not escaped alike, or not in the HTML part", links.Cancel)
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

func TestRenderAccountRefuses(t *testing.T) {
	r := newRenderer(t)
	links := mail.AccountLinks{Link: base + "/verify-email?token=" + verifyToken, Cancel: base + "/cancel-registration?token=" + verifyToken}
	tests := []struct {
		name string
		edit func(e *events.AccountEvent) mail.AccountLinks // returns the links to render with
	}{
		{name: "unknown type", edit: func(e *events.AccountEvent) mail.AccountLinks { e.Type = "account.deleted"; return links }},
		{name: "an order type", edit: func(e *events.AccountEvent) mail.AccountLinks { e.Type = events.OrderCreated; return links }},
		{name: "no link", edit: func(*events.AccountEvent) mail.AccountLinks { return mail.AccountLinks{Cancel: links.Cancel} }},
		{name: "verification without its cancel link", edit: func(*events.AccountEvent) mail.AccountLinks { return mail.AccountLinks{Link: links.Link} }},
		{name: "reset with a cancel link", edit: func(e *events.AccountEvent) mail.AccountLinks {
			e.Type = events.AccountPasswordResetRequested
			return links
		}},
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

func TestLinks(t *testing.T) {
	v, err := mail.Links(base+"/", events.AccountVerificationRequested, "t+1")
	if err != nil || v.Link != base+"/verify-email?token=t%2B1" || v.Cancel != base+"/cancel-registration?token=t%2B1" {
		t.Errorf("Links(verification) = %+v, %v", v, err)
	}
	p, err := mail.Links(base, events.AccountPasswordResetRequested, "t")
	if err != nil || p.Link != base+"/reset-password?token=t" || p.Cancel != "" {
		t.Errorf("Links(reset) = %+v, %v; want no cancel link", p, err)
	}
	const token = "ev1.secret-token-value"
	if _, err := mail.Links("", events.AccountVerificationRequested, token); err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("Links without a base = %v, want an error without the token", err)
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
