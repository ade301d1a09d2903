// Command relay moves the events the orders and users tables announce
// (through their DynamoDB streams) to the events queue: order items that
// carry their event, and outbox items (see functions/relay/publisher).
package main

import (
	"context"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/serverless-shop/backend/functions/relay/publisher"
	"github.com/serverless-shop/backend/shared/awsretry"
	"github.com/serverless-shop/backend/shared/coldstart"
)

func main() { coldstart.Main("relay", build) }

// build wires the relay from the environment: EVENTS_QUEUE_URL and
// RELAY_DLQ_URL (where records the queue refuses for good go).
func build(ctx context.Context, env *coldstart.Env, log *slog.Logger) (any, error) {
	queueURL := env.String("EVENTS_QUEUE_URL")
	dlqURL := env.String("RELAY_DLQ_URL")
	if err := env.Err(); err != nil {
		return nil, err
	}
	cfg, err := coldstart.AWSConfig(ctx)
	if err != nil {
		return nil, err
	}
	cfg = awsretry.Relay.Apply(cfg) // see shared/awsretry
	return publisher.New(sqs.NewFromConfig(cfg), queueURL, dlqURL, log).Handle, nil
}
