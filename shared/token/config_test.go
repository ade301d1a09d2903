package token_test

import (
	"strings"
	"testing"

	"github.com/serverless-shop/backend/internal/apitest"
	"github.com/serverless-shop/backend/shared/coldstart"
	"github.com/serverless-shop/backend/shared/principal"
	"github.com/serverless-shop/backend/shared/token"
)

// env reads the variables of vars.
func env(vars map[string]string) *coldstart.Env {
	return coldstart.NewEnv(func(name string) string { return vars[name] })
}

func TestConfigVerifyWhatTheConfiguredKeySigned(t *testing.T) {
	t.Parallel()
	auth, stranger := apitest.NewAuth(t), apitest.NewAuth(t)
	e := env(map[string]string{
		"TOKEN_JWKS": auth.JWKS(t), "TOKEN_ISSUER": apitest.TokenIssuer, "TOKEN_AUDIENCE": apitest.TokenAudience,
	})
	tokens := token.ConfigFrom(e)
	if err := e.Err(); err != nil {
		t.Fatal(err)
	}
	if tokens.Issuer != apitest.TokenIssuer || tokens.Audience != apitest.TokenAudience || len(tokens.Keys) != 1 {
		t.Fatalf("Tokens = %+v", tokens)
	}
	p := principal.Principal{UserID: "u1", Email: "a@example.com"}
	if c, err := tokens.Verifier().Verify(auth.Token(t, p)); err != nil || c.Subject != "u1" {
		t.Fatalf("Verify = %+v, %v", c, err)
	}
	if _, err := tokens.Verifier().Verify(stranger.Token(t, p)); err == nil {
		t.Fatal("a token signed by a key outside TOKEN_JWKS was accepted")
	}
}

func TestConfigRefuses(t *testing.T) {
	t.Parallel()
	for jwks, want := range map[string]string{
		``:            "configuration: TOKEN_JWKS is not set; TOKEN_ISSUER is not set; TOKEN_AUDIENCE is not set",
		`{"keys":[]}`: "configuration: TOKEN_ISSUER is not set; TOKEN_AUDIENCE is not set; TOKEN_JWKS: no ES256 signing key",
		`{"keys":`:    "configuration: TOKEN_ISSUER is not set; TOKEN_AUDIENCE is not set; TOKEN_JWKS: parse jwks: ",
	} {
		e := env(map[string]string{"TOKEN_JWKS": jwks})
		_ = token.ConfigFrom(e)
		if err := e.Err(); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: Err() = %v, want %q...", jwks, err, want)
		}
	}
}
