//go:build integration

package testcloud

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// SetMapping enables or disables an event source mapping and waits until
// its state says so. A refused update is reported (t.Errorf, so that it
// can run on any goroutine) and not waited for.
func SetMapping(ctx context.Context, t testing.TB, lam *lambda.Client, id string, enabled bool) {
	t.Helper()
	if _, err := lam.UpdateEventSourceMapping(ctx, &lambda.UpdateEventSourceMappingInput{UUID: &id, Enabled: &enabled}); err != nil {
		t.Errorf("update event source mapping %s: %v", id, err)
		return
	}
	want := map[bool]string{true: "Enabled", false: "Disabled"}[enabled]
	Eventually(t, 2*time.Minute, "mapping "+id+" "+want, func() bool {
		out, err := lam.GetEventSourceMapping(ctx, &lambda.GetEventSourceMappingInput{UUID: &id})
		return err == nil && aws.ToString(out.State) == want
	})
}
