// Command catalogseed is a CloudFormation custom resource that loads the
// seed product catalog into the orders table on every deploy.
package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/serverless-shop/backend/functions/catalogseed/seed"
	"github.com/serverless-shop/backend/functions/orders/store"
	"github.com/serverless-shop/backend/shared/coldstart"
	"github.com/serverless-shop/backend/shared/logging"
)

func main() {
	log := logging.New(os.Stdout, "catalogseed")
	env := coldstart.NewEnv(nil)
	table := env.String("ORDERS_TABLE")
	if err := env.Err(); err != nil {
		log.Error("cold start failed", slog.String(logging.KeyError, err.Error()))
		os.Exit(1)
	}
	cfg, err := coldstart.AWSConfig(context.Background())
	if err != nil {
		log.Error("cold start failed", slog.String(logging.KeyError, err.Error()))
		os.Exit(1)
	}
	w := store.New(dynamodb.NewFromConfig(cfg), table)
	lambda.Start(cfn.LambdaWrap(seed.Handler(w, log, time.Now)))
}
