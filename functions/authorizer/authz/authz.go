// Package authz is the Lambda REQUEST authorizer of the REST API: it turns
// the bearer token of a request into an IAM policy allowing the routes of
// the token's role and, with it, the principal the services receive. A
// staff token is allowed the whole stage; a customer's the whole stage but
// the staff routes, /v1/admin/*, which the policy denies explicitly.
//
// The decision depends on the Authorization header only, never on the
// route, because API Gateway caches it per header value and reuses it for
// every route the authorizer guards; that is also why the policy names
// every route of the stage a role may or may not call rather than the one
// being called. The role is a claim of the token, so a cached policy stays
// right for as long as the token is: a role change ends the account's
// tokens (the users service revokes them) and the next login's token is
// another header, with its own decision.
package authz

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/serverless-shop/backend/shared/logging"
	"github.com/serverless-shop/backend/shared/principal"
	"github.com/serverless-shop/backend/shared/token"
)

// ErrUnauthorized is how a Lambda authorizer tells API Gateway to answer
// 401 (the UNAUTHORIZED gateway response): an error whose message is
// exactly "Unauthorized". Any other error becomes a 500, and a Deny policy
// a 403; a missing or bad token is neither.
var ErrUnauthorized = errors.New("Unauthorized")

// Authorizer decides on requests. It makes no network calls.
type Authorizer struct {
	verifier *token.Verifier
	log      *slog.Logger
}

// New returns an authorizer.
func New(v *token.Verifier, log *slog.Logger) *Authorizer { return &Authorizer{verifier: v, log: log} }

// Handle is the Lambda handler. It allows a valid token the routes of its
// role (policy) and answers ErrUnauthorized for anything else.
func (a *Authorizer) Handle(ctx context.Context, ev events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
	ctx = logging.With(ctx, slog.String(logging.KeyCorrelationID, ev.RequestContext.RequestID))
	raw, err := token.FromAuthorization(authorization(ev.Headers))
	var claims token.Claims
	if err == nil {
		claims, err = a.verifier.Verify(raw)
	}
	if err != nil {
		a.log.InfoContext(ctx, "access denied", slog.String("reason", err.Error()), slog.String("route", ev.HTTPMethod+" "+ev.Resource))
		return events.APIGatewayCustomAuthorizerResponse{}, ErrUnauthorized
	}
	stage, err := stageARN(ev.MethodArn)
	if err != nil {
		// Only API Gateway calls this function, and it always sends a
		// method ARN; refuse rather than allow something unknown.
		a.log.ErrorContext(ctx, "access denied", slog.String(logging.KeyError, err.Error()))
		return events.APIGatewayCustomAuthorizerResponse{}, ErrUnauthorized
	}
	p := principal.FromClaims(claims)
	a.log.DebugContext(ctx, "access granted", slog.String(logging.KeyUserID, p.UserID), slog.String("role", p.Role))
	return events.APIGatewayCustomAuthorizerResponse{PrincipalID: p.UserID, PolicyDocument: policy(stage, p), Context: p.Context()}, nil
}

// policy is what p may call on stage: every route, but for a customer the
// staff routes, explicitly denied, which API Gateway answers with its 403
// (ACCESS_DENIED: the forbidden problem) without calling the service.
func policy(stage string, p principal.Principal) events.APIGatewayCustomAuthorizerPolicy {
	doc := events.APIGatewayCustomAuthorizerPolicy{Version: "2012-10-17", Statement: []events.IAMPolicyStatement{
		{Action: []string{"execute-api:Invoke"}, Effect: "Allow", Resource: []string{stage + "/*"}},
	}}
	if !p.IsStaff() {
		// The staff routes as a method ARN ends after the stage
		// (/METHOD/RESOURCE-PATH): /v1/admin and every path under it, under
		// any method. API Gateway matches a * in the method's place within
		// the method, and a last * to the end of the ARN; no other route's
		// path holds /v1/admin, so nothing else matches.
		admin := []string{stage + "/*/v1/admin", stage + "/*/v1/admin/*"}
		doc.Statement = append(doc.Statement, events.IAMPolicyStatement{Action: []string{"execute-api:Invoke"}, Effect: "Deny", Resource: admin})
	}
	return doc
}

// stageARN cuts a method ARN,
// arn:aws:execute-api:REGION:ACCOUNT:API/STAGE/METHOD/RESOURCE..., down to
// the stage: arn:aws:execute-api:REGION:ACCOUNT:API/STAGE.
func stageARN(methodARN string) (string, error) {
	parts := strings.SplitN(methodARN, "/", 3)
	if len(parts) < 3 || !strings.HasPrefix(parts[0], "arn:") || strings.Count(parts[0], ":") != 5 || parts[1] == "" {
		return "", fmt.Errorf("not a method ARN: %q", methodARN)
	}
	return parts[0] + "/" + parts[1], nil
}

// authorization is the request's Authorization header, under whichever
// case of its name the client sent it (API Gateway keeps the client's).
func authorization(headers map[string]string) string {
	if v, ok := headers["Authorization"]; ok {
		return v
	}
	for k, v := range headers {
		if strings.EqualFold(k, "Authorization") {
			return v
		}
	}
	return ""
}
