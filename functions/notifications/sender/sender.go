// Package sender sends rendered emails through Amazon SES (the SES v1 API,
// docs/decisions/0008-ses-api.md), to the recipient written as SES takes
// it (shared/mailaddr: the domain in Punycode), and sorts its failures into
// permanent ones (this message will never be accepted) and transient ones
// (retry later).
package sender

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	sestypes "github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/smithy-go"

	"github.com/serverless-shop/backend/functions/notifications/app"
	"github.com/serverless-shop/backend/functions/notifications/mail"
	"github.com/serverless-shop/backend/shared/mailaddr"
)

// SES is the part of the SES API the sender uses.
type SES interface {
	SendEmail(ctx context.Context, in *ses.SendEmailInput, opts ...func(*ses.Options)) (*ses.SendEmailOutput, error)
}

// Sender sends through one SES configuration set from one address.
type Sender struct {
	ses       SES
	from      string
	configSet string
}

// New returns a sender. An empty configSet sends without a configuration
// set.
func New(c SES, from, configSet string) *Sender {
	return &Sender{ses: c, from: from, configSet: configSet}
}

var tagValue = regexp.MustCompile(`[^A-Za-z0-9_.@-]`)

// Send sends e and returns the SES message id.
// Its failures wrap app.ErrPermanent when retrying cannot fix them: a
// recipient SES refuses, or one it would refuse: an address that
// mailaddr.ToASCII cannot write in ASCII (a local part beyond ASCII, which
// accounts registered before registration refused it may have; a domain
// IDNA cannot convert) is rejected without calling SES. Every other error
// is transient.
func (s *Sender) Send(ctx context.Context, e mail.Email, tags ...app.Tag) (string, error) {
	to, err := mailaddr.ToASCII(e.To)
	if err != nil {
		return "", fmt.Errorf("%w: recipient: %w", app.ErrPermanent, err)
	}
	in := &ses.SendEmailInput{
		Source:      aws.String(s.from),
		Destination: &sestypes.Destination{ToAddresses: []string{to}},
		Message: &sestypes.Message{
			Subject: &sestypes.Content{Data: aws.String(e.Subject), Charset: aws.String("UTF-8")},
			Body: &sestypes.Body{
				Text: &sestypes.Content{Data: aws.String(e.Text), Charset: aws.String("UTF-8")},
				Html: &sestypes.Content{Data: aws.String(e.HTML), Charset: aws.String("UTF-8")},
			},
		},
	}
	if s.configSet != "" {
		in.ConfigurationSetName = aws.String(s.configSet)
	}
	for _, t := range tags {
		v := tagValue.ReplaceAllString(t.Value, "_")
		if v == "" || len(v) > 256 {
			continue
		}
		in.Tags = append(in.Tags, sestypes.MessageTag{Name: aws.String(t.Name), Value: aws.String(v)})
	}
	out, err := s.ses.SendEmail(ctx, in)
	if err != nil {
		if permanent(err) {
			return "", fmt.Errorf("%w: %w", app.ErrPermanent, err)
		}
		return "", fmt.Errorf("send email: %w", err)
	}
	return aws.ToString(out.MessageId), nil
}

// permanent reports whether SES refused this particular message for good:
// the recipient or content is unacceptable (MessageRejected, or
// InvalidParameterValue, SES's answer to a malformed address). Account-wide
// and configuration conditions (sending paused, an unverified MAIL FROM
// domain, a missing configuration set, quotas, throttling) are transient:
// the messages wait in the queue, or in the dead-letter queue for a redrive,
// until they clear.
func permanent(err error) bool {
	var rejected *sestypes.MessageRejected
	if errors.As(err, &rejected) {
		return true
	}
	var api smithy.APIError
	return errors.As(err, &api) && (api.ErrorCode() == "MessageRejected" || api.ErrorCode() == "InvalidParameterValue")
}
