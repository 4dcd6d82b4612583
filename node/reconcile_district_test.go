//go:build !mutate

package node_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"lifeline/node"
	"lifeline/node/ledger"
	"lifeline/node/nodetest"
	"lifeline/syncproto"
)

// A relay of Toledo, which the ledger lets decide on people of Toledo,
// signs a link of two reports of Cayo in Toledo's name and has a member
// forward it: the ledger takes it, since it cannot see the records, but
// no node that holds them lets it stand. The pair stays undecided and
// ungrouped at HQ and at the relay, and HQ's own decision then stands.
func TestARelaysLinkOfAnotherDistrictsPeopleDoesNotStand(t *testing.T) {
	c := nodetest.New(t)
	hq, relays := voters(t, c, 1, true)
	toledo := c.Add("relay-toledo", syncproto.RoleRelay, "Toledo", nil)
	cayo := laptop(c, "cayo-07", "Cayo", nil)
	ctx := context.Background()
	a, b := mustAdd(t, cayo.Node, "missing-person", reconcileMaria), mustAdd(t, cayo.Node, "missing-person", reconcileCoc)
	if _, err := cayo.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	if _, err := relays[0].Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	lo, hi := ledger.PairOf(a, b)
	self := toledo.Node.Self()
	l := &ledger.Link{A: lo, B: hi, Decision: ledger.LinkLinked, Node: self.ID, District: "Toledo", At: time.Now().UnixMilli()}
	entry, err := ledger.Sign(ledger.CmdLink, l, time.Now(), toledo.Node.Credentials().Cert.Raw, toledo.Node.Key().Signer())
	if err != nil {
		t.Fatal(err)
	}
	if err := forwardToHQ(t, relays[0], hq, entry); err != nil {
		t.Fatalf("the ledger refused a relay's link in its own district's name: %v", err)
	}
	// The ledger applied it on every member...
	for _, m := range []*nodetest.Member{hq, relays[0]} {
		nodetest.Eventually(t, 30*time.Second, m.Name+" applied the Toledo relay's link", func() bool {
			links, err := node.LedgerLinks(m.Node, ctx)
			return err == nil && len(links) == 1 && links[0].Node == self.ID
		})
	}
	// ...and on none does it stand.
	for _, m := range []*nodetest.Member{hq, relays[0]} {
		if s, err := m.Node.LinkState(ctx, a, b); err != nil || s != "" {
			t.Fatalf("%s holds the pair %q (%v), want undecided", m.Name, s, err)
		}
		if g, err := m.Node.LinkedWith(ctx, a); err != nil || len(g) != 0 {
			t.Fatalf("%s groups %s with %+v (%v), want alone", m.Name, a, g, err)
		}
		ms, err := m.Node.Matches(ctx, 0.5)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ms {
			if p.Decision != "" {
				t.Fatalf("%s: the match %+v carries the Toledo relay's decision", m.Name, p)
			}
		}
	}
	if _, err := hq.Node.Link(ctx, a, b, ledger.LinkLinked); err != nil {
		t.Fatal(err)
	}
	nodetest.Eventually(t, 30*time.Second, "HQ's link stands", func() bool {
		g, err := hq.Node.LinkedWith(ctx, a)
		return err == nil && len(g) == 1 && g[0].ID == b.String()
	})
}

// A relay of Toledo signs, in Toledo's name, a decision on a pair of Cayo
// that headquarters decided, and then on one that Cayo's relay decided,
// and has a member forward each. The ledger cannot see the records, but
// it holds the district the decision in place names: a relay's decision
// takes the place only of one naming its own district, so each is refused
// on every member and the pair stays as decided. Before, the ledger put
// the Toledo relay's decision in its place; no node let that stand, and
// the pair was left undecided: HQ's link undone by a relay of elsewhere.
func TestARelayCannotUndoADecisionOnAnotherDistrictsPeople(t *testing.T) {
	c := nodetest.New(t)
	hq, relays := voters(t, c, 1, true)
	cayoRelay := relays[0]
	members := []*nodetest.Member{hq, cayoRelay}
	toledo := c.Add("relay-toledo", syncproto.RoleRelay, "Toledo", nil)
	cayo := laptop(c, "cayo-07", "Cayo", nil)
	ctx := context.Background()
	a, b := mustAdd(t, cayo.Node, "missing-person", reconcileMaria), mustAdd(t, cayo.Node, "missing-person", reconcileCoc)
	for _, m := range []*nodetest.Member{cayo, cayoRelay} {
		if _, err := m.Node.Sync(ctx, hq.Addr); err != nil {
			t.Fatal(err)
		}
	}
	holds := func(want string) {
		t.Helper()
		nodetest.Eventually(t, 30*time.Second, "both members hold the pair "+want, func() bool {
			s := linkStates(t, members, a, b)
			return s[0] == want && s[1] == want
		})
	}
	// toledoDecides has the Toledo relay's decision forwarded, and waits
	// until both members have applied as far as HQ, the leader, then had.
	toledoDecides := func(decision string) {
		t.Helper()
		lo, hi := ledger.PairOf(a, b)
		at := time.Now()
		l := &ledger.Link{A: lo, B: hi, Decision: decision, Node: toledo.Node.Self().ID, District: "Toledo", At: at.UnixMilli()}
		entry, err := ledger.Sign(ledger.CmdLink, l, at, toledo.Node.Credentials().Cert.Raw, toledo.Node.Key().Signer())
		if err != nil {
			t.Fatal(err)
		}
		if err := forwardToHQ(t, cayoRelay, hq, entry); !errors.Is(err, ledger.ErrRefused) {
			t.Fatalf("the Toledo relay's %s of two reports of Cayo, forwarded: %v; want it refused", decision, err)
		}
		height := hq.Daemon.Ledger().Status().Height
		nodetest.Eventually(t, 30*time.Second, "the relay applies as far as HQ", func() bool {
			return cayoRelay.Daemon.Ledger().Status().Height >= height
		})
	}

	if _, err := hq.Node.Link(ctx, a, b, ledger.LinkLinked); err != nil {
		t.Fatal(err)
	}
	holds(ledger.LinkLinked)
	toledoDecides(ledger.LinkUnlinked)
	if s := linkStates(t, members, a, b); s[0] != ledger.LinkLinked || s[1] != ledger.LinkLinked {
		t.Fatalf("after the Toledo relay's unlink the pair is %v on HQ and Cayo's relay; want HQ's link to stand", s)
	}
	for _, m := range members {
		if g, err := m.Node.LinkedWith(ctx, a); err != nil || len(g) != 1 || g[0].ID != b.String() {
			t.Fatalf("%s groups %s with %+v (%v), want %s as HQ linked", m.Name, a, g, err, b)
		}
	}

	// Cayo's relay may decide again on HQ's decision of Cayo's people.
	if _, err := cayoRelay.Node.Link(ctx, a, b, ledger.LinkDifferent); err != nil {
		t.Fatal(err)
	}
	holds(ledger.LinkDifferent)
	toledoDecides(ledger.LinkLinked)
	if s := linkStates(t, members, a, b); s[0] != ledger.LinkDifferent || s[1] != ledger.LinkDifferent {
		t.Fatalf("after the Toledo relay's link the pair is %v on HQ and Cayo's relay; want Cayo's relay's decision to stand", s)
	}

	// HQ's decision naming no district, as before HQ named one, is HQ's
	// to decide again: Cayo's relay is told so before it signs.
	lo, hi := ledger.PairOf(a, b)
	at := time.Now()
	entry, err := ledger.Sign(ledger.CmdLink, &ledger.Link{A: lo, B: hi, Decision: ledger.LinkLinked, Node: hq.Node.Self().ID, At: at.UnixMilli()},
		at, hq.Node.Credentials().Cert.Raw, hq.Node.Key().Signer())
	if err != nil {
		t.Fatal(err)
	}
	if err := forwardToHQ(t, cayoRelay, hq, entry); err != nil {
		t.Fatal(err)
	}
	holds(ledger.LinkLinked)
	if _, err := cayoRelay.Node.Link(ctx, a, b, ledger.LinkUnlinked); !errors.Is(err, node.ErrNotReconciler) {
		t.Fatalf("Cayo's relay unlinking what HQ linked naming no district: %v; want it refused", err)
	}
}
