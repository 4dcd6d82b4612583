package node_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"lifeline/node"
	"lifeline/node/nodetest"
	"lifeline/schemas"
	"lifeline/syncproto"
)

// Helpers the tests of several files use: they are built with every tag,
// though the Raft and gossip tests (cluster_test.go, discovery_test.go...)
// are left out of a mutation run.

// cayoDamage is the lane of Cayo's damage assessments: priority 3, in
// Cayo's scope, the lane of every record add writes.
var cayoDamage = syncproto.MakeLane(3, schemas.DistrictScope("Cayo"))

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

// addIn adds n damage assessments of a district.
func addIn(t *testing.T, m *nodetest.Member, district string, n int) []syncproto.RecordID {
	t.Helper()
	var ids []syncproto.RecordID
	for i := range n {
		data := fmt.Sprintf(`{"district":%q,"village":"Village %d","lat":17.1,"lon":-89.1,"structure_type":"thatch","damage_level":2,"household_size":4,"reported_by":"vol-1","reported_at":"2026-11-20T10:00:00Z"}`, district, i)
		id, err := m.Node.Add(context.Background(), "damage-assessment", []byte(data), m.Name)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

// anyIn says whether a member holds a damage assessment of a district.
func anyIn(t *testing.T, m *nodetest.Member, district string) bool {
	t.Helper()
	for v, err := range m.Node.Records(context.Background(), node.Query{Type: "damage-assessment"}) {
		if err != nil {
			t.Fatal(err)
		}
		if v.Fields["district"] == district {
			return true
		}
	}
	return false
}

// voters starts an HQ that bootstraps the ledger and relays it adds as
// voters or non-voters.
func voters(t *testing.T, c *nodetest.Cluster, relays int, voter bool) (*nodetest.Member, []*nodetest.Member) {
	hq := c.Add("hq", syncproto.RoleHQ, "Cayo", func(cfg *node.Config) { cfg.Bootstrap = true })
	nodetest.Eventually(t, 10*time.Second, "hq leads", func() bool { return hq.Daemon.Ledger().IsLeader() })
	var rs []*nodetest.Member
	for i := range relays {
		r := c.Add(fmt.Sprintf("relay-%d", i+1), syncproto.RoleRelay, "Cayo", nil)
		c.AddToLedger(r, voter)
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

// forwardToHQ forwards a ledger entry from a member to HQ as its leader,
// waiting until HQ leads, and again if leadership moved meanwhile: on a
// busy machine a leader with short timers may step down.
func forwardToHQ(t *testing.T, from, hq *nodetest.Member, entry []byte) error {
	t.Helper()
	leader := hq.Node.Self().ID.String() + "@" + hq.Addr
	var err error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if !hq.Daemon.Ledger().IsLeader() {
			err = errors.New("HQ does not lead")
			continue
		}
		err = node.Forward(from.Node, context.Background(), leader, entry)
		if err == nil || !strings.Contains(err.Error(), "not the ledger's leader") {
			return err
		}
	}
	t.Fatalf("HQ leads and answers: not within 30s: %v", err)
	return nil
}

// gossiping adds a node that gossips on loopback and joins through join.
func gossiping(c *nodetest.Cluster, name string, role syncproto.Role, district, join string, edit func(*node.Config)) *nodetest.Member {
	return c.Add(name, role, district, func(cfg *node.Config) {
		cfg.GossipAddr = "127.0.0.1:0"
		if join != "" {
			cfg.Join = []string{join}
		}
		if edit != nil {
			edit(cfg)
		}
	})
}
