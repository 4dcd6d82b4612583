package node

import (
	"context"
	"fmt"
	"sync"
	"time"

	"lifeline/node/antientropy"
	"lifeline/node/gossip"
	"lifeline/node/identity"
	"lifeline/node/ledgerplane"
	"lifeline/node/store"
	"lifeline/syncproto"
)

// discovery is the node's side of gossip while it runs: what it says of
// itself (its metadata), what it does with what it hears of others (it
// records them, and wakes anti-entropy), and what anti-entropy asks of the
// node (antientropy.Node).
type discovery struct {
	n    *Node
	ae   *antientropy.Loop
	addr string // this node's advertised sync address, "" if it serves none

	mu     sync.Mutex
	digest []byte // our vector's digest as last spread
	height uint64
	voter  bool
	// certs are who the nodes whose certificates this node holds, or a
	// session showed, are: gossip's word on a member's role or name is
	// replaced by its certificate's.
	certs map[syncproto.NodeID]identity.Claims
	// lied are the members already logged for gossiping a role their
	// certificate does not give them.
	lied map[syncproto.NodeID]bool
}

// loadCerts reads who the nodes whose certificates this node holds are,
// and the peers a session met, as the handshake's certificate named them.
func (d *discovery) loadCerts(ctx context.Context) {
	known, err := d.n.store.Nodes(ctx)
	if err != nil {
		return
	}
	met, err := d.n.store.Peers(ctx)
	if err != nil {
		return
	}
	certs := make(map[syncproto.NodeID]identity.Claims, len(known)+len(met))
	for _, p := range met {
		// A peer's row is named only by a certificate: a session's, or
		// one this node holds (record).
		if p.Name != "" {
			certs[p.Node] = identity.Claims{Node: p.Node, Name: p.Name, Role: p.Role, District: p.District}
		}
	}
	for _, k := range known {
		certs[k.Node] = identity.Claims{Node: k.Node, Name: k.Name, Role: k.Role, District: k.District}
	}
	d.mu.Lock()
	d.certs = certs
	d.mu.Unlock()
}

// members lists gossip's members as their certificates say they are: a
// role or name gossip gives that the certificate does not is ignored (and
// logged once); a member whose certificate this node has not seen yet is
// taken for a field laptop until a session shows its certificate.
func (d *discovery) members(g *gossip.Gossip) []gossip.Member {
	ms := g.Members()
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := range ms {
		m := &ms[i]
		c, known := d.certs[m.Node]
		if !known {
			m.Role = syncproto.RoleField
			continue
		}
		if (c.Role != m.Role || c.Name != m.Name) && !d.lied[m.Node] {
			if d.lied == nil {
				d.lied = map[syncproto.NodeID]bool{}
			}
			d.lied[m.Node] = true
			d.n.log.Warn("gossip: a member says it is what its certificate does not", "member", m.Name, "gossiped", string(m.Role), "certificate", c.String())
		}
		m.Role, m.Name, m.District = c.Role, c.Name, c.District
	}
	return ms
}

// startGossip joins the gossip on Config.GossipAddr.
func (d *Daemon) startGossip(syncAddr *string) func(context.Context) error {
	return func(ctx context.Context) error {
		n := d.n
		d.disc.addr = *syncAddr
		d.disc.loadCerts(ctx)
		prof, err := gossip.ProfileByName(n.cfg.GossipProfile)
		if err != nil {
			return err
		}
		if n.cfg.GossipTimers != nil {
			prof = *n.cfg.GossipTimers
		}
		g, err := gossip.Start(gossip.Config{
			BindAddr: n.cfg.GossipAddr, Advertise: n.cfg.GossipAdvertise,
			Keys: n.gossipKeys(), Profile: prof,
			Meta: d.disc.meta, OnMessage: d.applyNotice, Events: d.disc, Log: n.log,
		})
		if err != nil {
			return fmt.Errorf("gossip: %w", err)
		}
		d.gossip = g
		d.report(Event{Kind: EventGossip, Addr: g.Addr()})
		return nil
	}
}

// stopGossip says goodbye and leaves.
func (d *Daemon) stopGossip() {
	d.gossip.Leave(time.Second)
	d.gossip.Shutdown()
	if err := d.n.store.ForgetPeerStates(context.Background()); err != nil {
		d.n.log.Debug("clearing peer states", "err", err)
	}
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
	case d.voter:
		m.Raft = gossip.RaftVoter
	default:
		m.Raft = gossip.RaftNonvoter
	}
	return m
}

// refresh spreads a new vector digest, ledger height or vote.
func (d *discovery) refresh(ctx context.Context, g *gossip.Gossip, l ledgerplane.Status) {
	v, err := d.n.store.Vector(ctx)
	if err != nil {
		return
	}
	digest := gossip.VectorDigest(v)
	d.loadCerts(ctx)
	d.mu.Lock()
	changed := string(digest) != string(d.digest) || l.Height != d.height || l.Voter != d.voter
	d.digest, d.height, d.voter = digest, l.Height, l.Voter
	d.mu.Unlock()
	if changed {
		if err := g.UpdateMeta(2 * time.Second); err != nil {
			d.n.log.Debug("gossip: spreading metadata", "err", err)
		}
	}
}

// Joined: a member is alive, new or back: meet it, and sync with it at once.
func (d *discovery) Joined(m gossip.Member) {
	d.record(m, time.Now())
	d.ae.Joined(m.Node)
}

// Updated: a member's metadata changed (it holds new changes, its ledger
// moved).
func (d *discovery) Updated(m gossip.Member) {
	d.record(m, time.Now())
	d.ae.Wake()
}

// Left: the member is skipped while gone; status says so.
func (d *discovery) Left(m gossip.Member) {
	d.n.log.Info("gossip: a peer is gone", "peer", m.Name, "how", m.State)
	d.record(m, time.Time{})
}

func (d *discovery) record(m gossip.Member, seen time.Time) {
	// Gossip's name, role and district are the member's own claims: only
	// a certificate's are recorded, none for a member whose certificate is
	// not known yet (a session records it).
	d.mu.Lock()
	c, known := d.certs[m.Node]
	d.mu.Unlock()
	m.Role, m.Name, m.District = "", "", ""
	if known {
		m.Role, m.Name, m.District = c.Role, c.Name, c.District
	}
	if err := d.n.store.PutPeer(context.Background(), store.Peer{Node: m.Node, Name: m.Name, Role: m.Role, District: m.District,
		Addr: m.SyncAddr, Gossiped: true, Seen: seen, State: m.State}); err != nil {
		d.n.log.Debug("recording a peer", "err", err)
	}
}

// Sync runs a session with a peer gossip found, which must be the node
// gossip says is there. It ends by SyncMax from the dial: a peer that never
// finishes its handshake, or holds the session open, does not keep one of
// anti-entropy's few places for sessions.
func (d *discovery) Sync(ctx context.Context, m gossip.Member) error {
	ctx, cancel := context.WithTimeout(ctx, d.n.cfg.SyncMax)
	defer cancel()
	res, err := d.n.syncWith(ctx, m.SyncAddr, m.Node)
	if err == nil {
		d.n.log.Debug("synced", "peer", m.Name, "sent", res.Sent, "received", res.Received)
	}
	return err
}

// AwaitsReceipts reports whether some of this node's changes are not known
// to be confirmed.
func (d *discovery) AwaitsReceipts(ctx context.Context) bool {
	u, err := d.n.unconfirmed(ctx)
	return err == nil && u > 0
}

// Revoked reports whether this node knows a node was revoked.
func (d *discovery) Revoked(ctx context.Context, id syncproto.NodeID) bool {
	revoked, _ := d.n.store.Revoked(ctx, id)
	return revoked
}

// Digest is our vector's digest as last spread.
func (d *discovery) Digest() []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.digest
}
