//go:build integration

// Package testcloud connects integration tests to the local cloud that
// `make test` starts: an AWS configuration pointing at the emulator, the
// outputs of the deployed stack, and throwaway tables shaped like the
// template's. The local cloud is the one on EMULATOR_PORT (default 4566),
// which the scripts of localstack/ export; what they know of it is in its
// state directory, .local/state/<port>/.
package testcloud

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/serverless-shop/backend/shared/coldstart"
)

// Port is the local cloud's port: EMULATOR_PORT, or 4566. It is not
// AWS_ENDPOINT_URL, which a developer's shell may point elsewhere: the
// endpoint and the state directory must name the same cloud.
func Port() string {
	return cmp.Or(os.Getenv("EMULATOR_PORT"), "4566")
}

// Endpoint is the local cloud's gateway.
func Endpoint() string {
	return "http://127.0.0.1:" + Port()
}

// StateDir is where localstack/ scripts keep what they know of the local
// cloud on Port: api-url and outputs.json of the deployed stack, logs.
func StateDir() string {
	return filepath.Join(RepoRoot(), ".local", "state", Port())
}

// Config returns an AWS configuration for the local cloud, built by the
// same code as the functions' (coldstart.AWSConfig). It never uses the
// developer's real credentials.
func Config(t testing.TB) aws.Config {
	t.Helper()
	cfg, err := coldstart.AWSConfig(context.Background(),
		config.WithRegion("us-east-1"),
		config.WithBaseEndpoint(Endpoint()),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")),
	)
	if err != nil {
		t.Fatalf("aws config: %v", err)
	}
	return cfg
}

// RepoRoot is the repository's top directory.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Outputs returns the outputs of the stack deployed by localstack/deploy.sh.
func Outputs(t testing.TB) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(StateDir(), "outputs.json"))
	if err != nil {
		t.Fatalf("no deployed stack on port %s (run make test, or make dev first): %v", Port(), err)
	}
	var out map[string]string
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("parse outputs: %v", err)
	}
	return out
}

// TableSpec describes a throwaway table. Every table of the template keys on
// PK (and SK) strings and expires items through expiresAt.
type TableSpec struct {
	SortKey bool
	Stream  bool // NEW_IMAGE stream, like the orders table's
	// Indexes are global secondary indexes whose keys are string
	// attributes (the orders table's).
	Indexes []types.GlobalSecondaryIndex
}

// unsafeInName is a character of a test's name that NewTable leaves out
// of a table's.
var unsafeInName = regexp.MustCompile(`[^a-z0-9.]`)

// NewTable creates a table for one test and deletes it when the test ends.
func NewTable(t testing.TB, db *dynamodb.Client, spec TableSpec) string {
	t.Helper()
	ctx := context.Background()
	// Table names allow [a-zA-Z0-9_.-]; test names allow anything.
	safe := unsafeInName.ReplaceAllString(strings.ToLower(t.Name()), "-")
	name := fmt.Sprintf("it-%s-%d", safe, time.Now().UnixNano())
	if len(name) > 255 {
		name = name[len(name)-255:]
	}
	in := &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("PK"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("PK"), KeyType: types.KeyTypeHash}},
	}
	if spec.SortKey {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String("SK"), AttributeType: types.ScalarAttributeTypeS})
		in.KeySchema = append(in.KeySchema, types.KeySchemaElement{AttributeName: aws.String("SK"), KeyType: types.KeyTypeRange})
	}
	for _, index := range spec.Indexes {
		for _, k := range index.KeySchema {
			in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: k.AttributeName, AttributeType: types.ScalarAttributeTypeS})
		}
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, index)
	}
	if spec.Stream {
		in.StreamSpecification = &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewImage}
	}
	// The name is this test's own (its name and the clock's nanoseconds), so
	// a table that already exists can only be the one an earlier attempt of
	// this very call created before its answer was lost: the SDK's retry
	// then hears ResourceInUseException for a create that succeeded.
	var inUse *types.ResourceInUseException
	if _, err := db.CreateTable(ctx, in); err != nil && !errors.As(err, &inUse) {
		t.Fatalf("create table: %v", err)
	}
	t.Cleanup(func() {
		var gone *types.ResourceNotFoundException
		if _, err := db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)}); err != nil && !errors.As(err, &gone) {
			t.Errorf("delete table %s: %v", name, err)
		}
	})
	if err := dynamodb.NewTableExistsWaiter(db).Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, time.Minute); err != nil {
		t.Fatalf("wait for table: %v", err)
	}
	return name
}

// Env reads the setting key of the environment with parse, or is def when
// it is unset; a value parse refuses fails the test.
func Env[T any](t testing.TB, key string, def T, parse func(string) (T, error)) T {
	t.Helper()
	v := os.Getenv(key)
	if v == "" {
		return def
	}
	x, err := parse(v)
	if err != nil {
		t.Fatalf("%s=%q: %v", key, v, err)
	}
	return x
}

// PutItems writes items into table with BatchWriteItem, 25 at a time and
// a few batches at once, writing again what DynamoDB leaves unprocessed.
func PutItems(t testing.TB, db *dynamodb.Client, table string, items []map[string]types.AttributeValue) {
	t.Helper()
	var batches [][]types.WriteRequest
	for chunk := range slices.Chunk(items, 25) {
		reqs := make([]types.WriteRequest, len(chunk))
		for i, it := range chunk {
			reqs[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: it}}
		}
		batches = append(batches, reqs)
	}
	var next atomic.Int64 // the next batch to write
	errs := Parallel(4, func(int) error {
		for i := int(next.Add(1)) - 1; i < len(batches); i = int(next.Add(1)) - 1 {
			for reqs := batches[i]; len(reqs) > 0; {
				out, err := db.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{
					RequestItems: map[string][]types.WriteRequest{table: reqs},
				})
				if err != nil {
					return err
				}
				reqs = out.UnprocessedItems[table]
			}
		}
		return nil
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("write %d items into %s: %v", len(items), table, err)
	}
}
