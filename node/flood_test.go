//go:build !mutate

package node_test

import (
	"context"
	"testing"
	"time"

	"lifeline/node"
	"lifeline/node/nodetest"
	"lifeline/syncproto"
)

// Left out of a mutation run (the mutate tag): a flood of idle sockets
// against sessions and Raft connections, a matter of timing.

// Sixty-four idle sockets on HQ's port (from one address) and on a
// relay's (from eight), dialled again as soon as they are closed, delay no
// one: a laptop syncs with the relay, and once the link between the relay
// and HQ, cut, heals, the ledger's Raft connections are made again
// through the flood: the laptop's records are committed by both. The
// nodes take fewer handshakes at once than the flood opens, and give them
// a minute: the places per address, and those the address holding the
// most gives up, keep the flood out, not the handshake's deadline.
func TestIdleSocketsDelayNeitherSyncNorTheLedger(t *testing.T) {
	links := &nodetest.Links{}
	c := nodetest.New(t)
	hq := c.Add("hq", syncproto.RoleHQ, "Cayo", func(cfg *node.Config) {
		cfg.Bootstrap, cfg.Cut = true, links.Filter("hq")
		cfg.MaxHandshakes, cfg.HandshakeTimeout = 16, time.Minute
	})
	nodetest.Eventually(t, 10*time.Second, "hq leads", func() bool { return hq.Daemon.Ledger().IsLeader() })
	relay := c.Add("relay-1", syncproto.RoleRelay, "Toledo", func(cfg *node.Config) {
		cfg.Cut = links.Filter("relay-1")
		cfg.MaxHandshakes, cfg.HandshakeTimeout = 16, time.Minute
	})
	c.AddToLedger(relay, true)
	field := c.Add("tol-02", syncproto.RoleField, "Toledo", func(cfg *node.Config) { cfg.SyncAddr = "" })
	own := syncproto.Stream{Origin: field.Node.Self().ID, Lane: cayoDamage}
	ctx := context.Background()

	nodetest.Flood(t, hq.Addr, 64, "127.0.0.2")
	nodetest.Flood(t, relay.Addr, 64, nodetest.Loopback(3, 8)...)

	// Two voters: cut apart, HQ loses its majority and steps down; the
	// ledger's connections between them fail.
	links.Cut("hq", "relay-1")
	nodetest.Eventually(t, 20*time.Second, "hq steps down", func() bool { return !hq.Daemon.Ledger().IsLeader() })
	add(t, field, 5)
	nodetest.Eventually(t, 20*time.Second, "the laptop syncs with the relay", func() bool {
		_, err := field.Node.Sync(ctx, relay.Addr)
		return err == nil
	})
	links.Heal()
	for _, m := range []*nodetest.Member{hq, relay} {
		nodetest.Eventually(t, 30*time.Second, m.Name+" commits the laptop's records", func() bool { return committed(m)[own] == 5 })
	}
}
