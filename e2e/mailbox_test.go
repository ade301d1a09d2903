//go:build integration

package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// sentMail is one email as the local cloud's SES mailbox shows it. This file
// is the only part of the tests that knows which emulator runs.
type sentMail struct {
	To      []string
	Subject string
	Text    string
	HTML    string
}

// mailbox returns every email the local cloud's SES has sent.
func mailbox(t *testing.T) []sentMail {
	t.Helper()
	endpoint := os.Getenv("AWS_ENDPOINT_URL")
	var raw struct {
		// MiniStack: GET /_ministack/ses/messages, grouped by account.
		Messages map[string][]struct {
			To       []string `json:"To"`
			Subject  string   `json:"Subject"`
			BodyText string   `json:"BodyText"`
			BodyHTML string   `json:"BodyHtml"`
		} `json:"messages"`
	}
	var ls struct {
		// LocalStack: GET /_aws/ses.
		Messages []struct {
			Destination struct {
				ToAddresses []string `json:"ToAddresses"`
			} `json:"Destination"`
			Subject string `json:"Subject"`
			Body    struct {
				Text string `json:"text_part"`
				HTML string `json:"html_part"`
			} `json:"Body"`
		} `json:"messages"`
	}
	var out []sentMail
	if os.Getenv("LOCAL_CLOUD") == "localstack" {
		getJSON(t, endpoint+"/_aws/ses", &ls)
		for _, m := range ls.Messages {
			out = append(out, sentMail{To: m.Destination.ToAddresses, Subject: m.Subject, Text: m.Body.Text, HTML: m.Body.HTML})
		}
		return out
	}
	getJSON(t, endpoint+"/_ministack/ses/messages", &raw)
	for _, msgs := range raw.Messages {
		for _, m := range msgs {
			out = append(out, sentMail{To: m.To, Subject: m.Subject, Text: m.BodyText, HTML: m.BodyHTML})
		}
	}
	return out
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("read mailbox: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("read mailbox: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("read mailbox: %v", err)
	}
}

// mailFor returns the emails sent to addr whose subject contains needle.
func mailFor(t *testing.T, addr, needle string) []sentMail {
	var out []sentMail
	for _, m := range mailbox(t) {
		for _, to := range m.To {
			if strings.EqualFold(to, addr) && strings.Contains(m.Subject, needle) {
				out = append(out, m)
			}
		}
	}
	return out
}

// awaitMail polls the mailbox until an email to addr with needle in its
// subject arrives, and returns it.
func awaitMail(t *testing.T, addr, needle string, within time.Duration) sentMail {
	t.Helper()
	var got []sentMail
	eventually(t, within, fmt.Sprintf("email to %s about %q", addr, needle), func() bool {
		got = mailFor(t, addr, needle)
		return len(got) > 0
	})
	return got[0]
}
