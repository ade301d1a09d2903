package faults

import (
	"net/http"
	"strings"
)

// Call is an AWS API call as the proxy sees it on the wire.
type Call struct {
	Service   string // dynamodb, sqs, ses, kms, secretsmanager, ...
	Operation string // PutItem, SendMessageBatch, SendEmail, ...
}

// Classify names the service and operation of an AWS SDK request. The JSON
// protocols (DynamoDB, SQS, KMS, Secrets Manager) name both in X-Amz-Target
// ("DynamoDB_20120810.PutItem", "AmazonSQS.SendMessageBatch"); SES v2 is a
// REST API whose SendEmail is POST /v2/email/outbound-emails. Anything else
// is named by the service of its SigV4 credential scope and its method and
// path.
func Classify(r *http.Request) Call {
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		prefix, op, ok := strings.Cut(target, ".")
		if ok {
			return Call{Service: targetService(prefix), Operation: op}
		}
	}
	if r.Method == http.MethodPost && strings.TrimSuffix(r.URL.Path, "/") == "/v2/email/outbound-emails" {
		return Call{Service: "ses", Operation: "SendEmail"}
	}
	return Call{Service: scopeService(r.Header.Get("Authorization")), Operation: r.Method + " " + r.URL.Path}
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
	case prefix == "secretsmanager":
		return "secretsmanager"
	}
	return strings.ToLower(prefix)
}

// scopeService reads the service from a SigV4 Authorization header:
// "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/ses/aws4_request, ...".
func scopeService(auth string) string {
	_, cred, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return "unknown"
	}
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
