package app_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/serverless-shop/backend/functions/notifications/app"
	"github.com/serverless-shop/backend/functions/notifications/mail"
	shared "github.com/serverless-shop/backend/shared/events"
	"github.com/serverless-shop/backend/shared/metrics"
	"github.com/serverless-shop/backend/shared/sealed"
)

// TestHandleBatch runs batches through every outcome of the claim, the
// send and the link, and checks that a message retried later holds back
// the rest of its FIFO group, so a customer never gets emails out of order.
// A sealed token that can never open releases the claim and dead-letters
// the message, with a reason; a link dead by the handler's clock is
// neither claimed, opened nor mailed, and the log says why.
func TestHandleBatch(t *testing.T) {
	expiryLogged := func(t *testing.T, w *world) {
		if line := w.logLine("link expired"); line == nil || line["level"] != "INFO" || line["eventId"] != "evt-1" || line["userId"] != "usr-1" || line["linkExpiresAt"] == nil {
			t.Errorf("expired link logged as %v, want INFO with eventId, userId and linkExpiresAt:\n%s", line, w.logs.String())
		}
	}
	runBatches(t, []batchCase{
		{name: "empty batch"},
		{
			name: "the life cycle of an order, each step mailed in order",
			msgs: []events.SQSMessage{order("created", "evt-1", "ord-1"), order("confirmed", "evt-2", "ord-1"), order("shipped", "evt-3", "ord-1"),
				order("delivered", "evt-4", "ord-1"), order("cancelled_by_shop", "evt-5", "ord-2")},
			trace:   "claim evt-1, send ord-1, SENT evt-1, claim evt-2, send ord-1, SENT evt-2, claim evt-3, send ord-1, SENT evt-3, claim evt-4, send ord-1, SENT evt-4, claim evt-5, send ord-2, SENT evt-5",
			metrics: "EmailsSent=5",
		},
		{
			name: "duplicates suppressed, wrapped or not",
			msgs: orders(1, 3),
			setup: func(w *world) {
				w.claimErr = map[string]error{"evt-1": app.ErrDone, "evt-2": fmt.Errorf("claim evt-2: %w", app.ErrDone)}
			},
			trace:   "claim evt-1, claim evt-2, claim evt-3, send ord-3, SENT evt-3",
			metrics: "DuplicatesSuppressed=2 EmailsSent=1",
		},
		{
			name:    "a claim busy or failing holds back its group",
			msgs:    []events.SQSMessage{order("created", "evt-1", "ord-1"), order("created", "evt-2", "ord-2"), order("cancelled", "evt-3", "ord-1"), order("created", "evt-4", "ord-4")},
			setup:   func(w *world) { w.claimErr = map[string]error{"evt-1": app.ErrBusy, "evt-2": errThrottled} },
			failed:  "m1 m2 m3",
			trace:   "claim evt-1, delay m1, claim evt-2, delay m2, claim evt-4, send ord-4, SENT evt-4",
			metrics: "EmailsSent=1 TransientFailures=2",
		},
		{
			name: "a transient send error holds back the rest of its group, poison too",
			msgs: []events.SQSMessage{order("created", "evt-1", "ord-1"), order("created", "evt-2", "ord-2"), order("cancelled", "evt-3", "ord-1"),
				order("cancelled", "evt-4", "ord-2"), msg("ord-1", fixture("poison_bad_json.json"))},
			setup:   func(w *world) { w.sendErr = map[string]error{"ord-1": errNetwork} },
			failed:  "m1 m3 m5",
			trace:   "claim evt-1, send ord-1, release evt-1, delay m1, claim evt-2, send ord-2, SENT evt-2, claim evt-4, send ord-2, SENT evt-4",
			metrics: "EmailsSent=2 TransientFailures=1",
		},
		{
			name:    "a transient send error without a group holds nothing back",
			msgs:    []events.SQSMessage{msg("", order("created", "evt-1", "ord-1").Body), msg("", order("cancelled", "evt-2", "ord-1").Body)},
			setup:   func(w *world) { w.sendErr = map[string]error{"ord-1": errNetwork} },
			failed:  "m1 m2",
			trace:   "claim evt-1, send ord-1, release evt-1, delay m1, claim evt-2, send ord-1, release evt-2, delay m2",
			metrics: "TransientFailures=2",
		},
		{
			name:    "failing to release or to change the visibility still fails the message",
			msgs:    orders(1, 1),
			setup:   func(w *world) { w.sesErr, w.releaseErr, w.visErr = errNetwork, errThrottled, errQueue },
			failed:  "m1",
			trace:   "claim evt-1, send ord-1, release evt-1, delay m1",
			metrics: "TransientFailures=1",
		},
		{
			name:    "a permanent rejection is recorded and never retried",
			msgs:    []events.SQSMessage{order("created", "evt-1", "ord-1"), order("cancelled", "evt-2", "ord-1"), order("created", "evt-3", "ord-3")},
			setup:   func(w *world) { w.sendErr = map[string]error{"ord-3": errRejected} },
			trace:   "claim evt-1, send ord-1, SENT evt-1, claim evt-2, send ord-1, SENT evt-2, claim evt-3, send ord-3, REJECTED evt-3",
			metrics: "EmailsRejected=1 EmailsSent=2",
			check: func(t *testing.T, w *world) {
				if got, want := w.finishes[2], (finish{"evt-3", "owner-3", app.Rejected, "", errRejected.Error()}); got != want {
					t.Errorf("rejection recorded as %+v, want %+v", got, want)
				}
			},
		},
		{
			name:    "failing to record an email that is out does not send it again",
			msgs:    orders(1, 2),
			setup:   func(w *world) { w.finishErr, w.sendErr = errThrottled, map[string]error{"ord-2": errRejected} },
			trace:   "claim evt-1, send ord-1, SENT evt-1, claim evt-2, send ord-2, REJECTED evt-2",
			metrics: "EmailsRejected=1 EmailsSent=1",
		},

		{
			name:    "account events mailed beside an order event",
			msgs:    []events.SQSMessage{account(verify, "evt-1", "usr-1"), order("created", "evt-2", "ord-2"), account(reset, "evt-3", "usr-3")},
			trace:   "claim evt-1, open evt-1, send usr-1@example.com, SENT evt-1, claim evt-2, send ord-2, SENT evt-2, claim evt-3, open evt-3, send usr-3@example.com, SENT evt-3",
			metrics: "EmailsSent=3",
		},
		{
			name:    "a transient open failure holds back its group",
			msgs:    []events.SQSMessage{account(verify, "evt-1", "usr-1"), account(reset, "evt-2", "usr-1"), account(reset, "evt-3", "usr-3")},
			setup:   func(w *world) { w.openErr = map[string]error{"evt-1": errKMS} },
			failed:  "m1 m2",
			trace:   "claim evt-1, open evt-1, release evt-1, delay m1, claim evt-3, open evt-3, send usr-3@example.com, SENT evt-3",
			metrics: "EmailsSent=1 TransientFailures=1",
		},
		{
			name:    "a duplicate account event is suppressed without opening its token",
			msgs:    []events.SQSMessage{account(verify, "evt-1", "usr-1"), account(verify, "evt-2", "usr-2")},
			setup:   func(w *world) { w.claimErr = map[string]error{"evt-1": app.ErrDone, "evt-2": app.ErrBusy} },
			failed:  "m2",
			trace:   "claim evt-1, claim evt-2, delay m2",
			metrics: "DuplicatesSuppressed=1 TransientFailures=1",
		},

		{
			name:    "a token of corrupt ciphertext is dead-lettered",
			msgs:    []events.SQSMessage{account(verify, "evt-1", "usr-1", unopenable), account(reset, "evt-2", "usr-1")},
			trace:   "claim evt-1, open evt-1, release evt-1, dlq m1, claim evt-2, open evt-2, send usr-1@example.com, SENT evt-2",
			metrics: "EmailsSent=1 PoisonMessages=1",
			reason:  []string{"open link token", sealed.ErrCannotOpen.Error()},
		},

		{
			name:    "a link expiring this instant is not mailed",
			msgs:    []events.SQSMessage{account(reset, "evt-1", "usr-1", expiring(now)), account(verify, "evt-2", "usr-1")},
			trace:   "claim evt-2, open evt-2, send usr-1@example.com, SENT evt-2",
			metrics: "EmailsSent=1 LinksExpired=1",
			check:   expiryLogged,
		},
	})
}

// TestHandlePoisonToDLQ checks that a message no retry can fix goes to the
// dead-letter queue at once, with the reason (the world checks the rest of
// the dead letter), without holding up the messages around it.
func TestHandlePoisonToDLQ(t *testing.T) {
	valid := order("created", "evt-1", "ord-1").Body
	// poison is a batch of one message of group with body, dead-lettered
	// for reason.
	poison := func(name, group, body string, reason ...string) batchCase {
		return batchCase{name: name, msgs: []events.SQSMessage{msg(group, body)}, trace: "dlq m1", metrics: "PoisonMessages=1", reason: reason}
	}
	runBatches(t, []batchCase{
		poison("bad JSON", "ord-9", fixture("poison_bad_json.json"), "invalid event", "unexpected EOF"),
		poison("inconsistent total", "ord-1", strings.Replace(valid, `"total":127955`, `"total":1`, 1), "order.total is not the sum of its lines"),
		poison("oversized", "ord-1", `{"type":"`+strings.Repeat("x", shared.MaxBytes)+`"}`, "exceeds"),
		poison("very long reason is truncated", "ord-1", `{"type":"`+strings.Repeat("x", 5000)+`"}`, "unknown type"),
		poison("standard queue message gets a group", "", fixture("poison_version2.json"), "unsupported version 2"),
		{
			name: "poison among valid holds back nothing",
			msgs: []events.SQSMessage{order("created", "evt-1", "ord-1"), msg("ord-3", fixture("poison_unknown_type.json")), order("cancelled", "evt-3", "ord-3"),
				msg("ord-4", fixture("poison_version2.json")), order("cancelled", "evt-5", "ord-4"), msg("ord-9", fixture("poison_bad_json.json"))},
			trace:   "claim evt-1, send ord-1, SENT evt-1, dlq m2, claim evt-3, send ord-3, SENT evt-3, dlq m4, claim evt-5, send ord-4, SENT evt-5, dlq m6",
			metrics: "EmailsSent=3 PoisonMessages=3",
		}, {
			name:    "failing to dead-letter retries the message, holding back its group",
			msgs:    []events.SQSMessage{msg("ord-9", fixture("poison_bad_json.json")), order("created", "evt-2", "ord-9"), order("created", "evt-3", "ord-3")},
			setup:   func(w *world) { w.dlqErr = errQueue },
			failed:  "m1 m2",
			trace:   "dlq m1, delay m1, claim evt-3, send ord-3, SENT evt-3",
			metrics: "EmailsSent=1 PoisonMessages=1 TransientFailures=1",
		}})
}

// TestHandleEmail checks the email of each kind of event: the renderer's
// email of the event (an account event's with the links to its token,
// opened under the event's encryption context), its SES tags, and the
// record of its sending.
func TestHandleEmail(t *testing.T) {
	r := mail.NewRenderer()
	for _, m := range []events.SQSMessage{order("created", "evt-1", "ord-1"), order("cancelled", "evt-1", "ord-1"), account(verify, "evt-1", "usr-1"), account(reset, "evt-1", "usr-1")} {
		ev, err := shared.Parse([]byte(m.Body))
		if err != nil {
			t.Fatal(err)
		}
		t.Run(ev.Head().Type, func(t *testing.T) {
			w := newWorld(t)
			w.handle(context.Background(), w.handler(), m)
			var want mail.Email
			switch e := ev.(type) {
			case shared.OrderEvent:
				want, err = r.Render(e)
			case shared.AccountEvent:
				if opened := []openCall{{string(e.Link.SealedToken), e.SealContext()}}; !reflect.DeepEqual(w.opens, opened) {
					t.Errorf("opened %+v, want %+v", w.opens, opened)
				}
				want, _, err = r.RenderAccount(e, appBaseURL, tokenOf("evt-1"))
			}
			if err != nil || len(w.sent) != 1 || w.sent[0].email != want {
				t.Fatalf("sent %+v, want %+v (%v)", w.sent, want, err)
			}
			if want := []app.Tag{{Name: "eventType", Value: ev.Head().Type}, {Name: "correlationId", Value: "corr-evt-1"}}; !slices.Equal(w.sent[0].tags, want) {
				t.Errorf("tags = %+v, want %+v", w.sent[0].tags, want)
			}
			if want := []finish{{"evt-1", "owner-1", app.Sent, "ses-" + mailKey(want), ""}}; !slices.Equal(w.finishes, want) {
				t.Errorf("finishes = %+v, want %+v", w.finishes, want)
			}
		})
	}
}

// TestHandleAccountKeepsTheLinkSecret runs an account event through every
// outcome and checks that neither the token nor the link reaches the log,
// the metrics, the dedupe table, the dead-letter queue's attributes or the
// SES tags, even when an error from SES quotes the email. The log must
// still say which event and account each line is about.
func TestHandleAccountKeepsTheLinkSecret(t *testing.T) {
	token := tokenOf("evt-1")
	link := appBaseURL + "/verify-email?token=" + token
	// Errors as a careless SDK might word them: quoting what was sent.
	chatty := func(wrap error) map[string]error {
		return map[string]error{"usr-1@example.com": fmt.Errorf("%w: content near %q (token %s)", wrap, link, token)}
	}
	tests := []struct {
		name  string
		setup func(w *world)
		line  string // a log line the outcome must write
	}{
		{"sent", func(*world) {}, "email sent"},
		{"sent but not recorded", func(w *world) { w.finishErr = errThrottled }, "recording sent email failed"},
		{"SES fails for now", func(w *world) { w.sendErr = chatty(errNetwork) }, "transient failure"},
		{"SES rejects for good", func(w *world) { w.sendErr = chatty(app.ErrPermanent) }, "permanently rejected"},
		{"KMS fails for now", func(w *world) { w.openErr = map[string]error{"evt-1": errKMS} }, "transient failure"},
		{"token never opens", func(w *world) { w.openErr = map[string]error{"evt-1": errWrongKey} }, "poison message"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			tc.setup(w)
			w.handle(context.Background(), w.handler(), account(verify, "evt-1", "usr-1"))
			// Everything the handler wrote or handed on, but the email.
			handedOn := fmt.Sprint(w.logs.String(), w.metrics.String(), w.trace, w.finishes)
			for _, s := range w.sent {
				handedOn += fmt.Sprint(s.tags)
			}
			for _, in := range w.dlq {
				handedOn += fmt.Sprint(aws.ToString(in.MessageAttributes[app.AttrPoisonReason].StringValue))
			}
			for _, secret := range []string{token, link, "c2VjcmV0LXZhbHVl"} {
				if strings.Contains(handedOn, secret) {
					t.Errorf("%q reached the log, metrics, dedupe table, dead letter or tags:\n%s", secret, handedOn)
				}
			}
			line := w.logLine(tc.line)
			for key, want := range map[string]any{"eventId": "evt-1", "eventType": shared.AccountVerificationRequested, "userId": "usr-1", "correlationId": "corr-evt-1", "orderId": nil} {
				if line[key] != want {
					t.Errorf("log line %q has %s = %v, want %v:\n%s", tc.line, key, line[key], want, w.logs.String())
				}
			}
			// The email itself still carries the link: redaction is for
			// everything else.
			if len(w.sent) > 0 && !strings.Contains(w.sent[0].email.Text, link) {
				t.Errorf("the email lost its link:\n%s", w.sent[0].email.Text)
			}
		})
	}
}

// TestHandleMetricsLineLost: a metrics line that cannot be written is
// logged, and the batch's answer stands: the email is out.
func TestHandleMetricsLineLost(t *testing.T) {
	w := newWorld(t)
	h := w.handler()
	h.Metrics = metrics.New(failingWriter{}, "notifications")
	failed, _ := w.handle(context.Background(), h, orders(1, 1)...)
	if trace := strings.Join(w.trace, ", "); failed != "" || trace != "claim evt-1, send ord-1, SENT evt-1" || w.logLine("metrics flush failed") == nil {
		t.Errorf("failed %q, calls %q, flush failure logged: %v; want the email sent and the failure logged", failed, trace, w.logLine("metrics flush failed") != nil)
	}
}

// failingWriter refuses every write, as a closed stdout would.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) {
	return 0, errors.New("write /dev/stdout: broken pipe")
}
