package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/serverless-shop/backend/functions/notifications/app"
	"github.com/serverless-shop/backend/functions/notifications/mail"
	shared "github.com/serverless-shop/backend/shared/events"
	"github.com/serverless-shop/backend/shared/sealed"
)

const (
	verifyFixture = "account_verification_requested.json"
	resetFixture  = "account_password_reset_requested.json"
)

// errKMS is a KMS failure worth retrying, as sealed.Opener reports it.
var errKMS = errors.New("open: operation error KMS: Decrypt, KMSInternalException: internal error")

// tokenOf is the link token the fake opener finds in an account event's
// sealed token: accountEvent seals one per event, shaped like a real one.
func tokenOf(eventID string) string { return "ev1." + eventID + ".c2VjcmV0LXZhbHVl" }

// accountEvent returns a valid account event from a fixture with its ids
// replaced, addressed to <accountID>@example.com, its token sealed for the
// fake opener, and edit applied (nil for none).
func accountEvent(t *testing.T, name, eventID, accountID string, edit func(e *shared.AccountEvent)) shared.AccountEvent {
	t.Helper()
	var e shared.AccountEvent
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(eventFixtures, name))), &e); err != nil {
		t.Fatal(err)
	}
	e.ID, e.CorrelationID = eventID, "corr-"+eventID
	e.Account.ID, e.Account.Email = accountID, accountID+"@example.com"
	e.Link.SealedToken = []byte(sealedPrefix + tokenOf(eventID))
	if edit != nil {
		edit(&e)
	}
	return e
}

// accountBody is accountEvent as a message body; it must be a valid event.
func accountBody(t *testing.T, name, eventID, accountID string, edit func(e *shared.AccountEvent)) string {
	t.Helper()
	data, err := json.Marshal(accountEvent(t, name, eventID, accountID, edit))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := shared.Parse(data); err != nil {
		t.Fatalf("event %s from %s is invalid: %v", eventID, name, err)
	}
	return string(data)
}

// expired makes the link of an account event dead by the handler's clock.
func expired(e *shared.AccountEvent) {
	e.OccurredAt, e.Link.ExpiresAt = now.Add(-2*time.Hour), now.Add(-time.Hour)
}

// unopenable gives an account event a sealed token that never opens.
func unopenable(e *shared.AccountEvent) { e.Link.SealedToken = []byte("corrupt ciphertext") }

// accountBatchCases check account events among order events: each outcome
// of the link (opened, expired, never opens, not now) and of the send.
var accountBatchCases = []batchCase{
	{
		name: "account events mailed beside an order event",
		records: func(t *testing.T) []events.SQSMessage {
			return []events.SQSMessage{
				message("m1", "usr-1", 1, accountBody(t, verifyFixture, "evt-1", "usr-1", nil)),
				message("m2", "ord-2", 1, eventBody(t, "order_created.json", "evt-2", "ord-2")),
				message("m3", "usr-3", 1, accountBody(t, resetFixture, "evt-3", "usr-3", nil)),
			}
		},
		want: batchWant{
			claimed:  []string{"evt-1", "evt-2", "evt-3"},
			opened:   []string{"evt-1", "evt-3"},
			sent:     []string{"usr-1@example.com", "ord-2", "usr-3@example.com"},
			finished: map[string]string{"evt-1": app.Sent, "evt-2": app.Sent, "evt-3": app.Sent},
			metrics:  map[string]float64{app.MetricSent: 3},
		},
	},
	{
		name: "expired link acknowledged unsent",
		records: func(t *testing.T) []events.SQSMessage {
			return []events.SQSMessage{
				message("m1", "usr-1", 4, accountBody(t, resetFixture, "evt-1", "usr-1", expired)),
				message("m2", "usr-1", 1, accountBody(t, verifyFixture, "evt-2", "usr-1", nil)),
			}
		},
		want: batchWant{
			claimed:  []string{"evt-2"},
			opened:   []string{"evt-2"},
			sent:     []string{"usr-1@example.com"},
			finished: map[string]string{"evt-2": app.Sent},
			metrics:  map[string]float64{app.MetricLinksExpired: 1, app.MetricSent: 1},
		},
	},
	{
		name: "sealed token that never opens is poison",
		records: func(t *testing.T) []events.SQSMessage {
			return []events.SQSMessage{
				message("m1", "usr-1", 1, accountBody(t, verifyFixture, "evt-1", "usr-1", unopenable)),
				message("m2", "usr-1", 1, accountBody(t, resetFixture, "evt-2", "usr-1", nil)),
			}
		},
		want: batchWant{
			claimed:  []string{"evt-1", "evt-2"},
			opened:   []string{"evt-1", "evt-2"},
			sent:     []string{"usr-1@example.com"},
			dlq:      []string{"m1"},
			released: []string{"evt-1"},
			finished: map[string]string{"evt-2": app.Sent},
			metrics:  map[string]float64{app.MetricPoison: 1, app.MetricSent: 1},
		},
	},
	{
		name: "transient open failure holds back its group",
		records: func(t *testing.T) []events.SQSMessage {
			return []events.SQSMessage{
				message("m1", "usr-1", 1, accountBody(t, verifyFixture, "evt-1", "usr-1", nil)),
				message("m2", "usr-1", 1, accountBody(t, resetFixture, "evt-2", "usr-1", nil)),
				message("m3", "usr-3", 1, accountBody(t, resetFixture, "evt-3", "usr-3", nil)),
			}
		},
		setup: func(w *world) { w.openErr = map[string]error{"evt-1": errKMS} },
		want: batchWant{
			failed:     []string{"m1", "m2"},
			claimed:    []string{"evt-1", "evt-3"},
			opened:     []string{"evt-1", "evt-3"},
			sent:       []string{"usr-3@example.com"},
			visibility: []string{"m1"},
			released:   []string{"evt-1"},
			finished:   map[string]string{"evt-3": app.Sent},
			metrics:    map[string]float64{app.MetricRetried: 1, app.MetricSent: 1},
		},
	},
	{
		name: "duplicate account event suppressed without opening its token",
		records: func(t *testing.T) []events.SQSMessage {
			return []events.SQSMessage{
				message("m1", "usr-1", 1, accountBody(t, verifyFixture, "evt-1", "usr-1", nil)),
				message("m2", "usr-2", 1, accountBody(t, verifyFixture, "evt-2", "usr-2", nil)),
			}
		},
		setup: func(w *world) { w.claimErr = map[string]error{"evt-1": app.ErrDone, "evt-2": app.ErrBusy} },
		want: batchWant{
			failed:     []string{"m2"},
			claimed:    []string{"evt-1", "evt-2"},
			visibility: []string{"m2"},
			metrics:    map[string]float64{app.MetricDuplicates: 1, app.MetricRetried: 1},
		},
	},
	{
		name: "account email failing for now is retried",
		records: func(t *testing.T) []events.SQSMessage {
			return []events.SQSMessage{
				message("m1", "usr-1", 2, accountBody(t, resetFixture, "evt-1", "usr-1", nil)),
			}
		},
		setup: func(w *world) { w.sendErr = map[string]error{"usr-1@example.com": errNetwork} },
		want: batchWant{
			failed:     []string{"m1"},
			claimed:    []string{"evt-1"},
			opened:     []string{"evt-1"},
			sent:       []string{"usr-1@example.com"},
			visibility: []string{"m1"},
			released:   []string{"evt-1"},
			metrics:    map[string]float64{app.MetricRetried: 1},
		},
	},
	{
		name: "account email rejected for good",
		records: func(t *testing.T) []events.SQSMessage {
			return []events.SQSMessage{
				message("m1", "usr-1", 1, accountBody(t, verifyFixture, "evt-1", "usr-1", nil)),
			}
		},
		setup: func(w *world) { w.sendErr = map[string]error{"usr-1@example.com": errRejected} },
		want: batchWant{
			claimed:  []string{"evt-1"},
			opened:   []string{"evt-1"},
			sent:     []string{"usr-1@example.com"},
			finished: map[string]string{"evt-1": app.Rejected},
			metrics:  map[string]float64{app.MetricRejected: 1},
		},
	},
}

// TestHandleAccountEmail checks the email of each account event: to the
// account, with its subject and the link to the token the opener returned,
// opened under the event's encryption context, and tagged as order emails.
func TestHandleAccountEmail(t *testing.T) {
	tests := []struct {
		name        string
		fixture     string
		wantSubject string
		wantLink    string
		wantCancel  string // the cancel link of a verification email
		wantType    string
	}{
		{
			name: "verification", fixture: verifyFixture, wantSubject: "Confirm your email address",
			wantLink: appBaseURL + "/verify-email?token=" + tokenOf("evt-1"), wantType: shared.AccountVerificationRequested,
			wantCancel: appBaseURL + "/cancel-registration?token=" + tokenOf("evt-1"),
		},
		{
			name: "password reset", fixture: resetFixture, wantSubject: "Reset your password",
			wantLink: appBaseURL + "/reset-password?token=" + tokenOf("evt-1"), wantType: shared.AccountPasswordResetRequested,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := &world{}
			e := accountEvent(t, tc.fixture, "evt-1", "usr-1", nil)
			records := []events.SQSMessage{message("m1", "usr-1", 1, accountBody(t, tc.fixture, "evt-1", "usr-1", nil))}
			resp, err := w.handler(t).Handle(context.Background(), events.SQSEvent{Records: records})
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.BatchItemFailures) != 0 {
				t.Errorf("batch item failures = %v, want none", failedIDs(resp))
			}
			if len(w.opens) != 1 {
				t.Fatalf("opened %d sealed tokens, want 1", len(w.opens))
			}
			if o := w.opens[0]; o.sealed != string(e.Link.SealedToken) || !reflect.DeepEqual(o.ec, e.SealContext()) {
				t.Errorf("Open(%q, %v), want Open(%q, %v)", o.sealed, o.ec, e.Link.SealedToken, e.SealContext())
			}
			if len(w.sent) != 1 {
				t.Fatalf("sent %d emails, want 1", len(w.sent))
			}
			got := w.sent[0]
			if got.email.To != "usr-1@example.com" {
				t.Errorf("To = %q, want the account's address", got.email.To)
			}
			if got.email.Subject != tc.wantSubject {
				t.Errorf("Subject = %q, want %q", got.email.Subject, tc.wantSubject)
			}
			if !strings.Contains(got.email.Text, "\n"+tc.wantLink+"\n") {
				t.Errorf("text part does not carry the link %s:\n%s", tc.wantLink, got.email.Text)
			}
			if want := `href="` + tc.wantLink + `"`; !strings.Contains(got.email.HTML, want) {
				t.Errorf("HTML part does not contain %s:\n%s", want, got.email.HTML)
			}
			if !strings.HasPrefix(got.email.Text, "Hello,\n") {
				t.Errorf("text part does not greet without a name:\n%s", got.email.Text)
			}
			if tc.wantCancel != "" && !strings.Contains(got.email.Text, "\n"+tc.wantCancel+"\n") {
				t.Errorf("text part does not carry the cancel link %s:\n%s", tc.wantCancel, got.email.Text)
			}
			if tc.wantCancel == "" && strings.Contains(got.email.Text, "/cancel-registration") {
				t.Errorf("a %s email carries a cancel link:\n%s", tc.name, got.email.Text)
			}
			wantTags := []app.Tag{{Name: "eventType", Value: tc.wantType}, {Name: "correlationId", Value: "corr-evt-1"}}
			if !slices.Equal(got.tags, wantTags) {
				t.Errorf("tags = %+v, want %+v", got.tags, wantTags)
			}
			wantFinish := []finish{{eventID: "evt-1", owner: "owner-1", status: app.Sent, messageID: "ses-usr-1@example.com"}}
			if !slices.Equal(w.finishes, wantFinish) {
				t.Errorf("finishes = %+v, want %+v", w.finishes, wantFinish)
			}
		})
	}
}

// TestHandleAccountLinkExpired checks that a link dead by the handler's
// clock is neither claimed, opened nor mailed, and that the log says why.
func TestHandleAccountLinkExpired(t *testing.T) {
	tests := []struct {
		name      string
		expiresAt time.Time
	}{
		{name: "expires this instant", expiresAt: now},
		{name: "expired an hour ago", expiresAt: now.Add(-time.Hour)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			w := &world{log: &logs}
			body := accountBody(t, resetFixture, "evt-1", "usr-1", func(e *shared.AccountEvent) {
				e.OccurredAt, e.Link.ExpiresAt = tc.expiresAt.Add(-30*time.Minute), tc.expiresAt
			})
			resp, err := w.handler(t).Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{message("m1", "usr-1", 3, body)}})
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.BatchItemFailures) != 0 || len(w.claims) != 0 || len(w.opens) != 0 || len(w.sent) != 0 || len(w.dlq) != 0 || len(w.visibility) != 0 {
				t.Errorf("an expired link was failed %v, claimed %d, opened %d, sent %d, dead-lettered %d or delayed %d times; want none",
					failedIDs(resp), len(w.claims), len(w.opens), len(w.sent), len(w.dlq), len(w.visibility))
			}
			if got := emf(t, &w.metrics); got[app.MetricLinksExpired] != 1 || len(got) != 1 {
				t.Errorf("metrics = %v, want only %s = 1", got, app.MetricLinksExpired)
			}
			line := logLine(t, &logs, "link expired")
			if line == nil {
				t.Fatalf("no log line says the link expired:\n%s", logs.String())
			}
			if line["level"] != "INFO" || line["eventId"] != "evt-1" || line["userId"] != "usr-1" || line["linkExpiresAt"] == nil {
				t.Errorf("expired link logged as %v, want INFO with eventId, userId and linkExpiresAt", line)
			}
		})
	}
}

// TestHandleAccountTokenNeverOpens checks that a sealed token that can never
// open releases the claim and dead-letters the message, with a reason.
func TestHandleAccountTokenNeverOpens(t *testing.T) {
	tests := []struct {
		name  string
		setup func(w *world)
		edit  func(e *shared.AccountEvent)
	}{
		{name: "corrupt ciphertext", edit: unopenable},
		{name: "sealed for another event", setup: func(w *world) {
			w.openErr = map[string]error{"evt-1": fmt.Errorf("%w: IncorrectKeyException", sealed.ErrCannotOpen)}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := &world{}
			if tc.setup != nil {
				tc.setup(w)
			}
			body := accountBody(t, verifyFixture, "evt-1", "usr-1", tc.edit)
			resp, err := w.handler(t).Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{message("m1", "usr-1", 1, body)}})
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.BatchItemFailures) != 0 || len(w.sent) != 0 || len(w.visibility) != 0 || len(w.finishes) != 0 {
				t.Errorf("failed %v, sent %d, delayed %d, finished %d; want none", failedIDs(resp), len(w.sent), len(w.visibility), len(w.finishes))
			}
			if want := []release{{"evt-1", "owner-1"}}; !slices.Equal(w.releases, want) {
				t.Errorf("releases = %+v, want %+v", w.releases, want)
			}
			if len(w.dlq) != 1 {
				t.Fatalf("moved %d messages to the DLQ, want 1", len(w.dlq))
			}
			if aws.ToString(w.dlq[0].MessageBody) != body || aws.ToString(w.dlq[0].MessageGroupId) != "usr-1" {
				t.Errorf("dead letter = %+v, want the original body in group usr-1", w.dlq[0])
			}
			reason := aws.ToString(w.dlq[0].MessageAttributes[app.AttrPoisonReason].StringValue)
			if !strings.Contains(reason, "open link token") || !strings.Contains(reason, sealed.ErrCannotOpen.Error()) {
				t.Errorf("%s = %q, want it to say the link token cannot be opened", app.AttrPoisonReason, reason)
			}
			if got := emf(t, &w.metrics); got[app.MetricPoison] != 1 || len(got) != 1 {
				t.Errorf("metrics = %v, want only %s = 1", got, app.MetricPoison)
			}
		})
	}
}

// TestHandleAccountOpenFailsForNow checks that a KMS failure worth retrying
// releases the claim and retries the message after a backoff.
func TestHandleAccountOpenFailsForNow(t *testing.T) {
	w := &world{openErr: map[string]error{"evt-1": errKMS}}
	body := accountBody(t, verifyFixture, "evt-1", "usr-1", nil)
	resp, err := w.handler(t).Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{message("m1", "usr-1", 3, body)}})
	if err != nil {
		t.Fatal(err)
	}
	if got := failedIDs(resp); !slices.Equal(got, []string{"m1"}) {
		t.Errorf("batch item failures = %v, want [m1]", got)
	}
	if want := []release{{"evt-1", "owner-1"}}; !slices.Equal(w.releases, want) {
		t.Errorf("releases = %+v, want %+v", w.releases, want)
	}
	if len(w.sent) != 0 || len(w.dlq) != 0 || len(w.finishes) != 0 {
		t.Errorf("sent %d, dead-lettered %d, finished %d; want none", len(w.sent), len(w.dlq), len(w.finishes))
	}
	if len(w.visibility) != 1 {
		t.Fatalf("changed visibility %d times, want once", len(w.visibility))
	}
	lo, hi := int32(app.Backoff(3, 0)/time.Second), int32(app.Backoff(3, 1)/time.Second)
	if v := w.visibility[0].VisibilityTimeout; v < lo || v > hi {
		t.Errorf("VisibilityTimeout = %d, want within Backoff(3) = [%d, %d]", v, lo, hi)
	}
	if got := emf(t, &w.metrics); got[app.MetricRetried] != 1 || len(got) != 1 {
		t.Errorf("metrics = %v, want only %s = 1", got, app.MetricRetried)
	}
}

// TestHandleAccountKeepsTheLinkSecret runs account events through every
// outcome and checks that neither the token nor the link reaches the log,
// the metrics, the dedupe table, the dead-letter queue's attributes or the
// SES tags, even when an error from SES quotes the email. The log must
// still say which event and account each line is about.
func TestHandleAccountKeepsTheLinkSecret(t *testing.T) {
	token := tokenOf("evt-1")
	verifyLink, err := mail.Link(appBaseURL, shared.AccountVerificationRequested, token)
	if err != nil {
		t.Fatal(err)
	}
	// Errors as a careless SDK might word them: quoting what was sent.
	chatty := func(wrap error) error {
		return fmt.Errorf("%w: content near %q (token %s)", wrap, verifyLink, token)
	}
	tests := []struct {
		name     string
		setup    func(w *world)
		wantLine string // a log line the outcome must write
	}{
		{name: "sent", wantLine: "email sent"},
		{name: "sent but not recorded", setup: func(w *world) { w.finishErr = errThrottled }, wantLine: "recording sent email failed"},
		{name: "SES fails for now", setup: func(w *world) { w.sendErr = map[string]error{"usr-1@example.com": chatty(errNetwork)} }, wantLine: "transient failure"},
		{name: "SES rejects for good", setup: func(w *world) { w.sendErr = map[string]error{"usr-1@example.com": chatty(app.ErrPermanent)} }, wantLine: "permanently rejected"},
		{name: "KMS fails for now", setup: func(w *world) { w.openErr = map[string]error{"evt-1": errKMS} }, wantLine: "transient failure"},
		{name: "token never opens", setup: func(w *world) {
			w.openErr = map[string]error{"evt-1": fmt.Errorf("%w: InvalidCiphertextException", sealed.ErrCannotOpen)}
		}, wantLine: "poison message"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			w := &world{log: &logs}
			if tc.setup != nil {
				tc.setup(w)
			}
			body := accountBody(t, verifyFixture, "evt-1", "usr-1", nil)
			if _, err := w.handler(t).Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{message("m1", "usr-1", 1, body)}}); err != nil {
				t.Fatal(err)
			}

			// Everything the handler wrote or handed on, but the email.
			places := map[string]string{"log": logs.String(), "metrics": w.metrics.String()}
			for _, f := range w.finishes {
				places["dedupe record"] += fmt.Sprintf("%+v\n", f)
			}
			for _, c := range w.claims {
				places["dedupe claim"] += fmt.Sprintf("%+v\n", c)
			}
			for _, in := range w.dlq {
				for name, a := range in.MessageAttributes {
					places["DLQ attributes"] += name + "=" + aws.ToString(a.StringValue) + "\n"
				}
			}
			for _, s := range w.sent {
				places["SES tags"] += fmt.Sprintf("%+v\n", s.tags)
			}
			for where, text := range places {
				for _, secret := range []string{token, verifyLink, "c2VjcmV0LXZhbHVl"} {
					if strings.Contains(text, secret) {
						t.Errorf("the %s contains %q:\n%s", where, secret, text)
					}
				}
			}

			line := logLine(t, &logs, tc.wantLine)
			if line == nil {
				t.Fatalf("no log line contains %q:\n%s", tc.wantLine, logs.String())
			}
			for key, want := range map[string]string{"eventId": "evt-1", "eventType": shared.AccountVerificationRequested, "userId": "usr-1", "correlationId": "corr-evt-1"} {
				if line[key] != want {
					t.Errorf("log line %q has %s = %v, want %q", tc.wantLine, key, line[key], want)
				}
			}
			if _, ok := line["orderId"]; ok {
				t.Errorf("log line of an account event has an orderId: %v", line)
			}
			// The email itself must still carry the link: redaction is for
			// everything else.
			if len(w.sent) > 0 && !strings.Contains(w.sent[0].email.Text, verifyLink) {
				t.Errorf("the email lost its link:\n%s", w.sent[0].email.Text)
			}
		})
	}
}

// logLine returns the first JSON log line whose message contains msg, or nil.
func logLine(t *testing.T, logs *bytes.Buffer, msg string) map[string]any {
	t.Helper()
	for _, raw := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var line map[string]any
		if err := json.Unmarshal([]byte(raw), &line); err != nil {
			t.Fatalf("log line is not JSON: %v\n%s", err, raw)
		}
		if m, _ := line["message"].(string); strings.Contains(m, msg) {
			return line
		}
	}
	return nil
}
