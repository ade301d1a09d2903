package main

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	sestypes "github.com/aws/aws-sdk-go-v2/service/ses/types"
)

// TestStubAnswersSESAsTheSDKReadsThem: the notification function's SES
// client (the query protocol, XML answers) reads the stub's answers to
// both of its calls, and the stub counts them by operation.
func TestStubAnswersSESAsTheSDKReadsThem(t *testing.T) {
	s, err := newAWSStub()
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	client := ses.New(ses.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(s.httpURL),
		Credentials: credentials.NewStaticCredentialsProvider("bench", "bench", ""),
	})
	ctx := context.Background()
	sent, err := client.SendEmail(ctx, &ses.SendEmailInput{
		Source:      aws.String("shop@example.com"),
		Destination: &sestypes.Destination{ToAddresses: []string{"ada@example.com"}},
		Message: &sestypes.Message{
			Subject: &sestypes.Content{Data: aws.String("hello")},
			Body:    &sestypes.Body{Text: &sestypes.Content{Data: aws.String("hello")}},
		},
	})
	if err != nil || aws.ToString(sent.MessageId) != "bench-message" {
		t.Fatalf("SendEmail: %+v, %v", sent, err)
	}
	quota, err := client.GetSendQuota(ctx, &ses.GetSendQuotaInput{})
	if err != nil || quota.MaxSendRate != 14 || quota.Max24HourSend != 50000 {
		t.Fatalf("GetSendQuota: %+v, %v", quota, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ops["Query.SendEmail"] != 1 || s.ops["Query.GetSendQuota"] != 1 {
		t.Errorf("ops %v, want one SendEmail and one GetSendQuota", s.ops)
	}
}
