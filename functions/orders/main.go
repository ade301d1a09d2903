// Command orders is the orders service: the product catalog and customers'
// orders, behind API Gateway, owning the orders table. Order events leave
// through the table (transactional outbox), never through a direct send.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/oklog/ulid/v2"

	"github.com/serverless-shop/backend/functions/orders/api"
	"github.com/serverless-shop/backend/functions/orders/app"
	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/functions/orders/store"
	"github.com/serverless-shop/backend/shared/awsretry"
	"github.com/serverless-shop/backend/shared/coldstart"
	"github.com/serverless-shop/backend/shared/metrics"
	"github.com/serverless-shop/backend/shared/revocation"
	"github.com/serverless-shop/backend/shared/token"
	"github.com/serverless-shop/backend/shared/web"
)

func main() { coldstart.Main("orders", build) }

// build wires the service from the environment: ORDERS_TABLE,
// CURSOR_SECRET_ARN (the Secrets Manager secret that keys pagination
// cursors, read on the first GET /v1/orders: a cold start makes no network
// call), TOKEN_JWKS, TOKEN_ISSUER, TOKEN_AUDIENCE to verify callers, and
// REVOCATIONS_TABLE and REVOCATION_REFRESH to refuse revoked tokens, and
// ORDERS_PER_HOUR, each customer's quota, and CATALOG_FRESH, how long the
// function uses its copy of the catalog (a duration, 5m when unset), and
// STOCK_SHARDS, the items each product's stock is split over (1 when unset).
func build(ctx context.Context, env *coldstart.Env, log *slog.Logger) (any, error) {
	table := env.String("ORDERS_TABLE")
	secretARN := env.String("CURSOR_SECRET_ARN")
	tokens := token.ConfigFrom(env)
	revocations := revocation.ConfigFrom(env)
	stockShards := env.Int("STOCK_SHARDS", 1)
	uses := app.Config{Log: log, NewID: func() string { return ulid.Make().String() },
		OrdersPerHour: env.Int("ORDERS_PER_HOUR", order.DefaultOrdersPerHour), CatalogFresh: env.Duration("CATALOG_FRESH", app.CatalogFresh)}
	if err := env.Err(); err != nil {
		return nil, err
	}
	cfg, err := coldstart.AWSConfig(ctx)
	if err != nil {
		return nil, err
	}
	cfg = awsretry.API.Apply(cfg) // see shared/awsretry
	secrets := secretsmanager.NewFromConfig(cfg)
	m := metrics.New(os.Stdout, "orders")
	db := dynamodb.NewFromConfig(cfg)
	uses.Store, uses.Metrics = store.New(db, table).WithStockShards(stockShards), m
	return web.Lambda(api.NewHandler(log, api.Config{
		Service:     app.New(uses),
		Verifier:    tokens.Verifier(),
		Revocations: revocations.Checker(db, log),
		// Only GET /v1/orders needs the key: read it then, not at cold start.
		LoadCursorKey: func(ctx context.Context) ([]byte, error) {
			secret, err := secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(secretARN)})
			if err != nil {
				return nil, fmt.Errorf("get cursor secret: %w", err)
			}
			return []byte(aws.ToString(secret.SecretString)), nil
		},
		Metrics: m,
	})), nil
}
