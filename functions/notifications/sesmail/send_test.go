package sesmail_test

import (
	"context"
	"errors"
	"net"
	"slices"
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

var _ sesmail.SES = (*fakeSES)(nil)

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
	To:      "ada@example.com",
	Subject: "Order 01JORD1 confirmed: €12.50",
	Text:    "Hello Ada,\n\nTotal: €12.50\n",
	HTML:    "<p>Hello Ada,</p><p>Total: €12.50</p>",
}

func TestSendInput(t *testing.T) {
	tests := []struct {
		name          string
		configSet     string
		wantConfigSet *string
	}{
		{name: "with configuration set", configSet: "notifications", wantConfigSet: aws.String("notifications")},
		{name: "without configuration set", configSet: "", wantConfigSet: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := &fakeSES{t: t}
			id, err := sesmail.NewSender(fake, "shop@example.com", tc.configSet).Send(ctx, email)
			in := fake.in
			if err != nil || id != "ses-msg-1" || in == nil {
				t.Fatalf("Send = %q, %v; want ses-msg-1 from SES", id, err)
			}
			if got := aws.ToString(in.Source); got != "shop@example.com" {
				t.Errorf("From = %q, want %q", got, "shop@example.com")
			}
			if in.Destination == nil || len(in.Destination.ToAddresses) != 1 || in.Destination.ToAddresses[0] != email.To {
				t.Errorf("Destination = %+v, want To [%s]", in.Destination, email.To)
			} else if len(in.Destination.CcAddresses)+len(in.Destination.BccAddresses) != 0 {
				t.Errorf("Destination has Cc/Bcc: %+v", in.Destination)
			}
			if got, want := aws.ToString(in.ConfigurationSetName), aws.ToString(tc.wantConfigSet); got != want || (in.ConfigurationSetName == nil) != (tc.wantConfigSet == nil) {
				t.Errorf("ConfigurationSetName = %v, want %v", in.ConfigurationSetName, tc.wantConfigSet)
			}
			if len(in.Tags) != 0 {
				t.Errorf("Tags = %+v, want none", in.Tags)
			}
			if in.ReturnPath != nil || in.SourceArn != nil || len(in.ReplyToAddresses) != 0 {
				t.Errorf("return path, source ARN or reply-to set: %+v", in)
			}
			if in.Message == nil || in.Message.Body == nil {
				t.Fatalf("Message = %+v, want a message with a body", in.Message)
			}
			msg := in.Message
			parts := []struct {
				name string
				c    *sestypes.Content
				want string
			}{
				{"subject", msg.Subject, email.Subject},
				{"text", msg.Body.Text, email.Text},
				{"html", msg.Body.Html, email.HTML},
			}
			for _, p := range parts {
				if p.c == nil {
					t.Errorf("%s part is missing", p.name)
					continue
				}
				if got := aws.ToString(p.c.Data); got != p.want {
					t.Errorf("%s = %q, want %q", p.name, got, p.want)
				}
				if got := aws.ToString(p.c.Charset); got != "UTF-8" {
					t.Errorf("%s charset = %q, want UTF-8", p.name, got)
				}
			}
		})
	}
}

func TestSendTags(t *testing.T) {
	tests := []struct {
		name string
		tags []app.Tag
		want map[string]string // name → value; absent names were dropped
	}{
		{
			name: "valid values kept",
			tags: []app.Tag{{Name: "eventType", Value: "order.created"}, {Name: "correlationId", Value: "01JCORR-abc_1@x"}},
			want: map[string]string{"eventType": "order.created", "correlationId": "01JCORR-abc_1@x"},
		},
		{
			name: "invalid characters replaced",
			tags: []app.Tag{{Name: "correlationId", Value: "corr:1/2 3+4=5"}},
			want: map[string]string{"correlationId": "corr_1_2_3_4_5"},
		},
		{
			name: "non-ASCII replaced per character",
			tags: []app.Tag{{Name: "customer", Value: "café€"}},
			want: map[string]string{"customer": "caf__"},
		},
		{
			name: "header injection attempt neutralised",
			tags: []app.Tag{{Name: "correlationId", Value: "x\r\nBcc: a@b"}},
			want: map[string]string{"correlationId": "x__Bcc__a@b"},
		},
		{
			name: "empty value dropped",
			tags: []app.Tag{{Name: "correlationId", Value: ""}, {Name: "eventType", Value: "order.cancelled"}},
			want: map[string]string{"eventType": "order.cancelled"},
		},
		{
			name: "value at the 256 limit kept",
			tags: []app.Tag{{Name: "long", Value: strings.Repeat("a", 256)}},
			want: map[string]string{"long": strings.Repeat("a", 256)},
		},
		{
			name: "value over 256 dropped",
			tags: []app.Tag{{Name: "long", Value: strings.Repeat("a", 257)}, {Name: "eventType", Value: "order.created"}},
			want: map[string]string{"eventType": "order.created"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := &fakeSES{t: t}
			if _, err := sesmail.NewSender(fake, "shop@example.com", "notifications").Send(ctx, email, tc.tags...); err != nil {
				t.Fatalf("Send: %v", err)
			}
			got := map[string]string{}
			for _, tag := range fake.in.Tags {
				got[aws.ToString(tag.Name)] = aws.ToString(tag.Value)
			}
			if len(got) != len(tc.want) || len(fake.in.Tags) != len(tc.want) {
				t.Errorf("tags = %v, want %v", got, tc.want)
			}
			for name, want := range tc.want {
				if got[name] != want {
					t.Errorf("tag %s = %q, want %q", name, got[name], want)
				}
			}
		})
	}
}

// TestSendRecipient: SES takes ASCII addresses only, so the domain goes in
// Punycode and the local part as it is; an address that cannot be written
// in ASCII is rejected for good without a call to SES, rather than retried.
func TestSendRecipient(t *testing.T) {
	tests := []struct {
		name   string
		to     string
		wantTo string // "" when rejected before SES
	}{
		{name: "ASCII address unchanged", to: "ada+shop@mail.example.co.uk", wantTo: "ada+shop@mail.example.co.uk"},
		{name: "Unicode domain in Punycode", to: "ada@bücher.example", wantTo: "ada@xn--bcher-kva.example"},
		{name: "Unicode subdomain and top-level domain", to: "ada@café.example.рф", wantTo: "ada@xn--caf-dma.example.xn--p1ai"},
		{name: "local part beyond ASCII", to: "zoë@example.com"},
		{name: "domain IDNA cannot convert (mixed directions)", to: "ada@aשלום.example"},
		{name: "domain IDNA cannot convert (leading combining mark)", to: "ada@\u0308bücher.example"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := &fakeSES{t: t}
			e := email
			e.To = tc.to
			id, err := sesmail.NewSender(fake, "shop@example.com", "").Send(ctx, e)
			switch {
			case tc.wantTo == "" && (!errors.Is(err, app.ErrPermanent) || id != "" || fake.in != nil):
				t.Errorf("Send = %q, %v, SES called with %+v; want a permanent rejection without calling SES", id, err, fake.in)
			case tc.wantTo != "" && (err != nil || id != "ses-msg-1" || !slices.Equal(fake.in.Destination.ToAddresses, []string{tc.wantTo})):
				t.Errorf("Send = %q, %v, to %+v; want it sent to %q", id, err, fake.in, tc.wantTo)
			}
		})
	}
}

func TestSendErrors(t *testing.T) {
	netErr := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	tests := []struct {
		name      string
		err       error
		permanent bool
	}{
		{name: "message rejected", err: &sestypes.MessageRejected{Message: aws.String("Email address is not verified.")}, permanent: true},
		{
			name: "message rejected inside an operation error",
			err: &smithy.OperationError{ServiceID: "SES", OperationName: "SendEmail",
				Err: &sestypes.MessageRejected{Message: aws.String("rejected")}},
			permanent: true,
		},
		{name: "generic MessageRejected", err: &smithy.GenericAPIError{Code: "MessageRejected", Message: "rejected"}, permanent: true},
		{
			name:      "invalid address inside an operation error",
			err:       &smithy.OperationError{ServiceID: "SES", OperationName: "SendEmail", Err: &smithy.GenericAPIError{Code: "InvalidParameterValue", Message: "Missing final '@domain'"}},
			permanent: true,
		},
		{name: "generic InvalidParameterValue", err: &smithy.GenericAPIError{Code: "InvalidParameterValue", Message: "bad address"}, permanent: true},
		{name: "daily quota", err: &smithy.GenericAPIError{Code: "Throttling", Message: "Daily message quota exceeded."}},
		{name: "account sending paused", err: &sestypes.AccountSendingPausedException{Message: aws.String("paused")}},
		{name: "configuration set sending paused", err: &sestypes.ConfigurationSetSendingPausedException{Message: aws.String("paused")}},
		{name: "configuration set missing", err: &sestypes.ConfigurationSetDoesNotExistException{Message: aws.String("no such set")}},
		{name: "MAIL FROM domain not verified", err: &sestypes.MailFromDomainNotVerifiedException{Message: aws.String("not verified")}},
		{
			name: "throttling inside an operation error",
			err: &smithy.OperationError{ServiceID: "SES", OperationName: "SendEmail",
				Err: &smithy.GenericAPIError{Code: "Throttling", Message: "Maximum sending rate exceeded."}},
		},
		{name: "generic throttling", err: &smithy.GenericAPIError{Code: "Throttling", Message: "rate exceeded"}},
		{name: "network error", err: netErr},
		{name: "network error inside an operation error", err: &smithy.OperationError{ServiceID: "SES", OperationName: "SendEmail", Err: netErr}},
		{name: "deadline exceeded", err: context.DeadlineExceeded},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, err := sesmail.NewSender(&fakeSES{t: t, err: tc.err}, "shop@example.com", "notifications").Send(ctx, email)
			if err == nil || id != "" || errors.Is(err, app.ErrPermanent) != tc.permanent || !strings.Contains(err.Error(), tc.err.Error()) || !tc.permanent && !errors.Is(err, tc.err) {
				t.Errorf("Send = %q, %v; want no id and an error that mentions %v, wraps it when transient, and is permanent: %v", id, err, tc.err, tc.permanent)
			}
		})
	}
}
