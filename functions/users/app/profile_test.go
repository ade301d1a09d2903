package app_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/functions/users/app"
	"github.com/serverless-shop/backend/functions/users/app/apptest"
	"github.com/serverless-shop/backend/functions/users/password"
)

const unknownID = "01HZX3YQ7A8B9C0D1E2F3G4H5J"

func TestProfile(t *testing.T) {
	f := newFixture(t)
	id := f.register()
	u, err := f.Svc.Profile(f.Ctx, id)
	if err != nil || u.ID != id || u.Email != apptest.AdaEmail || u.Name != apptest.AdaName {
		t.Errorf("Profile = %+v, %v", u, err)
	}
	if _, err := f.Svc.Profile(f.Ctx, unknownID); !errors.Is(err, account.ErrNotFound) {
		t.Errorf("Profile of an unknown user = %v, want ErrNotFound", err)
	}
}

func TestUpdateName(t *testing.T) {
	f := newFixture(t)
	id := f.register()
	f.Clock.Advance(time.Hour)
	u, err := f.Svc.UpdateName(f.Ctx, id, "  Ada K.  ")
	if err != nil || u.Name != "Ada K." || !u.UpdatedAt.Equal(apptest.Start.Add(time.Hour)) || !u.CreatedAt.Equal(apptest.Start) {
		t.Errorf("UpdateName = %+v, %v", u, err)
	}
	if _, err := f.Svc.UpdateName(f.Ctx, unknownID, "Ghost"); !errors.Is(err, account.ErrNotFound) {
		t.Errorf("UpdateName of an unknown user = %v, want ErrNotFound", err)
	}
	// An invalid name (account.NewName's tests tell which) never reaches the store.
	updates := f.Mem.Watch("UpdateName", nil)
	if _, err := f.Svc.UpdateName(f.Ctx, id, "Ada\nLovelace"); !slices.Equal(fieldsOf(t, err), []string{"name"}) || updates.Load() != 0 {
		t.Errorf("UpdateName of an invalid name = %v after %d store calls, want the name refused before any", err, updates.Load())
	}
}

func TestChangePassword(t *testing.T) {
	const newPassword = "a brand new passphrase"
	f := newFixture(t)
	id := f.register()
	before, _ := f.Mem.User(context.Background(), id)
	must(t, f.Svc.ChangePassword(f.Ctx, app.ChangePasswordCommand{UserID: id, CurrentPassword: apptest.AdaPassword, NewPassword: newPassword}))
	after, _ := f.Mem.User(context.Background(), id)
	if ok, _ := password.Verify(after.PasswordHash, newPassword); !ok || after.SessionEpoch != before.SessionEpoch+1 {
		t.Errorf("after the change: epoch %d, new password verifies %v", after.SessionEpoch, ok)
	}
	f.wantCounts(map[string]float64{app.MetricPasswordChanged: 1})
	if lines := f.Lines("password changed; all sessions revoked"); len(lines) != 1 {
		t.Errorf("%d lines logged the change, want 1", len(lines))
	}
}

func TestChangePasswordRejects(t *testing.T) {
	tests := []struct {
		name         string
		userID       string // "" for Ada
		current      string
		next         string
		wantErr      error    // or
		wantFields   []string // for a validation error
		wantFailures int
	}{
		{name: "wrong current password", current: "not my password", next: "a brand new passphrase", wantErr: app.ErrWrongPassword, wantFailures: 1},
		{name: "both missing", wantFields: []string{"currentPassword", "newPassword"}},
		{name: "unknown user", userID: unknownID, current: apptest.AdaPassword, next: "a brand new passphrase", wantErr: account.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			id := f.register()
			if tt.userID != "" {
				id = tt.userID
			}
			changed := f.Mem.Watch("ChangePassword", nil)
			err := f.Svc.ChangePassword(f.Ctx, app.ChangePasswordCommand{UserID: id, CurrentPassword: tt.current, NewPassword: tt.next})
			switch {
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("ChangePassword = %v, want %v", err, tt.wantErr)
				}
				if errors.Is(err, app.ErrBadCredentials) {
					t.Errorf("a wrong current password is not a failed login: %v", err)
				}
			default:
				if got := fieldsOf(t, err); !slices.Equal(got, tt.wantFields) {
					t.Errorf("invalid fields %v, want %v", got, tt.wantFields)
				}
			}
			if changed.Load() != 0 {
				t.Errorf("ChangePassword reached the store")
			}
			if n := f.Mem.Attempts(apptest.AdaEmail, apptest.Start); n != tt.wantFailures {
				t.Errorf("failures recorded %d, want %d", n, tt.wantFailures)
			}
			f.wantCounts(map[string]float64{})
		})
	}
}

func TestChangePasswordCountsAgainstTheAccount(t *testing.T) {
	f := newFixture(t)
	id := f.register()
	for range account.AccountThrottle.Free + 1 {
		err := f.Svc.ChangePassword(f.Ctx, app.ChangePasswordCommand{UserID: id, CurrentPassword: "not my password", NewPassword: "a brand new passphrase"})
		if !errors.Is(err, app.ErrWrongPassword) {
			t.Fatalf("ChangePassword = %v", err)
		}
	}
	err := f.Svc.ChangePassword(f.Ctx, app.ChangePasswordCommand{UserID: id, CurrentPassword: apptest.AdaPassword, NewPassword: "a brand new passphrase"})
	if !says(err, attemptsLimited) || retryAfter(err) != time.Second {
		t.Fatalf("ChangePassword = %v, want too many attempts after 1s", err)
	}
	// The bucket is the one logins count against.
	if _, err := f.Svc.Login(f.Ctx, app.LoginCommand{Email: apptest.AdaEmail, Password: apptest.AdaPassword}); !says(err, attemptsLimited) {
		t.Errorf("Login = %v, want the shared bucket", err)
	}
	f.Clock.Advance(time.Second)
	must(t, f.Svc.ChangePassword(f.Ctx, app.ChangePasswordCommand{UserID: id, CurrentPassword: apptest.AdaPassword, NewPassword: "a brand new passphrase"})) // after the wait
	if n := f.Mem.Attempts(apptest.AdaEmail, f.Clock.Now()); n != 0 {
		t.Errorf("attempts %d after a change, want 0", n)
	}
}
