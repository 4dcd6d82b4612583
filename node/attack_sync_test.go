//go:build !mutate

package node_test

import (
	"context"
	"net"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"lifeline/node"
	"lifeline/node/gossip"
	"lifeline/node/identity"
	"lifeline/node/nodetest"
	"lifeline/node/port"
	"lifeline/syncproto"
)

// Left out of a mutation run (the mutate tag): sessions held open until
// their deadline, a matter of timing.

// silence counts the connections a silent peer took and saw closed.
type silence struct {
	taken, ended atomic.Int32
}

// hold keeps a connection open, saying nothing, until the other side
// closes it.
func (s *silence) hold(conn net.Conn) {
	s.taken.Add(1)
	var b [512]byte
	for {
		if _, err := conn.Read(b[:]); err != nil {
			break
		}
	}
	s.ended.Add(1)
}

// A gossip member whose sync address never answers a handshake, and one
// that answers it (with an enrolled node's certificate) and then says
// nothing: the sessions anti-entropy starts with them end at SyncMax, and
// it starts more. Without a deadline, a handshake that never ends held a
// session for the handshake's 30 s, and a session after it for ever.
func TestDiscoverySessionsEndAtDeadline(t *testing.T) {
	c := nodetest.New(t)
	ctx := context.Background()

	// Silent in the handshake: a TCP listener that accepts and says nothing.
	blackHole, silent := mute(t)

	// Silent after it: an enrolled laptop's credentials (it serves no sync
	// of its own) on a port whose sync door says nothing.
	enrolled := c.Add("tol-03", syncproto.RoleField, "Toledo", func(cfg *node.Config) { cfg.SyncAddr = "" })
	creds, self := enrolled.Node.Credentials(), enrolled.Node.Self()
	after := &silence{}
	p := port.New(port.Config{Creds: creds})
	p.Handle(port.Sync, port.Door{Max: 16, Who: func(identity.Claims) error { return nil },
		Serve: func(_ context.Context, conn net.Conn, _ identity.Claims) bool { after.hold(conn); return false }})
	addr, err := p.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer p.Stop()

	keyFile := filepath.Join(t.TempDir(), gossip.KeyFile)
	if err := gossip.WriteKeyFile(keyFile, c.Keys); err != nil {
		t.Fatal(err)
	}
	var members []*gossip.Gossip
	for _, m := range []gossip.Meta{
		{Node: syncproto.NodeID{0x5e, 1}, Name: "black-hole", Role: syncproto.RoleField, District: "Cayo", SyncAddr: blackHole},
		{Node: self.ID, Name: self.Name, Role: syncproto.RoleField, District: "Toledo", SyncAddr: addr.String()},
	} {
		m.MinProto, m.MaxProto = syncproto.MinVersion, syncproto.MaxVersion
		g, err := gossip.Start(gossip.Config{BindAddr: "127.0.0.1:0", KeyFile: keyFile, Profile: gossip.Test,
			Meta: func() gossip.Meta { return m }})
		if err != nil {
			t.Fatal(err)
		}
		defer g.Shutdown()
		if len(members) > 0 {
			if _, err := g.Join([]string{members[0].Addr()}); err != nil {
				t.Fatal(err)
			}
		}
		members = append(members, g)
	}

	gossiping(c, "cayo-07", syncproto.RoleField, "Cayo", members[0].Addr(), func(cfg *node.Config) {
		cfg.SyncAddr = ""
		cfg.SyncIdle = time.Minute // the deadline, not the idle limit, must end them
		cfg.SyncMax = time.Second
	})
	nodetest.Eventually(t, 30*time.Second, "sessions with both silent peers ended by their deadline, and tried again", func() bool {
		return silent.ended.Load() >= 2 && after.ended.Load() >= 2
	})
}

// statusOf is the sync status n shows of the record id.
func statusOf(t *testing.T, n *node.Node, id syncproto.RecordID) string {
	t.Helper()
	for v, err := range n.Records(context.Background(), node.Query{}) {
		if err != nil {
			t.Fatal(err)
		}
		if v.ID == id.String() {
			return v.Status
		}
	}
	t.Fatalf("record %s not listed", id)
	return ""
}

// A modified laptop says in its hello that it holds every change of the
// honest laptop it meets. Believed, the honest laptop showed its reports
// as sent, a peer holding them, when no peer did: the responder would
// leave the shelter thinking they were on their way. Of a node's own
// changes, a laptop's word now counts only as far as it acknowledges
// them in a session: another laptop that takes the report shows it sent.
func TestALaptopClaimingToHoldAReportDoesNotMakeItSent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := nodetest.New(t)
	honest := c.Add("cayo-07", syncproto.RoleField, "Cayo", nil)
	liar := laptop(c, "cayo-66", "Cayo", nil)
	other := laptop(c, "cayo-08", "Cayo", nil)
	id := mustAdd(t, honest.Node, "damage-assessment", assessment)
	claim, err := honest.Node.Vector(ctx)
	if err != nil || len(claim) == 0 {
		t.Fatalf("the honest laptop holds %v (%v)", claim, err)
	}
	if _, err := node.SyncClaimingToHold(liar.Node, ctx, honest.Addr, claim); err != nil {
		t.Fatal(err)
	}
	if st := statusOf(t, honest.Node, id); st != node.StatusSaved {
		t.Fatalf("after a laptop claimed to hold the report, it is %s; want %s", st, node.StatusSaved)
	}
	if _, err := other.Node.Sync(ctx, honest.Addr); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Node.Record(ctx, id); err != nil {
		t.Fatalf("the other laptop was not sent the report: %v", err)
	}
	// The honest laptop marks what the other acknowledged as its own side
	// of the session ends, which may be just after the other's.
	nodetest.Eventually(t, 10*time.Second, "the report shown sent once another laptop acknowledged it", func() bool {
		return statusOf(t, honest.Node, id) == node.StatusSent
	})
}

// A modified laptop says in its hello that it holds all but the last of
// the honest laptop's changes, or holds them aside, and acknowledges the
// last one, the only one it is sent. Before, the acknowledgement marked
// every change of the stream up to it as sent, and the honest laptop
// showed its first report as sent when no peer held it. A laptop's
// acknowledgement now counts only for what it was sent after what a peer
// is known to hold: another laptop that takes both reports shows them
// sent.
func TestALaptopAcknowledgingTheLastChangeDoesNotMakeTheOthersSent(t *testing.T) {
	t.Parallel()
	for _, aside := range []bool{false, true} {
		ctx := context.Background()
		c := nodetest.New(t)
		honest := c.Add("cayo-07", syncproto.RoleField, "Cayo", nil)
		liar := laptop(c, "cayo-66", "Cayo", nil)
		other := laptop(c, "cayo-08", "Cayo", nil)
		first := mustAdd(t, honest.Node, "damage-assessment", assessment)
		last := mustAdd(t, honest.Node, "damage-assessment", assessment)
		v, err := honest.Node.Vector(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var st syncproto.Stream
		for s, seq := range v {
			if s.Origin == honest.Node.Self().ID && seq == 2 {
				st = s
			}
		}
		if st.Origin.IsZero() {
			t.Fatalf("the honest laptop holds %v, not one stream of its two reports", v)
		}
		claim, held := syncproto.Vector{st: 1}, syncproto.Vector(nil)
		if aside {
			claim, held = nil, syncproto.Vector{st: 1}
		}
		if _, err := node.SyncClaimingAndAcking(liar.Node, ctx, honest.Addr, claim, held); err != nil {
			t.Fatal(err)
		}
		nodetest.Eventually(t, 10*time.Second, "the honest laptop's side of the session ended", func() bool {
			return syncedWith(t, honest.Node, liar.Node)
		})
		if st := statusOf(t, honest.Node, first); st != node.StatusSaved {
			t.Fatalf("claimed held aside %v: after a laptop that holds nothing acknowledged the second report, the first is %s; want %s", aside, st, node.StatusSaved)
		}
		if _, err := other.Node.Sync(ctx, honest.Addr); err != nil {
			t.Fatal(err)
		}
		nodetest.Eventually(t, 10*time.Second, "both reports shown sent once another laptop acknowledged them", func() bool {
			return statusOf(t, honest.Node, first) == node.StatusSent && statusOf(t, honest.Node, last) == node.StatusSent
		})
	}
}

// syncedWith says whether n has recorded a session with peer that ended
// well: it records one once its side of it is over.
func syncedWith(t *testing.T, n, peer *node.Node) bool {
	t.Helper()
	st, err := n.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range st.Peers {
		if p.Node == peer.Self().ID.String() && p.LastSync != "" {
			return true
		}
	}
	return false
}
