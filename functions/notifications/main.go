// Command notifications turns order events from the queue into emails sent
// through Amazon SES, once per event.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/oklog/ulid/v2"

	"github.com/serverless-shop/backend/functions/notifications/dedupe"
	"github.com/serverless-shop/backend/functions/notifications/mail"
	"github.com/serverless-shop/backend/functions/notifications/notify"
	"github.com/serverless-shop/backend/functions/notifications/sender"
	"github.com/serverless-shop/backend/shared/coldstart"
	"github.com/serverless-shop/backend/shared/metrics"
)

func main() { coldstart.Main("notifications", build) }

// build wires the service from the environment: NOTIFICATIONS_TABLE,
// EVENTS_QUEUE_URL, EVENTS_DLQ_URL, SENDER_EMAIL and SES_CONFIGURATION_SET.
func build(ctx context.Context, env *coldstart.Env, log *slog.Logger) (any, error) {
	table := env.String("NOTIFICATIONS_TABLE")
	queueURL := env.String("EVENTS_QUEUE_URL")
	dlqURL := env.String("EVENTS_DLQ_URL")
	from := env.String("SENDER_EMAIL")
	configSet := env.String("SES_CONFIGURATION_SET")
	if err := env.Err(); err != nil {
		return nil, err
	}
	renderer, err := mail.NewRenderer()
	if err != nil {
		return nil, err
	}
	cfg, err := coldstart.AWSConfig(ctx)
	if err != nil {
		return nil, err
	}
	return notify.New(notify.Config{
		Dedupe:   dedupe.New(dynamodb.NewFromConfig(cfg), table),
		Sender:   sender.New(sesv2.NewFromConfig(cfg), from, configSet),
		Renderer: renderer,
		Queue:    sqs.NewFromConfig(cfg),
		QueueURL: queueURL,
		DLQURL:   dlqURL,
		Metrics:  metrics.New(os.Stdout, "notifications"),
		Log:      log,
		NewID:    func() string { return ulid.Make().String() },
	}).Handle, nil
}
