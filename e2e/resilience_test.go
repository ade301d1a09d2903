//go:build integration

package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	ordersstore "github.com/serverless-shop/backend/functions/orders/store"
	"github.com/serverless-shop/backend/internal/testcloud"
	"github.com/serverless-shop/backend/shared/events"
)

// The tests in this file change the deployed stack, so they do not call
// t.Parallel: Go runs them before any parallel test of the package resumes.

// TestOrderEventSurvivesRelayOutage stops the outbox relay (its event
// source mapping), places an order, and shows that the order is
// acknowledged while its event waits in the table; once the relay is back
// the confirmation arrives, exactly once.
func TestOrderEventSurvivesRelayOutage(t *testing.T) {
	ctx := context.Background()
	lam := lambda.NewFromConfig(stack.aws)
	id := output(t, "OrdersRelayEventSourceMappingId")
	setMapping := func(enabled bool) { testcloud.SetMapping(ctx, t, lam, id, enabled) }
	setMapping(false)
	t.Cleanup(func() { setMapping(true) })

	u := signUp(t, "outage")
	var o orderDoc
	call(t, "POST", "/v1/orders", items("GIFT-SAMPLER", 1), u.bearer()...).Expect(t, 201).JSON(t, &o)
	// The event is in the table's stream, where the relay would read it,
	// and nothing is left on the queue that could still become an email.
	awaitOrderEvent(t, o.ID)
	if got := mailsTo(t, u.Email, o.ID); len(got) != 0 {
		t.Fatalf("an email arrived while the relay was down: %v", got)
	}
	call(t, "GET", "/v1/orders/"+o.ID, nil, u.bearer()...).Expect(t, 200)

	setMapping(true)
	awaitMail(t, u.Email, o.ID)
	if got := mailsTo(t, u.Email, o.ID); len(got) != 1 {
		t.Fatalf("%d confirmation emails after the relay came back, want exactly 1", len(got))
	}
}

// awaitOrderEvent waits until the orders table's stream carries the write
// of the order that announces its order.created event.
func awaitOrderEvent(t *testing.T, orderID string) {
	t.Helper()
	table := output(t, "OrdersTableName")
	testcloud.Eventually(t, time.Minute, "order.created of order "+orderID+" in the stream", func() bool {
		records, arn := testcloud.StreamRecords(t, stack.aws, table)
		for _, rec := range testcloud.LambdaEvent(t, records, arn).Records {
			r, ok, err := ordersstore.FromStream(rec)
			if err == nil && ok && r.Group == orderID && r.EventType == events.OrderCreated {
				return true
			}
		}
		return false
	})
}

// TestSigningKeyRotation flips ActiveSigningKey through a CloudFormation
// update, as the rotation procedure of docs/operations.md does: tokens signed before stay
// valid, new tokens carry the other key id, and the JWKS lists both keys
// throughout. It flips back at the end.
func TestSigningKeyRotation(t *testing.T) {
	testcloud.Require(t, testcloud.CustomResources,
		"the rotation is a stack update, and the new key's id and the public keys reach the functions through the PublicKeys custom resource")
	u := signUp(t, "rotation")
	oldKid := jwtHeader(t, u.Access)["kid"].(string)
	from := currentParameter(t, "ActiveSigningKey")
	to := map[string]string{"A": "B", "B": "A"}[from]

	setSigningKey(t, to)
	t.Cleanup(func() { setSigningKey(t, from) })

	call(t, "GET", "/v1/users/me", nil, u.bearer()...).Expect(t, 200)
	var fresh tokenPair
	call(t, "POST", "/v1/auth/login", map[string]string{"email": u.Email, "password": u.Password}).Expect(t, 200).JSON(t, &fresh)
	newKid := jwtHeader(t, fresh.AccessToken)["kid"].(string)
	if newKid == oldKid {
		t.Fatalf("after rotation new tokens still carry kid %s", oldKid)
	}
	call(t, "GET", "/v1/users/me", nil, "Authorization", "Bearer "+fresh.AccessToken).Expect(t, 200)
	var rotated tokenPair
	call(t, "POST", "/v1/auth/refresh", map[string]string{"refreshToken": u.Refresh}).Expect(t, 200).JSON(t, &rotated)
	if kid := jwtHeader(t, rotated.AccessToken)["kid"]; kid != newKid {
		t.Fatalf("refreshed token signed with %v, want %s", kid, newKid)
	}
	var jwks struct {
		Keys []struct{ Kid string } `json:"keys"`
	}
	call(t, "GET", "/.well-known/jwks.json", nil).Expect(t, 200).JSON(t, &jwks)
	kids := map[string]bool{}
	for _, k := range jwks.Keys {
		kids[k.Kid] = true
	}
	if !kids[oldKid] || !kids[newKid] {
		t.Fatalf("JWKS %v lacks %s or %s", kids, oldKid, newKid)
	}
}

// stackParameters are the deployed stack's parameters.
func stackParameters(t *testing.T) []cfntypes.Parameter {
	t.Helper()
	out, err := cloudformation.NewFromConfig(stack.aws).DescribeStacks(context.Background(), &cloudformation.DescribeStacksInput{StackName: aws.String(output(t, "StackName"))})
	if err != nil {
		t.Fatal(err)
	}
	return out.Stacks[0].Parameters
}

func currentParameter(t *testing.T, key string) string {
	t.Helper()
	for _, p := range stackParameters(t) {
		if aws.ToString(p.ParameterKey) == key {
			return aws.ToString(p.ParameterValue)
		}
	}
	t.Fatalf("stack has no parameter %s", key)
	return ""
}

// setSigningKey updates the stack with its current template and every
// parameter unchanged but ActiveSigningKey.
func setSigningKey(t *testing.T, slot string) {
	t.Helper()
	ctx := context.Background()
	cfn := cloudformation.NewFromConfig(stack.aws)
	name := output(t, "StackName")
	var params []cfntypes.Parameter
	for _, p := range stackParameters(t) {
		if aws.ToString(p.ParameterKey) == "ActiveSigningKey" {
			params = append(params, cfntypes.Parameter{ParameterKey: p.ParameterKey, ParameterValue: aws.String(slot)})
		} else {
			params = append(params, cfntypes.Parameter{ParameterKey: p.ParameterKey, UsePreviousValue: aws.Bool(true)})
		}
	}
	_, err := cfn.UpdateStack(ctx, &cloudformation.UpdateStackInput{
		StackName: &name, UsePreviousTemplate: aws.Bool(true), Parameters: params,
		Capabilities: []cfntypes.Capability{cfntypes.CapabilityCapabilityIam, cfntypes.CapabilityCapabilityAutoExpand},
	})
	if err != nil {
		t.Fatalf("update stack: %v", err)
	}
	if err := cloudformation.NewStackUpdateCompleteWaiter(cfn).Wait(ctx, &cloudformation.DescribeStacksInput{StackName: &name}, 5*time.Minute); err != nil {
		t.Fatalf("stack update: %v", err)
	}
}
