package api_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/functions/users/app/apptest"
	"github.com/serverless-shop/backend/functions/users/password"
	"github.com/serverless-shop/backend/shared/events"
	"github.com/serverless-shop/backend/shared/httpapi"
)

func TestRegister(t *testing.T) {
	tests := []struct {
		name                string
		email, pass, uname  string
		wantEmail, wantName string
	}{
		{"plain", apptest.AdaEmail, apptest.AdaPassword, apptest.AdaName, apptest.AdaEmail, apptest.AdaName},
		{"email normalised", "  Ada.Lovelace@EXAMPLE.com ", apptest.AdaPassword, apptest.AdaName, "ada.lovelace@example.com", apptest.AdaName},
		{"name trimmed", apptest.AdaEmail, apptest.AdaPassword, "  Ada  ", apptest.AdaEmail, "Ada"},
		{"non-ASCII name", apptest.AdaEmail, apptest.AdaPassword, "Zoë Ångström 山田", apptest.AdaEmail, "Zoë Ångström 山田"},
		{"Unicode domain kept in Unicode", "Ada@Bu\u0308cher.Example", apptest.AdaPassword, apptest.AdaName, "ada@bücher.example", apptest.AdaName},
		{"multi-byte password of 12 runes", apptest.AdaEmail, strings.Repeat("🔑", 12), apptest.AdaName, apptest.AdaEmail, apptest.AdaName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.remember(tt.pass)
			r := f.do("POST /v1/auth/register", nil, jsonBody(t, map[string]string{"email": tt.email, "password": tt.pass, "name": tt.uname}))
			m := r.object(t, http.StatusCreated)
			if got := strings.Join(keysOf(m), ","); got != "createdAt,email,emailVerified,id,name" {
				t.Errorf("body keys %s, want createdAt,email,emailVerified,id,name: %s", got, r.body)
			}
			if m["emailVerified"] != false {
				t.Errorf("emailVerified = %v, want false", m["emailVerified"])
			}
			id, _ := m["id"].(string)
			if m["email"] != tt.wantEmail || m["name"] != tt.wantName || id == "" {
				t.Errorf("body %s, want email %q name %q and an id", r.body, tt.wantEmail, tt.wantName)
			}
			if want := apptest.Start.Format(time.RFC3339Nano); m["createdAt"] != want {
				t.Errorf("createdAt %v, want %s", m["createdAt"], want)
			}
			stored, err := f.mem.User(context.Background(), id)
			if err != nil {
				t.Fatalf("user %s not stored: %v", id, err)
			}
			if stored.Email != tt.wantEmail || stored.Name != tt.wantName || !stored.CreatedAt.Equal(apptest.Start) || !stored.UpdatedAt.Equal(apptest.Start) {
				t.Errorf("stored user %+v", stored.User)
			}
			if ok, err := password.Verify(stored.PasswordHash, tt.pass); err != nil || !ok {
				t.Errorf("stored hash does not verify the password: %v, %v", ok, err)
			}
			if password.NeedsRehash(stored.PasswordHash, apptest.CheapHashing) {
				t.Errorf("stored hash %q not made with Config.Hashing", stored.PasswordHash)
			}
		})
	}
}

// TestRegisterSaysWhyAnEmailCannotBeMailed: an address SES cannot deliver
// to is refused with a message that says so, not as malformed.
func TestRegisterSaysWhyAnEmailCannotBeMailed(t *testing.T) {
	for email, want := range map[string]string{
		"zoë@example.com":     account.EmailLocalPartRule,
		"ada@a\u05e9.example": account.EmailDomainRule,
		"ada@localhost":       "must be a valid email address",
	} {
		t.Run(email, func(t *testing.T) {
			f := newFixture(t)
			body := jsonBody(t, map[string]string{"email": email, "password": apptest.AdaPassword, "name": apptest.AdaName})
			p := f.do("POST /v1/auth/register", nil, body).problem(t, http.StatusBadRequest, "validation")
			if len(p.Errors) != 1 || p.Errors[0].Field != "email" || p.Errors[0].Message != want {
				t.Errorf("errors %+v, want email %q", p.Errors, want)
			}
		})
	}
}

func TestRegisterValidation(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		status     int
		slug       string
		wantFields []string
	}{
		{"every field invalid", `{"email":"Ada <ada@example.com>","password":"short","name":"  "}`, 400, "validation", []string{"email", "name", "password"}},
		{"every field missing", `{}`, 400, "validation", []string{"email", "name", "password"}},
		{"bad email", `{"email":"ada@localhost","password":"correct horse battery staple","name":"Ada"}`, 400, "validation", []string{"email"}},
		{"email local part beyond ASCII", `{"email":"zoë@example.com","password":"correct horse battery staple","name":"Zoë"}`, 400, "validation", []string{"email"}},
		{"email domain IDNA refuses", `{"email":"ada@bücher-.example","password":"correct horse battery staple","name":"Ada"}`, 400, "validation", []string{"email"}},
		{"short password", `{"email":"ada@example.com","password":"elevenchars","name":"Ada"}`, 400, "validation", []string{"password"}},
		{"long password", `{"email":"ada@example.com","password":"` + strings.Repeat("p", 129) + `","name":"Ada"}`, 400, "validation", []string{"password"}},
		{"name with control character", `{"email":"ada@example.com","password":"correct horse battery staple","name":"Ada\u0007"}`, 400, "validation", []string{"name"}},
		{"name too long", `{"email":"ada@example.com","password":"correct horse battery staple","name":"` + strings.Repeat("é", 101) + `"}`, 400, "validation", []string{"name"}},
		{"unknown field", `{"email":"ada@example.com","password":"correct horse battery staple","name":"Ada","role":"admin"}`, 400, "validation", []string{"role"}},
		{"wrong type", `{"email":"ada@example.com","password":12345678901234,"name":"Ada"}`, 400, "validation", []string{"password"}},
		{"not JSON", `email=ada@example.com`, 400, "invalid-request", nil},
		{"array", `[]`, 400, "invalid-request", nil},
		{"empty body without a content type", ``, 415, "unsupported-media-type", nil},
		{"truncated JSON", `{"email":"ada@example.com"`, 400, "invalid-request", nil},
		{"two objects", `{"email":"a@b.co"}{"email":"c@d.co"}`, 400, "invalid-request", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			var created atomic.Int64
			f.store.CreateUserFn = func(context.Context, account.User, string, account.PendingLink, events.AccountEvent) error {
				created.Add(1)
				return nil
			}
			p := f.do("POST /v1/auth/register", nil, tt.body).problem(t, tt.status, tt.slug)
			if got := p.fields(); !slices.Equal(got, tt.wantFields) && !(len(got) == 0 && tt.wantFields == nil) {
				t.Errorf("invalid fields %v, want %v", got, tt.wantFields)
			}
			for _, e := range p.Errors {
				if e.Message == "" {
					t.Errorf("field %s has no message", e.Field)
				}
			}
			if created.Load() != 0 {
				t.Errorf("CreateUser called %d times for an invalid registration", created.Load())
			}
		})
	}
}

func TestRegisterEncodings(t *testing.T) {
	const body = `{"email":"ada@example.com","password":"correct horse battery staple","name":"Ada"}`
	tests := []struct {
		name        string
		contentType string
		base64      bool
		body        string
		status      int
	}{
		{"JSON", "application/json", false, body, http.StatusCreated},
		{"JSON with charset", "application/json; charset=utf-8", false, body, http.StatusCreated},
		{"no content type", "", false, body, http.StatusUnsupportedMediaType},
		{"base64 from API Gateway", "application/json", true, base64.StdEncoding.EncodeToString([]byte(body)), http.StatusCreated},
		{"bad base64", "application/json", true, "not base64!", http.StatusBadRequest},
		{"form", "application/x-www-form-urlencoded", false, body, http.StatusUnsupportedMediaType},
		{"text", "text/plain", false, body, http.StatusUnsupportedMediaType},
		{"oversized", "application/json", false, `{"email":"` + strings.Repeat("a", httpapi.MaxBodyBytes) + `"}`, http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			ev := event("POST /v1/auth/register", tt.body, "")
			ev.IsBase64Encoded = tt.base64
			delete(ev.Headers, "Content-Type") // the header as apitest sets it
			if tt.contentType == "" {
				delete(ev.Headers, "content-type")
			} else {
				ev.Headers["content-type"] = tt.contentType
			}
			if r := f.send(ev); r.status != tt.status {
				t.Errorf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
		})
	}
}

func TestRegisterEmailTaken(t *testing.T) {
	tests := []struct {
		name  string
		email string
	}{
		{"same address", apptest.AdaEmail},
		{"other case", "ADA@Example.COM"},
		{"surrounding spaces", "  ada@example.com  "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			first := f.register(apptest.AdaEmail, apptest.AdaPassword, apptest.AdaName)
			r := f.do("POST /v1/auth/register", nil, jsonBody(t, map[string]string{"email": tt.email, "password": "another good password", "name": "Impostor"}))
			r.problem(t, http.StatusConflict, "email-taken")
			stored, err := f.mem.User(context.Background(), first)
			if err != nil || stored.Name != apptest.AdaName {
				t.Errorf("the first account changed: %+v, %v", stored.User, err)
			}
		})
	}
}

func TestRegisterInternalErrorIsGeneric(t *testing.T) {
	f := newFixture(t)
	const secret = "dynamodb: arn:aws:dynamodb:eu-west-1:123456789012:table/users throttled"
	f.store.CreateUserFn = func(context.Context, account.User, string, account.PendingLink, events.AccountEvent) error {
		return errors.New(secret)
	}
	r := f.do("POST /v1/auth/register", nil, jsonBody(t, map[string]string{"email": apptest.AdaEmail, "password": apptest.AdaPassword, "name": apptest.AdaName}))
	r.problem(t, http.StatusInternalServerError, "internal")
	if strings.Contains(string(r.body), "arn:aws") || strings.Contains(string(r.body), "throttled") {
		t.Errorf("500 body leaks the cause: %s", r.body)
	}
	if !strings.Contains(f.logs.String(), "throttled") {
		t.Errorf("the cause was not logged")
	}
}
