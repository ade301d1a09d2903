package mail_test

import (
	"html"
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

// accountCase is an account email, with what it must say.
type accountCase struct {
	name        string
	fixture     string
	token       string
	wantLink    string
	wantCancel  string // a verification's cancel link
	wantSubject string
	wantText    []string // besides the greeting and the link
}

// accountCases are the two account emails.
var accountCases = []accountCase{
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

// renderAccounts renders each account case and checks its email.
func renderAccounts(t *testing.T, check func(t *testing.T, tc accountCase, e events.AccountEvent, got mail.Email, links mail.AccountLinks)) {
	r := newRenderer(t)
	for _, tc := range accountCases {
		t.Run(tc.name, func(t *testing.T) {
			e := load[events.AccountEvent](t, tc.fixture)
			got, links := renderAccount(t, r, e, tc.token)
			check(t, tc, e, got, links)
		})
	}
}

// TestRenderAccount checks each account email against its golden files,
// and what it must say: its links, each on a line of its own in the text
// part (so every mail client shows it whole and clickable) and a link in
// the HTML part, the cancel link in a verification only, its validity,
// and never the sealed token.
func TestRenderAccount(t *testing.T) {
	renderAccounts(t, func(t *testing.T, tc accountCase, e events.AccountEvent, got mail.Email, links mail.AccountLinks) {
		if got.Subject != tc.wantSubject || got.To != e.Account.Email || links.Link != tc.wantLink || links.Cancel != tc.wantCancel {
			t.Fatalf("email %q to %s with %+v, want %q to %s with %q and cancel %q", got.Subject, got.To, links, tc.wantSubject, e.Account.Email, tc.wantLink, tc.wantCancel)
		}
		base := strings.TrimSuffix(tc.fixture, ".json")
		golden(t, base+".txt.golden", got.Text)
		golden(t, base+".html.golden", got.HTML)
		for _, link := range []string{tc.wantLink, tc.wantCancel} {
			if link != "" && (!strings.Contains(got.Text, "\n"+link+"\n") || !strings.Contains(got.HTML, `<a href="`+link+`"`)) {
				t.Errorf("the parts do not carry %q as a line and a link:\n%s\n%s", link, got.Text, got.HTML)
			}
		}
		if tc.wantCancel == "" && strings.Contains(got.Text+got.HTML, mail.CancelPath) {
			t.Errorf("a %s email carries a cancel link", tc.name)
		}
		for _, w := range tc.wantText {
			if !strings.Contains(got.Text, w) || !strings.Contains(html.UnescapeString(got.HTML), w) {
				t.Errorf("a part does not contain %q:\n%s\n%s", w, got.Text, got.HTML)
			}
		}
		if strings.Contains(got.Subject+got.Text+got.HTML, "sealed:") {
			t.Errorf("the email shows the sealed token")
		}
	})
}

// TestRenderAccountGreetsNobody: an account email may go to an address
// nobody has proved (a verification; a reset of an unverified account), so
// it greets without a name and shows nothing the registrant chose.
func TestRenderAccountGreetsNobody(t *testing.T) {
	renderAccounts(t, func(t *testing.T, _ accountCase, _ events.AccountEvent, got mail.Email, _ mail.AccountLinks) {
		if !strings.HasPrefix(got.Text, "Hello,\n\n") || !strings.Contains(got.HTML, "<p>Hello,</p>") || strings.Contains(got.Text+got.HTML, "customer") {
			t.Errorf("the parts do not greet without a name:\n%s\n%s", got.Text, got.HTML)
		}
	})
}

func TestRenderAccountHrefEscaped(t *testing.T) {
	// Link escapes the token into the query; html/template escapes the
	// link for the attribute. A token that needs both stays one value.
	r := newRenderer(t)
	e := load[events.AccountEvent](t, "account_verification_requested.json")
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
			e := load[events.AccountEvent](t, "account_password_reset_requested.json")
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
	for name, tc := range map[string]struct {
		typ   string
		links mail.AccountLinks
	}{
		"unknown type":                         {"account.deleted", links},
		"unknown type without a cancel link":   {"account.deleted", mail.AccountLinks{Link: links.Link}},
		"an order type":                        {events.OrderCreated, links},
		"no link":                              {events.AccountVerificationRequested, mail.AccountLinks{Cancel: links.Cancel}},
		"verification without its cancel link": {events.AccountVerificationRequested, mail.AccountLinks{Link: links.Link}},
		"reset with a cancel link":             {events.AccountPasswordResetRequested, links},
	} {
		e := load[events.AccountEvent](t, "account_verification_requested.json")
		e.Type = tc.typ
		if got, err := r.RenderAccount(e, tc.links); err == nil {
			t.Errorf("%s: RenderAccount = %+v, want an error", name, got)
		}
	}
}

// TestLink checks the links made and those refused, whose errors never
// quote the token.
func TestLink(t *testing.T) {
	const secret = "ev1.secret-token-value"
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
		{name: "unknown type", base: base, eventType: "account.deleted", token: secret},
		{name: "order type", base: base, eventType: events.OrderCreated, token: secret},
		{name: "empty type", base: base, eventType: "", token: secret},
		{name: "empty token", base: base, eventType: events.AccountVerificationRequested, token: ""},
		{name: "no base", base: "", eventType: events.AccountVerificationRequested, token: secret},
		{name: "relative base", base: "/app", eventType: events.AccountVerificationRequested, token: secret},
		{name: "ftp base", base: "ftp://example.com", eventType: events.AccountVerificationRequested, token: secret},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := mail.Link(tc.base, tc.eventType, tc.token)
			links, lerr := mail.Links(tc.base, tc.eventType, tc.token)
			if tc.want == "" {
				// Errors are logged, and the token opens an account.
				if err == nil || lerr == nil || tc.token != "" && strings.Contains(err.Error()+lerr.Error(), tc.token) {
					t.Fatalf("Link = %q, %v; Links = %+v, %v; want errors without the token", got, err, links, lerr)
				}
				return
			}
			// Links adds the cancel link to a verification's.
			cancel := ""
			if tc.eventType == events.AccountVerificationRequested {
				cancel = strings.Replace(tc.want, "/verify-email?", mail.CancelPath+"?", 1)
			}
			if err != nil || got != tc.want || lerr != nil || links != (mail.AccountLinks{Link: tc.want, Cancel: cancel}) {
				t.Fatalf("Link = %q, %v; Links = %+v, %v; want %q and cancel %q", got, err, links, lerr, tc.want, cancel)
			}
		})
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
