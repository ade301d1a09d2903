// Command staff makes an account staff, or a customer again. It is an
// operator's action, never the API's (docs/operations.md, Staff): it runs
// with the caller's AWS credentials, finds the users and revocations
// tables and the access tokens' lifetime in the stack (CloudFormation
// DescribeStacks), and changes the account through the users service's own
// store, which ends every session of the account as a password change does.
//
//	go run ./cmd/staff -stack NAME -email ADDRESS [-role staff|customer]
//
// make staff ENV=<local|dev|staging|prod> EMAIL=... [ROLE=customer] runs it
// (scripts/staff.sh) on the right stack, region and endpoint. It prints
// what it did, never a token or a secret, and exits 1 when it refuses.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/serverless-shop/backend/functions/users/store"
	"github.com/serverless-shop/backend/shared/token"
)

func main() {
	stack := flag.String("stack", "", "the stack's name (samconfig.toml)")
	email := flag.String("email", "", "the account's email")
	role := flag.String("role", token.RoleStaff, "staff, or customer to demote")
	flag.Parse()
	if *stack == "" || *email == "" || (*role != token.RoleStaff && *role != token.RoleCustomer) {
		fmt.Fprintln(os.Stderr, "usage: staff -stack NAME -email ADDRESS [-role staff|customer]")
		os.Exit(2)
	}
	msg, err := run(context.Background(), *stack, *email, *role)
	if err != nil {
		fmt.Fprintf(os.Stderr, "staff: stack %s: %v\n", *stack, err)
		os.Exit(1)
	}
	fmt.Printf("stack %s: %s\n", *stack, msg)
}

// run changes the role of the account of email in stack.
func run(ctx context.Context, stack, email, role string) (string, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return "", fmt.Errorf("AWS configuration: %w", err)
	}
	out, err := cloudformation.NewFromConfig(cfg).DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: &stack})
	if err != nil || len(out.Stacks) != 1 {
		return "", fmt.Errorf("stack %s: %v", stack, err)
	}
	values := map[string]string{}
	for _, o := range out.Stacks[0].Outputs {
		values[*o.OutputKey] = *o.OutputValue
	}
	users, revocations := values["UsersTableName"], values["RevocationsTableName"]
	if users == "" || revocations == "" {
		return "", fmt.Errorf("stack %s has no UsersTableName or RevocationsTableName output", stack)
	}
	ttl := token.DefaultTTL // the template's default of AccessTokenTTL
	for _, p := range out.Stacks[0].Parameters {
		if *p.ParameterKey == "AccessTokenTTL" && p.ParameterValue != nil {
			if ttl, err = time.ParseDuration(*p.ParameterValue); err != nil {
				return "", fmt.Errorf("stack %s: AccessTokenTTL: %w", stack, err)
			}
		}
	}
	st := store.New(dynamodb.NewFromConfig(cfg), users, revocations)
	return change(ctx, st, email, role, ttl, time.Now())
}
