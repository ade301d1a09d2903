package app_test

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/serverless-shop/backend/functions/notifications/app"
	"github.com/serverless-shop/backend/functions/notifications/mail"
)

// fakeDedupe is a dedupe table whose behaviour each test supplies.
type fakeDedupe struct {
	ClaimFn   func(ctx context.Context, eventID, owner string, now time.Time) error
	FinishFn  func(ctx context.Context, eventID, owner, status, messageID, detail string) error
	ReleaseFn func(ctx context.Context, eventID, owner string) error
}

var _ app.Dedupe = (*fakeDedupe)(nil)

func (f *fakeDedupe) Claim(ctx context.Context, eventID, owner string, now time.Time) error {
	return f.ClaimFn(ctx, eventID, owner, now)
}

func (f *fakeDedupe) Finish(ctx context.Context, eventID, owner, status, messageID, detail string) error {
	return f.FinishFn(ctx, eventID, owner, status, messageID, detail)
}

func (f *fakeDedupe) Release(ctx context.Context, eventID, owner string) error {
	return f.ReleaseFn(ctx, eventID, owner)
}

// fakeSender is an email sender whose behaviour each test supplies.
type fakeSender struct {
	SendFn func(ctx context.Context, e mail.Email, tags ...app.Tag) (string, error)
}

var _ app.Sender = (*fakeSender)(nil)

func (f *fakeSender) Send(ctx context.Context, e mail.Email, tags ...app.Tag) (string, error) {
	return f.SendFn(ctx, e, tags...)
}

// fakeQueue is an SQS client whose behaviour each test supplies.
type fakeQueue struct {
	SendMessageFn             func(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	ChangeMessageVisibilityFn func(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, opts ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
}

var _ app.Queue = (*fakeQueue)(nil)

func (f *fakeQueue) SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	return f.SendMessageFn(ctx, in, opts...)
}

func (f *fakeQueue) ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, opts ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error) {
	return f.ChangeMessageVisibilityFn(ctx, in, opts...)
}

// fakeOpener opens sealed link tokens as each test says.
type fakeOpener struct {
	OpenFn func(ctx context.Context, sealed []byte, ec map[string]string) ([]byte, error)
}

var _ app.Opener = (*fakeOpener)(nil)

func (f *fakeOpener) Open(ctx context.Context, sealed []byte, ec map[string]string) ([]byte, error) {
	return f.OpenFn(ctx, sealed, ec)
}
