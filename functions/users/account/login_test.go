package account_test

import (
	"strings"
	"testing"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/shared/problem"
	"github.com/serverless-shop/backend/shared/text"
)

// invalid returns the fields of a validation problem, failing the test
// for any other error.
func invalid(t *testing.T, err error) []problem.FieldError {
	t.Helper()
	p := problem.Of(err, problem.Invalid)
	if p == nil || p.Slug != "validation" {
		t.Fatalf("error = %v (%T), want a validation problem", err, err)
	}
	return p.Fields
}

// invalidFields returns the fields of a validation problem, or nil for nil.
func invalidFields(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var fields []string
	for _, f := range invalid(t, err) {
		if f.Message == "" {
			t.Errorf("field %s has no message", f.Field)
		}
		fields = append(fields, f.Field)
	}
	return fields
}

func TestNewLoginAttempt(t *testing.T) {
	tests := []struct {
		name       string
		email      string
		password   string
		device     string
		want       account.LoginAttempt
		wantFields string
	}{
		{name: "normalised", email: "  Ada@Example.COM ", password: " pw ", want: account.LoginAttempt{Email: "ada@example.com", Password: " pw "}},
		{name: "short password accepted", email: "ada@example.com", password: "x", want: account.LoginAttempt{Email: "ada@example.com", Password: "x"}},
		{name: "longest presentable password", email: "ada@example.com", password: strings.Repeat("x", 4*account.MaxPasswordLength),
			want: account.LoginAttempt{Email: "ada@example.com", Password: strings.Repeat("x", 4*account.MaxPasswordLength)}},
		{name: "bad email", email: "Ada <ada@example.com>", password: "pw", wantFields: "email"},
		{name: "empty password", email: "ada@example.com", wantFields: "password"},
		{name: "oversized password", email: "ada@example.com", password: strings.Repeat("x", 4*account.MaxPasswordLength+1), wantFields: "password"},
		{name: "both", wantFields: "email,password"},
		{name: "device token", email: "ada@example.com", password: "pw", device: "dv1." + strings.Repeat("A", 43),
			want: account.LoginAttempt{Email: "ada@example.com", Password: "pw", DeviceHash: account.DeviceToken{Raw: "dv1." + strings.Repeat("A", 43)}.Hash()}},
		{name: "device token too short", email: "ada@example.com", password: "pw", device: "dv1." + strings.Repeat("A", 42), wantFields: "deviceToken"},
		{name: "device token of another version", email: "ada@example.com", password: "pw", device: "dv2." + strings.Repeat("A", 43), wantFields: "deviceToken"},
		{name: "device token not base64url", email: "ada@example.com", password: "pw", device: "dv1." + strings.Repeat("+", 43), wantFields: "deviceToken"},
		{name: "everything", device: "x", wantFields: "email,password,deviceToken"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := account.NewLoginAttempt(tt.email, tt.password, tt.device)
			if fields := strings.Join(invalidFields(t, err), ","); fields != tt.wantFields {
				t.Fatalf("invalid fields %q, want %q", fields, tt.wantFields)
			}
			if got != tt.want {
				t.Errorf("NewLoginAttempt = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestCheckPasswordChange(t *testing.T) {
	const good = "a brand new passphrase"
	tests := []struct {
		name          string
		current, next string
		wantFields    string
	}{
		{name: "valid", current: "old", next: good},
		{name: "missing current", next: good, wantFields: "currentPassword"},
		{name: "oversized current", current: strings.Repeat("x", 4*account.MaxPasswordLength+1), next: good, wantFields: "currentPassword"},
		{name: "weak new", current: "old", next: "short", wantFields: "newPassword"},
		{name: "both", wantFields: "currentPassword,newPassword"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := account.CheckPasswordChange(tt.current, tt.next)
			if fields := strings.Join(invalidFields(t, err), ","); fields != tt.wantFields {
				t.Fatalf("invalid fields %q, want %q", fields, tt.wantFields)
			}
		})
	}
}

func TestNewName(t *testing.T) {
	if got, err := account.NewName("  Ada K.  "); err != nil || got != "Ada K." {
		t.Errorf("NewName = %q, %v; want the trimmed name", got, err)
	}
	for _, bad := range []string{"", "  ", "Ada\u0007", strings.Repeat("é", text.MaxNameLength+1)} {
		got, err := account.NewName(bad)
		if fields := strings.Join(invalidFields(t, err), ","); fields != "name" || got != "" {
			t.Errorf("NewName(%q) = %q, fields %q; want a validation problem for name", bad, got, fields)
		}
	}
}
