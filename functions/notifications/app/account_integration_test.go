//go:build integration

package app_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/serverless-shop/backend/functions/notifications/app"
	"github.com/serverless-shop/backend/internal/testcloud"
	shared "github.com/serverless-shop/backend/shared/events"
	"github.com/serverless-shop/backend/shared/sealed"
)

// accountEventFor returns a valid account event of typ for a fresh account
// of this run, with a link of lifetime ttl, and a fresh link token shaped
// like the users service's.
func accountEventFor(run, typ, n string, ttl time.Duration) (shared.AccountEvent, string) {
	now := time.Now().UTC().Truncate(time.Millisecond)
	id := "usr-" + run + "-" + n
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	e := shared.AccountEvent{
		Header:  shared.Header{Type: typ, Version: shared.Version, ID: "ev-" + run + "-" + n, OccurredAt: now, CorrelationID: "corr-" + run + "-" + n},
		Account: shared.Account{ID: id, Email: "a-" + run + "-" + n + "@example.com"},
		Link:    shared.Link{ExpiresAt: now.Add(ttl)},
	}
	return e, "ev1." + id + "." + base64.RawURLEncoding.EncodeToString(secret)
}

// TestAccountEmailsCarryTheOpenedLink seals link tokens with a real KMS key
// as the users service does, sends the events through the queue and checks
// that each email carries the link with its token, that a token sealed for
// another account is dead-lettered, that an expired link is not mailed, and
// that no token reaches the log.
func TestAccountEmailsCarryTheOpenedLink(t *testing.T) {
	ctx := context.Background()
	kc := kms.NewFromConfig(testcloud.Config(t))
	key := testcloud.NewKey(t, kc, kmstypes.KeySpecSymmetricDefault, kmstypes.KeyUsageTypeEncryptDecrypt)
	sealer := sealed.NewSealer(kc, key)
	r := newRig(t, rigOptions{linkKey: key})
	run := runID()

	seal := func(e *shared.AccountEvent, token string, ec map[string]string) {
		t.Helper()
		box, err := sealer.Seal(ctx, []byte(token), ec)
		if err != nil {
			t.Fatal(err)
		}
		e.Link.SealedToken = box
	}
	send := func(e shared.AccountEvent) {
		t.Helper()
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		r.send(string(b), e.Account.ID, e.ID, e.CorrelationID)
	}

	verify, verifyToken := accountEventFor(run, shared.AccountVerificationRequested, "1", 24*time.Hour)
	seal(&verify, verifyToken, verify.SealContext())
	reset, resetToken := accountEventFor(run, shared.AccountPasswordResetRequested, "2", 30*time.Minute)
	seal(&reset, resetToken, reset.SealContext())
	// A sealed token moved into another account's event: KMS refuses it.
	moved, movedToken := accountEventFor(run, shared.AccountPasswordResetRequested, "3", 30*time.Minute)
	seal(&moved, movedToken, reset.SealContext())
	// A link that died before it was mailed, as after a late redrive.
	dead, deadToken := accountEventFor(run, shared.AccountVerificationRequested, "4", time.Hour)
	dead.OccurredAt = dead.OccurredAt.Add(-2 * time.Hour)
	dead.Link.ExpiresAt = dead.OccurredAt.Add(time.Hour)
	seal(&dead, deadToken, dead.SealContext())

	for _, e := range []shared.AccountEvent{verify, reset, moved, dead} {
		send(e)
	}
	r.poll(time.Minute)

	for _, tc := range []struct {
		e       shared.AccountEvent
		subject string
		link    string
	}{
		{verify, "Confirm your email address", rigAppBaseURL + "/verify-email?token=" + verifyToken},
		{reset, "Reset your password", rigAppBaseURL + "/reset-password?token=" + resetToken},
	} {
		got := testcloud.MailTo(t, tc.e.Account.Email, tc.subject)
		if len(got) != 1 {
			t.Fatalf("%s received %d emails %q, want 1", tc.e.Account.Email, len(got), tc.subject)
		}
		if !strings.Contains(got[0].Text, "\n"+tc.link+"\n") {
			t.Errorf("%s: text part does not carry the link %s:\n%s", tc.e.Type, tc.link, got[0].Text)
		}
		if !strings.Contains(got[0].HTML, `href="`+tc.link+`"`) {
			t.Errorf("%s: HTML part does not link to %s:\n%s", tc.e.Type, tc.link, got[0].HTML)
		}
	}
	for _, e := range []shared.AccountEvent{moved, dead} {
		for _, m := range testcloud.Mailbox(t) {
			for _, to := range m.To {
				if strings.EqualFold(to, e.Account.Email) {
					t.Errorf("%s was mailed %q", to, m.Subject)
				}
			}
		}
	}

	dlq := r.dlqMessages()
	if len(dlq) != 1 {
		t.Fatalf("%d messages in the dead-letter queue, want the moved token's", len(dlq))
	}
	reason := aws.ToString(dlq[0].MessageAttributes[app.AttrPoisonReason].StringValue)
	if !strings.Contains(reason, sealed.ErrCannotOpen.Error()) {
		t.Errorf("dead letter reason = %q, want it to say the token cannot be opened", reason)
	}
	if !strings.Contains(aws.ToString(dlq[0].Body), moved.ID) {
		t.Errorf("dead letter is not the moved token's event: %s", aws.ToString(dlq[0].Body))
	}

	for name, want := range map[string]int{app.MetricSent: 2, app.MetricPoison: 1, app.MetricLinksExpired: 1} {
		if got := r.metricTotal(name); got != want {
			t.Errorf("metric %s = %d, want %d", name, got, want)
		}
	}
	for _, token := range []string{verifyToken, resetToken, movedToken, deadToken} {
		if strings.Contains(r.logs.String(), token) || strings.Contains(reason, token) {
			t.Errorf("a link token reached the log or the dead-letter reason")
		}
	}
}

// TestReaddressedLinkIsRefusedAndNotMailed plays a writer of events that
// is not the users service (a compromised relay, a wrong grant on the
// queue or the users table): it takes password reset events sealed with a
// real KMS key as the users service seals them and puts them on the queue
// re-addressed to itself, with a later expiry, or as a verification link.
// The notification function rebuilds the encryption context from the event
// it would mail, so KMS refuses each: nothing is mailed, neither to the new
// address nor to anyone, and each is dead-lettered as poison. The event as
// sealed is mailed.
func TestReaddressedLinkIsRefusedAndNotMailed(t *testing.T) {
	ctx := context.Background()
	kc := kms.NewFromConfig(testcloud.Config(t))
	key := testcloud.NewKey(t, kc, kmstypes.KeySpecSymmetricDefault, kmstypes.KeyUsageTypeEncryptDecrypt)
	sealer := sealed.NewSealer(kc, key)
	r := newRig(t, rigOptions{linkKey: key})
	run := runID()
	mallory := "mallory-" + run + "@example.com"

	// issue seals a reset link's token as the users service does: under
	// the context of the event as it is written to the outbox.
	issue := func(n string) (shared.AccountEvent, string) {
		t.Helper()
		e, token := accountEventFor(run, shared.AccountPasswordResetRequested, n, 30*time.Minute)
		box, err := sealer.Seal(ctx, []byte(token), e.SealContext())
		if err != nil {
			t.Fatal(err)
		}
		e.Link.SealedToken = box
		return e, token
	}
	intact, intactToken := issue("1")
	readdressed, readdressedToken := issue("2")
	victim := readdressed.Account.Email
	readdressed.Account.Email = mallory
	extended, extendedToken := issue("3")
	extended.Link.ExpiresAt = extended.Link.ExpiresAt.Add(24 * time.Hour)
	repurposed, repurposedToken := issue("4")
	repurposed.Type = shared.AccountVerificationRequested
	tampered := map[string]shared.AccountEvent{readdressed.ID: readdressed, extended.ID: extended, repurposed.ID: repurposed}

	for _, e := range []shared.AccountEvent{intact, readdressed, extended, repurposed} {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		r.send(string(b), e.Account.ID, e.ID, e.CorrelationID)
	}
	r.poll(time.Minute)

	if got := testcloud.MailTo(t, intact.Account.Email, "Reset your password"); len(got) != 1 ||
		!strings.Contains(got[0].Text, rigAppBaseURL+"/reset-password?token="+intactToken) {
		t.Errorf("the event as sealed: %d emails to %s, want 1 with its link", len(got), intact.Account.Email)
	}
	for _, m := range testcloud.Mailbox(t) {
		for _, to := range m.To {
			for _, addr := range []string{mallory, victim, extended.Account.Email, repurposed.Account.Email} {
				if strings.EqualFold(to, addr) {
					t.Errorf("%s was mailed %q: a tampered event was opened and sent", to, m.Subject)
				}
			}
		}
	}

	dlq := r.dlqMessages()
	if len(dlq) != len(tampered) {
		t.Errorf("%d messages in the dead-letter queue, want the %d tampered events", len(dlq), len(tampered))
	}
	for _, m := range dlq {
		body := aws.ToString(m.Body)
		found := false
		for id := range tampered {
			found = found || strings.Contains(body, id)
		}
		if !found {
			t.Errorf("dead letter is not a tampered event: %s", body)
		}
		if reason := aws.ToString(m.MessageAttributes[app.AttrPoisonReason].StringValue); !strings.Contains(reason, sealed.ErrCannotOpen.Error()) {
			t.Errorf("dead letter reason = %q, want it to say the token cannot be opened", reason)
		}
	}
	for name, want := range map[string]int{app.MetricSent: 1, app.MetricPoison: len(tampered)} {
		if got := r.metricTotal(name); got != want {
			t.Errorf("metric %s = %d, want %d", name, got, want)
		}
	}
	for _, token := range []string{intactToken, readdressedToken, extendedToken, repurposedToken} {
		if strings.Contains(r.logs.String(), token) {
			t.Errorf("a link token reached the log")
		}
	}
}
