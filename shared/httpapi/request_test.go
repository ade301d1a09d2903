package httpapi_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/serverless-shop/backend/internal/apitest"
	"github.com/serverless-shop/backend/shared/httpapi"
	"github.com/serverless-shop/backend/shared/problem"
)

// orderInput is a typical request body.
type orderInput struct {
	Items []struct {
		SKU      string `json:"sku"`
		Quantity int    `json:"quantity"`
	} `json:"items"`
	Note    string `json:"note"`
	Gift    bool   `json:"gift"`
	Address struct {
		Zip string `json:"zip"`
	} `json:"address"`
}

func request(contentType, body string, base64Encoded bool) *httpapi.Request {
	ev := events.APIGatewayProxyRequest{Headers: map[string]string{}, Body: body, IsBase64Encoded: base64Encoded}
	if contentType != "" {
		ev.Headers["Content-Type"] = contentType
	}
	return &httpapi.Request{Event: ev, Log: discardLogger()}
}

func TestDecodeJSON(t *testing.T) {
	t.Parallel()
	const valid = `{"items":[{"sku":"SKU-1","quantity":2}],"note":"ring twice","gift":true,"address":{"zip":"10115"}}`
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	padded := func(n int) string { // a valid object of exactly n bytes
		return `{"note":"` + strings.Repeat("x", n-len(`{"note":""}`)) + `"}`
	}

	tests := []struct {
		name        string
		contentType string
		body        string
		base64      bool
		wantStatus  int    // 0: success
		wantSlug    string // problem type slug when failing
		wantField   string // the one field a validation problem names
		wantMessage string // its message, when set
	}{
		// Accepted.
		{name: "valid", contentType: "application/json", body: valid},
		{name: "charset parameter", contentType: "application/json; charset=utf-8", body: valid},
		{name: "upper-case media type", contentType: "Application/JSON", body: valid},
		{name: "structured +json suffix", contentType: "application/merge-patch+json", body: valid},
		{name: "surrounding whitespace", contentType: "application/json", body: "\n\t " + valid + " \r\n"},
		{name: "base64 body", contentType: "application/json", body: b64(valid), base64: true},
		{name: "empty object", contentType: "application/json", body: `{}`},
		{name: "exactly the limit", contentType: "application/json", body: padded(httpapi.MaxBodyBytes)},

		// Media type.
		{name: "no content type", body: valid, wantStatus: 415, wantSlug: "unsupported-media-type"},
		{name: "empty content type", contentType: " ", body: valid, wantStatus: 415, wantSlug: "unsupported-media-type"},
		{name: "text/plain", contentType: "text/plain", body: valid, wantStatus: 415, wantSlug: "unsupported-media-type"},
		{name: "form", contentType: "application/x-www-form-urlencoded", body: "a=b", wantStatus: 415, wantSlug: "unsupported-media-type"},
		{name: "multipart", contentType: "multipart/form-data; boundary=x", body: valid, wantStatus: 415, wantSlug: "unsupported-media-type"},
		{name: "jsonp lookalike", contentType: "application/jsonp", body: valid, wantStatus: 415, wantSlug: "unsupported-media-type"},
		{name: "unparsable content type", contentType: "application/json;;;=", body: valid, wantStatus: 415, wantSlug: "unsupported-media-type"},
		{name: "media type checked before size", contentType: "text/plain", body: padded(httpapi.MaxBodyBytes + 1), wantStatus: 415, wantSlug: "unsupported-media-type"},

		// Size.
		{name: "one byte over the limit", contentType: "application/json", body: padded(httpapi.MaxBodyBytes + 1), wantStatus: 413, wantSlug: "payload-too-large"},
		{name: "whitespace counts towards the limit", contentType: "application/json", body: valid + strings.Repeat(" ", httpapi.MaxBodyBytes), wantStatus: 413, wantSlug: "payload-too-large"},
		{name: "base64 body over the limit once decoded", contentType: "application/json", body: b64(padded(httpapi.MaxBodyBytes + 1)), base64: true, wantStatus: 413, wantSlug: "payload-too-large"},

		// Not one JSON object.
		{name: "empty body", contentType: "application/json", body: "", wantStatus: 400, wantSlug: "invalid-request"},
		{name: "only whitespace", contentType: "application/json", body: " \n", wantStatus: 400, wantSlug: "invalid-request"},
		{name: "array", contentType: "application/json", body: `[` + valid + `]`, wantStatus: 400, wantSlug: "invalid-request"},
		{name: "string", contentType: "application/json", body: `"hello"`, wantStatus: 400, wantSlug: "invalid-request"},
		{name: "null", contentType: "application/json", body: `null`, wantStatus: 400, wantSlug: "invalid-request"},
		{name: "number", contentType: "application/json", body: `42`, wantStatus: 400, wantSlug: "invalid-request"},
		{name: "invalid JSON", contentType: "application/json", body: `{"note": nope}`, wantStatus: 400, wantSlug: "invalid-request"},
		{name: "truncated JSON", contentType: "application/json", body: `{"note":"abc"`, wantStatus: 400, wantSlug: "invalid-request"},
		{name: "single quotes", contentType: "application/json", body: `{'note':'x'}`, wantStatus: 400, wantSlug: "invalid-request"},
		{name: "trailing object", contentType: "application/json", body: valid + `{}`, wantStatus: 400, wantSlug: "invalid-request"},
		{name: "trailing garbage", contentType: "application/json", body: valid + `x`, wantStatus: 400, wantSlug: "invalid-request"},
		{name: "trailing brace", contentType: "application/json", body: valid + `}`, wantStatus: 400, wantSlug: "invalid-request"},
		{name: "trailing bracket", contentType: "application/json", body: valid + `]`, wantStatus: 400, wantSlug: "invalid-request"},
		{name: "trailing comma", contentType: "application/json", body: valid + `,`, wantStatus: 400, wantSlug: "invalid-request"},
		{name: "invalid base64", contentType: "application/json", body: "not base64!", base64: true, wantStatus: 400, wantSlug: "invalid-request"},
		{name: "base64 flag on plain JSON", contentType: "application/json", body: valid, base64: true, wantStatus: 400, wantSlug: "invalid-request"},

		// Fields.
		{name: "unknown field", contentType: "application/json", body: `{"note":"x","admin":true}`, wantStatus: 400, wantSlug: "validation", wantField: "admin", wantMessage: "is not a writable field"},
		{name: "unknown nested field", contentType: "application/json", body: `{"address":{"zip":"1","street":"x"}}`, wantStatus: 400, wantSlug: "validation", wantField: "street", wantMessage: "is not a writable field"},
		{name: "string for a number", contentType: "application/json", body: `{"items":[{"sku":"a","quantity":"two"}]}`, wantStatus: 400, wantSlug: "validation", wantField: "items.quantity", wantMessage: "must be an integer"},
		{name: "fraction for an integer", contentType: "application/json", body: `{"items":[{"sku":"a","quantity":1.5}]}`, wantStatus: 400, wantSlug: "validation", wantField: "items.quantity", wantMessage: "must be an integer"},
		{name: "number for a string", contentType: "application/json", body: `{"note":5}`, wantStatus: 400, wantSlug: "validation", wantField: "note", wantMessage: "must be a string"},
		{name: "string for a bool", contentType: "application/json", body: `{"gift":"yes"}`, wantStatus: 400, wantSlug: "validation", wantField: "gift", wantMessage: "must be a boolean"},
		{name: "object for an array", contentType: "application/json", body: `{"items":{}}`, wantStatus: 400, wantSlug: "validation", wantField: "items"},
		{name: "string for an object", contentType: "application/json", body: `{"address":"Berlin"}`, wantStatus: 400, wantSlug: "validation", wantField: "address"},
		{name: "nested wrong type", contentType: "application/json", body: `{"address":{"zip":10115}}`, wantStatus: 400, wantSlug: "validation", wantField: "address.zip", wantMessage: "must be a string"},

		// Keys as encoding/json would take them: given twice, the last one
		// wins; in any case, they match.
		{name: "duplicate key", contentType: "application/json", body: `{"note":"a","note":"b"}`, wantStatus: 400, wantSlug: "validation", wantField: "note", wantMessage: "appears more than once"},
		{name: "duplicate array", contentType: "application/json", body: `{"items":[],"items":[{"sku":"a","quantity":1}]}`, wantStatus: 400, wantSlug: "validation", wantField: "items", wantMessage: "appears more than once"},
		{name: "duplicate nested key", contentType: "application/json", body: `{"items":[{"sku":"a","quantity":1},{"sku":"b","sku":"c","quantity":1}]}`, wantStatus: 400, wantSlug: "validation", wantField: "items[1].sku", wantMessage: "appears more than once"},
		{name: "keys differing in case", contentType: "application/json", body: `{"note":"a","Note":"b"}`, wantStatus: 400, wantSlug: "validation", wantField: "Note", wantMessage: `differs from "note" only in case`},
		{name: "field name in another case", contentType: "application/json", body: `{"NOTE":"x"}`, wantStatus: 400, wantSlug: "validation", wantField: "NOTE", wantMessage: `is not a field; names are case-sensitive: "note"`},
		{name: "nested field name in another case", contentType: "application/json", body: `{"address":{"Zip":"1"}}`, wantStatus: 400, wantSlug: "validation", wantField: "address.Zip"},
		{name: "escaped key spelling a field", contentType: "application/json", body: `{"n\u006fte":"x","note":"y"}`, wantStatus: 400, wantSlug: "validation", wantField: "note", wantMessage: "appears more than once"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var dst orderInput
			err := request(tc.contentType, tc.body, tc.base64).DecodeJSON(&dst)
			if tc.wantStatus == 0 {
				if err != nil {
					t.Fatalf("DecodeJSON: %v", err)
				}
				return
			}
			var perr *problem.Error
			if !errors.As(err, &perr) {
				t.Fatalf("DecodeJSON error = %v, want a *problem.Error", err)
			}
			d, _, internal := problem.From(err, "")
			if internal || d.Status != tc.wantStatus {
				t.Fatalf("DecodeJSON error %v is status %d (internal %v), want %d", err, d.Status, internal, tc.wantStatus)
			}
			if want := problem.TypeBase + tc.wantSlug; d.Type != want {
				t.Errorf("type = %q, want %q", d.Type, want)
			}
			if tc.wantField == "" {
				if len(perr.Fields) != 0 {
					t.Errorf("fields = %+v, want none", perr.Fields)
				}
				return
			}
			if len(perr.Fields) != 1 || perr.Fields[0].Field != tc.wantField || (tc.wantMessage != "" && perr.Fields[0].Message != tc.wantMessage) {
				t.Errorf("fields = %+v, want [{%s %s}]", perr.Fields, tc.wantField, tc.wantMessage)
			}
		})
	}
}

func TestDecodeJSONValues(t *testing.T) {
	t.Parallel()
	body := `{"items":[{"sku":"SKU-1","quantity":2},{"sku":"SKU-2","quantity":1}],"note":"ring twice","gift":true,"address":{"zip":"10115"}}`
	for _, b64 := range []bool{false, true} {
		raw := body
		if b64 {
			raw = base64.StdEncoding.EncodeToString([]byte(body))
		}
		var dst orderInput
		if err := request("application/json", raw, b64).DecodeJSON(&dst); err != nil {
			t.Fatalf("DecodeJSON(base64 %v): %v", b64, err)
		}
		if len(dst.Items) != 2 || dst.Items[0].SKU != "SKU-1" || dst.Items[0].Quantity != 2 || dst.Items[1].SKU != "SKU-2" ||
			dst.Note != "ring twice" || !dst.Gift || dst.Address.Zip != "10115" {
			t.Errorf("DecodeJSON(base64 %v) = %+v", b64, dst)
		}
	}
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
