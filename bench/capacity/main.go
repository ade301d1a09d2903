// Command capacity is make capacity: it prints the capacity model of one
// environment (internal/capacity) as markdown. Printing is its job: it
// exits non-zero only when it cannot read its inputs. The test of the
// model (go test ./internal/capacity) is what fails when a template or
// design ceiling falls below the target.
//
//	go run ./bench/capacity [-env prod] [-root .]
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/serverless-shop/backend/internal/capacity"
)

func main() {
	env := flag.String("env", "prod", "environment of samconfig.toml whose parameter_overrides to apply")
	root := flag.String("root", ".", "the repository (template.yaml, samconfig.toml)")
	flag.Parse()
	if err := run(*root, *env); err != nil {
		fmt.Fprintln(os.Stderr, "capacity:", err)
		os.Exit(1)
	}
}

func run(root, env string) error {
	in, err := capacity.Load(root, env)
	if err != nil {
		return err
	}
	m, err := capacity.Build(in)
	if err != nil {
		return err
	}
	return m.Write(os.Stdout)
}
