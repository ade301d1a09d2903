// Command relay moves order events from the orders table's outbox (through
// its DynamoDB stream) to the order events queue.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/serverless-shop/backend/functions/relay/publisher"
	"github.com/serverless-shop/backend/shared/coldstart"
	"github.com/serverless-shop/backend/shared/logging"
)

func main() {
	log := logging.New(os.Stdout, "relay")
	r, err := build(context.Background(), os.Getenv, log)
	if err != nil {
		log.Error("cold start failed", slog.String(logging.KeyError, err.Error()))
		os.Exit(1)
	}
	lambda.Start(r.Handle)
}

// build wires the relay from the environment: EVENTS_QUEUE_URL.
func build(ctx context.Context, getenv func(string) string, log *slog.Logger) (*publisher.Relay, error) {
	env := coldstart.NewEnv(getenv)
	queueURL := env.String("EVENTS_QUEUE_URL")
	if err := env.Err(); err != nil {
		return nil, err
	}
	cfg, err := coldstart.AWSConfig(ctx)
	if err != nil {
		return nil, err
	}
	return publisher.New(sqs.NewFromConfig(cfg), queueURL, log), nil
}
