//go:build !mutate

package node_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"lifeline/node"
	"lifeline/node/gossip"
	"lifeline/node/nodetest"
	"lifeline/syncproto"
)

// Left out of a mutation run (the mutate tag): gossip among real members,
// waited on for seconds.

// rogue joins the cluster's gossip at join as a member saying m of
// itself: a device that holds the gossip key, as every laptop does. It
// leaves when the test ends.
func rogue(t *testing.T, c *nodetest.Cluster, m gossip.Meta, join string) *gossip.Gossip {
	t.Helper()
	keyFile := filepath.Join(t.TempDir(), gossip.KeyFile)
	if err := gossip.WriteKeyFile(keyFile, c.Keys); err != nil {
		t.Fatal(err)
	}
	m.MinProto, m.MaxProto = syncproto.MinVersion, syncproto.MaxVersion
	g, err := gossip.Start(gossip.Config{BindAddr: "127.0.0.1:0", KeyFile: keyFile, Profile: gossip.Test,
		Meta: func() gossip.Meta { return m }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Shutdown() })
	if _, err := g.Join([]string{join}); err != nil {
		t.Fatal(err)
	}
	return g
}

// mute listens on loopback and holds every connection it takes, saying
// nothing: a sync address whose handshake never ends.
func mute(t *testing.T) (string, *silence) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &silence{}
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
			go s.hold(conn)
		}
	}()
	return ln.Addr().String(), s
}

// knows reports whether a member's status lists a node.
func knows(m *nodetest.Member, id syncproto.NodeID) bool {
	st, err := m.Node.Status(context.Background())
	if err != nil {
		return false
	}
	for _, p := range st.Peers {
		if p.Node == id.String() {
			return true
		}
	}
	return false
}

// Two devices holding the gossip key, and no certificate, gossip that they
// are headquarters in the laptop's district, at sync addresses that never
// finish a handshake. The laptop takes them for what its certificates say
// they are, field laptops it knows nothing of, and still syncs with the
// real HQ: its new record reaches HQ. Before, anti-entropy took gossip's
// word on a member's role: both were chosen over HQ as the two best peers,
// and held the laptop's sessions for as long as a handshake may take.
func TestAMemberGossipingItIsHQIsNotChosenForIt(t *testing.T) {
	c := nodetest.New(t)
	hq := gossiping(c, "hq", syncproto.RoleHQ, "Cayo", "", func(cfg *node.Config) { cfg.Bootstrap = true })
	laptop := gossiping(c, "cayo-07", syncproto.RoleField, "Cayo", hq.Gossip, func(cfg *node.Config) {
		cfg.SyncAddr = ""
		// A satellite link's handshake may take this long.
		cfg.HandshakeTimeout, cfg.SyncMax = 10*time.Minute, 10*time.Minute
	})
	add(t, laptop, 1)
	nodetest.Eventually(t, 20*time.Second, "the laptop's first record reaches HQ", func() bool {
		return hq.DigestOf(laptop) == laptop.DigestOf(laptop)
	})

	var fakes []syncproto.NodeID
	for i, name := range []string{"a-hq", "b-hq"} {
		addr, _ := mute(t)
		id := syncproto.NodeID{0x5e, byte(i + 1)}
		rogue(t, c, gossip.Meta{Node: id, Name: name, Role: syncproto.RoleHQ, District: "Cayo", SyncAddr: addr,
			Raft: gossip.RaftVoter, Vector: []byte("everything")}, hq.Gossip)
		fakes = append(fakes, id)
	}
	nodetest.Eventually(t, 20*time.Second, "the laptop hears of both", func() bool {
		return knows(laptop, fakes[0]) && knows(laptop, fakes[1])
	})
	add(t, laptop, 1)
	nodetest.Eventually(t, 20*time.Second, "the laptop's next record reaches HQ", func() bool {
		return hq.DigestOf(laptop) == laptop.DigestOf(laptop)
	})
}

// A relay stops, and a stolen laptop that holds the gossip key joins
// under the relay's node id, at its own sync address. Every use of that
// claim is checked against the certificate the handshake shows: the
// laptop that dials the claimed address refuses the thief's session
// before anything of its records moves, and keeps where a session found
// the relay, as the address it lists it at and dials it at for photos and
// "Sync now". Before, gossip's word replaced the relay's address, which
// then sent those dials to the thief.
func TestAGossipMemberTakingADeadRelaysIDIsRefused(t *testing.T) {
	c := nodetest.New(t)
	ctx := context.Background()
	hq := gossiping(c, "hq", syncproto.RoleHQ, "Cayo", "", func(cfg *node.Config) { cfg.Bootstrap = true })
	relay := gossiping(c, "relay-cayo", syncproto.RoleRelay, "Cayo", hq.Gossip, nil)
	laptop := gossiping(c, "cayo-07", syncproto.RoleField, "Cayo", hq.Gossip, func(cfg *node.Config) { cfg.SyncAddr = "" })
	thief := c.Add("stolen", syncproto.RoleField, "Cayo", nil)
	add(t, laptop, 2)
	peer := func(m *nodetest.Member, id syncproto.NodeID) node.PeerStatus {
		st, _ := m.Node.Status(ctx)
		for _, p := range st.Peers {
			if p.Node == id.String() {
				return p
			}
		}
		return node.PeerStatus{}
	}
	rid := relay.Node.Self().ID
	nodetest.Eventually(t, 20*time.Second, "the laptop syncs with the relay", func() bool {
		return peer(laptop, rid).LastSync != "" && relay.DigestOf(laptop) == laptop.DigestOf(laptop)
	})
	relay.Stop()
	nodetest.Eventually(t, 20*time.Second, "the laptop hears the relay is gone", func() bool {
		return peer(laptop, rid).Gossip == gossip.StateLeft
	})
	rogue(t, c, gossip.Meta{Node: rid, Name: "relay-cayo", Role: syncproto.RoleRelay, District: "Cayo",
		SyncAddr: thief.Addr, Raft: gossip.RaftVoter, Vector: []byte("new")}, hq.Gossip)
	tid := thief.Node.Self().ID
	nodetest.Eventually(t, 20*time.Second, "the laptop dials the address gossip gave", func() bool {
		return peer(thief, laptop.Node.Self().ID).LastSeen != ""
	})
	got := peer(laptop, rid)
	if got.Gossip != gossip.StateAlive {
		t.Fatalf("the laptop's gossip says the relay is %q; the claim did not reach it", got.Gossip)
	}
	if got.Addr != relay.Addr || got.Name != "relay-cayo" {
		t.Errorf("the laptop lists the relay as %q at %s, want relay-cayo at %s, where a session found it (the thief is at %s)",
			got.Name, got.Addr, relay.Addr, thief.Addr)
	}
	if p := peer(laptop, tid); p.LastSync != "" {
		t.Errorf("the laptop synced with the thief: %+v", p)
	}
	st, err := thief.Node.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := st.Records["damage-assessment"]; n != 0 {
		t.Errorf("the thief received %d of the laptop's records", n)
	}
}

// refusals counts the lines a node logs of what it refused, each line one
// refusal (one) or a summary of those not logged one by one (more, whose
// count attribute says how many), and the refusals they stand for.
type refusals struct {
	one, more    func(msg string) bool
	mu           sync.Mutex
	lines, total int
}

func (c *refusals) Enabled(context.Context, slog.Level) bool { return true }
func (c *refusals) WithAttrs([]slog.Attr) slog.Handler       { return c }
func (c *refusals) WithGroup(string) slog.Handler            { return c }
func (c *refusals) Handle(_ context.Context, r slog.Record) error {
	n := 0
	switch {
	case c.one(r.Message):
		n = 1
	case c.more(r.Message):
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "count" {
				n = int(a.Value.Int64())
			}
			return true
		})
	default:
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lines++
	c.total += n
	return nil
}

func (c *refusals) counts() (lines, total int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lines, c.total
}

// refusedNotices counts the lines a node logs of the notices gossip
// brought that it refused.
func refusedNotices() *refusals {
	return &refusals{
		one:  func(m string) bool { return strings.HasPrefix(m, "gossip: refused a") },
		more: func(m string) bool { return strings.HasPrefix(m, "gossip: more warnings") },
	}
}

// A device holding the gossip key broadcasts 2,000 messages that are no
// notices. The laptop refuses each, and logs a few lines a second of them,
// with the count of the rest. Before, each made a line of its log.
func TestJunkBroadcastIsLoggedInAFewLines(t *testing.T) {
	c := nodetest.New(t)
	log := refusedNotices()
	hq := gossiping(c, "hq", syncproto.RoleHQ, "Cayo", "", func(cfg *node.Config) { cfg.Bootstrap = true })
	gossiping(c, "cayo-07", syncproto.RoleField, "Cayo", hq.Gossip, func(cfg *node.Config) {
		cfg.SyncAddr, cfg.Log = "", slog.New(log)
	})
	g := rogue(t, c, gossip.Meta{Node: syncproto.NodeID{0x5e, 9}, Name: "junk", Role: syncproto.RoleField, District: "Cayo"}, hq.Gossip)
	for i := range 2000 {
		if err := g.Broadcast(fmt.Appendf(nil, "junk %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	nodetest.Eventually(t, 20*time.Second, "the laptop refuses 500 of them", func() bool {
		_, total := log.counts()
		return total >= 500
	})
	if lines, total := log.counts(); lines > total/10 {
		t.Fatalf("%d refusals of broadcast junk made %d lines of log", total, lines)
	}
}
