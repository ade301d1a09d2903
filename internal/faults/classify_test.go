package faults_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/serverless-shop/backend/internal/faults"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	// signed is the Authorization header of a SigV4 request to service.
	signed := func(service string) string {
		return "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/" + service + "/aws4_request, SignedHeaders=host, Signature=x"
	}
	tests := []struct {
		name, method, path, target, auth string
		form                             string // a query-protocol body
		want                             faults.Call
		write                            bool
	}{
		{"dynamodb transaction", "POST", "/", "DynamoDB_20120810.TransactWriteItems", "", "", faults.Call{Service: "dynamodb", Operation: "TransactWriteItems"}, true},
		{"dynamodb read", "POST", "/", "DynamoDB_20120810.GetItem", "", "", faults.Call{Service: "dynamodb", Operation: "GetItem"}, false},
		{"sqs batch", "POST", "/", "AmazonSQS.SendMessageBatch", "", "", faults.Call{Service: "sqs", Operation: "SendMessageBatch"}, true},
		{"sqs visibility", "POST", "/", "AmazonSQS.ChangeMessageVisibility", "", "", faults.Call{Service: "sqs", Operation: "ChangeMessageVisibility"}, false},
		{"kms", "POST", "/", "TrentService.Sign", "", "", faults.Call{Service: "kms", Operation: "Sign"}, false},
		{"streams", "POST", "/", "DynamoDBStreams_20120810.GetRecords", "", "", faults.Call{Service: "dynamodbstreams", Operation: "GetRecords"}, false},
		{"ses send", "POST", "/", "", signed("ses"), "Action=SendEmail&Version=2010-12-01&Source=shop%40shop.test", faults.Call{Service: "ses", Operation: "SendEmail"}, false},
		{"other rest call", "GET", "/2015-03-31/functions", "", signed("lambda"), "", faults.Call{Service: "lambda", Operation: "GET /2015-03-31/functions"}, false},
		{"unsigned", "GET", "/x", "", "", "", faults.Call{Service: "unknown", Operation: "GET /x"}, false},
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
