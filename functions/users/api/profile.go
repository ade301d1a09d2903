package api

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/functions/users/app"
	"github.com/serverless-shop/backend/shared/problem"
	"github.com/serverless-shop/backend/shared/web"
)

func (a *API) me(w http.ResponseWriter, r *http.Request) error {
	u, err := a.Service.Profile(r.Context(), web.Caller(r).UserID)
	return user(w, http.StatusOK, u, err)
}

func (a *API) updateMe(w http.ResponseWriter, r *http.Request) error {
	// Decode into raw fields first so that every unknown or read-only field
	// is reported, not just the first.
	var fields map[string]json.RawMessage
	if err := web.DecodeJSON(r, &fields); err != nil {
		return err
	}
	var bad []problem.FieldError
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		switch name {
		case "name":
		case "id", "email", "createdAt", "updatedAt": // a client may see them, not write them
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
	} else if _, err := account.NewName(name); err != nil {
		// One answer lists every bad field, the name's too.
		bad = append(bad, problem.Of(err, problem.Invalid).Fields...)
	}
	if len(bad) > 0 {
		return problem.Validation(bad...)
	}
	u, err := a.Service.UpdateName(r.Context(), web.Caller(r).UserID, name)
	return user(w, http.StatusOK, u, err)
}

func (a *API) changePassword(w http.ResponseWriter, r *http.Request, in app.ChangePasswordCommand) error {
	in.UserID = web.Caller(r).UserID
	return noContent(w, a.Service.ChangePassword(r.Context(), in))
}
