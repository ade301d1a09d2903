// Package problem is the one application error type of the backend and its
// rendering as an RFC 9457 problem details document.
//
// What a client must learn more of than a kind (the fields that are
// invalid, when to retry) is a *Error from where it is decided: the domain
// that validates, the use case that counts a limit. Plain sentinel errors
// each service maps to a *Error in one function (web.Config.Errors).
// Anything else is an internal error: the client sees a generic 500 and
// the detail goes to the log, once.
package problem

import (
	"cmp"
	"errors"
	"net/http"
	"time"
)

// TypeBase prefixes every problem type URI. Each type is documented under its
// slug in docs/problems.md.
const TypeBase = "https://github.com/serverless-shop/backend/blob/main/docs/problems.md#"

// Kind classifies an error. Every kind maps to exactly one HTTP status.
type Kind uint8

// The kinds of application error.
const (
	Internal         Kind = iota // 500: a bug, or a failure nothing says is temporary
	Invalid                      // 400: malformed or invalid input
	Unauthenticated              // 401: missing, bad or expired credentials
	Forbidden                    // 403: authenticated but not allowed
	NotFound                     // 404: no such resource (or not the caller's)
	MethodNotAllowed             // 405: the resource does not take the method; see Allow
	Conflict                     // 409: the resource's state forbids the request
	TooLarge                     // 413: request body over the limit
	UnsupportedMedia             // 415: body is not JSON
	Unprocessable                // 422: well-formed but semantically wrong
	TooManyRequests              // 429: slow down, see Retry-After
	Unavailable                  // 503: a dependency is out; retry after Retry-After
)

// kinds gives each kind its HTTP status and default problem type slug.
var kinds = [...]struct {
	status int
	slug   string
}{
	Internal:         {http.StatusInternalServerError, "internal"},
	Invalid:          {http.StatusBadRequest, "invalid-request"},
	Unauthenticated:  {http.StatusUnauthorized, "unauthenticated"},
	Forbidden:        {http.StatusForbidden, "forbidden"},
	NotFound:         {http.StatusNotFound, "not-found"},
	MethodNotAllowed: {http.StatusMethodNotAllowed, "method-not-allowed"},
	Conflict:         {http.StatusConflict, "conflict"},
	TooLarge:         {http.StatusRequestEntityTooLarge, "payload-too-large"},
	UnsupportedMedia: {http.StatusUnsupportedMediaType, "unsupported-media-type"},
	Unprocessable:    {http.StatusUnprocessableEntity, "unprocessable"},
	TooManyRequests:  {http.StatusTooManyRequests, "too-many-requests"},
	Unavailable:      {http.StatusServiceUnavailable, "unavailable"},
}

// orInternal is k, or Internal for a kind outside the table: a bug.
func (k Kind) orInternal() Kind {
	if int(k) >= len(kinds) {
		return Internal
	}
	return k
}

// FieldError names one invalid input field and says what is wrong with it.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is an application error that can be shown to a client.
type Error struct {
	Kind       Kind
	Slug       string        // problem type slug; defaults to the kind's
	Detail     string        // human-readable, safe to show to the client
	Fields     []FieldError  // for Invalid: one entry per bad field
	RetryAfter time.Duration // for TooManyRequests: sent as Retry-After
	Allow      []string      // for MethodNotAllowed: the methods the resource takes, sent as Allow
	Err        error         // cause, logged, never shown
}

func (e *Error) Error() string {
	msg := kinds[e.Kind.orInternal()].slug
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// New returns an error of the given kind with a client-facing detail.
func New(kind Kind, detail string) *Error { return &Error{Kind: kind, Detail: detail} }

// Validation returns an Invalid error listing the bad fields.
func Validation(fields ...FieldError) *Error {
	return &Error{Kind: Invalid, Slug: "validation", Detail: "The request has invalid fields.", Fields: fields}
}

// Of returns the *Error of kind k in err's chain, or nil when err holds
// none (a reached limit is Of(err, TooManyRequests), say).
func Of(err error, k Kind) *Error {
	var e *Error
	if errors.As(err, &e) && e.Kind == k {
		return e
	}
	return nil
}

// Details is the RFC 9457 problem details document.
type Details struct {
	Type     string       `json:"type"`
	Title    string       `json:"title"`
	Status   int          `json:"status"`
	Detail   string       `json:"detail,omitempty"`
	Instance string       `json:"instance,omitempty"`
	Errors   []FieldError `json:"errors,omitempty"`
	// RequestID is the correlation id of the request, the same as its
	// X-Request-Id header, so a problem pasted into a report names it.
	RequestID string `json:"requestId,omitempty"`
}

// ContentType is the media type of a problem details document.
const ContentType = "application/problem+json"

// From turns any error into the problem details a client may see, and
// returns the *Error in err's chain it shows; nil for an internal error,
// whose cause the caller must log because the client sees none of it.
func From(err error, instance string) (Details, *Error) {
	var e *Error
	// A kind outside the table is a bug, so it is internal too: its detail
	// must not reach a 500 body.
	if !errors.As(err, &e) || e.Kind.orInternal() == Internal {
		e = nil
	}
	shown := cmp.Or(e, &Error{Kind: Internal, Detail: "An internal error occurred. Quote the X-Request-Id header when reporting it."})
	k := kinds[shown.Kind]
	return Details{
		Type:     TypeBase + cmp.Or(shown.Slug, k.slug),
		Title:    http.StatusText(k.status),
		Status:   k.status,
		Detail:   shown.Detail,
		Instance: instance,
		Errors:   shown.Fields,
	}, e
}
