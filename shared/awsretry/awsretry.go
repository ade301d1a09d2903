// Package awsretry is the one place where the AWS SDK's retry behaviour is
// chosen: a Policy per kind of caller, applied where each function builds
// its clients. docs/architecture.md ("SDK retries") has the table with the
// reason for each; TestPoliciesAreDocumented keeps the two the same.
package awsretry

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// Policy is how a client retries a failed call: the SDK's retry mode
// (standard, or adaptive, which also rate-limits the client after
// throttling), the attempts in all (1: no retry) and the longest backoff
// between two of them.
type Policy struct {
	Name        string
	Mode        aws.RetryMode
	MaxAttempts int
	MaxBackoff  time.Duration
}

// The policies. Each names who uses it; the reasons are in the docs table.
var (
	// API is for the calls the users and orders functions make while an
	// API request waits (DynamoDB, KMS, Secrets Manager): few attempts and
	// short backoff, so a dependency that stays out becomes a 503 with
	// Retry-After well within the function's 10 s and API Gateway's 29 s.
	API = Policy{Name: "api", Mode: aws.RetryModeStandard, MaxAttempts: 3, MaxBackoff: time.Second}

	// Mail is for SES SendEmail: no SDK retry. SES has no idempotency
	// token, so a retry after a lost response mails twice; the queue
	// retries with backoff instead, and the circuit breaker sees every
	// failure.
	Mail = Policy{Name: "mail", Mode: aws.RetryModeStandard, MaxAttempts: 1}

	// Queue is for the other calls of the notification function (the
	// dedupe table, KMS, SQS): a message that still fails is retried by
	// the queue with backoff.
	Queue = Policy{Name: "queue", Mode: aws.RetryModeStandard, MaxAttempts: 3, MaxBackoff: 2 * time.Second}

	// Relay is for the relay's SendMessageBatch to the FIFO events queue:
	// adaptive, so a burst the queue throttles slows the relay down instead
	// of failing the stream batch; the deduplication id makes a retried
	// send enqueue once; the stream mapping retries what still fails.
	Relay = Policy{Name: "relay", Mode: aws.RetryModeAdaptive, MaxAttempts: 3, MaxBackoff: time.Second}

	// Deploy is for the custom resources that run during a deployment
	// (KMS GetPublicKey, the catalog seed's DynamoDB writes): a failure
	// fails the deployment, and nobody waits on an answer in seconds.
	Deploy = Policy{Name: "deploy", Mode: aws.RetryModeStandard, MaxAttempts: 5, MaxBackoff: 5 * time.Second}
)

// Retryer returns a new retryer of the policy; each client gets its own,
// so one client's retry quota is not another's.
func (p Policy) Retryer() aws.Retryer {
	standard := func(o *retry.StandardOptions) {
		o.MaxAttempts = max(p.MaxAttempts, 1)
		o.MaxBackoff = p.MaxBackoff // none: no wait, as a policy of one attempt never waits
	}
	if p.Mode == aws.RetryModeAdaptive {
		return retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
			o.StandardOptions = append(o.StandardOptions, standard)
		})
	}
	return retry.NewStandard(standard)
}

// Apply returns a copy of cfg whose clients retry by p. It replaces any
// retry setting of the environment (AWS_MAX_ATTEMPTS, AWS_RETRY_MODE), so
// this package stays the one place they are chosen.
func (p Policy) Apply(cfg aws.Config) aws.Config {
	cfg.Retryer = p.Retryer
	cfg.RetryMaxAttempts = 0
	cfg.RetryMode = ""
	return cfg
}
