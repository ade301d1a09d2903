package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/functions/users/app"
	"github.com/serverless-shop/backend/functions/users/app/apptest"
	"github.com/serverless-shop/backend/internal/apitest"
	"github.com/serverless-shop/backend/shared/logging"
	"github.com/serverless-shop/backend/shared/metrics"
	"github.com/serverless-shop/backend/shared/problem"
	"github.com/serverless-shop/backend/shared/token"
)

// correlationID is the id of every request the tests make.
const correlationID = "corr-app-test-0001"

// fixture is one service on an in-memory store and a settable clock. Its
// access tokens are signed on the wall clock, so the test kit's verifier
// accepts them.
type fixture struct {
	t        *testing.T
	mem      *apptest.MemStore
	store    *apptest.FakeStore
	sealer   *apptest.Sealer
	svc      *app.Service
	verifier *token.Verifier
	ctx      context.Context

	clock   *apptest.Clock
	ids     apptest.IDs
	mu      sync.Mutex
	logs    bytes.Buffer
	metrics bytes.Buffer
	rec     *metrics.Recorder
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	auth := apitest.NewAuth(t)
	f := &fixture{t: t, mem: apptest.NewMemStore(), clock: apptest.NewClock(), verifier: auth.Verifier(), sealer: &apptest.Sealer{}}
	f.store = apptest.NewFakeStore(f.mem)
	f.rec = metrics.New(&f.metrics, "users")
	f.ctx = logging.With(context.Background(), slog.String(logging.KeyCorrelationID, correlationID))
	f.svc = app.New(app.Config{
		Accounts: f.store,
		Sessions: f.store,
		Attempts: f.store,
		Links:    f.store,
		Requests: f.store,
		Sealer:   f.sealer,
		Issuer:   auth.Issuer(token.DefaultTTL, nil),
		Hashing:  apptest.CheapHashing,
		Metrics:  f.rec,
		Log:      logging.New(syncWriter{f}, "users"),
		NewID:    f.ids.Next,
		Now:      f.clock.Now,
		// The fixture's clock stands still: every request falls in the same
		// second. TestLoginIsLimitedPerSecondWithoutADevice sets the real
		// limit.
		SourceRequestsPerSecond: 1 << 20,
	})
	t.Cleanup(f.checkLogs)
	return f
}

// syncWriter lets the logger write to the fixture's buffer under its lock.
type syncWriter struct{ f *fixture }

func (w syncWriter) Write(p []byte) (int, error) {
	w.f.mu.Lock()
	defer w.f.mu.Unlock()
	return w.f.logs.Write(p)
}

// logLine is one line the service logged.
type logLine map[string]any

// lines returns the lines logged so far with the given message.
func (f *fixture) lines(msg string) []logLine {
	f.t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []logLine
	for _, l := range strings.Split(strings.TrimSpace(f.logs.String()), "\n") {
		if l == "" {
			continue
		}
		var m logLine
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			f.t.Fatalf("log line is not JSON: %q", l)
		}
		if m["message"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// checkLogs fails the test unless every line carries the request's
// correlation id, and if any line holds a password, a hash or a refresh
// token.
func (f *fixture) checkLogs() {
	f.mu.Lock()
	logs := f.logs.String()
	f.mu.Unlock()
	for _, l := range strings.Split(strings.TrimSpace(logs), "\n") {
		if l != "" && !strings.Contains(l, `"correlationId":"`+correlationID+`"`) {
			f.t.Errorf("log line without the correlation id: %s", l)
		}
	}
	// Link tokens start ev1. or pr1.; the stand-in sealer writes them in
	// the clear after "sealed:", so neither may show either.
	for _, s := range append(f.mem.Secrets(), apptest.AdaPassword, "rt1.", "ev1.", "pr1.", "sealed:") {
		if strings.Contains(logs, s) {
			f.t.Errorf("logs contain the secret %q:\n%s", s, logs)
		}
	}
}

// counts flushes the metrics and returns the count of each name.
func (f *fixture) counts() map[string]float64 {
	f.t.Helper()
	if err := f.rec.Flush(); err != nil {
		f.t.Fatal(err)
	}
	totals := map[string]float64{}
	for _, l := range strings.Split(strings.TrimSpace(f.metrics.String()), "\n") {
		if l == "" {
			continue
		}
		var doc map[string]any
		if err := json.Unmarshal([]byte(l), &doc); err != nil {
			f.t.Fatalf("not an EMF line: %q", l)
		}
		for k, v := range doc {
			if n, ok := v.(float64); ok {
				totals[k] += n
			}
		}
	}
	f.metrics.Reset()
	return totals
}

// wantCounts fails the test unless the metrics counted since the last
// call are exactly want.
func (f *fixture) wantCounts(want map[string]float64) {
	f.t.Helper()
	got := f.counts()
	if len(got) != len(want) {
		f.t.Errorf("metrics %v, want %v", got, want)
		return
	}
	for k, v := range want {
		if got[k] != v {
			f.t.Errorf("metrics %v, want %v", got, want)
			return
		}
	}
}

// register creates Ada's account and returns her id.
func (f *fixture) register() string {
	f.t.Helper()
	u, err := f.svc.Register(f.ctx, app.RegisterCommand{Email: apptest.AdaEmail, Password: apptest.AdaPassword, Name: apptest.AdaName, CorrelationID: correlationID})
	if err != nil {
		f.t.Fatalf("Register: %v", err)
	}
	f.counts() // the tests count what happens after
	return u.ID
}

// login logs in and returns the pair, failing the test otherwise.
func (f *fixture) login(email, pass string) app.TokenPair {
	f.t.Helper()
	p, err := f.svc.Login(f.ctx, app.LoginCommand{Email: email, Password: pass})
	if err != nil {
		f.t.Fatalf("Login: %v", err)
	}
	if p.AccessToken == "" || p.ExpiresIn != token.DefaultTTL {
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
