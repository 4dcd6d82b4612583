//go:build !mutate

package node_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"lifeline/node"
	"lifeline/node/gossip"
	"lifeline/node/ledger"
	"lifeline/node/nodetest"
	"lifeline/syncproto"
)

// Left out of a mutation run (the mutate tag): gossip discovery, key
// rotation and restarts across a cluster, waited on for seconds.

// HQ, two relays and two field laptops find each other from one join
// address; headquarters decides that both relays vote, and the leader finds
// them where gossip says they are; everything converges: HQ and the
// voting relays hold every record, each laptop every national record and
// every record of its district, and no other district's; every change is
// confirmed by HQ's receipts.
func TestDiscoveryAndConvergence(t *testing.T) {
	c := nodetest.New(t)
	hq := gossiping(c, "hq", syncproto.RoleHQ, "Cayo", "", func(cfg *node.Config) { cfg.Bootstrap = true })
	join := hq.Gossip
	r1 := gossiping(c, "relay-cayo", syncproto.RoleRelay, "Cayo", join, nil)
	r2 := gossiping(c, "relay-toledo", syncproto.RoleRelay, "Toledo", join, nil)
	f1 := gossiping(c, "cayo-07", syncproto.RoleField, "Cayo", join, func(cfg *node.Config) { cfg.SyncAddr = "" })
	f2 := gossiping(c, "tol-02", syncproto.RoleField, "Toledo", join, func(cfg *node.Config) { cfg.SyncAddr = "" })
	for _, r := range []*nodetest.Member{r1, r2} {
		c.Decide(ledger.CmdEnroll, &ledger.Enroll{Cert: r.Node.Credentials().Cert.Raw, Voter: true})
	}
	ctx := context.Background()
	addIn(t, f1, "Cayo", 3)
	addIn(t, f2, "Toledo", 2)
	addIn(t, r2, "Toledo", 1)
	mustAdd(t, f2.Node, "missing-person", `{"full_name":"Maria Pop","district":"Toledo","last_seen_place":"Punta Gorda market","status":"missing","reporter_name":"Ana Cho","reported_at":"2026-11-20T09:00:00-06:00"}`)
	all := []*nodetest.Member{hq, r1, r2, f1, f2}
	nodetest.Eventually(t, 30*time.Second, "three voters", func() bool {
		ms, err := hq.Daemon.Ledger().Servers()
		voters := 0
		for _, m := range ms {
			if m.Voter {
				voters++
			}
		}
		return err == nil && voters == 3
	})
	// What each holds, by the kits' scopes: damage assessments are of
	// their district, missing persons national; the relays vote, so they
	// keep every scope.
	want := map[*nodetest.Member]int{hq: 6, r1: 6, f1: 3, r2: 6, f2: 3}
	var last []string
	defer func() {
		if t.Failed() {
			t.Log(strings.Join(last, "\n"))
		}
	}()
	nodetest.Eventually(t, 30*time.Second, "every node holds the records of its scopes, all confirmed", func() bool {
		last = nil
		for _, m := range all {
			st, err := m.Node.Status(ctx)
			if err != nil || m.DigestOf(m) != hq.DigestOf(m) || st.Records["damage-assessment"] != want[m] ||
				st.Records["missing-person"] != 1 || st.Unconfirmed != 0 {
				last = append(last, fmt.Sprintf("%s: equal %v, %v, unconfirmed %d, %v", m.Name, m.DigestOf(m) == hq.DigestOf(m), st.Records, st.Unconfirmed, err))
			}
		}
		return last == nil
	})
	for _, m := range []*nodetest.Member{f1} {
		if anyIn(t, m, "Toledo") {
			t.Fatalf("%s holds a Toledo damage assessment", m.Name)
		}
	}
	for _, m := range []*nodetest.Member{f2} {
		if anyIn(t, m, "Cayo") {
			t.Fatalf("%s holds a Cayo damage assessment", m.Name)
		}
	}
	st, _ := f1.Node.Status(ctx)
	if len(st.Peers) == 0 {
		t.Fatal("the field node's status lists no peers")
	}
}

// The gossip key is replaced while every node runs; afterwards a node with
// only the old key cannot join, and the members still see each other.
func TestGossipKeyRotationWithoutRestart(t *testing.T) {
	c := nodetest.New(t)
	hq := gossiping(c, "hq", syncproto.RoleHQ, "Cayo", "", func(cfg *node.Config) { cfg.Bootstrap = true })
	r := gossiping(c, "relay", syncproto.RoleRelay, "Cayo", hq.Gossip, nil)
	f := gossiping(c, "field", syncproto.RoleField, "Cayo", hq.Gossip, func(cfg *node.Config) { cfg.SyncAddr = "" })
	ctx := context.Background()
	nodetest.Eventually(t, 10*time.Second, "all joined", func() bool {
		st, _ := f.Node.Status(ctx)
		return len(st.Peers) >= 2
	})
	key, _ := gossip.NewKey()
	if err := hq.Daemon.RotateGossipKey(ctx, key, 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	for _, m := range []*nodetest.Member{hq, r, f} {
		nodetest.Eventually(t, 10*time.Second, m.Name+" holds only the new key", func() bool {
			keys, err := node.GossipKeys(m.Config.DataDir, nil)
			return err == nil && len(keys) == 1 && bytes.Equal(keys[0], key)
		})
	}
	// A node still holding the old key is shut out. One given the new key
	// at the same time gets in: the stale one had as long to meet anyone.
	stale := c.Add("stale", syncproto.RoleField, "Cayo", func(cfg *node.Config) {
		cfg.SyncAddr, cfg.GossipAddr, cfg.Join = "", "127.0.0.1:0", []string{hq.Gossip}
	})
	oldKeys := c.Keys
	c.Keys = [][]byte{key}
	fresh := c.Add("fresh", syncproto.RoleField, "Cayo", func(cfg *node.Config) {
		cfg.SyncAddr, cfg.GossipAddr, cfg.Join = "", "127.0.0.1:0", []string{hq.Gossip}
	})
	c.Keys = oldKeys
	nodetest.Eventually(t, 10*time.Second, "a node with the new key meets the others", func() bool {
		st, _ := fresh.Node.Status(ctx)
		return len(st.Peers) > 0
	})
	st, _ := stale.Node.Status(ctx)
	for _, p := range st.Peers {
		t.Fatalf("a node with the old key met %s", p.Name)
	}
}

// A revocation reaches the field by gossip.
func TestRevocationReachesTheFieldByGossip(t *testing.T) {
	c := nodetest.New(t)
	hq := gossiping(c, "hq", syncproto.RoleHQ, "Cayo", "", func(cfg *node.Config) { cfg.Bootstrap = true })
	f := gossiping(c, "field", syncproto.RoleField, "Cayo", hq.Gossip, func(cfg *node.Config) { cfg.SyncAddr = "" })
	thief := c.Add("stolen", syncproto.RoleField, "Cayo", func(cfg *node.Config) { cfg.SyncAddr = "" })
	ctx := context.Background()
	nodetest.Eventually(t, 10*time.Second, "the field joined", func() bool {
		st, _ := f.Node.Status(ctx)
		return len(st.Peers) >= 1
	})
	if err := hq.Node.Revoke(ctx, thief.Node.Self().ID, "laptop stolen"); err != nil {
		t.Fatal(err)
	}
	nodetest.Eventually(t, 10*time.Second, "the field learns the revocation", func() bool {
		ok, _ := f.Node.IsRevoked(ctx, thief.Node.Self().ID)
		return ok
	})
}

// Headquarters stops (power cut) and comes back; it joins nobody, yet the
// others find it again by themselves, and records flow as before.
func TestRestartedHQIsFoundAgain(t *testing.T) {
	c := nodetest.New(t)
	hq := gossiping(c, "hq", syncproto.RoleHQ, "Cayo", "", func(cfg *node.Config) { cfg.Bootstrap = true })
	r := gossiping(c, "relay", syncproto.RoleRelay, "Toledo", hq.Gossip, nil)
	// Enrolled by the ledger, as every relay is: nodes take a member for a
	// relay by its certificate, not by what it gossips.
	c.Decide(ledger.CmdEnroll, &ledger.Enroll{Cert: r.Node.Credentials().Cert.Raw})
	f := gossiping(c, "field", syncproto.RoleField, "Toledo", hq.Gossip, func(cfg *node.Config) { cfg.SyncAddr = "" })
	ctx := context.Background()
	peerState := func(m *nodetest.Member, name string) string {
		st, _ := m.Node.Status(ctx)
		for _, p := range st.Peers {
			if p.Name == name {
				return p.Gossip
			}
		}
		return ""
	}
	nodetest.Eventually(t, 10*time.Second, "all joined", func() bool {
		return peerState(hq, "relay") == gossip.StateAlive && peerState(hq, "field") == gossip.StateAlive
	})
	hq.Stop()
	nodetest.Eventually(t, 10*time.Second, "the others see HQ gone", func() bool {
		return peerState(r, "hq") != gossip.StateAlive && peerState(f, "hq") != gossip.StateAlive
	})
	// Long past memberlist's own grace for gossiping to the departed.
	time.Sleep(4 * gossip.Test.PushPullInterval)
	hq.Start()
	nodetest.Eventually(t, 20*time.Second, "the others find HQ again", func() bool {
		return peerState(hq, "relay") == gossip.StateAlive && peerState(hq, "field") == gossip.StateAlive &&
			peerState(f, "hq") == gossip.StateAlive
	})
	add(t, f, 2)
	nodetest.Eventually(t, 20*time.Second, "the field's new records reach HQ", func() bool { return hq.Digest() == f.Digest() })
}
