// Command catalogseed is the orders service's CloudFormation custom
// resource that loads the seed product catalog into the orders table on
// every deploy.
package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/serverless-shop/backend/functions/orders/catalog"
	"github.com/serverless-shop/backend/functions/orders/store"
	"github.com/serverless-shop/backend/shared/awsretry"
	"github.com/serverless-shop/backend/shared/coldstart"
)

func main() { coldstart.Main("catalogseed", build) }

// build wires the custom resource from the environment: ORDERS_TABLE and
// STOCK_SHARDS (the orders function's, so that the seed's stock is spread
// as orders take it).
func build(ctx context.Context, env *coldstart.Env, log *slog.Logger) (any, error) {
	table, shards := env.String("ORDERS_TABLE"), env.Int("STOCK_SHARDS", 1)
	if err := env.Err(); err != nil {
		return nil, err
	}
	cfg, err := coldstart.AWSConfig(ctx)
	if err != nil {
		return nil, err
	}
	cfg = awsretry.Deploy.Apply(cfg) // see shared/awsretry
	return cfn.LambdaWrap(catalog.Handler(store.New(dynamodb.NewFromConfig(cfg), table).WithStockShards(shards).SeedProducts, log, time.Now)), nil
}
