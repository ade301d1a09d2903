package mail_test

import (
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

func TestRenderAccountValidity(t *testing.T) {
	tests := []struct {
		lifetime time.Duration
		want     string
	}{
		{time.Second, "1 minute"},
		{29*time.Minute + 40*time.Second, "30 minutes"},
		{time.Hour, "1 hour"},
		{90 * time.Minute, "90 minutes"},
		{24*time.Hour - 2*time.Second, "24 hours"},
		{48 * time.Hour, "2 days"},
	}
	r := mail.NewRenderer()
	for _, tc := range tests {
		t.Run(tc.lifetime.String(), func(t *testing.T) {
			e := load[events.AccountEvent](t, "account_password_reset_requested.json")
			e.Link.ExpiresAt = e.OccurredAt.Add(tc.lifetime)
			got, _, err := r.RenderAccount(e, base, resetToken)
			want := "The link works for " + tc.want + ", until " + e.Link.ExpiresAt.UTC().Format(time.RFC1123) + "."
			if err != nil || !strings.Contains(got.Text, want) || !strings.Contains(got.HTML, want) {
				t.Errorf("parts do not say %q (%v):\n%s", want, err, got.Text)
			}
		})
	}
}

// TestRenderRefuses: an email of another type than its renderer's is never
// rendered (RenderAccount refuses what Links refuses: TestLinks).
func TestRenderRefuses(t *testing.T) {
	r := mail.NewRenderer()
	account := load[events.AccountEvent](t, "account_verification_requested.json")
	account.Type = events.OrderCreated
	if got, links, err := r.RenderAccount(account, base, verifyToken); err == nil {
		t.Errorf("RenderAccount(%q) = %+v, %+v; want an error", account.Type, got, links)
	}
	order := load[events.OrderEvent](t, "order_created.json")
	order.Type = events.AccountVerificationRequested
	if got, err := r.Render(order); err == nil {
		t.Errorf("Render(%q) = %+v, want an error", order.Type, got)
	}
}

// TestLinks checks the links made and those refused, whose errors never
// quote the token.
func TestLinks(t *testing.T) {
	const secret = "ev1.secret-token-value"
	tests := []struct {
		name      string
		base      string
		eventType string
		token     string
		want      string // "" when Links must refuse
	}{
		{name: "verification", base: base, eventType: events.AccountVerificationRequested, token: verifyToken, want: base + "/verify-email?token=" + verifyToken},
		{name: "reset", base: base, eventType: events.AccountPasswordResetRequested, token: resetToken, want: base + "/reset-password?token=" + resetToken},
		{name: "token escaped", base: base, eventType: events.AccountVerificationRequested, token: "a b+c/d=e&f?g#h%", want: base + "/verify-email?token=a+b%2Bc%2Fd%3De%26f%3Fg%23h%25"},
		{name: "unknown type", base: base, eventType: "account.deleted", token: secret},
		{name: "empty token", base: base, eventType: events.AccountVerificationRequested, token: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			links, err := mail.Links(tc.base, tc.eventType, tc.token)
			if tc.want == "" {
				// Errors are logged, and the token opens an account.
				if err == nil || tc.token != "" && strings.Contains(err.Error(), tc.token) {
					t.Fatalf("Links = %+v, %v; want an error without the token", links, err)
				}
				return
			}
			// A verification's links add the cancel link.
			cancel := ""
			if tc.eventType == events.AccountVerificationRequested {
				cancel = strings.Replace(tc.want, "/verify-email?", mail.CancelPath+"?", 1)
			}
			if err != nil || links != (mail.AccountLinks{Link: tc.want, Cancel: cancel}) {
				t.Fatalf("Links = %+v, %v; want %q and cancel %q", links, err, tc.want, cancel)
			}
		})
	}
}

func TestBaseURL(t *testing.T) {
	tests := []struct {
		raw  string
		want string // "" when BaseURL must refuse
	}{
		{raw: "https://shop.example.com/", want: "https://shop.example.com"},
		{raw: "https://shop.example.com/app//", want: "https://shop.example.com/app"},
		{raw: " https://shop.example.com ", want: "https://shop.example.com"},
		{raw: "http://localhost:3000", want: "http://localhost:3000"},
		{raw: "shop.example.com"},
		{raw: "ftp://shop.example.com"},
		{raw: "https://"},
		{raw: "https://:443"},
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
