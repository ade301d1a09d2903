// Command authorizer is the Lambda authorizer of the REST API. It verifies
// access tokens against the public signing keys its configuration carries
// (published at deploy time); it holds no private key and makes no network
// call, neither at cold start nor while deciding.
package main

import (
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/serverless-shop/backend/functions/authorizer/authz"
	"github.com/serverless-shop/backend/shared/coldstart"
	"github.com/serverless-shop/backend/shared/logging"
	"github.com/serverless-shop/backend/shared/token"
)

func main() {
	log := logging.New(os.Stdout, "authorizer")
	a, err := build(os.Getenv, log)
	if err != nil {
		log.Error("cold start failed", slog.String(logging.KeyError, err.Error()))
		os.Exit(1)
	}
	lambda.Start(a.Handle)
}

// build wires the authorizer from the environment: TOKEN_JWKS (the keys
// whose tokens are accepted), TOKEN_ISSUER, TOKEN_AUDIENCE.
func build(getenv func(string) string, log *slog.Logger) (*authz.Authorizer, error) {
	env := coldstart.NewEnv(getenv)
	keys := env.PublicKeys("TOKEN_JWKS")
	issuer := env.String("TOKEN_ISSUER")
	audience := env.String("TOKEN_AUDIENCE")
	if err := env.Err(); err != nil {
		return nil, err
	}
	return authz.New(token.NewVerifier(keys, issuer, audience, nil), log), nil
}
