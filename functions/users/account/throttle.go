package account

import (
	"strings"
	"time"
)

// Throttle slows password guessing down without locking anyone out: a
// bucket allows Free attempts, then each attempt must wait for the one
// before it, Base at first and twice as long each time, at most Max. A
// bucket left alone for Forget starts over. (docs/decisions/0005.)
type Throttle struct {
	Free   int
	Base   time.Duration
	Max    time.Duration
	Forget time.Duration
}

// The throttles of login. An account's bucket counts the attempts of every
// client that cannot show a device token of the account; a device's bucket
// those of its owner's device, which an attack on the account does not slow
// down; a source address's the failed logins from that address without a
// device token of the account (and its attempts an account's bucket made
// wait), so that one address trying many accounts, or polling one, is
// slowed down too. The address's free failures are sized for a thousand people behind
// one address, some of whom mistype their password.
//
// A device's bucket is a budget, not a throttle: it has DeviceAttempts
// free attempts, is never forgotten while the token lives, and a device
// that spent them no longer counts as one (Device.Counts). The login that
// succeeds replaces the token, so only failures spend it: a stolen device
// token is a few guesses, not a private bucket for 90 days.
var (
	AccountThrottle = Throttle{Free: 5, Base: time.Second, Max: 15 * time.Minute, Forget: 24 * time.Hour}
	DeviceThrottle  = Throttle{Free: DeviceAttempts, Base: time.Second, Max: 15 * time.Minute, Forget: DeviceTTL}
	SourceThrottle  = Throttle{Free: 300, Base: time.Second, Max: 15 * time.Minute, Forget: time.Hour}
)

// DeviceAttempts is how many logins may present one device token: the
// owner's typos; past them the token counts as none.
const DeviceAttempts = 5

// Bucket is the attempts counted against one account, device or address.
type Bucket struct {
	Attempts int       // counted since the bucket was last cleared
	NextAt   time.Time // no attempt before this
}

// Take counts one more attempt at now and returns the bucket after it, or
// a Limited error saying how long to wait. An attempt is taken before the
// password is checked, so that attempts sent at once are counted one by
// one rather than all checked against the same count.
func (t Throttle) Take(b Bucket, now time.Time) (Bucket, error) {
	if now.Before(b.NextAt) {
		return b, Limited(b.NextAt.Sub(now))
	}
	next := Bucket{Attempts: b.Attempts + 1}
	// Past the free attempts, the wait is Base, doubled for each one more,
	// at most Max.
	if beyond := next.Attempts - t.Free; beyond > 0 {
		wait := t.Base
		for i := 1; i < beyond && wait < t.Max; i++ {
			wait *= 2
		}
		next.NextAt = now.Add(min(wait, t.Max))
	}
	return next, nil
}

// Failures are the failed logins counted against one client address: how
// many since the bucket last started over, and when the last one was.
// Only failures count, after the password check, each with one atomic
// increment: the people behind one address (an office, a carrier's NAT)
// never contend for it with their successful logins.
type Failures struct {
	Count int
	Last  time.Time
}

// Check returns a Limited error while an address with failures f must
// wait: past the Free failures, each must wait for the one before it, as
// Take counts them.
func (t Throttle) Check(f Failures, now time.Time) error {
	last, _ := t.Take(Bucket{Attempts: f.Count - 1}, f.Last) // the bucket the last failure left
	_, err := t.Take(last, now)
	return err
}

// DeviceToken is the token a login, or a proof of the mailbox, hands out
// to the device it came from: presented at the next login, it shows the
// device has proved the account before, and its attempts are counted
// against the device instead of the account (OWASP's device cookies).
// Only its hash is stored.
type DeviceToken struct{ Raw string }

// DeviceTTL is how long a device token works after the login that issued it.
const DeviceTTL = 90 * 24 * time.Hour

// NewDeviceToken makes a token of 256 random bits.
func NewDeviceToken() DeviceToken { return DeviceToken{Raw: "dv1." + random(32)} }

// ParseDeviceToken checks the shape of a presented token; ok is false for
// anything else (which a login then treats as no token at all).
func ParseDeviceToken(raw string) (DeviceToken, bool) {
	if secret, ok := strings.CutPrefix(raw, "dv1."); !ok || !b64(secret, 43) {
		return DeviceToken{}, false
	}
	return DeviceToken{Raw: raw}, true
}

// Hash is the SHA-256 of the raw token, hex encoded: what the store keeps.
func (t DeviceToken) Hash() string { return hash(t.Raw) }

// Device is a device that logged in to an account (or proved its
// mailbox), and its own bucket.
type Device struct {
	Hash   string
	Epoch  int64 // the account's session epoch when the token was issued
	Bucket Bucket
}

// Counts reports whether d still stands for its owner's device on an
// account whose session epoch is epoch: issued in that epoch (a password
// reset or change raises it, which ends the devices with the sessions)
// and with attempts left (DeviceAttempts).
func (d Device) Counts(epoch int64) bool {
	return d.Epoch == epoch && d.Bucket.Attempts < DeviceThrottle.Free
}

// DeviceGrant is a device token handed to the client that just proved it
// holds the account, by a login or by the mailbox (email verification, a
// password reset): the store keeps its hash with the account's email, id
// and session epoch, for DeviceTTL.
type DeviceGrant struct {
	Token  DeviceToken
	Email  string
	UserID string // an email can change hands (a registration cancelled and made again), a device cannot
	Epoch  int64
}
