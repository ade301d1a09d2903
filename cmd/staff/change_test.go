package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/functions/users/app/apptest"
	"github.com/serverless-shop/backend/shared/events"
	"github.com/serverless-shop/backend/shared/revocation"
	"github.com/serverless-shop/backend/shared/token"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// newStore holds a verified account (ada@example.com, user "ada") and an
// unverified one (bob@example.com, user "bob").
func newStore(t *testing.T) *apptest.MemStore {
	t.Helper()
	m := apptest.NewMemStore()
	for _, u := range []account.User{
		{ID: "ada", Email: "ada@example.com", EmailVerified: true},
		{ID: "bob", Email: "bob@example.com"},
	} {
		if err := m.CreateUser(context.Background(), u, "hash", account.PendingLink{}, events.AccountEvent{}); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

// TestChange walks an account through promotion and demotion, each
// ending its sessions once (one revocation of the next epoch, counted
// against no budget), and the changes refused or with nothing to do,
// which write nothing.
func TestChange(t *testing.T) {
	m := newStore(t)
	steps := []struct {
		name, email, role string
		want              string // in the message, or in the error when refused
		refused           bool
		wantRole          string // ada's afterwards
		wantEpoch         int64  // ada's afterwards
	}{
		{"unknown email", "eve@example.com", token.RoleStaff, "no account has the email eve@example.com", true, "", 0},
		{"not an email", "ada", token.RoleStaff, "not an email address", true, "", 0},
		{"unverified", "bob@example.com", token.RoleStaff, "has not verified its email", true, "", 0},
		{"a customer demoted", "Ada@Example.com", token.RoleCustomer, "is customer already", false, "", 0},
		{"promote", " Ada@Example.com", token.RoleStaff, "ada@example.com (user ada) is staff now", false, token.RoleStaff, 1},
		{"promote again", "ada@example.com", token.RoleStaff, "is staff already: nothing changed", false, token.RoleStaff, 1},
		{"demote", "ada@example.com", token.RoleCustomer, "is customer now", false, "", 2},
	}
	revocations := 0
	for _, s := range steps {
		msg, err := change(context.Background(), m, s.email, s.role, 5*time.Minute, now)
		got := msg
		if err != nil {
			got = err.Error()
		}
		if (err != nil) != s.refused || !strings.Contains(got, s.want) {
			t.Fatalf("%s: change = %q, %v; want %q, refused %v", s.name, msg, err, s.want, s.refused)
		}
		if strings.Contains(got, "hash") {
			t.Errorf("%s: %q shows a secret", s.name, got)
		}
		ada, _ := m.User(context.Background(), "ada")
		if ada.Role != s.wantRole || ada.SessionEpoch != s.wantEpoch {
			t.Fatalf("%s: ada is %q at epoch %d, want %q at %d", s.name, ada.Role, ada.SessionEpoch, s.wantRole, s.wantEpoch)
		}
		if strings.HasSuffix(s.want, "now") {
			revocations++
		}
		if r := m.Revocations(); len(r) != revocations {
			t.Fatalf("%s: %d revocations, want %d", s.name, len(r), revocations)
		} else if revocations > 0 {
			want := revocation.User("ada", s.wantEpoch, now, 5*time.Minute)
			if r[len(r)-1] != want {
				t.Errorf("%s: revocation %+v, want %+v", s.name, r[len(r)-1], want)
			}
		}
	}
	if bob, _ := m.User(context.Background(), "bob"); bob.Role != "" || bob.SessionEpoch != 0 {
		t.Errorf("the refused promotion changed bob: %+v", bob)
	}
}

// TestChangeReadsAgainAfterAConcurrentChange: a password change between
// the read and the write sends the change back to reading the account;
// one that never settles is given up, writing nothing.
func TestChangeReadsAgainAfterAConcurrentChange(t *testing.T) {
	m := newStore(t)
	writes := m.Watch("SetRole", account.ErrStaleWrite)
	if _, err := change(context.Background(), m, "ada@example.com", token.RoleStaff, time.Minute, now); err == nil || !strings.Contains(err.Error(), "try again") {
		t.Fatalf("change = %v, want given up", err)
	}
	if writes.Load() != attempts || len(m.Revocations()) != 0 {
		t.Fatalf("%d writes, %d revocations; want %d, none", writes.Load(), len(m.Revocations()), attempts)
	}
	stale := 0
	m.Before = func(op string) error {
		if op == "SetRole" && stale == 0 {
			stale++
			return account.ErrStaleWrite
		}
		return nil
	}
	if msg, err := change(context.Background(), m, "ada@example.com", token.RoleStaff, time.Minute, now); err != nil || !strings.Contains(msg, "staff now") {
		t.Fatalf("change = %q, %v; want staff after a second read", msg, err)
	}
}
