//go:build integration

package notify_test

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

	"github.com/serverless-shop/backend/functions/notifications/notify"
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
	reason := aws.ToString(dlq[0].MessageAttributes[notify.AttrPoisonReason].StringValue)
	if !strings.Contains(reason, sealed.ErrCannotOpen.Error()) {
		t.Errorf("dead letter reason = %q, want it to say the token cannot be opened", reason)
	}
	if !strings.Contains(aws.ToString(dlq[0].Body), moved.ID) {
		t.Errorf("dead letter is not the moved token's event: %s", aws.ToString(dlq[0].Body))
	}

	for name, want := range map[string]int{notify.MetricSent: 2, notify.MetricPoison: 1, notify.MetricLinksExpired: 1} {
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
