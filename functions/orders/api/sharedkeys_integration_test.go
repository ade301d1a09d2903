//go:build integration

package api_test

import (
	"testing"

	"github.com/serverless-shop/backend/internal/awscalls"
	"github.com/serverless-shop/backend/internal/capacity"
	"github.com/serverless-shop/backend/shared/principal"
)

// TestSharedPartitionKeys makes every measured request of the orders
// service as two customers, each on execution environments of their own
// that check tokens against the revocation list as deployed, and fails
// when a partition key both touched (a key every customer shares, a hot
// key at scale) is not in the capacity model's hot-key table with its load
// and ceiling (internal/capacity/hotkeys.yaml).
func TestSharedPartitionKeys(t *testing.T) {
	hot, err := capacity.LoadHotKeys()
	if err != nil {
		t.Fatal(err)
	}
	rig := newCallsRig(t)
	for _, who := range []principal.Principal{
		{UserID: "cust-shared-a", Email: "shared-a@example.com", Name: "Shared A", EmailVerified: true},
		{UserID: "cust-shared-b", Email: "shared-b@example.com", Name: "Shared B", EmailVerified: true},
	} {
		rig.rec.SetActor(who.UserID)
		rig.journey(t, who, true)
	}
	shared := rig.rec.Shared()
	if len(shared) == 0 {
		t.Fatal("no partition key shared by the two customers: the catalog every cold function reads should be")
	}
	awscalls.CheckShared(t, shared, hot.Lists)
}
