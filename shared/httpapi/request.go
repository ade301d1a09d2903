package httpapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"reflect"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/serverless-shop/backend/shared/principal"
	"github.com/serverless-shop/backend/shared/problem"
)

// MaxBodyBytes bounds every JSON request body. The largest legitimate body
// (an order of the maximum number of lines) is far below it.
const MaxBodyBytes = 64 << 10

// Request is one API Gateway REST API request (Lambda proxy integration,
// payload format 1.0).
type Request struct {
	Event         events.APIGatewayProxyRequest
	CorrelationID string               // X-Request-Id of the response, in every log line
	Principal     *principal.Principal // set on protected routes only
	Log           *slog.Logger
}

// RouteKey is the route API Gateway matched, "GET /v1/orders/{id}": the
// method and the resource path of the template.
func (r *Request) RouteKey() string { return r.Event.HTTPMethod + " " + r.Event.Resource }

// Header returns the value of a request header. REST APIs pass header names
// as the client sent them, so the lookup ignores case.
func (r *Request) Header(name string) string {
	v, _ := r.LookupHeader(name)
	return v
}

// LookupHeader returns the value of a request header and whether the
// request carries it at all.
func (r *Request) LookupHeader(name string) (string, bool) {
	return LookupHeader(r.Event.Headers, name)
}

// LookupHeader finds a header in a map of API Gateway's REST events, whose
// names keep the case the client sent.
func LookupHeader(h map[string]string, name string) (string, bool) {
	if v, ok := h[name]; ok {
		return v, true
	}
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

// PathParam returns a path parameter of the route, e.g. "id" in /v1/orders/{id}.
func (r *Request) PathParam(name string) string {
	return r.Event.PathParameters[name]
}

// Query returns a query string parameter and whether it is present.
func (r *Request) Query(name string) (string, bool) {
	v, ok := r.Event.QueryStringParameters[name]
	return v, ok
}

// SourceIP is the address of the client as API Gateway saw it: the
// source of the connection to API Gateway, which a client cannot set
// (unlike X-Forwarded-For). "" when the event does not say.
func (r *Request) SourceIP() string { return r.Event.RequestContext.Identity.SourceIP }

// Caller returns the authenticated principal of a protected route.
func (r *Request) Caller() principal.Principal {
	if r.Principal == nil {
		// Routes are registered as protected or public; a protected handler
		// never runs without a principal. Reaching this is a wiring bug.
		panic("httpapi: Caller called on a public route")
	}
	return *r.Principal
}

// Body returns the raw request body, decoded from base64 when API Gateway
// encoded it.
func (r *Request) Body() ([]byte, error) {
	if !r.Event.IsBase64Encoded {
		return []byte(r.Event.Body), nil
	}
	b, err := base64.StdEncoding.DecodeString(r.Event.Body)
	if err != nil {
		return nil, problem.New(problem.Invalid, "The request body is not valid base64.")
	}
	return b, nil
}

// DecodeJSON decodes the body into dst, which must be a pointer to a struct
// or a map. It answers with a 4xx problem a request without
// Content-Type: application/json (415), and a body that is not one JSON
// object, exceeds MaxBodyBytes, carries unknown fields, a key twice, keys
// differing only in case, or a field name in another case (400).
func (r *Request) DecodeJSON(dst any) error {
	mt, _, err := mime.ParseMediaType(r.Header("content-type"))
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return problem.New(problem.UnsupportedMedia, "The request body must be application/json, and say so in Content-Type.")
	}
	body, err := r.Body()
	if err != nil {
		return err
	}
	if len(body) > MaxBodyBytes {
		return problem.Newf(problem.TooLarge, "The request body exceeds %d bytes.", MaxBodyBytes)
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return problem.New(problem.Invalid, "The request body must be a JSON object.")
	}
	if err := checkKeys(body, reflect.TypeOf(dst)); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeProblem(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return problem.New(problem.Invalid, "The request body must contain a single JSON object.")
	}
	return nil
}

func decodeProblem(err error) error {
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return problem.New(problem.Invalid, "The request body is not valid JSON.")
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			field = "(root)"
		}
		return problem.Validation(problem.FieldError{Field: field, Message: "must be " + jsonKind(typeErr.Type.Kind().String())})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return problem.Validation(problem.FieldError{Field: name, Message: "is not a writable field"})
	default:
		return problem.New(problem.Invalid, "The request body could not be decoded.")
	}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "an integer"
	case "float32", "float64":
		return "a number"
	case "bool":
		return "a boolean"
	case "slice", "array":
		return "an array"
	default:
		return "an object"
	}
}
