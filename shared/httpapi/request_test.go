package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/serverless-shop/backend/internal/apitest"
	"github.com/serverless-shop/backend/shared/httpapi"
)

// orderInput is a typical request body.
type orderInput struct {
	Note string `json:"note"`
}

func TestDecodeJSONThroughRouter(t *testing.T) {
	t.Parallel()
	rt := httpapi.NewRouter(discardLogger(), nil)
	rt.Public("POST /v1/orders", func(_ context.Context, r *httpapi.Request) (*httpapi.Response, error) {
		var in orderInput
		if err := r.DecodeJSON(&in); err != nil {
			return nil, err
		}
		return httpapi.JSON(http.StatusCreated, map[string]string{"note": in.Note})
	})
	tests := []struct {
		name        string
		contentType string
		body        string
		wantStatus  int
	}{
		{name: "created", contentType: "application/json", body: `{"note":"hi"}`, wantStatus: 201},
		{name: "unsupported media type", contentType: "text/xml", body: `<note/>`, wantStatus: 415},
		{name: "too large", contentType: "application/json", body: strings.Repeat(" ", httpapi.MaxBodyBytes+1), wantStatus: 413},
		{name: "unknown field", contentType: "application/json", body: `{"nope":1}`, wantStatus: 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ev := event("POST /v1/orders")
			ev.Headers["content-type"] = tc.contentType
			ev.Body = tc.body
			resp, err := rt.Handle(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantStatus == 201 {
				if resp.StatusCode != 201 || resp.Body != `{"note":"hi"}` {
					t.Errorf("response = %d %s", resp.StatusCode, resp.Body)
				}
				return
			}
			decodeProblem(t, resp, tc.wantStatus)
		})
	}
}

func TestRequestAccessors(t *testing.T) {
	t.Parallel()
	r := &httpapi.Request{Event: apitest.Request{
		Route:   "GET /v1/orders/{id}",
		Path:    map[string]string{"id": "o-1"},
		Query:   map[string]string{"limit": "10", "empty": ""},
		Headers: map[string]string{"If-None-Match": `"v1"`, "idempotency-key": ""},
	}.Event()}
	lookup := func(name string) string {
		v, ok := r.LookupHeader(name)
		return fmt.Sprintf("%q %v", v, ok)
	}
	query := func(name string) string {
		v, ok := r.Query(name)
		return fmt.Sprintf("%q %v", v, ok)
	}
	tests := []struct {
		name string
		got  string
		want string
	}{
		{name: "route key", got: r.RouteKey(), want: "GET /v1/orders/{id}"},
		{name: "header as sent", got: r.Header("If-None-Match"), want: `"v1"`},
		{name: "header in another case", got: r.Header("if-none-match"), want: `"v1"`},
		{name: "header absent", got: r.Header("Authorization"), want: ""},
		{name: "header present but empty", got: lookup("Idempotency-Key"), want: `"" true`},
		{name: "header absent, looked up", got: lookup("X-Nothing"), want: `"" false`},
		{name: "path parameter", got: r.PathParam("id"), want: "o-1"},
		{name: "path parameter absent", got: r.PathParam("sku"), want: ""},
		{name: "query", got: query("limit"), want: `"10" true`},
		{name: "query present but empty", got: query("empty"), want: `"" true`},
		{name: "query absent", got: query("cursor"), want: `"" false`},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s = %s, want %s", tc.name, tc.got, tc.want)
		}
	}
}

func TestResponseHelpers(t *testing.T) {
	t.Parallel()
	resp, err := httpapi.JSON(http.StatusOK, map[string]int{"n": 1})
	if err != nil || resp.Status != 200 || string(resp.Body) != `{"n":1}` || resp.Headers["Content-Type"] != "application/json" {
		t.Errorf("JSON = %+v, %v", resp, err)
	}
	if _, err := httpapi.JSON(http.StatusOK, func() {}); err == nil {
		t.Error("JSON of a func succeeded")
	}
	if nc := httpapi.NoContent(); nc.Status != http.StatusNoContent || nc.Body != nil {
		t.Errorf("NoContent = %+v", nc)
	}
	if nm := httpapi.NotModified(`"v2"`); nm.Status != http.StatusNotModified || nm.Headers["ETag"] != `"v2"` {
		t.Errorf("NotModified = %+v", nm)
	}
	if r := (&httpapi.Response{}).Set("A", "1").Set("B", "2"); r.Headers["A"] != "1" || r.Headers["B"] != "2" {
		t.Errorf("Set = %+v", r.Headers)
	}
}
