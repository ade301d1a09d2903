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

func TestRegister(t *testing.T) {
	f := newFixture(t)
	f.Clock.Advance(1234567 * time.Nanosecond) // stored times keep milliseconds only
	u, err := f.Svc.Register(f.Ctx, app.RegisterCommand{Email: "  Ada@EXAMPLE.com ", Password: apptest.AdaPassword, Name: "  " + apptest.AdaName + " "})
	must(t, err)
	want := apptest.Start.Add(time.Millisecond)
	if u.ID == "" || u.Email != apptest.AdaEmail || u.Name != apptest.AdaName || !u.CreatedAt.Equal(want) || !u.UpdatedAt.Equal(want) || u.CreatedAt.Location() != time.UTC {
		t.Errorf("user %+v, want normalised input created at %v UTC", u, want)
	}
	stored, err := f.Mem.User(context.Background(), u.ID)
	if err != nil || stored.User != u {
		t.Fatalf("stored %+v, %v; want %+v", stored.User, err, u)
	}
	if ok, err := password.Verify(stored.PasswordHash, apptest.AdaPassword); err != nil || !ok {
		t.Errorf("stored hash does not verify the password: %v, %v", ok, err)
	}
	if password.NeedsRehash(stored.PasswordHash, apptest.CheapHashing) {
		t.Errorf("stored hash %q not made with Config.Hashing", stored.PasswordHash)
	}
	f.wantCounts(map[string]float64{app.MetricRegistered: 1})
	lines := f.Lines("user registered")
	if len(lines) != 1 || lines[0]["userId"] != u.ID || lines[0]["level"] != "INFO" {
		t.Errorf("log lines %v, want one INFO line with the user id", lines)
	}
}

func TestRegisterRejects(t *testing.T) {
	tests := []struct {
		name       string
		cmd        app.RegisterCommand
		wantFields []string
		wantErr    error // instead of fields
	}{
		{"every field invalid", app.RegisterCommand{Email: "Ada <ada@example.com>", Password: "short", Name: "  "}, []string{"email", "password", "name"}, nil},
		{"email taken in another case", app.RegisterCommand{Email: "ADA@example.COM", Password: "another good password", Name: "Twin"}, nil, account.ErrEmailTaken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.register()
			created := f.Mem.Watch("CreateUser", nil)
			u, err := f.Svc.Register(f.Ctx, tt.cmd)
			if u != (account.User{}) {
				t.Errorf("Register returned %+v with an error", u)
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || created.Load() != 1 {
					t.Errorf("Register = %v after %d CreateUser calls, want %v after 1", err, created.Load(), tt.wantErr)
				}
			} else {
				if got := fieldsOf(t, err); !slices.Equal(got, tt.wantFields) {
					t.Errorf("invalid fields %v, want %v", got, tt.wantFields)
				}
				if created.Load() != 0 {
					t.Errorf("CreateUser called for invalid input")
				}
			}
			f.wantCounts(map[string]float64{})
			if lines := f.Lines("user registered"); len(lines) != 1 {
				t.Errorf("%d registrations logged, want only the first", len(lines))
			}
		})
	}
}
