package web_test

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/serverless-shop/backend/internal/apitest"
	"github.com/serverless-shop/backend/shared/logging"
	"github.com/serverless-shop/backend/shared/principal"
	"github.com/serverless-shop/backend/shared/web"
)

// TestLambda sends API Gateway's events through the adapter: the request a
// handler sees, and the proxy response its answer becomes.
func TestLambda(t *testing.T) {
	auth := apitest.NewAuth(t)
	var seen *http.Request
	var body string
	s := web.New(web.Config{Log: logging.New(io.Discard, "test"), Verifier: auth.Verifier()})
	s.Protected("POST /v1/things/{id}/parts", func(w http.ResponseWriter, r *http.Request) error {
		seen = r
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return err
		}
		body = string(b)
		w.Header().Add("Vary", "A")
		w.Header().Add("Vary", "B")
		w.WriteHeader(http.StatusAccepted)
		return nil
	})
	s.Public("PUT /v1/things/{id}", func(_ http.ResponseWriter, r *http.Request) error {
		var v struct{}
		return web.DecodeJSON(r, &v)
	})
	s.Public("GET /v1/things/{id}", func(w http.ResponseWriter, _ *http.Request) error {
		_, err := io.WriteString(w, "ok")
		return err
	})
	handle := web.Lambda(s)
	bearer := auth.Token(t, ada)

	in := apitest.Request{Route: "POST /v1/things/{id}/parts", Path: map[string]string{"id": "a/b c"},
		Query: map[string]string{"limit": "2"}, Headers: map[string]string{"if-none-match": `"x"`}, Body: "hello", Bearer: bearer}
	ev := in.Event()
	ev.Path = "/stage-prefix/whatever" // routing follows the resource API Gateway matched
	ev.IsBase64Encoded, ev.Body = true, base64.StdEncoding.EncodeToString([]byte("hello"))
	resp, err := handle(context.Background(), ev)
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("%d %s, %v", resp.StatusCode, resp.Body, err)
	}
	if resp.Headers["Vary"] != "A, B" || resp.Headers["X-Request-Id"] != apitest.GatewayRequestID {
		t.Errorf("headers %v; want Vary joined and API Gateway's request id as the correlation id", resp.Headers)
	}
	if seen.PathValue("id") != "a/b c" || seen.URL.Path != "/v1/things/a/b c/parts" || seen.URL.Query().Get("limit") != "2" ||
		seen.Header.Get("If-None-Match") != `"x"` || body != "hello" || seen.RemoteAddr != ev.RequestContext.Identity.SourceIP {
		t.Errorf("request %s %q %v, body %q, source %q", seen.Method, seen.URL, seen.Header, body, seen.RemoteAddr)
	}

	// The gateway's authorizer decided for someone else: refused.
	ev.RequestContext.Authorizer = principal.Principal{UserID: "u-2", ExpiresAt: time.Now().Add(time.Hour)}.Context()
	resp, _ = handle(context.Background(), ev)
	apitest.EventResponse(resp).Problem(t, http.StatusUnauthorized, "invalid-token")

	// A body marked base64 that is not.
	ev = apitest.Request{Route: "PUT /v1/things/{id}", Path: map[string]string{"id": "1"}, Body: "{}"}.Event()
	ev.IsBase64Encoded = true
	resp, _ = handle(context.Background(), ev)
	if p := apitest.EventResponse(resp).Problem(t, http.StatusBadRequest, "invalid-request"); p.Detail != "The request body is not valid base64." {
		t.Errorf("detail %q", p.Detail)
	}

	// An answer the handler writes without a status is a 200.
	ev = apitest.Request{Route: "GET /v1/things/{id}", Path: map[string]string{"id": "1"}}.Event()
	if resp, _ = handle(context.Background(), ev); resp.StatusCode != http.StatusOK || resp.Body != "ok" {
		t.Errorf("%d %q, want 200 ok", resp.StatusCode, resp.Body)
	}
}
