package store

import (
	"context"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/shared/ddb"
	"github.com/serverless-shop/backend/shared/events"
	"github.com/serverless-shop/backend/shared/revocation"
)

// linkItem is a user's pending link of one purpose: the hash of its token
// only, never the token. The table's TTL reads expiresAt in seconds; the
// exact expiry, which the checks use, is expiresAtMs.
type linkItem struct {
	PK          string `dynamodbav:"PK"`
	SK          string `dynamodbav:"SK"`
	UserID      string `dynamodbav:"userId"`
	TokenHash   string `dynamodbav:"tokenHash"`
	ExpiresAt   int64  `dynamodbav:"expiresAt"`
	ExpiresAtMs int64  `dynamodbav:"expiresAtMs"`
}

func linkSK(p account.Purpose) string { return "LINK#" + p.String() }

func (r linkItem) link() account.PendingLink {
	return account.PendingLink{UserID: r.UserID, Hash: r.TokenHash, ExpiresAt: time.UnixMilli(r.ExpiresAtMs).UTC()}
}

// linkPut is the transaction item that makes l the user's pending link of
// purpose p, replacing any.
func (s *Store) linkPut(p account.Purpose, l account.PendingLink) (*types.Put, error) {
	item, err := attributevalue.MarshalMap(linkItem{
		PK: userPK(l.UserID), SK: linkSK(p), UserID: l.UserID, TokenHash: l.Hash,
		ExpiresAt: l.ExpiresAt.Unix(), ExpiresAtMs: l.ExpiresAt.UnixMilli(),
	})
	if err != nil {
		return nil, err
	}
	return &types.Put{TableName: &s.table, Item: item}, nil
}

// linkUse is the transaction item that deletes l, on condition that it is
// still the pending link (same token) and has not expired at now.
func (s *Store) linkUse(p account.Purpose, l account.PendingLink, now time.Time) (*types.Delete, error) {
	cond := expression.Name("tokenHash").Equal(expression.Value(l.Hash)).
		And(expression.Name("expiresAtMs").GreaterThan(expression.Value(now.UnixMilli())))
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return nil, err
	}
	return &types.Delete{
		TableName: &s.table, Key: ddb.Key(userPK(l.UserID), linkSK(p)),
		ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	}, nil
}

// limitCount is the transaction item that counts one request against l in
// the window holding now, on condition that the window has room left.
// Windows are fixed (aligned to l.Window) and their items expire with them.
func (s *Store) limitCount(l account.Limit, now time.Time) (*types.Update, error) {
	start := now.Truncate(l.Window)
	upd := expression.Add(expression.Name("requests"), expression.Value(1)).
		Set(expression.Name("expiresAt"), expression.Value(start.Add(l.Window).Unix()))
	room := expression.AttributeNotExists(expression.Name("requests")).
		Or(expression.Name("requests").LessThan(expression.Value(l.Max)))
	expr, err := expression.NewBuilder().WithUpdate(upd).WithCondition(room).Build()
	if err != nil {
		return nil, err
	}
	return ddb.Update(s.table, ddb.Key(limitPK(l.Key), strconv.FormatInt(start.Unix(), 10)), expr), nil
}

// CountRequest counts one request against l. Returns
// account.Limited when the window is full, counting nothing.
func (s *Store) CountRequest(ctx context.Context, l account.Limit, now time.Time) error {
	count, err := s.limitCount(l, now)
	if err != nil {
		return wrap("count request", err)
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: count.TableName, Key: count.Key, UpdateExpression: count.UpdateExpression,
		ConditionExpression: count.ConditionExpression, ExpressionAttributeNames: count.ExpressionAttributeNames,
		ExpressionAttributeValues: count.ExpressionAttributeValues,
	})
	if _, ok := ddb.ConditionFailure(err); ok {
		return limited(l, now)
	}
	if err != nil {
		return wrap("count request", err)
	}
	return nil
}

// limited is the error of a request limit l refused at now.
func limited(l account.Limit, now time.Time) error {
	ends := now.Truncate(l.Window).Add(l.Window)
	return account.Limited(ends.Sub(now))
}

// IssueLink counts the request against limit and, with a link, makes it the
// user's pending link of purpose p and queues ev, in one transaction.
// Returns account.Limited when the limit is reached, writing nothing.
func (s *Store) IssueLink(ctx context.Context, p account.Purpose, link *account.PendingLink, ev *events.AccountEvent, limit account.Limit, now time.Time) error {
	count, err := s.limitCount(limit, now)
	if err != nil {
		return wrap("issue link", err)
	}
	items := []types.TransactWriteItem{{Update: count}}
	if link != nil && ev != nil {
		put, err := s.linkPut(p, *link)
		if err != nil {
			return wrap("issue link", err)
		}
		event, err := s.outboxPut(*ev)
		if err != nil {
			return wrap("issue link", err)
		}
		items = append(items, types.TransactWriteItem{Put: put}, types.TransactWriteItem{Put: event})
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if reasons, ok := ddb.CancellationReasons(err); ok && ddb.ConditionFailedAt(reasons, 0) {
		return limited(limit, now)
	}
	if err != nil {
		return wrap("issue link", err)
	}
	return nil
}

// PendingLink reads the user's pending link of purpose p and the user in
// one consistent BatchGetItem. Returns account.ErrLinkInvalid if either is
// missing.
func (s *Store) PendingLink(ctx context.Context, p account.Purpose, userID string) (account.PendingLink, account.Credentials, error) {
	link, user, err := withUser[linkItem](ctx, s, userID, linkSK(p))
	if err != nil {
		return account.PendingLink{}, account.Credentials{}, wrap("pending link", err)
	}
	if link == nil || user == nil {
		return account.PendingLink{}, account.Credentials{}, account.ErrLinkInvalid
	}
	return link.link(), user.credentials(), nil
}

// VerifyEmail deletes the verification link, if it is still link and
// unexpired, marks the user's email verified and stores the device of
// device, in one transaction. Returns account.ErrLinkInvalid when the link
// was used or replaced.
func (s *Store) VerifyEmail(ctx context.Context, link account.PendingLink, device account.DeviceGrant, now time.Time) error {
	use, err := s.linkUse(account.VerifyEmail, link, now)
	if err != nil {
		return wrap("verify email", err)
	}
	put, err := s.devicePut(device, now)
	if err != nil {
		return wrap("verify email", err)
	}
	upd := expression.Set(expression.Name("emailVerified"), expression.Value(true)).
		Set(expression.Name("updatedAt"), expression.Value(now.UTC()))
	expr, err := expression.NewBuilder().WithUpdate(upd).WithCondition(expression.AttributeExists(expression.Name("PK"))).Build()
	if err != nil {
		return wrap("verify email", err)
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Delete: use},
		{Update: ddb.Update(s.table, ddb.Key(userPK(link.UserID), skProfile), expr)},
		{Put: put},
	}})
	if reasons, ok := ddb.CancellationReasons(err); ok && (ddb.ConditionFailedAt(reasons, 0) || ddb.ConditionFailedAt(reasons, 1)) {
		return account.ErrLinkInvalid
	}
	if err != nil {
		return wrap("verify email", err)
	}
	return nil
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
	use, err := s.linkUse(account.ResetPassword, link, now)
	if err != nil {
		return wrap("reset password", err)
	}
	put, err := s.devicePut(device, now)
	if err != nil {
		return wrap("reset password", err)
	}
	upd := expression.Set(expression.Name("passwordHash"), expression.Value(newHash)).
		Set(expression.Name("sessionEpoch"), expression.Value(u.SessionEpoch+1)).
		Set(expression.Name("emailVerified"), expression.Value(true)).
		Set(expression.Name("updatedAt"), expression.Value(now.UTC()))
	cond := expression.Name("passwordHash").Equal(expression.Value(u.PasswordHash)).
		And(expression.Name("sessionEpoch").Equal(expression.Value(u.SessionEpoch)))
	expr, err := expression.NewBuilder().WithUpdate(upd).WithCondition(cond).Build()
	if err != nil {
		return wrap("reset password", err)
	}
	rev, err := revocation.Writes(s.revocations, revoke)
	if err != nil {
		return wrap("reset password", err)
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: append([]types.TransactWriteItem{
		{Delete: use},
		{Update: ddb.Update(s.table, ddb.Key(userPK(u.ID), skProfile), expr)},
		{Delete: &types.Delete{TableName: &s.table, Key: ddb.Key(userPK(u.ID), linkSK(account.VerifyEmail))}},
		{Delete: &types.Delete{TableName: &s.table, Key: ddb.Key(loginPK(u.Email), skAttempts)}},
		{Put: put},
	}, rev...)})
	if reasons, ok := ddb.CancellationReasons(err); ok {
		switch {
		case ddb.ConditionFailedAt(reasons, 0):
			return account.ErrLinkInvalid
		case ddb.ConditionFailedAt(reasons, 1):
			return account.ErrStaleWrite
		}
	}
	if err != nil {
		return wrap("reset password", err)
	}
	return nil
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
	use, err := s.linkUse(account.VerifyEmail, link, now)
	if err != nil {
		return wrap("cancel registration", err)
	}
	unverified := expression.AttributeNotExists(expression.Name("emailVerified")).
		Or(expression.Name("emailVerified").Equal(expression.Value(false)))
	profile, err := expression.NewBuilder().WithCondition(unverified.And(expression.Name("email").Equal(expression.Value(u.Email)))).Build()
	if err != nil {
		return wrap("cancel registration", err)
	}
	claim, err := expression.NewBuilder().WithCondition(expression.Name("userId").Equal(expression.Value(u.ID))).Build()
	if err != nil {
		return wrap("cancel registration", err)
	}
	del := func(key map[string]types.AttributeValue, e *expression.Expression) *types.Delete {
		d := &types.Delete{TableName: &s.table, Key: key}
		if e != nil {
			d.ConditionExpression, d.ExpressionAttributeNames, d.ExpressionAttributeValues = e.Condition(), e.Names(), e.Values()
		}
		return d
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Delete: use},
		{Delete: del(ddb.Key(userPK(u.ID), skProfile), &profile)},
		{Delete: del(ddb.Key(emailPK(u.Email), skEmail), &claim)},
		{Delete: del(ddb.Key(userPK(u.ID), linkSK(account.ResetPassword)), nil)},
		{Delete: del(ddb.Key(loginPK(u.Email), skAttempts), nil)},
	}})
	if reasons, ok := ddb.CancellationReasons(err); ok && (ddb.ConditionFailedAt(reasons, 0) || ddb.ConditionFailedAt(reasons, 1) || ddb.ConditionFailedAt(reasons, 2)) {
		return account.ErrLinkInvalid
	}
	if err != nil {
		return wrap("cancel registration", err)
	}
	return nil
}
