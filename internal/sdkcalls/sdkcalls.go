package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/constant"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// sdkService is the import path prefix of the AWS SDK's service packages.
const sdkService = "github.com/aws/aws-sdk-go-v2/service/"

// Deployed are the package patterns of the code that runs in the cloud: the
// functions (each main package and what it imports) and what they share.
var Deployed = []string{"./functions/...", "./shared/..."}

// Op is one AWS API operation the deployed code calls.
type Op struct {
	// Package is the SDK package's import path below service/ ("ses",
	// "dynamodb"); ServiceID and APIVersion are its ServiceID and
	// ServiceAPIVersion constants ("SES", "2010-12-01").
	Package    string `json:"package"`
	ServiceID  string `json:"serviceId"`
	APIVersion string `json:"apiVersion"`
	// Operation is the API operation ("SendEmail").
	Operation string `json:"operation"`
	// Sites are where the code uses it (file:line, relative to the module).
	Sites []string `json:"sites"`
}

// listed is what go list tells of one package.
type listed struct {
	ImportPath string
	Dir        string
	Export     string
	GoFiles    []string
	Module     *struct{ Path string }
	DepOnly    bool
}

// List type-checks the deployed packages of the module at root and returns
// the operations they call, sorted by package and operation.
func List(root string) ([]Op, error) {
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	pkgs, err := goList(root)
	if err != nil {
		return nil, err
	}
	exports := map[string]string{}
	var own []listed
	for _, p := range pkgs {
		exports[p.ImportPath] = p.Export
		if p.Module != nil && !p.DepOnly && strings.HasPrefix(p.ImportPath, p.Module.Path+"/") {
			own = append(own, p)
		}
	}
	if len(own) == 0 {
		return nil, errors.New("no deployed packages found")
	}
	fset := token.NewFileSet()
	imp := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		file := exports[path]
		if file == "" {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(file)
	})
	found := map[[2]string]*Op{}
	for _, p := range own {
		if err := check(fset, imp, root, p, found); err != nil {
			return nil, err
		}
	}
	out := make([]Op, 0, len(found))
	for _, op := range found {
		slices.Sort(op.Sites)
		op.Sites = slices.Compact(op.Sites)
		out = append(out, *op)
	}
	slices.SortFunc(out, func(a, b Op) int {
		return cmp.Or(strings.Compare(a.Package, b.Package), strings.Compare(a.Operation, b.Operation))
	})
	return out, nil
}

func goList(root string) ([]listed, error) {
	cmd := exec.Command("go", append([]string{"list", "-deps", "-export", "-json=ImportPath,Dir,Export,GoFiles,Module,DepOnly"}, Deployed...)...)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %v: %s", err, stderr.String())
	}
	var pkgs []listed
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p listed
		if err := dec.Decode(&p); err != nil {
			return nil, fmt.Errorf("go list output: %w", err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs, nil
}

// check type-checks one package's non-test files and records the
// operations it uses.
func check(fset *token.FileSet, imp types.Importer, root string, p listed, found map[[2]string]*Op) error {
	var files []*ast.File
	for _, name := range p.GoFiles {
		f, err := parser.ParseFile(fset, filepath.Join(p.Dir, name), nil, 0)
		if err != nil {
			return err
		}
		files = append(files, f)
	}
	info := &types.Info{Uses: map[*ast.Ident]types.Object{}, Selections: map[*ast.SelectorExpr]*types.Selection{}}
	if _, err := (&types.Config{Importer: imp}).Check(p.ImportPath, fset, files, info); err != nil {
		return fmt.Errorf("type-check %s: %w", p.ImportPath, err)
	}
	record := func(pos token.Pos, pkg *types.Package, op string) {
		key := [2]string{pkg.Path(), op}
		o := found[key]
		if o == nil {
			o = &Op{Package: strings.TrimPrefix(pkg.Path(), sdkService), Operation: op,
				ServiceID: stringConst(pkg, "ServiceID"), APIVersion: stringConst(pkg, "ServiceAPIVersion")}
			found[key] = o
		}
		at := fset.Position(pos)
		rel, _ := filepath.Rel(root, at.Filename) // both absolute: List made root so
		o.Sites = append(o.Sites, fmt.Sprintf("%s:%d", filepath.ToSlash(rel), at.Line))
	}
	for id, obj := range info.Uses {
		fn, ok := obj.(*types.Func)
		if !ok {
			continue
		}
		sig := fn.Type().(*types.Signature)
		if sig.Recv() != nil {
			// A method (of an SDK client, or of an interface an adapter
			// declares) whose request is an SDK operation's input shape.
			if pkg, op, ok := operation(fn.Name(), sig); ok {
				record(id.Pos(), pkg, op)
			}
			continue
		}
		// A function of an SDK service package (a paginator's or a
		// waiter's constructor): the operations of the client interface
		// it takes.
		if fn.Pkg() == nil || !strings.HasPrefix(fn.Pkg().Path(), sdkService) {
			continue
		}
		for i := range sig.Params().Len() {
			iface, ok := sig.Params().At(i).Type().Underlying().(*types.Interface)
			if !ok {
				continue
			}
			for m := range iface.Methods() {
				if pkg, op, ok := operation(m.Name(), m.Type().(*types.Signature)); ok {
					record(id.Pos(), pkg, op)
				}
			}
		}
	}
	return nil
}

// operation reports whether a method named name with signature sig is an
// AWS API operation: its second parameter is *<name>Input of an SDK
// service package.
func operation(name string, sig *types.Signature) (*types.Package, string, bool) {
	if sig.Params().Len() < 2 {
		return nil, "", false
	}
	ptr, ok := sig.Params().At(1).Type().(*types.Pointer)
	if !ok {
		return nil, "", false
	}
	named, ok := ptr.Elem().(*types.Named)
	if !ok || named.Obj().Pkg() == nil {
		return nil, "", false
	}
	pkg := named.Obj().Pkg()
	service, ok := strings.CutPrefix(pkg.Path(), sdkService)
	if !ok || strings.Contains(service, "/") || named.Obj().Name() != name+"Input" {
		return nil, "", false
	}
	return pkg, name, true
}

// stringConst is the value of a package's string constant, or "".
func stringConst(pkg *types.Package, name string) string {
	c, ok := pkg.Scope().Lookup(name).(*types.Const)
	if !ok || c.Val().Kind() != constant.String {
		return ""
	}
	return constant.StringVal(c.Val())
}
