// Command sdk is the cold start floor of a function that uses AWS: it loads
// the SDK configuration and builds DynamoDB and SQS clients, as most of the
// functions do, and its handler can make one call with each (the smallest
// use that links the SDK's request path: signing, credential providers,
// retries). make bench measures the functions against it, and the size
// check in make test keeps every function within a budget of its size.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// request names what to call; an empty request calls nothing.
type request struct {
	Table string `json:"table"` // GetItem of the key PK="bench"
	Queue string `json:"queue"` // SendMessage "bench"
}

func main() {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	db, queue := dynamodb.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	lambda.Start(func(ctx context.Context, r request) (string, error) {
		if r.Table != "" {
			key := map[string]ddbtypes.AttributeValue{"PK": &ddbtypes.AttributeValueMemberS{Value: "bench"}}
			if _, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(r.Table), Key: key}); err != nil {
				return "", fmt.Errorf("get item: %w", err)
			}
		}
		if r.Queue != "" {
			if _, err := queue.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(r.Queue), MessageBody: aws.String("bench")}); err != nil {
				return "", fmt.Errorf("send message: %w", err)
			}
		}
		return "ok", nil
	})
}
