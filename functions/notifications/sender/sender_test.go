package sender_test

import (
	"context"
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
	"github.com/serverless-shop/backend/functions/notifications/sender"
)

// fakeSES is an SES client whose behaviour each test supplies.
type fakeSES struct {
	SendEmailFn func(ctx context.Context, in *ses.SendEmailInput, opts ...func(*ses.Options)) (*ses.SendEmailOutput, error)
}

var _ sender.SES = (*fakeSES)(nil)

func (f *fakeSES) SendEmail(ctx context.Context, in *ses.SendEmailInput, opts ...func(*ses.Options)) (*ses.SendEmailOutput, error) {
	return f.SendEmailFn(ctx, in, opts...)
}

// capture returns a fake that records its input and answers with id.
func capture(got **ses.SendEmailInput, id string) *fakeSES {
	return &fakeSES{SendEmailFn: func(_ context.Context, in *ses.SendEmailInput, _ ...func(*ses.Options)) (*ses.SendEmailOutput, error) {
		*got = in
		return &ses.SendEmailOutput{MessageId: aws.String(id)}, nil
	}}
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
			var in *ses.SendEmailInput
			s := sender.New(capture(&in, "ses-msg-1"), "shop@example.com", tc.configSet)
			id, err := s.Send(context.Background(), email)
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			if id != "ses-msg-1" {
				t.Errorf("message id = %q, want %q", id, "ses-msg-1")
			}
			if in == nil {
				t.Fatal("SendEmail was not called")
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
			var in *ses.SendEmailInput
			s := sender.New(capture(&in, "id"), "shop@example.com", "notifications")
			if _, err := s.Send(context.Background(), email, tc.tags...); err != nil {
				t.Fatalf("Send: %v", err)
			}
			got := map[string]string{}
			for _, tag := range in.Tags {
				got[aws.ToString(tag.Name)] = aws.ToString(tag.Value)
			}
			if len(got) != len(tc.want) || len(in.Tags) != len(tc.want) {
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
			var in *ses.SendEmailInput
			e := email
			e.To = tc.to
			id, err := sender.New(capture(&in, "ses-msg-1"), "shop@example.com", "").Send(context.Background(), e)
			if tc.wantTo == "" {
				if !errors.Is(err, app.ErrPermanent) || id != "" {
					t.Fatalf("Send = %q, %v; want a permanent rejection", id, err)
				}
				if in != nil {
					t.Errorf("SendEmail was called with %v", in.Destination.ToAddresses)
				}
				return
			}
			if err != nil || id != "ses-msg-1" {
				t.Fatalf("Send = %q, %v", id, err)
			}
			if got := in.Destination.ToAddresses; len(got) != 1 || got[0] != tc.wantTo {
				t.Errorf("ToAddresses = %q, want [%q]", got, tc.wantTo)
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
			ses := &fakeSES{SendEmailFn: func(context.Context, *ses.SendEmailInput, ...func(*ses.Options)) (*ses.SendEmailOutput, error) {
				return nil, tc.err
			}}
			id, err := sender.New(ses, "shop@example.com", "notifications").Send(context.Background(), email)
			if err == nil {
				t.Fatal("Send returned no error")
			}
			if id != "" {
				t.Errorf("message id = %q, want empty on failure", id)
			}
			if got := errors.Is(err, app.ErrPermanent); got != tc.permanent {
				t.Errorf("errors.Is(%v, ErrPermanent) = %v, want %v", err, got, tc.permanent)
			}
			if !strings.Contains(err.Error(), tc.err.Error()) {
				t.Errorf("error %q does not mention the cause %q", err, tc.err)
			}
			if !tc.permanent && !errors.Is(err, tc.err) {
				t.Errorf("transient error %v does not wrap its cause", err)
			}
		})
	}
}

func TestSendPassesContext(t *testing.T) {
	type key struct{}
	ctx := context.WithValue(context.Background(), key{}, "v")
	ses := &fakeSES{SendEmailFn: func(got context.Context, _ *ses.SendEmailInput, _ ...func(*ses.Options)) (*ses.SendEmailOutput, error) {
		if got.Value(key{}) != "v" {
			t.Error("SendEmail did not receive the caller's context")
		}
		return &ses.SendEmailOutput{MessageId: aws.String("id")}, nil
	}}
	if _, err := sender.New(ses, "shop@example.com", "").Send(ctx, email); err != nil {
		t.Fatalf("Send: %v", err)
	}
}
