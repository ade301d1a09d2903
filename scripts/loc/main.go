// Command loc counts the lines of Go code per package, as issue 24 counts
// them: lines holding a token, so blank lines and comments do not count
// and squeezing code onto fewer lines does (gofmt undoes it). It prints
// each package's lines outside and inside _test.go files, then the two
// totals the issue follows: deployed Go (functions/ and shared/ without
// test support) and test code (_test.go files with internal/ and the
// apptest packages).
//
//	go run ./scripts/loc [dir]
package main

import (
	"fmt"
	"go/scanner"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

func main() {
	root := "."
	if len(os.Args) > 1 {
		root = os.Args[1]
	}
	code, tests := map[string]int{}, map[string]int{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "build"):
			return filepath.SkipDir
		case d.IsDir() || !strings.HasSuffix(path, ".go"):
			return nil
		}
		n, err := lines(path)
		if err != nil {
			return err
		}
		dir, _ := filepath.Rel(root, filepath.Dir(path))
		if strings.HasSuffix(path, "_test.go") {
			tests[dir] += n
		} else {
			code[dir] += n
		}
		return nil
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "loc:", err)
		os.Exit(1)
	}
	var deployed, testCode int
	dirs := slices.Sorted(func(yield func(string) bool) {
		for d := range code {
			yield(d)
		}
		for d := range tests {
			if _, ok := code[d]; !ok {
				yield(d)
			}
		}
	})
	for _, d := range dirs {
		fmt.Printf("%-36s %6d %6d\n", d, code[d], tests[d])
		support := strings.HasPrefix(d, "internal") || strings.HasSuffix(d, "apptest")
		if (strings.HasPrefix(d, "functions") || strings.HasPrefix(d, "shared")) && !support {
			deployed += code[d]
		}
		if support {
			testCode += code[d]
		}
		testCode += tests[d]
	}
	fmt.Printf("deployed Go %d, test code %d\n", deployed, testCode)
}

// lines counts the lines of a Go file that hold a token other than a
// comment (a string literal holds every line it spans).
func lines(path string) (int, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	fset := token.NewFileSet()
	var s scanner.Scanner
	s.Init(fset.AddFile(path, -1, len(src)), src, nil, 0)
	seen := map[int]bool{}
	for {
		pos, tok, lit := s.Scan()
		if tok == token.EOF {
			return len(seen), nil
		}
		if tok == token.SEMICOLON && lit == "\n" {
			continue // inserted at the end of a line: not code of its own
		}
		first := fset.Position(pos).Line
		for l := first; l <= first+strings.Count(lit, "\n"); l++ {
			seen[l] = true
		}
	}
}
