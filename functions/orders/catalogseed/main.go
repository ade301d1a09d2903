// Command catalogseed is the orders service's CloudFormation custom
// resource that loads the seed product catalog into the orders table on
// every deploy.
package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/serverless-shop/backend/functions/orders/catalog"
	"github.com/serverless-shop/backend/functions/orders/store"
	"github.com/serverless-shop/backend/shared/coldstart"
	"github.com/serverless-shop/backend/shared/logging"
)

func main() {
	log := logging.New(os.Stdout, "catalogseed")
	h, err := build(context.Background(), os.Getenv, log)
	if err != nil {
		log.Error("cold start failed", slog.String(logging.KeyError, err.Error()))
		os.Exit(1)
	}
	lambda.Start(cfn.LambdaWrap(h))
}

// build wires the custom resource from the environment: ORDERS_TABLE.
func build(ctx context.Context, getenv func(string) string, log *slog.Logger) (cfn.CustomResourceFunction, error) {
	env := coldstart.NewEnv(getenv)
	table := env.String("ORDERS_TABLE")
	if err := env.Err(); err != nil {
		return nil, err
	}
	cfg, err := coldstart.AWSConfig(ctx)
	if err != nil {
		return nil, err
	}
	return catalog.Handler(store.New(dynamodb.NewFromConfig(cfg), table), log, time.Now), nil
}
