// Command users is the users service: registration, login, tokens and the
// caller's profile, behind API Gateway, owning the users table.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/oklog/ulid/v2"

	"github.com/serverless-shop/backend/functions/users/api"
	"github.com/serverless-shop/backend/functions/users/app"
	"github.com/serverless-shop/backend/functions/users/store"
	"github.com/serverless-shop/backend/shared/coldstart"
	"github.com/serverless-shop/backend/shared/httpapi"
	"github.com/serverless-shop/backend/shared/kmskeys"
	"github.com/serverless-shop/backend/shared/logging"
	"github.com/serverless-shop/backend/shared/metrics"
	"github.com/serverless-shop/backend/shared/token"
)

func main() {
	log := logging.New(os.Stdout, "users")
	h, err := build(context.Background(), os.Getenv, log)
	if err != nil {
		log.Error("cold start failed", slog.String(logging.KeyError, err.Error()))
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}

// build wires the service from the environment: USERS_TABLE; SIGNING_KEY_ID
// (the KMS key that signs new tokens) and SIGNING_KID (its token key id);
// TOKEN_JWKS (every key whose tokens are accepted, also served as the
// JWKS); TOKEN_ISSUER, TOKEN_AUDIENCE and ACCESS_TOKEN_TTL.
func build(ctx context.Context, getenv func(string) string, log *slog.Logger) (*httpapi.Router, error) {
	env := coldstart.NewEnv(getenv)
	table := env.String("USERS_TABLE")
	signingKey := env.String("SIGNING_KEY_ID")
	kid := env.String("SIGNING_KID")
	keys := env.PublicKeys("TOKEN_JWKS")
	issuer := env.String("TOKEN_ISSUER")
	audience := env.String("TOKEN_AUDIENCE")
	ttl := env.Duration("ACCESS_TOKEN_TTL", token.DefaultTTL)
	if err := env.Err(); err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(keys, func(k token.PublicKey) bool { return k.ID == kid }) {
		return nil, fmt.Errorf("configuration: SIGNING_KID %s is not in TOKEN_JWKS; its tokens would not verify", kid)
	}
	cfg, err := coldstart.AWSConfig(ctx)
	if err != nil {
		return nil, err
	}
	jwks, err := token.JWKS(keys)
	if err != nil {
		return nil, err
	}
	st := store.New(dynamodb.NewFromConfig(cfg), table)
	m := metrics.New(os.Stdout, "users")
	svc := app.New(app.Config{
		Accounts: st,
		Sessions: st,
		Attempts: st,
		Issuer:   token.NewIssuer(kmskeys.SignerFor(kms.NewFromConfig(cfg), signingKey, kid), issuer, audience, ttl, nil),
		Metrics:  m,
		Log:      log,
		NewID:    func() string { return ulid.Make().String() },
	})
	return api.NewHandler(log, api.Config{
		Service:  svc,
		Verifier: token.NewVerifier(keys, issuer, audience, nil),
		JWKS:     jwks,
		Version:  coldstart.Version,
		Metrics:  m,
	}), nil
}

// *store.Store serves every store interface the use cases declare. The
// wiring above needs that too; stating it apart keeps the contract when the
// wiring changes (a cache in front of one store, say).
var (
	_ app.Accounts      = (*store.Store)(nil)
	_ app.Sessions      = (*store.Store)(nil)
	_ app.LoginAttempts = (*store.Store)(nil)
)
