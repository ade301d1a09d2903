package awsretry_test

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/serverless-shop/backend/shared/awsretry"
)

// policies are every policy.
var policies = []awsretry.Policy{awsretry.API, awsretry.Mail, awsretry.Queue, awsretry.Relay, awsretry.Deploy}

func TestPolicyRetryer(t *testing.T) {
	t.Parallel()
	for _, p := range policies {
		t.Run(p.Name, func(t *testing.T) {
			t.Parallel()
			r := p.Retryer()
			if got := r.MaxAttempts(); got != p.MaxAttempts {
				t.Errorf("MaxAttempts() = %d, want %d", got, p.MaxAttempts)
			}
			_, adaptive := r.(*retry.AdaptiveMode)
			if want := p.Mode == aws.RetryModeAdaptive; adaptive != want {
				t.Errorf("retryer %T, adaptive = %v, want %v", r, adaptive, want)
			}
			if p.MaxAttempts > 1 {
				// The jittered backoff never exceeds the policy's maximum.
				for attempt := 1; attempt < 10; attempt++ {
					d, err := r.RetryDelay(attempt, fmt.Errorf("throttled"))
					if err != nil {
						t.Fatal(err)
					}
					if d > p.MaxBackoff {
						t.Errorf("RetryDelay(%d) = %v, over MaxBackoff %v", attempt, d, p.MaxBackoff)
					}
				}
			}
		})
	}
}

// TestApplyOverridesEnvironment checks that a client built from an applied
// configuration retries by the policy, whatever AWS_MAX_ATTEMPTS and
// AWS_RETRY_MODE put into the loaded configuration.
func TestApplyOverridesEnvironment(t *testing.T) {
	t.Parallel()
	loaded := aws.Config{Region: "eu-west-1", RetryMaxAttempts: 10, RetryMode: aws.RetryModeAdaptive}
	cfg := awsretry.API.Apply(loaded)
	client := dynamodb.NewFromConfig(cfg)
	if got := client.Options().Retryer.MaxAttempts(); got != awsretry.API.MaxAttempts {
		t.Errorf("client MaxAttempts = %d, want the policy's %d", got, awsretry.API.MaxAttempts)
	}
	if loaded.Retryer != nil {
		t.Error("Apply changed the configuration it was given")
	}
}

// TestAPIPolicyFitsTheRequestBudget checks the arithmetic the API policy is
// chosen for: its worst-case backoff leaves most of the function's 10 s to
// the calls themselves.
func TestAPIPolicyFitsTheRequestBudget(t *testing.T) {
	t.Parallel()
	worst := time.Duration(awsretry.API.MaxAttempts-1) * awsretry.API.MaxBackoff
	if worst > 3*time.Second {
		t.Errorf("API policy may back off %v per call, want at most 3 s of the function's 10 s", worst)
	}
	if awsretry.Mail.MaxAttempts != 1 {
		t.Errorf("Mail policy makes %d attempts; SES has no idempotency token, a retry after a lost response mails twice", awsretry.Mail.MaxAttempts)
	}
}

// TestPoliciesAreDocumented checks that docs/architecture.md's table of SDK
// retries has one row per policy with its mode, attempts and backoff.
func TestPoliciesAreDocumented(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../docs/architecture.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string][]string{}
	for _, line := range strings.Split(string(b), "\n") {
		cells := strings.Split(strings.Trim(line, "| "), "|")
		if len(cells) < 4 || !strings.HasPrefix(strings.TrimSpace(cells[0]), "`") {
			continue
		}
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		rows[strings.Trim(cells[0], "`")] = cells
	}
	for _, p := range policies {
		row, ok := rows[p.Name]
		if !ok {
			t.Errorf("docs/architecture.md has no row for policy `%s`", p.Name)
			continue
		}
		backoff := "none"
		if p.MaxAttempts > 1 {
			backoff = p.MaxBackoff.String()
		}
		want := []string{string(p.Mode), fmt.Sprint(p.MaxAttempts), backoff}
		if got := row[1:4]; strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("docs row for `%s` says mode, attempts, backoff = %v, want %v", p.Name, got, want)
		}
	}
}
