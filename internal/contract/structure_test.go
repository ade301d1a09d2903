package contract_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/serverless-shop/backend/"

// goImport is one import of one Go file of the module.
type goImport struct {
	file string // slash path from the module root
	test bool   // a _test.go file
	path string // imported path, module prefix removed; "" outside the module
}

// goFile is one parsed Go file of the module.
type goFile struct {
	path string // slash path from the module root
	ast  *ast.File
}

// goFiles parses every Go file under dirs with mode.
func goFiles(t *testing.T, fset *token.FileSet, mode parser.Mode, dirs ...string) []goFile {
	t.Helper()
	var out []goFile
	for _, dir := range dirs {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
				return err
			}
			f, err := parser.ParseFile(fset, path, nil, mode)
			rel, _ := filepath.Rel(root, path)
			out = append(out, goFile{filepath.ToSlash(rel), f})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// moduleImports lists the imports of every Go file under dirs.
func moduleImports(t *testing.T, dirs ...string) []goImport {
	t.Helper()
	var out []goImport
	for _, f := range goFiles(t, token.NewFileSet(), parser.ImportsOnly, dirs...) {
		for _, spec := range f.ast.Imports {
			if p, _ := strconv.Unquote(spec.Path.Value); strings.HasPrefix(p, module) {
				out = append(out, goImport{file: f.path, test: strings.HasSuffix(f.path, "_test.go"), path: strings.TrimPrefix(p, module)})
			}
		}
	}
	return out
}

// part returns the i-th element of a slash path ("" past the end).
func part(p string, i int) string {
	parts := strings.Split(p, "/")
	if i < len(parts) {
		return parts[i]
	}
	return ""
}

// operatorImports are the packages of a function that a command of cmd/
// may import: an operator's tool that changes a service's data goes
// through that service's own store and domain, so it writes what the
// service would. cmd/staff changes an account's role.
var operatorImports = map[string][]string{
	"cmd/staff": {"functions/users/store", "functions/users/account", "functions/orders/store", "functions/orders/order"},
}

// TestImportRules keeps the code's shape. The functions stay apart: what
// two of them share is a contract in shared/, never an import of one by the
// other, in code or in tests. shared/ holds what functions share at run
// time: it imports no function, and test support only from its tests. No
// deployed code links test support: internal/ and the apptest packages are
// imported by tests only. An operator's command under cmd/ imports no
// function's packages but those operatorImports allows it.
func TestImportRules(t *testing.T) {
	for _, imp := range moduleImports(t, "functions", "shared", "cmd") {
		top, in := part(imp.path, 0), part(imp.file, 0)
		cmd := part(imp.file, 0) + "/" + part(imp.file, 1)
		switch {
		case in == "functions" && top == "functions" && part(imp.path, 1) != part(imp.file, 1):
			t.Errorf("%s imports %s, another function", imp.file, imp.path)
		case in == "cmd" && top == "functions" && !imp.test && !slices.Contains(operatorImports[cmd], imp.path):
			t.Errorf("%s imports %s: a command changes a service's data only through what operatorImports allows it", imp.file, imp.path)
		case in == "shared" && top == "functions":
			t.Errorf("%s imports %s: shared code depends on no function", imp.file, imp.path)
		case !imp.test && (in == "shared" && top == "internal" ||
			(top == "internal" || strings.HasSuffix(imp.path, "/apptest")) && !strings.Contains(imp.file, "/apptest/")):
			t.Errorf("%s imports %s: test support belongs in tests", imp.file, imp.path)
		}
	}
}
