package store

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/serverless-shop/backend/functions/users/account"

	"github.com/serverless-shop/backend/shared/ddb"
	"github.com/serverless-shop/backend/shared/revocation"
)

// familyRecord is a refresh token family. Only the hash of its current
// token is kept, and the hash of the secret its tokens share: a presented
// token with another hash that shows the family's secret has been spent;
// one that does not was never the family's.
type familyRecord struct {
	PK          string    `dynamodbav:"PK"`
	SK          string    `dynamodbav:"SK"`
	UserID      string    `dynamodbav:"userId"`
	FamilyID    string    `dynamodbav:"familyId"`
	CurrentHash string    `dynamodbav:"currentHash"`
	FamilyProof string    `dynamodbav:"familyProof,omitempty"` // account.RefreshToken.FamilyProof
	Epoch       int64     `dynamodbav:"epoch"`
	Revoked     bool      `dynamodbav:"revoked"`
	CreatedAt   time.Time `dynamodbav:"createdAt"`
	ExpiresAt   int64     `dynamodbav:"expiresAt"`
	Refreshes   int       `dynamodbav:"refreshes,omitempty"`
	RefreshHour int64     `dynamodbav:"refreshHour,omitempty"` // Unix seconds
}

func (r familyRecord) session() account.Session {
	return account.Session{
		UserID: r.UserID, FamilyID: r.FamilyID, CurrentHash: r.CurrentHash, Proof: r.FamilyProof, Epoch: r.Epoch,
		Revoked: r.Revoked, CreatedAt: r.CreatedAt.UTC(), ExpiresAt: time.Unix(r.ExpiresAt, 0).UTC(),
		Refreshes: r.Refreshes, RefreshHour: unixOrZero(r.RefreshHour),
	}
}

// unixOrZero is the time of Unix seconds s, or the zero time for 0.
func unixOrZero(s int64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0).UTC()
}

// Session returns the family of t together with its user, read in one
// consistent BatchGetItem. Returns account.ErrSessionInvalid if either is
// missing.
func (s *Store) Session(ctx context.Context, t account.RefreshToken) (account.Session, account.Credentials, error) {
	fam, user, err := withUser[familyRecord](ctx, s, t.UserID, familySK(t.FamilyID))
	if err != nil {
		return account.Session{}, account.Credentials{}, wrap("get session", err)
	}
	if fam == nil || user == nil {
		return account.Session{}, account.Credentials{}, account.ErrSessionInvalid
	}
	return fam.session(), user.credentials(), nil
}

// RotateSession makes next the current token of the family if presented is
// still current, the family is neither revoked nor expired, and the user's
// session epoch is still epoch, all in one transaction, and stores the
// family's refresh count. Only one
// rotation of a token can win, so the count read with the family cannot be
// overwritten by another. Of two concurrent rotations of the same token
// exactly one succeeds. Returns
// account.ErrTokenReused when presented was spent meanwhile, and
// account.ErrSessionInvalid for any other failed check.
func (s *Store) RotateSession(ctx context.Context, presented, next account.RefreshToken, epoch int64, count account.RefreshCount, now time.Time) error {
	upd := expression.Set(expression.Name("currentHash"), expression.Value(next.Hash())).
		Set(expression.Name("expiresAt"), expression.Value(now.Add(account.RefreshTTL).Unix())).
		Set(expression.Name("refreshes"), expression.Value(count.Count)).
		Set(expression.Name("refreshHour"), expression.Value(count.Hour.Unix()))
	cond := expression.Name("currentHash").Equal(expression.Value(presented.Hash())).
		And(expression.Name("revoked").Equal(expression.Value(false))).
		And(expression.Name("expiresAt").GreaterThan(expression.Value(now.Unix())))
	fam, err := expression.NewBuilder().WithUpdate(upd).WithCondition(cond).Build()
	if err != nil {
		return wrap("rotate session", err)
	}
	userCond, err := expression.NewBuilder().WithCondition(expression.Name("sessionEpoch").Equal(expression.Value(epoch))).Build()
	if err != nil {
		return wrap("rotate session", err)
	}
	rotate := ddb.Update(s.table, ddb.Key(userPK(presented.UserID), familySK(presented.FamilyID)), fam)
	rotate.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{
			{Update: rotate},
			{ConditionCheck: &types.ConditionCheck{
				TableName: &s.table, Key: ddb.Key(userPK(presented.UserID), skProfile),
				ConditionExpression: userCond.Condition(), ExpressionAttributeNames: userCond.Names(), ExpressionAttributeValues: userCond.Values(),
			}},
		},
	})
	if err == nil {
		return nil
	}
	reasons, ok := ddb.CancellationReasons(err)
	if !ok {
		return wrap("rotate session", err)
	}
	if ddb.ConditionFailedAt(reasons, 0) && reasons[0].Item != nil {
		var r familyRecord
		if err := attributevalue.UnmarshalMap(reasons[0].Item, &r); err == nil && !r.Revoked && r.session().SpentBy(presented) {
			return account.ErrTokenReused // a concurrent rotation spent it first
		}
	}
	for _, r := range reasons {
		if code := aws.ToString(r.Code); code != "" && code != "None" && code != "ConditionalCheckFailed" {
			return wrap("rotate session", err) // throttling, conflict: not the client's fault
		}
	}
	return account.ErrSessionInvalid
}

// RevokeSession revokes a family of userID and, with revoke, writes it
// (which ends the family's access tokens) and counts it against budget
// (none when budget.Max is 0), in one transaction. Returns
// account.ErrSessionInvalid if the family does not exist or belongs to
// someone else, account.ErrSessionEnded if it was revoked already, and
// account.Limited when the budget is spent; each writing nothing.
func (s *Store) RevokeSession(ctx context.Context, userID, familyID string, revoke *revocation.Entry, budget account.Limit) error {
	expr, err := expression.NewBuilder().
		WithUpdate(expression.Set(expression.Name("revoked"), expression.Value(true))).
		WithCondition(expression.AttributeExists(expression.Name("PK")).
			And(expression.Name("revoked").NotEqual(expression.Value(true)))).
		Build()
	if err != nil {
		return wrap("revoke session", err)
	}
	family := ddb.Update(s.table, ddb.Key(userPK(userID), familySK(familyID)), expr)
	family.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
	items := []types.TransactWriteItem{{Update: family}}
	if revoke != nil {
		more, err := s.revocationWrites(*revoke, budget)
		if err != nil {
			return wrap("revoke session", err)
		}
		items = append(items, more...)
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if reasons, ok := ddb.CancellationReasons(err); ok {
		switch {
		case ddb.ConditionFailedAt(reasons, 0) && reasons[0].Item == nil:
			return account.ErrSessionInvalid
		case ddb.ConditionFailedAt(reasons, 0):
			return account.ErrSessionEnded
		case revoke != nil && budget.Max > 0 && ddb.ConditionFailedAt(reasons, len(items)-1):
			return limited(budget, revoke.RevokedAt)
		}
	}
	if err != nil {
		return wrap("revoke session", err)
	}
	return nil
}

// revocationWrites are the transaction items that record revoke in the
// revocations table and, when budget.Max > 0, count it against budget
// (last, so that a failed condition there says the budget is spent), in
// the window of the revocation's time.
func (s *Store) revocationWrites(revoke revocation.Entry, budget account.Limit) ([]types.TransactWriteItem, error) {
	items, err := revocation.Writes(s.revocations, revoke)
	if err != nil {
		return nil, err
	}
	if budget.Max > 0 {
		count, err := s.limitCount(budget, revoke.RevokedAt)
		if err != nil {
			return nil, err
		}
		items = append(items, types.TransactWriteItem{Update: count})
	}
	return items, nil
}
