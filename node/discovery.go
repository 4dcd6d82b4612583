package node

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"lifeline/node/gossip"
	"lifeline/node/ledger"
	"lifeline/node/store"
	"lifeline/syncproto"
)

// discovery is the node's gossip membership and the anti-entropy loop it
// drives: the node keeps syncing with the peers it finds, relays and HQ
// first, backing off from those that fail, and at once with one that
// (re)appears.
type discovery struct {
	n     *Node
	g     *gossip.Gossip
	addr  string // this node's advertised sync address, "" if it serves none
	kick  chan struct{}
	mu    sync.Mutex
	peers map[syncproto.NodeID]*peerState
	// inflight are the peers a session runs with now.
	inflight map[syncproto.NodeID]bool
	sessions sync.WaitGroup
	digest   []byte // our vector's digest as last spread
	height   uint64

	// Reconnection to members declared dead (memberlist never probes them
	// again): one attempt at a time, in the background.
	reconnecting atomic.Bool
	lastTry      map[string]time.Time // by gossip address
	tries        map[string]int
}

type peerState struct {
	failures int
	next     time.Time // no attempt before
	ledger   uint64    // its ledger height at our last good session
	synced   time.Time
}

// startDiscovery joins the gossip on Config.GossipAddr.
func (n *Node) startDiscovery(syncAddr string) (*discovery, error) {
	d := &discovery{n: n, addr: syncAddr, kick: make(chan struct{}, 1), peers: map[syncproto.NodeID]*peerState{},
		inflight: map[syncproto.NodeID]bool{}, lastTry: map[string]time.Time{}, tries: map[string]int{}}
	prof, err := gossip.ProfileByName(n.cfg.GossipProfile)
	if err != nil {
		return nil, err
	}
	if n.cfg.GossipTimers != nil {
		prof = *n.cfg.GossipTimers
	}
	g, err := gossip.Start(gossip.Config{
		BindAddr: n.cfg.GossipAddr, Advertise: n.cfg.GossipAdvertise,
		KeyFile: filepath.Join(n.cfg.DataDir, gossip.KeyFile), Profile: prof,
		Meta: d.meta, OnMessage: n.onNotice, Events: d, Log: n.log,
	})
	if err != nil {
		return nil, fmt.Errorf("gossip: %w", err)
	}
	d.g = g
	return d, nil
}

// meta is what this node gossips about itself. Called by memberlist: it
// reads only what is cached here.
func (d *discovery) meta() gossip.Meta {
	self := d.n.Self()
	d.mu.Lock()
	defer d.mu.Unlock()
	m := gossip.Meta{Node: self.ID, Name: self.Name, Role: self.Role, District: self.District, SyncAddr: d.addr,
		Ledger: d.height, MinProto: syncproto.MinVersion, MaxProto: syncproto.MaxVersion, Vector: d.digest}
	switch {
	case self.Role.Field():
	case d.n.cfg.Voter:
		m.Raft = gossip.RaftVoter
	default:
		m.Raft = gossip.RaftNonvoter
	}
	return m
}

// Joined: a member is alive, new or back: meet it, and sync with it at once.
func (d *discovery) Joined(m gossip.Member) {
	d.seen(m)
	d.mu.Lock()
	if p := d.peers[m.Node]; p != nil {
		p.failures, p.next = 0, time.Time{}
	}
	d.mu.Unlock()
	d.wake()
}

// reached: a peer synced with this node by itself, so the link between
// them works again (a partition that gossip did not see healed): stop
// backing off from it, and sync with it at once if it is due.
func (d *discovery) reached(id syncproto.NodeID) { d.retry(&id) }

// retry ends the backoff from a peer (from every peer when id is nil) and
// wakes the sync loop if any was backed off from.
func (d *discovery) retry(id *syncproto.NodeID) {
	d.mu.Lock()
	waiting := false
	for pid, p := range d.peers {
		if (id == nil || pid == *id) && p.failures > 0 {
			p.failures, p.next, waiting = 0, time.Time{}, true
		}
	}
	d.mu.Unlock()
	if waiting || id == nil {
		d.wake()
	}
}

// Updated: a member's metadata changed (it holds new changes, its ledger
// moved).
func (d *discovery) Updated(m gossip.Member) {
	d.seen(m)
	d.wake()
}

// Left: the member is skipped while gone; status says so.
func (d *discovery) Left(m gossip.Member) {
	d.n.log.Info("gossip: a peer is gone", "peer", m.Name, "how", m.State)
	d.record(m, time.Time{})
}

func (d *discovery) seen(m gossip.Member) { d.record(m, time.Now()) }

func (d *discovery) record(m gossip.Member, seen time.Time) {
	if err := d.n.store.PutPeer(context.Background(), store.Peer{Node: m.Node, Name: m.Name, Role: m.Role, District: m.District,
		Addr: m.SyncAddr, Seen: seen, State: m.State}); err != nil {
		d.n.log.Debug("recording a peer", "err", err)
	}
}

func (d *discovery) wake() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// run joins the configured members, keeps the metadata current, adds
// ledger members (on the leader), and syncs.
func (d *discovery) run(ctx context.Context) {
	defer func() {
		if err := d.n.store.ForgetPeerStates(context.Background()); err != nil {
			d.n.log.Debug("clearing peer states", "err", err)
		}
	}()
	defer d.g.Shutdown()
	defer d.sessions.Wait() // they end with ctx
	d.join()
	tick := time.NewTicker(d.n.cfg.SyncEvery)
	defer tick.Stop()
	metaTick := time.NewTicker(d.n.cfg.Watch * 4)
	defer metaTick.Stop()
	for {
		select {
		case <-ctx.Done():
			d.g.Leave(time.Second)
			return
		case <-metaTick.C:
			d.refreshMeta(ctx)
			d.addLedgerMembers()
			d.checkRotation(ctx)
			continue
		case <-tick.C:
			d.reconnect()
		case <-d.kick:
		}
		d.syncRound(ctx)
	}
}

func (d *discovery) join() {
	if len(d.n.cfg.Join) == 0 {
		return
	}
	if _, err := d.g.Join(d.n.cfg.Join); err != nil {
		d.n.log.Info("gossip: no join address answered yet", "err", err)
	}
}

// reconnect tries again, with backoff, the members that stopped answering
// or left (a partition heals and a restarted HQ is found again without
// anyone typing an address; memberlist alone gives up on them), and the join
// addresses while none of the members they name is alive. It runs in the
// background: an address behind a cut link takes a timeout to fail.
func (d *discovery) reconnect() {
	now := time.Now()
	alive := 0
	var addrs []string
	for _, m := range d.g.Members() {
		switch {
		case m.Node == d.n.Self().ID:
		case m.State == gossip.StateAlive:
			alive++
			delete(d.tries, m.Addr)
		default:
			// Dead, or left: a node that said goodbye at shutdown comes
			// back at the same address, and one that joins nobody (the
			// first HQ) waits to be found.
			addrs = append(addrs, m.Addr)
		}
	}
	if alive == 0 {
		addrs = append(addrs, d.n.cfg.Join...)
	}
	var due []string
	for _, a := range addrs {
		if now.Sub(d.lastTry[a]) >= backoff(d.n.cfg.SyncEvery, d.tries[a]) {
			due = append(due, a)
		}
	}
	if len(due) == 0 || !d.reconnecting.CompareAndSwap(false, true) {
		return
	}
	for _, a := range due {
		d.lastTry[a] = now
		d.tries[a]++
	}
	go func() {
		defer d.reconnecting.Store(false)
		if n, err := d.g.Join(due); err != nil && n == 0 {
			d.n.log.Debug("gossip: no lost member answered yet", "tried", len(due), "err", err)
		}
	}()
}

// refreshMeta spreads a new vector digest or ledger height.
func (d *discovery) refreshMeta(ctx context.Context) {
	v, err := d.n.store.Vector(ctx)
	if err != nil {
		return
	}
	digest := gossip.VectorDigest(v)
	var height uint64
	if d.n.ledger != nil {
		height = d.n.ledger.Status().Height
	}
	d.mu.Lock()
	changed := string(digest) != string(d.digest) || height != d.height
	d.digest, d.height = digest, height
	d.mu.Unlock()
	if changed {
		if err := d.g.UpdateMeta(2 * time.Second); err != nil {
			d.n.log.Debug("gossip: spreading metadata", "err", err)
		}
	}
}

// addLedgerMembers puts relays and HQ that gossip says they take part in
// the ledger into its configuration. Only the leader changes it.
func (d *discovery) addLedgerMembers() {
	l := d.n.ledger
	if l == nil || !l.IsLeader() {
		return
	}
	members, err := l.Members()
	if err != nil {
		return
	}
	in := map[string]ledger.Member{}
	for _, m := range members {
		in[m.ID] = m
	}
	for _, m := range d.g.Members() {
		if m.State != gossip.StateAlive || m.Raft == gossip.RaftNone || m.SyncAddr == "" || m.Node == d.n.Self().ID || m.Leaving {
			continue
		}
		if !m.Role.InLedger() {
			continue
		}
		voter := m.Raft == gossip.RaftVoter
		if have, ok := in[m.Node.String()]; ok && have.Addr == m.SyncAddr && (have.Voter || !voter) {
			continue
		}
		if revoked, _ := d.n.store.Revoked(context.Background(), m.Node); revoked {
			continue
		}
		if err := l.AddMember(m.Node, m.SyncAddr, voter); err != nil {
			d.n.log.Warn("ledger: adding a member", "member", m.Name, "err", err)
		} else {
			d.n.log.Info("ledger: added a member", "member", m.Name, "voter", voter)
		}
	}
}

// syncRound syncs with the peers worth a session now.
func (d *discovery) syncRound(ctx context.Context) {
	for _, m := range d.candidates(ctx) {
		if ctx.Err() != nil {
			return
		}
		d.mu.Lock()
		busy := d.inflight[m.Node] || len(d.inflight) >= parallelSyncs
		if !busy {
			d.inflight[m.Node] = true
		}
		d.mu.Unlock()
		if busy {
			continue
		}
		// Sessions run on their own: a peer behind a link that just failed
		// holds its session until the dial times out, and must hold up
		// neither the other peers nor the next round.
		d.sessions.Add(1)
		go func() {
			defer d.sessions.Done()
			res, err := d.n.Sync(ctx, m.SyncAddr)
			d.mu.Lock()
			delete(d.inflight, m.Node)
			p := d.peer(m.Node)
			if err != nil {
				p.failures++
				p.next = time.Now().Add(backoff(d.n.cfg.SyncEvery, p.failures))
			} else {
				p.failures, p.next, p.ledger, p.synced = 0, time.Time{}, m.Ledger, time.Now()
			}
			d.mu.Unlock()
			if err == nil {
				d.n.log.Debug("synced", "peer", m.Name, "sent", res.Sent, "received", res.Received)
			}
		}()
	}
}

// parallelSyncs bounds the sessions the node starts by itself at once.
const parallelSyncs = 3

func (d *discovery) peer(id syncproto.NodeID) *peerState {
	p := d.peers[id]
	if p == nil {
		p = &peerState{}
		d.peers[id] = p
	}
	return p
}

// backoff doubles the wait after each failure, up to five minutes.
func backoff(base time.Duration, failures int) time.Duration {
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
func (d *discovery) candidates(ctx context.Context) []gossip.Member {
	self := d.n.Self()
	d.mu.Lock()
	ours := d.digest
	d.mu.Unlock()
	st, err := d.n.Status(ctx)
	if err != nil {
		return nil
	}
	var ledgerPeers, fieldPeers []gossip.Member
	now := time.Now()
	for _, m := range d.g.Members() {
		if m.Node == self.ID || m.State != gossip.StateAlive || m.SyncAddr == "" || m.Leaving {
			continue
		}
		if revoked, _ := d.n.store.Revoked(ctx, m.Node); revoked {
			continue
		}
		d.mu.Lock()
		p := d.peer(m.Node)
		wait := now.Before(p.next)
		stale := st.Unconfirmed > 0 && m.Ledger > p.ledger || now.Sub(p.synced) > refreshEvery
		d.mu.Unlock()
		if wait || (string(m.Vector) == string(ours) && !stale) {
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
		return fieldPeers
	}
	// Relays and HQ keep each other converged; field nodes come to them.
	return ledgerPeers
}

// Notices travel by gossip, signed, for nodes that are not in the ledger:
// revocations, and the steps of a gossip key rotation. ONLY APPEND.
const (
	noticeRevoke     uint8 = 1
	noticeKeyInstall uint8 = 2
	noticeKeyUse     uint8 = 3
	noticeKeyRemove  uint8 = 4
)

type notice struct {
	Kind   uint8            `cbor:"1,keyasint"`
	Body   []byte           `cbor:"2,keyasint"`
	Signer syncproto.NodeID `cbor:"3,keyasint"`
	Cert   []byte           `cbor:"4,keyasint"`
	Sig    []byte           `cbor:"5,keyasint"`
}

func noticeMessage(kind uint8, body []byte) []byte {
	return append([]byte("lifeline/notice/v1"), append([]byte{kind}, body...)...)
}

// broadcast signs and spreads a notice.
func (n *Node) broadcast(kind uint8, body []byte) error {
	if n.disc == nil || n.creds == nil {
		return nil
	}
	nt := notice{Kind: kind, Body: body, Signer: n.Self().ID, Cert: n.creds.Cert.Raw,
		Sig: ed25519.Sign(n.key.Signer(), noticeMessage(kind, body))}
	b, err := syncproto.Marshal(&nt)
	if err != nil {
		return err
	}
	return n.disc.g.Broadcast(b)
}

// onNotice checks and applies a notice another member spread.
func (n *Node) onNotice(msg []byte) {
	if err := n.applyNotice(msg); err != nil {
		n.log.Warn("gossip: refused a notice", "err", err)
	}
}

func (n *Node) applyNotice(msg []byte) error {
	var nt notice
	if err := syncproto.Unmarshal(msg, &nt); err != nil {
		return err
	}
	node, pub, err := n.trust.CheckCert(nt.Cert)
	if err != nil {
		return err
	}
	if node != nt.Signer || !ed25519.Verify(pub, noticeMessage(nt.Kind, nt.Body), nt.Sig) {
		return errors.New("a notice whose signature is not its signer's")
	}
	claims, err := n.trust.claims(nt.Cert)
	if err != nil {
		return err
	}
	ctx := context.Background()
	switch nt.Kind {
	case noticeRevoke:
		if claims.Role.Field() {
			return fmt.Errorf("a revocation signed by field node %s", claims.Name)
		}
		var r ledger.Revoke
		if err := syncproto.Unmarshal(nt.Body, &r); err != nil {
			return err
		}
		n.trust.forget(r.Node)
		return n.store.AddRevocation(ctx, r)
	case noticeKeyInstall, noticeKeyUse, noticeKeyRemove:
		if !claims.Role.Decides() {
			return fmt.Errorf("a gossip key notice signed by %s, not headquarters", claims)
		}
		return n.keyStep(nt.Kind, nt.Body)
	}
	return fmt.Errorf("a notice of unknown kind %d", nt.Kind)
}

// keyStep applies one step of a key rotation here.
func (n *Node) keyStep(kind uint8, key []byte) error {
	g := n.disc.g
	has := false
	for _, k := range g.Keys() {
		has = has || string(k) == string(key)
	}
	switch kind {
	case noticeKeyInstall:
		if has {
			return nil
		}
		return g.InstallKey(key)
	case noticeKeyUse:
		if !has {
			if err := g.InstallKey(key); err != nil {
				return err
			}
		}
		return g.UseKey(key)
	default:
		if !has || string(g.Keys()[0]) == string(key) {
			return nil
		}
		return g.RemoveKey(key)
	}
}

// RotateGossipKey replaces the deployment's gossip key without a restart,
// from headquarters: every member installs the new key, then uses it, then
// drops the old one, each step spread by gossip and given time to reach
// everyone (step). The CA folder's copy, which enrollments hand out, follows.
func (n *Node) RotateGossipKey(ctx context.Context, key []byte, step time.Duration) error {
	if !n.Self().Role.Decides() || n.disc == nil {
		return errors.New("gossip keys are rotated by a running HQ node")
	}
	old := n.disc.g.Keys()
	for _, s := range []struct {
		kind uint8
		key  []byte
	}{{noticeKeyInstall, key}, {noticeKeyUse, key}} {
		if err := n.broadcast(s.kind, s.key); err != nil {
			return err
		}
		if err := n.keyStep(s.kind, s.key); err != nil {
			return err
		}
		select {
		case <-time.After(step):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for _, k := range old {
		if err := n.broadcast(noticeKeyRemove, k); err != nil {
			return err
		}
		if err := n.keyStep(noticeKeyRemove, k); err != nil {
			return err
		}
	}
	if caKeys := filepath.Join(n.cfg.DataDir, CADir, gossip.KeyFile); fileExists(caKeys) {
		return gossip.WriteKeyFile(caKeys, [][]byte{key})
	}
	return nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// stateRotate is the node_state key through which the command line asks
// the running HQ node to rotate the gossip key.
const stateRotate = "gossip-rotate"

// RequestKeyRotation asks the running HQ node of this data folder to
// rotate the gossip key to a new one.
func (n *Node) RequestKeyRotation(ctx context.Context, step time.Duration) error {
	if !n.Self().Role.Decides() {
		return fmt.Errorf("only headquarters rotates the gossip key; %s is a %s node", n.Self().Name, n.Self().Role)
	}
	key, err := gossip.NewKey()
	if err != nil {
		return err
	}
	return n.store.SetState(ctx, stateRotate, base64.StdEncoding.EncodeToString(key)+" "+step.String())
}

// checkRotation starts a rotation the command line asked for.
func (d *discovery) checkRotation(ctx context.Context) {
	v, _, err := d.n.store.State(ctx, stateRotate)
	if err != nil || v == "" {
		return
	}
	d.n.store.SetState(ctx, stateRotate, "")
	var enc, stepText string
	fmt.Sscan(v, &enc, &stepText)
	key, err := base64.StdEncoding.DecodeString(enc)
	step, err2 := time.ParseDuration(stepText)
	if err != nil || err2 != nil {
		d.n.log.Error("gossip: a malformed key rotation request", "value", v)
		return
	}
	go func() {
		if err := d.n.RotateGossipKey(ctx, key, step); err != nil {
			d.n.log.Error("gossip: key rotation", "err", err)
		} else {
			d.n.log.Info("gossip: key rotated")
		}
	}()
}
