package sesmail_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/serverless-shop/backend/functions/notifications/sesmail"
)

type answer struct {
	quota *ses.GetSendQuotaOutput
	err   error
}

func (f *fakeSES) GetSendQuota(ctx context.Context, _ *ses.GetSendQuotaInput, _ ...func(*ses.Options)) (*ses.GetSendQuotaOutput, error) {
	if _, ok := ctx.Deadline(); !ok {
		return nil, errors.New("read without a timeout")
	}
	a := f.answers[min(f.calls, len(f.answers)-1)]
	f.calls++
	if a.err != nil {
		return nil, a.err
	}
	return a.quota, nil
}

func sendQuota(max24, sent, rate float64) *ses.GetSendQuotaOutput {
	return &ses.GetSendQuotaOutput{Max24HourSend: max24, SentLast24Hours: sent, MaxSendRate: rate}
}

func TestUsedReadsEveryFiveMinutesAtMost(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	ses := &fakeSES{answers: []answer{
		{quota: sendQuota(50000, 40000, 14)},
		{err: errors.New("ThrottlingException: rate exceeded")},
		{quota: sendQuota(50000, 45000, 14)},
	}}
	var logs bytes.Buffer
	w := sesmail.NewWatcher(ses, 14, slog.New(slog.NewJSONHandler(&logs, nil)), func() time.Time { return now })
	ctx := context.Background()

	steps := []struct {
		after     time.Duration
		want      float64
		wantCalls int
	}{
		{0, 80, 1},               // the first call reads
		{time.Minute, 80, 1},     // cached
		{4 * time.Minute, 80, 2}, // 5 minutes on: read, fails, the last reading stays
		{4 * time.Minute, 80, 2}, // a failed read waits 5 minutes too
		{time.Minute, 90, 3},     // read again
	}
	for i, s := range steps {
		now = now.Add(s.after)
		got, ok := w.Used(ctx)
		if !ok || got != s.want || ses.calls != s.wantCalls {
			t.Fatalf("step %d: Used = %v, %v after %d reads; want %v after %d", i, got, ok, ses.calls, s.want, s.wantCalls)
		}
	}
	if !strings.Contains(logs.String(), "reading the SES sending quota failed") {
		t.Errorf("the failed read was not logged:\n%s", logs.String())
	}
}

// TestUsedReading: a reading of the quota, or none (a first read that
// fails, an unlimited quota), and the rate SES allows compared with the
// configured one in the log.
func TestUsedReading(t *testing.T) {
	t.Parallel()
	const above, below = "SesMaxSendRate is above the account's", "the account's SES maximum send rate is above SesMaxSendRate"
	tests := []struct {
		name       string
		answer     answer
		configured int
		want       float64 // -1 for no reading
		log        string
	}{
		{"first read fails", answer{err: errors.New("AccessDeniedException")}, 14, -1, ""},
		{"unlimited quota", answer{quota: sendQuota(-1, 1234, 14)}, 14, -1, ""},
		{"configured above the account", answer{quota: sendQuota(50000, 0, 14)}, 50, 0, above},
		{"account above the configured", answer{quota: sendQuota(50000, 0, 14)}, 10, 0, below},
		{"equal", answer{quota: sendQuota(50000, 500, 14)}, 14, 1, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			w := sesmail.NewWatcher(&fakeSES{answers: []answer{tc.answer}}, tc.configured, slog.New(slog.NewJSONHandler(&logs, nil)), time.Now)
			if got, ok := w.Used(context.Background()); ok != (tc.want >= 0) || ok && got != tc.want {
				t.Fatalf("Used = %v, %v; want %v (-1: no reading)", got, ok, tc.want)
			}
			for _, msg := range []string{above, below} {
				if has := strings.Contains(logs.String(), msg); has != (msg == tc.log) {
					t.Errorf("log has %q: %v\n%s", msg, has, logs.String())
				}
			}
		})
	}
}
