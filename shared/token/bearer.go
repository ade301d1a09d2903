package token

import (
	"fmt"
	"strings"
)

// ErrNoBearer means an Authorization header that does not carry a bearer
// token (RFC 6750, section 2.1).
var ErrNoBearer = fmt.Errorf("%w: authorization is not a bearer token", ErrInvalid)

// FromAuthorization returns the token of an "Authorization: Bearer <token>"
// header value. The scheme is case-insensitive; anything else, or a header
// longer than a token can be, is ErrNoBearer or ErrMalformed.
func FromAuthorization(header string) (string, error) {
	if len(header) > len("Bearer ")+MaxTokenBytes {
		return "", ErrMalformed
	}
	scheme, raw, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || raw == "" {
		return "", ErrNoBearer
	}
	return raw, nil
}
