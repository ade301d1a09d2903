package contract_test

import (
	"cmp"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// What a function and a table of template.yaml need besides their routes,
// which docs/extending.md's checklist for a new service walks through (and
// TestNewServiceChecklist follows): a build from its own directory, a log
// group, the token settings and the revocations table when it serves
// protected routes, its places in the alarm lists and on the dashboard.

// mainDirs lists the directories of the Lambda main packages the Makefile
// builds (its MAINS: functions/*/main.go and functions/*/*/main.go).
func mainDirs(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, pattern := range []string{"functions/*/main.go", "functions/*/*/main.go"} {
		files, _ := filepath.Glob(filepath.Join(root, pattern)) // no error for a well-formed pattern
		for _, f := range files {
			rel, _ := filepath.Rel(root, filepath.Dir(f)) // f is under root
			out = append(out, filepath.ToSlash(rel))
		}
	}
	if len(out) == 0 {
		t.Fatal("no main package under functions/")
	}
	return out
}

// TestFunctionsAreBuiltFromTheirDirectories: sam build runs the Makefile's
// build-<LogicalId> target of each function (Metadata BuildMethod:
// makefile, CodeUri: .), which builds the main package whose directory is
// named like the logical id less "Function", in lower case (UsersFunction:
// functions/users; CatalogSeedFunction: functions/orders/catalogseed).
// Every function has exactly one such directory, every main package a
// function, and each function a log group of its own with a retention.
func TestFunctionsAreBuiltFromTheirDirectories(t *testing.T) {
	_, byID := resources(t)
	dirs := mainDirs(t)
	builtBy := map[string]string{}
	logGroupOf := map[string]string{}
	for id, fn := range ofType(t, "AWS::Serverless::Function") {
		name, ok := strings.CutSuffix(id, "Function")
		if !ok || name == "" {
			t.Errorf("%s: a function's logical id is <Name>Function (the Makefile's target is build-%%Function)", id)
			continue
		}
		if got := scalar(mapping(mapping(fn, "Metadata"), "BuildMethod")); got != "makefile" {
			t.Errorf("%s: Metadata BuildMethod is %q, want makefile", id, got)
		}
		props := mapping(fn, "Properties")
		if got := scalar(mapping(props, "CodeUri")); got != "." {
			t.Errorf("%s: CodeUri is %q, want . (the Makefile is at the repository's root)", id, got)
		}
		found := slices.DeleteFunc(slices.Clone(dirs), func(d string) bool { return path.Base(d) != strings.ToLower(name) })
		if len(found) != 1 {
			t.Errorf("%s: the Makefile builds it from the one main package in a directory named %s under functions/; found %v", id, strings.ToLower(name), found)
		} else {
			builtBy[found[0]] = id
		}
		group := mapping(mapping(props, "LoggingConfig"), "LogGroup")
		if group == nil || group.Tag != "!Ref" || scalar(mapping(byID[group.Value], "Type")) != "AWS::Logs::LogGroup" {
			t.Errorf("%s: LoggingConfig LogGroup is not !Ref to a log group of the template", id)
			continue
		}
		if other, ok := logGroupOf[group.Value]; ok {
			t.Errorf("%s and %s log to one group, %s", other, id, group.Value)
		}
		logGroupOf[group.Value] = id
		if mapping(mapping(byID[group.Value], "Properties"), "RetentionInDays") == nil {
			t.Errorf("%s (the log group of %s) has no RetentionInDays", group.Value, id)
		}
	}
	for _, d := range dirs {
		if builtBy[d] == "" {
			t.Errorf("%s is a main package no function of template.yaml builds", d)
		}
	}
}

// tokenSettings are the variables token.ConfigFrom reads: what a
// function that verifies access tokens needs, with the authorizer's values.
var tokenSettings = []string{"TOKEN_JWKS", "TOKEN_ISSUER", "TOKEN_AUDIENCE", "ACCESS_TOKEN_TTL"}

// TestProtectedFunctionsVerifyTokensLikeTheAuthorizer: a service with
// protected routes verifies the access token again and refuses revoked
// ones (shared/web). It needs the authorizer's token settings, with the
// same values, and the revocations table: REVOCATIONS_TABLE (read by
// coldstart.Env.Revocations) and dynamodb:Query on it. Without them it
// fails its cold start, or answers 503 to every protected request once it
// cannot read the revocations.
func TestProtectedFunctionsVerifyTokensLikeTheAuthorizer(t *testing.T) {
	_, byID := resources(t)
	authorizer := mapping(mapping(mapping(byID["AuthorizerFunction"], "Properties"), "Environment"), "Variables")
	protected := map[string]bool{}
	for _, r := range templateRoutes(t) {
		if r.Protected {
			protected[r.Function] = true
		}
	}
	if len(protected) == 0 {
		t.Fatal("the template has no protected route")
	}
	for _, id := range keys(protected) {
		props := mapping(byID[id], "Properties")
		vars := mapping(mapping(props, "Environment"), "Variables")
		for _, name := range tokenSettings {
			want, got := mapping(authorizer, name), mapping(vars, name)
			if want == nil {
				t.Fatalf("AuthorizerFunction has no %s", name)
			}
			if got == nil || got.Tag != want.Tag || got.Value != want.Value {
				t.Errorf("%s serves protected routes: %s must be the authorizer's, %s %s", id, name, want.Tag, want.Value)
			}
		}
		if v := mapping(vars, "REVOCATIONS_TABLE"); v == nil || v.Tag != "!Ref" || v.Value != "RevocationsTable" {
			t.Errorf("%s serves protected routes: REVOCATIONS_TABLE must be !Ref RevocationsTable", id)
		}
		if !slices.Contains(tableActions(props)["RevocationsTable"], "dynamodb:query") {
			t.Errorf("%s serves protected routes: its policy must allow dynamodb:Query on !GetAtt RevocationsTable.Arn", id)
		}
	}
}

// tableActions lists, by table, the DynamoDB actions (in lower case) a
// function's policy statements allow on !GetAtt <Table>.Arn.
func tableActions(props *yaml.Node) map[string][]string {
	out := map[string][]string{}
	for _, st := range statements(props) {
		if scalar(mapping(st, "Effect")) != "Allow" {
			continue
		}
		resources := []*yaml.Node{mapping(st, "Resource")}
		if r := resources[0]; r != nil && r.Kind == yaml.SequenceNode && r.Tag != "!GetAtt" {
			resources = r.Content
		}
		for _, r := range resources {
			if r == nil || r.Tag != "!GetAtt" || r.Kind != yaml.ScalarNode {
				continue
			}
			table, attr, _ := strings.Cut(r.Value, ".")
			if attr != "Arn" {
				continue
			}
			for _, a := range scalars(mapping(st, "Action")) {
				if a = strings.ToLower(a); strings.HasPrefix(a, "dynamodb:") {
					out[table] = append(out[table], a)
				}
			}
		}
	}
	return out
}

// statements lists the statements of a function's policies.
func statements(props *yaml.Node) []*yaml.Node {
	var out []*yaml.Node
	for _, p := range seq(mapping(props, "Policies")) {
		out = append(out, seq(mapping(p, "Statement"))...)
	}
	return out
}

// customResourceFunctions are the functions only a custom resource invokes
// (its ServiceToken), during deployments.
func customResourceFunctions(ids []string, byID map[string]*yaml.Node) map[string]bool {
	out := map[string]bool{}
	for _, id := range ids {
		typ := scalar(mapping(byID[id], "Type"))
		if !strings.HasPrefix(typ, "Custom::") && typ != "AWS::CloudFormation::CustomResource" {
			continue
		}
		if token := mapping(mapping(byID[id], "Properties"), "ServiceToken"); token != nil && token.Tag == "!GetAtt" {
			fn, _, _ := strings.Cut(token.Value, ".")
			out[fn] = true
		}
	}
	return out
}

// dashboardBody is the text of the dashboard's body (its !Sub string).
func dashboardBody(t *testing.T, byID map[string]*yaml.Node) string {
	t.Helper()
	body := mapping(mapping(byID["Dashboard"], "Properties"), "DashboardBody")
	if typeOf(byID["Dashboard"]) != "AWS::CloudWatch::Dashboard" || body == nil || body.Tag != "!Sub" || body.Kind != yaml.SequenceNode || len(body.Content) != 2 {
		t.Fatal("template.yaml has no AWS::CloudWatch::Dashboard Dashboard whose DashboardBody is !Sub [body, variables]")
	}
	return body.Content[0].Value
}

// TestServingFunctionsAreAlarmed: every function that serves requests or
// events (all but those only a custom resource invokes) has its alarms and
// its graphs: it is in the list of Fn::ForEach::FunctionAlarms (throttles,
// duration) and in the DurationAlarms mapping, has a <Name>ErrorsAlarm on
// its Lambda Errors, and is on the dashboard's errors, duration and
// throttles graphs. The list names nothing else; the mapping names only
// functions, each at 80 % of its timeout (its own, or the Globals').
func TestServingFunctionsAreAlarmed(t *testing.T) {
	ids, byID := resources(t)
	custom := customResourceFunctions(ids, byID)
	durations := mapping(mapping(template(t), "Mappings"), "DurationAlarms")
	dashboard := dashboardBody(t, byID)
	var serving []string
	for id := range ofType(t, "AWS::Serverless::Function") {
		if custom[id] {
			continue
		}
		name := strings.TrimSuffix(id, "Function")
		serving = append(serving, name)
		if mapping(durations, name) == nil {
			t.Errorf("%s: %s is not in the DurationAlarms mapping (80 %% of its timeout, in milliseconds)", id, name)
		}
		alarm := mapping(byID[name+"ErrorsAlarm"], "Properties")
		if scalar(mapping(alarm, "Namespace")) != "AWS/Lambda" || scalar(mapping(alarm, "MetricName")) != "Errors" ||
			!isRef(dimension(alarm, "FunctionName"), "!Ref", id) {
			t.Errorf("%s: no %sErrorsAlarm on AWS/Lambda Errors of FunctionName !Ref %s", id, name, id)
		}
		for _, metric := range []string{"Errors", "Duration", "Throttles"} {
			if !strings.Contains(dashboard, `["AWS/Lambda", "`+metric+`", "FunctionName", "${`+id+`}"`) {
				t.Errorf(`%s: not on the dashboard's %s graph (["AWS/Lambda", "%s", "FunctionName", "${%s}", ...])`, id, metric, metric, id)
			}
		}
	}
	if len(serving) == 0 {
		t.Fatal("no function serves requests or events: is the test still reading the template right?")
	}
	forEachListIs(t, "FunctionAlarms", serving, "the functions that serve requests or events (their throttles and duration alarms)")
	for name, limit := range entries(durations) {
		fn := byID[name+"Function"]
		if fn == nil {
			t.Errorf("DurationAlarms names %s, but there is no %sFunction", name, name)
			continue
		}
		if got, want := number(t, mapping(limit, "Milliseconds")), timeout(t, fn)*8/10; got != int(want.Milliseconds()) {
			t.Errorf("DurationAlarms %s = %d ms, want %d (80 %% of its %v timeout)", name, got, want.Milliseconds(), timeout(t, fn))
		}
	}
}

// number reads an integer of the template.
func number(t *testing.T, n *yaml.Node) int {
	t.Helper()
	v, err := strconv.Atoi(scalar(n))
	if err != nil {
		t.Fatalf("not a number: %q", scalar(n))
	}
	return v
}

// timeout is a function's Timeout: its own, or the Globals'.
func timeout(t *testing.T, fn *yaml.Node) time.Duration {
	t.Helper()
	n := cmp.Or(mapping(mapping(fn, "Properties"), "Timeout"), mapping(mapping(mapping(template(t), "Globals"), "Function"), "Timeout"))
	return time.Duration(number(t, n)) * time.Second
}

// readActions are the DynamoDB actions that consume read capacity.
var readActions = []string{"dynamodb:getitem", "dynamodb:batchgetitem", "dynamodb:query", "dynamodb:scan", "dynamodb:transactgetitems"}

// TestTablesAreAlarmed: every table (<Name>Table) is in the lists of
// Fn::ForEach::TableThrottleAlarms and TableWriteQuotaAlarms, and in
// TableReadQuotaAlarms exactly when some function may read it; the lists
// name nothing else.
func TestTablesAreAlarmed(t *testing.T) {
	readBy := map[string]bool{} // table -> some function may read it
	for _, fn := range ofType(t, "AWS::Serverless::Function") {
		for table, actions := range tableActions(mapping(fn, "Properties")) {
			if slices.ContainsFunc(actions, func(a string) bool { return slices.Contains(readActions, a) }) {
				readBy[table] = true
			}
		}
	}
	var tables, read []string
	for id := range ofType(t, "AWS::DynamoDB::Table") {
		name, ok := strings.CutSuffix(id, "Table")
		if !ok || name == "" {
			t.Errorf("%s: a table's logical id is <Name>Table (the alarm lists name <Name>)", id)
			continue
		}
		tables = append(tables, name)
		if readBy[id] {
			read = append(read, name)
		}
	}
	forEachListIs(t, "TableThrottleAlarms", tables, "the tables")
	forEachListIs(t, "TableWriteQuotaAlarms", tables, "the tables")
	forEachListIs(t, "TableReadQuotaAlarms", read, "the tables some function may read")
}
