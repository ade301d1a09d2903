package apitest

import (
	"bytes"
	"cmp"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// NewRequest is a request to target (a path with its query): body goes as
// it is when a string or []byte, JSON-encoded otherwise, and with it
// Content-Type: application/json. headers alternate names and values; an
// empty value leaves the header out (Content-Type included).
func NewRequest(method, target string, body any, headers ...string) *http.Request {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			panic("apitest: body: " + err.Error())
		}
		rd = bytes.NewReader(enc)
	}
	req, err := http.NewRequest(method, target, rd)
	if err != nil {
		panic("apitest: " + err.Error())
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	return req
}

// Client sends requests to an API and reads its answers: to a handler in
// the test's process (through httptest), or over the network to a
// deployed API (a request with an absolute URL).
type Client struct {
	Handler http.Handler // in the test's process; nil: over the network
	HTTP    *http.Client // over the network; nil: http.DefaultClient
}

// Do sends req and returns the answer with its body read, having checked
// what every answer of the services has (CheckAnswer).
func (c *Client) Do(t testing.TB, req *http.Request) *Response {
	t.Helper()
	var resp *http.Response
	if c.Handler != nil {
		rec := httptest.NewRecorder()
		c.Handler.ServeHTTP(rec, req)
		resp = rec.Result()
	} else {
		var err error
		if resp, err = cmp.Or(c.HTTP, http.DefaultClient).Do(req); err != nil {
			t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
		}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read answer: %v", req.Method, req.URL.Path, err)
	}
	resp.Request = req
	r := &Response{Response: resp, Body: string(b)}
	r.Check(t)
	return r
}

// Response is an answer with its body read.
type Response struct {
	*http.Response
	Body string // the body, read and closed (it shadows Response.Body)
}

// JSON decodes the body into v.
func (r *Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.Body), v); err != nil {
		t.Fatalf("body %q: %v", r.Body, err)
	}
}

// Expect fails the test unless the answer has status; it returns r.
func (r *Response) Expect(t testing.TB, status int) *Response {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d; body %s", r.Request.Method, r.Request.URL.Path, r.StatusCode, status, r.Body)
	}
	return r
}
