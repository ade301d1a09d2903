package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/functions/users/app"
	"github.com/serverless-shop/backend/functions/users/app/apptest"
	"github.com/serverless-shop/backend/internal/testcloud"
	"github.com/serverless-shop/backend/shared/events"
	"github.com/serverless-shop/backend/shared/problem"
	"github.com/serverless-shop/backend/shared/revocation"
	"github.com/serverless-shop/backend/shared/token"
)

// usersStore is every store interface of the app package: what the users
// table's store and apptest.MemStore both implement.
type usersStore interface {
	app.Store
	// SetRole is the operator's (cmd/staff), not the app's.
	SetRole(ctx context.Context, u account.Credentials, role string, now time.Time, revoke revocation.Entry) error
}

// testConformance runs the contract of the users store against the stores
// newStore makes, a new, empty one for each test: the in-memory store the
// app and api tests use (TestMem), and the store on DynamoDB on the local
// cloud (TestDynamoDB, with the integration tag). So the stand-in cannot
// drift from the real store.
func testConformance(t *testing.T, newStore func(t *testing.T) usersStore) {
	for _, tc := range []struct {
		name string
		test func(t *testing.T, s usersStore)
	}{
		{"CreateUserEmailUniqueUnderConcurrency", testCreateUserEmailUniqueUnderConcurrency},
		{"LoginStateReadsTheUserAndTheBuckets", testLoginStateReadsTheUserAndTheBuckets},
		{"SourceFailuresAtOnceAreAllCounted", testSourceFailuresAtOnceAreAllCounted},
		{"AttemptsSentAtOnceAreCountedOneByOne", testAttemptsSentAtOnceAreCountedOneByOne},
		{"ADeviceHasItsOwnBucket", testADeviceHasItsOwnBucket},
		{"RefreshRotationRaceHasOneWinner", testRefreshRotationRaceHasOneWinner},
		{"FamilyRevocationAndPasswordChangeEndSessions", testFamilyRevocationAndPasswordChangeEndSessions},
		{"UpdateNameRehashAndMissingUser", testUpdateNameRehashAndMissingUser},
		{"WritesSurviveTheirOwnRetry", testWritesSurviveTheirOwnRetry},
		{"CompleteLoginChecksTheSessionEpoch", testCompleteLoginChecksTheSessionEpoch},
		{"PasswordChangeEndsThePendingResetLink", testPasswordChangeEndsThePendingResetLink},
		{"ProofsOfTheMailboxStoreADevice", testProofsOfTheMailboxStoreADevice},
		{"RoleChangeEndsSessions", testRoleChangeEndsSessions},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.test(t, newStore(t))
		})
	}
}

// TestMem runs the conformance tests against the in-memory store.
func TestMem(t *testing.T) {
	testConformance(t, func(*testing.T) usersStore { return apptest.NewMemStore() })
}

func newUser(id, email string, now time.Time) account.User {
	return account.User{ID: id, Email: email, Name: "Test", CreatedAt: now, UpdatedAt: now}
}

// verification is the pending verification link and the event that
// registration stores with a new user.
func verification(u account.User, now time.Time) (account.LinkToken, account.PendingLink, events.AccountEvent) {
	tok := account.NewLinkToken(account.VerifyEmail, u.ID)
	link := account.Pending(tok, now)
	return tok, link, linkEvent(events.AccountVerificationRequested, "ev-verify-"+u.ID, u, link)
}

// linkEvent is an account event mailing link to u.
func linkEvent(eventType, id string, u account.User, link account.PendingLink) events.AccountEvent {
	return events.AccountEvent{
		Header:  events.Header{Type: eventType, Version: events.Version, ID: id, OccurredAt: link.ExpiresAt.Add(-time.Minute)},
		Account: events.Account{ID: u.ID, Email: u.Email},
		Link:    events.Link{SealedToken: []byte("sealed"), ExpiresAt: link.ExpiresAt},
	}
}

// begin is what a test starts from: a context, the time to the
// millisecond (as the table keeps it) and the user ulidLike(n) of email,
// registered as the service does (with the password hash "old") when
// register is set.
func begin(t *testing.T, s usersStore, n int, email string, register bool) (context.Context, time.Time, account.User) {
	t.Helper()
	ctx, now := t.Context(), time.Now().UTC().Truncate(time.Millisecond)
	u := newUser(ulidLike(n), email, now)
	if register {
		_, link, ev := verification(u, now)
		must(t, s.CreateUser(ctx, u, "old", link, ev))
	}
	return ctx, now, u
}

// credentials is what the service read of a user before changing it.
func credentials(id, hash string, epoch int64) account.Credentials {
	return account.Credentials{User: account.User{ID: id}, PasswordHash: hash, SessionEpoch: epoch}
}

// ttl is the access tokens' lifetime, which revocation entries outlive.
const ttl = 15 * time.Minute

// noBudget counts a revocation against no budget.
var noBudget account.Limit

// logout is the revocation entry of a logout of family at now.
func logout(user, family string, now time.Time) *revocation.Entry {
	e := revocation.Session(user, family, now, ttl)
	return &e
}

// newGrant is a new device token for the account userID of email in epoch.
func newGrant(userID, email string, epoch int64) account.DeviceGrant {
	return account.DeviceGrant{Token: account.NewDeviceToken(), Email: email, UserID: userID, Epoch: epoch}
}

// succeeded is how many of errs are nil, failing t if any other is not
// one that expected accepts.
func succeeded(t *testing.T, errs []error, expected func(error) bool) int {
	t.Helper()
	n := 0
	for _, err := range errs {
		if err == nil {
			n++
		} else if !expected(err) {
			t.Fatalf("unexpected error: %v", err)
		}
	}
	return n
}

// must fails t at once on err.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// mustBe fails t at once unless err is target.
func mustBe(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error %v, want %v", err, target)
	}
}

// errOf and errOf2 are the error of a call that returns it after one or
// two values.
func errOf[V any](_ V, err error) error          { return err }
func errOf2[V, W any](_ V, _ W, err error) error { return err }

// is accepts the errors that are target.
func is(target error) func(error) bool {
	return func(err error) bool { return errors.Is(err, target) }
}

// ulidLike returns a 26-character id in the alphabet of user ids.
func ulidLike(i int) string { return fmt.Sprintf("01TEST%020d", i) }

func testCreateUserEmailUniqueUnderConcurrency(t *testing.T, s usersStore) {
	ctx, now, _ := begin(t, s, 0, "", false)
	const n = 12
	// n registrations at once, with case variants of one address.
	variants := []string{"race@example.com", "RACE@EXAMPLE.COM", "Race@Example.Com", " race@example.COM "}
	errs := testcloud.Parallel(n, func(i int) error {
		u := newUser(ulidLike(i), account.NormalizeEmail(variants[i%len(variants)]), now)
		_, link, ev := verification(u, now)
		return s.CreateUser(ctx, u, "hash", link, ev)
	})
	if created := succeeded(t, errs, is(account.ErrEmailTaken)); created != 1 {
		t.Fatalf("created %d; want exactly one of %d, the others ErrEmailTaken", created, n)
	}
	// The loser's user item was not written either (no partial write).
	found := 0
	for i := range n {
		if _, err := s.User(ctx, ulidLike(i)); err == nil {
			found++
		} else if !errors.Is(err, account.ErrNotFound) {
			t.Fatal(err)
		}
	}
	if found != 1 {
		t.Fatalf("%d user items exist, want 1", found)
	}
}

// take takes one attempt for email as the service does: read, compute with
// the throttle, write on condition.
func take(ctx context.Context, s usersStore, email, device string, now time.Time) error {
	st, err := s.LoginState(ctx, email, "", device, now)
	if err != nil {
		return err
	}
	t, err := st.Take(email, now)
	if err != nil {
		return err
	}
	return s.TakeAttempt(ctx, t, now)
}

func testLoginStateReadsTheUserAndTheBuckets(t *testing.T, s usersStore) {
	ctx, now, _ := begin(t, s, 1, "known@example.com", true)
	st, err := s.LoginState(ctx, "known@example.com", "192.0.2.1", "", now)
	if err != nil || !st.Found || st.Credentials.PasswordHash != "old" || st.Account != (account.Bucket{}) || st.Source != (account.Failures{}) || st.Device != nil {
		t.Fatalf("LoginState = %+v, %v", st, err)
	}
	if st, err = s.LoginState(ctx, "unknown@example.com", "", "", now); err != nil || st.Found {
		t.Fatalf("unknown LoginState = %+v, %v", st, err)
	}
	for range account.AccountThrottle.Free + 1 {
		must(t, take(ctx, s, "known@example.com", "", now))
		must(t, s.CountSourceFailure(ctx, "192.0.2.1", false, time.Hour, now))
	}
	st, _ = s.LoginState(ctx, "known@example.com", "192.0.2.1", "", now)
	wantNext := now.Add(account.AccountThrottle.Base)
	if st.Account.Attempts != account.AccountThrottle.Free+1 || !st.Account.NextAt.Equal(wantNext) || st.Source != (account.Failures{Count: account.AccountThrottle.Free + 1, Last: now}) {
		t.Fatalf("after %d attempts: %+v", account.AccountThrottle.Free+1, st)
	}
	if err := take(ctx, s, "known@example.com", "", now); problem.Of(err, problem.TooManyRequests) == nil {
		t.Fatalf("attempt before NextAt = %v, want account.Limited", err)
	}
	// Another address is another bucket; an hour after its last failure
	// an address starts over (from one, when it fails again); a day later
	// the account's bucket is forgotten.
	if st, _ = s.LoginState(ctx, "known@example.com", "192.0.2.2", "", now); st.Source != (account.Failures{}) {
		t.Errorf("another address has %+v", st.Source)
	}
	later := now.Add(time.Hour)
	if st, _ = s.LoginState(ctx, "known@example.com", "192.0.2.1", "", later); st.Source != (account.Failures{}) {
		t.Errorf("an address an hour after its last failure has %+v", st.Source)
	}
	must(t, s.CountSourceFailure(ctx, "192.0.2.1", true, time.Hour, later))
	if st, _ = s.LoginState(ctx, "known@example.com", "192.0.2.1", "", later); st.Source != (account.Failures{Count: 1, Last: later}) {
		t.Errorf("a failure after the address started over: %+v", st.Source)
	}
	if st, _ = s.LoginState(ctx, "known@example.com", "", "", now.Add(account.AccountThrottle.Forget)); st.Account != (account.Bucket{}) {
		t.Errorf("a forgotten bucket still counts: %+v", st.Account)
	}
	must(t, s.ClearAttempts(ctx, "known@example.com"))
	if st, _ = s.LoginState(ctx, "known@example.com", "", "", now); st.Account != (account.Bucket{}) {
		t.Errorf("after a clear: %+v", st)
	}
}

// testSourceFailuresAtOnceAreAllCounted sends 30 failures of one address at
// once: each is one atomic increment, none is lost, none conflicts.
func testSourceFailuresAtOnceAreAllCounted(t *testing.T, s usersStore) {
	ctx, now, _ := begin(t, s, 0, "", false)
	const n = 30
	for i, err := range testcloud.Parallel(n, func(int) error { return s.CountSourceFailure(ctx, "198.51.100.7", true, time.Hour, now) }) {
		if err != nil {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	if st, err := s.LoginState(ctx, "anyone@example.com", "198.51.100.7", "", now); err != nil || st.Source.Count != n {
		t.Fatalf("source failures %+v, %v; want %d", st.Source, err, n)
	}
}

// testAttemptsSentAtOnceAreCountedOneByOne is the check-then-act race: 20
// guesses at once against an account with 5 free attempts. Each attempt
// is taken on condition that the bucket is as read, so at most the free
// ones and the first delayed one get through.
func testAttemptsSentAtOnceAreCountedOneByOne(t *testing.T, s usersStore) {
	ctx, now, _ := begin(t, s, 0, "", false)
	const guesses = 20
	errs := testcloud.Parallel(guesses, func(int) error {
		// As the service does: a lost race reads again, a few times.
		for range 3 {
			err := take(ctx, s, "target@example.com", "", now)
			if !errors.Is(err, account.ErrStaleWrite) {
				return err
			}
		}
		return account.ErrStaleWrite
	})
	passed := succeeded(t, errs, func(err error) bool {
		return errors.Is(err, account.ErrStaleWrite) || problem.Of(err, problem.TooManyRequests) != nil
	})
	st, err := s.LoginState(ctx, "target@example.com", "", "", now)
	must(t, err)
	if passed > account.AccountThrottle.Free+1 || st.Account.Attempts != passed {
		t.Fatalf("%d of %d attempts passed, account counted %d; want at most %d, each counted once",
			passed, guesses, st.Account.Attempts, account.AccountThrottle.Free+1)
	}
	t.Logf("%d of %d simultaneous attempts passed", passed, guesses)
}

func testADeviceHasItsOwnBucket(t *testing.T, s usersStore) {
	ctx, now, u := begin(t, s, 2, "owner@example.com", true)
	device := account.NewDeviceToken()
	refresh := account.NewRefreshToken(u.ID)
	must(t, s.CompleteLogin(ctx, account.LoginCompletion{Refresh: refresh, Email: "owner@example.com", NewDevice: device}, now))
	// The account is attacked until it has to wait.
	for range account.AccountThrottle.Free + 1 {
		must(t, take(ctx, s, "owner@example.com", "", now))
	}
	// The device's attempts go to the device; another account does not see it.
	st, err := s.LoginState(ctx, "owner@example.com", "", device.Hash(), now)
	if err != nil || st.Device == nil || st.Device.Bucket != (account.Bucket{}) {
		t.Fatalf("LoginState with the device = %+v, %v", st, err)
	}
	must(t, take(ctx, s, "owner@example.com", device.Hash(), now))
	if st, _ = s.LoginState(ctx, "owner@example.com", "", device.Hash(), now); st.Device.Bucket.Attempts != 1 || st.Account.Attempts != account.AccountThrottle.Free+1 {
		t.Errorf("after the device's attempt: %+v, device %+v", st, st.Device)
	}
	if st, _ = s.LoginState(ctx, "other@example.com", "", device.Hash(), now); st.Device != nil {
		t.Errorf("the device counts for another account: %+v", st.Device)
	}
	// The device's login replaces the device token, keeps the account's
	// bucket (the attacker's), and survives its own retry.
	next := account.NewDeviceToken()
	refresh2 := account.NewRefreshToken(u.ID)
	done := account.LoginCompletion{Refresh: refresh2, Email: "owner@example.com", NewDevice: next, OldDevice: device.Hash()}
	for attempt := range 2 {
		if err := s.CompleteLogin(ctx, done, now); err != nil {
			t.Fatalf("CompleteLogin attempt %d: %v", attempt, err)
		}
	}
	if st, _ = s.LoginState(ctx, "owner@example.com", "", device.Hash(), now); st.Device != nil {
		t.Errorf("the used device token still works")
	}
	if st, _ = s.LoginState(ctx, "owner@example.com", "", next.Hash(), now); st.Device == nil || st.Account.Attempts != account.AccountThrottle.Free+1 {
		t.Errorf("after the device's login: %+v", st)
	}
	if _, _, err := s.Session(ctx, refresh2); err != nil {
		t.Errorf("the session of the login: %v", err)
	}
	// An attempt that read the device before a login at once replaced it
	// must read again, and brings nothing back.
	stale := account.AttemptTake{Email: "owner@example.com", Device: device.Hash(), GuardWas: account.Bucket{Attempts: 1}, Guard: account.Bucket{Attempts: 2}, GuardForget: now.Add(time.Hour)}
	mustBe(t, s.TakeAttempt(ctx, stale, now), account.ErrStaleWrite)
	stale.GuardWas = account.Bucket{}
	mustBe(t, s.TakeAttempt(ctx, stale, now), account.ErrStaleWrite)
	if st, _ = s.LoginState(ctx, "owner@example.com", "", device.Hash(), now); st.Device != nil {
		t.Errorf("a replaced device came back")
	}
}

func startSession(t *testing.T, s usersStore, userID string, now time.Time) account.RefreshToken {
	t.Helper()
	tok := account.NewRefreshToken(userID)
	device := account.NewDeviceToken()
	must(t, s.CompleteLogin(context.Background(), account.LoginCompletion{Refresh: tok, NewDevice: device, Email: "session@example.com"}, now))
	return tok
}

func testRefreshRotationRaceHasOneWinner(t *testing.T, s usersStore) {
	ctx, now, u := begin(t, s, 7, "rotate@example.com", true)
	presented := startSession(t, s, u.ID, now)
	const n = 10
	nexts := make([]account.RefreshToken, n)
	for i := range nexts {
		nexts[i] = account.Rotate(presented)
	}
	errs := testcloud.Parallel(n, func(i int) error {
		return s.RotateSession(ctx, presented, nexts[i], 0, account.RefreshCount{Hour: now.Truncate(time.Hour), Count: 1}, now)
	})
	if won := succeeded(t, errs, func(err error) bool {
		return errors.Is(err, account.ErrTokenReused) || errors.Is(err, account.ErrSessionInvalid)
	}); won != 1 {
		t.Fatalf("%d rotations won, want 1", won)
	}
	winner := slices.Index(errs, nil)
	sess, _, err := s.Session(ctx, presented)
	must(t, err)
	if sess.CurrentHash != nexts[winner].Hash() {
		t.Fatal("the family's current token is not the winner's")
	}
	// The presented token is now spent: checking it reports reuse.
	mustBe(t, sess.Check(presented, 0, now), account.ErrTokenReused)
}

func testFamilyRevocationAndPasswordChangeEndSessions(t *testing.T, s usersStore) {
	ctx, now, u := begin(t, s, 9, "revoke@example.com", true)

	// Revoking a family stops its rotation.
	a := startSession(t, s, u.ID, now)
	must(t, s.RevokeSession(ctx, u.ID, a.FamilyID, logout(u.ID, a.FamilyID, now), noBudget))
	next := account.Rotate(a)
	mustBe(t, s.RotateSession(ctx, a, next, 0, account.RefreshCount{Hour: now.Truncate(time.Hour), Count: 1}, now), account.ErrSessionInvalid)
	sess, _, _ := s.Session(ctx, a)
	if !sess.Revoked {
		t.Fatal("family not marked revoked")
	}
	mustBe(t, s.RevokeSession(ctx, u.ID, "no-such-family", logout(u.ID, "no-such-family", now), noBudget), account.ErrSessionInvalid)

	// A password change bumps the epoch: every family of the user fails.
	b := startSession(t, s, u.ID, now)
	c := startSession(t, s, u.ID, now)
	must(t, s.ChangePassword(ctx, credentials(u.ID, "old", 0), "new-hash", now, revocation.User(u.ID, 1, now, ttl), noBudget))
	mustBe(t, s.ChangePassword(ctx, credentials(u.ID, "old", 0), "other-hash", now, revocation.User(u.ID, 1, now, ttl), noBudget), account.ErrStaleWrite)
	for _, tok := range []account.RefreshToken{b, c} {
		sess, user, err := s.Session(ctx, tok)
		must(t, err)
		if user.SessionEpoch != 1 {
			t.Fatalf("epoch %d after password change", user.SessionEpoch)
		}
		mustBe(t, sess.Check(tok, user.SessionEpoch, now), account.ErrSessionInvalid)
		next := account.Rotate(tok)
		// Even a client that skips the check cannot rotate: the transaction
		// re-checks the epoch.
		mustBe(t, s.RotateSession(ctx, tok, next, 0, account.RefreshCount{Hour: now.Truncate(time.Hour), Count: 1}, now), account.ErrSessionInvalid)
	}
}

func testUpdateNameRehashAndMissingUser(t *testing.T, s usersStore) {
	ctx, now, _ := begin(t, s, 3, "name@example.com", true)
	later := now.Add(time.Minute)
	u, err := s.UpdateName(ctx, ulidLike(3), "Renamed", later)
	if err != nil || u.Name != "Renamed" || !u.UpdatedAt.Equal(later) || u.Email != "name@example.com" {
		t.Fatalf("UpdateName = %+v, %v", u, err)
	}
	// A rehash keeps the sessions (the epoch), survives its own retry, and
	// loses to a change since the read.
	for range 2 {
		must(t, s.RehashPassword(ctx, ulidLike(3), "old", "rehashed"))
	}
	mustBe(t, s.RehashPassword(ctx, ulidLike(3), "old", "other"), account.ErrStaleWrite)
	if c, err := s.User(ctx, ulidLike(3)); err != nil || c.PasswordHash != "rehashed" || c.SessionEpoch != 0 {
		t.Fatalf("after a rehash: %+v, %v", c, err)
	}
	mustBe(t, errOf(s.UpdateName(ctx, ulidLike(4), "Ghost", later)), account.ErrNotFound)
	mustBe(t, errOf(s.User(ctx, ulidLike(4))), account.ErrNotFound)
}

// testWritesSurviveTheirOwnRetry repeats writes exactly as the SDK does when
// the answer to a successful write is lost: they must report success, not
// a conflict with themselves.
func testWritesSurviveTheirOwnRetry(t *testing.T, s usersStore) {
	ctx, now, u := begin(t, s, 21, "retry@example.com", true)
	tok := account.NewRefreshToken(u.ID)
	device := account.NewDeviceToken()
	for attempt := range 2 {
		if err := s.CompleteLogin(ctx, account.LoginCompletion{Refresh: tok, NewDevice: device, Email: "retry@example.com"}, now); err != nil {
			t.Fatalf("CompleteLogin attempt %d: %v", attempt, err)
		}
		if err := s.ChangePassword(ctx, credentials(u.ID, "old", 0), "new", now, revocation.User(u.ID, 1, now, ttl), noBudget); err != nil {
			t.Fatalf("ChangePassword attempt %d: %v", attempt, err)
		}
	}
	mustBe(t, s.ChangePassword(ctx, credentials(u.ID, "old", 0), "other", now, revocation.User(u.ID, 1, now, ttl), noBudget), account.ErrStaleWrite)
	other := account.NewRefreshToken(u.ID)
	other.FamilyID = tok.FamilyID // same family key, another token
	if err := s.CompleteLogin(ctx, account.LoginCompletion{Refresh: other, NewDevice: device, Email: "retry@example.com"}, now); err == nil {
		t.Fatal("a second session under an existing family id was accepted")
	}
	after, err := s.User(ctx, u.ID)
	if err != nil || after.SessionEpoch != 1 || after.PasswordHash != "new" {
		t.Fatalf("after a retried change: epoch %d hash %q, %v; want one bump", after.SessionEpoch, after.PasswordHash, err)
	}
}

// testCompleteLoginChecksTheSessionEpoch: a login whose password was
// checked before a password reset or change, and that completes after it,
// starts no session and leaves no device: what it would write belongs to
// an epoch that has ended.
func testCompleteLoginChecksTheSessionEpoch(t *testing.T, s usersStore) {
	ctx, now, u := begin(t, s, 40, "race@example.com", true)
	// The login read the user at epoch 0 and checked the old password; a
	// password change (as a reset does) raises the epoch before it writes.
	refresh := account.NewRefreshToken(u.ID)
	device := account.NewDeviceToken()
	late := account.LoginCompletion{Refresh: refresh, Epoch: 0, Email: "race@example.com", NewDevice: device}
	must(t, s.ChangePassword(ctx, credentials(u.ID, "old", 0), "new", now, revocation.User(u.ID, 1, now, ttl), noBudget))
	mustBe(t, s.CompleteLogin(ctx, late, now), account.ErrStaleWrite)
	mustBe(t, errOf2(s.Session(ctx, refresh)), account.ErrSessionInvalid)
	if st, err := s.LoginState(ctx, "race@example.com", "", device.Hash(), now); err != nil || st.Device != nil {
		t.Errorf("the late login's device was stored: %+v, %v", st.Device, err)
	}
	// A login of the current epoch completes.
	refresh = account.NewRefreshToken(u.ID)
	must(t, s.CompleteLogin(ctx, account.LoginCompletion{Refresh: refresh, Epoch: 1, Email: "race@example.com", NewDevice: device}, now))
	if _, _, err := s.Session(ctx, refresh); err != nil {
		t.Fatalf("the session of the current epoch: %v", err)
	}
}

// testPasswordChangeEndsThePendingResetLink: a reset link mailed before a
// password change no longer works after it.
func testPasswordChangeEndsThePendingResetLink(t *testing.T, s usersStore) {
	ctx, now, u := begin(t, s, 41, "change@example.com", true)
	tok := account.NewLinkToken(account.ResetPassword, u.ID)
	link := account.Pending(tok, now)
	ev := linkEvent(events.AccountPasswordResetRequested, "ev-reset-change", u, link)
	must(t, s.IssueLink(ctx, account.ResetPassword, &link, &ev, account.Limit{Key: "r", Max: 5, Window: time.Hour}, now))
	must(t, s.ChangePassword(ctx, credentials(u.ID, "old", 0), "new", now, revocation.User(u.ID, 1, now, ttl), noBudget))
	mustBe(t, errOf2(s.PendingLink(ctx, account.ResetPassword, u.ID)), account.ErrLinkInvalid)
	after, err := s.User(ctx, u.ID)
	must(t, err)
	mustBe(t, s.ResetPassword(ctx, link, after, "attacker", newGrant(u.ID, u.Email, 2), now, revocation.User(u.ID, 2, now, ttl)), account.ErrLinkInvalid)
}

// testProofsOfTheMailboxStoreADevice: verifying the email and a reset
// store the device they hand out, with the epoch it belongs to, as a
// login does; a login then reads it as a device of the account.
func testProofsOfTheMailboxStoreADevice(t *testing.T, s usersStore) {
	ctx, now, u := begin(t, s, 42, "mailbox@example.com", false)
	_, link, ev := verification(u, now)
	must(t, s.CreateUser(ctx, u, "old", link, ev))
	verified := newGrant(u.ID, u.Email, 0)
	must(t, s.VerifyEmail(ctx, link, verified, now))
	st, err := s.LoginState(ctx, u.Email, "", verified.Token.Hash(), now)
	if err != nil || st.Device == nil || st.Device.Epoch != 0 || !st.Device.Counts(st.Credentials.SessionEpoch) {
		t.Fatalf("the device of the verification: %+v, %v", st.Device, err)
	}
	tok := account.NewLinkToken(account.ResetPassword, u.ID)
	reset := account.Pending(tok, now)
	rev := linkEvent(events.AccountPasswordResetRequested, "ev-reset-device", u, reset)
	must(t, s.IssueLink(ctx, account.ResetPassword, &reset, &rev, account.Limit{Key: "r", Max: 5, Window: time.Hour}, now))
	_, creds, err := s.PendingLink(ctx, account.ResetPassword, u.ID)
	must(t, err)
	fresh := newGrant(u.ID, u.Email, creds.SessionEpoch+1)
	must(t, s.ResetPassword(ctx, reset, creds, "new", fresh, now, revocation.User(u.ID, 1, now, ttl)))
	st, err = s.LoginState(ctx, u.Email, "", fresh.Token.Hash(), now)
	if err != nil || st.Device == nil || st.Device.Epoch != 1 || !st.Device.Counts(st.Credentials.SessionEpoch) {
		t.Fatalf("the device of the reset: %+v, %v", st.Device, err)
	}
	// The verification's device is of the epoch the reset ended.
	st, err = s.LoginState(ctx, u.Email, "", verified.Token.Hash(), now)
	if err != nil || st.Device == nil || st.Device.Counts(st.Credentials.SessionEpoch) {
		t.Fatalf("the device from before the reset: %+v, %v; want read but not counting", st.Device, err)
	}
}

// testRoleChangeEndsSessions: an account is a customer until made staff;
// a role change shows wherever the user is read, raises the epoch as a
// password change does (every session ends), survives its own retry, and
// loses to a change since the read. Demotion makes a customer again.
func testRoleChangeEndsSessions(t *testing.T, s usersStore) {
	ctx, now, u := begin(t, s, 43, "staff@example.com", true)
	if c, err := s.UserByEmail(ctx, u.Email); err != nil || c.Role != "" || c.IsStaff() {
		t.Fatalf("a new account: role %q, %v; want a customer's", c.Role, err)
	}
	tok := startSession(t, s, u.ID, now)
	for range 2 {
		must(t, s.SetRole(ctx, credentials(u.ID, "old", 0), token.RoleStaff, now, revocation.User(u.ID, 1, now, ttl)))
	}
	mustBe(t, s.SetRole(ctx, credentials(u.ID, "old", 0), "", now, revocation.User(u.ID, 1, now, ttl)), account.ErrStaleWrite)
	sess, user, err := s.Session(ctx, tok)
	if err != nil || !user.IsStaff() || user.SessionEpoch != 1 {
		t.Fatalf("after promotion: %+v, %v; want staff at epoch 1", user, err)
	}
	mustBe(t, sess.Check(tok, user.SessionEpoch, now), account.ErrSessionInvalid)
	if c, err := s.UserByEmail(ctx, u.Email); err != nil || !c.IsStaff() {
		t.Fatalf("UserByEmail after promotion: role %q, %v", c.Role, err)
	}
	must(t, s.SetRole(ctx, credentials(u.ID, "old", 1), token.RoleCustomer, now, revocation.User(u.ID, 2, now, ttl)))
	if c, err := s.User(ctx, u.ID); err != nil || c.Role != "" || c.SessionEpoch != 2 || c.PasswordHash != "old" {
		t.Fatalf("after demotion: %+v, %v; want a customer at epoch 2, password kept", c, err)
	}
	mustBe(t, s.SetRole(ctx, credentials(ulidLike(44), "", 0), token.RoleStaff, now, revocation.User(ulidLike(44), 1, now, ttl)), account.ErrStaleWrite)
}
