package web_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/serverless-shop/backend/internal/apitest"
	"github.com/serverless-shop/backend/shared/problem"
	"github.com/serverless-shop/backend/shared/web"
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
	Weight   *float64          `json:"weight"`
	Labels   map[string]string `json:"labels"`
	Raw      json.RawMessage   `json:"raw"`
	Untagged string            // named as declared
	Internal string            `json:"-"` // not in JSON
	_        int               // unexported: not in JSON
}

// TestDecodeJSON decodes plain request bodies; a Lambda event's base64 body
// is decoded before, by Request (TestLambda).
func TestDecodeJSON(t *testing.T) {
	t.Parallel()
	const valid = `{"items":[{"sku":"SKU-1","quantity":2},{"sku":"SKU-2","quantity":1}],"note":"ring twice","gift":true,"address":{"zip":"10115"}}`
	padded := func(n int) string { // a valid object of exactly n bytes
		return `{"note":"` + strings.Repeat("x", n-len(`{"note":""}`)) + `"}`
	}

	tests := []struct {
		name        string
		contentType string
		body        string
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
		{name: "empty object", contentType: "application/json", body: `{}`},
		{name: "exactly the limit", contentType: "application/json", body: padded(web.MaxBodyBytes)},

		// Media type.
		{name: "no content type", body: valid, wantStatus: 415, wantSlug: "unsupported-media-type"},
		{name: "text/plain", contentType: "text/plain", body: valid, wantStatus: 415, wantSlug: "unsupported-media-type"},
		{name: "jsonp lookalike", contentType: "application/jsonp", body: valid, wantStatus: 415, wantSlug: "unsupported-media-type"},
		{name: "unparsable content type", contentType: "application/json;;;=", body: valid, wantStatus: 415, wantSlug: "unsupported-media-type"},
		{name: "media type checked before size", contentType: "text/plain", body: padded(web.MaxBodyBytes + 1), wantStatus: 415, wantSlug: "unsupported-media-type"},

		// Size.
		{name: "one byte over the limit", contentType: "application/json", body: padded(web.MaxBodyBytes + 1), wantStatus: 413, wantSlug: "payload-too-large"},
		{name: "whitespace counts towards the limit", contentType: "application/json", body: valid + strings.Repeat(" ", web.MaxBodyBytes), wantStatus: 413, wantSlug: "payload-too-large"},

		// Not one JSON object.
		{name: "empty body", contentType: "application/json", body: "", wantStatus: 400, wantSlug: "invalid-request"},
		{name: "array", contentType: "application/json", body: `[` + valid + `]`, wantStatus: 400, wantSlug: "invalid-request"},
		{name: "invalid JSON", contentType: "application/json", body: `{"note": nope}`, wantStatus: 400, wantSlug: "invalid-request"},
		{name: "truncated JSON", contentType: "application/json", body: `{"note":"abc"`, wantStatus: 400, wantSlug: "invalid-request"},
		{name: "single quotes", contentType: "application/json", body: `{'note':'x'}`, wantStatus: 400, wantSlug: "invalid-request"},
		{name: "trailing object", contentType: "application/json", body: valid + `{}`, wantStatus: 400, wantSlug: "invalid-request"},
		{name: "trailing garbage", contentType: "application/json", body: valid + `x`, wantStatus: 400, wantSlug: "invalid-request"},

		// Fields.
		{name: "unknown field", contentType: "application/json", body: `{"note":"x","admin":true}`, wantStatus: 400, wantSlug: "validation", wantField: "admin", wantMessage: "is not a writable field"},
		{name: "unknown nested field", contentType: "application/json", body: `{"address":{"zip":"1","street":"x"}}`, wantStatus: 400, wantSlug: "validation", wantField: "street", wantMessage: "is not a writable field"},
		{name: "string for a number", contentType: "application/json", body: `{"items":[{"sku":"a","quantity":"two"}]}`, wantStatus: 400, wantSlug: "validation", wantField: "items.quantity", wantMessage: "must be an integer"},
		{name: "number for a string", contentType: "application/json", body: `{"note":5}`, wantStatus: 400, wantSlug: "validation", wantField: "note", wantMessage: "must be a string"},
		{name: "string for a bool", contentType: "application/json", body: `{"gift":"yes"}`, wantStatus: 400, wantSlug: "validation", wantField: "gift", wantMessage: "must be a boolean"},
		{name: "object for an array", contentType: "application/json", body: `{"items":{}}`, wantStatus: 400, wantSlug: "validation", wantField: "items"},
		{name: "string for an object", contentType: "application/json", body: `{"address":"Berlin"}`, wantStatus: 400, wantSlug: "validation", wantField: "address"},
		{name: "null for a string", contentType: "application/json", body: `{"note":null,"gift":true}`, wantStatus: 400, wantSlug: "validation", wantField: "note", wantMessage: "must be a string, not null"},
		{name: "null for an object", contentType: "application/json", body: `{"address":null}`, wantStatus: 400, wantSlug: "validation", wantField: "address", wantMessage: "must be an object, not null"},
		{name: "null for an array", contentType: "application/json", body: `{"items":null}`, wantStatus: 400, wantSlug: "validation", wantField: "items", wantMessage: "must be an array, not null"},
		{name: "null item", contentType: "application/json", body: `{"items":[{"sku":"a","quantity":1},null]}`, wantStatus: 400, wantSlug: "validation", wantField: "items[1]", wantMessage: "must be an object, not null"},
		{name: "null nested", contentType: "application/json", body: `{"items":[{"sku":"a","quantity":null}]}`, wantStatus: 400, wantSlug: "validation", wantField: "items[0].quantity", wantMessage: "must be an integer, not null"},
		{name: "null for an unknown field", contentType: "application/json", body: `{"admin":null}`, wantStatus: 400, wantSlug: "validation", wantField: "admin", wantMessage: "is not a writable field"},
		{name: "pointer, map and untagged fields", contentType: "application/json", body: `{"weight":1.5,"labels":{"a":"b"},"Untagged":"x"}`},
		{name: "any shape in a raw message", contentType: "application/json", body: `{"raw":{"x":null,"y":[null,{}]}}`},
		{name: "string for a number", contentType: "application/json", body: `{"weight":"heavy"}`, wantStatus: 400, wantSlug: "validation", wantField: "weight", wantMessage: "must be a number"},
		{name: "null for a pointer", contentType: "application/json", body: `{"weight":null}`, wantStatus: 400, wantSlug: "validation", wantField: "weight", wantMessage: "must be a number, not null"},
		{name: "null map value", contentType: "application/json", body: `{"labels":{"a":null}}`, wantStatus: 400, wantSlug: "validation", wantField: "labels.a", wantMessage: "must be a string, not null"},
		{name: "untagged field in another case", contentType: "application/json", body: `{"untagged":"x"}`, wantStatus: 400, wantSlug: "validation", wantField: "untagged", wantMessage: `is not a field; names are case-sensitive: "Untagged"`},
		{name: "field left out of JSON", contentType: "application/json", body: `{"Internal":"x"}`, wantStatus: 400, wantSlug: "validation", wantField: "Internal", wantMessage: "is not a writable field"},
		{name: "invalid JSON in an array", contentType: "application/json", body: `{"items":[{"sku":}]}`, wantStatus: 400, wantSlug: "invalid-request"},
		{name: "nested wrong type", contentType: "application/json", body: `{"address":{"zip":10115}}`, wantStatus: 400, wantSlug: "validation", wantField: "address.zip", wantMessage: "must be a string"},

		// Keys as encoding/json would take them: given twice, the last one
		// wins; in any case, they match.
		{name: "duplicate key", contentType: "application/json", body: `{"note":"a","note":"b"}`, wantStatus: 400, wantSlug: "validation", wantField: "note", wantMessage: "appears more than once"},
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
			err := web.DecodeJSON(apitest.NewRequest("PUT", "/", tc.body, "Content-Type", tc.contentType), &dst)
			if tc.wantStatus == 0 && err != nil {
				t.Fatalf("DecodeJSON: %v", err)
			}
			if tc.wantStatus == 0 {
				// What it accepts, it decodes as encoding/json does.
				var want orderInput
				if err := json.Unmarshal([]byte(tc.body), &want); err != nil || !reflect.DeepEqual(dst, want) {
					t.Fatalf("DecodeJSON = %v, %+v; want %+v", err, dst, want)
				}
				return
			}
			var perr *problem.Error
			if !errors.As(err, &perr) {
				t.Fatalf("DecodeJSON error = %v, want a *problem.Error", err)
			}
			d, shown := problem.From(err, "")
			if shown == nil || d.Status != tc.wantStatus {
				t.Fatalf("DecodeJSON error %v is status %d (internal %v), want %d", err, d.Status, shown == nil, tc.wantStatus)
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

// TestWithBody: the handler gets the decoded body; a body DecodeJSON
// refuses never reaches it, and its problem is the answer.
func TestWithBody(t *testing.T) {
	t.Parallel()
	var got []string
	h := web.WithBody(func(_ http.ResponseWriter, _ *http.Request, in orderInput) error {
		got = append(got, in.Note)
		return nil
	})
	if err := h(nil, apitest.NewRequest("POST", "/", `{"note":"ring twice"}`)); err != nil || !reflect.DeepEqual(got, []string{"ring twice"}) {
		t.Fatalf("a valid body: %v, handler saw %q", err, got)
	}
	err := h(nil, apitest.NewRequest("POST", "/", `{"note":"x","extra":1}`))
	if p := problem.Of(err, problem.Invalid); p == nil || len(got) != 1 {
		t.Fatalf("an unknown field: %v, handler saw %q", err, got)
	}
}
