//go:build integration

package testcloud

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// Mail is one email as the local cloud's SES mailbox shows it.
type Mail struct {
	// To holds the destinations as SendEmail was given them: ASCII, a
	// Unicode domain in Punycode (functions/notifications/sesmail).
	To      []string
	Subject string
	Text    string
	HTML    string
	// Sent is when SES accepted the email, as the mailbox records it
	// (MiniStack: its SendEmail's Timestamp, to the microsecond; LocalStack:
	// to the second); zero when it does not say.
	Sent time.Time
}

// Mailbox returns every email the local cloud's SES has sent. With
// Capabilities, it is what the tests know of which emulator runs: MiniStack
// lists sent mail at /_ministack/ses/messages, LocalStack at /_aws/ses
// (LOCAL_CLOUD=localstack).
func Mailbox(t testing.TB) []Mail {
	t.Helper()
	var out []Mail
	if Cloud() == "localstack" {
		var ls struct {
			Messages []struct {
				Destination struct {
					ToAddresses []string `json:"ToAddresses"`
				} `json:"Destination"`
				Subject string `json:"Subject"`
				Body    struct {
					Text string `json:"text_part"`
					HTML string `json:"html_part"`
				} `json:"Body"`
				// When SendEmail was handled, in UTC to the second, without
				// a zone: "2026-02-26T10:14:34" (localstack-core 4.14's
				// SesProvider, timestamp()).
				Timestamp string `json:"Timestamp"`
			} `json:"messages"`
		}
		getJSON(t, Endpoint()+"/_aws/ses", &ls)
		for _, m := range ls.Messages {
			sent, err := time.ParseInLocation("2006-01-02T15:04:05", m.Timestamp, time.UTC)
			if err != nil {
				sent, _ = time.Parse(time.RFC3339Nano, m.Timestamp) // zero when neither
			}
			out = append(out, Mail{To: m.Destination.ToAddresses, Subject: m.Subject, Text: m.Body.Text, HTML: m.Body.HTML, Sent: sent})
		}
		return out
	}
	var ms struct {
		Messages map[string][]struct {
			To       []string `json:"To"`
			Subject  string   `json:"Subject"`
			BodyText string   `json:"BodyText"`
			BodyHTML string   `json:"BodyHtml"`
			// Seconds since the epoch, when its SendEmail was handled.
			Timestamp float64 `json:"Timestamp"`
		} `json:"messages"`
	}
	getJSON(t, Endpoint()+"/_ministack/ses/messages", &ms)
	for _, msgs := range ms.Messages {
		for _, m := range msgs {
			var sent time.Time
			if m.Timestamp > 0 {
				sent = time.UnixMicro(int64(m.Timestamp * 1e6))
			}
			out = append(out, Mail{To: m.To, Subject: m.Subject, Text: m.BodyText, HTML: m.BodyHTML, Sent: sent})
		}
	}
	return out
}

// getJSON reads the mailbox at url into v. The emulator serves it from
// memory, but a busy machine, with hundreds of emails in it, can take a
// while: a read that times out, fails to connect or answers other than 200
// is tried again, up to three times in all, before the test fails.
func getJSON(t testing.TB, url string, v any) {
	t.Helper()
	var err error
	for try := range 3 {
		if try > 0 {
			time.Sleep(time.Second)
		}
		if err = readJSON(url, v); err == nil {
			return
		}
	}
	t.Fatalf("read mailbox (3 tries): %v", err)
}

// readJSON is one read of getJSON's.
func readJSON(url string, v any) error {
	resp, err := (&http.Client{Timeout: 20 * time.Second}).Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s", resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// MailTo returns the emails sent to addr whose subject contains needle.
// addr is compared with the destination as sent, ignoring case: an
// account's email with a Unicode domain is found by its Punycode.
func MailTo(t testing.TB, addr, needle string) []Mail {
	t.Helper()
	var out []Mail
	for _, m := range Mailbox(t) {
		if strings.Contains(m.Subject, needle) && slices.ContainsFunc(m.To, func(to string) bool { return strings.EqualFold(to, addr) }) {
			out = append(out, m)
		}
	}
	return out
}

// pollInterval is how often the waiting helpers look again.
const pollInterval = 250 * time.Millisecond

// Eventually retries check every pollInterval until it returns true, and
// fails the test with what when within passes first.
func Eventually(t testing.TB, within time.Duration, what string, check func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !check() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(pollInterval)
	}
}
