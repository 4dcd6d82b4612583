package node_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"lifeline/node"
	"lifeline/node/nodetest"
	"lifeline/syncproto"
)

const record = `{"district":"Cayo","village":"Succotz","lat":17.1,"lon":-89.1,"structure_type":"thatch","damage_level":2,"household_size":4,"reported_by":"vol-1","reported_at":"2026-11-20T10:00:00Z"}`

func add(t *testing.T, m *nodetest.Member, n int) []syncproto.RecordID {
	t.Helper()
	var ids []syncproto.RecordID
	for range n {
		id, err := m.Node.Add(context.Background(), "damage-assessment", []byte(record), m.Name)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

// voters starts an HQ that bootstraps the ledger and relays it adds as
// voters or non-voters.
func voters(t *testing.T, c *nodetest.Cluster, relays int, voter bool) (*nodetest.Member, []*nodetest.Member) {
	hq := c.Add("hq", node.RoleHQ, "Cayo", func(cfg *node.Config) { cfg.Bootstrap, cfg.Voter = true, true })
	nodetest.Eventually(t, 10*time.Second, "hq leads", func() bool { return hq.Node.Ledger().IsLeader() })
	var rs []*nodetest.Member
	for i := range relays {
		r := c.Add(fmt.Sprintf("relay-%d", i+1), node.RoleRelay, "Toledo", func(cfg *node.Config) { cfg.Voter = voter })
		if err := hq.Node.Ledger().AddMember(r.Node.Self().ID, r.Addr, voter); err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	return hq, rs
}

func committed(m *nodetest.Member) syncproto.Vector {
	st, err := m.Node.LedgerState(context.Background())
	if err != nil {
		return nil
	}
	return st.Committed
}

// A field laptop's records reach a relay, the ledger commits them through
// the relay, every voter gives them the same case numbers, and the laptop
// learns, at its next sync, that they are confirmed.
func TestLedgerCommitsAndReceiptsReachTheField(t *testing.T) {
	c := nodetest.New(t)
	hq, relays := voters(t, c, 2, true)
	field := c.Add("cayo-07", node.RoleField, "Cayo", func(cfg *node.Config) { cfg.SyncAddr = "" })
	ids := add(t, field, 5)
	ctx := context.Background()
	if st, _ := field.Node.Status(ctx); st.Unconfirmed != 5 {
		t.Fatalf("unconfirmed %d before any sync, want 5", st.Unconfirmed)
	}
	if _, err := field.Node.Sync(ctx, relays[0].Addr); err != nil {
		t.Fatal(err)
	}
	own := syncproto.Stream{Origin: field.Node.Self().ID, Lane: 3}
	for _, m := range []*nodetest.Member{hq, relays[0], relays[1]} {
		nodetest.Eventually(t, 10*time.Second, m.Name+" has the commit", func() bool { return committed(m)[own] == 5 })
	}
	for _, id := range ids {
		want, _ := hq.Node.CaseNumber(ctx, id)
		if len(want) != len("CYO-2026-000001") {
			t.Fatalf("case number %q", want)
		}
		for _, r := range relays {
			if got, _ := r.Node.CaseNumber(ctx, id); got != want {
				t.Fatalf("%s numbers %s as %q, hq as %q", r.Name, id, got, want)
			}
		}
	}
	if _, err := field.Node.Sync(ctx, relays[1].Addr); err != nil {
		t.Fatal(err)
	}
	st, _ := field.Node.Status(ctx)
	if st.Unconfirmed != 0 {
		t.Fatalf("unconfirmed %d after syncing with a relay that has the commit", st.Unconfirmed)
	}
	v, err := field.Node.Record(ctx, ids[0])
	if err != nil || v.Status != node.StatusConfirmed {
		t.Fatalf("record status %q %v", v.Status, err)
	}
}
