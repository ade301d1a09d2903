// Command reviews is the throwaway service of docs/extending.md's checklist.
package main

import (
	"context"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/serverless-shop/backend/functions/reviews/api"
	"github.com/serverless-shop/backend/functions/reviews/store"
	"github.com/serverless-shop/backend/shared/awsretry"
	"github.com/serverless-shop/backend/shared/coldstart"
	"github.com/serverless-shop/backend/shared/revocation"
	"github.com/serverless-shop/backend/shared/token"
	"github.com/serverless-shop/backend/shared/web"
)

func main() { coldstart.Main("reviews", build) }

// build wires the service from REVIEWS_TABLE, the token settings and the
// revocations table.
func build(ctx context.Context, env *coldstart.Env, log *slog.Logger) (any, error) {
	table := env.String("REVIEWS_TABLE")
	tokens := token.ConfigFrom(env)
	revocations := revocation.ConfigFrom(env)
	if err := env.Err(); err != nil {
		return nil, err
	}
	cfg, err := coldstart.AWSConfig(ctx)
	if err != nil {
		return nil, err
	}
	db := dynamodb.NewFromConfig(awsretry.API.Apply(cfg))
	return web.Lambda(api.NewHandler(log, api.Config{
		Reviews:     store.New(db, table),
		Verifier:    tokens.Verifier(),
		Revocations: revocations.Checker(db, log),
	})), nil
}
