package authz_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/serverless-shop/backend/internal/apitest"
	"github.com/serverless-shop/backend/internal/iampolicy"
	"github.com/serverless-shop/backend/shared/principal"
	"github.com/serverless-shop/backend/shared/token"
)

// apiStage is a stage as template.yaml names it (StageName: api): a
// method ARN is arn:aws:execute-api:REGION:ACCOUNT:API/api/METHOD/PATH.
const apiStage = "arn:aws:execute-api:eu-west-1:123456789012:k8s7x2b4c1/api"

// TestPolicyByRole evaluates the policy each role's token gets, whatever
// route it was first sent to (API Gateway caches the decision per
// Authorization header and applies it to every route), against the
// method ARNs of routes: a customer is explicitly denied every method of
// /v1/admin and below, and nothing else; staff is allowed everything. No
// role is allowed another API's or another stage's methods.
// internal/iampolicy matches * as IAM does, across slashes; API Gateway
// keeps the method's * within the method, which matches no fewer of these.
func TestPolicyByRole(t *testing.T) {
	t.Parallel()
	auth := apitest.NewAuth(t)
	a, _ := newAuthorizer(auth)
	admin := []string{
		"GET/v1/admin/products", "POST/v1/admin/products", "GET/v1/admin/products/SKU-1", "PATCH/v1/admin/products/SKU-1",
		"POST/v1/admin/products/SKU-1/stock", "GET/v1/admin/orders", "GET/v1/admin/orders/01J0", "DELETE/v1/admin/products/SKU-1",
		"OPTIONS/v1/admin/products", "GET/v1/admin",
	}
	customer := []string{
		"GET/v1/orders", "POST/v1/orders", "GET/v1/orders/01J0", "POST/v1/orders/01J0/cancel", "GET/v1/users/me",
		"PATCH/v1/users/me", "POST/v1/users/me/password", "POST/v1/auth/logout", "POST/v1/auth/verify-email/resend",
		"GET/v1/products", "GET/v1/products/admin", "GET/v1/administration", "GET/v1/adminx/products",
	}
	elsewhere := []string{
		"arn:aws:execute-api:eu-west-1:123456789012:k8s7x2b4c1/other/GET/v1/orders",
		"arn:aws:execute-api:eu-west-1:123456789012:otherapi01/api/GET/v1/orders",
	}
	for _, tc := range []struct {
		role          string
		allowed, deny []string
	}{
		{token.RoleCustomer, customer, admin},
		{token.RoleStaff, append(append([]string(nil), customer...), admin...), nil},
	} {
		for _, first := range []string{"GET/v1/users/me", "GET/v1/admin/products"} {
			raw := auth.TokenAt(t, principal.Principal{UserID: userID, Role: tc.role}, issuedAt)
			ev := request("GET /v1/users/me", "Bearer "+raw)
			ev.MethodArn = apiStage + "/" + first
			resp, err := a.Handle(context.Background(), ev)
			if err != nil {
				t.Fatalf("%s, first sent to %s: Handle = %v", tc.role, first, err)
			}
			doc, _ := json.Marshal(resp.PolicyDocument)
			policy, err := iampolicy.ParseJSON(tc.role, doc)
			if err != nil {
				t.Fatal(err)
			}
			decide := func(arn string) iampolicy.Decision {
				return iampolicy.Evaluate(iampolicy.Request{Action: "execute-api:Invoke", Resource: arn}, policy).Decision
			}
			for _, route := range tc.allowed {
				if d := decide(apiStage + "/" + route); d != iampolicy.Allowed {
					t.Errorf("%s (first sent to %s): %s %v, want allowed", tc.role, first, route, d)
				}
			}
			for _, route := range tc.deny {
				if d := decide(apiStage + "/" + route); d != iampolicy.ExplicitDeny {
					t.Errorf("%s (first sent to %s): %s %v, want explicitly denied", tc.role, first, route, d)
				}
			}
			for _, arn := range elsewhere {
				if d := decide(arn); d == iampolicy.Allowed {
					t.Errorf("%s: %s allowed, want denied", tc.role, arn)
				}
			}
			if got := resp.Context["role"]; got != tc.role {
				t.Errorf("%s: context role %v", tc.role, got)
			}
		}
	}
}
