//go:build !mutate

package node_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"lifeline/node"
	"lifeline/node/ledger"
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

// A decision queued twice (a proposal tried again after a timeout, whose
// first try went through) is done, not refused: the second leaves the
// queue without a word in the status.
func TestADecisionTriedAgainIsDoneNotRefused(t *testing.T) {
	t.Parallel()
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	ctx := context.Background()
	a, b := mustAdd(t, hq.Node, "missing-person", reconcileMaria), mustAdd(t, hq.Node, "missing-person", reconcileCoc)
	lo, hi := ledger.PairOf(a, b)
	at := time.Now()
	entry, err := ledger.Sign(ledger.CmdLink, &ledger.Link{A: lo, B: hi, Decision: ledger.LinkLinked, Node: hq.Node.Self().ID, At: at.UnixMilli()},
		at, hq.Node.Credentials().Cert.Raw, hq.Node.Key().Signer())
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := node.QueueEntry(hq.Node, ctx, entry); err != nil {
			t.Fatal(err)
		}
	}
	// A decision queued after both marks when both were tried.
	if _, err := hq.Node.Link(ctx, a, b, ledger.LinkDifferent); err != nil {
		t.Fatal(err)
	}
	nodetest.Eventually(t, 20*time.Second, "the decision queued after the two applied", func() bool {
		s, _ := hq.Node.LinkState(ctx, a, b)
		return s == ledger.LinkDifferent
	})
	st, err := hq.Node.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Raft == nil || len(st.Raft.Refused) != 0 {
		t.Fatalf("the status's refused commands: %+v; want none", st.Raft)
	}
}

// The decisions a node signs are signed at times one after the other,
// however quickly they come: two alike (linked, different, linked again)
// are two decisions, not one the ledger would refuse the second time.
func TestDecisionsAreSignedAtDistinctTimes(t *testing.T) {
	t.Parallel()
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	var last time.Time
	for i := range 2000 {
		at := node.SignTime(hq.Node)
		if !at.After(last) {
			t.Fatalf("decision %d signed at %s, not after the one before, at %s", i, at, last)
		}
		last = at
	}
}

// A revocation headquarters queues while the ledger has no quorum (its
// voting relays cut off) waits, taking effect nowhere, and the node's
// status says so until the ledger applies it.
func TestAQueuedRevocationIsInTheStatus(t *testing.T) {
	t.Parallel()
	c := nodetest.New(t)
	hq, relays := voters(t, c, 2, true)
	stolen := laptop(c, "cayo-07", "Cayo", nil)
	ctx := context.Background()
	for _, r := range relays {
		r.Stop()
	}
	if err := hq.Node.Revoke(ctx, stolen.Node.Self().ID, "laptop stolen"); err != nil {
		t.Fatal(err)
	}
	st, err := hq.Node.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Raft == nil || !slices.Equal(st.Raft.Queued, []string{"revoke"}) {
		t.Fatalf("the status of HQ with no quorum: %+v; want the revocation queued", st.Raft)
	}
	if gone, err := hq.Node.IsRevoked(ctx, stolen.Node.Self().ID); err != nil || gone {
		t.Fatalf("revoked before the ledger applied it: %v (%v)", gone, err)
	}
	for _, r := range relays {
		r.Start()
	}
	nodetest.Eventually(t, 60*time.Second, "the revocation applied once quorum returns", func() bool {
		gone, _ := hq.Node.IsRevoked(ctx, stolen.Node.Self().ID)
		return gone
	})
	nodetest.Eventually(t, 10*time.Second, "the revocation leaves the queue", func() bool {
		st, err := hq.Node.Status(ctx)
		return err == nil && st.Raft != nil && len(st.Raft.Queued) == 0
	})
}
