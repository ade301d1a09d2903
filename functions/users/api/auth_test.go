package api_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/functions/users/password"
	"github.com/serverless-shop/backend/internal/apitest"
	"github.com/serverless-shop/backend/shared/httpapi"
	"github.com/serverless-shop/backend/shared/token"
)

func TestRegister(t *testing.T) {
	tests := []struct {
		name                string
		email, pass, uname  string
		wantEmail, wantName string
	}{
		{"plain", adaEmail, adaPassword, adaName, adaEmail, adaName},
		{"email normalised", "  Ada.Lovelace@EXAMPLE.com ", adaPassword, adaName, "ada.lovelace@example.com", adaName},
		{"name trimmed", adaEmail, adaPassword, "  Ada  ", adaEmail, "Ada"},
		{"non-ASCII name", adaEmail, adaPassword, "Zoë Ångström 山田", adaEmail, "Zoë Ångström 山田"},
		{"multi-byte password of 12 runes", adaEmail, strings.Repeat("🔑", 12), adaName, adaEmail, adaName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.remember(tt.pass)
			r := f.do("POST /v1/auth/register", nil, jsonBody(t, map[string]string{"email": tt.email, "password": tt.pass, "name": tt.uname}))
			m := r.object(t, http.StatusCreated)
			if got := strings.Join(keysOf(m), ","); got != "createdAt,email,id,name" {
				t.Errorf("body keys %s, want createdAt,email,id,name: %s", got, r.body)
			}
			id, _ := m["id"].(string)
			if m["email"] != tt.wantEmail || m["name"] != tt.wantName || id == "" {
				t.Errorf("body %s, want email %q name %q and an id", r.body, tt.wantEmail, tt.wantName)
			}
			if want := start.Format(time.RFC3339Nano); m["createdAt"] != want {
				t.Errorf("createdAt %v, want %s", m["createdAt"], want)
			}
			stored, err := f.mem.User(context.Background(), id)
			if err != nil {
				t.Fatalf("user %s not stored: %v", id, err)
			}
			if stored.Email != tt.wantEmail || stored.Name != tt.wantName || !stored.CreatedAt.Equal(start) || !stored.UpdatedAt.Equal(start) {
				t.Errorf("stored user %+v", stored.User)
			}
			if ok, err := password.Verify(stored.PasswordHash, tt.pass); err != nil || !ok {
				t.Errorf("stored hash does not verify the password: %v, %v", ok, err)
			}
			if password.NeedsRehash(stored.PasswordHash, cheapHashing) {
				t.Errorf("stored hash %q not made with Config.Hashing", stored.PasswordHash)
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
		{"short password", `{"email":"ada@example.com","password":"elevenchars","name":"Ada"}`, 400, "validation", []string{"password"}},
		{"long password", `{"email":"ada@example.com","password":"` + strings.Repeat("p", 129) + `","name":"Ada"}`, 400, "validation", []string{"password"}},
		{"name with control character", `{"email":"ada@example.com","password":"correct horse battery staple","name":"Ada\u0007"}`, 400, "validation", []string{"name"}},
		{"name too long", `{"email":"ada@example.com","password":"correct horse battery staple","name":"` + strings.Repeat("é", 101) + `"}`, 400, "validation", []string{"name"}},
		{"unknown field", `{"email":"ada@example.com","password":"correct horse battery staple","name":"Ada","role":"admin"}`, 400, "validation", []string{"role"}},
		{"wrong type", `{"email":"ada@example.com","password":12345678901234,"name":"Ada"}`, 400, "validation", []string{"password"}},
		{"not JSON", `email=ada@example.com`, 400, "invalid-request", nil},
		{"array", `[]`, 400, "invalid-request", nil},
		{"empty body", ``, 400, "invalid-request", nil},
		{"truncated JSON", `{"email":"ada@example.com"`, 400, "invalid-request", nil},
		{"two objects", `{"email":"a@b.co"}{"email":"c@d.co"}`, 400, "invalid-request", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			var created calls
			f.store.CreateUserFn = func(context.Context, account.User, string) error { created.inc(); return nil }
			p := f.do("POST /v1/auth/register", nil, tt.body).problem(t, tt.status, tt.slug)
			if got := p.fields(); !slices.Equal(got, tt.wantFields) && !(len(got) == 0 && tt.wantFields == nil) {
				t.Errorf("invalid fields %v, want %v", got, tt.wantFields)
			}
			for _, e := range p.Errors {
				if e.Message == "" {
					t.Errorf("field %s has no message", e.Field)
				}
			}
			if created.count() != 0 {
				t.Errorf("CreateUser called %d times for an invalid registration", created.count())
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
		{"no content type", "", false, body, http.StatusCreated},
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
		{"same address", adaEmail},
		{"other case", "ADA@Example.COM"},
		{"surrounding spaces", "  ada@example.com  "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			first := f.register(adaEmail, adaPassword, adaName)
			r := f.do("POST /v1/auth/register", nil, jsonBody(t, map[string]string{"email": tt.email, "password": "another good password", "name": "Impostor"}))
			r.problem(t, http.StatusConflict, "email-taken")
			stored, err := f.mem.User(context.Background(), first)
			if err != nil || stored.Name != adaName {
				t.Errorf("the first account changed: %+v, %v", stored.User, err)
			}
		})
	}
}

func TestRegisterInternalErrorIsGeneric(t *testing.T) {
	f := newFixture(t)
	const secret = "dynamodb: arn:aws:dynamodb:eu-west-1:123456789012:table/users throttled"
	f.store.CreateUserFn = func(context.Context, account.User, string) error { return errors.New(secret) }
	r := f.do("POST /v1/auth/register", nil, jsonBody(t, map[string]string{"email": adaEmail, "password": adaPassword, "name": adaName}))
	r.problem(t, http.StatusInternalServerError, "internal")
	if strings.Contains(string(r.body), "arn:aws") || strings.Contains(string(r.body), "throttled") {
		t.Errorf("500 body leaks the cause: %s", r.body)
	}
	if !strings.Contains(f.logs.String(), "throttled") {
		t.Errorf("the cause was not logged")
	}
}

func TestLogin(t *testing.T) {
	tests := []struct {
		name  string
		email string
	}{
		{"as registered", adaEmail},
		{"other case and spaces", "  ADA@example.COM "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			id, _ := f.ada()
			p := f.login(tt.email, adaPassword)

			claims, err := f.verifier.Verify(p.AccessToken)
			if err != nil {
				t.Fatalf("access token does not verify: %v", err)
			}
			if claims.Subject != id || claims.Email != adaEmail || claims.Name != adaName {
				t.Errorf("claims sub %q email %q name %q, want %q %q %q", claims.Subject, claims.Email, claims.Name, id, adaEmail, adaName)
			}
			if got := claims.ExpiresAt.Time; !got.Equal(start.Add(15 * time.Minute)) {
				t.Errorf("access token expires %v, want %v", got, start.Add(15*time.Minute))
			}
			rt, _ := account.ParseRefreshToken(p.RefreshToken)
			if rt.UserID != id {
				t.Errorf("refresh token of user %q, want %q", rt.UserID, id)
			}
			s, ok := f.mem.Family(id, rt.FamilyID)
			if !ok {
				t.Fatalf("no session stored for family %s", rt.FamilyID)
			}
			if s.CurrentHash != rt.Hash() || s.Revoked || s.Epoch != 0 || !s.ExpiresAt.Equal(start.Add(account.RefreshTTL)) {
				t.Errorf("stored session %+v", s)
			}
		})
	}
}

func TestLoginStartsSeparateSessions(t *testing.T) {
	f := newFixture(t)
	id, _ := f.ada()
	a := f.login(adaEmail, adaPassword)
	b := f.login(adaEmail, adaPassword)
	ra, _ := account.ParseRefreshToken(a.RefreshToken)
	rb, _ := account.ParseRefreshToken(b.RefreshToken)
	if ra.FamilyID == rb.FamilyID || a.AccessToken == b.AccessToken {
		t.Fatalf("two logins share a family or an access token")
	}
	for _, fam := range []string{ra.FamilyID, rb.FamilyID} {
		if _, ok := f.mem.Family(id, fam); !ok {
			t.Errorf("family %s not stored", fam)
		}
	}
}

func TestLoginValidation(t *testing.T) {
	tests := []struct {
		name string
		body string
		slug string
	}{
		{"missing password", `{"email":"ada@example.com"}`, "validation"},
		{"missing email", `{"password":"correct horse battery staple"}`, "validation"},
		{"invalid email", `{"email":"Ada <ada@example.com>","password":"correct horse battery staple"}`, "validation"},
		{"oversized password", `{"email":"ada@example.com","password":"` + strings.Repeat("x", 4*account.MaxPasswordLength+1) + `"}`, "validation"},
		{"unknown field", `{"email":"ada@example.com","password":"correct horse battery staple","remember":true}`, "validation"},
		{"not JSON", `ada@example.com`, "invalid-request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.ada()
			var states calls
			f.store.LoginStateFn = func(ctx context.Context, email string, now time.Time) (account.LoginState, error) {
				states.inc()
				return f.mem.LoginState(ctx, email, now)
			}
			f.do("POST /v1/auth/login", nil, tt.body).problem(t, http.StatusBadRequest, tt.slug)
			if states.count() != 0 {
				t.Errorf("an invalid login reached the store")
			}
			if n := f.mem.Failures(adaEmail, start); n != 0 {
				t.Errorf("an invalid request counted %d failures", n)
			}
		})
	}
}

func TestLoginFailuresLookAlike(t *testing.T) {
	f := newFixture(t)
	f.ada()
	wrongPassword := f.loginResponse(adaEmail, "not the right password")
	unknownEmail := f.loginResponse("nobody@example.com", "not the right password")
	for name, r := range map[string]response{"wrong password": wrongPassword, "unknown email": unknownEmail} {
		r.problem(t, http.StatusUnauthorized, "invalid-credentials")
		if _, ok := r.headers["Retry-After"]; ok {
			t.Errorf("%s: Retry-After on a plain failure", name)
		}
	}
	if string(wrongPassword.body) != string(unknownEmail.body) {
		t.Errorf("bodies differ:\nwrong password: %s\nunknown email:  %s", wrongPassword.body, unknownEmail.body)
	}
	if len(wrongPassword.headers) != len(unknownEmail.headers) {
		t.Errorf("headers differ: %v vs %v", wrongPassword.headers, unknownEmail.headers)
	}
	for k, v := range wrongPassword.headers {
		if unknownEmail.headers[k] != v {
			t.Errorf("header %s: %q vs %q", k, v, unknownEmail.headers[k])
		}
	}
	// Both count against their email, so guessing is limited either way.
	if n := f.mem.Failures(adaEmail, start); n != 1 {
		t.Errorf("failures for the known email = %d, want 1", n)
	}
	if n := f.mem.Failures("nobody@example.com", start); n != 1 {
		t.Errorf("failures for the unknown email = %d, want 1", n)
	}
}

func TestLoginRateLimit(t *testing.T) {
	tests := []struct {
		name      string
		email     string
		password  string // of the attempt after the limit
		wait      time.Duration
		wantRetry string
	}{
		{"right password refused", adaEmail, adaPassword, 0, "900"},
		{"wrong password refused", adaEmail, "still not the password", 0, "900"},
		{"other case of the email", "ADA@EXAMPLE.COM", adaPassword, 0, "900"},
		{"later in the window", adaEmail, adaPassword, 10 * time.Minute, "300"},
		{"last second of the window", adaEmail, adaPassword, 15*time.Minute - time.Second, "1"},
		{"unknown email", "nobody@example.com", "anything at all here", 0, "900"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.ada()
			target := account.NormalizeEmail(tt.email)
			for i := range 5 {
				f.loginResponse(target, "wrong password number "+string(rune('a'+i))).problem(t, http.StatusUnauthorized, "invalid-credentials")
			}
			var sessions calls
			f.store.CreateSessionFn = func(ctx context.Context, rt account.RefreshToken, epoch int64, now time.Time) error {
				sessions.inc()
				return f.mem.CreateSession(ctx, rt, epoch, now)
			}
			f.clock.Advance(tt.wait)
			r := f.loginResponse(tt.email, tt.password)
			r.problem(t, http.StatusTooManyRequests, "too-many-attempts")
			if got := r.headers["Retry-After"]; got != tt.wantRetry {
				t.Errorf("Retry-After %q, want %q", got, tt.wantRetry)
			}
			if sessions.count() != 0 {
				t.Errorf("a limited login created a session")
			}
			if n := f.mem.Failures(target, f.clock.Now()); n != 5 {
				t.Errorf("failures = %d after a refused attempt, want 5 (refusals are not counted)", n)
			}
		})
	}
}

func TestLoginLimitEndsWithTheWindow(t *testing.T) {
	f := newFixture(t)
	f.ada()
	for range 5 {
		f.loginResponse(adaEmail, "wrong password again").problem(t, http.StatusUnauthorized, "invalid-credentials")
	}
	f.loginResponse(adaEmail, adaPassword).problem(t, http.StatusTooManyRequests, "too-many-attempts")
	f.clock.Advance(15 * time.Minute)
	f.login(adaEmail, adaPassword)
}

func TestLoginSuccessClearsFailures(t *testing.T) {
	tests := []struct {
		name      string
		failures  int
		wantClear int
	}{
		{"no failures: nothing to clear", 0, 0},
		{"one failure", 1, 1},
		{"one below the limit", 4, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.ada()
			var cleared calls
			f.store.ClearLoginFailuresFn = func(ctx context.Context, email string) error {
				cleared.inc()
				if email != adaEmail {
					t.Errorf("ClearLoginFailures(%q), want %q", email, adaEmail)
				}
				return f.mem.ClearLoginFailures(ctx, email)
			}
			for range tt.failures {
				f.loginResponse(adaEmail, "wrong password again").problem(t, http.StatusUnauthorized, "invalid-credentials")
			}
			f.login(adaEmail, adaPassword)
			if cleared.count() != tt.wantClear {
				t.Errorf("ClearLoginFailures called %d times, want %d", cleared.count(), tt.wantClear)
			}
			if n := f.mem.Failures(adaEmail, start); n != 0 {
				t.Errorf("failures after success = %d, want 0", n)
			}
			// The budget is whole again: five more failures before the limit.
			for range 5 {
				f.loginResponse(adaEmail, "wrong password again").problem(t, http.StatusUnauthorized, "invalid-credentials")
			}
			f.loginResponse(adaEmail, adaPassword).problem(t, http.StatusTooManyRequests, "too-many-attempts")
		})
	}
}

func TestLoginUpgradesOutdatedHash(t *testing.T) {
	older := password.Params{MemoryKiB: 32, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}
	tests := []struct {
		name      string
		rehashErr error
	}{
		{"upgrade stored", nil},
		{"lost race ignored", account.ErrStaleWrite},
		{"store failure ignored", errors.New("dynamodb unavailable")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			old, err := password.Hash(adaPassword, older)
			if err != nil {
				t.Fatal(err)
			}
			const id = "01HZX3YQ7A8B9C0D1E2F3G9999"
			f.mem.PutUser(account.Credentials{User: account.User{ID: id, Email: adaEmail, Name: adaName, CreatedAt: start, UpdatedAt: start}, PasswordHash: old})
			var rehashed calls
			f.store.RehashPasswordFn = func(ctx context.Context, gotID, oldHash, newHash string) error {
				rehashed.inc()
				if gotID != id || oldHash != old || password.NeedsRehash(newHash, cheapHashing) {
					t.Errorf("RehashPassword(%q, %q, %q)", gotID, oldHash, newHash)
				}
				if ok, _ := password.Verify(newHash, adaPassword); !ok {
					t.Errorf("the new hash does not verify the password")
				}
				if tt.rehashErr != nil {
					return tt.rehashErr
				}
				return f.mem.RehashPassword(ctx, gotID, oldHash, newHash)
			}
			f.login(adaEmail, adaPassword)
			if rehashed.count() != 1 {
				t.Fatalf("RehashPassword called %d times, want 1", rehashed.count())
			}
			// A current hash is left alone.
			if tt.rehashErr == nil {
				f.login(adaEmail, adaPassword)
				if rehashed.count() != 1 {
					t.Errorf("a current hash was rehashed again")
				}
			}
		})
	}
}

func TestRefreshRotates(t *testing.T) {
	f := newFixture(t)
	id, _ := f.ada()
	first := f.login(adaEmail, adaPassword)
	f.clock.Advance(10 * time.Minute)

	second := f.pair(f.refreshResponse(first.RefreshToken))
	if second.RefreshToken == first.RefreshToken {
		t.Fatalf("refresh returned the presented token")
	}
	r1, _ := account.ParseRefreshToken(first.RefreshToken)
	r2, _ := account.ParseRefreshToken(second.RefreshToken)
	if r2.UserID != id || r2.FamilyID != r1.FamilyID {
		t.Errorf("rotated token of user %s family %s, want %s %s", r2.UserID, r2.FamilyID, id, r1.FamilyID)
	}
	claims, err := f.verifier.Verify(second.AccessToken)
	if err != nil || claims.Subject != id || claims.Email != adaEmail || claims.Name != adaName {
		t.Errorf("new access token: %+v, %v", claims, err)
	}
	if want := start.Add(10*time.Minute + 15*time.Minute); !claims.ExpiresAt.Equal(want) {
		t.Errorf("new access token expires %v, want %v", claims.ExpiresAt.Time, want)
	}
	s, _ := f.mem.Family(id, r1.FamilyID)
	if s.CurrentHash != r2.Hash() {
		t.Errorf("stored current hash is not the rotated token's")
	}
	if want := start.Add(10*time.Minute + account.RefreshTTL); !s.ExpiresAt.Equal(want) {
		t.Errorf("session expires %v, want %v (sliding)", s.ExpiresAt, want)
	}

	// The rotated token keeps working.
	third := f.pair(f.refreshResponse(second.RefreshToken))
	if third.RefreshToken == second.RefreshToken || third.RefreshToken == first.RefreshToken {
		t.Errorf("third rotation repeated a token")
	}
}

func TestRefreshReuseRevokesTheFamily(t *testing.T) {
	f := newFixture(t)
	id, _ := f.ada()
	first := f.login(adaEmail, adaPassword)
	other := f.login(adaEmail, adaPassword) // another device, another family
	second := f.pair(f.refreshResponse(first.RefreshToken))
	r1, _ := account.ParseRefreshToken(first.RefreshToken)

	type revocation struct{ userID, familyID string }
	var revoked []revocation
	f.store.RevokeSessionFn = func(ctx context.Context, userID, familyID string) error {
		revoked = append(revoked, revocation{userID, familyID})
		return f.mem.RevokeSession(ctx, userID, familyID)
	}

	f.refreshResponse(first.RefreshToken).problem(t, http.StatusUnauthorized, "invalid-refresh-token")
	if want := []revocation{{id, r1.FamilyID}}; !slices.Equal(revoked, want) {
		t.Fatalf("RevokeSession calls %v, want %v", revoked, want)
	}
	if s, _ := f.mem.Family(id, r1.FamilyID); !s.Revoked {
		t.Errorf("family not revoked after reuse")
	}
	// The legitimate holder of the current token is logged out too.
	f.refreshResponse(second.RefreshToken).problem(t, http.StatusUnauthorized, "invalid-refresh-token")
	// Presenting spent tokens of a revoked family revokes nothing more.
	f.refreshResponse(first.RefreshToken).problem(t, http.StatusUnauthorized, "invalid-refresh-token")
	if len(revoked) != 1 {
		t.Errorf("RevokeSession called %d times, want 1", len(revoked))
	}
	// Other sessions of the user are untouched.
	f.pair(f.refreshResponse(other.RefreshToken))
}

func TestRefreshConcurrentUseOfOneToken(t *testing.T) {
	// A token presented several times at once (a retrying client, or a
	// thief racing its owner) is exchanged at most once, and the family ends.
	f := newFixture(t)
	id, _ := f.ada()
	login := f.login(adaEmail, adaPassword)
	const n = 8
	ev := event("POST /v1/auth/refresh", jsonBody(t, map[string]string{"refreshToken": login.RefreshToken}), "")
	responses := make(chan events.APIGatewayProxyResponse, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Handle never fails; a failure shows as a missing 200 or 401.
			out, _ := f.handler.Handle(context.Background(), ev)
			responses <- out
		}()
	}
	wg.Wait()
	close(responses)
	count := map[int]int{}
	for out := range responses {
		count[out.StatusCode]++
		f.checkResponse("POST /v1/auth/refresh", response{status: out.StatusCode, headers: out.Headers, body: []byte(out.Body)})
	}
	if count[http.StatusOK] > 1 || count[http.StatusOK]+count[http.StatusUnauthorized] != n {
		t.Errorf("statuses %v, want at most one 200 and 401 for the rest", count)
	}
	rt, _ := account.ParseRefreshToken(login.RefreshToken)
	if s, _ := f.mem.Family(id, rt.FamilyID); !s.Revoked {
		t.Errorf("family not revoked after concurrent reuse")
	}
}

func TestRefreshRejects(t *testing.T) {
	tests := []struct {
		name string
		// token returns the refresh token to present, after preparing f.
		token func(f *fixture, login tokenPair) string
		slug  string
	}{
		{"empty", func(*fixture, tokenPair) string { return "" }, "invalid-refresh-token"},
		{"garbage", func(*fixture, tokenPair) string { return "garbage" }, "invalid-refresh-token"},
		{"access token", func(_ *fixture, p tokenPair) string { return p.AccessToken }, "invalid-refresh-token"},
		{"truncated", func(_ *fixture, p tokenPair) string { return p.RefreshToken[:len(p.RefreshToken)-1] }, "invalid-refresh-token"},
		{"trailing newline", func(_ *fixture, p tokenPair) string { return p.RefreshToken + "\n" }, "invalid-refresh-token"},
		{"unknown family", func(_ *fixture, p tokenPair) string {
			rt, _ := account.NewRefreshToken("01HZX3YQ7A8B9C0D1E2F3G0001")
			return rt.Raw
		}, "invalid-refresh-token"},
		{"unknown user", func(_ *fixture, p tokenPair) string {
			rt, _ := account.ParseRefreshToken(p.RefreshToken)
			next, _ := account.Rotate(account.RefreshToken{UserID: "01HZX3YQ7A8B9C0D1E2F3G7777", FamilyID: rt.FamilyID})
			return next.Raw
		}, "invalid-refresh-token"},
		{"forged secret in a live family", func(_ *fixture, p tokenPair) string {
			rt, _ := account.ParseRefreshToken(p.RefreshToken)
			forged, _ := account.Rotate(rt)
			return forged.Raw
		}, "invalid-refresh-token"},
		{"expired session", func(f *fixture, p tokenPair) string {
			f.clock.Advance(account.RefreshTTL)
			return p.RefreshToken
		}, "invalid-refresh-token"},
		{"logged out", func(f *fixture, p tokenPair) string {
			rt, _ := account.ParseRefreshToken(p.RefreshToken)
			if err := f.mem.RevokeSession(context.Background(), rt.UserID, rt.FamilyID); err != nil {
				f.t.Fatal(err)
			}
			return p.RefreshToken
		}, "invalid-refresh-token"},
		{"password changed since", func(f *fixture, p tokenPair) string {
			rt, _ := account.ParseRefreshToken(p.RefreshToken)
			c, _ := f.mem.User(context.Background(), rt.UserID)
			if err := f.mem.ChangePassword(context.Background(), c.ID, c.PasswordHash, c.PasswordHash, start); err != nil {
				f.t.Fatal(err)
			}
			return p.RefreshToken
		}, "invalid-refresh-token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.ada()
			login := f.login(adaEmail, adaPassword)
			var rotated calls
			f.store.RotateSessionFn = func(ctx context.Context, presented, next account.RefreshToken, epoch int64, now time.Time) error {
				rotated.inc()
				return f.mem.RotateSession(ctx, presented, next, epoch, now)
			}
			f.refreshResponse(tt.token(f, login)).problem(t, http.StatusUnauthorized, tt.slug)
			if rotated.count() != 0 {
				t.Errorf("RotateSession called for a refused token")
			}
		})
	}
}

func TestRefreshLosesRace(t *testing.T) {
	// Between the read and the conditional write another request rotated the
	// same token: the store reports reuse, and the family is revoked.
	tests := []struct {
		name        string
		rotateErr   error
		status      int
		slug        string
		wantRevoked bool
	}{
		{"concurrent rotation", account.ErrTokenReused, http.StatusUnauthorized, "invalid-refresh-token", true},
		{"revoked meanwhile", account.ErrSessionInvalid, http.StatusUnauthorized, "invalid-refresh-token", false},
		{"store failure", errors.New("transaction conflict"), http.StatusInternalServerError, "internal", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			id, _ := f.ada()
			login := f.login(adaEmail, adaPassword)
			f.store.RotateSessionFn = func(context.Context, account.RefreshToken, account.RefreshToken, int64, time.Time) error {
				return tt.rotateErr
			}
			var revoked calls
			f.store.RevokeSessionFn = func(ctx context.Context, userID, familyID string) error {
				revoked.inc()
				return f.mem.RevokeSession(ctx, userID, familyID)
			}
			f.refreshResponse(login.RefreshToken).problem(t, tt.status, tt.slug)
			rt, _ := account.ParseRefreshToken(login.RefreshToken)
			s, _ := f.mem.Family(id, rt.FamilyID)
			if s.Revoked != tt.wantRevoked || (revoked.count() == 1) != tt.wantRevoked {
				t.Errorf("revoked %v (%d calls), want %v", s.Revoked, revoked.count(), tt.wantRevoked)
			}
		})
	}
}

func TestLogout(t *testing.T) {
	f := newFixture(t)
	id, ada := f.ada()
	login := f.login(adaEmail, adaPassword)
	other := f.login(adaEmail, adaPassword)
	rt, _ := account.ParseRefreshToken(login.RefreshToken)

	r := f.do("POST /v1/auth/logout", ada, jsonBody(t, map[string]string{"refreshToken": login.RefreshToken}))
	if r.status != http.StatusNoContent || len(r.body) != 0 {
		t.Fatalf("logout: %d %s, want 204 and no body", r.status, r.body)
	}
	if s, _ := f.mem.Family(id, rt.FamilyID); !s.Revoked {
		t.Errorf("family not revoked by logout")
	}
	f.refreshResponse(login.RefreshToken).problem(t, http.StatusUnauthorized, "invalid-refresh-token")
	// Logout ends one session, not every session of the user.
	f.pair(f.refreshResponse(other.RefreshToken))
}

func TestLogoutRejects(t *testing.T) {
	tests := []struct {
		name   string
		token  func(bob tokenPair) string
		status int
		slug   string
	}{
		{"someone else's token", func(bob tokenPair) string { return bob.RefreshToken }, http.StatusUnauthorized, "invalid-refresh-token"},
		{"garbage", func(tokenPair) string { return "garbage" }, http.StatusUnauthorized, "invalid-refresh-token"},
		{"empty", func(tokenPair) string { return "" }, http.StatusUnauthorized, "invalid-refresh-token"},
		{"access token", func(bob tokenPair) string { return bob.AccessToken }, http.StatusUnauthorized, "invalid-refresh-token"},
		{"own user id, unknown family", func(tokenPair) string {
			rt, _ := account.NewRefreshToken("01HZX3YQ7A8B9C0D1E2F3G0001") // Ada's id, see fixture.newID
			return rt.Raw
		}, http.StatusUnauthorized, "invalid-refresh-token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			_, ada := f.ada()
			bobID := f.register("bob@example.com", "bob's long password", "Bob")
			bob := f.login("bob@example.com", "bob's long password")
			var revoked []string
			f.store.RevokeSessionFn = func(ctx context.Context, userID, familyID string) error {
				revoked = append(revoked, userID)
				return f.mem.RevokeSession(ctx, userID, familyID)
			}
			f.do("POST /v1/auth/logout", ada, jsonBody(t, map[string]string{"refreshToken": tt.token(bob)})).problem(t, tt.status, tt.slug)
			if slices.Contains(revoked, bobID) {
				t.Errorf("Ada revoked a session of Bob")
			}
			f.pair(f.refreshResponse(bob.RefreshToken))
		})
	}
}

func TestProtectedRoutesNeedACaller(t *testing.T) {
	routes := []string{"POST /v1/auth/logout", "GET /v1/users/me", "PATCH /v1/users/me", "POST /v1/users/me/password"}
	tests := []struct {
		name   string
		bearer func(f *fixture, id string) string
	}{
		{"no access token", func(*fixture, string) string { return "" }},
		{"expired access token", func(f *fixture, id string) string {
			raw := f.tokenFor(*caller(id, adaEmail, adaName))
			f.clock.Advance(token.DefaultTTL + token.Leeway + time.Second)
			return raw
		}},
		{"token without a user id", func(f *fixture, _ string) string { return f.tokenFor(*caller("", adaEmail, adaName)) }},
		{"token of another key", func(f *fixture, id string) string {
			return apitest.NewAuth(f.t).Token(f.t, *caller(id, adaEmail, adaName))
		}},
	}
	for _, tt := range tests {
		for _, route := range routes {
			t.Run(tt.name+"/"+route, func(t *testing.T) {
				f := newFixture(t)
				id, _ := f.ada()
				r := f.send(event(route, `{"name":"Mallory"}`, tt.bearer(f, id)))
				r.problem(t, http.StatusUnauthorized, "invalid-token")
				if got := r.headers["WWW-Authenticate"]; got != `Bearer error="invalid_token"` {
					t.Errorf("WWW-Authenticate %q", got)
				}
			})
		}
	}
}
