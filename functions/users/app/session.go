package app

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/shared/logging"
	"github.com/serverless-shop/backend/shared/problem"
	"github.com/serverless-shop/backend/shared/revocation"
	"github.com/serverless-shop/backend/shared/token"
)

// TokenPair is what a login or a refresh hands out: a signed access token,
// valid for ExpiresIn, and the opaque refresh token that gets the next pair;
// it is the answer of the API's login and refresh routes, hence its JSON
// names.
type TokenPair struct {
	AccessToken  string `json:"accessToken"`
	RefreshToken string `json:"refreshToken"`
	TokenType    string `json:"tokenType"` // Bearer
	ExpiresIn    int    `json:"expiresIn"` // seconds
	// DeviceToken, from a login only, lets this device's next logins be
	// counted apart from the account's (LoginCommand.DeviceToken).
	DeviceToken string `json:"deviceToken,omitempty"`
}

// tokenPair signs an access token for u in the session of refresh and
// pairs it with refresh. The token carries the role u has as read: a
// login and a refresh read the user anyway (a refresh with its session),
// so the role costs no read. The token's name is the one the services
// show (account.ShownName): it reaches the order emails.
func (s *Service) tokenPair(ctx context.Context, u account.Credentials, refresh account.RefreshToken) (TokenPair, error) {
	access, _, err := s.Issuer.Issue(ctx, token.Subject{
		UserID: u.ID, Email: u.Email, Name: account.ShownName(u.Name), EmailVerified: u.EmailVerified,
		SessionID: refresh.FamilyID, SessionEpoch: u.SessionEpoch, Role: u.Role,
	})
	if err != nil {
		return TokenPair{}, err
	}
	return TokenPair{AccessToken: access, RefreshToken: refresh.Raw, TokenType: "Bearer", ExpiresIn: int(s.Issuer.TTL().Seconds())}, nil
}

// Refresh exchanges a refresh token for a new pair, rotating the token.
// Returns account.ErrSessionInvalid for a token that is malformed,
// unknown, expired or revoked, or made up with a session's ids (which an
// access token shows), account.ErrTokenReused for a spent one of the
// family (account.Session.Check), after revoking its whole family, and
// a 429 problem past the session's refreshes of the hour.
func (s *Service) Refresh(ctx context.Context, refreshToken string) (TokenPair, error) {
	presented, err := account.ParseRefreshToken(refreshToken)
	if err != nil {
		return TokenPair{}, err
	}
	now := s.Now()
	sess, user, err := s.Store.Session(ctx, presented)
	if err == nil {
		err = sess.Check(presented, user.SessionEpoch, now)
	}
	if err != nil {
		return TokenPair{}, s.refusePresented(ctx, presented, err)
	}
	count, err := sess.CountRefresh(now, account.DefaultRefreshesPerHour)
	if err != nil {
		return TokenPair{}, s.limited(ctx, refreshesLimited, err, slog.String("familyId", presented.FamilyID))
	}
	next := account.Rotate(presented)
	// Sign before rotating: if signing fails, the presented token stays good.
	pair, err := s.tokenPair(ctx, user, next)
	if err != nil {
		return TokenPair{}, err
	}
	if err := s.Store.RotateSession(ctx, presented, next, user.SessionEpoch, count, now); err != nil {
		return TokenPair{}, s.refusePresented(ctx, presented, err)
	}
	return pair, nil
}

// refusePresented returns the error of a refresh that failed with err. A
// spent token presented again means it leaked or the client is confused;
// either way the whole family is revoked (RFC 9700, section 4.14.2).
func (s *Service) refusePresented(ctx context.Context, t account.RefreshToken, err error) error {
	if !errors.Is(err, account.ErrTokenReused) {
		return err
	}
	s.Metrics.Add(MetricTokenReuse, 1)
	s.Log.WarnContext(ctx, "refresh token reuse detected; revoking its family",
		slog.String(logging.KeyUserID, t.UserID), slog.String("familyId", t.FamilyID))
	rerr := s.revokeSession(ctx, t)
	if problem.Of(rerr, problem.TooManyRequests) != nil {
		// The user's revocations of the hour are spent (revokeSession
		// counted it): end the family anyway, without a revocation entry.
		// Its access tokens then stop when they expire (AccessTokenTTL),
		// not within the minute.
		s.Log.WarnContext(ctx, "revocation budget spent; the reused family ends without revoking its access tokens early",
			slog.String(logging.KeyUserID, t.UserID), slog.String("familyId", t.FamilyID))
		rerr = s.Store.RevokeSession(ctx, t.UserID, t.FamilyID, nil, account.Limit{})
	}
	if rerr != nil && !errors.Is(rerr, account.ErrSessionInvalid) && !errors.Is(rerr, account.ErrSessionEnded) {
		return rerr
	}
	return err
}

// Logout revokes the family of the caller's (userID's) refresh token. A family revoked already
// is left as it is: a logout sent again writes nothing. Returns
// account.ErrSessionInvalid for a malformed or unknown token, or one of
// another user, and a 429 problem when the user's revocations of the hour
// are spent.
func (s *Service) Logout(ctx context.Context, userID, refreshToken string) error {
	t, err := account.ParseRefreshToken(refreshToken)
	if err == nil && t.UserID != userID {
		err = account.ErrSessionInvalid // someone else's token: not yours to revoke
	}
	if err == nil {
		err = s.revokeSession(ctx, t)
	}
	switch {
	case errors.Is(err, account.ErrSessionEnded):
		s.Log.InfoContext(ctx, "logout of a session that had ended already", slog.String("familyId", t.FamilyID))
	case err != nil:
		return err
	default:
		s.Log.InfoContext(ctx, "logged out", slog.String("familyId", t.FamilyID))
	}
	return nil
}

// revokeSession ends the family of t with its access tokens, counting the
// revocation against the user's budget.
func (s *Service) revokeSession(ctx context.Context, t account.RefreshToken) error {
	revoke := revocation.Session(t.UserID, t.FamilyID, s.now(), s.Issuer.TTL())
	return s.limited(ctx, revocationsLimited, s.Store.RevokeSession(ctx, t.UserID, t.FamilyID, &revoke, s.revocationBudget(t.UserID)))
}

// revocationBudget is the limit of the revocations userID may cause.
func (s *Service) revocationBudget(userID string) account.Limit {
	return account.Limit{Key: "revocations#" + userID, Max: DefaultRevocationsPerHour, Window: time.Hour}
}
