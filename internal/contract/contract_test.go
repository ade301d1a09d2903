package contract_test

import (
	"context"
	"iter"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"go.yaml.in/yaml/v3"

	ordersstore "github.com/serverless-shop/backend/functions/orders/store"
	usersstore "github.com/serverless-shop/backend/functions/users/store"
	"github.com/serverless-shop/backend/internal/apitest"
	"github.com/serverless-shop/backend/shared/principal"
)

const root = "../.."

// templateRoute is an Api event of a function in template.yaml.
type templateRoute struct {
	Key       string // "GET /v1/orders/{id}"
	Protected bool   // the event names the Jwt authorizer
	Function  string // logical id of the function it invokes
}

func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(filepath.Join(root, "api", "openapi.yaml"))
	if err != nil {
		t.Fatalf("load openapi.yaml: %v", err)
	}
	if err := doc.Validate(context.Background(), openapi3.SetRegexCompiler(apitest.ECMAPattern)); err != nil {
		t.Fatalf("openapi.yaml is not a valid OpenAPI document: %v", err)
	}
	return doc
}

// readFile returns the text of a file (a path relative to this package's
// directory: under root for the repository's files).
func readFile(t *testing.T, path ...string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(path...))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// yamlFile reads a YAML file of the repository as a node tree, so
// CloudFormation's short-form tags (!Ref, !Sub) need no special handling.
func yamlFile(t *testing.T, name ...string) *yaml.Node {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(readFile(t, append([]string{root}, name...)...)), &doc); err != nil {
		t.Fatalf("parse %s: %v", filepath.Join(name...), err)
	}
	return doc.Content[0]
}

// parsedTemplate is template.yaml, parsed once for every test (which only
// read it).
var parsedTemplate struct {
	once sync.Once
	doc  *yaml.Node
}

// template returns template.yaml's node tree.
func template(t *testing.T) *yaml.Node {
	t.Helper()
	parsedTemplate.once.Do(func() { parsedTemplate.doc = yamlFile(t, "template.yaml") })
	if parsedTemplate.doc == nil {
		t.Fatal("template.yaml could not be parsed")
	}
	return parsedTemplate.doc
}

// resources returns the template's resources by logical id, in order.
func resources(t *testing.T) ([]string, map[string]*yaml.Node) {
	t.Helper()
	res := mapping(template(t), "Resources")
	if res == nil {
		t.Fatal("template.yaml has no Resources")
	}
	var ids []string
	byID := map[string]*yaml.Node{}
	for id, r := range entries(res) {
		ids = append(ids, id)
		byID[id] = r
	}
	return ids, byID
}

// ofType lists the template's resources of one type, in order.
func ofType(t *testing.T, typ string) iter.Seq2[string, *yaml.Node] {
	ids, byID := resources(t)
	return func(yield func(string, *yaml.Node) bool) {
		for _, id := range ids {
			if typeOf(byID[id]) == typ && !yield(id, byID[id]) {
				return
			}
		}
	}
}

// typeOf is a resource's Type.
func typeOf(r *yaml.Node) string { return scalar(mapping(r, "Type")) }

// isRef reports whether n is the short form tag (!Ref, !GetAtt) of value.
func isRef(n *yaml.Node, tag, value string) bool {
	return n != nil && n.Tag == tag && n.Value == value
}

// expanded is one resource of the template as CloudFormation makes it: a
// resource of its own, or the fragment of an Fn::ForEach, by the
// fragment's id (${Function}ThrottlesAlarm), made once per element of the
// list in over (nil when the list is no literal, as a !Ref) for the
// identifier ident.
type expanded struct {
	id, ident string
	node      *yaml.Node
	over      []string
}

// values are what ident stands for in the resources made of it: "" for
// a resource of its own or a list that is no literal.
func (e expanded) values() []string {
	if e.over == nil {
		return []string{""}
	}
	return e.over
}

// expandedResources lists every resource of the template, those of each
// Fn::ForEach's fragment included.
func expandedResources(t *testing.T) []expanded {
	t.Helper()
	ids, byID := resources(t)
	var out []expanded
	for _, id := range ids {
		each := byID[id]
		if !strings.HasPrefix(id, "Fn::ForEach::") {
			out = append(out, expanded{id: id, node: each})
			continue
		}
		if each.Kind != yaml.SequenceNode || len(each.Content) != 3 {
			t.Fatalf("%s is not [identifier, list, fragment]", id)
		}
		for fid, r := range entries(each.Content[2]) {
			if strings.HasPrefix(fid, "Fn::ForEach::") {
				t.Fatalf("%s nests %s, which these tests do not read", id, fid)
			}
			e := expanded{id: fid, ident: each.Content[0].Value, node: r}
			if each.Content[1].Kind == yaml.SequenceNode {
				e.over = scalars(each.Content[1])
			}
			out = append(out, e)
		}
	}
	return out
}

// templateRoutes reads the routes of template.yaml: the Api events of its
// functions.
func templateRoutes(t *testing.T) map[string]templateRoute {
	t.Helper()
	routes := map[string]templateRoute{}
	for id, res := range ofType(t, "AWS::Serverless::Function") {
		for name, ev := range entries(mapping(mapping(res, "Properties"), "Events")) {
			if scalar(mapping(ev, "Type")) != "Api" {
				continue
			}
			props := mapping(ev, "Properties")
			if !isRef(mapping(props, "RestApiId"), "!Ref", "Api") {
				t.Errorf("%s event %s is not on the Api resource", id, name)
			}
			r := templateRoute{
				Key:       scalar(mapping(props, "Method")) + " " + scalar(mapping(props, "Path")),
				Protected: scalar(mapping(mapping(props, "Auth"), "Authorizer")) == "Jwt",
				Function:  id,
			}
			if _, dup := routes[r.Key]; dup {
				t.Fatalf("template declares %s twice", r.Key)
			}
			routes[r.Key] = r
		}
	}
	return routes
}

// entries lists the keys and values of a mapping node (none for anything
// else).
func entries(n *yaml.Node) iter.Seq2[string, *yaml.Node] {
	return func(yield func(string, *yaml.Node) bool) {
		for i := 0; n != nil && n.Kind == yaml.MappingNode && i+1 < len(n.Content); i += 2 {
			if !yield(n.Content[i].Value, n.Content[i+1]) {
				return
			}
		}
	}
}

// mapping is the value of key in a mapping node (nil when it has none, or
// n is no mapping).
func mapping(n *yaml.Node, key string) *yaml.Node {
	for k, v := range entries(n) {
		if k == key {
			return v
		}
	}
	return nil
}

func scalar(n *yaml.Node) string {
	if n == nil {
		return ""
	}
	return n.Value
}

// openAPIRoutes lists the operations of the document as route keys, with
// whether they require the bearer scheme.
func openAPIRoutes(doc *openapi3.T) map[string]bool {
	out := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			sec := doc.Security
			if op.Security != nil {
				sec = *op.Security
			}
			out[method+" "+path] = len(sec) > 0
		}
	}
	return out
}

func keys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// methodRoutes drops the ANY events from routes: what is left are the
// operations.
func methodRoutes(routes map[string]templateRoute) map[string]templateRoute {
	out := map[string]templateRoute{}
	for k, r := range routes {
		if !strings.HasPrefix(k, "ANY ") {
			out[k] = r
		}
	}
	return out
}

func TestOpenAPIMatchesTemplate(t *testing.T) {
	doc := loadOpenAPI(t)
	api := openAPIRoutes(doc)
	tmpl := methodRoutes(templateRoutes(t))
	if !slices.Equal(keys(api), keys(tmpl)) {
		t.Fatalf("routes differ\nopenapi.yaml:  %v\ntemplate.yaml: %v", keys(api), keys(tmpl))
	}
	for key, protected := range api {
		if tmpl[key].Protected != protected {
			t.Errorf("%s: openapi.yaml says protected=%v, template.yaml %v", key, protected, tmpl[key].Protected)
		}
	}
}

// TestOperationsDocumentTheirErrors checks that every protected operation
// documents 401 (a bad or revoked token) and 503 (revocations cannot be
// read, shared/revocation), and every operation that takes a JSON body the
// answers web.DecodeJSON gives to a bad one.
func TestOperationsDocumentTheirErrors(t *testing.T) {
	doc := loadOpenAPI(t)
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			for what, c := range map[string]struct {
				applies  bool
				statuses []string
			}{
				"is protected": {op.Security == nil || len(*op.Security) > 0, []string{"401", "503"}},
				"takes a body": {op.RequestBody != nil, []string{"400", "413", "415"}},
			} {
				for _, status := range c.statuses {
					if c.applies && op.Responses.Value(status) == nil {
						t.Errorf("%s %s %s but does not document %s", method, path, what, status)
					}
				}
			}
		}
	}
}

// TestServicesServeTheTemplateRoutes checks that each route of the template
// reaches a service that registers it, with the same protection, so no
// route is left answering 404 and no protected handler is reachable without
// the authorizer.
func TestServicesServeTheTemplateRoutes(t *testing.T) {
	services := serviceRouters(t, apitest.NewAuth(t).Verifier())
	tmpl := methodRoutes(templateRoutes(t))
	served := map[string]bool{}
	for function, svc := range services {
		for _, route := range svc.Routes() {
			key := route.Pattern
			r, ok := tmpl[key]
			switch {
			case !ok:
				t.Errorf("%s registers %s, which the template does not route", function, key)
			case r.Function != function:
				t.Errorf("template routes %s to %s, but %s serves it", key, r.Function, function)
			case r.Protected != route.Protected:
				t.Errorf("%s: template protected=%v, service protected=%v", key, r.Protected, route.Protected)
			}
			served[key] = true
		}
	}
	for _, key := range keys(tmpl) {
		if !served[key] {
			t.Errorf("the template routes %s to %s, whose router does not register it (internal/contract/services_test.go lists the routers)", key, tmpl[key].Function)
		}
	}
}

// TestOtherMethodsReachTheService checks the 405 answers: every path of
// the OpenAPI document has one ANY event, on the function that serves the
// path's operations and behind the same authorizer, and nothing else has
// one; that service answers a method the path does not have with 405 and
// Allow listing exactly the document's methods of the path.
func TestOtherMethodsReachTheService(t *testing.T) {
	doc := loadOpenAPI(t)
	auth := apitest.NewAuth(t)
	services := serviceRouters(t, auth.Verifier())
	tmpl := templateRoutes(t)
	paths := doc.Paths.Map()
	for key := range tmpl {
		if path, ok := strings.CutPrefix(key, "ANY "); ok && paths[path] == nil {
			t.Errorf("template has %s, a path openapi.yaml does not have", key)
		}
	}
	for path, item := range paths {
		anyRoute, ok := tmpl["ANY "+path]
		if !ok {
			t.Errorf("%s: no ANY event, so other methods get the gateway's 404 instead of 405", path)
			continue
		}
		want := slices.Sorted(maps.Keys(item.Operations()))
		for _, method := range want {
			if op := tmpl[method+" "+path]; op.Function != anyRoute.Function || op.Protected != anyRoute.Protected {
				t.Errorf("ANY %s goes to %s (protected=%v), %s %s to %s (protected=%v)", path, anyRoute.Function, anyRoute.Protected, method, path, op.Function, op.Protected)
			}
		}
		svc, ok := services[anyRoute.Function]
		if !ok {
			t.Errorf("ANY %s goes to %s, which serves no API", path, anyRoute.Function)
			continue
		}
		other := "DELETE"
		if slices.Contains(want, other) {
			t.Fatalf("%s has DELETE; pick another method for this test", path)
		}
		req := apitest.FuzzRequest{Route: other + " " + path, Param: "p-1"} // every path parameter p-1
		if anyRoute.Protected {
			req.Bearer = auth.Token(t, principal.Principal{UserID: "u-1", Email: "ada@example.com", Name: "Ada"})
		}
		resp := (&apitest.Client{Handler: svc}).Do(t, req.HTTP())
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != strings.Join(want, ", ") {
			t.Errorf("%s %s: %d with Allow %q, want 405 with %q", other, path, resp.StatusCode, resp.Header.Get("Allow"), strings.Join(want, ", "))
		}
	}
}

// TestRelayFiltersAreTheStoresContracts checks that every table with a
// stream has its service's relay mapping (Fn::ForEach::RelayStreams), whose
// filter (RelayFilters) lets through exactly the writes the service's store
// reads as events (functions/users/store's outbox items, functions/orders/
// store's order items).
func TestRelayFiltersAreTheStoresContracts(t *testing.T) {
	ids, byID := resources(t)
	var streamed []string
	for _, id := range ids {
		if mapping(mapping(byID[id], "Properties"), "StreamSpecification") != nil {
			streamed = append(streamed, strings.TrimSuffix(id, "Table"))
		}
	}
	forEachListIs(t, "RelayStreams", streamed, "the tables with a stream")
	fragment := mapping(byID["Fn::ForEach::RelayStreams"].Content[2], "${Table}RelayStreamMapping")
	filters := seq(mapping(mapping(mapping(fragment, "Properties"), "FilterCriteria"), "Filters"))
	if len(filters) != 1 || !slices.Equal(scalars(mapping(filters[0], "Pattern")), []string{"RelayFilters", "Table", "Pattern"}) {
		t.Errorf("the relays' filter is not !FindInMap [RelayFilters, !Ref Table, Pattern]")
	}
	// The orders table's indexes are the store's: names, keys, projections.
	gsis := seq(mapping(mapping(byID["OrdersTable"], "Properties"), "GlobalSecondaryIndexes"))
	want := ordersstore.Indexes()
	for i, gsi := range gsis {
		if i >= len(want) {
			t.Errorf("OrdersTable has an index the store does not: %s", scalar(mapping(gsi, "IndexName")))
			break
		}
		var keys []string
		for _, k := range seq(mapping(gsi, "KeySchema")) {
			keys = append(keys, scalar(mapping(k, "AttributeName"))+" "+scalar(mapping(k, "KeyType")))
		}
		var wantKeys []string
		for _, k := range want[i].KeySchema {
			wantKeys = append(wantKeys, *k.AttributeName+" "+string(k.KeyType))
		}
		projection := mapping(gsi, "Projection")
		if scalar(mapping(gsi, "IndexName")) != *want[i].IndexName || !slices.Equal(keys, wantKeys) ||
			scalar(mapping(projection, "ProjectionType")) != string(want[i].Projection.ProjectionType) ||
			!slices.Equal(scalars(mapping(projection, "NonKeyAttributes")), want[i].Projection.NonKeyAttributes) {
			t.Errorf("OrdersTable's index %d is not the store's %s keyed %v projecting %s %v", i, *want[i].IndexName, wantKeys, want[i].Projection.ProjectionType, want[i].Projection.NonKeyAttributes)
		}
	}
	if len(gsis) < len(want) {
		t.Errorf("OrdersTable has %d indexes, the store %d", len(gsis), len(want))
	}
	table := mapping(mapping(template(t), "Mappings"), "RelayFilters")
	for name, want := range map[string]string{"Users": usersstore.OutboxFilter, "Orders": ordersstore.FilterPattern} {
		if got := scalar(mapping(mapping(table, name), "Pattern")); got != want {
			t.Errorf("RelayFilters %s is %q, want the store's %q", name, got, want)
		}
	}
}
