package faults

import (
	"net/http"
	"net/url"
	"strings"
)

// Call is an AWS API call as the proxy sees it on the wire.
type Call struct {
	Service   string // dynamodb, sqs, ses, kms, secretsmanager, ...
	Operation string // PutItem, SendMessageBatch, SendEmail, ...
}

// Classify names the service and operation of an AWS SDK request whose
// body is body. The JSON protocols (DynamoDB, SQS, KMS, Secrets Manager)
// name both in X-Amz-Target ("DynamoDB_20120810.PutItem",
// "AmazonSQS.SendMessageBatch"); the query protocol (SES) names the
// operation in the form's Action and the service in the SigV4 credential
// scope. Anything else is named by the service of its credential scope and
// its method and path.
func Classify(r *http.Request, body []byte) Call {
	if prefix, op, ok := strings.Cut(r.Header.Get("X-Amz-Target"), "."); ok {
		return Call{Service: targetService(prefix), Operation: op}
	}
	service := scopeService(r.Header.Get("Authorization"))
	if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		if form, err := url.ParseQuery(string(body)); err == nil && form.Get("Action") != "" {
			return Call{Service: service, Operation: form.Get("Action")}
		}
	}
	return Call{Service: service, Operation: r.Method + " " + r.URL.Path}
}

// targetService maps an X-Amz-Target prefix to its service.
func targetService(prefix string) string {
	switch {
	case strings.HasPrefix(prefix, "DynamoDBStreams_"):
		return "dynamodbstreams"
	case strings.HasPrefix(prefix, "DynamoDB_"):
		return "dynamodb"
	case prefix == "AmazonSQS":
		return "sqs"
	case prefix == "TrentService":
		return "kms"
	}
	return strings.ToLower(prefix) // secretsmanager
}

// scopeService reads the service from a SigV4 Authorization header:
// "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/ses/aws4_request, ...".
func scopeService(auth string) string {
	_, cred, _ := strings.Cut(auth, "Credential=") // none: too few parts
	cred, _, _ = strings.Cut(cred, ",")
	parts := strings.Split(cred, "/")
	if len(parts) < 5 {
		return "unknown"
	}
	return parts[3]
}

// IsWrite reports whether the call changes state where it lands: a
// DynamoDB write or an SQS send. A lost answer to one of these leaves the
// change made.
func (c Call) IsWrite() bool {
	switch c.Service {
	case "dynamodb":
		switch c.Operation {
		case "PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem":
			return true
		}
	case "sqs":
		return c.Operation == "SendMessage" || c.Operation == "SendMessageBatch"
	}
	return false
}
