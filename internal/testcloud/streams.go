//go:build integration

package testcloud

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// StreamRecords reads every record of a table's stream, each shard from its
// trim horizon to its end, and returns them with the stream's ARN.
func StreamRecords(t testing.TB, cfg aws.Config, table string) ([]streamtypes.Record, string) {
	t.Helper()
	ctx := context.Background()
	desc, err := dynamodb.NewFromConfig(cfg).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &table})
	if err != nil {
		t.Fatalf("describe table %s: %v", table, err)
	}
	arn := desc.Table.LatestStreamArn
	if arn == nil {
		t.Fatalf("table %s has no stream", table)
	}
	streams := dynamodbstreams.NewFromConfig(cfg)
	sd, err := streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: arn})
	if err != nil {
		t.Fatalf("describe stream: %v", err)
	}
	var records []streamtypes.Record
	for _, shard := range sd.StreamDescription.Shards {
		it, err := streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{
			StreamArn: arn, ShardId: shard.ShardId, ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon,
		})
		if err != nil {
			t.Fatalf("shard iterator: %v", err)
		}
		// An open shard always hands back a next iterator; the end of
		// what it holds now is the first empty page.
		for next := it.ShardIterator; next != nil; {
			out, err := streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: next})
			if err != nil {
				t.Fatalf("get records: %v", err)
			}
			if len(out.Records) == 0 {
				break
			}
			records = append(records, out.Records...)
			next = out.NextShardIterator
		}
	}
	return records, aws.ToString(arn)
}

// StreamBatch waits until the table's stream holds want records, and shapes
// them as the event Lambda would deliver to the relay.
func StreamBatch(t testing.TB, cfg aws.Config, table string, want int) events.DynamoDBEvent {
	t.Helper()
	var records []streamtypes.Record
	var arn string
	Eventually(t, 30*time.Second, fmt.Sprintf("%d stream records", want), func() bool {
		records, arn = StreamRecords(t, cfg, table)
		return len(records) >= want
	})
	if len(records) != want {
		t.Fatalf("stream has %d records, want %d", len(records), want)
	}
	return LambdaEvent(t, records, arn)
}

// LambdaEvent shapes stream records as the event Lambda delivers to a
// function that reads the stream.
func LambdaEvent(t testing.TB, records []streamtypes.Record, arn string) events.DynamoDBEvent {
	t.Helper()
	var batch events.DynamoDBEvent
	for _, r := range records {
		batch.Records = append(batch.Records, events.DynamoDBEventRecord{
			EventID: aws.ToString(r.EventID), EventName: string(r.EventName), EventSource: "aws:dynamodb",
			EventSourceArn: arn, AWSRegion: "us-east-1",
			Change: events.DynamoDBStreamRecord{
				Keys:           image(t, r.Dynamodb.Keys),
				NewImage:       image(t, r.Dynamodb.NewImage),
				SequenceNumber: aws.ToString(r.Dynamodb.SequenceNumber),
				StreamViewType: string(r.Dynamodb.StreamViewType),
			},
		})
	}
	return batch
}

// image converts stream attribute values to the Lambda event's form.
func image(t testing.TB, in map[string]streamtypes.AttributeValue) map[string]events.DynamoDBAttributeValue {
	t.Helper()
	item, err := attributevalue.FromDynamoDBStreamsMap(in)
	if err != nil {
		t.Fatalf("stream image: %v", err)
	}
	return StreamImage(t, item)
}
