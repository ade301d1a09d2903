// Command staff makes an account staff, or a customer again; with -queues,
// it puts the orders written before staff's queues existed on them (once,
// after upgrading to the version that has them). It is an
// operator's action, never the API's (docs/operations.md, Staff): it runs
// with the caller's AWS credentials, finds the users and revocations
// tables and the access tokens' lifetime in the stack (CloudFormation
// DescribeStacks), and changes the account through the users service's own
// store, which ends every session of the account as a password change does.
//
//	go run ./cmd/staff -stack NAME -email ADDRESS [-role staff|customer]
//	go run ./cmd/staff -stack NAME -queues
//
// make staff ENV=<local|dev|staging|prod> EMAIL=... [ROLE=customer] and
// make staff-queues ENV=... run it (scripts/staff.sh) on the right stack,
// region and endpoint. It prints
// what it did, never a token or a secret, and exits 1 when it refuses.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/serverless-shop/backend/functions/users/store"
	"github.com/serverless-shop/backend/shared/token"
)

func main() {
	stack := flag.String("stack", "", "the stack's name (samconfig.toml)")
	email := flag.String("email", "", "the account's email")
	role := flag.String("role", token.RoleStaff, "staff, or customer to demote")
	queues := flag.Bool("queues", false, "put the orders written before staff's queues existed on them")
	flag.Parse()
	if *stack == "" || (*email == "") != *queues || (*role != token.RoleStaff && *role != token.RoleCustomer) {
		fmt.Fprintln(os.Stderr, "usage: staff -stack NAME -email ADDRESS [-role staff|customer], or staff -stack NAME -queues")
		os.Exit(2)
	}
	run := func(ctx context.Context) (string, error) { return changeRole(ctx, *stack, *email, *role) }
	if *queues {
		run = func(ctx context.Context) (string, error) { return queueOrders(ctx, *stack) }
	}
	msg, err := run(context.Background())
	if err != nil {
		fmt.Fprintf(os.Stderr, "staff: stack %s: %v\n", *stack, err)
		os.Exit(1)
	}
	fmt.Printf("stack %s: %s\n", *stack, msg)
}

// changeRole changes the role of the account of email in stack.
func changeRole(ctx context.Context, stack, email, role string) (string, error) {
	cfg, out, err := describe(ctx, stack)
	if err != nil {
		return "", err
	}
	values := outputs(out)
	users, revocations := values["UsersTableName"], values["RevocationsTableName"]
	if users == "" || revocations == "" {
		return "", fmt.Errorf("stack %s has no UsersTableName or RevocationsTableName output", stack)
	}
	ttl := token.DefaultTTL // the template's default of AccessTokenTTL
	for _, p := range out.Parameters {
		if *p.ParameterKey == "AccessTokenTTL" && p.ParameterValue != nil {
			if ttl, err = time.ParseDuration(*p.ParameterValue); err != nil {
				return "", fmt.Errorf("stack %s: AccessTokenTTL: %w", stack, err)
			}
		}
	}
	st := store.New(dynamodb.NewFromConfig(cfg), users, revocations)
	return change(ctx, st, email, role, ttl, time.Now())
}

// queueOrders puts stack's orders written before staff's queues existed
// on them.
func queueOrders(ctx context.Context, stack string) (string, error) {
	cfg, out, err := describe(ctx, stack)
	if err != nil {
		return "", err
	}
	table := outputs(out)["OrdersTableName"]
	if table == "" {
		return "", fmt.Errorf("stack %s has no OrdersTableName output", stack)
	}
	n, err := enqueue(ctx, dynamodb.NewFromConfig(cfg), table)
	if err != nil {
		return "", fmt.Errorf("after putting %d orders on staff's queues: %w", n, err)
	}
	return fmt.Sprintf("put %d orders written before staff's queues existed on them; every order is on its status's queue now", n), nil
}

// describe returns the AWS configuration and the stack (CloudFormation
// DescribeStacks).
func describe(ctx context.Context, stack string) (aws.Config, cftypes.Stack, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return cfg, cftypes.Stack{}, fmt.Errorf("AWS configuration: %w", err)
	}
	out, err := cloudformation.NewFromConfig(cfg).DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: &stack})
	if err != nil || len(out.Stacks) != 1 {
		return cfg, cftypes.Stack{}, fmt.Errorf("stack %s: %v", stack, err)
	}
	return cfg, out.Stacks[0], nil
}

// outputs are the stack's outputs by key.
func outputs(s cftypes.Stack) map[string]string {
	values := map[string]string{}
	for _, o := range s.Outputs {
		values[*o.OutputKey] = *o.OutputValue
	}
	return values
}
