// Package principal is who the caller of a protected route is: derived from
// a verified access token, and passed by the Lambda authorizer to the
// services in the request context of a REST API (requestContext.authorizer).
package principal

import (
	"errors"
	"strconv"
	"time"

	"github.com/serverless-shop/backend/shared/token"
)

// ErrMissing means the request carries no usable authorizer context.
var ErrMissing = errors.New("principal: no authorizer context")

// ErrExpired means the access token expired after the authorizer's decision
// was cached.
var ErrExpired = errors.New("principal: access token expired")

// Principal is the authenticated caller of a protected route.
type Principal struct {
	UserID        string
	Email         string
	Name          string
	EmailVerified bool      // the caller proved they own Email
	ExpiresAt     time.Time // expiry of the access token the decision was made on
	Role          string    // token.RoleCustomer or token.RoleStaff, never empty
}

// IsStaff reports whether the caller may use the staff routes (/v1/admin/*).
func (p Principal) IsStaff() bool { return p.Role == token.RoleStaff }

// role is what a claim or context value says the role is: a customer
// unless it says staff.
func role(v string) string {
	if v == token.RoleStaff {
		return token.RoleStaff
	}
	return token.RoleCustomer
}

// FromClaims is the principal of a verified access token. ExpiresAt allows
// the verifier's leeway, the moment the token stops being accepted.
func FromClaims(c token.Claims) Principal {
	p := Principal{UserID: c.Subject, Email: c.Email, Name: c.Name, EmailVerified: c.EmailVerified, Role: role(c.Role)}
	if c.ExpiresAt != nil {
		p.ExpiresAt = c.ExpiresAt.Add(token.Leeway).UTC()
	}
	return p
}

// Context renders p as an authorizer response context, which API Gateway
// hands to the integration as requestContext.authorizer, beside
// principalId. Values are strings so that they arrive unchanged whatever
// the JSON number handling on the way.
func (p Principal) Context() map[string]any {
	return map[string]any{
		"sub":            p.UserID,
		"email":          p.Email,
		"name":           p.Name,
		"email_verified": strconv.FormatBool(p.EmailVerified),
		"exp":            strconv.FormatInt(p.ExpiresAt.Unix(), 10),
		"role":           role(p.Role),
	}
}

// FromContext reads the principal from an authorizer context and checks that
// the token it was derived from has not expired at now. API Gateway caches an
// authorizer's decision; this check keeps a cached decision from outliving the
// token it was made for.
func FromContext(ctx map[string]any, now time.Time) (Principal, error) {
	str := func(k string) string {
		switch v := ctx[k].(type) {
		case string:
			return v
		case float64: // a number that a JSON decoder turned into float64
			return strconv.FormatInt(int64(v), 10)
		default:
			return ""
		}
	}
	p := Principal{UserID: str("sub"), Email: str("email"), Name: str("name"), Role: role(str("role"))}
	p.EmailVerified, _ = strconv.ParseBool(str("email_verified")) // absent or odd: not verified
	exp, err := strconv.ParseInt(str("exp"), 10, 64)
	if p.UserID == "" || err != nil {
		return Principal{}, ErrMissing
	}
	p.ExpiresAt = time.Unix(exp, 0).UTC()
	if !now.Before(p.ExpiresAt) {
		return Principal{}, ErrExpired
	}
	return p, nil
}
