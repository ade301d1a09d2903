// Command notifications turns events from the queue into emails sent
// through Amazon SES, once per event: order events, and account events whose
// emails carry a link with a token only this function can open.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/oklog/ulid/v2"

	"github.com/serverless-shop/backend/functions/notifications/app"
	"github.com/serverless-shop/backend/functions/notifications/mail"
	"github.com/serverless-shop/backend/functions/notifications/pace"
	"github.com/serverless-shop/backend/functions/notifications/sesmail"
	"github.com/serverless-shop/backend/functions/notifications/store"
	"github.com/serverless-shop/backend/shared/awsretry"
	"github.com/serverless-shop/backend/shared/coldstart"
	"github.com/serverless-shop/backend/shared/metrics"
	"github.com/serverless-shop/backend/shared/sealed"
)

func main() { coldstart.Main("notifications", build) }

// build wires the service from the environment: NOTIFICATIONS_TABLE,
// EVENTS_QUEUE_URL, EVENTS_DLQ_URL, SENDER_EMAIL, SES_CONFIGURATION_SET
// (empty where SES has no configuration sets: the template's on LocalStack);
// APP_BASE_URL (the app whose pages the emailed links open) and LINK_KEY_ID
// (the symmetric KMS key the links' tokens are sealed with);
// MAIL_MAX_SEND_RATE (the account's SES sending rate, a second) and
// MAIL_CONCURRENCY (the most environments sharing it), whose quotient, the
// sends a second of this environment, must be at least 1.
func build(ctx context.Context, env *coldstart.Env, log *slog.Logger) (any, error) {
	cfg, err := coldstart.AWSConfig(ctx)
	if err != nil {
		return nil, err
	}
	cfg = awsretry.Queue.Apply(cfg) // see shared/awsretry
	// One SES client, without SDK retries: a failed quota read waits for
	// the next one anyway. The SES v1 API, which every place the product
	// runs serves (docs/decisions/0008-ses-api.md).
	mailer := ses.NewFromConfig(awsretry.Mail.Apply(cfg))
	rate := positive(env, "MAIL_MAX_SEND_RATE")
	concurrency := positive(env, "MAIL_CONCURRENCY")
	rawBaseURL := env.String("APP_BASE_URL")
	appCfg := app.Config{
		Dedupe:   store.New(dynamodb.NewFromConfig(cfg), env.String("NOTIFICATIONS_TABLE")),
		Sender:   sesmail.NewSender(mailer, env.String("SENDER_EMAIL"), env.Optional("SES_CONFIGURATION_SET")),
		Renderer: mail.NewRenderer(),
		Opener:   sealed.NewOpener(kms.NewFromConfig(cfg), env.String("LINK_KEY_ID")),
		Queue:    sqs.NewFromConfig(cfg),
		QueueURL: env.String("EVENTS_QUEUE_URL"),
		DLQURL:   env.String("EVENTS_DLQ_URL"),
		Metrics:  metrics.New(os.Stdout, "notifications"),
		Log:      log,
		NewID:    func() string { return ulid.Make().String() },
		Now:      time.Now,
		Quota:    sesmail.NewWatcher(mailer, rate, log, time.Now),
	}
	if err := env.Err(); err != nil {
		return nil, err
	}
	// Refused here, at cold start: a share below one send a second cannot
	// be paced, and unpaced mail would trip SES's rate.
	pacer, err := pace.New(rate, concurrency, pace.SystemClock{})
	if err != nil {
		return nil, fmt.Errorf("configuration: MAIL_MAX_SEND_RATE, MAIL_CONCURRENCY: %w", err)
	}
	if want := pace.Concurrency(rate); concurrency != want {
		log.WarnContext(ctx, "NotificationConcurrency is not the one derived from SesMaxSendRate (docs/operations.md, SES sending quota)",
			slog.Int("sesMaxSendRate", rate), slog.Int("notificationConcurrency", concurrency), slog.Int("derived", want))
	}
	// Checked here, at cold start, so a bad value fails the deployment
	// rather than dead-lettering every account email.
	baseURL, err := mail.BaseURL(rawBaseURL)
	if err != nil {
		return nil, fmt.Errorf("configuration: APP_BASE_URL: %w", err)
	}
	appCfg.Pacer, appCfg.AppBaseURL = pacer, baseURL
	return app.New(appCfg).Handle, nil
}

// positive reads a required variable holding a positive integer.
func positive(env *coldstart.Env, name string) int {
	if env.String(name) == "" {
		return 0
	}
	return env.Int(name, 0)
}
