package store

import (
	"context"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/shared/events"
	"github.com/serverless-shop/backend/shared/revocation"
)

// linkItem is a user's pending link of one purpose: the hash of its token
// only, never the token. The table's TTL reads expiresAt in seconds; the
// exact expiry, which the checks use, is expiresAtMs.
type linkItem struct {
	key
	UserID      string `dynamodbav:"userId"`
	TokenHash   string `dynamodbav:"tokenHash"`
	ExpiresAt   int64  `dynamodbav:"expiresAt"`
	ExpiresAtMs int64  `dynamodbav:"expiresAtMs"`
}

func (r linkItem) link() account.PendingLink {
	return account.PendingLink{UserID: r.UserID, Hash: r.TokenHash, ExpiresAt: time.UnixMilli(r.ExpiresAtMs).UTC()}
}

// link adds the write that makes l the user's pending link of purpose p,
// replacing any.
func (t *tx) link(p account.Purpose, l account.PendingLink) *tx {
	return t.put(linkItem{
		key: linkKey(l.UserID, p), UserID: l.UserID, TokenHash: l.Hash,
		ExpiresAt: l.ExpiresAt.Unix(), ExpiresAtMs: l.ExpiresAt.UnixMilli(),
	})
}

// useLink adds the deletion of l, on condition that it is still the
// pending link (same token) and has not expired at now.
func (t *tx) useLink(p account.Purpose, l account.PendingLink, now time.Time) *tx {
	return t.delete(linkKey(l.UserID, p), is("tokenHash", l.Hash), expression.Name("expiresAtMs").GreaterThan(expression.Value(now.UnixMilli()))).
		failsWith(account.ErrLinkInvalid)
}

// limit adds the count of one request against l in the window holding
// now, on condition that the window has room left (account.Limited when
// it has none). Windows are fixed (aligned to l.Window) and their items
// expire with them.
func (t *tx) limit(l account.Limit, now time.Time) *tx {
	start := now.Truncate(l.Window)
	upd := set("expiresAt", start.Add(l.Window).Unix()).Add(expression.Name("requests"), expression.Value(1))
	room := expression.AttributeNotExists(expression.Name("requests")).
		Or(expression.Name("requests").LessThan(expression.Value(l.Max)))
	return t.update(key{"LIMIT#" + l.Key, strconv.FormatInt(start.Unix(), 10)}, upd, room).
		failsWith(account.Limited(start.Add(l.Window).Sub(now)))
}

// CountRequest counts one request against l. Returns
// account.Limited when the window is full, counting nothing.
func (s *Store) CountRequest(ctx context.Context, l account.Limit, now time.Time) error {
	return s.tx().limit(l, now).alone(ctx, "count request", nil)
}

// IssueLink counts the request against limit and, with a link, makes it the
// user's pending link of purpose p and queues ev, in one transaction.
// Returns account.Limited when the limit is reached, writing nothing.
func (s *Store) IssueLink(ctx context.Context, p account.Purpose, link *account.PendingLink, ev *events.AccountEvent, limit account.Limit, now time.Time) error {
	t := s.tx().limit(limit, now)
	if link != nil && ev != nil {
		t.link(p, *link).event(*ev)
	}
	return t.run(ctx, "issue link")
}

// PendingLink reads the user's pending link of purpose p and the user in
// one consistent BatchGetItem. Returns account.ErrLinkInvalid if either is
// missing.
func (s *Store) PendingLink(ctx context.Context, p account.Purpose, userID string) (account.PendingLink, account.Credentials, error) {
	return withUser(ctx, s, "pending link", userID, linkKey(userID, p), linkItem.link, account.ErrLinkInvalid)
}

// VerifyEmail deletes the verification link, if it is still link and
// unexpired, marks the user's email verified and stores the device of
// device, in one transaction. Returns account.ErrLinkInvalid when the link
// was used or replaced.
func (s *Store) VerifyEmail(ctx context.Context, link account.PendingLink, device account.DeviceGrant, now time.Time) error {
	return s.tx().
		useLink(account.VerifyEmail, link, now).
		update(userKey(link.UserID), set("emailVerified", true, "updatedAt", now.UTC()), exists()).failsWith(account.ErrLinkInvalid).
		device(device, now).run(ctx, "verify email")
}

// ResetPassword, in one transaction: deletes the reset link if it is still
// link and unexpired; sets u's password hash if it is still
// u.PasswordHash, raises the session epoch (every refresh token family and
// device token ends), marks the email verified; deletes a pending
// verification link and the failed login count; stores the device of
// device (of the new epoch); and writes revoke, which ends the access
// tokens issued before. Returns account.ErrLinkInvalid when the link was
// used or replaced, account.ErrStaleWrite when the user changed.
func (s *Store) ResetPassword(ctx context.Context, link account.PendingLink, u account.Credentials, newHash string, device account.DeviceGrant, now time.Time, revoke revocation.Entry) error {
	return s.tx().
		useLink(account.ResetPassword, link, now).
		update(userKey(u.ID),
			set("passwordHash", newHash, "sessionEpoch", u.SessionEpoch+1, "emailVerified", true, "updatedAt", now.UTC()),
			is("passwordHash", u.PasswordHash), is("sessionEpoch", u.SessionEpoch)).failsWith(account.ErrStaleWrite).
		delete(linkKey(u.ID, account.VerifyEmail)).
		delete(loginKey(u.Email)).
		device(device, now).
		revocation(revoke, account.Limit{}).run(ctx, "reset password")
}

// CancelRegistration, in one transaction: deletes the verification link if
// it is still link and unexpired; deletes the user if its email is still
// unverified, and its email's claim if it is still the user's (the address
// can be registered again at once); and deletes its pending reset link and
// its failed login count. Returns account.ErrLinkInvalid when the link was
// used or replaced, or the email verified meanwhile, writing nothing.
//
// What else the account had ends with it without a write: its sessions
// (a refresh finds no user: Session), its device tokens (bound to the
// user id, LoginState), its access tokens (the users routes find no
// user; orders need a verified email, which it never had). Their items
// expire by TTL. Its outbox events were relayed already, or are mailed
// with a link that no longer works; its request limits stay, counting
// against the address as before.
func (s *Store) CancelRegistration(ctx context.Context, link account.PendingLink, u account.Credentials, now time.Time) error {
	unverified := expression.AttributeNotExists(expression.Name("emailVerified")).Or(is("emailVerified", false))
	return s.tx().
		useLink(account.VerifyEmail, link, now).
		delete(userKey(u.ID), unverified, is("email", u.Email)).failsWith(account.ErrLinkInvalid).
		delete(emailKey(u.Email), is("userId", u.ID)).failsWith(account.ErrLinkInvalid).
		delete(linkKey(u.ID, account.ResetPassword)).
		delete(loginKey(u.Email)).run(ctx, "cancel registration")
}
