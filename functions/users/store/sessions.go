package store

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/shared/revocation"
)

// familyRecord is a refresh token family. Only the hash of its current
// token is kept, and the hash of the secret its tokens share: a presented
// token with another hash that shows the family's secret has been spent;
// one that does not was never the family's.
type familyRecord struct {
	key
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
	var hour time.Time
	if r.RefreshHour != 0 {
		hour = time.Unix(r.RefreshHour, 0).UTC()
	}
	return account.Session{
		UserID: r.UserID, FamilyID: r.FamilyID, CurrentHash: r.CurrentHash, Proof: r.FamilyProof, Epoch: r.Epoch,
		Revoked: r.Revoked, ExpiresAt: time.Unix(r.ExpiresAt, 0).UTC(),
		Refreshes: r.Refreshes, RefreshHour: hour,
	}
}

// Session returns the family of t together with its user, read in one
// consistent BatchGetItem. Returns account.ErrSessionInvalid if either is
// missing.
func (s *Store) Session(ctx context.Context, t account.RefreshToken) (account.Session, account.Credentials, error) {
	return withUser(ctx, s, "get session", t.UserID, familyKey(t.UserID, t.FamilyID), familyRecord.session, account.ErrSessionInvalid)
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
	return s.tx().
		update(familyKey(presented.UserID, presented.FamilyID),
			set("currentHash", next.Hash(), "expiresAt", now.Add(account.RefreshTTL).Unix(),
				"refreshes", count.Count, "refreshHour", count.Hour.Unix()),
			is("currentHash", presented.Hash()), is("revoked", false),
			expression.Name("expiresAt").GreaterThan(expression.Value(now.Unix()))).
		fails(func(old item) error {
			if r, ok := decode[familyRecord](old); ok && !r.Revoked && r.session().SpentBy(presented) {
				return account.ErrTokenReused // a concurrent rotation spent it first
			}
			return account.ErrSessionInvalid
		}).
		check(userKey(presented.UserID), is("sessionEpoch", epoch)).failsWith(account.ErrSessionInvalid).
		run(ctx, "rotate session")
}

// RevokeSession revokes a family of userID and, with revoke, writes it
// (which ends the family's access tokens) and counts it against budget
// (none when budget.Max is 0), in one transaction. Returns
// account.ErrSessionInvalid if the family does not exist or belongs to
// someone else, account.ErrSessionEnded if it was revoked already, and
// account.Limited when the budget is spent; each writing nothing.
func (s *Store) RevokeSession(ctx context.Context, userID, familyID string, revoke *revocation.Entry, budget account.Limit) error {
	t := s.tx().update(familyKey(userID, familyID), set("revoked", true),
		exists(), expression.Name("revoked").NotEqual(expression.Value(true))).
		fails(func(old item) error {
			if len(old) == 0 {
				return account.ErrSessionInvalid
			}
			return account.ErrSessionEnded
		})
	if revoke != nil {
		t.revocation(*revoke, budget)
	}
	return t.run(ctx, "revoke session")
}

// revocation adds the items that record revoke in the revocations table
// and, when budget.Max > 0, count it against budget, in the window of the
// revocation's time.
func (t *tx) revocation(revoke revocation.Entry, budget account.Limit) *tx {
	t.add(revocation.Writes(t.s.revocations, revoke)...)
	if budget.Max > 0 {
		t.limit(budget, revoke.RevokedAt)
	}
	return t
}
