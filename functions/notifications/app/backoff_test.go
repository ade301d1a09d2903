package app_test

import (
	"testing"
	"time"

	"github.com/serverless-shop/backend/functions/notifications/app"
)

func TestBackoff(t *testing.T) {
	tests := []struct {
		name     string
		receives int
		jitter   float64
		want     time.Duration
	}{
		{name: "negative receives count as first", receives: -3, want: 5 * time.Second},
		{name: "zero receives (attribute missing)", receives: 0, want: 5 * time.Second},
		{name: "first receive", receives: 1, want: 5 * time.Second},
		{name: "second receive doubles", receives: 2, want: 10 * time.Second},
		{name: "third receive", receives: 3, want: 20 * time.Second},
		{name: "fourth receive", receives: 4, want: 40 * time.Second},
		{name: "eighth receive", receives: 8, want: 640 * time.Second},
		{name: "ninth receive capped", receives: 9, want: 15 * time.Minute},
		{name: "many receives capped", receives: 1000, want: 15 * time.Minute},
		{name: "half jitter rounds half up", receives: 1, jitter: 0.5, want: 6 * time.Second},     // 5.5s
		{name: "jitter rounds to whole seconds", receives: 1, jitter: 0.3, want: 5 * time.Second}, // 5.3s
		{name: "full jitter adds 20%", receives: 1, jitter: 0.999999, want: 6 * time.Second},
		{name: "full jitter on third receive", receives: 3, jitter: 0.999999, want: 24 * time.Second},
		{name: "full jitter below the cap", receives: 8, jitter: 0.999999, want: 768 * time.Second},
		{name: "jitter never passes the cap", receives: 9, jitter: 0.999999, want: 15 * time.Minute},
		{name: "out-of-range jitter still capped", receives: 1000, jitter: 5, want: 15 * time.Minute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := app.Backoff(tc.receives, tc.jitter); got != tc.want {
				t.Errorf("Backoff(%d, %v) = %v, want %v", tc.receives, tc.jitter, got, tc.want)
			}
		})
	}
}

func TestBackoffBounds(t *testing.T) {
	tests := []struct {
		name   string
		jitter float64
	}{
		{name: "no jitter", jitter: 0},
		{name: "quarter jitter", jitter: 0.25},
		{name: "half jitter", jitter: 0.5},
		{name: "most jitter", jitter: 0.75},
		{name: "full jitter", jitter: 0.9999999},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			prev := time.Duration(0)
			for receives := 0; receives <= 64; receives++ {
				base := app.Backoff(receives, 0)
				got := app.Backoff(receives, tc.jitter)
				if got < base {
					t.Errorf("Backoff(%d, %v) = %v, below the unjittered %v", receives, tc.jitter, got, base)
				}
				if limit := base + base/5; got > limit {
					t.Errorf("Backoff(%d, %v) = %v, more than 20%% over %v", receives, tc.jitter, got, base)
				}
				if got > app.BackoffMax {
					t.Errorf("Backoff(%d, %v) = %v, over BackoffMax %v", receives, tc.jitter, got, app.BackoffMax)
				}
				if got < app.BackoffBase {
					t.Errorf("Backoff(%d, %v) = %v, under BackoffBase %v", receives, tc.jitter, got, app.BackoffBase)
				}
				if got%time.Second != 0 {
					t.Errorf("Backoff(%d, %v) = %v, not whole seconds (SQS takes seconds)", receives, tc.jitter, got)
				}
				if got < prev {
					t.Errorf("Backoff(%d, %v) = %v, shorter than for one receive fewer (%v)", receives, tc.jitter, got, prev)
				}
				prev = got
			}
		})
	}
}
