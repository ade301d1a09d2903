// Command authorizer is the Lambda authorizer of the HTTP API. It verifies
// access tokens against the public keys of the signing keys in KMS, fetched
// once per cold start; it holds no private key and makes no network call
// while deciding.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/serverless-shop/backend/functions/authorizer/authz"
	"github.com/serverless-shop/backend/shared/coldstart"
	"github.com/serverless-shop/backend/shared/kmskeys"
	"github.com/serverless-shop/backend/shared/logging"
	"github.com/serverless-shop/backend/shared/token"
)

func main() {
	log := logging.New(os.Stdout, "authorizer")
	a, err := build(context.Background(), os.Getenv, log)
	if err != nil {
		log.Error("cold start failed", slog.String(logging.KeyError, err.Error()))
		os.Exit(1)
	}
	lambda.Start(a.Handle)
}

// build wires the authorizer from the environment:
// VERIFY_KEY_IDS (KMS keys whose tokens are accepted), TOKEN_ISSUER, TOKEN_AUDIENCE.
func build(ctx context.Context, getenv func(string) string, log *slog.Logger) (*authz.Authorizer, error) {
	env := coldstart.NewEnv(getenv)
	keyIDs := env.List("VERIFY_KEY_IDS")
	issuer := env.String("TOKEN_ISSUER")
	audience := env.String("TOKEN_AUDIENCE")
	if err := env.Err(); err != nil {
		return nil, err
	}
	cfg, err := coldstart.AWSConfig(ctx)
	if err != nil {
		return nil, err
	}
	keys, err := kmskeys.PublicKeys(ctx, kms.NewFromConfig(cfg), keyIDs)
	if err != nil {
		return nil, err
	}
	return authz.New(token.NewVerifier(keys, issuer, audience, nil), log), nil
}
