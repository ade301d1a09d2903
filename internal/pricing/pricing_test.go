package pricing_test

import (
	"strings"
	"testing"

	"github.com/serverless-shop/backend/internal/pricing"
)

// TestEveryPriceHasASource: a price without its source cannot be checked
// again, and a key the models use must be in the table.
func TestEveryPriceHasASource(t *testing.T) {
	table := pricing.ByKey()
	for _, p := range pricing.List() {
		if p.USD <= 0 || p.Item == "" || p.Unit == "" || p.Source == "" {
			t.Errorf("%s: %+v", p.Key, p)
		}
		if !strings.Contains(p.Source, "https://") && p.Source != "same as above" {
			t.Errorf("%s: source %q has no address", p.Key, p.Source)
		}
	}
	for _, k := range []string{pricing.APIGateway, pricing.LambdaRequests, pricing.LambdaArm, pricing.LambdaX86, pricing.WriteUnits, pricing.ReadUnits,
		pricing.SQSFIFO, pricing.SES, pricing.Logs, pricing.XRay, pricing.XRayRetrieved, pricing.KMSAsymmetric, pricing.KMSSymmetric,
		pricing.WAFRequests, pricing.DataTransferOut} {
		if table.USD(k) <= 0 {
			t.Errorf("no price for %s", k)
		}
	}
	if len(table) != len(pricing.List()) {
		t.Error("two prices share a key")
	}
}
