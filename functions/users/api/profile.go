package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sort"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/functions/users/app"
	"github.com/serverless-shop/backend/shared/httpapi"
	"github.com/serverless-shop/backend/shared/problem"
)

func (a *API) me(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	u, err := a.Service.Profile(ctx, r.Caller().UserID)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, profile(u))
}

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
	raw, present := fields["name"]
	var name string
	if !present {
		if len(bad) == 0 {
			bad = append(bad, problem.FieldError{Field: "name", Message: "is required"})
		}
	} else if err := json.Unmarshal(raw, &name); err != nil {
		bad = append(bad, problem.FieldError{Field: "name", Message: "must be a string"})
	} else if len(bad) > 0 {
		// The request goes no further, yet one answer lists every bad
		// field: ask the domain about the name here too.
		var invalid account.ValidationError
		if _, err := account.NewName(name); errors.As(err, &invalid) {
			bad = append(bad, fieldErrors(invalid)...)
		}
	}
	if len(bad) > 0 {
		return nil, problem.Validation(bad...)
	}
	u, err := a.Service.UpdateName(ctx, app.UpdateNameCommand{UserID: r.Caller().UserID, Name: name})
	if err != nil {
		return nil, err
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
	err := a.Service.ChangePassword(ctx, app.ChangePasswordCommand{
		UserID: r.Caller().UserID, CurrentPassword: in.CurrentPassword, NewPassword: in.NewPassword,
	})
	if err != nil {
		return nil, err
	}
	return httpapi.NoContent(), nil
}
