package account_test

import (
	"testing"
	"time"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/shared/problem"
)

func TestThrottleTake(t *testing.T) {
	th := account.Throttle{Free: 3, Base: time.Second, Max: 10 * time.Second, Forget: time.Hour}
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	var b account.Bucket
	// The free attempts, at once.
	for i := range 3 {
		var err error
		if b, err = th.Take(b, now); err != nil || b.Attempts != i+1 || !b.NextAt.IsZero() {
			t.Fatalf("free attempt %d: %+v, %v", i+1, b, err)
		}
	}
	// Then waits of 1, 2, 4, 8 and at most 10 seconds.
	for i, wait := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second} {
		var err error
		if b, err = th.Take(b, now); err != nil {
			t.Fatalf("attempt %d: %v", 4+i, err)
		}
		if !b.NextAt.Equal(now.Add(wait)) {
			t.Fatalf("after attempt %d: next at %v, want %v later", 4+i, b.NextAt, wait)
		}
		if _, err := th.Take(b, now.Add(wait-time.Millisecond)); retryAfter(err) != time.Second {
			t.Fatalf("attempt %d too early: %v", 5+i, err)
		}
		if _, err := th.Take(b, now.Add(wait/2-time.Second)); err != nil && retryAfter(err) < time.Second {
			t.Fatalf("Retry-After below a second: %v", err)
		}
		now = now.Add(wait)
	}
}

// TestThrottleCheck: an address's failures past the free ones wait for
// the one before, 1, 2, 4 seconds and so on, as Take counts them; none,
// or the free ones, never wait.
func TestThrottleCheck(t *testing.T) {
	th := account.Throttle{Free: 3, Base: time.Second, Max: 10 * time.Second, Forget: time.Hour}
	last := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		count int
		wait  time.Duration
	}{{0, 0}, {3, 0}, {4, time.Second}, {6, 4 * time.Second}, {40, 10 * time.Second}} {
		f := account.Failures{Count: tt.count, Last: last}
		if err := th.Check(f, last.Add(tt.wait)); err != nil {
			t.Errorf("%d failures, %v after the last: %v", tt.count, tt.wait, err)
		}
		if err := th.Check(f, last.Add(tt.wait-time.Second)); (tt.wait == 0) != (err == nil) || err != nil && retryAfter(err) != time.Second {
			t.Errorf("%d failures, a second early: %v", tt.count, err)
		}
	}
}

// TestLoginStateTake: an attempt counts against the device's bucket, with
// its throttle, for a device of the account, else against the account's.
func TestLoginStateTake(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	acct := account.Bucket{Attempts: 7}
	dev := &account.Device{Hash: "h", Bucket: account.Bucket{Attempts: 1}}
	got, err := (account.LoginState{Account: acct}).Take("ada@example.com", now)
	want, wantErr := account.AccountThrottle.Take(acct, now)
	if got != (account.AttemptTake{Email: "ada@example.com", GuardWas: acct, Guard: want, GuardForget: now.Add(account.AccountThrottle.Forget)}) || (err == nil) != (wantErr == nil) {
		t.Errorf("without a device: %+v, %v", got, err)
	}
	got, err = (account.LoginState{Account: acct, Device: dev}).Take("ada@example.com", now)
	want, _ = account.DeviceThrottle.Take(dev.Bucket, now)
	if got != (account.AttemptTake{Email: "ada@example.com", Device: "h", GuardWas: dev.Bucket, Guard: want, GuardForget: now.Add(account.DeviceThrottle.Forget)}) || err != nil {
		t.Errorf("with a device: %+v, %v", got, err)
	}
}

func TestDeviceCounts(t *testing.T) {
	tests := []struct {
		name   string
		device account.Device
		epoch  int64
		want   bool
	}{
		{"new", account.Device{Epoch: 2}, 2, true},
		{"a typo short of its attempts", account.Device{Epoch: 2, Bucket: account.Bucket{Attempts: account.DeviceAttempts - 1}}, 2, true},
		{"attempts spent", account.Device{Epoch: 2, Bucket: account.Bucket{Attempts: account.DeviceAttempts}}, 2, false},
		{"issued before a reset or change", account.Device{Epoch: 1}, 2, false},
		{"of a later epoch (cannot happen)", account.Device{Epoch: 3}, 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.device.Counts(tt.epoch); got != tt.want {
				t.Errorf("Counts(%d) = %v, want %v", tt.epoch, got, tt.want)
			}
		})
	}
}

// retryAfter is the Retry-After of a Limited error; 0 for any other.
func retryAfter(err error) time.Duration {
	if p := problem.Of(err, problem.TooManyRequests); p != nil {
		return p.RetryAfter
	}
	return 0
}
