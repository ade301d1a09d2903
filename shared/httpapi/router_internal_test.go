package httpapi

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/serverless-shop/backend/shared/logging"
	"github.com/serverless-shop/backend/shared/principal"
)

// TestProtectedExpiryOnFixedClock pins the boundary of a cached authorizer
// decision with the router's clock: the principal is good until the second
// its token expires, and not at that second.
func TestProtectedExpiryOnFixedClock(t *testing.T) {
	t.Parallel()
	exp := time.Date(2025, time.March, 14, 15, 24, 26, 0, time.UTC)
	tests := []struct {
		name string
		now  time.Time
		want int
	}{
		{name: "well before", now: exp.Add(-10 * time.Minute), want: http.StatusNoContent},
		{name: "a nanosecond before", now: exp.Add(-time.Nanosecond), want: http.StatusNoContent},
		{name: "exactly at expiry", now: exp, want: http.StatusUnauthorized},
		{name: "after", now: exp.Add(time.Second), want: http.StatusUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rt := NewRouter(logging.New(io.Discard, "test"))
			rt.now = func() time.Time { return tc.now }
			rt.Protected("GET /v1/me", func(context.Context, *Request) (*Response, error) { return NoContent(), nil })
			ev := events.APIGatewayV2HTTPRequest{
				RouteKey: "GET /v1/me",
				RequestContext: events.APIGatewayV2HTTPRequestContext{
					RequestID:  "req-1",
					Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{Lambda: principal.Principal{UserID: "u-1", ExpiresAt: exp}.Context()},
				},
			}
			resp, err := rt.Handle(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.want {
				t.Errorf("status = %d, want %d; body %s", resp.StatusCode, tc.want, resp.Body)
			}
			if tc.want == http.StatusUnauthorized && resp.Headers["WWW-Authenticate"] == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
}
