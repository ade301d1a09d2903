package sesmail_test

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	sestypes "github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/smithy-go"

	"github.com/serverless-shop/backend/functions/notifications/app"
	"github.com/serverless-shop/backend/functions/notifications/mail"
	"github.com/serverless-shop/backend/functions/notifications/sesmail"
)

// fakeSES records the input of the one SendEmail it takes and answers with
// the message id ses-msg-1, or err; it fails the test on a call that does
// not carry the caller's context. It answers GetSendQuota with the next of
// its answers, and counts those calls.
type fakeSES struct {
	t       *testing.T
	in      *ses.SendEmailInput
	err     error
	answers []answer
	calls   int
}

type ctxKey struct{}

// ctx is the caller's context.
var ctx = context.WithValue(context.Background(), ctxKey{}, "caller")

func (f *fakeSES) SendEmail(got context.Context, in *ses.SendEmailInput, _ ...func(*ses.Options)) (*ses.SendEmailOutput, error) {
	if got.Value(ctxKey{}) != "caller" {
		f.t.Error("SendEmail did not receive the caller's context")
	}
	f.in = in
	if f.err != nil {
		return nil, f.err
	}
	return &ses.SendEmailOutput{MessageId: aws.String("ses-msg-1")}, nil
}

var email = mail.Email{
	To:      "ada@bücher.example", // SES takes ASCII addresses only: the domain goes in Punycode
	Subject: "Order 01JORD1 confirmed: €12.50",
	Text:    "Hello Ada,\n\nTotal: €12.50\n",
	HTML:    "<p>Hello Ada,</p><p>Total: €12.50</p>",
}

// TestSendInput checks the whole request: from the sender's address to the
// one recipient (its domain in Punycode), the three parts in UTF-8, the configuration set when there
// is one, and the tags with values SES accepts: other characters replaced,
// empty values and values over 256 characters dropped.
func TestSendInput(t *testing.T) {
	utf8 := func(s string) *sestypes.Content {
		return &sestypes.Content{Data: aws.String(s), Charset: aws.String("UTF-8")}
	}
	input := func(configSet *string, tags ...string) *ses.SendEmailInput {
		in := &ses.SendEmailInput{
			Source: aws.String("shop@example.com"), Destination: &sestypes.Destination{ToAddresses: []string{"ada@xn--bcher-kva.example"}},
			Message:              &sestypes.Message{Subject: utf8(email.Subject), Body: &sestypes.Body{Text: utf8(email.Text), Html: utf8(email.HTML)}},
			ConfigurationSetName: configSet,
		}
		for i := 0; i < len(tags); i += 2 {
			in.Tags = append(in.Tags, sestypes.MessageTag{Name: aws.String(tags[i]), Value: aws.String(tags[i+1])})
		}
		return in
	}
	set, long := aws.String("notifications"), strings.Repeat("a", 256)
	tests := []struct {
		name      string
		configSet string
		tags      []app.Tag
		want      *ses.SendEmailInput
	}{
		{"without configuration set", "", nil, input(nil)},
		{"with configuration set", "notifications", nil, input(set)},
		{"valid values kept", "notifications", []app.Tag{{Name: "eventType", Value: "order.created"}, {Name: "correlationId", Value: "01JCORR-abc_1@x"}},
			input(set, "eventType", "order.created", "correlationId", "01JCORR-abc_1@x")},
		{"invalid characters replaced", "notifications", []app.Tag{{Name: "correlationId", Value: "corr:1/2 3+4=5"}}, input(set, "correlationId", "corr_1_2_3_4_5")},
		{"non-ASCII replaced per character", "notifications", []app.Tag{{Name: "customer", Value: "café€"}}, input(set, "customer", "caf__")},
		{"empty value dropped", "notifications", []app.Tag{{Name: "correlationId", Value: ""}, {Name: "eventType", Value: "order.cancelled"}},
			input(set, "eventType", "order.cancelled")},
		{"value at the 256 limit kept", "notifications", []app.Tag{{Name: "long", Value: long}}, input(set, "long", long)},
		{"value over 256 dropped", "notifications", []app.Tag{{Name: "long", Value: long + "a"}, {Name: "eventType", Value: "order.created"}},
			input(set, "eventType", "order.created")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := &fakeSES{t: t}
			id, err := sesmail.NewSender(fake, "shop@example.com", tc.configSet).Send(ctx, email, tc.tags...)
			if got, want := dump(fake.in), dump(tc.want); err != nil || id != "ses-msg-1" || got != want {
				t.Errorf("Send = %q, %v with\n%s\nwant ses-msg-1 with\n%s", id, err, got, want)
			}
		})
	}
}

// dump shows a request whole, its pointers followed.
func dump(in *ses.SendEmailInput) string {
	b, _ := json.MarshalIndent(in, "", "  ")
	return string(b)
}

// TestSendErrors: SES's refusals of the email and addresses it cannot take
// (the local part beyond ASCII, a domain IDNA cannot convert: shared/mailaddr's
// tests have the rules) are permanent, the latter without a call to SES;
// anything else is transient.
func TestSendErrors(t *testing.T) {
	netErr := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	tests := []struct {
		name, to  string // to: the recipient, when not email's
		err       error  // SES's answer
		permanent bool
	}{
		{name: "local part beyond ASCII", to: "zoë@example.com", permanent: true},
		{name: "domain IDNA cannot convert (mixed directions)", to: "ada@aשלום.example", permanent: true},
		{name: "message rejected", err: &sestypes.MessageRejected{Message: aws.String("Email address is not verified.")}, permanent: true},

		{
			name:      "invalid address inside an operation error",
			err:       &smithy.OperationError{ServiceID: "SES", OperationName: "SendEmail", Err: &smithy.GenericAPIError{Code: "InvalidParameterValue", Message: "Missing final '@domain'"}},
			permanent: true,
		},
		{name: "daily quota", err: &smithy.GenericAPIError{Code: "Throttling", Message: "Daily message quota exceeded."}},
		{name: "account sending paused", err: &sestypes.AccountSendingPausedException{Message: aws.String("paused")}},

		{name: "network error inside an operation error", err: &smithy.OperationError{ServiceID: "SES", OperationName: "SendEmail", Err: netErr}},
		{name: "deadline exceeded", err: context.DeadlineExceeded},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake, e := &fakeSES{t: t, err: tc.err}, email
			e.To = cmp.Or(tc.to, e.To)
			id, err := sesmail.NewSender(fake, "shop@example.com", "notifications").Send(ctx, e)
			if err == nil || id != "" || errors.Is(err, app.ErrPermanent) != tc.permanent {
				t.Fatalf("Send = %q, %v; want no id and an error, permanent: %v", id, err, tc.permanent)
			}
			if tc.err == nil && fake.in != nil || tc.err != nil && (!strings.Contains(err.Error(), tc.err.Error()) || !tc.permanent && !errors.Is(err, tc.err)) {
				t.Errorf("Send error %v, SES called with %+v; want SES's error mentioned (and wrapped when transient), or no call", err, fake.in)
			}
		})
	}
}
