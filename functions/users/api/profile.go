package api

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/functions/users/password"
	"github.com/serverless-shop/backend/shared/httpapi"
	"github.com/serverless-shop/backend/shared/problem"
)

// readOnlyProfileFields are profile fields a client may see but not write.
var readOnlyProfileFields = map[string]bool{"id": true, "email": true, "createdAt": true, "updatedAt": true}

func (a *API) updateMe(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	// Decode into raw fields first so that every unknown or read-only field
	// is reported, not just the first.
	var fields map[string]json.RawMessage
	if err := r.DecodeJSON(&fields); err != nil {
		return nil, err
	}
	var bad []problem.FieldError
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		switch {
		case name == "name":
		case readOnlyProfileFields[name]:
			bad = append(bad, problem.FieldError{Field: name, Message: "is read-only"})
		default:
			bad = append(bad, problem.FieldError{Field: name, Message: "is not a writable field"})
		}
	}
	raw, ok := fields["name"]
	var name string
	if ok {
		if err := json.Unmarshal(raw, &name); err != nil {
			bad = append(bad, problem.FieldError{Field: "name", Message: "must be a string"})
		} else if name, ok = account.NormalizeName(name); !ok {
			bad = append(bad, problem.FieldError{Field: "name", Message: account.NameRule})
		}
	} else if len(bad) == 0 {
		bad = append(bad, problem.FieldError{Field: "name", Message: "is required"})
	}
	if len(bad) > 0 {
		return nil, problem.Validation(bad...)
	}
	u, err := a.Store.UpdateName(ctx, r.Caller().UserID, name, a.Now())
	if err != nil {
		return nil, problemFor(err)
	}
	return httpapi.JSON(http.StatusOK, profile(u))
}

func (a *API) changePassword(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in struct {
		CurrentPassword string `json:"currentPassword"`
		NewPassword     string `json:"newPassword"`
	}
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	var bad []problem.FieldError
	if in.CurrentPassword == "" || len(in.CurrentPassword) > 4*account.MaxPasswordLength {
		bad = append(bad, problem.FieldError{Field: "currentPassword", Message: "is required"})
	}
	if msg := account.CheckPassword(in.NewPassword); msg != "" {
		bad = append(bad, problem.FieldError{Field: "newPassword", Message: msg})
	}
	if len(bad) > 0 {
		return nil, problem.Validation(bad...)
	}
	u, err := a.Store.User(ctx, r.Caller().UserID)
	if err != nil {
		return nil, problemFor(err)
	}
	// A stolen access token must not become a way to guess the password:
	// wrong current passwords count against the same limit as logins.
	now := a.Now()
	failures, windowEnds, err := a.Store.LoginFailures(ctx, u.Email, now)
	if err != nil {
		return nil, err
	}
	if failures >= a.LoginLimit.Failures {
		return nil, tooManyAttempts(windowEnds.Sub(now))
	}
	ok, err := password.Verify(u.PasswordHash, in.CurrentPassword)
	if err != nil {
		return nil, err
	}
	if !ok {
		if err := a.Store.RecordLoginFailure(ctx, u.Email, now, a.LoginLimit.Window); err != nil {
			return nil, err
		}
		return nil, problem.New(problem.Unauthenticated, "The current password is incorrect.").WithSlug("invalid-credentials")
	}
	hash, err := password.Hash(in.NewPassword, a.Hashing)
	if err != nil {
		return nil, err
	}
	if err := a.Store.ChangePassword(ctx, u.ID, u.PasswordHash, hash, now); err != nil {
		return nil, problemFor(err)
	}
	a.Metrics.Add(MetricPasswordReset, 1)
	r.Log.InfoContext(ctx, "password changed; all sessions revoked")
	return httpapi.NoContent(), nil
}
