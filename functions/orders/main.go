// Command orders is the orders service: the product catalog and customers'
// orders, behind API Gateway, owning the orders table. Order events leave
// through the table (transactional outbox), never through a direct send.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/oklog/ulid/v2"

	"github.com/serverless-shop/backend/functions/orders/api"
	"github.com/serverless-shop/backend/functions/orders/app"
	"github.com/serverless-shop/backend/functions/orders/store"
	"github.com/serverless-shop/backend/shared/coldstart"
	"github.com/serverless-shop/backend/shared/httpapi"
	"github.com/serverless-shop/backend/shared/logging"
	"github.com/serverless-shop/backend/shared/metrics"
	"github.com/serverless-shop/backend/shared/token"
)

func main() {
	log := logging.New(os.Stdout, "orders")
	h, err := build(context.Background(), os.Getenv, log)
	if err != nil {
		log.Error("cold start failed", slog.String(logging.KeyError, err.Error()))
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}

// build wires the service from the environment: ORDERS_TABLE,
// CURSOR_SECRET_ARN (the Secrets Manager secret that keys pagination
// cursors), and TOKEN_JWKS, TOKEN_ISSUER, TOKEN_AUDIENCE to verify callers.
func build(ctx context.Context, getenv func(string) string, log *slog.Logger) (*httpapi.Router, error) {
	env := coldstart.NewEnv(getenv)
	table := env.String("ORDERS_TABLE")
	secretARN := env.String("CURSOR_SECRET_ARN")
	keys := env.PublicKeys("TOKEN_JWKS")
	issuer := env.String("TOKEN_ISSUER")
	audience := env.String("TOKEN_AUDIENCE")
	if err := env.Err(); err != nil {
		return nil, err
	}
	cfg, err := coldstart.AWSConfig(ctx)
	if err != nil {
		return nil, err
	}
	secret, err := secretsmanager.NewFromConfig(cfg).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(secretARN)})
	if err != nil {
		return nil, fmt.Errorf("get cursor secret: %w", err)
	}
	m := metrics.New(os.Stdout, "orders")
	var st app.Store = store.New(dynamodb.NewFromConfig(cfg), table)
	return api.NewHandler(log, api.Config{
		Service: app.New(app.Config{
			Store:   st,
			Log:     log,
			Metrics: m,
			NewID:   func() string { return ulid.Make().String() },
		}),
		Verifier:  token.NewVerifier(keys, issuer, audience, nil),
		CursorKey: []byte(aws.ToString(secret.SecretString)),
		Metrics:   m,
	})
}
