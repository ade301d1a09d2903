package contract_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/serverless-shop/backend/internal/apitest"
	"github.com/serverless-shop/backend/shared/problem"
)

// TestGatewayResponsesAreDocumentedProblems checks every answer API Gateway
// gives itself: the template renders it as a problem document matching the
// OpenAPI Problem schema, with the request id in the body and in
// X-Request-Id, and api/openapi.yaml (x-gateway-responses) and
// docs/problems.md document its status and type.
func TestGatewayResponsesAreDocumentedProblems(t *testing.T) {
	doc := loadOpenAPI(t)
	var documented map[string]struct {
		Status int    `json:"status"`
		Type   string `json:"type"`
	}
	raw, err := json.Marshal(doc.Extensions["x-gateway-responses"])
	if err != nil || json.Unmarshal(raw, &documented) != nil || len(documented) == 0 {
		t.Fatalf("openapi.yaml has no x-gateway-responses: %s", raw)
	}
	problems := readFile(t, root, "docs", "problems.md")
	schema := doc.Components.Schemas["Problem"].Value

	_, byID := resources(t)
	responses := mapping(mapping(byID["Api"], "Properties"), "GatewayResponses")
	if responses == nil {
		t.Fatal("the Api resource has no GatewayResponses")
	}
	var types []string
	for kind, gr := range entries(responses) {
		types = append(types, kind)
		want, ok := documented[kind]
		if !ok {
			t.Errorf("%s: not in openapi.yaml's x-gateway-responses", kind)
			continue
		}
		status, err := strconv.Atoi(scalar(mapping(gr, "StatusCode")))
		if err != nil || status != want.Status {
			t.Errorf("%s: template status %q, openapi.yaml %d", kind, scalar(mapping(gr, "StatusCode")), want.Status)
		}
		headers := mapping(mapping(gr, "ResponseParameters"), "Headers")
		for name, value := range map[string]string{
			"Content-Type": "'" + problem.ContentType + "'",
			"X-Request-Id": "context.requestId",
		} {
			if got := scalar(mapping(headers, name)); got != value {
				t.Errorf("%s: header %s = %q, want %q", kind, name, got, value)
			}
		}
		const requestID = "gw-request-1"
		body := strings.ReplaceAll(scalar(mapping(mapping(gr, "ResponseTemplates"), "application/json")), "$context.requestId", requestID)
		if strings.Contains(body, "$") {
			t.Errorf("%s: template uses variables other than $context.requestId: %s", kind, body)
		}
		var v any
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Errorf("%s: template is not JSON: %v: %s", kind, err, body)
			continue
		}
		if err := schema.VisitJSON(v); err != nil {
			t.Errorf("%s: not a Problem of openapi.yaml: %v", kind, err)
		}
		var p apitest.Problem
		_ = json.Unmarshal([]byte(body), &p)
		if p.Status != status || p.Title != http.StatusText(status) || p.RequestID != requestID || p.Type != problem.TypeBase+want.Type {
			t.Errorf("%s: problem %+v does not match status %d, type %s and the request id", kind, p, status, want.Type)
		}
		if !strings.Contains(problems, `<a id="`+want.Type+`"></a>`) {
			t.Errorf("%s: problem type %s is not in docs/problems.md", kind, want.Type)
		}
	}
	for kind := range documented {
		if !slices.Contains(types, kind) {
			t.Errorf("openapi.yaml documents gateway response %s, the template has none", kind)
		}
	}
}

// TestAuthorizerGuardsTheWholeAPI checks the authorizer's wiring: a REQUEST
// authorizer keyed on the Authorization header only, so that its cached
// decision is safe on every route, and the function that verifies tokens.
func TestAuthorizerGuardsTheWholeAPI(t *testing.T) {
	_, byID := resources(t)
	jwt := mapping(mapping(mapping(mapping(byID["Api"], "Properties"), "Auth"), "Authorizers"), "Jwt")
	if jwt == nil {
		t.Fatal("the Api has no Jwt authorizer")
	}
	if got := scalar(mapping(jwt, "FunctionPayloadType")); got != "REQUEST" {
		t.Errorf("FunctionPayloadType = %q, want REQUEST", got)
	}
	if fn := mapping(jwt, "FunctionArn"); fn == nil || fn.Tag != "!GetAtt" || fn.Value != "AuthorizerFunction.Arn" {
		t.Errorf("the authorizer does not invoke AuthorizerFunction")
	}
	headers := mapping(mapping(jwt, "Identity"), "Headers")
	if headers == nil || len(headers.Content) != 1 || headers.Content[0].Value != "Authorization" {
		t.Errorf("identity source must be the Authorization header alone")
	}
	if mapping(mapping(jwt, "Identity"), "ReauthorizeEvery") == nil {
		t.Errorf("the authorizer cache TTL is not set (ReauthorizeEvery)")
	}
}
