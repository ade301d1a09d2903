// Package coldstart holds what every function's main does once per
// execution environment: read its configuration from the environment,
// load the AWS configuration and build the logger.
package coldstart

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/middleware"

	"github.com/serverless-shop/backend/shared/token"
)

// Version is the build's version, set at link time with
// -ldflags "-X github.com/serverless-shop/backend/shared/coldstart.Version=...".
var Version = "dev"

// Env reads configuration from environment variables and collects every
// missing or malformed one, so a misconfigured function fails its cold start
// with one message naming all of them.
type Env struct {
	getenv func(string) string
	errs   []string
}

// NewEnv reads from getenv (os.Getenv when nil).
func NewEnv(getenv func(string) string) *Env {
	if getenv == nil {
		getenv = os.Getenv
	}
	return &Env{getenv: getenv}
}

// String returns a required variable.
func (e *Env) String(name string) string {
	v := strings.TrimSpace(e.getenv(name))
	if v == "" {
		e.errs = append(e.errs, name+" is not set")
	}
	return v
}

// List returns a required comma-separated variable, without empty elements.
func (e *Env) List(name string) []string {
	raw := e.String(name)
	var out []string
	for _, v := range strings.Split(raw, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	// A value of only commas is as good as unset: "," must not pass as
	// a configured list, say of trusted keys, that has nothing in it.
	if raw != "" && len(out) == 0 {
		e.errs = append(e.errs, name+" has no elements")
	}
	return out
}

// Duration returns an optional duration variable, def when unset.
func (e *Env) Duration(name string, def time.Duration) time.Duration {
	v := strings.TrimSpace(e.getenv(name))
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		e.errs = append(e.errs, fmt.Sprintf("%s=%q is not a positive duration", name, v))
	}
	return d
}

// PublicKeys returns the token verification keys of a required variable
// holding a JSON Web Key Set. A set without a usable key is a problem: a
// verifier must not start trusting nothing, or something else.
func (e *Env) PublicKeys(name string) []token.PublicKey {
	raw := e.String(name)
	if raw == "" {
		return nil
	}
	keys, err := token.ParseJWKS([]byte(raw))
	switch {
	case err != nil:
		e.errs = append(e.errs, fmt.Sprintf("%s: %v", name, err))
	case len(keys) == 0:
		e.errs = append(e.errs, name+" has no ES256 signing key")
	}
	return keys
}

// Err reports every problem met so far.
func (e *Env) Err() error {
	if len(e.errs) == 0 {
		return nil
	}
	return fmt.Errorf("configuration: %s", strings.Join(e.errs, "; "))
}

// AWSConfig loads the AWS SDK configuration from the function's environment
// (region, credentials, and AWS_ENDPOINT_URL when a local cloud sets it),
// with the request body fix every client of this project needs (see
// requestBodyWithoutWriteTo). It is the one place AWS configurations are
// built: integration tests pass optFns to point it at the local cloud.
func AWSConfig(ctx context.Context, optFns ...func(*config.LoadOptions) error) (aws.Config, error) {
	opts := append([]func(*config.LoadOptions) error{
		config.WithAPIOptions([]func(*middleware.Stack) error{addRequestBodyWithoutWriteTo}),
	}, optFns...)
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load aws config: %w", err)
	}
	return cfg, nil
}
