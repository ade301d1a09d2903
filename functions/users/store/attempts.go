package store

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/serverless-shop/backend/functions/users/account"
)

// Login attempts are counted in buckets (account.Throttle): one per email
// (LOGIN#<email> / ATTEMPTS) and one per device that logged in before
// (DEVICE#<token hash> / DEVICE, which also says whose device it is). An
// attempt is taken before the password is checked, conditioned on the
// bucket being as it was read: two attempts at once cannot both spend the
// same free attempt. A source address's failed logins (SOURCE#<address> /
// FAILURES) are counted after the check, with one atomic increment each.

// loginItem is any item a login reads, as stored: the email's claim
// (userId), a bucket (attempts, nextAtMs, forgetAtMs), a source's failures
// (failures, lastMs, forgetAtMs) or a device that logged in to an account
// (or proved its mailbox), with its bucket. forgetAtMs is when a bucket or
// the failures start over; for account buckets and sources expiresAt (the
// table's TTL, seconds) is the same moment, for a device the device's own
// expiry. A device's Epoch is the account's session epoch when the token
// was issued, its UserID the account's: an email can change hands (a
// registration cancelled and made again), its devices cannot.
type loginItem struct {
	key
	Email      string `dynamodbav:"email"`
	Epoch      int64  `dynamodbav:"epoch"`
	UserID     string `dynamodbav:"userId,omitempty"`
	ExpiresAt  int64  `dynamodbav:"expiresAt"`
	Attempts   int    `dynamodbav:"attempts"`
	NextAtMs   int64  `dynamodbav:"nextAtMs"`
	ForgetAtMs int64  `dynamodbav:"forgetAtMs"`
	Failures   int    `dynamodbav:"failures,omitempty"`
	LastMs     int64  `dynamodbav:"lastMs,omitempty"`
}

// failures are the source's failures at now: none once forgotten.
func (r loginItem) failures(now time.Time) account.Failures {
	if now.UnixMilli() >= r.ForgetAtMs || r.Failures == 0 {
		return account.Failures{}
	}
	return account.Failures{Count: r.Failures, Last: time.UnixMilli(r.LastMs).UTC()}
}

// bucket is the bucket at now: empty once forgotten (TTL deletion lags).
func (r loginItem) bucket(now time.Time) account.Bucket {
	if r.ForgetAtMs != 0 && now.UnixMilli() >= r.ForgetAtMs || r.Attempts == 0 {
		return account.Bucket{}
	}
	b := account.Bucket{Attempts: r.Attempts}
	if r.NextAtMs != 0 {
		b.NextAt = time.UnixMilli(r.NextAtMs).UTC()
	}
	return b
}

// device adds the write of the device of g, for account.DeviceTTL from now.
func (t *tx) device(g account.DeviceGrant, now time.Time) *tx {
	return t.put(loginItem{
		key: deviceKey(g.Token.Hash()), Email: g.Email, UserID: g.UserID, Epoch: g.Epoch, ExpiresAt: now.Add(account.DeviceTTL).Unix(),
	})
}

// LoginState reads, in one consistent BatchGetItem, the email's claim, the
// email's bucket, the source's failures and the presented device
// (deviceHash "" for none), and then the user the claim names. A device of
// another email, or of another account that had the email before (a
// cancelled registration), is no device of this one.
func (s *Store) LoginState(ctx context.Context, email, source, deviceHash string, now time.Time) (account.LoginState, error) {
	var claim emailRecord
	var bucket, failures, device loginItem
	records := map[key]any{emailKey(email): &claim, loginKey(email): &bucket}
	if source != "" {
		records[sourceKey(source)] = &failures
	}
	if deviceHash != "" {
		records[deviceKey(deviceHash)] = &device
	}
	if _, err := s.batchGet(ctx, records); err != nil {
		return account.LoginState{}, wrap("login state", err)
	}
	st := account.LoginState{Account: bucket.bucket(now), Source: failures.failures(now)}
	if device.Email == email && now.Unix() < device.ExpiresAt && device.UserID == claim.UserID {
		st.Device = &account.Device{Hash: deviceHash, Epoch: device.Epoch, Bucket: device.bucket(now)}
	}
	if claim.UserID == "" {
		return st, nil
	}
	creds, err := s.User(ctx, claim.UserID)
	if errors.Is(err, account.ErrNotFound) {
		return st, nil // a claim without its user: treat as unknown
	}
	if err != nil {
		return account.LoginState{}, err
	}
	st.Credentials, st.Found = creds, true
	return st, nil
}

// TakeAttempt writes t: the guard bucket, on condition that it is still as
// read (or forgotten, when it was empty). Returns account.ErrStaleWrite
// when another attempt counted first: read again and take again. A
// device's bucket lives in the device's item, which must still exist (a
// login at once may have replaced it); the account's is an item of its
// own, whose TTL, expiresAt, is set to t.GuardForget.
func (s *Store) TakeAttempt(ctx context.Context, t account.AttemptTake, now time.Time) error {
	// No wait (the zero time, before 1970) is a nextAtMs of 0.
	upd := set("attempts", t.Guard.Attempts, "nextAtMs", max(t.Guard.NextAt.UnixMilli(), 0), "forgetAtMs", t.GuardForget.UnixMilli())
	forgetAt := expression.Name("forgetAtMs")
	cond := is("attempts", t.GuardWas.Attempts).And(forgetAt.GreaterThan(expression.Value(now.UnixMilli())))
	if t.GuardWas.Attempts == 0 {
		// Empty when read: missing, never counted, or forgotten.
		cond = expression.AttributeNotExists(expression.Name("attempts")).Or(is("attempts", 0)).
			Or(forgetAt.LessThanEqual(expression.Value(now.UnixMilli())))
	}
	guard := loginKey(t.Email)
	if t.Device != "" {
		guard = deviceKey(t.Device)
		cond = cond.And(expression.AttributeExists(expression.Name("email")))
	} else {
		upd = upd.Set(expression.Name("expiresAt"), expression.Value(t.GuardForget.Unix()))
	}
	return s.tx().update(guard, upd, cond).failsWith(account.ErrStaleWrite).alone(ctx, "take attempt", nil)
}

// CompleteLogin writes a successful login at once: the new session, the
// device token handed out (replacing the presented one, if any) or else
// the account's bucket, the guard, cleared; on condition that
// the user's session epoch is still c.Epoch, so that a login whose
// password was checked before a reset or change cannot start a session
// after it. Returns account.ErrStaleWrite when the epoch moved on (or,
// never seen, the family id was taken). A retry of a transaction that was
// applied but whose answer was lost finds the session it wrote and
// succeeds.
func (s *Store) CompleteLogin(ctx context.Context, c account.LoginCompletion, now time.Time) error {
	t := s.tx().
		put(familyRecord{
			key: familyKey(c.Refresh.UserID, c.Refresh.FamilyID), UserID: c.Refresh.UserID, FamilyID: c.Refresh.FamilyID,
			CurrentHash: c.Refresh.Hash(), FamilyProof: c.Refresh.FamilyProof(), Epoch: c.Epoch,
			CreatedAt: now.UTC(), ExpiresAt: now.Add(account.RefreshTTL).Unix(),
		}, absent()).fails(ownWrite(func(r familyRecord) bool { return r.CurrentHash == c.Refresh.Hash() })).
		check(userKey(c.Refresh.UserID), is("sessionEpoch", c.Epoch)).failsWith(account.ErrStaleWrite).
		device(account.DeviceGrant{Token: c.NewDevice, Email: c.Email, UserID: c.Refresh.UserID, Epoch: c.Epoch}, now)
	if c.OldDevice != "" {
		return t.delete(deviceKey(c.OldDevice)).run(ctx, "complete login")
	}
	return t.delete(loginKey(c.Email)).run(ctx, "complete login")
}

// CountSourceFailure adds a failed login to the source's failures with one
// atomic UpdateItem, so failures at once are all counted and successful
// logins never touch the item. Failures forgotten (forget after the last
// one) start over from one; first is whether the caller read none, which
// decides which of the two it tries first (the other follows only when
// another failure got there first).
func (s *Store) CountSourceFailure(ctx context.Context, source string, first bool, forget time.Duration, now time.Time) error {
	nowMs, forgetAt := now.UnixMilli(), now.Add(forget)
	live := expression.Name("forgetAtMs").GreaterThan(expression.Value(nowMs))
	stamp := []any{"lastMs", nowMs, "forgetAtMs", forgetAt.UnixMilli(), "expiresAt", forgetAt.Unix()}
	add := s.tx().update(sourceKey(source), set(stamp...).Add(expression.Name("failures"), expression.Value(1)), live)
	restart := s.tx().update(sourceKey(source), set(append(stamp, "failures", 1)...),
		expression.AttributeNotExists(expression.Name("forgetAtMs")).Or(expression.Not(live)))
	tries := []*tx{add.failsWith(account.ErrStaleWrite), restart.failsWith(account.ErrStaleWrite)}
	if first {
		tries[0], tries[1] = tries[1], tries[0]
	}
	for i := range 6 { // each of the two, three times
		if err := tries[i%2].alone(ctx, "count source failure", nil); !errors.Is(err, account.ErrStaleWrite) {
			return err
		}
	}
	return wrap("count source failure", errors.New("the failures kept starting over"))
}

// ClearAttempts forgets the attempts counted against email, after the
// password was proved some other way (a password change).
func (s *Store) ClearAttempts(ctx context.Context, email string) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.table, Key: loginKey(email).av()})
	return wrap("clear attempts", err)
}
