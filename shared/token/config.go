package token

import (
	"errors"
	"time"

	"github.com/serverless-shop/backend/shared/coldstart"
)

// Config is what issuing and verifying access tokens needs: every function
// that verifies tokens reads the same settings.
type Config struct {
	Keys     []PublicKey // every key whose tokens are accepted
	Issuer   string
	Audience string
	Lifetime time.Duration // of the tokens issued; verifiers refuse longer ones
}

// ConfigFrom reads TOKEN_JWKS (a JSON Web Key Set), TOKEN_ISSUER,
// TOKEN_AUDIENCE and ACCESS_TOKEN_TTL (optional, DefaultTTL). A key set
// without a usable key is a problem: a verifier must not start trusting
// nothing, or something else.
func ConfigFrom(env *coldstart.Env) Config {
	raw := env.String("TOKEN_JWKS")
	c := Config{Issuer: env.String("TOKEN_ISSUER"), Audience: env.String("TOKEN_AUDIENCE"), Lifetime: env.Duration("ACCESS_TOKEN_TTL", DefaultTTL)}
	if raw != "" {
		keys, err := ParseJWKS([]byte(raw))
		if err == nil && len(keys) == 0 {
			err = errors.New("no ES256 signing key")
		}
		if err != nil {
			env.Fail("TOKEN_JWKS", err)
		}
		c.Keys = keys
	}
	return c
}

// Verifier checks access tokens against these settings.
func (c Config) Verifier() *Verifier {
	v := NewVerifier(c.Keys, c.Issuer, c.Audience, nil)
	v.maxLifetime = c.Lifetime
	return v
}
