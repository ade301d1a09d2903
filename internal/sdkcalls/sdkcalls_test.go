package main

import (
	"strings"
	"testing"
)

// TestListFindsTheDeployedCalls lists the repository's own calls and checks
// that every kind of caller is seen: the services, the custom resources,
// the relay, the notification function and shared/, through the SDK's
// clients and through the adapters' interfaces alike.
func TestListFindsTheDeployedCalls(t *testing.T) {
	ops, err := List("../..")
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string]Op{}
	for _, op := range ops {
		byKey[op.Package+" "+op.Operation] = op
		if op.ServiceID == "" || op.APIVersion == "" {
			t.Errorf("%s %s: no ServiceID or ServiceAPIVersion", op.Package, op.Operation)
		}
		for _, site := range op.Sites {
			if strings.HasSuffix(strings.SplitN(site, ":", 2)[0], "_test.go") {
				t.Errorf("%s %s: a test file is not deployed code: %s", op.Package, op.Operation, site)
			}
		}
	}
	tests := []struct {
		op, site string // the operation, and a file that calls it
	}{
		{"kms GetPublicKey", "shared/kmskeys/kmskeys.go"},                    // the publickeys custom resource
		{"dynamodb TransactWriteItems", "functions/orders/store/catalog.go"}, // the catalogseed custom resource
		{"sqs SendMessageBatch", "shared/outbox/relay/relay.go"},             // the relays
		{"ses SendEmail", "functions/notifications/sesmail/sesmail.go"},      // through the sender's interface
		{"ses GetSendQuota", "functions/notifications/sesmail/sesmail.go"},   // through the watcher's interface
		{"sqs ChangeMessageVisibility", "functions/notifications/app/"},      // notifications
		{"sqs SendMessage", "functions/notifications/app/"},                  // to the dead-letter queue
		{"dynamodb PutItem", "functions/notifications/store/dedupe.go"},      // notifications' dedupe
		{"kms Decrypt", "shared/sealed/sealed.go"},                           // opening link tokens
		{"kms Sign", "shared/kmskeys/kmskeys.go"},                            // signing tokens
		{"secretsmanager GetSecretValue", "functions/orders/main.go"},        // at cold start
		{"dynamodb TransactWriteItems", "functions/orders/store/orders.go"},  // placing an order
	}
	for _, tt := range tests {
		op, ok := byKey[tt.op]
		if !ok {
			t.Errorf("%s not found", tt.op)
			continue
		}
		if !strings.Contains(strings.Join(op.Sites, " "), tt.site) {
			t.Errorf("%s: sites %v, want one in %s", tt.op, op.Sites, tt.site)
		}
	}
}

// TestListFailsOutsideTheModule: a directory without the deployed
// packages is an error, not an empty list of operations.
func TestListFailsOutsideTheModule(t *testing.T) {
	if ops, err := List(t.TempDir()); err == nil {
		t.Errorf("List of an empty directory: %v and no error", ops)
	}
}
