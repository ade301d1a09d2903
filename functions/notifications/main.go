// Command notifications turns events from the queue into emails sent
// through Amazon SES, once per event: order events, and account events whose
// emails carry a link with a token only this function can open.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/oklog/ulid/v2"

	"github.com/serverless-shop/backend/functions/notifications/dedupe"
	"github.com/serverless-shop/backend/functions/notifications/mail"
	"github.com/serverless-shop/backend/functions/notifications/notify"
	"github.com/serverless-shop/backend/functions/notifications/sender"
	"github.com/serverless-shop/backend/shared/awsretry"
	"github.com/serverless-shop/backend/shared/coldstart"
	"github.com/serverless-shop/backend/shared/metrics"
	"github.com/serverless-shop/backend/shared/sealed"
)

func main() { coldstart.Main("notifications", build) }

// build wires the service from the environment: NOTIFICATIONS_TABLE,
// EVENTS_QUEUE_URL, EVENTS_DLQ_URL, SENDER_EMAIL, SES_CONFIGURATION_SET;
// APP_BASE_URL (the app whose pages the emailed links open) and LINK_KEY_ID
// (the symmetric KMS key the links' tokens are sealed with).
func build(ctx context.Context, env *coldstart.Env, log *slog.Logger) (any, error) {
	table := env.String("NOTIFICATIONS_TABLE")
	queueURL := env.String("EVENTS_QUEUE_URL")
	dlqURL := env.String("EVENTS_DLQ_URL")
	from := env.String("SENDER_EMAIL")
	configSet := env.String("SES_CONFIGURATION_SET")
	rawBaseURL := env.String("APP_BASE_URL")
	linkKey := env.String("LINK_KEY_ID")
	if err := env.Err(); err != nil {
		return nil, err
	}
	// Checked here, at cold start, so a bad value fails the deployment
	// rather than dead-lettering every account email.
	baseURL, err := mail.BaseURL(rawBaseURL)
	if err != nil {
		return nil, fmt.Errorf("configuration: APP_BASE_URL: %w", err)
	}
	renderer, err := mail.NewRenderer()
	if err != nil {
		return nil, err
	}
	cfg, err := coldstart.AWSConfig(ctx)
	if err != nil {
		return nil, err
	}
	cfg = awsretry.Queue.Apply(cfg) // see shared/awsretry
	return notify.New(notify.Config{
		Dedupe:     dedupe.New(dynamodb.NewFromConfig(cfg), table),
		Sender:     sender.New(sesv2.NewFromConfig(awsretry.Mail.Apply(cfg)), from, configSet),
		Renderer:   renderer,
		Opener:     sealed.NewOpener(kms.NewFromConfig(cfg), linkKey),
		AppBaseURL: baseURL,
		Queue:      sqs.NewFromConfig(cfg),
		QueueURL:   queueURL,
		DLQURL:     dlqURL,
		Metrics:    metrics.New(os.Stdout, "notifications"),
		Log:        log,
		NewID:      func() string { return ulid.Make().String() },
	}).Handle, nil
}
