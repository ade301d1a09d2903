//go:build integration

package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/golang-jwt/jwt/v5"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/functions/users/store"
	"github.com/serverless-shop/backend/internal/testcloud"
	"github.com/serverless-shop/backend/shared/ddb"
	"github.com/serverless-shop/backend/shared/events"
	"github.com/serverless-shop/backend/shared/problem"
	"github.com/serverless-shop/backend/shared/revocation"
	"github.com/serverless-shop/backend/shared/token"
)

// TestDynamoDB runs the conformance tests against the store on DynamoDB,
// tables of its own for each test.
func TestDynamoDB(t *testing.T) {
	testConformance(t, func(t *testing.T) usersStore { return newRig(t).store })
}

// rig is a store on its own users and revocations tables.
type rig struct {
	store       *store.Store
	db          *dynamodb.Client
	users       string
	revocations string
}

func newRig(t *testing.T) rig {
	t.Helper()
	db := dynamodb.NewFromConfig(testcloud.Config(t))
	r := rig{db: db, users: testcloud.NewTable(t, db, testcloud.TableSpec{SortKey: true}), revocations: testcloud.NewTable(t, db, testcloud.TableSpec{SortKey: true})}
	r.store = store.New(db, r.users, r.revocations)
	return r
}

// outboxEvent reads the account event the store queued under id.
func (r rig) outboxEvent(t *testing.T, id string) (events.AccountEvent, bool) {
	t.Helper()
	out, err := r.db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: &r.users, Key: ddb.Key(store.OutboxPrefix+id, "EVENT")})
	must(t, err)
	if out.Item == nil {
		return events.AccountEvent{}, false
	}
	payload, ok := out.Item["payload"]
	if !ok {
		t.Fatalf("outbox item %s has no payload", id)
	}
	var raw string
	must(t, attributevalue.Unmarshal(payload, &raw))
	ev, err := events.Parse([]byte(raw))
	if err != nil {
		t.Fatalf("queued event does not parse: %v", err)
	}
	return ev.(events.AccountEvent), true
}

// revoked reports whether the revocations table revokes a token of user in
// session with epoch.
func (r rig) revoked(t *testing.T, user, session string, epoch int64) bool {
	t.Helper()
	entries, err := revocation.NewTable(r.db, r.revocations).ForUser(context.Background(), user, time.Now())
	must(t, err)
	return revocation.NewSet(entries...).Revokes(token.Claims{RegisteredClaims: jwt.RegisteredClaims{Subject: user}, SessionID: session, SessionEpoch: epoch})
}

func TestRegistrationStoresItsLinkAndEventOrNothing(t *testing.T) {
	r := newRig(t)
	ctx, now, u := begin(t, r.store, 30, "verify@example.com", false)
	tok, link, ev := verification(u, now)
	must(t, r.store.CreateUser(ctx, u, "hash", link, ev))
	stored, creds, err := r.store.PendingLink(ctx, account.VerifyEmail, u.ID)
	if err != nil || !stored.Accepts(tok, now) || creds.Email != u.Email || creds.EmailVerified {
		t.Fatalf("PendingLink = %+v, %+v, %v; want the link of an unverified user", stored, creds, err)
	}
	if got, ok := r.outboxEvent(t, ev.ID); !ok || got.Account.ID != u.ID || string(got.Link.SealedToken) != "sealed" {
		t.Fatalf("queued event = %+v, %v", got, ok)
	}
	if u, err := r.store.UserByEmail(ctx, "verify@example.com"); err != nil || u.ID != ulidLike(30) {
		t.Fatalf("UserByEmail = %+v, %v", u, err)
	}
	mustBe(t, errOf(r.store.UserByEmail(ctx, "nobody@example.com")), account.ErrNotFound)

	// A registration that loses the email race stores no link or event.
	twin := newUser(ulidLike(31), "verify@example.com", now)
	_, twinLink, twinEvent := verification(twin, now)
	mustBe(t, r.store.CreateUser(ctx, twin, "hash", twinLink, twinEvent), account.ErrEmailTaken)
	if _, ok := r.outboxEvent(t, twinEvent.ID); ok {
		t.Error("the refused registration queued its email")
	}
	mustBe(t, errOf2(r.store.PendingLink(ctx, account.VerifyEmail, twin.ID)), account.ErrLinkInvalid)
}

func TestVerifyEmailUsesTheCurrentLinkOnce(t *testing.T) {
	r := newRig(t)
	ctx, now, u := begin(t, r.store, 32, "once@example.com", false)
	_, first, ev := verification(u, now)
	must(t, r.store.CreateUser(ctx, u, "hash", first, ev))
	// A resend replaces the link: the first stops working.
	_, second, resend := verification(u, now.Add(time.Minute))
	resend.ID = "ev-resend"
	must(t, r.store.IssueLink(ctx, account.VerifyEmail, &second, &resend, account.Limit{Key: "v#" + u.ID, Max: 5, Window: time.Hour}, now))
	mustBe(t, r.store.VerifyEmail(ctx, first, newGrant(u.ID, u.Email, 0), now), account.ErrLinkInvalid)
	mustBe(t, r.store.VerifyEmail(ctx, second, newGrant(u.ID, u.Email, 0), second.ExpiresAt), account.ErrLinkInvalid)
	// Two uses at once: one wins.
	errs := testcloud.Parallel(4, func(int) error { return r.store.VerifyEmail(ctx, second, newGrant(u.ID, u.Email, 0), now) })
	if won := succeeded(t, errs, is(account.ErrLinkInvalid)); won != 1 {
		t.Fatalf("%d of 4 concurrent uses succeeded, want 1", won)
	}
	if c, err := r.store.User(ctx, u.ID); err != nil || !c.EmailVerified {
		t.Fatalf("user after verifying = %+v, %v", c, err)
	}
}

func TestIssueLinkKeepsToItsLimit(t *testing.T) {
	r := newRig(t)
	ctx, now, u := begin(t, r.store, 33, "limit@example.com", true)
	limit := account.Limit{Key: "reset-password#" + u.Email, Max: 3, Window: time.Hour}
	errs := testcloud.Parallel(10, func(i int) error {
		tok := account.NewLinkToken(account.ResetPassword, u.ID)
		link := account.Pending(tok, now)
		ev := linkEvent(events.AccountPasswordResetRequested, "ev-reset-"+ulidLike(i), u, link)
		return r.store.IssueLink(ctx, account.ResetPassword, &link, &ev, limit, now)
	})
	if ok := succeeded(t, errs, limited(t, func(d time.Duration) bool { return d > 0 && d <= time.Hour })); ok != 3 {
		t.Fatalf("%d of 10 issued, want 3, the others refused within the hour", ok)
	}
	// A request that only counts (an unregistered email) is refused too.
	if err := r.store.IssueLink(ctx, account.ResetPassword, nil, nil, limit, now); problem.Of(err, problem.TooManyRequests) == nil {
		t.Fatalf("count-only request over the limit = %v", err)
	}
	// The next window starts afresh.
	must(t, r.store.IssueLink(ctx, account.ResetPassword, nil, nil, limit, now.Truncate(time.Hour).Add(time.Hour)))
}

func TestResetPasswordChangesEverythingAtOnce(t *testing.T) {
	r := newRig(t)
	ctx, now, u := begin(t, r.store, 34, "reset@example.com", true)
	must(t, r.store.TakeAttempt(ctx, account.AttemptTake{Email: u.Email, Guard: account.Bucket{Attempts: 1}, GuardForget: now.Add(time.Hour)}, now))
	session := startSession(t, r.store, u.ID, now)
	tok := account.NewLinkToken(account.ResetPassword, u.ID)
	link := account.Pending(tok, now)
	ev := linkEvent(events.AccountPasswordResetRequested, "ev-reset", u, link)
	must(t, r.store.IssueLink(ctx, account.ResetPassword, &link, &ev, account.Limit{Key: "r", Max: 5, Window: time.Hour}, now))
	_, creds, err := r.store.PendingLink(ctx, account.ResetPassword, u.ID)
	must(t, err)

	// The user changed meanwhile: nothing happens, the link stays.
	stale := creds
	stale.PasswordHash = "another-hash"
	revoke := revocation.User(u.ID, creds.SessionEpoch+1, now, ttl)
	mustBe(t, r.store.ResetPassword(ctx, link, stale, "new-hash", newGrant(u.ID, u.Email, 1), now, revoke), account.ErrStaleWrite)
	if _, _, err := r.store.PendingLink(ctx, account.ResetPassword, u.ID); err != nil {
		t.Fatalf("the refused reset used the link: %v", err)
	}

	must(t, r.store.ResetPassword(ctx, link, creds, "new-hash", newGrant(u.ID, u.Email, 1), now, revoke))
	after, err := r.store.User(ctx, u.ID)
	if err != nil || after.PasswordHash != "new-hash" || after.SessionEpoch != 1 || !after.EmailVerified {
		t.Fatalf("user after reset = %+v, %v; want the new hash, epoch 1, verified", after, err)
	}
	mustBe(t, errOf2(r.store.PendingLink(ctx, account.VerifyEmail, u.ID)), account.ErrLinkInvalid)
	if st, err := r.store.LoginState(ctx, u.Email, "", "", now); err != nil || st.Account.Attempts != 0 {
		t.Errorf("login attempts after reset = %d, %v; want 0", st.Account.Attempts, err)
	}
	if sess, user, err := r.store.Session(ctx, session); err != nil || sess.Check(session, user.SessionEpoch, now) == nil {
		t.Errorf("the session from before the reset still refreshes (%v)", err)
	}
	if !r.revoked(t, u.ID, "any-session", 0) || r.revoked(t, u.ID, "new-session", 1) {
		t.Error("the reset did not revoke exactly the access tokens from before it")
	}
	mustBe(t, r.store.ResetPassword(ctx, link, after, "newer-hash", newGrant(u.ID, u.Email, 2), now, revoke), account.ErrLinkInvalid)
}

// limited accepts the errors of a reached limit (account.Limited), and
// fails t for one whose wait (Retry-After) is not one wait accepts.
func limited(t *testing.T, wait func(time.Duration) bool) func(error) bool {
	return func(err error) bool {
		p := problem.Of(err, problem.TooManyRequests)
		if p != nil && !wait(p.RetryAfter) {
			t.Errorf("Retry-After %v", p.RetryAfter)
		}
		return p != nil
	}
}

// items counts the items of the revocations table: two per entry (under
// the user and in the feed).
func (r rig) items(t *testing.T) int {
	t.Helper()
	out, err := r.db.Scan(context.Background(), &dynamodb.ScanInput{TableName: &r.revocations})
	must(t, err)
	return len(out.Items)
}

// TestRevocations checks that a logout revokes the access tokens of its
// session and a password change those from before it, exactly; and what
// bounds the revocation list: a refused logout or change, or a logout of
// a session that ended already, writes nothing, and past the user's
// budget neither a logout nor a password change writes anything.
func TestRevocations(t *testing.T) {
	r := newRig(t)
	ctx, now, u := begin(t, r.store, 36, "budget@example.com", true)
	budget := account.Limit{Key: "revocations#" + u.ID, Max: 2, Window: time.Hour}
	laptop, phone, tablet := startSession(t, r.store, u.ID, now), startSession(t, r.store, u.ID, now), startSession(t, r.store, u.ID, now)
	must(t, r.store.RevokeSession(ctx, u.ID, laptop.FamilyID, logout(u.ID, laptop.FamilyID, now), budget))
	if !r.revoked(t, u.ID, laptop.FamilyID, 0) || r.revoked(t, u.ID, phone.FamilyID, 0) {
		t.Fatal("logout did not revoke exactly the laptop session's tokens")
	}
	mustBe(t, r.store.RevokeSession(ctx, u.ID, "no-such", logout(u.ID, "no-such", now), budget), account.ErrSessionInvalid)
	for range 3 { // the same logout again, later: nothing to do
		later := now.Add(time.Second)
		mustBe(t, r.store.RevokeSession(ctx, u.ID, laptop.FamilyID, logout(u.ID, laptop.FamilyID, later), budget), account.ErrSessionEnded)
	}
	if n := r.items(t); n != 2 {
		t.Fatalf("%d revocation items after one logout, a refused one and three replays, want 2 (one entry)", n)
	}
	must(t, r.store.RevokeSession(ctx, u.ID, phone.FamilyID, logout(u.ID, phone.FamilyID, now), budget))
	// The budget of 2 is spent: a third logout and a password change are
	// refused whole.
	if err := r.store.RevokeSession(ctx, u.ID, tablet.FamilyID, logout(u.ID, tablet.FamilyID, now), budget); problem.Of(err, problem.TooManyRequests) == nil {
		t.Fatalf("logout past the budget = %v, want account.Limited", err)
	}
	if sess, _, _ := r.store.Session(ctx, tablet); sess.Revoked {
		t.Error("a logout refused for the budget revoked the family")
	}
	if err := r.store.ChangePassword(ctx, credentials(u.ID, "old", 0), "new", now, revocation.User(u.ID, 1, now, ttl), budget); problem.Of(err, problem.TooManyRequests) == nil {
		t.Fatalf("password change past the budget = %v, want account.Limited", err)
	}
	if u, _ := r.store.User(ctx, u.ID); u.PasswordHash != "old" || u.SessionEpoch != 0 {
		t.Errorf("a password change refused for the budget changed the user: %+v", u)
	}
	if n := r.items(t); n != 4 {
		t.Fatalf("%d revocation items, want 4 (two entries)", n)
	}
	// Without a revocation (reuse detection past the budget), the family
	// still ends.
	must(t, r.store.RevokeSession(ctx, u.ID, tablet.FamilyID, nil, noBudget))
	if sess, _, _ := r.store.Session(ctx, tablet); !sess.Revoked || r.items(t) != 4 {
		t.Error("revoking a family without an entry did not end it, or wrote an entry")
	}
	// Without a budget, a password change revokes the tokens from before
	// it; a refused one (stale) writes nothing.
	must(t, r.store.ChangePassword(ctx, credentials(u.ID, "old", 0), "new", now, revocation.User(u.ID, 1, now, ttl), noBudget))
	mustBe(t, r.store.ChangePassword(ctx, credentials(u.ID, "old", 0), "x", now, revocation.User(u.ID, 7, now, ttl), noBudget), account.ErrStaleWrite)
	if !r.revoked(t, u.ID, phone.FamilyID, 0) || r.revoked(t, u.ID, "after", 1) || r.items(t) != 6 {
		t.Fatal("the password change did not revoke exactly the tokens from before it, or the refused one wrote")
	}
}

func TestCountRequestHoldsTheLimitUnderConcurrency(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Hour).Add(10 * time.Minute)
	limit := account.Limit{Key: "source#192.0.2.9", Max: 5, Window: time.Hour}
	errs := testcloud.Parallel(12, func(int) error { return r.store.CountRequest(ctx, limit, now) })
	if counted := succeeded(t, errs, limited(t, func(d time.Duration) bool { return d == 50*time.Minute })); counted != limit.Max {
		t.Fatalf("%d of 12 requests at once counted, want exactly %d", counted, limit.Max)
	}
	must(t, r.store.CountRequest(ctx, limit, now.Add(time.Hour)))
}

// TestCancelRegistration: the verification link's token cancels an
// unverified registration at once: the user, its email's claim, its
// pending links and failed login count are gone, and the address can be
// registered again; a device token of the cancelled account is no device
// of the next one. A spent, replaced or expired link, or a verified
// email, cancels nothing.
func TestCancelRegistration(t *testing.T) {
	r := newRig(t)
	const email = "cancel@example.com"
	ctx, now, u := begin(t, r.store, 40, email, false)
	_, link, ev := verification(u, now)
	must(t, r.store.CreateUser(ctx, u, "hash", link, ev))
	// The registrant logs in (a session and a device token) and fails once.
	refresh := account.NewRefreshToken(u.ID)
	device := account.NewDeviceToken()
	must(t, r.store.CompleteLogin(ctx, account.LoginCompletion{Refresh: refresh, Email: email, NewDevice: device}, now))
	if st, err := r.store.LoginState(ctx, email, "", device.Hash(), now); err != nil || st.Device == nil {
		t.Fatalf("LoginState before = %+v, %v; want the registrant's device", st, err)
	}
	creds, err := r.store.User(ctx, u.ID)
	must(t, err)
	stale := link
	stale.Hash = strings.Repeat("0", len(link.Hash)) // another token's hash
	mustBe(t, r.store.CancelRegistration(ctx, stale, creds, now), account.ErrLinkInvalid)
	mustBe(t, r.store.CancelRegistration(ctx, link, creds, link.ExpiresAt), account.ErrLinkInvalid)
	must(t, r.store.CancelRegistration(ctx, link, creds, now))
	mustBe(t, errOf(r.store.User(ctx, u.ID)), account.ErrNotFound)
	mustBe(t, errOf(r.store.UserByEmail(ctx, email)), account.ErrNotFound)
	mustBe(t, errOf2(r.store.PendingLink(ctx, account.VerifyEmail, u.ID)), account.ErrLinkInvalid)
	mustBe(t, errOf2(r.store.Session(ctx, refresh)), account.ErrSessionInvalid)
	mustBe(t, r.store.CancelRegistration(ctx, link, creds, now), account.ErrLinkInvalid)

	// The address's owner registers it; the registrant's device token
	// does not count as a device of the new account.
	owner := newUser(ulidLike(41), email, now)
	_, ownerLink, ownerEv := verification(owner, now)
	must(t, r.store.CreateUser(ctx, owner, "hash", ownerLink, ownerEv))
	st, err := r.store.LoginState(ctx, email, "", device.Hash(), now)
	if err != nil || !st.Found || st.Credentials.ID != owner.ID || st.Device != nil {
		t.Fatalf("LoginState after = %+v, %v; want the owner's account and no device", st, err)
	}

	// Verified, the owner's account cannot be cancelled, even with a link
	// that was still pending (a race with the verification).
	must(t, r.store.VerifyEmail(ctx, ownerLink, newGrant(owner.ID, owner.Email, 0), now))
	verified, err := r.store.User(ctx, owner.ID)
	must(t, err)
	_, racing, ownerEvAgain := verification(owner, now)
	ownerEvAgain.ID = "ev-verify-again-" + owner.ID
	must(t, r.store.IssueLink(ctx, account.VerifyEmail, &racing, &ownerEvAgain, account.Limit{Key: "test#" + owner.ID, Max: 10, Window: time.Hour}, now))
	mustBe(t, r.store.CancelRegistration(ctx, racing, verified, now), account.ErrLinkInvalid)
	if _, err := r.store.UserByEmail(ctx, email); err != nil {
		t.Fatalf("the verified account is gone: %v", err)
	}
}
