package port_test

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"lifeline/node/identity"
	"lifeline/node/nodetest"
	"lifeline/node/port"
	"lifeline/syncproto"
)

func newCA(t *testing.T) *identity.CA {
	t.Helper()
	ca, err := identity.NewCA("Test CA")
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// echo is a door's Serve that answers each byte it reads with the same.
func echo(_ context.Context, conn net.Conn, _ identity.Claims) bool {
	io.Copy(conn, conn)
	return false
}

// keepEcho is a long-lived door's Serve: it echoes in the background and
// keeps the connection, as Raft's transport does.
func keepEcho(_ context.Context, conn net.Conn, _ identity.Claims) bool {
	go func() {
		io.Copy(conn, conn)
		conn.Close()
	}()
	return true
}

func admitAll(identity.Claims) error { return nil }

// serve starts a port with the doors given and returns its address.
func serve(t *testing.T, cfg port.Config, doors map[port.Channel]port.Door) string {
	t.Helper()
	p := port.New(cfg)
	for ch, d := range doors {
		p.Handle(ch, d)
	}
	addr, err := p.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	return addr.String()
}

// answers reports whether the channel echoes a byte back, and closes it.
func answers(t *testing.T, conn net.Conn) bool {
	t.Helper()
	defer conn.Close()
	return echoes(conn)
}

// echoes reports whether the channel echoes a byte back.
func echoes(conn net.Conn) bool {
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	defer conn.SetDeadline(time.Time{})
	if _, err := conn.Write([]byte{42}); err != nil {
		return false
	}
	var b [1]byte
	_, err := io.ReadFull(conn, b[:])
	return err == nil && b[0] == 42
}

// Each door admits whom its rule admits, by the identity the handshake
// proved: a field laptop opens the sync channel but not the ledger's, a
// relay both; a channel with no door admits nobody.
func TestDoorsAdmitWhomTheirRulesAdmit(t *testing.T) {
	ca := newCA(t)
	server := nodetest.Credentials(t, ca, "hq", syncproto.RoleHQ)
	field := nodetest.Credentials(t, ca, "cayo-07", syncproto.RoleField)
	relay := nodetest.Credentials(t, ca, "relay-cayo", syncproto.RoleRelay)
	ledgerOnly := func(p identity.Claims) error {
		if !p.Role.InLedger() {
			return errors.New("not a ledger member")
		}
		return nil
	}
	addr := serve(t, port.Config{Creds: server}, map[port.Channel]port.Door{
		port.Sync:   {Who: func(identity.Claims) error { return nil }, Serve: echo},
		port.Ledger: {Who: ledgerOnly, Serve: echo},
	})
	ctx := context.Background()
	for _, c := range []struct {
		who   *identity.Credentials
		ch    port.Channel
		admit bool
	}{
		{field, port.Sync, true},
		{field, port.Ledger, false},
		{relay, port.Sync, true},
		{relay, port.Ledger, true},
		{relay, port.Propose, false}, // no door
	} {
		conn, peer, err := port.Dialer{Creds: c.who}.Dial(ctx, addr, c.ch)
		if err != nil {
			t.Fatalf("%s dialling %s: %v", c.who.Claims.Name, c.ch, err)
		}
		if peer.Node != server.Claims.Node {
			t.Fatalf("the dialer says %s answered, not the server", peer)
		}
		if got := answers(t, conn); got != c.admit {
			t.Errorf("%s on the %s channel: admitted %v, want %v", c.who.Claims.Name, c.ch, got, c.admit)
		}
	}
}

// A node of another deployment is refused at the handshake, and the
// refusal is reported with its address.
func TestAnotherDeploymentIsRefusedAtTheHandshake(t *testing.T) {
	server := nodetest.Credentials(t, newCA(t), "hq", syncproto.RoleHQ)
	stranger := nodetest.Credentials(t, newCA(t), "stranger", syncproto.RoleHQ)
	var mu sync.Mutex
	var refused []error
	addr := serve(t, port.Config{Creds: server, Refused: func(_ string, _ identity.Claims, err error) {
		mu.Lock()
		refused = append(refused, err)
		mu.Unlock()
	}}, map[port.Channel]port.Door{port.Sync: {Who: func(identity.Claims) error { return nil }, Serve: echo}})
	if conn, _, err := (port.Dialer{Creds: stranger}).Dial(context.Background(), addr, port.Sync); err == nil {
		if answers(t, conn) {
			t.Fatal("a node of another CA was served")
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		n := len(refused)
		mu.Unlock()
		if n > 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the refusal was not reported")
}

// The ledger's connections have places of their own: with the sync
// channel full, a ledger link still opens, and a held ledger link keeps
// no sync session out.
func TestLedgerLinksHaveTheirOwnPlaces(t *testing.T) {
	ca := newCA(t)
	server := nodetest.Credentials(t, ca, "hq", syncproto.RoleHQ)
	relay := nodetest.Credentials(t, ca, "relay-cayo", syncproto.RoleRelay)
	addr := serve(t, port.Config{Creds: server}, map[port.Channel]port.Door{
		port.Sync:   {Who: admitAll, Serve: echo, Max: 1},
		port.Ledger: {Who: admitAll, Serve: keepEcho, ReplaceOldest: true, Max: 1},
	})
	ctx := context.Background()
	session, _, err := port.Dialer{Creds: relay}.Dial(ctx, addr, port.Sync)
	if err != nil {
		t.Fatal(err)
	}
	defer session.Close()
	if !echoes(session) {
		t.Fatal("the first sync session was not served")
	}
	if conn, _, err := (port.Dialer{Creds: relay}).Dial(ctx, addr, port.Sync); err == nil && answers(t, conn) {
		t.Fatal("a second sync session was served by a channel with one place")
	}
	link, _, err := port.Dialer{Creds: relay}.Dial(ctx, addr, port.Ledger)
	if err != nil {
		t.Fatal(err)
	}
	if !answers(t, link) {
		t.Fatal("a ledger link found no place while the sync channel was full")
	}
}

// A peer's newest long-lived link replaces its oldest once the peer holds
// its share: a link broken where TCP has not noticed yet does not keep
// the peer's next one out. Another peer's link stays.
func TestANewLinkReplacesItsPeersOldest(t *testing.T) {
	ca := newCA(t)
	server := nodetest.Credentials(t, ca, "hq", syncproto.RoleHQ)
	relay := nodetest.Credentials(t, ca, "relay-cayo", syncproto.RoleRelay)
	other := nodetest.Credentials(t, ca, "relay-toledo", syncproto.RoleRelay)
	addr := serve(t, port.Config{Creds: server}, map[port.Channel]port.Door{
		port.Ledger: {Who: admitAll, Serve: keepEcho, ReplaceOldest: true, Max: 8, PerPeer: 2},
	})
	ctx := context.Background()
	var links []net.Conn
	for _, who := range []*identity.Credentials{other, relay, relay, relay} {
		conn, _, err := port.Dialer{Creds: who}.Dial(ctx, addr, port.Ledger)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if !echoes(conn) {
			t.Fatalf("a ledger link of %s was not served", who.Claims.Name)
		}
		links = append(links, conn)
	}
	if echoes(links[1]) {
		t.Fatal("the relay's oldest link is still served after its third")
	}
	for i, l := range []net.Conn{links[0], links[2], links[3]} {
		if !echoes(l) {
			t.Fatalf("link %d is no longer served", i)
		}
	}
}
