//go:build integration

package app_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"slices"
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

// TestAccountEmailsCarryTheOpenedLink seals link tokens with a real KMS key
// as the users service does, sends the events through the queue and checks
// that each email carries the link with its token and that an expired link
// is not mailed (TestHandleAccountKeepsTheLinkSecret checks that no token
// goes anywhere else).
// It also plays a writer of events that is not the users service (a
// compromised relay, a wrong grant on the queue or the users table): a
// sealed token moved into another account's event, and reset events put on
// the queue re-addressed to the writer, with a later expiry, or as a
// verification link. The notification function rebuilds the encryption
// context from the event it would mail, so KMS refuses each: nothing is
// mailed, neither to the new address nor to anyone, and each is
// dead-lettered as poison.
func TestAccountEmailsCarryTheOpenedLink(t *testing.T) {
	kc := kms.NewFromConfig(testcloud.Config(t))
	key := testcloud.NewKey(t, kc, kmstypes.KeySpecSymmetricDefault, kmstypes.KeyUsageTypeEncryptDecrypt)
	r, run := newRig(t, rigOptions{linkKey: key}), runID()
	// issue returns a valid account event of typ, numbered n, for a fresh
	// account of this run, with a link of lifetime ttl (or, for a negative
	// ttl, issued 2·|ttl| ago and dead for |ttl|) and a fresh token shaped
	// like the users service's, sealed as the users service seals it:
	// under the context of the event as it is written.
	issue := func(typ, n string, ttl time.Duration) (shared.AccountEvent, string) {
		t.Helper()
		now := time.Now().UTC().Truncate(time.Millisecond)
		if ttl < 0 {
			now, ttl = now.Add(2*ttl), -ttl
		}
		id, secret := "usr-"+run+"-"+n, make([]byte, 32)
		_, _ = rand.Read(secret)
		token := "ev1." + id + "." + base64.RawURLEncoding.EncodeToString(secret)
		e := shared.AccountEvent{
			Header:  shared.Header{Type: typ, Version: shared.Version, ID: "ev-" + run + "-" + n, OccurredAt: now, CorrelationID: "corr-" + run + "-" + n},
			Account: shared.Account{ID: id, Email: "a-" + run + "-" + n + "@example.com"},
			Link:    shared.Link{ExpiresAt: now.Add(ttl)},
		}
		var err error
		if e.Link.SealedToken, err = sealed.NewSealer(kc, key).Seal(context.Background(), []byte(token), e.SealContext()); err != nil {
			t.Fatal(err)
		}
		return e, token
	}
	verify, verifyToken := issue(shared.AccountVerificationRequested, "1", 24*time.Hour)
	reset, resetToken := issue(shared.AccountPasswordResetRequested, "2", 30*time.Minute)
	moved, _ := issue(shared.AccountPasswordResetRequested, "3", 30*time.Minute)
	moved.Link.SealedToken = reset.Link.SealedToken
	// A link that died before it was mailed, as after a late redrive.
	dead, _ := issue(shared.AccountVerificationRequested, "4", -time.Hour)
	mallory := "mallory-" + run + "@example.com"
	readdressed, _ := issue(shared.AccountPasswordResetRequested, "5", 30*time.Minute)
	victim := readdressed.Account.Email
	readdressed.Account.Email = mallory
	extended, _ := issue(shared.AccountPasswordResetRequested, "6", 30*time.Minute)
	extended.Link.ExpiresAt = extended.Link.ExpiresAt.Add(24 * time.Hour)
	repurposed, _ := issue(shared.AccountPasswordResetRequested, "7", 30*time.Minute)
	repurposed.Type = shared.AccountVerificationRequested
	for _, e := range []shared.AccountEvent{verify, reset, moved, dead, readdressed, extended, repurposed} {
		r.send(e.Account.ID, e.ID, e) // in its account's group
	}
	r.poll(time.Minute)

	for _, tc := range []struct {
		e       shared.AccountEvent
		subject string
		link    string
	}{
		{verify, "Confirm your email address", appBaseURL + "/verify-email?token=" + verifyToken},
		{reset, "Reset your password", appBaseURL + "/reset-password?token=" + resetToken},
	} {
		got := testcloud.MailTo(t, tc.e.Account.Email, tc.subject)
		if len(got) != 1 || !strings.Contains(got[0].Text, "\n"+tc.link+"\n") || !strings.Contains(got[0].HTML, `href="`+tc.link+`"`) {
			t.Fatalf("%s received %+v, want one email %q linking to %s in both parts", tc.e.Account.Email, got, tc.subject, tc.link)
		}
	}
	for _, m := range testcloud.Mailbox(t) {
		for _, to := range m.To {
			if slices.ContainsFunc([]string{moved.Account.Email, dead.Account.Email, mallory, victim, extended.Account.Email, repurposed.Account.Email},
				func(addr string) bool { return strings.EqualFold(to, addr) }) {
				t.Errorf("%s was mailed %q", to, m.Subject)
			}
		}
	}
	for _, m := range r.deadLetters(4, sealed.ErrCannotOpen.Error()) {
		if body := aws.ToString(m.Body); !strings.Contains(body, moved.ID) && !strings.Contains(body, readdressed.ID) && !strings.Contains(body, extended.ID) && !strings.Contains(body, repurposed.ID) {
			t.Errorf("dead letter is not a tampered event: %s", body)
		}
	}
	r.wantMetrics(map[string]int{app.MetricSent: 2, app.MetricPoison: 4, app.MetricLinksExpired: 1})
}
