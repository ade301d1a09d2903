//go:build integration

package api_test

import (
	"testing"

	"github.com/serverless-shop/backend/internal/awscalls"
	"github.com/serverless-shop/backend/internal/capacity"
	"github.com/serverless-shop/backend/shared/revocation"
)

// TestSharedPartitionKeys makes every measured request of the users
// service as two users from two client addresses, each on an execution
// environment of its own that checks tokens against the revocation list as
// deployed, and fails when a partition key both touched (a key every user
// shares, a hot key at scale) is not in the capacity model's hot-key table
// with its load and ceiling (internal/capacity/hotkeys.yaml).
func TestSharedPartitionKeys(t *testing.T) {
	hot, err := capacity.LoadHotKeys()
	if err != nil {
		t.Fatal(err)
	}
	rig := newCallsRig(t)
	for _, who := range []callsActor{
		{email: "shared-a@example.com", address: "198.51.100.21"},
		{email: "shared-b@example.com", address: "203.0.113.42"},
	} {
		rig.rec.SetActor(who.String())
		// Tokens are checked against the revocation list, as deployed,
		// read through the background client: its reloads are no
		// request's cost, but the partition keys they read are shared ones.
		rig.journey(t, rig.handler(revocation.Config{Table: rig.revocations}.Checker(rig.background, rig.log)), who)
	}
	shared := rig.rec.Shared()
	if len(shared) == 0 {
		t.Fatal("no partition key shared by the two users: the revocations every logout writes should be")
	}
	awscalls.CheckShared(t, shared, hot.Lists)
}
