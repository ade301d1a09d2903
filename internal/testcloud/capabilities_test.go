//go:build integration

package testcloud

import (
	"strings"
	"testing"
)

func TestEveryCapabilityOnMiniStack(t *testing.T) {
	for _, c := range []Capability{SourceAddressFromHeader, FunctionsReachHostLoopback, CustomResources} {
		if msg := requirement("ministack", c, "why"); msg != "" {
			t.Errorf("MiniStack lacks %q: %s", c, msg)
		}
		if msg := requirement("localstack", c, "the test needs it"); !strings.Contains(msg, "LocalStack") || !strings.Contains(msg, "the test needs it") {
			t.Errorf("LocalStack's skip for %q says %q, want why", c, msg)
		}
	}
	if msg := requirement("moto", SourceAddressFromHeader, "why"); !strings.Contains(msg, "not a local cloud") {
		t.Errorf("an unknown LOCAL_CLOUD: %q", msg)
	}
}
