//go:build integration

package e2e

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/serverless-shop/backend/internal/testcloud"
)

// makeStaff runs make staff on the local cloud exactly as an operator
// would (ENV=local, EMULATOR_PORT naming the cloud), with ROLE=role when
// role is set, and returns what it printed and whether it succeeded.
func makeStaff(t *testing.T, email, role string) (string, bool) {
	t.Helper()
	args := []string{"-s", "--no-print-directory", "staff", "ENV=local", "EMAIL=" + email}
	if role != "" {
		args = append(args, "ROLE="+role)
	}
	cmd := exec.Command("make", args...)
	cmd.Dir = testcloud.RepoRoot()
	cmd.Env = append(os.Environ(), "EMULATOR_PORT="+testcloud.Port())
	out, err := cmd.CombinedOutput()
	if _, exited := err.(*exec.ExitError); err != nil && !exited {
		t.Fatalf("make staff: %v", err)
	}
	return string(out), err == nil
}

// wantMakeStaff runs make staff and fails unless it succeeded saying want.
func wantMakeStaff(t *testing.T, email, role, want string) {
	t.Helper()
	if out, ok := makeStaff(t, email, role); !ok || !strings.Contains(out, want) {
		t.Fatalf("make staff EMAIL=%s ROLE=%s: ok %v, %q; want success saying %q", email, role, ok, out, want)
	}
}

// TestStaffIsMadeByAnOperator: make staff promotes a verified account,
// ending every session it had (its refresh tokens at once, its access
// tokens within the minute) so that only a new login carries the role;
// promoting it again changes nothing; ROLE=customer demotes it the same
// way. An unknown or unverified email is refused, writing nothing.
func TestStaffIsMadeByAnOperator(t *testing.T) {
	t.Parallel()
	u := signUp(t, "staff")
	if role, ok := jwtClaims(t, u.Access)["role"]; ok {
		t.Fatalf("a new account's token says role %v, want none (a customer)", role)
	}
	customer := u
	wantMakeStaff(t, u.Email, "", "is staff now")
	call(t, "POST", "/v1/auth/refresh", map[string]string{"refreshToken": customer.Refresh}).Problem(t, 401, "")
	t.Logf("promotion: the customer's access token was refused after %v", awaitRefused(t, customer))
	u.login(t)
	if role := jwtClaims(t, u.Access)["role"]; role != "staff" {
		t.Fatalf("after promotion a login's token says role %v, want staff", role)
	}
	call(t, "GET", "/v1/users/me", nil, u.bearer()...).Expect(t, 200)
	var refreshed tokenPair
	call(t, "POST", "/v1/auth/refresh", map[string]string{"refreshToken": u.Refresh}).Expect(t, 200).JSON(t, &refreshed)
	if role := jwtClaims(t, refreshed.AccessToken)["role"]; role != "staff" {
		t.Fatalf("a staff session's refresh says role %v, want staff", role)
	}
	u.Access, u.Refresh = refreshed.AccessToken, refreshed.RefreshToken

	entries := revocationEntries(t, u.ID)
	wantMakeStaff(t, strings.ToUpper(u.Email), "", "is staff already: nothing changed")
	if n := revocationEntries(t, u.ID); n != entries {
		t.Fatalf("promoting staff again wrote %d revocations", n-entries)
	}
	call(t, "GET", "/v1/users/me", nil, u.bearer()...).Expect(t, 200)

	staff := u
	wantMakeStaff(t, u.Email, "customer", "is customer now")
	call(t, "POST", "/v1/auth/refresh", map[string]string{"refreshToken": staff.Refresh}).Problem(t, 401, "")
	t.Logf("demotion: the staff access token was refused after %v", awaitRefused(t, staff))
	u.login(t)
	if role, ok := jwtClaims(t, u.Access)["role"]; ok {
		t.Fatalf("after demotion a login's token says role %v, want none", role)
	}
	wantMakeStaff(t, u.Email, "customer", "is customer already")

	t.Run("refused", func(t *testing.T) {
		t.Parallel()
		unverified := register(t, "unverified-staff")
		for email, want := range map[string]string{
			unverified.Email:               "has not verified its email",
			uniqueEmail(t, "nobody-staff"): "no account has the email",
			"not an address":               "is not an email address",
		} {
			if out, ok := makeStaff(t, email, ""); ok || !strings.Contains(out, want) {
				t.Errorf("make staff EMAIL=%q: ok %v, %q; want refused saying %q", email, ok, out, want)
			}
		}
		if n := revocationEntries(t, unverified.ID); n != 0 {
			t.Errorf("the refused promotion wrote %d revocations", n)
		}
		unverified.Device = verifyEmailAt(t, unverified.Email)
		unverified.login(t)
		if role, ok := jwtClaims(t, unverified.Access)["role"]; ok {
			t.Errorf("the refused account's token says role %v", role)
		}
	})
}
