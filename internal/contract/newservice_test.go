package contract_test

import (
	"bytes"
	"go/format"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// TestNewServiceChecklist walks docs/extending.md's checklist for adding a
// service, for real: in a copy of the repository it adds a throwaway
// protected service, reviews (GET /v1/reviews, its own table), one step of
// the checklist after the other and in its order (newServiceSteps), builds
// its bootstrap with the Makefile's build-ReviewsFunction target (what sam
// build runs), and runs this package's tests and internal/capacity's on
// the copy. When the checklist and what those tests require drift apart,
// this test fails with the failures of the copy. Nothing is written to the
// repository itself.
//
// It compiles the copy's packages (with -trimpath, so that runs after the
// first share the build cache): about a minute on two cores the first
// time, seconds after. go test -short skips it.
func TestNewServiceChecklist(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and tests a copy of the repository")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make: the checklist builds the service as sam build does, with the Makefile")
	}
	dir := t.TempDir()
	copyRepository(t, root, dir)
	for _, step := range newServiceSteps {
		t.Logf("step: %s", step.name)
		step.apply(t, dir)
	}

	arch := map[string]string{"amd64": "x86_64", "arm64": "arm64"}[runtime.GOARCH]
	if arch == "" {
		t.Skipf("the Makefile builds for x86_64 or arm64, not %s", runtime.GOARCH)
	}
	artifacts := t.TempDir()
	inCopy(t, dir, "make", "build-ReviewsFunction", "ARCH="+arch, "ARTIFACTS_DIR="+artifacts)
	if _, err := os.Stat(filepath.Join(artifacts, "bootstrap")); err != nil {
		t.Fatalf("make build-ReviewsFunction wrote no bootstrap: %v", err)
	}
	inCopy(t, dir, "go", "vet", "./functions/reviews/...")
	inCopy(t, dir, "go", "test", "-trimpath", "-count=1", "-skip", "^TestNewServiceChecklist$", "./internal/contract/", "./internal/capacity/")
}

// checklistStep is one step of docs/extending.md's "Adding a service".
type checklistStep struct {
	name  string
	apply func(t *testing.T, dir string)
}

// newServiceSteps are docs/extending.md's steps for a new service, in its
// order, done for the throwaway service reviews.
var newServiceSteps = []checklistStep{
	{"1. the service's packages: functions/reviews/api (and its domain, app and store)", func(t *testing.T, dir string) {
		writeGo(t, dir, "functions/reviews/store/store.go", reviewsStore)
		writeGo(t, dir, "functions/reviews/api/api.go", reviewsAPI)
	}},
	{"2. functions/reviews/main.go: coldstart.Main, token.ConfigFrom, revocation.ConfigFrom", func(t *testing.T, dir string) {
		writeGo(t, dir, "functions/reviews/main.go", reviewsMain)
	}},
	{"3. template.yaml: ReviewsTable with the StatefulResources policies", func(t *testing.T, dir string) {
		edit(t, dir, "template.yaml", "  # -------------------------------------------------------------- queues\n", reviewsTable+"\n", before)
	}},
	{"4. template.yaml: ReviewsLogGroup", func(t *testing.T, dir string) {
		edit(t, dir, "template.yaml", "  # ----------------------------------------------------------- functions\n", reviewsLogGroup+"\n", before)
	}},
	{"5. template.yaml: ReviewsFunction (built from functions/reviews, the authorizer's token settings, the revocations grant, routes)", func(t *testing.T, dir string) {
		fn := strings.Replace(reviewsFunction, "          TOKEN_SETTINGS\n", authorizerTokenSettings(t, dir), 1)
		edit(t, dir, "template.yaml", "  # ----------------------------------------------------------------- API\n", fn+"\n", before)
	}},
	{"6. template.yaml: the alarm lists, DurationAlarms, ReviewsErrorsAlarm", func(t *testing.T, dir string) {
		edit(t, dir, "template.yaml", "    - [Authorizer, Users, Orders, UsersRelay, OrdersRelay, Notifications]", "    - [Authorizer, Users, Orders, UsersRelay, OrdersRelay, Notifications, Reviews]", replace)
		edit(t, dir, "template.yaml", "    Notifications: {Milliseconds: 24000}\n", "    Reviews: {Milliseconds: 8000}\n", after)
		edit(t, dir, "template.yaml", "  UsersRelayLagAlarm:\n", reviewsErrorsAlarm+"\n", before)
		edit(t, dir, "template.yaml", "  Fn::ForEach::TableThrottleAlarms:\n    - Table\n    - [Users, Orders, Notifications, Revocations]", "  Fn::ForEach::TableThrottleAlarms:\n    - Table\n    - [Users, Orders, Notifications, Revocations, Reviews]", replace)
		edit(t, dir, "template.yaml", "  Fn::ForEach::TableReadQuotaAlarms:\n    - Table\n    - [Users, Orders, Revocations]", "  Fn::ForEach::TableReadQuotaAlarms:\n    - Table\n    - [Users, Orders, Revocations, Reviews]", replace)
		edit(t, dir, "template.yaml", "  Fn::ForEach::TableWriteQuotaAlarms:\n    - Table\n    - [Users, Orders, Notifications, Revocations]", "  Fn::ForEach::TableWriteQuotaAlarms:\n    - Table\n    - [Users, Orders, Notifications, Revocations, Reviews]", replace)
	}},
	{"7. template.yaml: the dashboard's errors, duration and throttles graphs", func(t *testing.T, dir string) {
		for _, metric := range []string{"Errors", "Duration", "Throttles"} {
			last := `["AWS/Lambda", "` + metric + `", "FunctionName", "${NotificationsFunction}", {"label": "notifications"}]`
			edit(t, dir, "template.yaml", last+"]", last+",\n                  "+`["AWS/Lambda", "`+metric+`", "FunctionName", "${ReviewsFunction}", {"label": "reviews"}]]`, replace)
		}
	}},
	{"8. api/openapi.yaml: the operations, their bodies named in components/schemas", func(t *testing.T, dir string) {
		edit(t, dir, "api/openapi.yaml", "\nsecurity:\n  - bearer: []\n", reviewsOpenAPI, before)
		edit(t, dir, "api/openapi.yaml", "\n  schemas:\n", reviewsSchema, after)
	}},
	{"9. internal/contract/services_test.go: the router", func(t *testing.T, dir string) {
		edit(t, dir, "internal/contract/services_test.go", "\tordersapi \"github.com/serverless-shop/backend/functions/orders/api\"\n", "\treviewsapi \"github.com/serverless-shop/backend/functions/reviews/api\"\n", after)
		edit(t, dir, "internal/contract/services_test.go", "\t\t\"OrdersFunction\": orders,\n", "\t\t\"ReviewsFunction\": reviewsapi.NewHandler(log, reviewsapi.Config{Verifier: verifier}),\n", after)
		gofmtFile(t, dir, "internal/contract/services_test.go")
	}},
	{"10. README.md and docs/operations.md: the alarm counts (7 more on AWS, 5 more locally)", func(t *testing.T, dir string) {
		// Errors, throttles, duration, table read and write throttles
		// everywhere; the table's read and write quota alarms on AWS only.
		addToCount(t, dir, "README.md", regexp.MustCompile(`(\d+)( alarms \(\$0\.10)`), 7)
		addToCount(t, dir, "docs/operations.md", regexp.MustCompile(`(\d+)( CloudWatch alarms in prod)`), 7)
		addToCount(t, dir, "docs/operations.md", regexp.MustCompile(`(\d+)( locally;)`), 5)
	}},
}

// authorizerTokenSettings copies the lines of the token settings from
// AuthorizerFunction's environment in the copy's template.yaml, as the
// checklist says to.
func authorizerTokenSettings(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	_, fn, ok := strings.Cut(string(b), "\n  AuthorizerFunction:\n")
	fn, _, _ = strings.Cut(fn, "\n\n")
	lines := regexp.MustCompile(`(?m)^ +(TOKEN_JWKS|TOKEN_ISSUER|TOKEN_AUDIENCE|ACCESS_TOKEN_TTL): .*\n`).FindAllString(fn+"\n", -1)
	if !ok || len(lines) != len(tokenSettings) {
		t.Fatalf("template.yaml: AuthorizerFunction's token settings not found (%d lines)", len(lines))
	}
	return strings.Join(lines, "")
}

// copyRepository copies the repository's files from src to dst, without
// its git metadata, its installed tools and its build output.
func copyRepository(t *testing.T, src, dst string) {
	t.Helper()
	skip := map[string]bool{".git": true, ".local": true, "build": true, ".aws-sam": true}
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		if rel != "." && skip[strings.Split(filepath.ToSlash(rel), "/")[0]] {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case !d.Type().IsRegular():
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, info.Mode().Perm())
	})
	if err != nil {
		t.Fatalf("copy the repository: %v", err)
	}
}

// inCopy runs a command in the copy and fails the test with its output
// when it fails.
func inCopy(t *testing.T, dir, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("in the copy with the new service, %s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

func writeGo(t *testing.T, dir, file, src string) {
	t.Helper()
	formatted, err := format.Source([]byte(src))
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	path := filepath.Join(dir, file)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, formatted, 0o644); err != nil {
		t.Fatal(err)
	}
}

func gofmtFile(t *testing.T, dir, file string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		t.Fatal(err)
	}
	writeGo(t, dir, file, string(b))
}

// Where edit puts its text: before the anchor, after it, or instead of it.
const (
	before = iota
	after
	replace
)

// edit changes a file of the copy at the one place anchor occurs.
func edit(t *testing.T, dir, file, anchor, text string, where int) {
	t.Helper()
	path := filepath.Join(dir, file)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(b, []byte(anchor)); n != 1 {
		t.Fatalf("%s: the checklist's anchor occurs %d times, want once: %q", file, n, anchor)
	}
	switch where {
	case before:
		text += anchor
	case after:
		text = anchor + text
	}
	if err := os.WriteFile(path, bytes.Replace(b, []byte(anchor), []byte(text), 1), 0o644); err != nil {
		t.Fatal(err)
	}
}

// addToCount adds n to the number a pattern's first group matches, once.
func addToCount(t *testing.T, dir, file string, pattern *regexp.Regexp, n int) {
	t.Helper()
	path := filepath.Join(dir, file)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := pattern.FindSubmatchIndex(b)
	if m == nil {
		t.Fatalf("%s: no count matching %s", file, pattern)
	}
	old, _ := strconv.Atoi(string(b[m[2]:m[3]]))
	out := append(append(append([]byte{}, b[:m[2]]...), strconv.Itoa(old+n)...), b[m[3]:]...)
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

const reviewsStore = `// Package store keeps the reviews in the reviews table.
package store

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// QueryAPI is the DynamoDB call the store makes.
type QueryAPI interface {
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

// Store reads the reviews table.
type Store struct {
	db    QueryAPI
	table string
}

// New returns the store of table.
func New(db QueryAPI, table string) *Store { return &Store{db: db, table: table} }

// Count counts the reviews of a customer.
func (s *Store) Count(ctx context.Context, customer string) (int, error) {
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "CUSTOMER#" + customer}},
		Select:                    types.SelectCount,
	})
	if err != nil {
		return 0, fmt.Errorf("count reviews of %s: %w", customer, err)
	}
	return int(out.Count), nil
}
`

const reviewsAPI = `// Package api is the reviews service's HTTP API.
package api

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/serverless-shop/backend/shared/web"
)

// Counter counts a customer's reviews.
type Counter interface {
	Count(ctx context.Context, customer string) (int, error)
}

// Config wires the API.
type Config struct {
	Reviews     Counter           // nil: none (tests)
	Verifier    web.TokenVerifier // checks the access tokens of protected routes
	Revocations web.Revocations   // refuses revoked tokens; optional (tests)
}

// NewHandler returns the service's API: the routes on a web.Server.
func NewHandler(log *slog.Logger, cfg Config) *web.Server {
	s := web.New(web.Config{Log: log, Verifier: cfg.Verifier, Revocations: cfg.Revocations})
	s.Protected("GET /v1/reviews", func(w http.ResponseWriter, r *http.Request) error {
		n := 0
		if cfg.Reviews != nil {
			var err error
			if n, err = cfg.Reviews.Count(r.Context(), web.Caller(r).UserID); err != nil {
				return err
			}
		}
		return web.JSON(w, http.StatusOK, map[string]int{"count": n})
	})
	return s
}
`

const reviewsMain = `// Command reviews is the throwaway service of docs/extending.md's checklist.
package main

import (
	"context"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/serverless-shop/backend/functions/reviews/api"
	"github.com/serverless-shop/backend/functions/reviews/store"
	"github.com/serverless-shop/backend/shared/awsretry"
	"github.com/serverless-shop/backend/shared/coldstart"
	"github.com/serverless-shop/backend/shared/revocation"
	"github.com/serverless-shop/backend/shared/token"
	"github.com/serverless-shop/backend/shared/web"
)

func main() { coldstart.Main("reviews", build) }

// build wires the service from REVIEWS_TABLE, the token settings and the
// revocations table.
func build(ctx context.Context, env *coldstart.Env, log *slog.Logger) (any, error) {
	table := env.String("REVIEWS_TABLE")
	tokens := token.ConfigFrom(env)
	revocations := revocation.ConfigFrom(env)
	if err := env.Err(); err != nil {
		return nil, err
	}
	cfg, err := coldstart.AWSConfig(ctx)
	if err != nil {
		return nil, err
	}
	db := dynamodb.NewFromConfig(awsretry.API.Apply(cfg))
	return web.Lambda(api.NewHandler(log, api.Config{
		Reviews:     store.New(db, table),
		Verifier:    tokens.Verifier(),
		Revocations: revocations.Checker(db, log),
	})), nil
}
`

const reviewsTable = `  ReviewsTable:
    Type: AWS::DynamoDB::Table
    DeletionPolicy: !FindInMap [StatefulResources, !Ref Environment, Policy]
    UpdateReplacePolicy: !FindInMap [StatefulResources, !Ref Environment, Policy]
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - {AttributeName: PK, AttributeType: S}
        - {AttributeName: SK, AttributeType: S}
      KeySchema:
        - {AttributeName: PK, KeyType: HASH}
        - {AttributeName: SK, KeyType: RANGE}
      PointInTimeRecoverySpecification: {PointInTimeRecoveryEnabled: true}
      SSESpecification: {SSEEnabled: true}
      DeletionProtectionEnabled: !If [IsProd, true, false]
`

const reviewsLogGroup = `  ReviewsLogGroup:
    Type: AWS::Logs::LogGroup
    DeletionPolicy: Delete
    UpdateReplacePolicy: Delete
    Properties:
      LogGroupName: !Sub "/aws/lambda/${AWS::StackName}-reviews"
      RetentionInDays: !Ref LogRetentionDays
`

const reviewsFunction = `  ReviewsFunction:
    Type: AWS::Serverless::Function
    Metadata: {BuildMethod: makefile}
    Properties:
      CodeUri: .
      LoggingConfig:
        LogGroup: !Ref ReviewsLogGroup
      Description: Reviews service (the throwaway service of docs/extending.md).
      Environment:
        Variables:
          REVIEWS_TABLE: !Ref ReviewsTable
          TOKEN_SETTINGS
          REVOCATIONS_TABLE: !Ref RevocationsTable
      Policies:
        - Statement:
            - Effect: Allow
              Action: dynamodb:Query
              Resource: !GetAtt ReviewsTable.Arn
            - Effect: Allow
              Action: dynamodb:Query
              Resource: !GetAtt RevocationsTable.Arn
      Events:
        ListReviews: {Type: Api, Properties: {RestApiId: !Ref Api, Method: GET, Path: /v1/reviews, Auth: {Authorizer: Jwt}}}
        AnyReviews: {Type: Api, Properties: {RestApiId: !Ref Api, Method: ANY, Path: /v1/reviews, Auth: {Authorizer: Jwt}}}
`

const reviewsErrorsAlarm = `  ReviewsErrorsAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmDescription: The reviews function raised errors (crashes or timeouts, not 4xx answers).
      Namespace: AWS/Lambda
      MetricName: Errors
      Dimensions: [{Name: FunctionName, Value: !Ref ReviewsFunction}]
      Statistic: Sum
      Period: 300
      EvaluationPeriods: 1
      Threshold: 0
      ComparisonOperator: GreaterThanThreshold
      TreatMissingData: notBreaching
      AlarmActions: [!Ref AlarmTopic]
`

const reviewsOpenAPI = `  /v1/reviews:
    get:
      tags: [reviews]
      x-costs: []
      operationId: countReviews
      summary: How many reviews the caller wrote.
      responses:
        "200":
          description: The caller's reviews, counted.
          headers:
            X-Request-Id: {$ref: "#/components/headers/RequestId"}
          content:
            application/json:
              schema: {$ref: "#/components/schemas/ReviewCount"}
        "401": {$ref: "#/components/responses/Unauthenticated"}
        "503": {$ref: "#/components/responses/Unavailable"}
`

// reviewsSchema names the operation's body, so that generated clients get
// a type of that name (TestGeneratedGoClient).
const reviewsSchema = `    ReviewCount:
      type: object
      additionalProperties: false
      required: [count]
      properties:
        count: {type: integer, minimum: 0}

`
