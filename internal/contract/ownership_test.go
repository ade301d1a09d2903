package contract_test

import (
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// sharedTables are the tables no one service owns, by the package that is
// their contract: every service that verifies tokens reads the revocations.
var sharedTables = map[string]string{"RevocationsTable": "shared/revocation"}

// tableRef finds the tables a policy's resource names (!GetAtt
// UsersTable.Arn, !Sub "${OrdersTable.Arn}/stream/*").
var tableRef = regexp.MustCompile(`[A-Z][A-Za-z0-9]*Table\b`)

// TestServicesKeepToTheirOwnTables is the database-per-service rule, read
// from template.yaml (TestImportRules is its code side):
// a table <Name>Table is the service functions/<name>'s, and a function is
// the service's whose directory holds its main package. No function's
// policies name another service's table or stream, and no stream mapping
// hands a table's writes to another service's function: each service
// publishes its own events.
func TestServicesKeepToTheirOwnTables(t *testing.T) {
	_, byID := resources(t)
	owner := map[string]string{} // table -> service; "" for a shared table
	for id := range ofType(t, "AWS::DynamoDB::Table") {
		name, ok := strings.CutSuffix(id, "Table")
		if !ok {
			continue
		}
		if pkg, shared := sharedTables[id]; shared {
			if _, err := os.Stat(filepath.Join(root, pkg)); err != nil {
				t.Errorf("%s: its contract %s: %v", id, pkg, err)
			}
			owner[id] = ""
		} else if _, err := os.Stat(filepath.Join(root, "functions", strings.ToLower(name))); err == nil {
			owner[id] = strings.ToLower(name)
		} else {
			t.Errorf("%s belongs to no service (functions/%s) and is no shared contract (sharedTables)", id, strings.ToLower(name))
		}
	}
	service := map[string]string{} // function -> service
	for _, d := range mainDirs(t) {
		for id := range ofType(t, "AWS::Serverless::Function") {
			if strings.EqualFold(strings.TrimSuffix(id, "Function"), path.Base(d)) {
				service[id] = part(d, 1)
			}
		}
	}
	reads := func(fn, table, how string) {
		if o, ok := owner[table]; ok && o != "" && o != service[fn] {
			t.Errorf("%s, of the %s service, %s %s, the %s service's table", fn, service[fn], how, table, o)
		}
	}
	for fn := range service {
		for _, n := range scalars(mapping(mapping(byID[fn], "Properties"), "Policies")) {
			for _, table := range tableRef.FindAllString(n, -1) {
				reads(fn, table, "may reach (its policies)")
			}
		}
	}
	mappings := 0
	for _, r := range expandedResources(t) {
		for _, v := range r.values() {
			if fn, table := streamMapping(byID, r.node, r.ident, v); table != "" {
				mappings++
				reads(fn, table, "reads the stream of")
			}
		}
	}
	if mappings == 0 {
		t.Error("no stream mapping found: is the test still reading the template right?")
	}
}

// streamMapping returns the function and the table of a resource that is
// a stream's event source mapping, ${ident} replaced by v ("" for others).
func streamMapping(byID map[string]*yaml.Node, r *yaml.Node, ident, v string) (fn, table string) {
	if typeOf(r) != "AWS::Lambda::EventSourceMapping" {
		return "", ""
	}
	props := mapping(r, "Properties")
	target := func(n *yaml.Node) string {
		for _, s := range scalars(n) {
			s, _, _ = strings.Cut(strings.ReplaceAll(s, "${"+ident+"}", v), ".")
			if byID[s] != nil {
				return s
			}
		}
		return ""
	}
	if table := target(mapping(props, "EventSourceArn")); strings.HasSuffix(table, "Table") {
		return target(mapping(props, "FunctionName")), table
	}
	return "", ""
}

// scalars lists the scalar values under n.
func scalars(n *yaml.Node) []string {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		return []string{n.Value}
	}
	var out []string
	for _, c := range n.Content {
		out = append(out, scalars(c)...)
	}
	return out
}
