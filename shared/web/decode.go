package web

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"

	"github.com/serverless-shop/backend/shared/problem"
)

// MaxBodyBytes bounds every JSON request body. The largest legitimate body
// (an order of the maximum number of lines) is far below it.
const MaxBodyBytes = 64 << 10

// WithBody is the handler h of a route that takes a JSON body: it decodes
// the request's body into a T (DecodeJSON's rules) and passes it on.
func WithBody[T any](h func(http.ResponseWriter, *http.Request, T) error) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in T
		if err := DecodeJSON(r, &in); err != nil {
			return err
		}
		return h(w, r, in)
	}
}

// DecodeJSON decodes the request's body into dst, which must be a pointer
// to a struct or a map. It answers with a 4xx problem a request without
// Content-Type: application/json (415), and a body that is not one JSON
// object, exceeds MaxBodyBytes, carries unknown fields, a key twice, keys
// differing only in case, or a field name in another case (400).
func DecodeJSON(r *http.Request, dst any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return problem.New(problem.UnsupportedMedia, "The request body must be application/json, and say so in Content-Type.")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		return err // a *problem.Error from Lambda's base64, or the connection's
	}
	if len(body) > MaxBodyBytes {
		return problem.New(problem.TooLarge, fmt.Sprintf("The request body exceeds %d bytes.", MaxBodyBytes))
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return problem.New(problem.Invalid, "The request body must be a JSON object.")
	}
	// What encoding/json would let through (walk); a body that is not
	// well-formed is left to the decoder, which says so.
	keys := json.NewDecoder(bytes.NewReader(body))
	keys.UseNumber()
	var bad []problem.FieldError
	if err := walk(keys, reflect.TypeOf(dst), "", &bad); err == nil && len(bad) > 0 {
		return problem.Validation(bad...)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch err := dec.Decode(dst); {
	case err == nil:
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return problem.New(problem.Invalid, "The request body is not valid JSON.")
	case errors.As(err, &typeErr):
		return problem.Validation(problem.FieldError{Field: cmp.Or(typeErr.Field, "(root)"), Message: "must be " + jsonKind(typeErr.Type.Kind().String())})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return problem.Validation(problem.FieldError{Field: name, Message: "is not a writable field"})
	default:
		return problem.New(problem.Invalid, "The request body could not be decoded.")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return problem.New(problem.Invalid, "The request body must contain a single JSON object.")
	}
	return nil
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
