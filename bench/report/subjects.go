package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/serverless-shop/backend/internal/apitest"
	"github.com/serverless-shop/backend/shared/token"
)

// served are the functions whose cold start and invokes are measured, by
// bootstrap name: every function that serves requests or events (the
// custom resources run once per deployment).
var served = []string{"authorizer", "users", "orders", "usersrelay", "ordersrelay", "notifications"}

// fixtures are what the bench needs to invoke the functions: a signing key
// whose public half is the functions' TOKEN_JWKS, and the events.
type fixtures struct {
	jwks   string
	kid    string
	events map[string][]byte // by function
}

func newFixtures(root string) (*fixtures, error) {
	signer, err := apitest.NewSigner(apitest.NewKey())
	if err != nil {
		return nil, err
	}
	jwks, err := token.JWKS([]token.PublicKey{signer.PublicKey()})
	if err != nil {
		return nil, err
	}
	raw, _, err := token.NewIssuer(signer, apitest.TokenIssuer, apitest.TokenAudience, 15*time.Minute, nil).Issue(context.Background(),
		token.Subject{UserID: "user-bench", Email: "bench@example.com", Name: "Bench", EmailVerified: true, SessionID: "bench-session"})
	if err != nil {
		return nil, err
	}
	f := &fixtures{jwks: string(jwks), kid: signer.KeyID(), events: map[string][]byte{}}

	// authorizer: the REQUEST event of its tests, with the token.
	var authz events.APIGatewayCustomAuthorizerRequestTypeRequest
	if err := readJSON(filepath.Join(root, "functions/authorizer/authz/testdata/request.json"), &authz); err != nil {
		return nil, err
	}
	authz.Headers["Authorization"] = "Bearer " + raw
	authz.MultiValueHeaders["Authorization"] = []string{"Bearer " + raw}
	// users: the caller's profile (a revocation read and an item read).
	users := apitest.Request{Route: "GET /v1/users/me", Bearer: raw}.Event()
	// orders: the caller's orders (revocation read, cursor key, a query).
	orders := apitest.Request{Route: "GET /v1/orders", Bearer: raw}.Event()
	// relays: the stream records of their stores' tests.
	var usersStream, ordersStream events.DynamoDBEvent
	if err := readJSON(filepath.Join(root, "functions/users/store/testdata/stream.json"), &usersStream); err != nil {
		return nil, err
	}
	if err := readJSON(filepath.Join(root, "functions/orders/store/testdata/stream.json"), &ordersStream); err != nil {
		return nil, err
	}
	// notifications: one order.created event from the queue.
	created, err := os.ReadFile(filepath.Join(root, "shared/events/testdata/order_created.json"))
	if err != nil {
		return nil, err
	}
	sqsEvent := events.SQSEvent{Records: []events.SQSMessage{{
		MessageId: "bench-1", ReceiptHandle: "bench", Body: string(created), EventSource: "aws:sqs",
		EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:events.fifo", AWSRegion: "us-east-1",
		Attributes:        map[string]string{"ApproximateReceiveCount": "1", "MessageGroupId": "bench", "MessageDeduplicationId": "bench-1", "SentTimestamp": "1740918615000"},
		MessageAttributes: map[string]events.SQSMessageAttribute{"eventType": {DataType: "String", StringValue: ptr("order.created")}},
	}}}
	for name, v := range map[string]any{"authorizer": authz, "users": users, "orders": orders, "usersrelay": usersStream, "ordersrelay": ordersStream, "notifications": sqsEvent} {
		if f.events[name], err = json.Marshal(v); err != nil {
			return nil, err
		}
	}
	f.events["empty"] = []byte(`{}`)
	// The SDK baseline makes one DynamoDB call: the floor of a first call.
	f.events["sdk"] = []byte(`{"table":"bench-baseline"}`)
	return f, nil
}

func ptr[T any](v T) *T { return &v }

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// env is the environment of function name on the bench, with endpoint as
// its AWS endpoint: what the template sets, with made-up names, for both
// the code before and after.
func (f *fixtures) env(name, endpoint, home string) []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home, "TZ=UTC",
		"AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=AKIDBENCHBENCHBENCH", "AWS_SECRET_ACCESS_KEY=bench", "AWS_SESSION_TOKEN=bench",
		"AWS_CONFIG_FILE=" + filepath.Join(home, "no-config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "no-credentials"),
		"AWS_ENDPOINT_URL=" + endpoint,
		"AWS_LAMBDA_FUNCTION_NAME=bench-" + name, "AWS_LAMBDA_FUNCTION_VERSION=$LATEST", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256",
		"AWS_LAMBDA_LOG_FORMAT=JSON", "_HANDLER=bootstrap",
	}
	tokens := []string{"TOKEN_JWKS=" + f.jwks, "TOKEN_ISSUER=" + apitest.TokenIssuer, "TOKEN_AUDIENCE=" + apitest.TokenAudience}
	queue := endpoint + "/123456789012/bench-events.fifo"
	switch name {
	case "authorizer":
		env = append(env, tokens...)
	case "users":
		env = append(env, tokens...)
		env = append(env, "USERS_TABLE=bench-users", "REVOCATIONS_TABLE=bench-revocations", "SIGNING_KEY_ID=alias/bench-signing",
			"SIGNING_KID="+f.kid, "LINK_KEY_ID=alias/bench-links", "ACCOUNT_MAIL=on")
	case "orders":
		env = append(env, tokens...)
		env = append(env, "ORDERS_TABLE=bench-orders", "REVOCATIONS_TABLE=bench-revocations",
			"CURSOR_SECRET_ARN=arn:aws:secretsmanager:us-east-1:123456789012:secret:bench-cursor")
	case "usersrelay", "ordersrelay":
		env = append(env, "EVENTS_QUEUE_URL="+queue, "RELAY_DLQ_URL="+endpoint+"/123456789012/bench-relay-dlq")
	case "notifications":
		env = append(env, "NOTIFICATIONS_TABLE=bench-notifications", "EVENTS_QUEUE_URL="+queue, "EVENTS_DLQ_URL="+endpoint+"/123456789012/bench-events-dlq.fifo",
			"SENDER_EMAIL=shop@example.com", "SES_CONFIGURATION_SET=bench", "APP_BASE_URL=https://shop.example.com", "LINK_KEY_ID=alias/bench-links",
			// The template's defaults: an invocation keeps its slot 250 ms after
			// its send (functions/notifications/pace), and reads the SES quota
			// on its first invoke.
			"MAIL_MAX_SEND_RATE=14", "MAIL_CONCURRENCY=3")
	}
	return env
}

// firstRequest names the event each function is invoked with.
var firstRequest = map[string]string{
	"authorizer":    "a REQUEST authorizer event with a valid token",
	"users":         "GET /v1/users/me with a valid token",
	"orders":        "GET /v1/orders with a valid token",
	"usersrelay":    "outbox items' stream records",
	"ordersrelay":   "order items' stream records",
	"notifications": "an order.created message",
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
