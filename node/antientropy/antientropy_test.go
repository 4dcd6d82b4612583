package antientropy

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"lifeline/node/gossip"
	"lifeline/syncproto"
)

// members is a membership given by the test.
type members []gossip.Member

func (m members) Members() []gossip.Member { return m }
func (members) Join([]string) (int, error) { return 0, errors.New("no network here") }
func member(name string, role syncproto.Role, district string) gossip.Member {
	return gossip.Member{Meta: gossip.Meta{Node: syncproto.NodeIDFromKey([]byte(name)), Name: name, Role: role,
		District: district, SyncAddr: name + ":7420", Vector: []byte("theirs")}, State: gossip.StateAlive}
}

// node is the node the loop runs for: it records the sessions asked of it.
type node struct {
	mu       sync.Mutex
	synced   []string
	fail     map[string]bool
	revoked  map[syncproto.NodeID]bool
	awaiting bool
}

func (n *node) Sync(_ context.Context, m gossip.Member) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.synced = append(n.synced, m.Name)
	if n.fail[m.Name] {
		return errors.New("unreachable")
	}
	return nil
}
func (n *node) AwaitsReceipts(context.Context) bool                 { return n.awaiting }
func (n *node) Revoked(_ context.Context, id syncproto.NodeID) bool { return n.revoked[id] }
func (n *node) Digest() []byte                                      { return []byte("ours") }
func names(ms []gossip.Member) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Name)
	}
	return out
}

// Whom a node syncs with, by the rule the design gives: a field laptop
// its own district's relay, then HQ, at most two, and field peers only
// when no relay or HQ is around; a relay HQ first, then its district's
// relays, then the rest; never a revoked, dead or serving-nothing member.
func TestPeerChoice(t *testing.T) {
	hq := member("hq", syncproto.RoleHQ, "Belize")
	cayo := member("relay-cayo", syncproto.RoleRelay, "Cayo")
	toledo := member("relay-toledo", syncproto.RoleRelay, "Toledo")
	laptop := member("cayo-02", syncproto.RoleField, "Cayo")
	thief := member("stolen", syncproto.RoleRelay, "Cayo")
	dead := member("relay-dead", syncproto.RoleRelay, "Cayo")
	dead.State = gossip.StateDead
	silent := member("relay-silent", syncproto.RoleRelay, "Cayo")
	silent.SyncAddr = ""
	all := members{laptop, toledo, hq, thief, dead, silent, cayo}
	revoked := map[syncproto.NodeID]bool{thief.Node: true}
	for _, c := range []struct {
		self Self
		of   members
		want []string
	}{
		{Self{Role: syncproto.RoleField, District: "Cayo"}, all, []string{"relay-cayo", "hq"}},
		{Self{Role: syncproto.RoleField, District: "Toledo"}, all, []string{"relay-toledo", "hq"}},
		{Self{Role: syncproto.RoleField, District: "Cayo"}, members{laptop, dead}, []string{"cayo-02"}},
		{Self{Role: syncproto.RoleRelay, District: "Toledo"}, all, []string{"hq", "relay-toledo", "relay-cayo"}},
		{Self{Role: syncproto.RoleHQ, District: "Belize"}, members{toledo, cayo, laptop}, []string{"relay-cayo", "relay-toledo"}},
	} {
		l := New(Config{Self: c.self, Every: time.Second}, &node{revoked: revoked}, c.of)
		if got := names(l.candidates(context.Background())); !slices.Equal(got, c.want) {
			t.Errorf("a %s in %s syncs with %v, want %v", c.self.Role, c.self.District, got, c.want)
		}
	}
}

// A peer whose vector digest equals ours is left alone, unless we wait for
// receipts and its ledger moved.
func TestNothingToExchangeNoSession(t *testing.T) {
	hq := member("hq", syncproto.RoleHQ, "Belize")
	hq.Vector = []byte("ours")
	n := &node{}
	l := New(Config{Self: Self{Role: syncproto.RoleField, District: "Cayo"}, Every: time.Second}, n, members{hq})
	l.peer(hq.Node).synced = time.Now()
	if got := l.candidates(context.Background()); len(got) != 0 {
		t.Fatalf("synced with %v though both hold the same", names(got))
	}
	n.awaiting = true
	hq.Ledger = 5
	l.members = members{hq}
	if got := names(l.candidates(context.Background())); !slices.Equal(got, []string{"hq"}) {
		t.Fatalf("a node awaiting receipts syncs with %v when HQ's ledger moved, want [hq]", got)
	}
}

// The wait after failures doubles from the loop's period, up to five
// minutes.
func TestBackoff(t *testing.T) {
	for failures, want := range []time.Duration{30 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 5 * time.Minute, 5 * time.Minute} {
		if got := Backoff(30*time.Second, failures); got != want {
			t.Errorf("after %d failures wait %v, want %v", failures, got, want)
		}
	}
}

// A peer that failed is backed off from; once it reaches us by itself it
// is tried again at once.
func TestReachedEndsTheBackoff(t *testing.T) {
	relay := member("relay-cayo", syncproto.RoleRelay, "Cayo")
	n := &node{fail: map[string]bool{"relay-cayo": true}}
	l := New(Config{Self: Self{Role: syncproto.RoleField, District: "Cayo"}, Every: time.Hour}, n, members{relay})
	ctx := context.Background()
	l.round(ctx)
	l.sessions.Wait()
	if got := names(l.candidates(ctx)); len(got) != 0 {
		t.Fatalf("a peer that just failed is tried again at once: %v", got)
	}
	l.Reached(relay.Node)
	if got := names(l.candidates(ctx)); !slices.Equal(got, []string{"relay-cayo"}) {
		t.Fatalf("after it reached us, candidates %v, want [relay-cayo]", got)
	}
}

// A Toledo laptop and HQ keep different scopes, so their vector digests
// never match: after a good session, HQ is left alone until either
// digest moves (or a minute passes), rather than synced with every round.
func TestInStepAfterASessionUntilADigestMoves(t *testing.T) {
	hq := member("hq", syncproto.RoleHQ, "Belize")
	n := &node{}
	l := New(Config{Self: Self{Role: syncproto.RoleField, District: "Toledo"}, Every: time.Second}, n, members{hq})
	ctx := context.Background()
	if got := names(l.candidates(ctx)); !slices.Equal(got, []string{"hq"}) {
		t.Fatalf("before any session, candidates %v, want [hq]", got)
	}
	l.round(ctx)
	l.sessions.Wait()
	if got := names(l.candidates(ctx)); len(got) != 0 {
		t.Fatalf("right after a good session with nothing new on either side, candidates %v", got)
	}
	hq.Vector = []byte("theirs, and one more record")
	l.members = members{hq}
	if got := names(l.candidates(ctx)); !slices.Equal(got, []string{"hq"}) {
		t.Fatalf("once HQ's digest moved, candidates %v, want [hq]", got)
	}
	l.round(ctx)
	l.sessions.Wait()
	l.peer(hq.Node).synced = time.Now().Add(-2 * refreshEvery)
	if got := names(l.candidates(ctx)); !slices.Equal(got, []string{"hq"}) {
		t.Fatalf("a minute after the last session, candidates %v, want [hq]", got)
	}
	n.mu.Lock()
	sessions := len(n.synced)
	n.mu.Unlock()
	if sessions != 2 {
		t.Fatalf("%d sessions, want 2", sessions)
	}
}

// joins is a membership whose Join says which addresses it was asked to
// try.
type joins struct {
	members
	tried chan []string
}

func (j joins) Join(addrs []string) (int, error) {
	j.tried <- addrs
	return 0, errors.New("no network here")
}

// A holder of the gossip key told of 10,000 members at addresses of its
// choosing, which then died, and HQ stopped too. A reconnection tries HQ
// first, and 16 addresses in all; the next tries 16 others. Before, each
// tried all 10,001, as fast as refusals came back, at every backoff.
func TestReconnectTriesAFewHQFirst(t *testing.T) {
	var ms members
	for i := range 10_000 {
		m := member(fmt.Sprintf("a-%05d", i), syncproto.RoleField, "Cayo")
		m.Addr, m.State = fmt.Sprintf("192.0.2.%d:%d", i%250+1, 7000+i), gossip.StateDead
		ms = append(ms, m)
	}
	hq := member("hq", syncproto.RoleHQ, "Belize")
	hq.Addr, hq.State = "10.0.0.1:7946", gossip.StateDead
	ms = append(ms, hq)
	j := joins{ms, make(chan []string, 1)}
	l := New(Config{Self: Self{Role: syncproto.RoleField, District: "Cayo"}, Every: time.Hour}, &node{}, j)
	seen := map[string]bool{}
	for round := range 2 {
		l.reconnect()
		tried := <-j.tried
		for l.reconnecting.Load() {
			runtime.Gosched()
		}
		if len(tried) != 16 {
			t.Fatalf("reconnection %d tried %d addresses, want 16", round+1, len(tried))
		}
		if round == 0 && tried[0] != hq.Addr {
			t.Fatalf("the first reconnection tried %s first, want HQ's %s", tried[0], hq.Addr)
		}
		for _, a := range tried {
			if seen[a] {
				t.Fatalf("reconnection %d tried %s again, within its backoff", round+1, a)
			}
			seen[a] = true
		}
	}
}

// holding is a node whose sessions with members named a-… hang until
// released: addresses whose handshakes never end.
type holding struct {
	*node
	release chan struct{}
}

func (h holding) Sync(ctx context.Context, m gossip.Member) error {
	if strings.HasPrefix(m.Name, "a-") {
		<-h.release
		return errors.New("no handshake")
	}
	return h.node.Sync(ctx, m)
}

// A laptop with no relay or HQ around syncs with the laptops near it. A
// holder of the gossip key tells of 1,000 more, named to come first, at
// addresses that never finish a handshake. The laptop's next round still
// syncs with the one it synced with before. Before, the first three of
// the thousand took every place for sessions, and the real laptop waited
// behind the rest.
func TestFieldPeersThatAnsweredComeFirst(t *testing.T) {
	near := member("cayo-02", syncproto.RoleField, "Cayo")
	n := holding{&node{}, make(chan struct{})}
	l := New(Config{Self: Self{Role: syncproto.RoleField, District: "Cayo"}, Every: time.Second}, n, members{near})
	ctx := context.Background()
	l.round(ctx)
	l.sessions.Wait()
	near.Vector = []byte("theirs, and one more record")
	var ms members // by name, as gossip lists them
	for i := range 1000 {
		ms = append(ms, member(fmt.Sprintf("a-%04d", i), syncproto.RoleField, "Cayo"))
	}
	l.members = append(ms, near)
	l.round(ctx)
	close(n.release)
	l.sessions.Wait()
	n.mu.Lock()
	defer n.mu.Unlock()
	if !slices.Equal(n.synced, []string{"cayo-02", "cayo-02"}) {
		t.Fatalf("sessions with %v, want cayo-02 twice", n.synced)
	}
}
