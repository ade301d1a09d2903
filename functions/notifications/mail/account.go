package mail

import (
	"errors"
	"fmt"
	"net/url"
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

// CancelPath is the app's page that takes a verification link's token to
// cancel the registration instead (POST /v1/auth/cancel-registration).
const CancelPath = "/cancel-registration"

// AccountLinks are the links an account email carries.
type AccountLinks struct {
	// Link is the link of the event's purpose (see Links).
	Link string
	// Cancel, in a verification email only, is the link for a recipient
	// who did not register: the same token, posted to cancel the
	// registration, which deletes the unverified account and frees the
	// address.
	Cancel string
}

// Links returns the links an account email of eventType carries, all with
// token escaped into their query: the app's page for the event's purpose
// under base (as BaseURL returned it, at cold start), and for a
// verification email the cancel link. It refuses an event type without a
// page and an empty token; its errors never contain the token.
func Links(base, eventType, token string) (AccountLinks, error) {
	path, ok := linkPaths[eventType]
	if !ok {
		return AccountLinks{}, fmt.Errorf("link: no page for event type %q", eventType)
	}
	if token == "" {
		return AccountLinks{}, errors.New("link: empty token")
	}
	// Tokens are URL-safe ([A-Za-z0-9._-]) today; escaping keeps the links
	// whole should that ever change.
	query := "?token=" + url.QueryEscape(token)
	l := AccountLinks{Link: base + path + query}
	if eventType == events.AccountVerificationRequested {
		l.Cancel = base + CancelPath + query
	}
	return l, nil
}

// RenderAccount renders the email for an account event, carrying the
// links to token under base, which it returns too (Links, whose errors it
// returns). The event must be valid. The event's name, if an older
// producer still sent one, is not read.
func (r *Renderer) RenderAccount(e events.AccountEvent, base, token string) (Email, AccountLinks, error) {
	links, err := Links(base, e.Type, token)
	if err != nil {
		return Email{}, AccountLinks{}, err
	}
	// The email sees the links, never the sealed token or the rest of the
	// event; and no name: an account email may go to an address nobody has
	// proved (a verification, or a reset of an unverified account), so it
	// carries no text the registrant chose.
	return r.layouts[e.Type].fill(e.Account.Email, map[string]string{"{{.Link}}": links.Link, "{{.Cancel}}": links.Cancel,
		"{{.Validity}}": validity(e.Link.ExpiresAt.Sub(e.OccurredAt)), "{{.ExpiresAt}}": formatTime(e.Link.ExpiresAt)}), links, nil
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
