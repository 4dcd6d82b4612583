//go:build !mutate

package node_test

import (
	"context"
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
