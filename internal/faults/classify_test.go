package faults_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/serverless-shop/backend/internal/faults"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		method, path string
		target, auth string
		form         string // a query-protocol body
		want         faults.Call
		write        bool
	}{
		{name: "dynamodb transaction", method: "POST", path: "/", target: "DynamoDB_20120810.TransactWriteItems",
			want: faults.Call{Service: "dynamodb", Operation: "TransactWriteItems"}, write: true},
		{name: "dynamodb read", method: "POST", path: "/", target: "DynamoDB_20120810.GetItem",
			want: faults.Call{Service: "dynamodb", Operation: "GetItem"}},
		{name: "sqs batch", method: "POST", path: "/", target: "AmazonSQS.SendMessageBatch",
			want: faults.Call{Service: "sqs", Operation: "SendMessageBatch"}, write: true},
		{name: "sqs visibility", method: "POST", path: "/", target: "AmazonSQS.ChangeMessageVisibility",
			want: faults.Call{Service: "sqs", Operation: "ChangeMessageVisibility"}},
		{name: "kms", method: "POST", path: "/", target: "TrentService.Sign", want: faults.Call{Service: "kms", Operation: "Sign"}},
		{name: "streams", method: "POST", path: "/", target: "DynamoDBStreams_20120810.GetRecords",
			want: faults.Call{Service: "dynamodbstreams", Operation: "GetRecords"}},
		{name: "ses send", method: "POST", path: "/", form: "Action=SendEmail&Version=2010-12-01&Source=shop%40shop.test",
			auth: "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/ses/aws4_request, SignedHeaders=host, Signature=x",
			want: faults.Call{Service: "ses", Operation: "SendEmail"}},
		{name: "other rest call", method: "GET", path: "/2015-03-31/functions",
			auth: "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=x",
			want: faults.Call{Service: "lambda", Operation: "GET /2015-03-31/functions"}},
		{name: "unsigned", method: "GET", path: "/x", want: faults.Call{Service: "unknown", Operation: "GET /x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.form))
			if tt.form != "" {
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
			}
			if tt.target != "" {
				r.Header.Set("X-Amz-Target", tt.target)
			}
			if tt.auth != "" {
				r.Header.Set("Authorization", tt.auth)
			}
			got := faults.Classify(r, []byte(tt.form))
			if got != tt.want {
				t.Fatalf("Classify = %+v, want %+v", got, tt.want)
			}
			if got.IsWrite() != tt.write {
				t.Fatalf("IsWrite = %v, want %v", got.IsWrite(), tt.write)
			}
		})
	}
}

func TestPublishedEvents(t *testing.T) {
	t.Parallel()
	req := []byte(`{"QueueUrl":"http://q/events.fifo","Entries":[
		{"Id":"0","MessageBody":"{\"type\":\"order.created\",\"id\":\"E1\"}","MessageGroupId":"O1","MessageAttributes":{"correlationId":{"DataType":"String","StringValue":"c1"}}},
		{"Id":"1","MessageBody":"{\"type\":\"order.created\",\"id\":\"E2\"}","MessageGroupId":"O2"}]}`)
	resp := []byte(`{"Successful":[{"Id":"0"}],"Failed":[{"Id":"1","Code":"InternalError","SenderFault":false}]}`)
	got := faults.PublishedEvents(req, resp)
	if len(got) != 1 || got[0].ID != "E1" || got[0].Group != "O1" || got[0].Type != "order.created" ||
		got[0].QueueURL != "http://q/events.fifo" || got[0].Attributes["correlationId"].StringValue != "c1" {
		t.Fatalf("PublishedEvents = %+v, want only E1 of group O1 with its attribute", got)
	}
	if got := faults.PublishedEvents([]byte("not json"), resp); got != nil {
		t.Fatalf("PublishedEvents of a malformed request = %+v, want none", got)
	}
}
