package token_test

import (
	"errors"
	"testing"

	"github.com/serverless-shop/backend/shared/token"
)

func TestFromAuthorization(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, header, want string
		err                error
	}{
		{name: "bearer", header: "Bearer a.b.c", want: "a.b.c"},
		{name: "scheme in any case", header: "bEaReR a.b.c", want: "a.b.c"},
		{name: "empty", header: "", err: token.ErrNoBearer},
		{name: "basic", header: "Basic dXNlcjpwdw==", err: token.ErrNoBearer},
		{name: "scheme only", header: "Bearer", err: token.ErrNoBearer},
		{name: "scheme and space", header: "Bearer ", err: token.ErrNoBearer},
		{name: "no scheme", header: "a.b.c", err: token.ErrNoBearer},
	}
	for _, tc := range tests {
		got, err := token.FromAuthorization(tc.header)
		if !errors.Is(err, tc.err) || got != tc.want || (err != nil && !errors.Is(err, token.ErrInvalid)) {
			t.Errorf("%s: FromAuthorization(%.20q) = %q, %v; want %q, %v, wrapping ErrInvalid", tc.name, tc.header, got, err, tc.want, tc.err)
		}
	}
}
