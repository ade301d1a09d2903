package api_test

import (
	"context"
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
	"github.com/serverless-shop/backend/shared/revocation"
)

func TestMe(t *testing.T) {
	f := newFixture(t)
	id, ada := f.ada()
	m := f.do("GET /v1/users/me", ada, "").object(t, http.StatusOK)
	if got := strings.Join(keysOf(m), ","); got != "createdAt,email,emailVerified,id,name,updatedAt" {
		t.Errorf("profile keys %s, want createdAt,email,emailVerified,id,name,updatedAt", got)
	}
	want := map[string]any{
		"id": id, "email": apptest.AdaEmail, "name": apptest.AdaName, "emailVerified": false,
		"createdAt": apptest.Start.Format(time.RFC3339), "updatedAt": apptest.Start.Format(time.RFC3339),
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
}

func TestMeReadsTheCallerOnly(t *testing.T) {
	f := newFixture(t)
	f.ada()
	bobID := f.register("bob@example.com", "bob's long password", "Bob")
	// The principal decides whose profile it is, whatever else it says.
	m := f.do("GET /v1/users/me", caller(bobID, apptest.AdaEmail, apptest.AdaName), "").object(t, http.StatusOK)
	if m["id"] != bobID || m["email"] != "bob@example.com" || m["name"] != "Bob" {
		t.Errorf("profile %v, want Bob's", m)
	}
}

func TestMeUnknownUser(t *testing.T) {
	f := newFixture(t)
	f.do("GET /v1/users/me", caller("01HZX3YQ7A8B9C0D1E2F3G4H5J", "gone@example.com", "Gone"), "").problem(t, http.StatusNotFound, "not-found")
}

func TestUpdateMe(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		wantName string
	}{
		{"new name", `{"name":"Augusta Ada King"}`, "Augusta Ada King"},
		{"trimmed", `{"name":"  Ada K.  "}`, "Ada K."},
		{"non-ASCII", `{"name":"Zoë 山田"}`, "Zoë 山田"},
		{"100 runes", `{"name":"` + strings.Repeat("é", 100) + `"}`, strings.Repeat("é", 100)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			id, ada := f.ada()
			f.clock.Advance(time.Hour)
			m := f.do("PATCH /v1/users/me", ada, tt.body).object(t, http.StatusOK)
			if got := strings.Join(keysOf(m), ","); got != "createdAt,email,emailVerified,id,name,updatedAt" {
				t.Errorf("profile keys %s", got)
			}
			if m["id"] != id || m["email"] != apptest.AdaEmail || m["name"] != tt.wantName {
				t.Errorf("profile %v, want name %q", m, tt.wantName)
			}
			if m["createdAt"] != apptest.Start.Format(time.RFC3339) || m["updatedAt"] != apptest.Start.Add(time.Hour).Format(time.RFC3339) {
				t.Errorf("createdAt %v updatedAt %v", m["createdAt"], m["updatedAt"])
			}
			stored, _ := f.mem.User(context.Background(), id)
			if stored.Name != tt.wantName {
				t.Errorf("stored name %q, want %q", stored.Name, tt.wantName)
			}
		})
	}
}

func TestUpdateMeRejects(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		slug       string
		wantFields []string
	}{
		{"empty object", `{}`, "validation", []string{"name"}},
		{"id", `{"id":"01HZX3YQ7A8B9C0D1E2F3G0002"}`, "validation", []string{"id"}},
		{"email", `{"email":"mallory@example.com"}`, "validation", []string{"email"}},
		{"createdAt", `{"createdAt":"2020-01-01T00:00:00Z"}`, "validation", []string{"createdAt"}},
		{"updatedAt", `{"updatedAt":"2020-01-01T00:00:00Z"}`, "validation", []string{"updatedAt"}},
		{"role", `{"role":"admin"}`, "validation", []string{"role"}},
		{"passwordHash", `{"passwordHash":"$argon2id$v=19$m=64,t=1,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA"}`, "validation", []string{"passwordHash"}},
		{"read-only field with a valid name", `{"name":"Ada","email":"mallory@example.com"}`, "validation", []string{"email"}},
		{"unknown field with a valid name", `{"name":"Ada","isAdmin":true}`, "validation", []string{"isAdmin"}},
		{"field names are case-sensitive", `{"Name":"Ada"}`, "validation", []string{"Name"}},
		{"name given twice", `{"name":"Ada","name":"Eve"}`, "validation", []string{"name"}},
		{"name given in two cases", `{"name":"Ada","NAME":"Eve"}`, "validation", []string{"NAME"}},
		{"every bad field at once", `{"id":"x","email":"x","createdAt":"x","updatedAt":"x","role":"admin","passwordHash":"x","name":"Ada"}`,
			"validation", []string{"createdAt", "email", "id", "passwordHash", "role", "updatedAt"}},
		{"every bad field and a bad name", `{"id":"x","role":"admin","name":""}`, "validation", []string{"id", "name", "role"}},
		{"name a number", `{"name":42}`, "validation", []string{"name"}},
		{"name an array", `{"name":["Ada"]}`, "validation", []string{"name"}},
		{"name an object", `{"name":{"first":"Ada"}}`, "validation", []string{"name"}},
		{"name a boolean", `{"name":true}`, "validation", []string{"name"}},
		{"name null", `{"name":null}`, "validation", []string{"name"}},
		{"name blank", `{"name":"   "}`, "validation", []string{"name"}},
		{"name too long", `{"name":"` + strings.Repeat("a", 101) + `"}`, "validation", []string{"name"}},
		{"name with newline", `{"name":"Ada\nLovelace"}`, "validation", []string{"name"}},
		{"name with NUL", `{"name":"Ada\u0000"}`, "validation", []string{"name"}},
		{"array body", `[{"name":"Ada"}]`, "invalid-request", nil},
		{"not JSON", `name=Ada`, "invalid-request", nil},
		{"empty body without a content type", ``, "unsupported-media-type", nil},
		{"trailing data", `{"name":"Ada"} {"name":"Eve"}`, "invalid-request", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			id, ada := f.ada()
			var updates atomic.Int64
			f.store.UpdateNameFn = func(ctx context.Context, id, name string, now time.Time) (account.User, error) {
				updates.Add(1)
				return f.mem.UpdateName(ctx, id, name, now)
			}
			status := http.StatusBadRequest
			if tt.slug == "unsupported-media-type" {
				status = http.StatusUnsupportedMediaType
			}
			p := f.do("PATCH /v1/users/me", ada, tt.body).problem(t, status, tt.slug)
			if got := p.fields(); !slices.Equal(got, tt.wantFields) && !(len(got) == 0 && tt.wantFields == nil) {
				t.Errorf("invalid fields %v, want %v", got, tt.wantFields)
			}
			for _, e := range p.Errors {
				if e.Message == "" {
					t.Errorf("field %s has no message", e.Field)
				}
			}
			if updates.Load() != 0 {
				t.Errorf("UpdateName called for an invalid request")
			}
			if stored, _ := f.mem.User(context.Background(), id); stored.Name != apptest.AdaName || stored.Email != apptest.AdaEmail {
				t.Errorf("user changed: %+v", stored.User)
			}
		})
	}
}

func TestUpdateMeFieldMessages(t *testing.T) {
	f := newFixture(t)
	_, ada := f.ada()
	p := f.do("PATCH /v1/users/me", ada, `{"email":"x","role":"admin","name":7}`).problem(t, http.StatusBadRequest, "validation")
	want := map[string]string{"email": "is read-only", "role": "is not a writable field", "name": "must be a string"}
	for _, e := range p.Errors {
		if want[e.Field] != e.Message {
			t.Errorf("%s: %q, want %q", e.Field, e.Message, want[e.Field])
		}
		delete(want, e.Field)
	}
	if len(want) > 0 {
		t.Errorf("fields not reported: %v", want)
	}
}

func TestUpdateMeUnknownUser(t *testing.T) {
	f := newFixture(t)
	f.do("PATCH /v1/users/me", caller("01HZX3YQ7A8B9C0D1E2F3G4H5J", "gone@example.com", "Gone"), `{"name":"Ghost"}`).problem(t, http.StatusNotFound, "not-found")
}

func changePasswordBody(t *testing.T, current, next string) string {
	return jsonBody(t, map[string]string{"currentPassword": current, "newPassword": next})
}

func TestChangePassword(t *testing.T) {
	const newPassword = "a brand new passphrase"
	f := newFixture(t)
	f.remember(newPassword)
	id, ada := f.ada()
	before, _ := f.mem.User(context.Background(), id)
	login := f.login(apptest.AdaEmail, apptest.AdaPassword)

	type change struct{ id, oldHash, newHash string }
	var changes []change
	f.store.ChangePasswordFn = func(ctx context.Context, u account.Credentials, newHash string, now time.Time, revoke revocation.Entry, budget account.Limit) error {
		changes = append(changes, change{u.ID, u.PasswordHash, newHash})
		if !now.Equal(apptest.Start) {
			t.Errorf("ChangePassword at %v, want %v", now, apptest.Start)
		}
		return f.mem.ChangePassword(ctx, u, newHash, now, revoke, budget)
	}
	r := f.do("POST /v1/users/me/password", ada, changePasswordBody(t, apptest.AdaPassword, newPassword))
	if r.status != http.StatusNoContent || len(r.body) != 0 {
		t.Fatalf("change password: %d %s, want 204 and no body", r.status, r.body)
	}
	if len(changes) != 1 {
		t.Fatalf("ChangePassword called %d times, want 1", len(changes))
	}
	c := changes[0]
	if c.id != id || c.oldHash != before.PasswordHash || c.newHash == before.PasswordHash {
		t.Errorf("ChangePassword(%q, %q, %q)", c.id, c.oldHash, c.newHash)
	}
	if ok, err := password.Verify(c.newHash, newPassword); err != nil || !ok {
		t.Errorf("the new hash does not verify the new password: %v, %v", ok, err)
	}
	if ok, _ := password.Verify(c.newHash, apptest.AdaPassword); ok {
		t.Errorf("the new hash verifies the old password")
	}
	if password.NeedsRehash(c.newHash, apptest.CheapHashing) {
		t.Errorf("the new hash is not made with Config.Hashing")
	}

	// The old password is gone, the new one works, and earlier sessions end.
	f.loginResponse(apptest.AdaEmail, apptest.AdaPassword).problem(t, http.StatusUnauthorized, "invalid-credentials")
	fresh := f.login(apptest.AdaEmail, newPassword)
	f.refreshResponse(login.RefreshToken).problem(t, http.StatusUnauthorized, "invalid-refresh-token")
	// Sessions begun after the change carry the new epoch and do work.
	f.pair(f.refreshResponse(fresh.RefreshToken))
}

func TestChangePasswordRejects(t *testing.T) {
	tests := []struct {
		name         string
		body         string
		status       int
		slug         string
		wantFields   []string
		wantFailures int
	}{
		{"wrong current password", `{"currentPassword":"not my password","newPassword":"a brand new passphrase"}`, http.StatusUnauthorized, "invalid-credentials", nil, 1},
		{"weak new password", `{"currentPassword":"correct horse battery staple","newPassword":"short"}`, http.StatusBadRequest, "validation", []string{"newPassword"}, 0},
		{"overlong new password", `{"currentPassword":"correct horse battery staple","newPassword":"` + strings.Repeat("x", 129) + `"}`, http.StatusBadRequest, "validation", []string{"newPassword"}, 0},
		{"missing current password", `{"newPassword":"a brand new passphrase"}`, http.StatusBadRequest, "validation", []string{"currentPassword"}, 0},
		{"both missing", `{}`, http.StatusBadRequest, "validation", []string{"currentPassword", "newPassword"}, 0},
		{"weak new and wrong current", `{"currentPassword":"not my password","newPassword":"short"}`, http.StatusBadRequest, "validation", []string{"newPassword"}, 0},
		{"unknown field", `{"currentPassword":"correct horse battery staple","newPassword":"a brand new passphrase","email":"x@y.zz"}`, http.StatusBadRequest, "validation", []string{"email"}, 0},
		{"not JSON", `nope`, http.StatusBadRequest, "invalid-request", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			id, ada := f.ada()
			before, _ := f.mem.User(context.Background(), id)
			var changed atomic.Int64
			f.store.ChangePasswordFn = func(context.Context, account.Credentials, string, time.Time, revocation.Entry, account.Limit) error {
				changed.Add(1)
				return nil
			}
			p := f.do("POST /v1/users/me/password", ada, tt.body).problem(t, tt.status, tt.slug)
			if got := p.fields(); !slices.Equal(got, tt.wantFields) && !(len(got) == 0 && tt.wantFields == nil) {
				t.Errorf("invalid fields %v, want %v", got, tt.wantFields)
			}
			if changed.Load() != 0 {
				t.Errorf("ChangePassword called")
			}
			if n := f.mem.Attempts(apptest.AdaEmail, apptest.Start); n != tt.wantFailures {
				t.Errorf("attempts counted %d, want %d", n, tt.wantFailures)
			}
			if after, _ := f.mem.User(context.Background(), id); after.PasswordHash != before.PasswordHash {
				t.Errorf("the password hash changed")
			}
		})
	}
}

func TestChangePasswordRateLimit(t *testing.T) {
	tests := []struct {
		name    string
		current string
	}{
		{"right current password", apptest.AdaPassword},
		{"wrong current password", "not my password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			_, ada := f.ada()
			// Failed logins and failed password changes share one bucket.
			for range 4 {
				f.loginResponse(apptest.AdaEmail, "wrong password again").problem(t, http.StatusUnauthorized, "invalid-credentials")
			}
			for range 2 {
				f.do("POST /v1/users/me/password", ada, changePasswordBody(t, "not my password", "a brand new passphrase")).
					problem(t, http.StatusUnauthorized, "invalid-credentials")
			}
			var changed atomic.Int64
			f.store.ChangePasswordFn = func(context.Context, account.Credentials, string, time.Time, revocation.Entry, account.Limit) error {
				changed.Add(1)
				return nil
			}
			f.clock.Advance(500 * time.Millisecond)
			r := f.do("POST /v1/users/me/password", ada, changePasswordBody(t, tt.current, "a brand new passphrase"))
			r.problem(t, http.StatusTooManyRequests, "too-many-attempts")
			if got := r.headers["Retry-After"]; got != "1" {
				t.Errorf("Retry-After %q, want 1", got)
			}
			if changed.Load() != 0 {
				t.Errorf("ChangePassword called while limited")
			}
			// And the limit holds for logins too.
			f.loginResponse(apptest.AdaEmail, apptest.AdaPassword).problem(t, http.StatusTooManyRequests, "too-many-attempts")
		})
	}
}

func TestChangePasswordStoreErrors(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status int
		slug   string
	}{
		{"changed concurrently", account.ErrStaleWrite, http.StatusConflict, "conflict"},
		{"user vanished", account.ErrNotFound, http.StatusNotFound, "not-found"},
		{"store failure", errors.New("dynamodb: 503"), http.StatusInternalServerError, "internal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			_, ada := f.ada()
			f.store.ChangePasswordFn = func(context.Context, account.Credentials, string, time.Time, revocation.Entry, account.Limit) error {
				return tt.err
			}
			f.do("POST /v1/users/me/password", ada, changePasswordBody(t, apptest.AdaPassword, "a brand new passphrase")).problem(t, tt.status, tt.slug)
		})
	}
}

func TestChangePasswordUnknownUser(t *testing.T) {
	f := newFixture(t)
	f.do("POST /v1/users/me/password", caller("01HZX3YQ7A8B9C0D1E2F3G4H5J", "gone@example.com", "Gone"),
		changePasswordBody(t, apptest.AdaPassword, "a brand new passphrase")).problem(t, http.StatusNotFound, "not-found")
}
