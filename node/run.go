package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"sync"
	"time"

	"lifeline/node/antientropy"
	"lifeline/node/gossip"
	"lifeline/node/identity"
	"lifeline/node/ledgerplane"
	"lifeline/node/port"
	"lifeline/syncproto"
)

// EventKind says what an Event reports.
type EventKind int

const (
	// EventChange: a change reached the store, from this process, another
	// process on the same data folder, or a peer.
	EventChange EventKind = iota
	// EventListening: the node serves sync at Addr.
	EventListening
	// EventSession: a sync session a peer opened has ended.
	EventSession
	// EventGossip: the node gossips at Addr.
	EventGossip
)

// Event is something a running node noticed.
type Event struct {
	Kind EventKind

	Change syncproto.Change
	// Via is the name on the certificate of the change's origin, which
	// vouches for its author; "" if this node does not hold it.
	Via string
	// New is set when the change created its record.
	New bool
	// Summary identifies the record in a line, in the node's language.
	Summary string
	// Skipped counts changes that arrived at once after this one and were
	// not reported one by one.
	Skipped int

	Addr    string       // EventListening
	Session SessionEvent // EventSession
}

// Daemon is a node while it runs: the services Start started, each with
// its Start and Stop, and what a caller may ask of them.
type Daemon struct {
	n      *Node
	notify func(Event)
	mu     sync.Mutex // serialises notify

	port   *port.Port
	gossip *gossip.Gossip
	disc   *discovery
	ae     *antientropy.Loop
	plane  *ledgerplane.Plane

	running []service // started, in order
	cancel  context.CancelCauseFunc
	ctx     context.Context
	done    chan struct{}
	err     error
}

// service is one part of a running node.
type service struct {
	name  string
	start func(ctx context.Context) error
	stop  func()
}

// Run keeps the node working until ctx ends: it is Start, then Wait.
func (n *Node) Run(ctx context.Context, notify func(Event)) error {
	d, err := n.Start(ctx, notify)
	if err != nil {
		return err
	}
	return d.Wait()
}

// Start starts the node's services, in order: the port at Config.SyncAddr
// if set, gossip at Config.GossipAddr if set, the ledger plane on relays
// and HQ that serve, anti-entropy with the peers gossip finds, and the
// watchers of the store (changes written by any process, changes held for
// a clock ahead, a key rotation asked for). It returns once all serve; if
// one fails to start, those started are stopped, in reverse. notify hears
// of what the node notices; it may be nil, and is called from several
// goroutines, one event at a time. A node runs in one process at a time:
// while another runs on the data folder, Start says so (ErrRunning).
func (n *Node) Start(ctx context.Context, notify func(Event)) (*Daemon, error) {
	unlock, err := lockRun(n.cfg.DataDir)
	if err != nil {
		return nil, err
	}
	n.readmit(ctx) // this build's kits may be those changes kept aside wait for
	// An HQ node passes on a notice of each of the ledger's revocations:
	// those kept before notices were are signed now.
	if err := n.signRevocations(ctx, syncproto.NodeID{}, 0, nil); err != nil {
		n.log.Warn("signing the ledger's revocations", "err", err)
	}
	d := &Daemon{n: n, notify: notify, done: make(chan struct{})}
	d.ctx, d.cancel = context.WithCancelCause(ctx)
	services, err := d.services()
	if err != nil {
		d.cancel(nil)
		unlock()
		return nil, err
	}
	for _, s := range services {
		if err := s.start(d.ctx); err != nil {
			d.stopAll()
			d.cancel(nil)
			unlock()
			return nil, err
		}
		d.running = append(d.running, s)
	}
	// A revocation a session or a bundle brings closes the revoked node's
	// connections here, as the ledger's does.
	drop := func(id syncproto.NodeID) {
		if d.port != nil {
			d.port.Drop(id)
		}
	}
	n.trust.dropper.Store(&drop)
	go func() {
		<-d.ctx.Done()
		n.trust.dropper.CompareAndSwap(&drop, nil)
		d.stopAll()
		unlock()
		if err := context.Cause(d.ctx); err != nil && !errors.Is(err, context.Canceled) {
			d.err = err
		}
		close(d.done)
	}()
	return d, nil
}

// Wait waits until the node stops: its context ended (nil), or a service
// failed (its error).
func (d *Daemon) Wait() error {
	<-d.done
	return d.err
}

// Stop stops the node and waits for it.
func (d *Daemon) Stop() error {
	d.cancel(nil)
	return d.Wait()
}

// fail stops the node for a service's error.
func (d *Daemon) fail(err error) { d.cancel(err) }

// stopAll stops the services started, in reverse order.
func (d *Daemon) stopAll() {
	for i := len(d.running) - 1; i >= 0; i-- {
		if d.running[i].stop != nil {
			d.running[i].stop()
		}
	}
	d.running = nil
}

func (d *Daemon) report(e Event) {
	if d.notify != nil {
		d.mu.Lock()
		defer d.mu.Unlock()
		d.notify(e)
	}
}

// services lists the node's services in the order they start. Each may
// rely on those before it.
func (d *Daemon) services() ([]service, error) {
	n := d.n
	cfg := n.cfg
	creds := n.Credentials()
	var list []service
	advertised := ""
	if cfg.SyncAddr != "" {
		if creds == nil {
			return nil, fmt.Errorf("%w: it cannot serve sync until it is enrolled (lifeline enroll)", ErrNotEnrolled)
		}
		d.port = port.New(n.portConfig(func(ev SessionEvent) { d.report(Event{Kind: EventSession, Session: ev}) }, d.fail))
		list = append(list, service{name: "port", start: func(context.Context) error {
			bound, err := d.port.Listen(cfg.SyncAddr)
			if err != nil {
				return err
			}
			advertised, err = n.advertise(bound)
			return err
		}, stop: func() { d.port.Stop() }})
	}
	if cfg.GossipAddr != "" {
		if creds == nil {
			return nil, fmt.Errorf("%w: it cannot gossip until it is enrolled (lifeline enroll)", ErrNotEnrolled)
		}
		self := n.Self()
		d.disc = &discovery{n: n}
		d.ae = antientropy.New(antientropy.Config{Self: antientropy.Self{ID: self.ID, Role: self.Role, District: self.District},
			Every: cfg.SyncEvery, Join: cfg.Join, Log: n.log}, d.disc, gossipMembers{d})
		d.disc.ae = d.ae
		list = append(list, service{name: "gossip", start: d.startGossip(&advertised), stop: d.stopGossip})
	}
	if cfg.SyncAddr != "" && n.Self().Role.InLedger() {
		list = append(list, service{name: "ledger", start: func(ctx context.Context) error {
			d.plane = ledgerplane.New(ledgerplane.Config{
				Dir: filepath.Join(cfg.DataDir, "raft"), Self: n.Self().ID, Addr: advertised, Bootstrap: cfg.Bootstrap, CA: creds.CA,
				Timers: ledgerplane.Timers{Heartbeat: cfg.Raft.Heartbeat, Election: cfg.Raft.Election, LeaderLease: cfg.Raft.LeaderLease,
					Commit: cfg.Raft.Commit, SnapshotThreshold: cfg.Raft.SnapshotThreshold, SegmentSize: cfg.Raft.SegmentSize},
				ProposeEvery: cfg.Raft.ProposeEvery, MembersEvery: cfg.Watch * 4,
				Store: n.store, Dialer: n.dialer(), Members: d.members(), OnApply: d.onApply, Log: n.log,
				Push: func(ctx context.Context, leader string) error {
					id, addr, err := ledgerplane.SplitAddress(leader)
					if err != nil {
						return err
					}
					_, err = n.syncWith(ctx, addr, id)
					return err
				},
			})
			if err := d.plane.Start(ctx); err != nil {
				return err
			}
			return n.enrollSelf(ctx)
		}, stop: func() { d.plane.Stop() }})
	}
	if d.port != nil {
		list = append(list, service{name: "serve", start: func(ctx context.Context) error {
			d.openDoors()
			if err := d.port.Start(ctx); err != nil {
				return err
			}
			d.report(Event{Kind: EventListening, Addr: d.port.Addr().String()})
			return nil
		}})
	}
	if d.ae != nil {
		list = append(list,
			service{name: "anti-entropy", start: d.ae.Start, stop: d.ae.Stop},
			d.every("gossip metadata", cfg.Watch*4, func(ctx context.Context) error {
				d.disc.refresh(ctx, d.gossip, d.ledgerStatus())
				return nil
			}),
		)
		if n.Self().Role.Decides() {
			list = append(list, d.every("key rotation", cfg.Watch*4, func(ctx context.Context) error { d.checkRotation(ctx); return nil }))
		}
	}
	if cfg.SyncAddr != "" && n.Self().Role.Decides() {
		list = append(list, d.every("receipts", cfg.Raft.ProposeEvery, n.signReceipts))
	}
	if creds != nil && n.Self().Role.Decides() {
		// Data keys for the nodes whose certificates came, and new ones
		// after a revocation: at start, then every 20 store-watcher ticks
		// (10 s by default): it reads every certificate the node holds.
		issue := func(ctx context.Context) error {
			if _, err := n.IssueGrants(ctx); err != nil && ctx.Err() == nil {
				n.log.Warn("data keys: grants not made", "err", err)
			}
			return nil
		}
		list = append(list, service{name: "data keys", start: issue}, d.every("data keys", cfg.Watch*20, issue))
	}
	watch, err := d.watcher()
	if err != nil {
		return nil, err
	}
	return append(list,
		d.every("store watcher", cfg.Watch, watch),
		d.every("held changes", releaseEvery, func(ctx context.Context) error {
			released, err := n.store.ReleaseHeld(ctx)
			if released > 0 {
				n.checkReceipts(ctx) // they arrive now
			}
			return err
		}),
	), nil
}

// openDoors says who may open each of the port's channels: any enrolled
// node a sync session (the handshake checked its certificate and that it
// is not revoked), only ledger members the ledger's channels, and only on
// nodes that run the ledger.
//
// Each channel has places of its own: sessions never take the ledger's.
// A member keeps a few Raft connections to another (a pool of three, a
// pipeline, a snapshot); a newer one replaces its oldest, which a link
// that broke leaves behind.
func (d *Daemon) openDoors() {
	d.port.Handle(port.Sync, d.n.syncDoor(d.serveSync))
	if d.n.Self().Role.InLedger() {
		d.port.Handle(port.Snapshot, d.n.snapshotDoor())
	}
	if d.plane == nil {
		return
	}
	d.port.Handle(port.Ledger, port.Door{Who: ledgerMember, ReplaceOldest: true,
		Max: d.n.cfg.MaxLedgerConns, PerPeer: ledgerConnsPerMember,
		Serve: func(ctx context.Context, conn net.Conn, peer identity.Claims) bool {
			keep := d.plane.ServeRaft(ctx, conn, peer)
			if keep {
				d.reached(peer)
			}
			return keep
		}})
	d.port.Handle(port.Propose, port.Door{Who: ledgerMember, Serve: d.plane.ServeProposal,
		Max: d.n.cfg.MaxLedgerConns, PerPeer: ledgerConnsPerMember})
}

// ledgerConnsPerMember bounds the connections one ledger member holds on
// a ledger channel.
const ledgerConnsPerMember = 8

// portConfig is the port's configuration from the node's. refused hears of
// connections refused before they reached a channel, failed of the error
// that stopped the port.
func (n *Node) portConfig(refused func(SessionEvent), failed func(error)) port.Config {
	cfg := n.cfg
	return port.Config{Creds: n.Credentials(), Log: n.log, Cut: cfg.Cut, Handshake: cfg.HandshakeTimeout,
		MaxHandshakes: cfg.MaxHandshakes, MaxPerAddr: cfg.MaxHandshakesPerAddr,
		Refused: func(addr string, peer identity.Claims, err error) {
			refused(SessionEvent{Addr: addr, Peer: peer, Err: err})
		},
		Failed: failed}
}

// syncDoor admits any enrolled node to a sync session, within the
// session's places and time.
func (n *Node) syncDoor(serve func(ctx context.Context, conn net.Conn, peer identity.Claims) bool) port.Door {
	return port.Door{Who: anyEnrolled, Serve: serve, ReplaceOldest: true,
		Max: n.cfg.MaxSessions, PerPeer: n.cfg.MaxSessionsPerPeer, MaxTime: n.cfg.MaxSessionTime}
}

// anyEnrolled admits every peer the TLS handshake admitted.
func anyEnrolled(identity.Claims) error { return nil }

// ledgerMember admits relays and HQ.
func ledgerMember(p identity.Claims) error {
	if !p.Role.InLedger() {
		return fmt.Errorf("a %s node takes no part in the ledger", p.Role)
	}
	return nil
}

func (d *Daemon) serveSync(ctx context.Context, conn net.Conn, peer identity.Claims) bool {
	ev := d.n.serveSync(ctx, conn, peer)
	if ev.Err == nil {
		d.reached(peer)
	}
	d.report(Event{Kind: EventSession, Session: ev})
	return false
}

// reached notes that a peer reached this node: whatever failed between
// them before works now.
func (d *Daemon) reached(peer identity.Claims) {
	if d.ae != nil {
		d.ae.Reached(peer.Node)
	}
}

// every is a service that runs fn every interval; an error from fn stops
// the node.
func (d *Daemon) every(name string, interval time.Duration, fn func(ctx context.Context) error) service {
	var stop context.CancelFunc
	done := make(chan struct{})
	return service{name: name, start: func(ctx context.Context) error {
		ctx, stop = context.WithCancel(ctx)
		go func() {
			defer close(done)
			t := time.NewTicker(interval)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					if err := fn(ctx); err != nil && ctx.Err() == nil {
						d.fail(fmt.Errorf("%s: %w", name, err))
						return
					}
				}
			}
		}()
		return nil
	}, stop: func() {
		stop()
		<-done
	}}
}

// SyncNow asks the node to look for peers and sync with them at once,
// those it backs off from included. It reports false when the node does
// not gossip (then sync with an address, or by bundle).
func (d *Daemon) SyncNow() bool {
	if d.ae == nil {
		return false
	}
	d.ae.RetryAll()
	return true
}

// Addr is the address the node serves at, "" when it serves nothing.
func (d *Daemon) Addr() string {
	if d.port == nil {
		return ""
	}
	return d.port.Addr().String()
}

// GossipAddr is the address the node gossips at, "" when it does not.
func (d *Daemon) GossipAddr() string {
	if d.gossip == nil {
		return ""
	}
	return d.gossip.Addr()
}

// Ledger is the node's Raft member, nil unless it runs as a relay or HQ
// that serves.
func (d *Daemon) Ledger() *ledgerplane.Member {
	if d.plane == nil {
		return nil
	}
	return d.plane.Member()
}

// Node is the node that runs.
func (d *Daemon) Node() *Node { return d.n }

// ledgerStatus is this node's part in the ledger, as it gossips it.
func (d *Daemon) ledgerStatus() ledgerplane.Status {
	if l := d.Ledger(); l != nil {
		return l.Status()
	}
	return ledgerplane.Status{}
}

// gossipMembers is gossip's membership for anti-entropy, which starts
// after gossip: each member as its certificate names it, so that peers are
// chosen by what they are, not by what they gossip.
type gossipMembers struct{ d *Daemon }

func (g gossipMembers) Members() []gossip.Member         { return g.d.disc.members(g.d.gossip) }
func (g gossipMembers) Join(addrs []string) (int, error) { return g.d.gossip.Join(addrs) }

// members lists what gossip knows, for the ledger plane; nil when the node
// does not gossip.
func (d *Daemon) members() func() []gossip.Member {
	if d.disc == nil {
		return nil
	}
	return func() []gossip.Member {
		if d.gossip == nil {
			return nil
		}
		return d.gossip.Members()
	}
}

// advertise is the address other nodes reach this one at: the configured
// one, or the bound one when it names a host.
func (n *Node) advertise(bound net.Addr) (string, error) {
	if n.cfg.AdvertiseAddr != "" {
		return n.cfg.AdvertiseAddr, nil
	}
	host, _, err := net.SplitHostPort(bound.String())
	if err != nil {
		return "", err
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() && !n.Self().Role.Field() {
		return "", fmt.Errorf("sync listens on all interfaces (%s): give the address other nodes reach it at with --advertise-addr", bound)
	}
	return bound.String(), nil
}
