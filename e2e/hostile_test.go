//go:build integration

package e2e

import (
	"strings"
	"testing"
)

// TestHostileInputGets4xx throws malformed, oversized and type-confused
// requests at every route: each must get a 4xx problem from the service (or
// a 4xx from API Gateway itself), never a 5xx.
func TestHostileInputGets4xx(t *testing.T) {
	t.Parallel()
	u := signUp(t, "hostile")
	huge := `{"items":[` + strings.Repeat(`{"sku":"COF-ESP-250","quantity":1},`, 2000) + `{"sku":"X","quantity":1}]}`
	cases := []struct {
		method, path string
		body         any
		auth         bool
	}{
		{"POST", "/v1/auth/register", `null`, false},
		{"POST", "/v1/auth/register", `{"email":null,"password":null,"name":null}`, false},
		{"POST", "/v1/auth/register", `{"email":"a@b.c","password":"` + strings.Repeat("é", 200) + `","name":"x"}`, false},
		{"POST", "/v1/auth/register", `{"email":"a@b.c","password":"correct horse battery staple","name":"\u202e\u0000"}`, false},
		{"POST", "/v1/auth/register", "\xff\xfe\x00garbage", false},
		{"POST", "/v1/auth/login", `{"email":"a@b.c","password":"` + strings.Repeat("p", 5000) + `"}`, false},
		{"POST", "/v1/auth/login", `{"email":["a@b.c"],"password":{}}`, false},
		{"POST", "/v1/auth/refresh", `{"refreshToken":"` + strings.Repeat("A", 10000) + `"}`, false},
		{"POST", "/v1/auth/refresh", `{"refreshToken":"rt1.01AAAAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}`, false},
		{"POST", "/v1/auth/logout", `{}`, true},
		{"PATCH", "/v1/users/me", `{"name":null}`, true},
		{"PATCH", "/v1/users/me", `{"name":{"first":"a"}}`, true},
		{"POST", "/v1/users/me/password", `{"currentPassword":1,"newPassword":2}`, true},
		{"POST", "/v1/orders", `{"items":null}`, true},
		{"POST", "/v1/orders", `{"items":[{"sku":"COF-ESP-250","quantity":1e30}]}`, true},
		{"POST", "/v1/orders", `{"items":[{"sku":"COF-ESP-250","quantity":-1}]}`, true},
		{"POST", "/v1/orders", `{"items":[{"sku":"` + strings.Repeat("Z", 500) + `","quantity":1}]}`, true},
		{"POST", "/v1/orders", `{"items":[{}]}`, true},
		{"POST", "/v1/orders", huge, true},
		{"POST", "/v1/orders", `{"items":[{"sku":"COF-ESP-250","quantity":1}]}{"again":true}`, true},
		{"GET", "/v1/orders?limit=-5", nil, true},
		{"GET", "/v1/orders?limit=99999999999999999999", nil, true},
		{"GET", "/v1/orders?cursor=" + strings.Repeat("c", 300), nil, true},
		{"GET", "/v1/orders?cursor=c1.%00%00.%FF", nil, true},
		{"GET", "/v1/orders/" + strings.Repeat("9", 200), nil, true},
		{"POST", "/v1/orders/..%2F..%2Fetc/cancel", nil, true},
		{"GET", "/v1/products/%00%01", nil, false},
		{"GET", "/v1/products/" + strings.Repeat("A", 1000), nil, false},
	}
	for _, tc := range cases {
		name := tc.method + " " + tc.path
		if len(name) > 60 {
			name = name[:60]
		}
		t.Run(name, func(t *testing.T) {
			var headers []string
			if tc.auth {
				headers = u.bearer()
			}
			// A 4xx, which Client.Do checks is a problem document.
			r := call(t, tc.method, tc.path, tc.body, headers...)
			if r.StatusCode < 400 || r.StatusCode >= 500 {
				t.Fatalf("status %d, want a 4xx; body %.300s", r.StatusCode, r.Body)
			}
		})
	}
}
