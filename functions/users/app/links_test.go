package app_test

import (
	"errors"
	"testing"
	"time"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/functions/users/app"
	"github.com/serverless-shop/backend/functions/users/app/apptest"
	"github.com/serverless-shop/backend/shared/events"
	"github.com/serverless-shop/backend/shared/problem"
	"github.com/serverless-shop/backend/shared/revocation"
	"github.com/serverless-shop/backend/shared/token"
)

// lastEvent is the newest account event queued for mailing.
func (f *fixture) lastEvent() events.AccountEvent {
	f.t.Helper()
	out := f.Mem.Outbox()
	if len(out) == 0 {
		f.t.Fatal("no account event was queued")
	}
	return out[len(out)-1]
}

func TestRegisterQueuesTheVerificationEmail(t *testing.T) {
	f := newFixture(t)
	id := f.register()
	ev := f.lastEvent()
	if ev.Type != events.AccountVerificationRequested || ev.Account != (events.Account{ID: id, Email: apptest.AdaEmail}) ||
		ev.CorrelationID != apptest.CorrelationID || !ev.Link.ExpiresAt.Equal(apptest.Start.Add(24*time.Hour)) {
		t.Fatalf("event %+v", ev)
	}
	must(t, ev.Validate()) // the queued event validates
	tok, err := account.ParseLinkToken(account.VerifyEmail, apptest.Token(t, ev))
	if err != nil || tok.UserID != id {
		t.Fatalf("sealed token %+v, %v", tok, err)
	}
	link, _, err := f.Mem.PendingLink(f.Ctx, account.VerifyEmail, id)
	if err != nil || !link.Accepts(tok, apptest.Start) || link.Hash == tok.Raw {
		t.Fatalf("stored link %+v: must accept the mailed token and hold only its hash", link)
	}
}

func TestRegisterStoresNothingWhenSealingFails(t *testing.T) {
	f := newFixture(t)
	f.Sealer.Fail = apptest.ErrSeal
	_, err := f.Svc.Register(f.Ctx, app.RegisterCommand{Email: apptest.AdaEmail, Password: apptest.AdaPassword, Name: apptest.AdaName})
	if !errors.Is(err, apptest.ErrSeal) {
		t.Fatalf("Register = %v, want the sealing failure", err)
	}
	if _, err := f.Mem.UserByEmail(f.Ctx, apptest.AdaEmail); !errors.Is(err, account.ErrNotFound) || len(f.Mem.Outbox()) != 0 {
		t.Fatal("an account was stored without its verification email")
	}
}

func TestVerifyEmail(t *testing.T) {
	f := newFixture(t)
	id := f.register()
	token := apptest.Token(t, f.lastEvent())
	f.Clock.Advance(23 * time.Hour)
	must(t, errOf(f.Svc.VerifyEmail(f.Ctx, token)))
	u, _ := f.Mem.User(f.Ctx, id)
	if !u.EmailVerified || !u.UpdatedAt.Equal(apptest.Start.Add(23*time.Hour)) {
		t.Fatalf("user after verifying %+v", u)
	}
	f.wantCounts(map[string]float64{app.MetricEmailVerified: 1})
	if _, err := f.Svc.VerifyEmail(f.Ctx, token); !errors.Is(err, account.ErrLinkInvalid) {
		t.Fatalf("second use = %v, want ErrLinkInvalid", err)
	}
	// Logins from now on say verified.
	pair := f.login(apptest.AdaEmail, apptest.AdaPassword)
	if claims, err := f.Verifier.Verify(pair.AccessToken); err != nil || !claims.EmailVerified {
		t.Fatalf("access token after verifying: %+v, %v", claims, err)
	}
}

// badVerificationToken is a verification link's token gone wrong: made
// from the token mailed at registration, or the mailed one after something
// that ends it.
type badVerificationToken struct {
	name  string
	token func(f *fixture, mailed string) string
}

// badVerificationTokens are the tokens that neither verify nor cancel a
// registration, and change nothing.
var badVerificationTokens = []badVerificationToken{
	{"empty", func(*fixture, string) string { return "" }},
	{"garbage", func(*fixture, string) string { return "ev1.garbage" }},
	{"as a reset token", func(_ *fixture, mailed string) string { return "pr1" + mailed[3:] }},
	{"altered", func(_ *fixture, mailed string) string { return mailed[:len(mailed)-2] + "AA" }},
	{"another account's id", func(_ *fixture, mailed string) string {
		return "ev1.01ZZZZZZZZZZZZZZZZZZZZZZZZ" + mailed[len("ev1.")+26:]
	}},
	{"expired", func(f *fixture, mailed string) string { f.Clock.Advance(24 * time.Hour); return mailed }},
	{"replaced by a resend", func(f *fixture, mailed string) string {
		must(f.t, f.Svc.ResendVerification(f.Ctx, f.lastEvent().Account.ID))
		return mailed
	}},
}

func TestVerifyEmailRefuses(t *testing.T) {
	for _, tt := range badVerificationTokens {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			id := f.register()
			_, err := f.Svc.VerifyEmail(f.Ctx, tt.token(f, apptest.Token(t, f.lastEvent())))
			if !errors.Is(err, account.ErrLinkInvalid) {
				t.Fatalf("VerifyEmail = %v, want ErrLinkInvalid", err)
			}
			if u, _ := f.Mem.User(f.Ctx, id); u.EmailVerified {
				t.Fatal("verified anyway")
			}
		})
	}
}

func TestResendVerification(t *testing.T) {
	f := newFixture(t)
	id := f.register()
	for range app.DefaultLinksPerHour {
		must(t, f.Svc.ResendVerification(f.Ctx, id))
	}
	if n := len(f.Mem.Outbox()); n != 1+app.DefaultLinksPerHour {
		t.Fatalf("%d events, want registration's and %d resends", n, app.DefaultLinksPerHour)
	}
	if err := f.Svc.ResendVerification(f.Ctx, id); !says(err, linksLimited) || retryAfter(err) <= 0 || retryAfter(err) > time.Hour {
		t.Fatalf("resend past the limit = %v", err)
	}
	f.wantCounts(map[string]float64{app.MetricLinksIssued: float64(app.DefaultLinksPerHour), app.MetricLinksLimited: 1})

	// The newest link works; verified, a resend sends nothing.
	must(t, errOf(f.Svc.VerifyEmail(f.Ctx, apptest.Token(t, f.lastEvent()))))
	f.Clock.Advance(time.Hour)
	before := len(f.Mem.Outbox())
	if err := f.Svc.ResendVerification(f.Ctx, id); err != nil || len(f.Mem.Outbox()) != before {
		t.Fatalf("resend when verified: %v, %d new events", err, len(f.Mem.Outbox())-before)
	}
}

func TestRequestPasswordResetLooksTheSameForEveryEmail(t *testing.T) {
	f := newFixture(t)
	id := f.register()
	seals := f.Sealer.Calls()
	must(t, f.Svc.RequestPasswordReset(f.Ctx, " ADA@example.com "))
	ev := f.lastEvent()
	if ev.Type != events.AccountPasswordResetRequested || ev.Account.ID != id || !ev.Link.ExpiresAt.Equal(apptest.Start.Add(30*time.Minute)) {
		t.Fatalf("event %+v", ev)
	}
	queued := len(f.Mem.Outbox())
	must(t, f.Svc.RequestPasswordReset(f.Ctx, "nobody@example.com")) // an unknown email: the same answer
	if len(f.Mem.Outbox()) != queued {
		t.Fatal("an email was queued for an unknown address")
	}
	if f.Sealer.Calls()-seals != 2 {
		t.Errorf("%d seals for a known and an unknown email, want one each: the work must look the same", f.Sealer.Calls()-seals)
	}
	// Unknown addresses count against the limit too.
	for i := range app.DefaultLinksPerHour {
		err := f.Svc.RequestPasswordReset(f.Ctx, "nobody@example.com")
		if i < app.DefaultLinksPerHour-1 && err != nil {
			t.Fatal(err)
		}
		if i == app.DefaultLinksPerHour-1 && !says(err, linksLimited) {
			t.Fatalf("request %d for an unknown email = %v, want the limit", i+2, err)
		}
	}
	if err := f.Svc.RequestPasswordReset(f.Ctx, "not an email"); problem.Of(err, problem.Invalid) == nil {
		t.Fatalf("invalid email = %v", err)
	}
}

func TestResetPassword(t *testing.T) {
	f := newFixture(t)
	id := f.register()
	old := f.login(apptest.AdaEmail, apptest.AdaPassword)
	must(t, f.Svc.RequestPasswordReset(f.Ctx, apptest.AdaEmail))
	link := apptest.Token(t, f.lastEvent())
	const fresh = "a completely new passphrase"
	if _, err := f.Svc.ResetPassword(f.Ctx, link, "short"); problem.Of(err, problem.Invalid) == nil {
		t.Fatalf("weak password = %v", err)
	}
	f.Clock.Advance(29 * time.Minute)
	must(t, errOf(f.Svc.ResetPassword(f.Ctx, link, fresh)))
	u, _ := f.Mem.User(f.Ctx, id)
	if u.SessionEpoch != 1 || !u.EmailVerified {
		t.Fatalf("user after reset %+v, want epoch 1 and verified", u)
	}
	now := apptest.Start.Add(29 * time.Minute)
	want := revocation.User(id, 1, now, token.DefaultTTL)
	if got := f.Mem.Revocations(); len(got) != 1 || got[0] != want {
		t.Fatalf("revocations %+v, want %+v", got, want)
	}
	if _, err := f.Svc.Refresh(f.Ctx, old.RefreshToken); !errors.Is(err, account.ErrSessionInvalid) {
		t.Fatalf("refresh from before the reset = %v", err)
	}
	if _, err := f.Svc.Login(f.Ctx, app.LoginCommand{Email: apptest.AdaEmail, Password: apptest.AdaPassword}); !errors.Is(err, app.ErrBadCredentials) {
		t.Fatalf("old password = %v", err)
	}
	f.login(apptest.AdaEmail, fresh)
	if _, err := f.Svc.ResetPassword(f.Ctx, link, "and yet another one"); !errors.Is(err, account.ErrLinkInvalid) {
		t.Fatalf("second use = %v", err)
	}
}
