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

// build wires the custom resource from the environment: ORDERS_TABLE.
func build(ctx context.Context, env *coldstart.Env, log *slog.Logger) (any, error) {
	table := env.String("ORDERS_TABLE")
	if err := env.Err(); err != nil {
		return nil, err
	}
	cfg, err := coldstart.AWSConfig(ctx)
	if err != nil {
		return nil, err
	}
	cfg = awsretry.Deploy.Apply(cfg) // see shared/awsretry
	return cfn.LambdaWrap(catalog.Handler(store.New(dynamodb.NewFromConfig(cfg), table), log, time.Now)), nil
}
