// Command authorizer is the Lambda authorizer of the REST API. It verifies
// access tokens against the public signing keys its configuration carries
// (published at deploy time); it holds no private key and makes no network
// call, neither at cold start nor while deciding.
package main

import (
	"context"
	"log/slog"

	"github.com/serverless-shop/backend/functions/authorizer/authz"
	"github.com/serverless-shop/backend/shared/coldstart"
	"github.com/serverless-shop/backend/shared/token"
)

func main() { coldstart.Main("authorizer", build) }

// build wires the authorizer from the environment: TOKEN_JWKS (the keys
// whose tokens are accepted), TOKEN_ISSUER, TOKEN_AUDIENCE. It makes no
// AWS call, so it loads no AWS configuration either.
func build(_ context.Context, env *coldstart.Env, log *slog.Logger) (any, error) {
	tokens := token.ConfigFrom(env)
	if err := env.Err(); err != nil {
		return nil, err
	}
	return authz.New(tokens.Verifier(), log).Handle, nil
}
