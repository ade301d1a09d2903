package api_test

import (
	"net/http"
	"reflect"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/serverless-shop/backend/functions/users/app/apptest"
	"github.com/serverless-shop/backend/shared/httpapi"
)

// throttled is DynamoDB's answer once the SDK's retries ran out, as the
// SDK returns it.
var throttled = &smithy.OperationError{ServiceID: "DynamoDB", OperationName: "TransactWriteItems",
	Err: &retry.MaxAttemptsError{Attempt: 3, Err: &types.ProvisionedThroughputExceededException{Message: aws.String("Rate of requests exceeds the allowed throughput.")}}}

// failEverything makes every method of the store return err.
func failEverything(s *apptest.FakeStore, err error) {
	v := reflect.ValueOf(s).Elem()
	for i := range v.NumField() {
		field := v.Field(i)
		ft := field.Type()
		if ft.Kind() != reflect.Func {
			continue
		}
		field.Set(reflect.MakeFunc(ft, func([]reflect.Value) []reflect.Value {
			out := make([]reflect.Value, ft.NumOut())
			for j := range out {
				out[j] = reflect.Zero(ft.Out(j))
			}
			out[len(out)-1] = reflect.ValueOf(&err).Elem()
			return out
		}))
	}
}

// TestEveryRouteAnswers503WhenTheTableIsOut sends a valid request to every
// route of the users API while every store call fails as DynamoDB does when
// it throttles past the SDK's retries: each route that needs the table
// answers 503 unavailable with Retry-After, never 500.
func TestEveryRouteAnswers503WhenTheTableIsOut(t *testing.T) {
	f := newFixture(t)
	_, ada := f.ada()
	verifyToken := f.lastLink()
	f.remember(verifyToken)
	pair := f.login(apptest.AdaEmail, apptest.AdaPassword)
	f.do("POST /v1/auth/password-reset", nil, `{"email":"ada@example.com"}`).object(t, http.StatusAccepted)
	resetToken := f.lastLink()
	f.remember(resetToken)
	const newPassword = "another long passphrase"
	f.remember(newPassword)

	failEverything(f.store, throttled)
	requests := map[string]struct {
		as   bool // as Ada
		body string
		want int
	}{
		"POST /v1/auth/register":               {body: `{"email":"grace@example.com","password":"correct horse battery staple","name":"Grace"}`, want: 503},
		"POST /v1/auth/login":                  {body: jsonBody(t, map[string]string{"email": apptest.AdaEmail, "password": apptest.AdaPassword}), want: 503},
		"POST /v1/auth/refresh":                {body: jsonBody(t, map[string]string{"refreshToken": pair.RefreshToken}), want: 503},
		"POST /v1/auth/logout":                 {as: true, body: jsonBody(t, map[string]string{"refreshToken": pair.RefreshToken}), want: 503},
		"GET /v1/users/me":                     {as: true, want: 503},
		"PATCH /v1/users/me":                   {as: true, body: `{"name":"Ada King"}`, want: 503},
		"POST /v1/users/me/password":           {as: true, body: jsonBody(t, map[string]string{"currentPassword": apptest.AdaPassword, "newPassword": newPassword}), want: 503},
		"POST /v1/auth/verify-email":           {body: jsonBody(t, map[string]string{"token": verifyToken}), want: 503},
		"POST /v1/auth/cancel-registration":    {body: jsonBody(t, map[string]string{"token": verifyToken}), want: 503},
		"POST /v1/auth/verify-email/resend":    {as: true, want: 503},
		"POST /v1/auth/password-reset":         {body: `{"email":"ada@example.com"}`, want: 503},
		"POST /v1/auth/password-reset/confirm": {body: jsonBody(t, map[string]string{"token": resetToken, "newPassword": newPassword}), want: 503},
		// These two read no table.
		"GET /v1/health":             {want: 200},
		"GET /.well-known/jwks.json": {want: 200},
	}
	routes := usersRouteKeys()
	for route := range requests {
		if !slices.Contains(routes, route) {
			t.Errorf("the test names route %s, which the API does not have", route)
		}
	}
	for _, route := range routes {
		req, ok := requests[route]
		if !ok {
			t.Errorf("route %s has no request in this test: add one", route)
			continue
		}
		var r response
		if req.as {
			r = f.do(route, ada, req.body)
		} else {
			r = f.do(route, nil, req.body)
		}
		if req.want != http.StatusServiceUnavailable {
			if r.status != req.want {
				t.Errorf("%s: status %d, want %d; body %s", route, r.status, req.want, r.body)
			}
			continue
		}
		if r.status != http.StatusServiceUnavailable {
			t.Errorf("%s: status %d, want 503; body %s", route, r.status, r.body)
			continue
		}
		r.problem(t, http.StatusServiceUnavailable, "unavailable")
		if got, want := r.headers["Retry-After"], "5"; got != want || httpapi.UnavailableRetryAfter.Seconds() != 5 {
			t.Errorf("%s: Retry-After %q, want %q", route, got, want)
		}
	}
}
