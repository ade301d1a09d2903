//go:build integration

package testcloud

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
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
