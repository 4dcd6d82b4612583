//go:build !mutate

package node_test

import (
	"context"
	"crypto/ed25519"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"lifeline/node"
	"lifeline/node/gossip"
	"lifeline/node/identity"
	"lifeline/node/ledger"
	"lifeline/node/nodetest"
	"lifeline/node/port"
	"lifeline/node/store"
	"lifeline/syncproto"
)

// Left out of a mutation run (the mutate tag): attacks on the Raft ledger
// and on gossip, not on what a node admits.

// The attacks of this file are made as a malicious peer would make them,
// from the project's own packages and hashicorp/raft: a relay speaking raw
// Raft, a gossip member lying about itself, a laptop forging receipts, a
// relay forwarding a made-up commit, a replayed notice. Each asserts the
// refusal and that nothing changed.

// rawRaft is Raft's own transport, dialling HQ's port as the node whose
// credentials it holds: what a stolen relay speaks.
type rawRaft struct {
	creds *identity.Credentials
	addr  string
}

func (r rawRaft) Accept() (net.Conn, error) { select {} }
func (r rawRaft) Close() error              { return nil }
func (r rawRaft) Addr() net.Addr            { return &net.TCPAddr{} }
func (r rawRaft) Dial(_ raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c, _, err := port.Dialer{Creds: r.creds}.Dial(ctx, r.addr, port.Ledger)
	return c, err
}

// A relay, even a member of the ledger, that sends HQ an AppendEntries with
// a higher term, as itself or as HQ, is refused: HQ keeps leading, its term
// does not move, and the revocation it carries is not applied.
func TestRelaySpeakingRawRaftIsRefused(t *testing.T) {
	c := nodetest.New(t)
	log := &syncBuffer{}
	hq := c.Add("hq", syncproto.RoleHQ, "Cayo", func(cfg *node.Config) {
		cfg.Bootstrap, cfg.Log = true, slog.New(slog.NewTextHandler(log, nil))
	})
	nodetest.Eventually(t, 10*time.Second, "hq leads", func() bool { return hq.Daemon.Ledger().IsLeader() })
	relays := []*nodetest.Member{c.Add("relay-1", syncproto.RoleRelay, "Toledo", nil)}
	c.AddToLedger(relays[0], false) // a non-voter member
	outsider := c.Add("relay-x", syncproto.RoleRelay, "Cayo", nil)
	victim := c.Add("cayo-07", syncproto.RoleField, "Cayo", func(cfg *node.Config) { cfg.SyncAddr = "" })
	ctx := context.Background()
	before := hq.Daemon.Ledger().Status()

	// The revocation of an honest laptop, as an entry the relay makes up.
	forged, err := ledger.Encode(ledger.CmdRevoke, &ledger.Revoke{Node: victim.Node.Self().ID, Reason: "forged"})
	if err != nil {
		t.Fatal(err)
	}
	for _, attacker := range []*nodetest.Member{relays[0], outsider} {
		for _, claim := range []string{attacker.Node.Self().ID.String(), hq.Node.Self().ID.String()} {
			tr := raft.NewNetworkTransport(rawRaft{creds: attacker.Node.Credentials(), addr: hq.Addr}, 1, 5*time.Second, io.Discard)
			req := &raft.AppendEntriesRequest{
				RPCHeader: raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte(claim), Addr: []byte(claim + "@" + attacker.Addr)},
				Term:      before.Height + 1000, PrevLogEntry: 0, PrevLogTerm: 0, LeaderCommitIndex: before.Height + 1000,
				Entries: []*raft.Log{{Index: before.Height + 1, Term: before.Height + 1000, Type: raft.LogCommand, Data: forged}},
			}
			var resp raft.AppendEntriesResponse
			err := tr.AppendEntries(raft.ServerID(claim), raft.ServerAddress(hq.Addr), req, &resp)
			tr.Close()
			if err == nil {
				t.Fatalf("%s, claiming to be %s: HQ answered an AppendEntries (success %v)", attacker.Name, claim, resp.Success)
			}
		}
	}
	// HQ refused each RPC before Raft saw it: a step down, had Raft seen
	// one, would have come with its answer.
	nodetest.Eventually(t, 10*time.Second, "HQ logs the four refusals", func() bool {
		return strings.Count(log.String(), "refused a Raft RPC") >= 4
	})
	if !hq.Daemon.Ledger().IsLeader() {
		t.Fatal("HQ stepped down")
	}
	if revoked, _ := hq.Node.IsRevoked(ctx, victim.Node.Self().ID); revoked {
		t.Fatal("HQ revoked the laptop on a relay's word")
	}
}

// A gossip member that holds the gossip key (every laptop does) and says
// it is an HQ voter is never made a member: HQ keeps leading and the
// ledger keeps committing.
func TestGossipMemberLyingAboutItselfIsNotMadeAVoter(t *testing.T) {
	c := nodetest.New(t)
	hq := gossiping(c, "hq", syncproto.RoleHQ, "Cayo", "", func(cfg *node.Config) { cfg.Bootstrap = true })
	nodetest.Eventually(t, 10*time.Second, "hq leads", func() bool { return hq.Daemon.Ledger().IsLeader() })

	keyFile := filepath.Join(t.TempDir(), gossip.KeyFile)
	if err := gossip.WriteKeyFile(keyFile, c.Keys); err != nil {
		t.Fatal(err)
	}
	rogueKey, _ := identity.NewKey()
	rogue, err := gossip.Start(gossip.Config{BindAddr: "127.0.0.1:0", KeyFile: keyFile, Profile: gossip.Test,
		Meta: func() gossip.Meta {
			return gossip.Meta{Node: rogueKey.ID(), Name: "hq-alt", Role: syncproto.RoleHQ, District: "Belize",
				SyncAddr: "127.0.0.1:9", Raft: gossip.RaftVoter, MinProto: syncproto.MinVersion, MaxProto: syncproto.MaxVersion}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer rogue.Shutdown()
	if _, err := rogue.Join([]string{hq.Gossip}); err != nil {
		t.Fatal(err)
	}
	// A relay that joins gossip after the rogue, and that headquarters
	// decided is a voter without saying where, is made one by the
	// leader's membership rounds: in that time, they did not take the
	// rogue's word.
	relay := gossiping(c, "relay-1", syncproto.RoleRelay, "Toledo", hq.Gossip, nil)
	c.Decide(ledger.CmdEnroll, &ledger.Enroll{Cert: relay.Node.Credentials().Cert.Raw, Voter: true})
	nodetest.Eventually(t, 20*time.Second, "the leader finds the relay by gossip and makes it a voter", func() bool {
		servers, _ := hq.Daemon.Ledger().Servers()
		for _, s := range servers {
			if s.ID == relay.Node.Self().ID.String() && s.Voter {
				return true
			}
		}
		return false
	})
	servers, err := hq.Daemon.Ledger().Servers()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range servers {
		if s.ID == rogueKey.ID().String() {
			t.Fatal("the rogue gossip member was made a member of the ledger")
		}
	}
	ids := add(t, hq, 1)
	nodetest.Eventually(t, 10*time.Second, "the ledger still commits", func() bool {
		n, _ := hq.Node.CaseNumber(context.Background(), ids[0])
		return n != ""
	})
}

// A relay that forwards a commit whose range names a head that is not the
// stream's is refused; a made-up record in a forwarded commit gets no case
// number, and the laptop's real record gets one.
func TestRelayForwardingAMadeUpCommitIsRefused(t *testing.T) {
	c := nodetest.New(t)
	hq, relays := voters(t, c, 1, true)
	field := c.Add("cayo-07", syncproto.RoleField, "Cayo", func(cfg *node.Config) { cfg.SyncAddr = "" })
	ctx := context.Background()
	ids := add(t, field, 2)
	if _, err := field.Node.Sync(ctx, hq.Addr); err != nil { // HQ holds the laptop's records
		t.Fatal(err)
	}
	own := syncproto.Stream{Origin: field.Node.Self().ID, Lane: cayoDamage}
	made := syncproto.NewRecordID()

	forged, _ := ledger.Encode(ledger.CmdCommit, &ledger.Commit{
		Ranges: []ledger.Range{{Stream: own, From: 1, To: 2, Head: syncproto.Hash{0xba, 0xd}}},
		New:    []ledger.NewRecord{{Record: made, District: "CYO", Year: 2026}},
	})
	if err := forwardToHQ(t, relays[0], hq, forged); err == nil {
		t.Fatal("the leader took a commit naming another head")
	}
	head, err := node.HeadAt(hq.Node, ctx, own, 2)
	if err != nil {
		t.Fatal(err)
	}
	// The right head, with a made-up record: the leader numbers what it
	// finds the range creates, not what it is told.
	honest, _ := ledger.Encode(ledger.CmdCommit, &ledger.Commit{
		Ranges: []ledger.Range{{Stream: own, From: 1, To: 2, Head: head}},
		New:    []ledger.NewRecord{{Record: made, District: "CYO", Year: 2026}},
	})
	if err := forwardToHQ(t, relays[0], hq, honest); err != nil {
		t.Fatal(err)
	}
	nodetest.Eventually(t, 10*time.Second, "the real records are numbered", func() bool {
		for _, id := range ids {
			if n, _ := hq.Node.CaseNumber(ctx, id); n == "" {
				return false
			}
		}
		return true
	})
	if n, _ := hq.Node.CaseNumber(ctx, made); n != "" {
		t.Fatalf("the made-up record got case number %s", n)
	}
}

// A relay forwarding a commit of ranges the ledger holds already, or of
// one range again and again, gets no entry proposed for them: the leader
// would read the range's changes once per copy, and the state machine
// skip them all but once.
func TestARelayForwardingRangesAgainGetsNoEntry(t *testing.T) {
	c := nodetest.New(t)
	hq, relays := voters(t, c, 1, false)
	field := c.Add("cayo-07", syncproto.RoleField, "Cayo", func(cfg *node.Config) { cfg.SyncAddr = "" })
	ctx := context.Background()
	add(t, field, 2)
	if _, err := field.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	own := syncproto.Stream{Origin: field.Node.Self().ID, Lane: cayoDamage}
	nodetest.Eventually(t, 10*time.Second, "HQ commits the laptop's changes", func() bool { return committed(hq)[own] == 2 })
	head, err := node.HeadAt(hq.Node, ctx, own, 2)
	if err != nil {
		t.Fatal(err)
	}
	before, err := hq.Node.LedgerState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	copies := make([]ledger.Range, 4096)
	for i := range copies {
		copies[i] = ledger.Range{Stream: own, From: 1, To: 2, Head: head}
	}
	again, _ := ledger.Encode(ledger.CmdCommit, &ledger.Commit{Ranges: copies})
	if err := forwardToHQ(t, relays[0], hq, again); err != nil {
		t.Fatal(err)
	}
	after, err := hq.Node.LedgerState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after.Applied != before.Applied {
		t.Fatalf("the leader proposed %d ranges the ledger committed: it applied entries %d to %d", len(copies), before.Applied+1, after.Applied)
	}

}

// A relay forwarding a commit of more changes than one entry commits
// (50,000, as a member's own commits are cut) is refused, saying so,
// before the leader reads any of them: it would read every change the
// ranges name to find the records they create, and propose them all in
// one entry. An honest commit of the same stream still goes through.
func TestARelayForwardingACommitTooLargeIsRefused(t *testing.T) {
	c := nodetest.New(t)
	hq, relays := voters(t, c, 1, false)
	field := c.Add("cayo-07", syncproto.RoleField, "Cayo", func(cfg *node.Config) { cfg.SyncAddr = "" })
	ctx := context.Background()
	add(t, field, 2)
	if _, err := field.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	own := syncproto.Stream{Origin: field.Node.Self().ID, Lane: cayoDamage}
	head, err := node.HeadAt(hq.Node, ctx, own, 2)
	if err != nil {
		t.Fatal(err)
	}
	other := syncproto.Stream{Origin: relays[0].Node.Self().ID, Lane: cayoDamage}
	for _, ranges := range [][]ledger.Range{
		{{Stream: own, From: 1, To: 50_001, Head: head}},
		{{Stream: own, From: 1, To: 2, Head: head}, {Stream: other, From: 1, To: 49_999, Head: head}},
		{{Stream: own, From: 1, To: 2, Head: head}, {Stream: other, From: 1, To: 1<<64 - 1, Head: head}},
	} {
		entry, _ := ledger.Encode(ledger.CmdCommit, &ledger.Commit{Ranges: ranges})
		err := forwardToHQ(t, relays[0], hq, entry)
		if !errors.Is(err, ledger.ErrRefused) || !strings.Contains(err.Error(), "more than 50000 changes") {
			t.Fatalf("a forwarded commit of ranges %+v: %v; want it refused as more than one entry commits", ranges, err)
		}
	}
	honest, _ := ledger.Encode(ledger.CmdCommit, &ledger.Commit{Ranges: []ledger.Range{{Stream: own, From: 1, To: 2, Head: head}}})
	if err := forwardToHQ(t, relays[0], hq, honest); err != nil {
		t.Fatal(err)
	}
	nodetest.Eventually(t, 10*time.Second, "the laptop's changes are committed", func() bool { return committed(hq)[own] == 2 })
}

// A relay the ledger holds as a member that does not vote answers the
// leader's Raft RPCs itself: an error whose text it says is 64 MiB long,
// and the text, as fast as the leader reads. Raft reads a member's answer
// whole, however long it says it is, and logs an error's text. The leader
// reads no more of a member's answers than Raft's need, and drops the
// connection, saying why. Before, it read all 64 MiB into memory, at every
// try.
func TestALedgerMembersAnswersAreBounded(t *testing.T) {
	c := nodetest.New(t)
	voters(t, c, 0, true)
	ctx := context.Background()
	liar := nodetest.Credentials(t, c.CA, "relay-liar", syncproto.RoleRelay)
	const claimed = 64 << 20
	sent := make(chan int, 1)
	p := port.New(port.Config{Creds: liar})
	p.Handle(port.Ledger, port.Door{Who: func(identity.Claims) error { return nil },
		Serve: func(_ context.Context, conn net.Conn, _ identity.Claims) bool {
			// msgpack's str 32: 0xdb and the length, big-endian.
			n, err := conn.Write([]byte{0xdb, claimed >> 24, claimed >> 16 & 0xff, claimed >> 8 & 0xff, claimed & 0xff})
			text := []byte(strings.Repeat("a", 64<<10))
			for err == nil && n < claimed {
				var m int
				m, err = conn.Write(text)
				n += m
			}
			select {
			case sent <- n:
			default:
			}
			return false
		}})
	addr, err := p.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	c.Decide(ledger.CmdEnroll, &ledger.Enroll{Cert: liar.Cert.Raw, Addr: addr.String()})
	var n int
	nodetest.Eventually(t, 30*time.Second, "the leader dials the relay", func() bool {
		select {
		case n = <-sent:
			return true
		default:
			return false
		}
	})
	if n >= claimed {
		t.Fatalf("the leader read all %d bytes of one answer of a member", n)
	}
}

// A laptop that syncs with another cannot make it believe its changes are
// confirmed: receipts it signs itself, or a relay signs, or HQ signed for
// another head, move nothing.
func TestForgedReceiptsMoveNoConfirmedMark(t *testing.T) {
	c := nodetest.New(t)
	hq, relays := voters(t, c, 1, true)
	victim := c.Add("cayo-07", syncproto.RoleField, "Cayo", func(cfg *node.Config) { cfg.SyncAddr = "" })
	liar := c.Add("cayo-08", syncproto.RoleField, "Cayo", nil)
	ctx := context.Background()
	add(t, victim, 3)
	if _, err := victim.Node.Sync(ctx, liar.Addr); err != nil { // the liar holds the victim's changes
		t.Fatal(err)
	}
	for _, m := range []*nodetest.Member{relays[0], hq} { // and the relay's and HQ's certificates
		add(t, m, 1)
		if _, err := liar.Node.Sync(ctx, m.Addr); err != nil {
			t.Fatal(err)
		}
	}
	own := syncproto.Stream{Origin: victim.Node.Self().ID, Lane: cayoDamage}
	// Each forged receipt is of a later change than the last, so that the
	// liar keeps and sends it.
	for i, forger := range []*nodetest.Member{liar, relays[0], hq} {
		seq := uint64(i + 1)
		h, err := node.HeadAt(liar.Node, ctx, own, seq)
		if err != nil {
			t.Fatal(err)
		}
		if forger == hq {
			h = syncproto.Hash{1} // HQ's key, another head
		}
		sig := ed25519.Sign(forger.Node.Key().Signer(), syncproto.ReceiptMessage(own, seq, h))
		if err := node.PutReceipts(liar.Node, ctx, []store.Receipt{{Stream: own, Seq: seq, Head: h, Signer: forger.Node.Self().ID, Sig: sig}}); err != nil {
			t.Fatal(err)
		}
		// The victim syncs with the liar: its session has handled all the
		// liar sent when Sync returns.
		if _, err := victim.Node.Sync(ctx, liar.Addr); err != nil {
			t.Fatal(err)
		}
		st, _ := victim.Node.Status(ctx)
		if st.Unconfirmed != 3 {
			t.Fatalf("a receipt signed by %s moved the victim's confirmed mark: %d unconfirmed", forger.Name, st.Unconfirmed)
		}
		if forger == hq && st.Receipts != 0 {
			t.Fatal("the victim kept a receipt of a head it does not hold")
		}
	}
}

// refusedByLedger counts the lines a node logs of the ledger commands and
// Raft RPCs of relays it refused.
func refusedByLedger() *refusals {
	return &refusals{
		one: func(m string) bool { return m == "refused a forwarded ledger command" || m == "refused a Raft RPC" },
		more: func(m string) bool {
			return m == "ledger: more refusals of relays' commands and RPCs, not logged one by one"
		},
	}
}

// A stolen relay, a member of the ledger or not, forwards HQ commands it
// may not make, and opens Raft connections it may not use, by the
// hundred. HQ refuses each, and logs a few lines a second of them, with
// the count of the rest. Before, each made a line of HQ's log: a relay
// could fill HQ's disk at the rate of its handshakes.
func TestARelaysRefusedCommandsAreLoggedInAFewLines(t *testing.T) {
	c := nodetest.New(t)
	log := refusedByLedger()
	hq := c.Add("hq", syncproto.RoleHQ, "Cayo", func(cfg *node.Config) { cfg.Bootstrap, cfg.Log = true, slog.New(log) })
	nodetest.Eventually(t, 10*time.Second, "hq leads", func() bool { return hq.Daemon.Ledger().IsLeader() })
	relay := c.Add("relay-1", syncproto.RoleRelay, "Cayo", nil)
	ctx := context.Background()
	junk, err := ledger.Encode(ledger.CmdRevoke, &ledger.Revoke{Node: hq.Node.Self().ID, Reason: "unsigned"})
	if err != nil {
		t.Fatal(err)
	}
	leader := hq.Node.Self().ID.String() + "@" + hq.Addr
	const each = 300
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range each / 4 {
				if err := node.Forward(relay.Node, ctx, leader, junk); !errors.Is(err, ledger.ErrRefused) {
					t.Errorf("an unsigned revocation forwarded: %v; want it refused", err)
					return
				}
				conn, _, err := port.Dialer{Creds: relay.Node.Credentials()}.Dial(ctx, hq.Addr, port.Ledger)
				if err != nil {
					t.Error(err)
					return
				}
				conn.Write([]byte{0}) // an AppendEntries, from no voter
				io.Copy(io.Discard, conn)
				conn.Close()
			}
		})
	}
	wg.Wait()
	nodetest.Eventually(t, 20*time.Second, "HQ counts every refusal", func() bool {
		_, total := log.counts()
		return total >= 2*each
	})
	if lines, total := log.counts(); lines > total/4 {
		t.Fatalf("%d refusals of a relay's commands and RPCs made %d lines of HQ's log", total, lines)
	}
}

// A stolen laptop signs two histories of one of its streams: one it gives
// HQ, which the ledger commits, the other a relay of the ledger, on a
// stick. The relay holds the change of its history as not confirmed at
// HQ, which never held it. Before, the commit of HQ's history marked the
// stream confirmed on the relay whatever history it held: the thief's
// record there read confirmed at HQ.
func TestAHistoryTheLedgerDidNotCommitIsNotConfirmed(t *testing.T) {
	c := nodetest.New(t)
	hq, relays := voters(t, c, 1, false)
	relay := relays[0]
	thief := laptop(c, "cayo-66", "Cayo", nil)
	ctx := context.Background()
	ids := add(t, thief, 1)
	if _, err := thief.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	st := syncproto.Stream{Origin: thief.Node.Self().ID, Lane: cayoDamage}
	for _, m := range []*nodetest.Member{hq, relay} {
		nodetest.Eventually(t, 30*time.Second, m.Name+" applies the commit of HQ's history", func() bool { return committed(m)[st] == 1 })
	}
	village, _ := syncproto.Marshal("Benque")
	other := syncproto.Change{Origin: st.Origin, Lane: st.Lane, Seq: 1, HLC: syncproto.MakeHLC(time.Now().UnixMilli(), 0),
		Record: syncproto.NewRecordID(), Kit: "damage-assessment", Type: "damage-assessment", Version: 1,
		Fields: []syncproto.FieldChange{{Name: "village", Value: village}}}
	path := filepath.Join(t.TempDir(), "fork.bundle")
	if err := os.WriteFile(path, forgedBundle(t, thief, st, 1, other), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := relay.Node.ImportBundle(ctx, path); err != nil {
		t.Fatal(err)
	}
	v, err := relay.Node.Record(ctx, other.Record)
	if err != nil {
		t.Fatalf("the relay holds the other history: %v", err)
	}
	if len(v.History) != 1 || v.History[0].Status == node.StatusConfirmed {
		t.Fatalf("the relay's history of the thief's other record: %+v; want one change, not confirmed", v.History)
	}
	// HQ's history stays confirmed where it is held.
	if v, err := hq.Node.Record(ctx, ids[0]); err != nil || len(v.History) != 1 || v.History[0].Status != node.StatusConfirmed {
		t.Fatalf("HQ's view of the record it holds: %+v, %v; want it confirmed", v.History, err)
	}
}

// Receipts under HQ's certificate whose signatures do not check cost a
// few checks, not one each: an honest node passes on only receipts it
// checked, and a laptop could send 65,536 in a session, at no cost of its
// own.
func TestForgedReceiptsAreCheckedAFewOnly(t *testing.T) {
	c := nodetest.New(t)
	log := &syncBuffer{}
	hq := c.Add("hq", syncproto.RoleHQ, "Cayo", func(cfg *node.Config) {
		cfg.Bootstrap = true
		cfg.Log = slog.New(slog.NewTextHandler(log, nil))
	})
	liar := c.Add("cayo-08", syncproto.RoleField, "Cayo", nil)
	ctx := context.Background()
	forged := make([]store.Receipt, 1000)
	for i := range forged {
		forged[i] = store.Receipt{Stream: syncproto.Stream{Origin: syncproto.NodeID{0x66, byte(i >> 8), byte(i)}, Lane: cayoDamage},
			Seq: 1, Signer: hq.Node.Self().ID, Sig: make([]byte, ed25519.SignatureSize)}
	}
	if _, err := node.SyncSendingReceipts(liar.Node, ctx, hq.Addr, forged, hq.Node.Credentials().Cert.Raw); err != nil {
		t.Fatal(err) // refusing receipts does not end the session
	}
	nodetest.Eventually(t, 10*time.Second, "HQ ends the session", func() bool { return strings.Contains(log.String(), "msg=synced") })
	var msg string
	for _, l := range strings.Split(log.String(), "\n") {
		if strings.Contains(l, `msg="refused receipts"`) {
			msg = l
		}
	}
	if !strings.Contains(msg, "count=8 ") || !strings.Contains(msg, "unchecked=992") {
		t.Fatalf("HQ logged %q, want 8 receipts refused and 992 left unchecked", msg)
	}
	if rs, _ := node.Receipts(hq.Node, ctx); len(rs) != 0 {
		t.Fatalf("HQ kept %d forged receipts", len(rs))
	}
}

// A laptop that sends thousands of certificates that do not parse ends
// its session, and the node says why in a line, not in one line per
// certificate: 4,096 of one byte each made 4,096 reasons of every line
// the session's failure logged.
func TestCertificatesThatDoNotVerifyAreToldInALine(t *testing.T) {
	c := nodetest.New(t)
	log := &syncBuffer{}
	hq := c.Add("hq", syncproto.RoleHQ, "Cayo", func(cfg *node.Config) {
		cfg.Bootstrap = true
		cfg.Log = slog.New(slog.NewTextHandler(log, nil))
	})
	liar := c.Add("cayo-08", syncproto.RoleField, "Cayo", nil)
	add(t, liar, 1)
	junk := make([][]byte, syncproto.MaxCerts)
	for i := range junk {
		junk[i] = []byte{byte(i)}
	}
	msg := refusedBy(t, log, liar.Node, func() {
		node.SyncPresenting(liar.Node, context.Background(), hq.Addr, junk)
	})
	if !strings.Contains(msg, "does not parse") || !strings.Contains(msg, "4095 more") {
		t.Fatalf("HQ logged %.300q, want the first reason and how many more", msg)
	}
	if len(log.String()) > 16<<10 {
		t.Fatalf("HQ logged %d bytes for one session with %d certificates of a byte", len(log.String()), len(junk))
	}
}

// A key step replayed after a later rotation, and a revocation spread by a
// relay, change nothing on the node that hears them.
func TestReplayedAndUnauthorisedNoticesChangeNothing(t *testing.T) {
	c := nodetest.New(t)
	hq := gossiping(c, "hq", syncproto.RoleHQ, "Cayo", "", func(cfg *node.Config) { cfg.Bootstrap = true })
	relay := gossiping(c, "relay", syncproto.RoleRelay, "Cayo", hq.Gossip, nil)
	f := gossiping(c, "field", syncproto.RoleField, "Cayo", hq.Gossip, func(cfg *node.Config) { cfg.SyncAddr = "" })
	ctx := context.Background()
	nodetest.Eventually(t, 10*time.Second, "the field meets the others", func() bool {
		st, _ := f.Node.Status(ctx)
		return len(st.Peers) >= 2
	})
	first, _ := gossip.NewKey()
	if err := hq.Daemon.RotateGossipKey(ctx, first, 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	firstUse := node.KeyNotice(hq.Daemon, 3, time.Now().Add(-time.Hour), first) // the older rotation's "use", as captured
	second, _ := gossip.NewKey()
	if err := hq.Daemon.RotateGossipKey(ctx, second, 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	nodetest.Eventually(t, 10*time.Second, "the field uses the second key", func() bool {
		return string(f.Daemon.GossipKeys()[0]) == string(second)
	})
	if err := node.ApplyNotice(f.Daemon, firstUse); err != nil {
		t.Fatal(err)
	}
	if string(f.Daemon.GossipKeys()[0]) != string(second) {
		t.Fatal("a replayed key step took the field back to an older key")
	}
	revocation := node.RevocationNotice(relay.Daemon, hq.Node.Self().ID)
	if err := node.ApplyNotice(f.Daemon, revocation); !errors.Is(err, node.ErrNotice) {
		t.Fatalf("a revocation spread by a relay: %v", err)
	}
	if revoked, _ := f.Node.IsRevoked(ctx, hq.Node.Self().ID); revoked {
		t.Fatal("a relay revoked headquarters on the field")
	}
}

// A node that answers at an address gossip gives for another is refused
// before any session.
func TestSyncRefusesANodeOtherThanGossipSaid(t *testing.T) {
	c := nodetest.New(t)
	a := c.Add("relay-a", syncproto.RoleRelay, "Cayo", nil)
	b := c.Add("relay-b", syncproto.RoleRelay, "Cayo", nil)
	field := c.Add("cayo-07", syncproto.RoleField, "Cayo", func(cfg *node.Config) { cfg.SyncAddr = "" })
	add(t, field, 1)
	_, err := node.SyncExpecting(field.Node, context.Background(), b.Addr, a.Node.Self().ID)
	if !errors.Is(err, node.ErrNotWhoWasMeant) {
		t.Fatalf("syncing with %s where gossip said %s is: %v", b.Name, a.Name, err)
	}
	if st, _ := b.Node.Status(context.Background()); st.Records["damage-assessment"] != 0 {
		t.Fatal("the node that answered was sent records")
	}
}

// A decision headquarters signed, forwarded again by a relay that holds
// it in its copy of the ledger's log, is refused: the pair HQ linked and
// then found to be two people stays two people on every member, however
// often the old link comes back. Signed bytes alone never make a decision
// apply twice.
func TestAReplayedDecisionIsRefused(t *testing.T) {
	c := nodetest.New(t)
	hq, relays := voters(t, c, 1, true)
	relay := relays[0]
	members := []*nodetest.Member{hq, relay}
	ctx := context.Background()
	a, b := mustAdd(t, hq.Node, "missing-person", reconcileMaria), mustAdd(t, hq.Node, "missing-person", reconcileCoc)
	// HQ's link, as signed and as every member's log holds it.
	at := time.Now()
	lo, hi := ledger.PairOf(a, b)
	linked, err := ledger.Sign(ledger.CmdLink, &ledger.Link{A: lo, B: hi, Decision: ledger.LinkLinked, Node: hq.Node.Self().ID, At: at.UnixMilli()},
		at, hq.Node.Credentials().Cert.Raw, hq.Node.Key().Signer())
	if err != nil {
		t.Fatal(err)
	}
	if err := forwardToHQ(t, relay, hq, linked); err != nil {
		t.Fatalf("HQ's link, forwarded the first time: %v", err)
	}
	nodetest.Eventually(t, 30*time.Second, "both members hold the pair linked", func() bool {
		s := linkStates(t, members, a, b)
		return s[0] == ledger.LinkLinked && s[1] == ledger.LinkLinked
	})
	if _, err := hq.Node.Link(ctx, a, b, ledger.LinkDifferent); err != nil {
		t.Fatal(err)
	}
	nodetest.Eventually(t, 30*time.Second, "both members hold the pair as two people", func() bool {
		s := linkStates(t, members, a, b)
		return s[0] == ledger.LinkDifferent && s[1] == ledger.LinkDifferent
	})

	err = forwardToHQ(t, relay, hq, linked)
	if !errors.Is(err, ledger.ErrApplied) || !errors.Is(err, ledger.ErrRefused) || !strings.Contains(err.Error(), "applied already") {
		t.Fatalf("HQ's old link forwarded again: %v; want it refused as applied already", err)
	}
	// A later decision on another pair marks when the relay has applied
	// everything before it, the replay included.
	c2, d2 := mustAdd(t, hq.Node, "missing-person", strings.ReplaceAll(reconcileMaria, "María José", "Ana")), mustAdd(t, hq.Node, "missing-person", strings.ReplaceAll(reconcileCoc, "Maria", "Ana"))
	if _, err := hq.Node.Link(ctx, c2, d2, ledger.LinkLinked); err != nil {
		t.Fatal(err)
	}
	nodetest.Eventually(t, 30*time.Second, "the relay applies HQ's later link", func() bool {
		s, _ := relay.Node.LinkState(ctx, c2, d2)
		return s == ledger.LinkLinked
	})
	if s := linkStates(t, members, a, b); s[0] != ledger.LinkDifferent || s[1] != ledger.LinkDifferent {
		t.Fatalf("after the replay the pair is %v on HQ and the relay; want %s on both", s, ledger.LinkDifferent)
	}
}

// A relay of Cayo moved to Toledo: headquarters signed it a certificate of
// Toledo, for the same key, and the ledger enrolled it. The certificate of
// Cayo has not expired, and with it the relay signs a link of two people
// of Cayo in Cayo's name, which another member forwards. Every member
// judges the signer by the newest certificate of its key the ledger
// enrolled, as a session does, and refuses it: the pair stays undecided.
// Before, the older certificate went on deciding for Cayo until it ended,
// and so would an HQ node's, once it was signed a relay's.
func TestADecisionSignedWithACertificateTheLedgerReplacedIsRefused(t *testing.T) {
	c := nodetest.New(t)
	hq, relays := voters(t, c, 1, true)
	other := relays[0]
	mover := c.Add("relay-cayo", syncproto.RoleRelay, "Cayo", nil)
	c.AddToLedger(mover, false)
	members := []*nodetest.Member{hq, other}
	cayo := laptop(c, "cayo-07", "Cayo", nil)
	ctx := context.Background()
	a, b := mustAdd(t, cayo.Node, "missing-person", reconcileMaria), mustAdd(t, cayo.Node, "missing-person", reconcileCoc)
	if _, err := cayo.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	old := mover.Node.Credentials().Cert
	req, err := mover.Node.EnrollmentRequestIn("Toledo")
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := c.CA.SignAt(req, old.NotBefore.Add(time.Minute), old.NotAfter.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(bundle)
	c.Decide(ledger.CmdEnroll, &ledger.Enroll{Cert: block.Bytes})
	for _, m := range members {
		nodetest.Eventually(t, 30*time.Second, m.Name+" holds the relay's certificate of Toledo", func() bool {
			known, err := m.Node.KnownNodes(ctx)
			if err != nil {
				return false
			}
			for _, k := range known {
				if k.Node == mover.Node.Self().ID {
					return k.District == "Toledo"
				}
			}
			return false
		})
	}

	lo, hi := ledger.PairOf(a, b)
	at := time.Now()
	entry, err := ledger.Sign(ledger.CmdLink, &ledger.Link{A: lo, B: hi, Decision: ledger.LinkLinked, Node: mover.Node.Self().ID, District: "Cayo", At: at.UnixMilli()},
		at, old.Raw, mover.Node.Key().Signer())
	if err != nil {
		t.Fatal(err)
	}
	if err := forwardToHQ(t, other, hq, entry); !errors.Is(err, ledger.ErrRefused) {
		t.Fatalf("a link signed with the relay's certificate of Cayo, after the ledger enrolled its certificate of Toledo: %v; want it refused", err)
	}
	height := hq.Daemon.Ledger().Status().Height
	nodetest.Eventually(t, 30*time.Second, "the other relay applies as far as HQ", func() bool {
		return other.Daemon.Ledger().Status().Height >= height
	})
	for _, m := range members {
		if links, err := node.LedgerLinks(m.Node, ctx); err != nil || len(links) != 0 {
			t.Fatalf("%s holds the links %+v (%v), want none", m.Name, links, err)
		}
	}
}

// A relay of Cayo whose certificate ended, never renewed and so never
// revoked, still holds its key: it signs a link of two people of Cayo
// stamped back to when its certificate was valid, and another relay, a
// member, forwards it. The leader refuses it, as every member would at
// apply: the certificate must not have ended when the decision reached
// the ledger, whatever time the signer wrote in it. Before, a stamp in the
// certificate's time was all it took.
func TestADecisionOfACertificateThatEndedIsRefusedWhateverItsStamp(t *testing.T) {
	c := nodetest.New(t)
	hq, relays := voters(t, c, 1, true)
	other := relays[0]
	ctx := context.Background()
	key, err := identity.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	req, err := key.Request(identity.Claims{Node: key.ID(), Name: "relay-gone", Role: syncproto.RoleRelay, District: "Cayo"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	bundle, err := c.CA.SignAt(req, now.Add(-50*time.Minute), now.Add(-10*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(bundle)
	lo, hi := ledger.PairOf(syncproto.NewRecordID(), syncproto.NewRecordID())
	stamp := now.Add(-30 * time.Minute)
	entry, err := ledger.Sign(ledger.CmdLink, &ledger.Link{A: lo, B: hi, Decision: ledger.LinkLinked, Node: key.ID(), District: "Cayo", At: stamp.UnixMilli()},
		stamp, block.Bytes, key.Signer())
	if err != nil {
		t.Fatal(err)
	}
	if err := forwardToHQ(t, other, hq, entry); !errors.Is(err, ledger.ErrRefused) || !strings.Contains(err.Error(), "ended") {
		t.Fatalf("a link signed with a certificate that ended, stamped while it was valid: %v; want it refused", err)
	}
	height := hq.Daemon.Ledger().Status().Height
	nodetest.Eventually(t, 30*time.Second, "the other relay applies as far as HQ", func() bool {
		return other.Daemon.Ledger().Status().Height >= height
	})
	for _, m := range []*nodetest.Member{hq, other} {
		if links, err := node.LedgerLinks(m.Node, ctx); err != nil || len(links) != 0 {
			t.Fatalf("%s holds the links %+v (%v), want none", m.Name, links, err)
		}
	}
}

// A holder of the gossip key claims a voter's node id at an address where
// the voter is not (here another node's): the leader checks the address
// before it moves the voter there, finds another node answering, and
// keeps the voter where the ledger has it, which goes on committing with
// it.
func TestAMembersAddressGossipClaimsIsTakenOnlyWhereItAnswers(t *testing.T) {
	c := nodetest.New(t)
	log := &syncBuffer{}
	hq := gossiping(c, "hq", syncproto.RoleHQ, "Cayo", "", func(cfg *node.Config) {
		cfg.Bootstrap, cfg.Log = true, slog.New(slog.NewTextHandler(log, nil))
	})
	nodetest.Eventually(t, 10*time.Second, "hq leads", func() bool { return hq.Daemon.Ledger().IsLeader() })
	relay := c.Add("relay-1", syncproto.RoleRelay, "Cayo", nil)
	c.AddToLedger(relay, true)
	elsewhere := c.Add("relay-2", syncproto.RoleRelay, "Toledo", nil)

	keyFile := filepath.Join(t.TempDir(), gossip.KeyFile)
	if err := gossip.WriteKeyFile(keyFile, c.Keys); err != nil {
		t.Fatal(err)
	}
	rogue, err := gossip.Start(gossip.Config{BindAddr: "127.0.0.1:0", KeyFile: keyFile, Profile: gossip.Test,
		Meta: func() gossip.Meta {
			return gossip.Meta{Node: relay.Node.Self().ID, Name: "relay-1", Role: syncproto.RoleRelay, District: "Cayo",
				SyncAddr: elsewhere.Addr, Raft: gossip.RaftVoter, MinProto: syncproto.MinVersion, MaxProto: syncproto.MaxVersion}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer rogue.Shutdown()
	if _, err := rogue.Join([]string{hq.Gossip}); err != nil {
		t.Fatal(err)
	}
	nodetest.Eventually(t, 30*time.Second, "the leader checks the address gossip claims for the voter", func() bool {
		servers, err := hq.Daemon.Ledger().Servers()
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range servers {
			if s.ID == relay.Node.Self().ID.String() && s.Addr != relay.Addr {
				t.Fatalf("the voter was moved to %s, where gossip claimed it is; it is at %s", s.Addr, relay.Addr)
			}
		}
		return strings.Contains(log.String(), "does not answer as itself") && strings.Contains(log.String(), elsewhere.Addr)
	})
	ids := add(t, hq, 1)
	nodetest.Eventually(t, 20*time.Second, "the ledger commits with the voter", func() bool {
		n, _ := hq.Node.CaseNumber(context.Background(), ids[0])
		return n != "" && committed(relay).Covers(committed(hq))
	})
}
