package token

import (
	"fmt"
	"strings"
)

// ErrNoBearer means an Authorization header that does not carry a bearer
// token (RFC 6750, section 2.1).
var ErrNoBearer = fmt.Errorf("%w: authorization is not a bearer token", ErrInvalid)

// FromAuthorization returns the token of an "Authorization: Bearer <token>"
// header value. The scheme is case-insensitive; anything else is
// ErrNoBearer. The token's size is Verify's to bound.
func FromAuthorization(header string) (string, error) {
	scheme, raw, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || raw == "" {
		return "", ErrNoBearer
	}
	return raw, nil
}
