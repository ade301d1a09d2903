package app_test

import (
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/functions/users/app"
	"github.com/serverless-shop/backend/functions/users/app/apptest"
	"github.com/serverless-shop/backend/functions/users/password"
	"github.com/serverless-shop/backend/shared/problem"
	"github.com/serverless-shop/backend/shared/token"
)

// fixture is the service on an in-memory store (apptest.Env). Every line
// it logs must carry the request's correlation id, and none a password, a
// refresh token or a link token (checked at the end of the test).
type fixture struct {
	*apptest.Env
	t *testing.T
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{Env: apptest.NewEnv(t), t: t}
	f.Remember(apptest.AdaPassword, "rt1.", "ev1.", "pr1.", "sealed:") // link tokens start ev1. or pr1.; the stand-in sealer writes them after "sealed:"
	t.Cleanup(func() {
		for _, l := range strings.Split(strings.TrimSpace(f.Logs()), "\n") {
			if l != "" && !strings.Contains(l, `"correlationId":"`+apptest.CorrelationID+`"`) {
				t.Errorf("log line without the correlation id: %s", l)
			}
		}
	})
	return f
}

// wantCounts fails the test unless the metrics counted since the last
// call are exactly want.
func (f *fixture) wantCounts(want map[string]float64) {
	f.t.Helper()
	if got := f.Counts(); !maps.Equal(got, want) {
		f.t.Errorf("metrics %v, want %v", got, want)
	}
}

// register creates Ada's account and returns her id.
func (f *fixture) register() string {
	f.t.Helper()
	u, err := f.Svc.Register(f.Ctx, app.RegisterCommand{Email: apptest.AdaEmail, Password: apptest.AdaPassword, Name: apptest.AdaName})
	if err != nil {
		f.t.Fatalf("Register: %v", err)
	}
	f.Counts() // the tests count what happens after
	return u.ID
}

// login logs in and returns the pair, failing the test otherwise.
func (f *fixture) login(email, pass string) app.TokenPair {
	f.t.Helper()
	p, err := f.Svc.Login(f.Ctx, app.LoginCommand{Email: email, Password: pass})
	if err != nil {
		f.t.Fatalf("Login: %v", err)
	}
	if p.AccessToken == "" || p.ExpiresIn != int(token.DefaultTTL.Seconds()) || p.TokenType != "Bearer" {
		f.t.Errorf("pair %+v, want an access token valid for %v", p, token.DefaultTTL)
	}
	if _, err := account.ParseRefreshToken(p.RefreshToken); err != nil {
		f.t.Errorf("refresh token %q does not parse: %v", p.RefreshToken, err)
	}
	return p
}

// fieldsOf returns the fields of a validation error, or fails the test.
func fieldsOf(t *testing.T, err error) []string {
	t.Helper()
	invalid := problem.Of(err, problem.Invalid)
	if invalid == nil || invalid.Slug != "validation" {
		t.Fatalf("error %v (%T), want a validation problem", err, err)
	}
	out := make([]string, len(invalid.Fields))
	for i, e := range invalid.Fields {
		if e.Message == "" {
			t.Errorf("field %s has no message", e.Field)
		}
		out[i] = e.Field
	}
	return out
}

// The details of the limits' problems, as far as tests tell them apart.
const (
	attemptsLimited    = "Too many password attempts."
	requestsLimited    = "Too many requests from this address."
	refreshesLimited   = "This session was refreshed too often this hour."
	revocationsLimited = "Too many logouts and password changes"
	linksLimited       = "Too many emails of this kind"
	accountMailLimited = "The shop has sent as many registration and verification emails this hour"
)

// says reports whether err is a problem whose detail begins with detail.
func says(err error, detail string) bool {
	var p *problem.Error
	return errors.As(err, &p) && strings.HasPrefix(p.Detail, detail)
}

// retryAfter is the Retry-After of the problem err; 0 for another error.
func retryAfter(err error) time.Duration {
	var p *problem.Error
	if errors.As(err, &p) {
		return p.RetryAfter
	}
	return 0
}

// must fails t at once on err.
func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// errOf is the error of a call that returns it after a value.
func errOf[V any](_ V, err error) error { return err }

// TestNewDefaults: New gives the zero fields of a configuration their
// defaults.
func TestNewDefaults(t *testing.T) {
	s := app.New(app.Config{})
	if s.Now == nil || s.Log == nil || s.Hashing != password.Default || s.SourceThrottle != account.SourceThrottle ||
		s.LinksPerHour != app.DefaultLinksPerHour || s.SourceRequestsPerHour != app.DefaultSourceRequestsPerHour ||
		s.SourceRequestsPerSecond != app.DefaultSourceRequestsPerSecond ||
		s.AccountMailPerHour != app.AccountMailPerHour(app.DefaultSesMax24HourSend) {
		t.Errorf("New(Config{}) = %+v", s.Config)
	}
}
