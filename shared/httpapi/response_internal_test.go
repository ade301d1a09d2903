package httpapi

import "testing"

func TestRetryAfterSeconds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		seconds float64
		want    string
	}{
		{name: "whole", seconds: 30, want: "30"},
		{name: "half rounds up", seconds: 1.5, want: "2"},
		{name: "a microsecond over rounds up", seconds: 1.000001, want: "2"},
		{name: "just under rounds up", seconds: 4.9999, want: "5"},
		{name: "under one second", seconds: 0.2, want: "1"},
		{name: "zero is at least one", seconds: 0, want: "1"},
		{name: "negative is at least one", seconds: -3, want: "1"},
		{name: "an hour", seconds: 3600, want: "3600"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := retryAfterSeconds(tc.seconds); got != tc.want {
				t.Errorf("retryAfterSeconds(%v) = %q, want %q", tc.seconds, got, tc.want)
			}
		})
	}
}
