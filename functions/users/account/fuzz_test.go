package account_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/serverless-shop/backend/functions/users/account"
)

// ulidShaped reports whether s is what the token formats take for a user
// id: 26 digits and upper-case ASCII letters, a ULID's length and
// alphabet (the formats do not leave out the I, L, O and U that
// Crockford's base32 does).
var ulidShaped = regexp.MustCompile(`^[0-9A-Z]{26}$`).MatchString

// FuzzParseRefreshToken checks that ParseRefreshToken takes apart exactly
// what NewRefreshToken and Rotate put together: any string parses or is
// ErrSessionInvalid, a parsed token is its parts joined again, and a new
// token for any user id parses back to that user whenever the id has a
// ULID's shape.
func FuzzParseRefreshToken(f *testing.F) {
	tok := account.NewRefreshToken(userID)
	for _, s := range []string{
		tok.Raw, userID, "",
		strings.Replace(tok.Raw, "rt1", "rt2", 1),
		strings.ToLower(tok.Raw),
		tok.Raw + "\n",
		tok.Raw + ".x",
		tok.Raw[:len(tok.Raw)-1],
		"rt1." + userID + ".." + strings.Repeat("A", 43),
		"rt1.01HZX3YQ7A8B9C0D1E2F3G4H5.AAAAAAAAAAAAAAAAAAAAAAA." + strings.Repeat("A", 43),
		"rt1.01HZX3YQ7A8B9C0D1E2F3G4H5J.AAAAAAAAAAAAAAAAAAAAA+." + strings.Repeat("A", 43),
	} {
		f.Add(s)
	}

	f.Fuzz(func(t *testing.T, raw string) {
		got, err := account.ParseRefreshToken(raw)
		if err != nil {
			if !errors.Is(err, account.ErrSessionInvalid) || got != (account.RefreshToken{}) {
				t.Fatalf("ParseRefreshToken(%q) = %+v, %v; want ErrSessionInvalid and no token", raw, got, err)
			}
		} else {
			if got.Raw != raw || !ulidShaped(got.UserID) || len(got.FamilyID) != 22 ||
				!strings.HasPrefix(raw, "rt1."+got.UserID+"."+got.FamilyID+".") || len(raw) != len("rt1...")+26+22+43 {
				t.Fatalf("ParseRefreshToken(%q) = %+v: not the parts of the token", raw, got)
			}
			next := account.Rotate(got)
			back, err := account.ParseRefreshToken(next.Raw)
			if err != nil || back != next || back.UserID != got.UserID || back.FamilyID != got.FamilyID || back.Raw == raw {
				t.Errorf("the rotation %+v of %+v parses as %+v, %v", next, got, back, err)
			}
		}

		// The input as a user id.
		fresh := account.NewRefreshToken(raw)
		back, err := account.ParseRefreshToken(fresh.Raw)
		switch {
		case ulidShaped(raw) && (err != nil || back != fresh):
			t.Errorf("a new token %+v of the user %q parses as %+v, %v", fresh, raw, back, err)
		case !ulidShaped(raw) && err == nil:
			t.Errorf("a new token of the user %q, not a ULID, parses as %+v", raw, back)
		}
	})
}

// purposes are the link purposes and their token prefixes.
var purposes = []struct {
	account.Purpose
	prefix string
}{{account.VerifyEmail, "ev1"}, {account.ResetPassword, "pr1"}}

// FuzzParseLinkToken checks ParseLinkToken the same way, for both purposes:
// a token parses for one purpose at most, a parsed token is accepted by the
// pending link made of it until the link expires, and a new token for any
// user id parses back to that user, for its purpose only, whenever the id
// has a ULID's shape.
func FuzzParseLinkToken(f *testing.F) {
	for _, p := range purposes {
		tok := account.NewLinkToken(p.Purpose, userID)
		f.Add(tok.Raw)
		f.Add(tok.Raw[:len(tok.Raw)-1])
		f.Add(tok.Raw + "=")
		f.Add(strings.ToLower(tok.Raw))
	}
	f.Add("ev1." + userID + "." + strings.Repeat("_", 43))
	f.Add("pr1." + userID + "." + strings.Repeat("-", 42) + "/")
	f.Add("xx1." + userID + "." + strings.Repeat("A", 43))
	f.Add(userID)
	f.Add("")

	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, raw string) {
		parsed := 0
		for _, pp := range purposes {
			p, prefix := pp.Purpose, pp.prefix
			got, err := account.ParseLinkToken(p, raw)
			if err != nil {
				if !errors.Is(err, account.ErrLinkInvalid) || got != (account.LinkToken{}) {
					t.Fatalf("ParseLinkToken(%v, %q) = %+v, %v; want ErrLinkInvalid and no token", p, raw, got, err)
				}
			} else {
				parsed++
				if got.Raw != raw || got.Purpose != p || !ulidShaped(got.UserID) ||
					!strings.HasPrefix(raw, prefix+"."+got.UserID+".") || len(raw) != len("ev1..")+26+43 {
					t.Fatalf("ParseLinkToken(%v, %q) = %+v: not the parts of the token", p, raw, got)
				}
				link := account.Pending(got, now)
				if !link.Accepts(got, now) || !link.Accepts(got, now.Add(p.TTL-time.Nanosecond)) || link.Accepts(got, now.Add(p.TTL)) {
					t.Errorf("the pending link %+v of %+v accepts it at the wrong times", link, got)
				}
			}

			// The input as a user id.
			fresh := account.NewLinkToken(p, raw)
			back, err := account.ParseLinkToken(p, fresh.Raw)
			switch {
			case ulidShaped(raw) && (err != nil || back != fresh):
				t.Errorf("a new %v token %+v of the user %q parses as %+v, %v", p, fresh, raw, back, err)
			case !ulidShaped(raw) && err == nil:
				t.Errorf("a new %v token of the user %q, not a ULID, parses as %+v", p, raw, back)
			}
			for _, other := range purposes {
				if other.Purpose != p {
					if _, err := account.ParseLinkToken(other.Purpose, fresh.Raw); err == nil {
						t.Errorf("a %v token %q parses as a %v token", p, fresh.Raw, other.Purpose)
					}
				}
			}
		}
		if parsed > 1 {
			t.Errorf("%q parses for %d purposes", raw, parsed)
		}
	})
}
