// Package apptest provides stand-ins for the users service's stores, for
// tests that run without a database: MemStore, an in-memory store that
// keeps the contracts the app package's store interfaces document, and
// FakeStore, whose every method is a function field that a test can
// replace to spy on calls or inject failures.
package apptest

import (
	"context"
	"time"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/functions/users/app"
	"github.com/serverless-shop/backend/shared/events"
	"github.com/serverless-shop/backend/shared/revocation"
)

// FakeStore implements every store interface of the app package with
// function fields, so a test can replace any one of them to spy on calls or
// inject failures. NewFakeStore points the fields at a MemStore.
type FakeStore struct {
	CreateUserFn         func(ctx context.Context, u account.User, passwordHash string, verify account.PendingLink, ev events.AccountEvent) error
	UserFn               func(ctx context.Context, id string) (account.Credentials, error)
	UserByEmailFn        func(ctx context.Context, email string) (account.Credentials, error)
	UpdateNameFn         func(ctx context.Context, id, name string, now time.Time) (account.User, error)
	ChangePasswordFn     func(ctx context.Context, u account.Credentials, newHash string, now time.Time, revoke revocation.Entry, budget account.Limit) error
	RehashPasswordFn     func(ctx context.Context, id, oldHash, newHash string) error
	LoginStateFn         func(ctx context.Context, email, source, deviceHash string, now time.Time) (account.LoginState, error)
	TakeAttemptFn        func(ctx context.Context, t account.AttemptTake, now time.Time) error
	CompleteLoginFn      func(ctx context.Context, c account.LoginCompletion, now time.Time) error
	CountSourceFailureFn func(ctx context.Context, source string, first bool, forget time.Duration, now time.Time) error
	ClearAttemptsFn      func(ctx context.Context, email string) error
	SessionFn            func(ctx context.Context, t account.RefreshToken) (account.Session, account.Credentials, error)
	RotateSessionFn      func(ctx context.Context, presented, next account.RefreshToken, epoch int64, count account.RefreshCount, now time.Time) error
	RevokeSessionFn      func(ctx context.Context, userID, familyID string, revoke *revocation.Entry, budget account.Limit) error
	IssueLinkFn          func(ctx context.Context, p account.Purpose, link *account.PendingLink, ev *events.AccountEvent, limit account.Limit, now time.Time) error
	PendingLinkFn        func(ctx context.Context, p account.Purpose, userID string) (account.PendingLink, account.Credentials, error)
	VerifyEmailFn        func(ctx context.Context, link account.PendingLink, device account.DeviceGrant, now time.Time) error
	ResetPasswordFn      func(ctx context.Context, link account.PendingLink, u account.Credentials, newHash string, device account.DeviceGrant, now time.Time, revoke revocation.Entry) error
	CountRequestFn       func(ctx context.Context, limit account.Limit, now time.Time) error
	CancelRegistrationFn func(ctx context.Context, link account.PendingLink, u account.Credentials, now time.Time) error
}

var (
	_ app.Accounts      = (*FakeStore)(nil)
	_ app.Sessions      = (*FakeStore)(nil)
	_ app.LoginAttempts = (*FakeStore)(nil)
	_ app.Links         = (*FakeStore)(nil)
	_ app.Requests      = (*FakeStore)(nil)
)

// CreateUser calls CreateUserFn.
func (f *FakeStore) CreateUser(ctx context.Context, u account.User, passwordHash string, verify account.PendingLink, ev events.AccountEvent) error {
	return f.CreateUserFn(ctx, u, passwordHash, verify, ev)
}

// UserByEmail calls UserByEmailFn.
func (f *FakeStore) UserByEmail(ctx context.Context, email string) (account.Credentials, error) {
	return f.UserByEmailFn(ctx, email)
}

// User calls UserFn.
func (f *FakeStore) User(ctx context.Context, id string) (account.Credentials, error) {
	return f.UserFn(ctx, id)
}

// UpdateName calls UpdateNameFn.
func (f *FakeStore) UpdateName(ctx context.Context, id, name string, now time.Time) (account.User, error) {
	return f.UpdateNameFn(ctx, id, name, now)
}

// ChangePassword calls ChangePasswordFn.
func (f *FakeStore) ChangePassword(ctx context.Context, u account.Credentials, newHash string, now time.Time, revoke revocation.Entry, budget account.Limit) error {
	return f.ChangePasswordFn(ctx, u, newHash, now, revoke, budget)
}

// RehashPassword calls RehashPasswordFn.
func (f *FakeStore) RehashPassword(ctx context.Context, id, oldHash, newHash string) error {
	return f.RehashPasswordFn(ctx, id, oldHash, newHash)
}

// LoginState calls LoginStateFn.
func (f *FakeStore) LoginState(ctx context.Context, email, source, deviceHash string, now time.Time) (account.LoginState, error) {
	return f.LoginStateFn(ctx, email, source, deviceHash, now)
}

// TakeAttempt calls TakeAttemptFn.
func (f *FakeStore) TakeAttempt(ctx context.Context, t account.AttemptTake, now time.Time) error {
	return f.TakeAttemptFn(ctx, t, now)
}

// CompleteLogin calls CompleteLoginFn.
func (f *FakeStore) CompleteLogin(ctx context.Context, c account.LoginCompletion, now time.Time) error {
	return f.CompleteLoginFn(ctx, c, now)
}

// CountSourceFailure calls CountSourceFailureFn.
func (f *FakeStore) CountSourceFailure(ctx context.Context, source string, first bool, forget time.Duration, now time.Time) error {
	return f.CountSourceFailureFn(ctx, source, first, forget, now)
}

// ClearAttempts calls ClearAttemptsFn.
func (f *FakeStore) ClearAttempts(ctx context.Context, email string) error {
	return f.ClearAttemptsFn(ctx, email)
}

// Session calls SessionFn.
func (f *FakeStore) Session(ctx context.Context, t account.RefreshToken) (account.Session, account.Credentials, error) {
	return f.SessionFn(ctx, t)
}

// RotateSession calls RotateSessionFn.
func (f *FakeStore) RotateSession(ctx context.Context, presented, next account.RefreshToken, epoch int64, count account.RefreshCount, now time.Time) error {
	return f.RotateSessionFn(ctx, presented, next, epoch, count, now)
}

// RevokeSession calls RevokeSessionFn.
func (f *FakeStore) RevokeSession(ctx context.Context, userID, familyID string, revoke *revocation.Entry, budget account.Limit) error {
	return f.RevokeSessionFn(ctx, userID, familyID, revoke, budget)
}

// IssueLink calls IssueLinkFn.
func (f *FakeStore) IssueLink(ctx context.Context, p account.Purpose, link *account.PendingLink, ev *events.AccountEvent, limit account.Limit, now time.Time) error {
	return f.IssueLinkFn(ctx, p, link, ev, limit, now)
}

// PendingLink calls PendingLinkFn.
func (f *FakeStore) PendingLink(ctx context.Context, p account.Purpose, userID string) (account.PendingLink, account.Credentials, error) {
	return f.PendingLinkFn(ctx, p, userID)
}

// VerifyEmail calls VerifyEmailFn.
func (f *FakeStore) VerifyEmail(ctx context.Context, link account.PendingLink, device account.DeviceGrant, now time.Time) error {
	return f.VerifyEmailFn(ctx, link, device, now)
}

// ResetPassword calls ResetPasswordFn.
func (f *FakeStore) ResetPassword(ctx context.Context, link account.PendingLink, u account.Credentials, newHash string, device account.DeviceGrant, now time.Time, revoke revocation.Entry) error {
	return f.ResetPasswordFn(ctx, link, u, newHash, device, now, revoke)
}

// CancelRegistration calls CancelRegistrationFn.
func (f *FakeStore) CancelRegistration(ctx context.Context, link account.PendingLink, u account.Credentials, now time.Time) error {
	return f.CancelRegistrationFn(ctx, link, u, now)
}

// CountRequest calls CountRequestFn.
func (f *FakeStore) CountRequest(ctx context.Context, limit account.Limit, now time.Time) error {
	return f.CountRequestFn(ctx, limit, now)
}

// NewFakeStore returns a fake whose functions are m's methods.
func NewFakeStore(m *MemStore) *FakeStore {
	return &FakeStore{
		CreateUserFn:         m.CreateUser,
		UserFn:               m.User,
		UserByEmailFn:        m.UserByEmail,
		UpdateNameFn:         m.UpdateName,
		ChangePasswordFn:     m.ChangePassword,
		RehashPasswordFn:     m.RehashPassword,
		LoginStateFn:         m.LoginState,
		TakeAttemptFn:        m.TakeAttempt,
		CompleteLoginFn:      m.CompleteLogin,
		CountSourceFailureFn: m.CountSourceFailure,
		ClearAttemptsFn:      m.ClearAttempts,
		SessionFn:            m.Session,
		RotateSessionFn:      m.RotateSession,
		RevokeSessionFn:      m.RevokeSession,
		IssueLinkFn:          m.IssueLink,
		PendingLinkFn:        m.PendingLink,
		VerifyEmailFn:        m.VerifyEmail,
		ResetPasswordFn:      m.ResetPassword,
		CountRequestFn:       m.CountRequest,
		CancelRegistrationFn: m.CancelRegistration,
	}
}
