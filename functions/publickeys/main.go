// Command publickeys is a CloudFormation custom resource that reads the
// public keys of the token signing keys from KMS on deploy and hands them
// to the template, which passes them to the functions that verify tokens.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/serverless-shop/backend/functions/publickeys/resource"
	"github.com/serverless-shop/backend/shared/coldstart"
	"github.com/serverless-shop/backend/shared/logging"
)

func main() {
	log := logging.New(os.Stdout, "publickeys")
	cfg, err := coldstart.AWSConfig(context.Background())
	if err != nil {
		log.Error("cold start failed", slog.String(logging.KeyError, err.Error()))
		os.Exit(1)
	}
	lambda.Start(cfn.LambdaWrap(resource.Handler(kms.NewFromConfig(cfg), log)))
}
