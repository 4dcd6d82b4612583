package node_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"lifeline/node/nodetest"
	"lifeline/syncproto"
)

// A decision the ledger refuses when it applies (here: making a relay HQ
// revoked meanwhile a member) is refused once, and the decisions queued
// after it go on: a revocation of a stolen laptop is never held up behind
// it. The node's status lists it, for whoever queued it.
func TestARefusedDecisionDoesNotHoldUpTheOnesAfterIt(t *testing.T) {
	t.Parallel()
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	ctx := context.Background()
	relay := c.Add("relay-old", syncproto.RoleRelay, "Cayo", nil)
	c.AddToLedger(relay, false)
	stolen := laptop(c, "cayo-07", "Cayo", nil)
	if err := hq.Node.Revoke(ctx, relay.Node.Self().ID, "decommissioned"); err != nil {
		t.Fatal(err)
	}
	nodetest.Eventually(t, 10*time.Second, "the relay revoked", func() bool {
		gone, _ := hq.Node.IsRevoked(ctx, relay.Node.Self().ID)
		return gone
	})
	// Both checks pass when queued; the ledger refuses the first.
	if err := hq.Node.SetMember(ctx, relay.Node.Self().ID, true, false, relay.Addr); err != nil {
		t.Fatal(err)
	}
	if err := hq.Node.Revoke(ctx, stolen.Node.Self().ID, "laptop stolen"); err != nil {
		t.Fatal(err)
	}
	nodetest.Eventually(t, 20*time.Second, "the laptop revoked after the refused decision", func() bool {
		gone, _ := hq.Node.IsRevoked(ctx, stolen.Node.Self().ID)
		return gone
	})
	// Whoever queued it has gone: the node's status says it was refused,
	// and why.
	st, err := hq.Node.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Raft == nil || len(st.Raft.Refused) != 1 || st.Raft.Refused[0].Command != "member" || !strings.Contains(st.Raft.Refused[0].Reason, "relay-old was revoked") {
		t.Fatalf("the status's refused commands: %+v; want the membership of relay-old, refused as revoked", st.Raft)
	}
}
