package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/serverless-shop/backend/functions/users/app"
	"github.com/serverless-shop/backend/internal/apitest"
	"github.com/serverless-shop/backend/shared/logging"
	"github.com/serverless-shop/backend/shared/metrics"
	"github.com/serverless-shop/backend/shared/token"
)

// CorrelationID is the correlation id Env.Ctx carries.
const CorrelationID = "corr-app-test-0001"

// Env is the users service on a MemStore, a settable Clock, a stand-in
// Sealer and a test signing key, with what it logs and counts kept for
// assertions. The clock stands still, so every request falls in the same
// second: the per-second limit of an address is lifted
// (SourceRequestsPerSecond), and the tests of it set it back. At the end
// of the test no log line may hold a secret (CheckLeaks).
type Env struct {
	Mem      *MemStore
	Clock    *Clock
	Sealer   *Sealer
	Auth     *apitest.Auth
	Verifier *token.Verifier // accepts Auth's tokens on Clock
	Svc      *app.Service
	Log      *slog.Logger
	Metrics  *metrics.Recorder
	Ctx      context.Context // carries CorrelationID

	t             testing.TB
	mu            sync.Mutex
	logs, metrics bytes.Buffer
	secrets       []string
}

// NewEnv returns the service of a new Env.
func NewEnv(t testing.TB) *Env {
	t.Helper()
	e := &Env{Mem: NewMemStore(), Clock: NewClock(), Sealer: &Sealer{}, Auth: apitest.NewAuth(t), t: t}
	e.Verifier = token.NewVerifier([]token.PublicKey{e.Auth.Signer().PublicKey()}, apitest.TokenIssuer, apitest.TokenAudience, e.Clock.Now)
	e.Log = logging.New(locked{e, &e.logs}, "users")
	e.Metrics = metrics.New(locked{e, &e.metrics}, "users")
	e.Ctx = logging.With(context.Background(), slog.String(logging.KeyCorrelationID, CorrelationID))
	e.Svc = app.New(app.Config{
		Store:  e.Mem,
		Sealer: e.Sealer, Issuer: e.Auth.Issuer(token.DefaultTTL, e.Clock.Now), Hashing: CheapHashing,
		Metrics: e.Metrics, Log: e.Log, NewID: (&IDs{}).Next, Now: e.Clock.Now,
		SourceRequestsPerSecond: 1 << 20,
	})
	t.Cleanup(func() { e.CheckLeaks("the logs", e.Logs()) })
	return e
}

// locked writes to one of the env's buffers under its lock.
type locked struct {
	e   *Env
	buf *bytes.Buffer
}

func (w locked) Write(p []byte) (int, error) {
	w.e.mu.Lock()
	defer w.e.mu.Unlock()
	return w.buf.Write(p)
}

// Logs is everything logged so far.
func (e *Env) Logs() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.logs.String()
}

// Lines returns the lines logged so far with the message msg.
func (e *Env) Lines(msg string) []map[string]any {
	e.t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(e.Logs()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); l != "" && err != nil {
			e.t.Fatalf("log line is not JSON: %q", l)
		}
		if m["message"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// Counts flushes the metrics and returns the count of each name since the
// last call.
func (e *Env) Counts() map[string]float64 {
	e.t.Helper()
	if err := e.Metrics.Flush(); err != nil {
		e.t.Fatal(err)
	}
	e.mu.Lock()
	lines := strings.Split(strings.TrimSpace(e.metrics.String()), "\n")
	e.metrics.Reset()
	e.mu.Unlock()
	totals := map[string]float64{}
	for _, l := range lines {
		var doc map[string]any
		if err := json.Unmarshal([]byte(l), &doc); l != "" && err != nil {
			e.t.Fatalf("not an EMF line: %q", l)
		}
		for k, v := range doc {
			if n, ok := v.(float64); ok {
				totals[k] += n
			}
		}
	}
	return totals
}

// Remember adds secrets that CheckLeaks looks for.
func (e *Env) Remember(secrets ...string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.secrets = append(e.secrets, secrets...)
}

// CheckLeaks fails the test if s (what is in where) holds a password
// hash, a token hash or any other secret the store keeps, a remembered
// secret, or "argon2".
func (e *Env) CheckLeaks(where, s string) {
	e.t.Helper()
	e.mu.Lock()
	secrets := append(e.Mem.Secrets(), e.secrets...)
	e.mu.Unlock()
	for _, secret := range append(secrets, "argon2") {
		if secret != "" && strings.Contains(s, secret) {
			e.t.Errorf("%s hold the secret %q: %s", where, secret, s)
		}
	}
}
