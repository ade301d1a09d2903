package mail

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/serverless-shop/backend/shared/events"
)

// linkPaths are the pages of the app that take each account event's token.
var linkPaths = map[string]string{
	events.AccountVerificationRequested:  "/verify-email",
	events.AccountPasswordResetRequested: "/reset-password",
}

// BaseURL checks and normalises the app's base URL, which every emailed link
// starts with: an absolute http or https URL with a host, and no user
// information, query or fragment (a link appends its own path and query).
// A trailing slash is dropped, so the link has none twice.
func BaseURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", fmt.Errorf("base URL: %w", err)
	}
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return "", fmt.Errorf("base URL %q: scheme must be https or http", raw)
	case u.Host == "" || u.Hostname() == "":
		return "", fmt.Errorf("base URL %q: no host", raw)
	case u.User != nil:
		return "", fmt.Errorf("base URL %q: user information is not allowed", raw)
	case u.RawQuery != "" || u.ForceQuery:
		return "", fmt.Errorf("base URL %q: a query is not allowed", raw)
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return "", fmt.Errorf("base URL %q: a fragment is not allowed", raw)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// Link returns the link an account email carries: the app's page for the
// event type under base, with token as its query. It refuses an event type
// that has no page, an empty token and a base BaseURL refuses. Its errors
// never contain the token.
func Link(base, eventType, token string) (string, error) {
	path, ok := linkPaths[eventType]
	if !ok {
		return "", fmt.Errorf("link: no page for event type %q", eventType)
	}
	if token == "" {
		return "", errors.New("link: empty token")
	}
	b, err := BaseURL(base)
	if err != nil {
		return "", fmt.Errorf("link: %w", err)
	}
	// Tokens are URL-safe ([A-Za-z0-9._-]) today; escaping keeps the link
	// whole should that ever change.
	return b + path + "?token=" + url.QueryEscape(token), nil
}

// accountView is what the account layouts see. It holds the link, never
// the sealed token or the rest of the event.
type accountView struct {
	Name      string
	Link      string
	Validity  string // how long the link works, "24 hours"
	ExpiresAt string
}

// RenderAccount renders the email for an account event, carrying link (see
// Link). The event must be valid.
func (r *Renderer) RenderAccount(e events.AccountEvent, link string) (Email, error) {
	if link == "" {
		return Email{}, errors.New("render: empty link")
	}
	v := accountView{
		Name:      greetingName(e.Account.Name),
		Link:      link,
		Validity:  validity(e.Link.ExpiresAt.Sub(e.OccurredAt)),
		ExpiresAt: formatTime(e.Link.ExpiresAt),
	}
	f, ok := r.account[e.Type]
	if !ok || !slices.Contains(accountTypes, e.Type) {
		return Email{}, fmt.Errorf("render: no template for %q", e.Type)
	}
	return finish(e.Account.Email, f(v)), nil
}

// accountText is the text part of an account email: the greeting, what
// to do, the link on a line of its own, how long it works, and what to do
// when the email was not expected.
func accountText(v accountView, ask, ignore string) string {
	return "Hello " + v.Name + ",\n\n" + ask + "\n\n" + v.Link + "\n\n" +
		"The link works for " + v.Validity + ", until " + v.ExpiresAt + ".\n\n" + ignore + "\n"
}

// accountHTML is the HTML part of an account email, as accountText.
func accountHTML(v accountView, title, ask, button, ignore string) string {
	link := escapeHTML(v.Link)
	return htmlHead(title) +
		"<p>Hello " + escapeHTML(v.Name) + ",</p>\n" +
		"<p>" + ask + "</p>\n" +
		"<p><a href=\"" + escapeURLAttr(v.Link) + "\" style=\"font-weight: bold;\">" + button + "</a></p>\n" +
		"<p>The link works for " + escapeHTML(v.Validity) + ", until " + escapeHTML(v.ExpiresAt) +
		". If it does not open, copy this address into your browser:<br>" + link + "</p>\n" +
		"<p>" + ignore + "</p>\n" + htmlTail
}

func verificationRequested(v accountView) parts {
	const ignore = "If you did not create an account with this address, ignore this email: the address stays unconfirmed."
	return parts{
		subject: "Confirm your email address",
		text:    accountText(v, "Please confirm your email address by opening this link:", ignore),
		html:    accountHTML(v, "Confirm your email address", "Please confirm your email address:", "Confirm my email address", ignore),
	}
}

func passwordResetRequested(v accountView) parts {
	const ignore = "If you did not ask to reset your password, ignore this email: nothing changes, and your password stays as it is."
	return parts{
		subject: "Reset your password",
		text:    accountText(v, "We received a request to reset the password of your account. To choose a new password, open this link:", ignore),
		html: accountHTML(v, "Reset your password",
			"We received a request to reset the password of your account. To choose a new password:", "Reset my password", ignore),
	}
}

// validity says how long a link of lifetime d works, in words, rounded to
// the unit a reader expects: minutes under two hours (unless a whole hour),
// hours under two days, days beyond.
func validity(d time.Duration) string {
	const hour, day = 60, 24 * 60 // in minutes
	m := max(1, int(d.Round(time.Minute)/time.Minute))
	switch {
	case m < hour || m < 2*hour && m != hour:
		return plural(m, "minute")
	case m < 2*day:
		return plural((m+hour/2)/hour, "hour")
	default:
		return plural((m+day/2)/day, "day")
	}
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
