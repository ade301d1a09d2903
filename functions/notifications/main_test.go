package main

import (
	"context"
	"log/slog"
	"maps"
	"strings"
	"testing"

	"github.com/serverless-shop/backend/shared/coldstart"
)

// validEnv is a complete configuration; build makes no AWS call with it.
func validEnv() map[string]string {
	return map[string]string{
		"NOTIFICATIONS_TABLE":   "notifications",
		"EVENTS_QUEUE_URL":      "https://sqs.eu-west-1.amazonaws.com/123456789012/events.fifo",
		"EVENTS_DLQ_URL":        "https://sqs.eu-west-1.amazonaws.com/123456789012/events-dlq.fifo",
		"SENDER_EMAIL":          "orders@example.com",
		"SES_CONFIGURATION_SET": "shop",
		"APP_BASE_URL":          "https://shop.example.com/",
		"LINK_KEY_ID":           "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
		"MAIL_MAX_SEND_RATE":    "14",
		"MAIL_CONCURRENCY":      "3",
	}
}

func TestBuildConfiguration(t *testing.T) {
	// The SDK reads its region from here; keep the developer's out.
	t.Setenv("AWS_REGION", "eu-west-1")
	tests := []struct {
		name    string
		edit    map[string]string // "" unsets a variable
		wantErr []string          // what the error must mention; none when build must succeed
	}{
		{"complete", nil, nil},
		{"no configuration set (the template's on LocalStack)", map[string]string{"SES_CONFIGURATION_SET": ""}, nil},
		{"link settings missing", map[string]string{"APP_BASE_URL": "", "LINK_KEY_ID": ""}, []string{"APP_BASE_URL is not set", "LINK_KEY_ID is not set"}},
		{"pacing settings missing", map[string]string{"MAIL_MAX_SEND_RATE": "", "MAIL_CONCURRENCY": ""}, []string{"MAIL_MAX_SEND_RATE is not set", "MAIL_CONCURRENCY is not set"}},
		{"concurrency not positive", map[string]string{"MAIL_CONCURRENCY": "0"}, []string{`MAIL_CONCURRENCY="0" is not a positive integer`}},
		// The SES sandbox's rate of 1 over 2 environments:
		{"no whole send a second per environment", map[string]string{"MAIL_MAX_SEND_RATE": "1", "MAIL_CONCURRENCY": "2"}, []string{"MAIL_MAX_SEND_RATE, MAIL_CONCURRENCY", "leaves each no whole send a second"}},
		// Logged, not refused: the operator may mean it.
		{"concurrency other than the derived one", map[string]string{"MAIL_CONCURRENCY": "7"}, nil},
		// mail's TestBaseURL has BaseURL's rules; one refusal shows that build names the variable.
		{"relative base", map[string]string{"APP_BASE_URL": "shop.example.com"}, []string{"APP_BASE_URL", "scheme"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vars := validEnv()
			maps.Copy(vars, tc.edit)
			env := coldstart.NewEnv(func(k string) string { return vars[k] })
			h, err := build(context.Background(), env, slog.New(slog.DiscardHandler))
			if (err == nil) != (len(tc.wantErr) == 0) || err == nil && h == nil {
				t.Fatalf("build = %v, %v; want an error mentioning %q, or a handler", h, err, tc.wantErr)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("build error %q does not mention %q", err, w)
				}
			}
		})
	}
}
