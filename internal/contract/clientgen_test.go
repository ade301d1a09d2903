package contract_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// TestGeneratedGoClient generates a Go client from api/openapi.yaml as a
// client team would, with the generator pinned in testdata/goclient
// (oapi-codegen, its version and go.sum there), builds it, and checks that
// every body it sends or receives is a named type: a schema of
// components/schemas, not an anonymous struct or a type the generator named
// after an operation or a response. A body without a name of its own comes
// out as a struct{...} literal in a response's field (RegisterResponse's
// JSON201), an operation's LoginJSONBody or a response component's struct;
// a nested object (an order's lines, a problem's errors) as a struct{...}
// field of its parent.
//
// The generator comes from the module cache or the Go module proxy (which
// make test has); without either the test fails, saying so.
func TestGeneratedGoClient(t *testing.T) {
	doc := loadOpenAPI(t)
	dir := t.TempDir()
	for _, name := range []string{"go.mod", "go.sum"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(readFile(t, "testdata", "goclient", name)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	spec, err := filepath.Abs(filepath.Join(root, "api", "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=readonly")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s: %v\n%s\n(the generator and the client's runtime come from the module cache or the Go module proxy: check GOPROXY and the network)",
				strings.Join(args, " "), err, out)
		}
	}
	run("tool", "oapi-codegen", "-generate", "types", "-package", "client", "-o", "types.go", spec)
	run("tool", "oapi-codegen", "-generate", "client", "-package", "client", "-o", "client.go", spec)
	run("build", "./...")

	var problems []string
	for _, file := range []string{"types.go", "client.go"} {
		problems = append(problems, unnamedBodies(t, filepath.Join(dir, file), file == "types.go", doc.Components.Schemas)...)
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		t.Errorf("the generated Go client has %d bodies or nested objects without a schema's name (name them in components/schemas and $ref them):\n  %s",
			len(problems), strings.Join(problems, "\n  "))
	}
}

// unnamedBodies parses a generated file and lists what is not a named
// schema: every anonymous struct type, wherever it appears, and, in the
// file of types (models), every defined type that is neither a schema of
// components/schemas, nor a type of one's properties (named after it, as
// OrderStatus), nor an operation's parameters (ListOrdersParams), and every
// one the generator named after an inline body (LoginJSONBody,
// Health200JSONResponseBodyStatus). Aliases (LoginJSONRequestBody =
// LoginRequest, a response's MailboxProved = DeviceTokenGrant) name a
// schema and pass.
func unnamedBodies(t *testing.T, path string, models bool, schemas openapi3.Schemas) []string {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, 0)
	if err != nil {
		t.Fatalf("parse the generated %s: %v", filepath.Base(path), err)
	}
	var problems []string
	for _, decl := range f.Decls {
		gen, ok := decl.(*ast.GenDecl)
		if !ok || gen.Tok != token.TYPE {
			continue
		}
		for _, s := range gen.Specs {
			spec := s.(*ast.TypeSpec)
			name := spec.Name.Name
			// The generator's own marks of a body written inline.
			inline := strings.Contains(name, "JSONBody") || strings.Contains(name, "JSONResponseBody")
			if models && !spec.Assign.IsValid() && (inline || !ofSchema(name, schemas) && !strings.HasSuffix(name, "Params")) {
				problems = append(problems, fmt.Sprintf("type %s: named after an operation or a response, not a schema", name))
			}
			// The type's own struct is named; any other struct within is not.
			top := spec.Type
			ast.Inspect(spec.Type, func(n ast.Node) bool {
				st, ok := n.(*ast.StructType)
				if !ok || n == top {
					return true
				}
				problems = append(problems, fmt.Sprintf("type %s: anonymous struct %s", name, fieldOf(spec.Type, st)))
				return true
			})
		}
	}
	return problems
}

// ofSchema reports whether a generated type is a schema or the type of one
// of its properties, which the generator names with the schema's name first.
func ofSchema(name string, schemas openapi3.Schemas) bool {
	for schema := range schemas {
		if strings.HasPrefix(name, schema) {
			return true
		}
	}
	return false
}

// fieldOf names the field of a struct type whose type holds st.
func fieldOf(typ ast.Expr, st *ast.StructType) string {
	parent, ok := typ.(*ast.StructType)
	if !ok {
		return "in the type"
	}
	for _, field := range parent.Fields.List {
		if holds := field.Type.Pos() <= st.Pos() && st.End() <= field.Type.End(); holds && len(field.Names) > 0 {
			return "in field " + field.Names[0].Name
		}
	}
	return "nested deeper"
}
