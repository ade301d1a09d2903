package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/serverless-shop/backend/functions/users/api"
	"github.com/serverless-shop/backend/functions/users/app"
	"github.com/serverless-shop/backend/functions/users/app/apptest"
	"github.com/serverless-shop/backend/shared/metrics"
	"github.com/serverless-shop/backend/shared/token"
)

func TestRequestsAreCountedInEMF(t *testing.T) {
	var out bytes.Buffer
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	m := metrics.New(&out, "users")
	mem := apptest.NewMemStore()
	svc := app.New(app.Config{
		Accounts: mem,
		Sessions: mem,
		Attempts: mem,
		Links:    mem,
		Requests: mem,
		Sealer:   &apptest.Sealer{},
		Issuer:   token.NewIssuer(testSigner(t), testIssuer, testAudience, token.DefaultTTL, nil),
		Hashing:  apptest.CheapHashing,
		Metrics:  m,
		Log:      log,
		NewID:    func() string { return "01HZX3YQ7A8B9C0D1E2F3G0009" },
	})
	handler := api.NewHandler(log, api.Config{
		Service:  svc,
		Verifier: token.NewVerifier([]token.PublicKey{testSigner(t).PublicKey()}, testIssuer, testAudience, nil),
		Metrics:  m,
	})
	ctx := context.Background()
	for _, req := range []struct{ route, body string }{
		{"POST /v1/auth/register", `{"email":"m@example.com","password":"correct horse battery staple","name":"M"}`},
		{"POST /v1/auth/login", `{"email":"m@example.com","password":"wrong password here"}`},
		{"POST /v1/auth/login", `{"email":"m@example.com","password":"correct horse battery staple"}`},
	} {
		if _, err := handler.Handle(ctx, event(req.route, req.body, "")); err != nil {
			t.Fatal(err)
		}
	}
	totals := map[string]float64{}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	for _, line := range lines {
		var doc map[string]any
		if err := json.Unmarshal([]byte(line), &doc); err != nil {
			t.Fatalf("not an EMF line: %q", line)
		}
		for k, v := range doc {
			if n, ok := v.(float64); ok {
				totals[k] += n
			}
		}
	}
	if len(lines) != 3 {
		t.Errorf("%d EMF lines, want one per request", len(lines))
	}
	for name, want := range map[string]float64{app.MetricRegistered: 1, app.MetricLoginFailure: 1, app.MetricLoginSuccess: 1} {
		if totals[name] != want {
			t.Errorf("%s = %v, want %v (all: %v)", name, totals[name], want, totals)
		}
	}
}
