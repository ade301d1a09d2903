package principal_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/serverless-shop/backend/shared/principal"
	"github.com/serverless-shop/backend/shared/token"
)

var (
	now = time.Date(2025, time.March, 14, 15, 9, 26, 0, time.UTC)
	exp = now.Add(15 * time.Minute)
)

// TestContextRoundTrip passes the context the way API Gateway does: as
// JSON that the integration decodes into map[string]any.
func TestContextRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		p    principal.Principal
		want principal.Principal // FromContext of its context; zero: p
	}{
		{name: "all fields", p: principal.Principal{UserID: "u-1", Email: "ada@example.com", Name: "Ada Lovelace", EmailVerified: true, ExpiresAt: exp, Role: token.RoleStaff}},
		{name: "no email or name", p: principal.Principal{UserID: "u-2", ExpiresAt: exp}},
		{name: "unicode name", p: principal.Principal{UserID: "u-5", Name: "Zoë 山田", ExpiresAt: exp}},
		{name: "sub-second expiry rounds down", p: principal.Principal{UserID: "u-3", ExpiresAt: exp.Add(900 * time.Millisecond)},
			want: principal.Principal{UserID: "u-3", ExpiresAt: exp}},
		{name: "other time zone becomes UTC", p: principal.Principal{UserID: "u-4", ExpiresAt: exp.In(time.FixedZone("JST", 9*3600))},
			want: principal.Principal{UserID: "u-4", ExpiresAt: exp}},
	}
	for _, tc := range tests {
		if tc.want == (principal.Principal{}) {
			tc.want = tc.p
		}
		if tc.want.Role == "" {
			tc.want.Role = token.RoleCustomer
		}
		b, err := json.Marshal(tc.p.Context())
		var decoded map[string]any
		if err == nil {
			err = json.Unmarshal(b, &decoded)
		}
		if err != nil {
			t.Fatal(err)
		}
		if got, err := principal.FromContext(decoded, now); err != nil || got != tc.want {
			t.Errorf("%s: FromContext(%s) = %+v, %v; want %+v", tc.name, b, got, err, tc.want)
		}
	}
}

// TestContextKeys pins the keys and their string values, which API
// Gateway passes on unchanged.
func TestContextKeys(t *testing.T) {
	t.Parallel()
	ctx := principal.Principal{UserID: "u-1", Email: "e@x.example", Name: "N", EmailVerified: true, ExpiresAt: time.Unix(1700000000, 0)}.Context()
	want := map[string]any{"sub": "u-1", "email": "e@x.example", "name": "N", "email_verified": "true", "exp": "1700000000", "role": "customer"}
	if !reflect.DeepEqual(ctx, want) {
		t.Errorf("Context() = %v, want %v", ctx, want)
	}
}

func TestFromClaims(t *testing.T) {
	t.Parallel()
	c := token.Claims{RegisteredClaims: jwt.RegisteredClaims{Subject: "u-1", ExpiresAt: jwt.NewNumericDate(exp)}, Email: "e@x.example", Name: "N", EmailVerified: true}
	if got, want := principal.FromClaims(c), (principal.Principal{UserID: "u-1", Email: "e@x.example", Name: "N", EmailVerified: true, ExpiresAt: exp.Add(token.Leeway), Role: token.RoleCustomer}); got != want {
		t.Errorf("FromClaims = %+v, want %+v (expiring with the leeway)", got, want)
	}
	if got := principal.FromClaims(token.Claims{RegisteredClaims: jwt.RegisteredClaims{Subject: "u-1"}}); !got.ExpiresAt.IsZero() {
		t.Errorf("FromClaims without exp = %+v, want no expiry", got)
	}
	for claim, want := range map[string]string{"": token.RoleCustomer, token.RoleCustomer: token.RoleCustomer, token.RoleStaff: token.RoleStaff, "admin": token.RoleCustomer} {
		if got := principal.FromClaims(token.Claims{Role: claim}); got.Role != want || got.IsStaff() != (want == token.RoleStaff) {
			t.Errorf("FromClaims(role %q) = role %q, IsStaff %v; want %q", claim, got.Role, got.IsStaff(), want)
		}
	}
}

func TestFromContext(t *testing.T) {
	t.Parallel()
	expUnix := exp.Unix()
	tests := []struct {
		name    string
		ctx     map[string]any
		at      time.Time
		want    principal.Principal
		wantErr error
	}{
		{name: "strings", ctx: map[string]any{"sub": "u-1", "email": "e@x.example", "name": "N", "exp": fmt.Sprint(expUnix)}, at: now, want: principal.Principal{UserID: "u-1", Email: "e@x.example", Name: "N", ExpiresAt: exp}},
		{name: "exp as float64 from a JSON decoder", ctx: map[string]any{"sub": "u-1", "exp": float64(expUnix)}, at: now, want: principal.Principal{UserID: "u-1", ExpiresAt: exp}},
		{name: "sub as float64", ctx: map[string]any{"sub": float64(42), "exp": float64(expUnix)}, at: now, want: principal.Principal{UserID: "42", ExpiresAt: exp}},
		{name: "fractional float64 exp truncated", ctx: map[string]any{"sub": "u-1", "exp": float64(expUnix) + 0.75}, at: now, want: principal.Principal{UserID: "u-1", ExpiresAt: exp}},
		{name: "one nanosecond before expiry", ctx: map[string]any{"sub": "u-1", "exp": fmt.Sprint(expUnix)}, at: exp.Add(-time.Nanosecond), want: principal.Principal{UserID: "u-1", ExpiresAt: exp}},
		{name: "staff", ctx: map[string]any{"sub": "u-1", "exp": fmt.Sprint(expUnix), "role": "staff"}, at: now, want: principal.Principal{UserID: "u-1", ExpiresAt: exp, Role: token.RoleStaff}},
		{name: "an unknown role is a customer's", ctx: map[string]any{"sub": "u-1", "exp": fmt.Sprint(expUnix), "role": "admin"}, at: now, want: principal.Principal{UserID: "u-1", ExpiresAt: exp}},
		{name: "email of another type ignored", ctx: map[string]any{"sub": "u-1", "exp": fmt.Sprint(expUnix), "email": true}, at: now, want: principal.Principal{UserID: "u-1", ExpiresAt: exp}},

		{name: "exactly at expiry", ctx: map[string]any{"sub": "u-1", "exp": fmt.Sprint(expUnix)}, at: exp, wantErr: principal.ErrExpired},
		{name: "float64 exp expired", ctx: map[string]any{"sub": "u-1", "exp": float64(expUnix)}, at: exp, wantErr: principal.ErrExpired},
		{name: "exp zero", ctx: map[string]any{"sub": "u-1", "exp": "0"}, at: now, wantErr: principal.ErrExpired},

		{name: "nil context", ctx: nil, at: now, wantErr: principal.ErrMissing},
		{name: "empty context", ctx: map[string]any{}, at: now, wantErr: principal.ErrMissing},
		{name: "missing sub", ctx: map[string]any{"email": "e@x.example", "exp": fmt.Sprint(expUnix)}, at: now, wantErr: principal.ErrMissing},
		{name: "empty sub", ctx: map[string]any{"sub": "", "exp": fmt.Sprint(expUnix)}, at: now, wantErr: principal.ErrMissing},
		{name: "sub of another type", ctx: map[string]any{"sub": []string{"u-1"}, "exp": fmt.Sprint(expUnix)}, at: now, wantErr: principal.ErrMissing},
		{name: "missing exp", ctx: map[string]any{"sub": "u-1"}, at: now, wantErr: principal.ErrMissing},
		{name: "exp not a number", ctx: map[string]any{"sub": "u-1", "exp": "soon"}, at: now, wantErr: principal.ErrMissing},
		{name: "exp of another type", ctx: map[string]any{"sub": "u-1", "exp": true}, at: now, wantErr: principal.ErrMissing},
		{name: "missing sub wins over expiry", ctx: map[string]any{"exp": "0"}, at: now, wantErr: principal.ErrMissing},
	}
	for _, tc := range tests {
		if tc.wantErr == nil && tc.want.Role == "" {
			tc.want.Role = token.RoleCustomer // no role, or an unknown one: a customer
		}
		if got, err := principal.FromContext(tc.ctx, tc.at); !errors.Is(err, tc.wantErr) || got != tc.want {
			t.Errorf("%s: FromContext = %+v, %v; want %+v, %v", tc.name, got, err, tc.want, tc.wantErr)
		}
	}
}

func ExamplePrincipal_Context() {
	p := principal.Principal{UserID: "u-1", Email: "ada@example.com", Name: "Ada", ExpiresAt: time.Unix(1741965866, 0)}
	got, err := principal.FromContext(p.Context(), time.Unix(1741965000, 0))
	fmt.Println(got.UserID, got.Email, got.ExpiresAt.Format(time.RFC3339), err)

	_, err = principal.FromContext(p.Context(), time.Unix(1741965866, 0))
	fmt.Println(err)
	// Output:
	// u-1 ada@example.com 2025-03-14T15:24:26Z <nil>
	// principal: access token expired
}
