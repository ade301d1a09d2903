// Command empty is the floor of every cold start measurement: an
// aws-lambda-go function that does nothing. make bench builds it exactly
// as the functions are built and measures it beside them.
package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context, json.RawMessage) (json.RawMessage, error) {
		return json.RawMessage(`{}`), nil
	})
}
