package main

import (
	"context"
	"io"
	"log/slog"
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
		edit    func(env map[string]string)
		wantErr []string // what the error must mention; none when build must succeed
	}{
		{name: "complete", edit: func(map[string]string) {}},
		{name: "http base for a local app", edit: func(env map[string]string) { env["APP_BASE_URL"] = "http://localhost:3000" }},
		{
			name:    "link settings missing",
			edit:    func(env map[string]string) { delete(env, "APP_BASE_URL"); delete(env, "LINK_KEY_ID") },
			wantErr: []string{"APP_BASE_URL is not set", "LINK_KEY_ID is not set"},
		},
		{
			name: "pacing settings missing",
			edit: func(env map[string]string) {
				delete(env, "MAIL_MAX_SEND_RATE")
				delete(env, "MAIL_CONCURRENCY")
			},
			wantErr: []string{"MAIL_MAX_SEND_RATE is not set", "MAIL_CONCURRENCY is not set"},
		},
		{
			name:    "rate not a whole number",
			edit:    func(env map[string]string) { env["MAIL_MAX_SEND_RATE"] = "14.5" },
			wantErr: []string{`MAIL_MAX_SEND_RATE="14.5" is not a positive integer`},
		},
		{
			name:    "concurrency not positive",
			edit:    func(env map[string]string) { env["MAIL_CONCURRENCY"] = "0" },
			wantErr: []string{`MAIL_CONCURRENCY="0" is not a positive integer`},
		},
		{
			name: "no whole send a second per environment",
			edit: func(env map[string]string) {
				env["MAIL_MAX_SEND_RATE"] = "1" // the SES sandbox
				env["MAIL_CONCURRENCY"] = "2"
			},
			wantErr: []string{"MAIL_MAX_SEND_RATE, MAIL_CONCURRENCY", "leaves each no whole send a second"},
		},
		{
			// Logged, not refused: the operator may mean it.
			name: "concurrency other than the derived one",
			edit: func(env map[string]string) { env["MAIL_CONCURRENCY"] = "7" },
		},
		{
			name:    "relative base",
			edit:    func(env map[string]string) { env["APP_BASE_URL"] = "shop.example.com" },
			wantErr: []string{"APP_BASE_URL", "scheme"},
		},
		{
			name:    "base with a query",
			edit:    func(env map[string]string) { env["APP_BASE_URL"] = "https://shop.example.com/?ref=mail" },
			wantErr: []string{"APP_BASE_URL", "query"},
		},
		{
			name:    "base with a fragment",
			edit:    func(env map[string]string) { env["APP_BASE_URL"] = "https://shop.example.com/#/app" },
			wantErr: []string{"APP_BASE_URL", "fragment"},
		},
		{
			name:    "base without a host",
			edit:    func(env map[string]string) { env["APP_BASE_URL"] = "https:///verify" },
			wantErr: []string{"APP_BASE_URL", "no host"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vars := validEnv()
			tc.edit(vars)
			env := coldstart.NewEnv(func(k string) string { return vars[k] })
			h, err := build(context.Background(), env, slog.New(slog.NewJSONHandler(io.Discard, nil)))
			if len(tc.wantErr) == 0 {
				if err != nil || h == nil {
					t.Fatalf("build = %v, %v; want a handler", h, err)
				}
				return
			}
			if err == nil {
				t.Fatal("build succeeded, want an error")
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("build error %q does not mention %q", err, w)
				}
			}
		})
	}
}
