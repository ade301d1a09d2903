package capacity_test

import (
	"cmp"
	"reflect"
	"testing"

	yamlv3 "go.yaml.in/yaml/v3"

	"github.com/serverless-shop/backend/functions/orders/app"
	"github.com/serverless-shop/backend/internal/capacity"
	"github.com/serverless-shop/backend/shared/revocation"
	"github.com/serverless-shop/backend/shared/token"
)

func TestParseEnvironment(t *testing.T) {
	const toml = `
# a comment
version = 0.1
[default.global.parameters]
stack_name = "x"
region = "us-east-1"

[default.deploy.parameters]
parameter_overrides = "Shared=1 Environment=default"

[prod.global.parameters]
region = "eu-west-1" # where

[prod.deploy.parameters]
confirm_changeset = true
parameter_overrides = "Environment=prod Name='two words' Url=https://a.example/x?y=1"

[list.deploy.parameters]
parameter_overrides = ["Environment=list", "Other=2"]
`
	tests := []struct {
		env, toml  string
		region     string
		overrides  map[string]string
		wantErrors bool
	}{
		{env: "prod", region: "eu-west-1", overrides: map[string]string{"Environment": "prod", "Name": "two words", "Url": "https://a.example/x?y=1"}},
		{env: "list", region: "us-east-1", overrides: map[string]string{"Environment": "list", "Other": "2"}},
		{env: "missing", wantErrors: true},
		{env: "bad", toml: "[bad.deploy.parameters", wantErrors: true},
		{env: "bad", toml: "[bad.deploy.parameters]\nno value", wantErrors: true},
		{env: "bad", toml: "[bad.deploy.parameters]\nregion = \"x", wantErrors: true},
		{env: "bad", toml: "[bad.deploy.parameters]\nparameter_overrides = [\"A=1\",", wantErrors: true},
		{env: "bad", toml: "[bad.deploy.parameters]\nparameter_overrides = \"A='b\"", wantErrors: true},
		{env: "bad", toml: "[bad.deploy.parameters]\nparameter_overrides = \"=b\"", wantErrors: true},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			e, err := capacity.ParseEnvironment([]byte(cmp.Or(tt.toml, toml)), tt.env)
			if tt.wantErrors {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if e.Region != tt.region || !reflect.DeepEqual(e.Overrides, tt.overrides) {
				t.Errorf("got region %q, overrides %v; want %q, %v", e.Region, e.Overrides, tt.region, tt.overrides)
			}
		})
	}
}

func TestParseTemplate(t *testing.T) {
	const yaml = `
Parameters:
  Rate: {Type: Number, Default: 100}
  Auth: {Type: Number, Default: 10}
  Cache: {Type: String, Default: "false"}
  Env: {Type: String, Default: dev}
Conditions:
  UseCache: !Equals [!Ref Cache, "true"]
  OnAws: !Not [!Equals [!Ref Env, local]]
  Both: !And [!Condition UseCache, !Condition OnAws]
Globals:
  Function: {MemorySize: 256, Timeout: 10}
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties:
      MethodSettings:
        - {ResourcePath: "/*", HttpMethod: "*", ThrottlingRateLimit: !Ref Rate, ThrottlingBurstLimit: 200}
        - {ResourcePath: "/~1v1~1auth~1login", HttpMethod: POST, ThrottlingRateLimit: !Ref Auth}
        - {ResourcePath: "/~1v1~1products", HttpMethod: GET, CachingEnabled: !If [UseCache, true, false], ThrottlingRateLimit: {Ref: Rate}}
  UsersFunction:
    Type: AWS::Serverless::Function
    Properties:
      MemorySize: 1769
      Events:
        Login: {Type: Api, Properties: {Method: POST, Path: /v1/auth/login}}
        Me: {Type: Api, Properties: {Method: GET, Path: /v1/users/me, Auth: {Authorizer: Jwt}}}
  MailFunction:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Queue: {Type: SQS, Properties: {ScalingConfig: {MaximumConcurrency: !Ref Rate}}}
  OneAlarm: {Type: AWS::CloudWatch::Alarm, Condition: OnAws, Properties: {}}
  Fn::ForEach::Many:
    - Fn
    - [A, B]
    - ${Fn}Alarm: {Type: AWS::CloudWatch::Alarm, Properties: {}}
      ${Fn}AwsAlarm: {Type: AWS::CloudWatch::Alarm, Condition: OnAws, Properties: {}}
`
	tpl, err := capacity.ParseTemplate([]byte(yaml), map[string]string{"Cache": "true", "Auth": "25"})
	if err != nil {
		t.Fatal(err)
	}
	def, methods, err := tpl.MethodThrottles("Api")
	if err != nil {
		t.Fatal(err)
	}
	if def.Rate != 100 || def.Burst != 200 {
		t.Errorf("stage default %+v", def)
	}
	if login := methods["POST /v1/auth/login"]; login.Rate != 25 || login.Burst != 25 {
		t.Errorf("login %+v (want the override 25, burst = rate)", login)
	}
	if products := methods["GET /v1/products"]; !products.Cached || products.Rate != 100 {
		t.Errorf("products %+v", products)
	}
	fns, err := tpl.Functions()
	if err != nil {
		t.Fatal(err)
	}
	if len(fns) != 2 || fns[0].Name != "users" || fns[0].MemoryMB != 1769 || fns[0].Routes["GET /v1/users/me"] != true || fns[0].Routes["POST /v1/auth/login"] != false {
		t.Errorf("users read as %+v", fns[0])
	}
	if fns[1].MemoryMB != 256 || fns[1].QueueConcurrency != 100 || fns[1].QueueConcurrencyFrom != "!Ref Rate" {
		t.Errorf("mail read as %+v", fns[1])
	}
	if both, err := tpl.Condition("Both"); err != nil || !both {
		t.Errorf("Both = %v, %v", both, err)
	}
	alarms, err := tpl.Alarms()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"AAlarm", "AAwsAlarm", "BAlarm", "BAwsAlarm", "OneAlarm"}; !reflect.DeepEqual(alarms, want) {
		t.Errorf("alarms %v, want %v", alarms, want)
	}
	tpl.InStack("shop", "eu-west-1", "123456789012")
	tpl.ARNs["Key"] = "arn:key"
	var policy yamlv3.Node
	if err := yamlv3.Unmarshal([]byte(`{Sid: !Sub ["${A}-${AWS::StackName}-${!Literal}", {A: !Ref Rate}], Action: [!If [Both, kms:Sign, kms:Verify]],
  Resource: [!GetAtt Key.Arn, !Sub "${Key.Arn}/*"], Principal: {AWS: !Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}`), &policy); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"Sid": "100-shop-${Literal}", "Action": []any{"kms:Sign"}, "Resource": []any{"arn:key", "arn:key/*"},
		"Principal": map[string]any{"AWS": "arn:aws:iam::123456789012:root"}}
	if got, err := tpl.Resolve(policy.Content[0]); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Resolve = %v, %v; want %v", got, err, want)
	}
	if _, err := capacity.ParseTemplate([]byte(yaml), map[string]string{"Nope": "1"}); err == nil {
		t.Error("an override of an undeclared parameter was accepted")
	}
	local, err := capacity.ParseTemplate([]byte(yaml), map[string]string{"Env": "local"})
	if err != nil {
		t.Fatal(err)
	}
	if alarms, _ := local.Alarms(); !reflect.DeepEqual(alarms, []string{"AAlarm", "BAlarm"}) {
		t.Errorf("local alarms %v: OneAlarm and the *AwsAlarm are OnAws", alarms)
	}
}

// TestHotKeysMatchTheCode: the hot-key table's periods are the code's.
func TestHotKeysMatchTheCode(t *testing.T) {
	hot, err := capacity.LoadHotKeys()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range hot {
		switch k.Model {
		case capacity.ModelCatalogCopy:
			if k.Every != app.CatalogFresh.Seconds() {
				t.Errorf("%s: every %g s, the orders service refreshes its catalog every %v", k.Key, k.Every, app.CatalogFresh)
			}
		case capacity.ModelRevocationList, capacity.ModelRevocationFeed:
			if k.Every != revocation.DefaultRefresh.Seconds() {
				t.Errorf("%s: every %g s, the checkers reload every %v", k.Key, k.Every, revocation.DefaultRefresh)
			}
			if k.Model == capacity.ModelRevocationList && k.LeewaySeconds != token.Leeway.Seconds() {
				t.Errorf("%s: leeway %g s, token.Leeway %v", k.Key, k.LeewaySeconds, token.Leeway)
			}
			if k.Model == capacity.ModelRevocationFeed && k.OverlapSecs != revocation.Overlap.Seconds() {
				t.Errorf("%s: overlap %g s, the checkers read back %v", k.Key, k.OverlapSecs, revocation.Overlap)
			}
		}
	}
	if !hot.Lists("OrdersTable", "CATALOG") || hot.Lists("UsersTable", "CATALOG") || hot.Lists("UsersTable", "USER#01J") {
		t.Error("Lists matches the wrong keys")
	}
	patterned, err := capacity.ParseHotKeys([]byte(`
- {key: "FEED#*", table: RevocationsTable, model: revocation-feed, readers: [users], every: 10, itemBytes: 150, wcuPerWrite: 2, revocations: {"POST /v1/auth/login": 1}, why: a feed}
`))
	if err != nil {
		t.Fatal(err)
	}
	if !patterned.Lists("RevocationsTable", "FEED#2026-11-22") {
		t.Error("a pattern does not match")
	}
	for _, bad := range []string{
		`- {key: X, table: T, model: nope, readers: [a], every: 1, why: w}`,
		`- {key: X, table: T, model: catalog-copy, readers: [a], every: 0, why: w}`,
		`[]`,
		// A sharded counter without shardsParam and holdMS.
		`- {key: "STOCK#*", table: T, model: sharded-counter, wcuPerWrite: 2, writes: {"POST /v1/orders": 1}, why: w}`,
		// A sharded queue with a shardsConst the model does not read.
		`- {key: "PENDING#*", table: T, index: I, model: sharded-queue, shardsConst: QueueShards, wcuPerWrite: 1, writes: {"POST /v1/orders": 1}, why: w}`,
	} {
		if _, err := capacity.ParseHotKeys([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

func TestDefaultQuotasByRegion(t *testing.T) {
	if q := capacity.DefaultQuotas("eu-west-1"); q.APIGateway.Value != 10000 || q.KMSSymmetric.Value != 100000 {
		t.Errorf("eu-west-1: %+v", q)
	}
	if q := capacity.DefaultQuotas("eu-south-1"); q.APIGateway.Value != 2500 || q.KMSSymmetric.Value != 10000 {
		t.Errorf("eu-south-1: %+v", q)
	}
}
