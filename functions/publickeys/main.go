// Command publickeys is a CloudFormation custom resource that reads the
// public keys of the token signing keys from KMS on deploy and hands them
// to the template, which passes them to the functions that verify tokens.
package main

import (
	"context"
	"log/slog"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/serverless-shop/backend/functions/publickeys/resource"
	"github.com/serverless-shop/backend/shared/awsretry"
	"github.com/serverless-shop/backend/shared/coldstart"
)

func main() { coldstart.Main("publickeys", build) }

// build wires the custom resource. It needs no configuration: the keys to
// read come with each request, from the template.
func build(ctx context.Context, _ *coldstart.Env, log *slog.Logger) (any, error) {
	cfg, err := coldstart.AWSConfig(ctx)
	if err != nil {
		return nil, err
	}
	cfg = awsretry.Deploy.Apply(cfg) // see shared/awsretry
	return cfn.LambdaWrap(resource.Handler(kms.NewFromConfig(cfg), log)), nil
}
