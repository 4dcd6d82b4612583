package antientropy

import (
	"context"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"lifeline/node/gossip"
	"lifeline/syncproto"
)

// Node is what anti-entropy needs of the node it runs for. Its methods are
// called from the loop and from sessions, concurrently; Sync blocks for
// the length of a session, the others are quick.
type Node interface {
	// Sync runs one session with a peer. It must end by a deadline of its
	// own, whatever the peer does: a session that never ends holds one of
	// the loop's Parallel places for good, and three of them stop the node
	// syncing at all.
	Sync(ctx context.Context, peer gossip.Member) error
	// AwaitsReceipts reports whether some of this node's own changes are
	// not known to be confirmed by the ledger yet.
	AwaitsReceipts(ctx context.Context) bool
	// Revoked reports whether headquarters revoked a node.
	Revoked(ctx context.Context, id syncproto.NodeID) bool
	// Digest is the digest of what this node holds, as it gossips it.
	Digest() []byte
}

// Members is the membership peers are chosen from: gossip's.
type Members interface {
	Members() []gossip.Member
	// Join contacts members at these gossip addresses.
	Join(addrs []string) (int, error)
}

// Self is who this node is: peers are chosen by role and district.
type Self struct {
	ID       syncproto.NodeID
	Role     syncproto.Role
	District string
}

// Config is the loop's.
type Config struct {
	Self Self
	// Every is how often the loop looks for peers (and at once when one
	// appears), and the first wait after a failure.
	Every time.Duration
	// Join lists gossip addresses tried again while no member is alive.
	Join []string
	Log  *slog.Logger
}

// Loop keeps the node syncing with the peers gossip finds: relays and HQ
// first, backing off from those that fail, at once with one that
// (re)appears, several sessions side by side.
type Loop struct {
	cfg     Config
	node    Node
	members Members
	kick    chan struct{}

	mu    sync.Mutex
	peers map[syncproto.NodeID]*peerState
	// inflight are the peers a session runs with now.
	inflight map[syncproto.NodeID]bool
	sessions sync.WaitGroup

	// Reconnection to members declared dead (memberlist never probes them
	// again): one attempt at a time, in the background.
	reconnecting atomic.Bool
	lastTry      map[string]time.Time // by gossip address
	tries        map[string]int

	stop context.CancelFunc
	done chan struct{}
}

type peerState struct {
	failures int
	next     time.Time // no attempt before
	ledger   uint64    // its ledger height at our last good session
	synced   time.Time
	// theirs and ours are the vector digests both sides gossiped when our
	// last good session with it began. Two nodes that keep different
	// scopes never gossip equal digests; once a session has passed what
	// one keeps of the other, another is needed only when either digest
	// moves.
	theirs, ours []byte
}

// New makes the loop; Start runs it.
func New(cfg Config, node Node, members Members) *Loop {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Loop{cfg: cfg, node: node, members: members, kick: make(chan struct{}, 1),
		peers: map[syncproto.NodeID]*peerState{}, inflight: map[syncproto.NodeID]bool{},
		lastTry: map[string]time.Time{}, tries: map[string]int{}}
}

// Start joins the configured members and runs the loop until Stop.
func (l *Loop) Start(ctx context.Context) error {
	ctx, l.stop = context.WithCancel(ctx)
	l.done = make(chan struct{})
	go func() {
		defer close(l.done)
		l.run(ctx)
	}()
	return nil
}

// Stop ends the loop and waits for its sessions.
func (l *Loop) Stop() {
	if l.stop != nil {
		l.stop()
		<-l.done
	}
}

// Joined: a member is alive, new or back: sync with it at once.
func (l *Loop) Joined(id syncproto.NodeID) {
	l.mu.Lock()
	if p := l.peers[id]; p != nil {
		p.failures, p.next = 0, time.Time{}
	}
	l.mu.Unlock()
	l.Wake()
}

// Reached: a peer reached this node by itself (it synced, or Raft
// reconnected), so the link between them works again (a partition that
// gossip did not see healed): stop backing off from it, and sync with it
// at once if it is due.
func (l *Loop) Reached(id syncproto.NodeID) { l.retry(&id) }

// RetryAll ends the backoff from every peer and looks for peers at once.
func (l *Loop) RetryAll() { l.retry(nil) }

// retry ends the backoff from a peer (from every peer when id is nil) and
// wakes the loop if any was backed off from.
func (l *Loop) retry(id *syncproto.NodeID) {
	l.mu.Lock()
	waiting := false
	for pid, p := range l.peers {
		if (id == nil || pid == *id) && p.failures > 0 {
			p.failures, p.next, waiting = 0, time.Time{}, true
		}
	}
	l.mu.Unlock()
	if waiting || id == nil {
		l.Wake()
	}
}

// Wake makes the loop look for peers now (a member's metadata changed: it
// holds new changes, its ledger moved).
func (l *Loop) Wake() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

func (l *Loop) run(ctx context.Context) {
	defer l.sessions.Wait() // they end with ctx
	l.join()
	tick := time.NewTicker(l.cfg.Every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			l.reconnect()
		case <-l.kick:
		}
		l.round(ctx)
	}
}

func (l *Loop) join() {
	if len(l.cfg.Join) == 0 {
		return
	}
	if _, err := l.members.Join(l.cfg.Join); err != nil {
		l.cfg.Log.Info("gossip: no join address answered yet", "err", err)
	}
}

// MaxReconnect bounds the addresses reconnect tries at a tick. Anyone
// holding the gossip key can tell of members by the thousand, at addresses
// of its choosing, which then die: without a bound, every node would dial
// each of them, as fast as refusals came back, every few minutes for the
// day gossip remembers them.
const MaxReconnect = 16

// reconnect tries again, with backoff, the members that stopped answering
// or left (a partition heals and a restarted HQ is found again without
// anyone typing an address; memberlist alone gives up on them), and the join
// addresses while none of the members they name is alive: those first,
// then relays and HQ, then field laptops, MaxReconnect at most. It runs in
// the background: an address behind a cut link takes a timeout to fail.
func (l *Loop) reconnect() {
	now := time.Now()
	alive := 0
	var ledger, field []string
	for _, m := range l.members.Members() {
		switch {
		case m.Node == l.cfg.Self.ID:
		case m.State == gossip.StateAlive:
			alive++
			delete(l.tries, m.Addr)
		case m.Role.Field():
			field = append(field, m.Addr)
		default:
			// Dead, or left: a node that said goodbye at shutdown comes
			// back at the same address, and one that joins nobody (the
			// first HQ) waits to be found.
			ledger = append(ledger, m.Addr)
		}
	}
	var addrs []string
	if alive == 0 {
		addrs = append(addrs, l.cfg.Join...)
	}
	addrs = append(append(addrs, ledger...), field...)
	var due []string
	for _, a := range addrs {
		if len(due) < MaxReconnect && now.Sub(l.lastTry[a]) >= Backoff(l.cfg.Every, l.tries[a]) {
			due = append(due, a)
		}
	}
	if len(due) == 0 || !l.reconnecting.CompareAndSwap(false, true) {
		return
	}
	for _, a := range due {
		l.lastTry[a] = now
		l.tries[a]++
	}
	go func() {
		defer l.reconnecting.Store(false)
		if n, err := l.members.Join(due); err != nil && n == 0 {
			l.cfg.Log.Debug("gossip: no lost member answered yet", "tried", len(due), "err", err)
		}
	}()
}

// Parallel bounds the sessions the loop runs at once.
const Parallel = 3

// round syncs with the peers worth a session now.
func (l *Loop) round(ctx context.Context) {
	for _, m := range l.candidates(ctx) {
		if ctx.Err() != nil {
			return
		}
		l.mu.Lock()
		busy := l.inflight[m.Node] || len(l.inflight) >= Parallel
		if !busy {
			l.inflight[m.Node] = true
		}
		l.mu.Unlock()
		if busy {
			continue
		}
		// Sessions run on their own: a peer behind a link that just failed
		// holds its session until the dial times out, and must hold up
		// neither the other peers nor the next round.
		l.sessions.Add(1)
		ours := l.node.Digest()
		go func() {
			defer l.sessions.Done()
			err := l.node.Sync(ctx, m)
			l.mu.Lock()
			delete(l.inflight, m.Node)
			p := l.peer(m.Node)
			if err != nil {
				p.failures++
				p.next = time.Now().Add(Backoff(l.cfg.Every, p.failures))
			} else {
				p.failures, p.next, p.ledger, p.synced = 0, time.Time{}, m.Ledger, time.Now()
				p.theirs, p.ours = m.Vector, ours
			}
			l.mu.Unlock()
		}()
	}
}

func (l *Loop) peer(id syncproto.NodeID) *peerState {
	p := l.peers[id]
	if p == nil {
		p = &peerState{}
		l.peers[id] = p
	}
	return p
}

// Backoff doubles the wait after each failure, up to five minutes.
func Backoff(base time.Duration, failures int) time.Duration {
	d := base
	for i := 1; i < failures && d < 5*time.Minute; i++ {
		d *= 2
	}
	return min(d, 5*time.Minute)
}

// refreshEvery: even with nothing to exchange, a node syncs now and then
// with a relay or HQ whose ledger moved, to learn its receipts.
const refreshEvery = time.Minute

// candidates picks the peers to sync with: alive, serving, not revoked, not
// backing off; whose vector differs from ours, or whose ledger moved while
// we wait for receipts. Relays and HQ first: a field node syncs with the
// best two of them, and with field peers only when none is around.
func (l *Loop) candidates(ctx context.Context) []gossip.Member {
	self := l.cfg.Self
	ours := l.node.Digest()
	awaiting := l.node.AwaitsReceipts(ctx)
	var ledgerPeers, fieldPeers []gossip.Member
	lastGood := map[syncproto.NodeID]time.Time{}
	now := time.Now()
	for _, m := range l.members.Members() {
		if m.Node == self.ID || m.State != gossip.StateAlive || m.SyncAddr == "" || m.Leaving {
			continue
		}
		if l.node.Revoked(ctx, m.Node) {
			continue
		}
		l.mu.Lock()
		p := l.peer(m.Node)
		wait := now.Before(p.next)
		stale := awaiting && m.Ledger > p.ledger || now.Sub(p.synced) > refreshEvery
		inStep := string(m.Vector) == string(ours) || p.theirs != nil && string(m.Vector) == string(p.theirs) && string(ours) == string(p.ours)
		lastGood[m.Node] = p.synced
		l.mu.Unlock()
		if wait || (inStep && !stale) {
			continue
		}
		if m.Role.Field() {
			fieldPeers = append(fieldPeers, m)
		} else {
			ledgerPeers = append(ledgerPeers, m)
		}
	}
	// A relay or HQ: HQ first, then its own district's relays. A field
	// node: its own district's relay and HQ first (the nearest, over the
	// fewest links), then HQ.
	sort.Slice(ledgerPeers, func(i, j int) bool {
		a, b := ledgerPeers[i], ledgerPeers[j]
		hqFirst := func() (bool, bool) {
			return (a.Role == syncproto.RoleHQ) != (b.Role == syncproto.RoleHQ), a.Role == syncproto.RoleHQ
		}
		nearFirst := func() (bool, bool) {
			return (a.District == self.District) != (b.District == self.District), a.District == self.District
		}
		order := []func() (bool, bool){hqFirst, nearFirst}
		if self.Role.Field() {
			order = []func() (bool, bool){nearFirst, hqFirst}
		}
		for _, by := range order {
			if differ, less := by(); differ {
				return less
			}
		}
		return a.Name < b.Name
	})
	if self.Role.Field() {
		if len(ledgerPeers) > 0 {
			return ledgerPeers[:min(2, len(ledgerPeers))]
		}
		// The field peers a session went well with latest first: anyone
		// holding the gossip key can tell of members by the thousand that
		// never answer, and those would take every place for sessions.
		slices.SortStableFunc(fieldPeers, func(a, b gossip.Member) int { return lastGood[b.Node].Compare(lastGood[a.Node]) })
		return fieldPeers
	}
	// Relays and HQ keep each other converged; field nodes come to them.
	return ledgerPeers
}
