//go:build integration

package testcloud

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
)

// LogGroup is the log group a function of the deployed stack writes to; fn
// is its short name ("users", "ordersRelay"), whose logical id is
// "UsersFunction", "OrdersRelayFunction". The template gives each function a
// group of its own (LoggingConfig.LogGroup, /aws/lambda/<stack>-<fn in lower
// case>), which MiniStack
// honours. LocalStack's free edition stores LoggingConfig but does not act
// on it (localstack-core 4.14: "Advanced Lambda Logging Configuration is
// currently mocked"): a function writes to the default group of its name,
// /aws/lambda/<function name> (docs/local-cloud.md).
func LogGroup(t testing.TB, cfg aws.Config, stack, fn string) string {
	t.Helper()
	if Cloud() != "localstack" {
		return "/aws/lambda/" + stack + "-" + strings.ToLower(fn)
	}
	logical := strings.ToUpper(fn[:1]) + fn[1:] + "Function"
	out, err := cloudformation.NewFromConfig(cfg).DescribeStackResource(context.Background(), &cloudformation.DescribeStackResourceInput{
		StackName: aws.String(stack), LogicalResourceId: aws.String(logical),
	})
	if err != nil {
		t.Fatalf("function %s of stack %s: %v", logical, stack, err)
	}
	return "/aws/lambda/" + aws.ToString(out.StackResourceDetail.PhysicalResourceId)
}
