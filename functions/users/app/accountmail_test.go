package app_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/functions/users/app"
	"github.com/serverless-shop/backend/functions/users/app/apptest"
)

// reconfigure rebuilds the fixture's service with edit applied to its
// configuration (same stores, clock and logs).
func (f *fixture) reconfigure(edit func(*app.Config)) {
	cfg := f.Svc.Config
	edit(&cfg)
	f.Svc = app.New(cfg)
}

func TestAccountMailPerHour(t *testing.T) {
	for _, tc := range []struct{ daily, want int }{
		{50000, 1041}, {10_000_000, 208333}, {200, 4}, {47, 1}, {1, 1}, {0, 1},
	} {
		if got := app.AccountMailPerHour(tc.daily); got != tc.want {
			t.Errorf("AccountMailPerHour(%d) = %d, want %d", tc.daily, got, tc.want)
		}
	}
	f := newFixture(t)
	if got, want := f.Svc.AccountMailPerHour, app.AccountMailPerHour(app.DefaultSesMax24HourSend); got != want {
		t.Errorf("default cap %d, want %d", got, want)
	}
}

// TestAccountMailPaused: while account mail is paused, registration,
// verification resends and password reset requests are refused, and
// nothing is written or queued.
func TestAccountMailPaused(t *testing.T) {
	f := newFixture(t)
	id := f.register()
	before := len(f.Mem.Outbox())
	f.reconfigure(func(c *app.Config) { c.AccountMailPaused = true })

	_, err := f.Svc.Register(f.Ctx, app.RegisterCommand{Email: "grace@example.com", Password: apptest.AdaPassword, Name: "Grace"})
	if !errors.Is(err, app.ErrAccountMailPaused) {
		t.Errorf("Register = %v, want ErrAccountMailPaused", err)
	}
	if err := f.Svc.ResendVerification(f.Ctx, id); !errors.Is(err, app.ErrAccountMailPaused) {
		t.Errorf("ResendVerification = %v, want ErrAccountMailPaused", err)
	}
	if err := f.Svc.RequestPasswordReset(f.Ctx, apptest.AdaEmail); !errors.Is(err, app.ErrAccountMailPaused) {
		t.Errorf("RequestPasswordReset = %v, want ErrAccountMailPaused", err)
	}
	if err := f.Svc.CheckAccountMail(f.Ctx); !errors.Is(err, app.ErrAccountMailPaused) {
		t.Errorf("CheckAccountMail = %v, want ErrAccountMailPaused", err)
	}
	if _, err := f.Mem.UserByEmail(f.Ctx, "grace@example.com"); !errors.Is(err, account.ErrNotFound) {
		t.Error("a registration was stored while account mail was paused")
	}
	if n := len(f.Mem.Outbox()); n != before {
		t.Errorf("%d account events queued while paused", n-before)
	}
	f.wantCounts(map[string]float64{app.MetricAccountMailPaused: 4})

	// Lifted, the same requests go through.
	f.reconfigure(func(c *app.Config) { c.AccountMailPaused = false })
	must(t, f.Svc.RequestPasswordReset(f.Ctx, apptest.AdaEmail)) // after the pause
}

// TestAccountMailCap: registrations and verification resends of all
// clients together are capped per clock hour; past the cap they are
// refused until the hour ends and nothing is written; password resets are
// not counted.
func TestAccountMailCap(t *testing.T) {
	f := newFixture(t)
	f.reconfigure(func(c *app.Config) { c.AccountMailPerHour = 3 })
	f.Clock.Advance(15 * time.Minute) // 12:15: the hour ends in 45 minutes
	// Three emails: Ada's registration, her resend, Grace's registration.
	id := f.register()
	must(t, f.Svc.ResendVerification(f.Ctx, id))
	must(t, errOf(f.Svc.Register(f.Ctx, app.RegisterCommand{Email: "grace@example.com", Password: apptest.AdaPassword, Name: "Grace"})))
	before := len(f.Mem.Outbox())
	_, err := f.Svc.Register(f.Ctx, app.RegisterCommand{Email: "alan@example.com", Password: apptest.AdaPassword, Name: "Alan"})
	if !says(err, accountMailLimited) || retryAfter(err) != 45*time.Minute {
		t.Fatalf("fourth Register = %v, want the account mail limit with 45m", err)
	}
	if err := f.Svc.ResendVerification(f.Ctx, id); !says(err, accountMailLimited) {
		t.Fatalf("ResendVerification past the cap = %v, want the account mail limit", err)
	}
	if _, err := f.Mem.UserByEmail(f.Ctx, "alan@example.com"); !errors.Is(err, account.ErrNotFound) {
		t.Error("a registration past the cap was stored")
	}
	if n := len(f.Mem.Outbox()); n != before {
		t.Errorf("%d account events queued past the cap", n-before)
	}
	// Resets go to registered accounts and are not capped.
	must(t, f.Svc.RequestPasswordReset(f.Ctx, apptest.AdaEmail)) // past the cap
	// Invalid input is refused before it is counted.
	if _, err := f.Svc.Register(f.Ctx, app.RegisterCommand{Email: "nope", Password: "x", Name: ""}); len(fieldsOf(t, err)) != 3 {
		t.Errorf("invalid registration past the cap = %v, want the validation error", err)
	}
	f.Clock.Advance(45 * time.Minute)
	must(t, errOf(f.Svc.Register(f.Ctx, app.RegisterCommand{Email: "alan@example.com", Password: apptest.AdaPassword, Name: "Alan"}))) // in the next hour
}

// TestCancelRegistration: the verification email's token cancels the
// registration: the account is gone, its address free, and the token
// spent.
func TestCancelRegistration(t *testing.T) {
	f := newFixture(t)
	id := f.register()
	token := apptest.Token(t, f.lastEvent())
	must(t, f.Svc.CancelRegistration(f.Ctx, token))
	f.wantCounts(map[string]float64{app.MetricRegistrationsCancelled: 1})
	if _, err := f.Mem.User(f.Ctx, id); !errors.Is(err, account.ErrNotFound) {
		t.Errorf("User after the cancel = %v, want ErrNotFound", err)
	}
	if _, err := f.Svc.Login(f.Ctx, app.LoginCommand{Email: apptest.AdaEmail, Password: apptest.AdaPassword}); !errors.Is(err, app.ErrBadCredentials) {
		t.Errorf("Login of the cancelled account = %v, want ErrBadCredentials", err)
	}
	for name, use := range map[string]func() error{
		"cancel again": func() error { return f.Svc.CancelRegistration(f.Ctx, token) },
		"verify":       func() error { _, err := f.Svc.VerifyEmail(f.Ctx, token); return err },
	} {
		if err := use(); !errors.Is(err, account.ErrLinkInvalid) {
			t.Errorf("%s with the spent token = %v, want ErrLinkInvalid", name, err)
		}
	}
	// The address is free: its owner registers it.
	again := f.register()
	if again == id {
		t.Fatal("the new account has the cancelled one's id")
	}
}

func TestCancelRegistrationRefuses(t *testing.T) {
	// And a token that verified the address, which is then the account's.
	tests := append(slices.Clone(badVerificationTokens),
		badVerificationToken{"verified", func(f *fixture, mailed string) string {
			must(f.t, errOf(f.Svc.VerifyEmail(f.Ctx, mailed)))
			return mailed
		}},
		badVerificationToken{"verified by a password reset", func(f *fixture, mailed string) string {
			must(f.t, f.Svc.RequestPasswordReset(f.Ctx, apptest.AdaEmail))
			reset := apptest.Token(f.t, f.lastEvent())
			must(f.t, errOf(f.Svc.ResetPassword(f.Ctx, reset, "another horse battery staple")))
			return mailed
		}},
	)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			id := f.register()
			err := f.Svc.CancelRegistration(f.Ctx, tt.token(f, apptest.Token(t, f.lastEvent())))
			if !errors.Is(err, account.ErrLinkInvalid) {
				t.Fatalf("CancelRegistration = %v, want ErrLinkInvalid", err)
			}
			must(t, errOf(f.Mem.User(f.Ctx, id)))                      // the account is still there
			must(t, errOf(f.Mem.UserByEmail(f.Ctx, apptest.AdaEmail))) // and the address still the account's
		})
	}
}

// TestShownName: a name stored under older rules is not shown in the
// access token (and so in order emails); one that passes today's is.
func TestShownName(t *testing.T) {
	for stored, want := range map[string]string{
		"Ada Lovelace":         "Ada Lovelace",
		"  Zoe\u0308 ":         "Zoë",
		"Ada\u202eecalevol":    "",
		"Pay now\nat evil.com": "",
		"":                     "",
	} {
		if got := account.ShownName(stored); got != want {
			t.Errorf("ShownName(%q) = %q, want %q", stored, got, want)
		}
	}
	f := newFixture(t)
	id := f.register()
	must(t, errOf(f.Mem.UpdateName(f.Ctx, id, "Ada\u202eecalevol", apptest.Start)))
	pair := f.login(apptest.AdaEmail, apptest.AdaPassword)
	claims, err := f.Verifier.Verify(pair.AccessToken)
	if err != nil || claims.Name != "" {
		t.Fatalf("access token of a stale name: %+v, %v; want no name", claims, err)
	}
}
