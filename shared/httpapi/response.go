package httpapi

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"
)

// Response is what a handler returns; the router adds the common headers.
type Response struct {
	Status  int
	Headers map[string]string
	Body    []byte
}

// JSON returns a response with v encoded as JSON.
func JSON(status int, v any) (*Response, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return &Response{Status: status, Headers: map[string]string{"Content-Type": "application/json"}, Body: b}, nil
}

// NoContent returns a 204 response.
func NoContent() *Response { return &Response{Status: http.StatusNoContent} }

// NotModified returns a 304 response carrying the entity tag.
func NotModified(etag string) *Response {
	return &Response{Status: http.StatusNotModified, Headers: map[string]string{"ETag": etag}}
}

// Set sets a header and returns the response, for chaining.
func (r *Response) Set(name, value string) *Response {
	if r.Headers == nil {
		r.Headers = map[string]string{}
	}
	r.Headers[name] = value
	return r
}

func retryAfterSeconds(seconds float64) string {
	// Round up: a client told to wait less than the limit asks too early.
	s := int(math.Ceil(seconds))
	if s < 1 {
		s = 1
	}
	return strconv.Itoa(s)
}
