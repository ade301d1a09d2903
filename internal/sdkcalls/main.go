// Command sdkcalls lists the AWS API operations the deployed code calls, as
// JSON, for the LocalStack compatibility check (localstack/compat.py,
// docs/local-cloud.md). It reads the code, not a hand-kept list: it
// type-checks every non-test Go file of the module's packages under
// functions/ and shared/ and records every method of an AWS SDK service
// package's request shape that they use, whether through the SDK's client
// or through one of the small interfaces the adapters declare
// (SendEmail(ctx, *ses.SendEmailInput, ...)), and the operations behind
// the SDK's paginators and waiters they build.
//
//	go run ./internal/sdkcalls            print the operations as JSON
package main

import (
	"encoding/json"
	"fmt"
	"os"
)

func main() {
	ops, err := List(".")
	if err == nil {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(ops)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "sdkcalls:", err)
		os.Exit(1)
	}
}
