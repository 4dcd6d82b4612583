package node

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
	"unicode/utf8"

	"lifeline/node/identity"
	"lifeline/node/peersync"
	"lifeline/node/port"
	"lifeline/node/store"
	"lifeline/syncproto"
)

// ErrNotEnrolled means the node has no certificate yet: it cannot sync.
var ErrNotEnrolled = identity.ErrNotEnrolled

// sessionConfig is this node's side of a sync session with a peer, as
// its certificate names it: the peer is offered what it keeps, and this
// node takes what it keeps (syncproto.Passes).
func (n *Node) sessionConfig(peer identity.Claims) peersync.Config {
	self := n.Self()
	me, them := n.selfReach(), n.reach(peer)
	return peersync.Config{
		Hello: syncproto.Hello{Node: self.ID, Name: self.Name, Role: self.Role, District: self.District, Kits: n.kitsDigest()},
		Store: peerStore{n.store, peer}, Trust: n.trust, Log: n.log,
		BatchChanges: n.cfg.BatchChanges, Idle: n.cfg.SyncIdle, MaxDuration: n.cfg.SyncMax,
		Offer:  func(st syncproto.Stream) bool { return syncproto.Passes(me, them, st) },
		Take:   func(st syncproto.Stream) bool { return syncproto.Passes(them, me, st) },
		Photos: n.photoPeer(peer),
		Peer:   them,
	}
}

// kitsDigest identifies the kits this node knows by name and version.
func (n *Node) kitsDigest() []byte {
	h := sha256.New()
	for _, k := range n.Kits().Kits() {
		fmt.Fprintf(h, "%s %s\n", k.Name, k.Version)
	}
	return h.Sum(nil)
}

// dialer opens connections to other nodes' ports.
func (n *Node) dialer() port.Dialer {
	return port.Dialer{Creds: n.Credentials(), Handshake: n.cfg.HandshakeTimeout, Cut: n.cfg.Cut}
}

// Sync runs one session with the peer at addr (host:port) and returns what
// it did. The peer must present a certificate from this deployment's CA.
func (n *Node) Sync(ctx context.Context, addr string) (peersync.Result, error) {
	return n.syncWith(ctx, addr, syncproto.NodeID{})
}

// ErrNotWhoWasMeant: the node that answered at an address is not the one
// gossip or the ledger said is there.
var ErrNotWhoWasMeant = errors.New("another node answered")

// syncWith runs one session with the node at addr, which must be expect
// unless expect is zero.
func (n *Node) syncWith(ctx context.Context, addr string, expect syncproto.NodeID) (peersync.Result, error) {
	// A node that holds nothing of anyone else's yet asks a relay or
	// headquarters for a snapshot first, on the same handshake, and then
	// syncs what came after.
	// One snapshot at a time: sessions started meanwhile sync as usual.
	fresh := n.fresh(ctx) && n.snapping.CompareAndSwap(false, true)
	if fresh {
		defer n.snapping.Store(false)
	}
	conn, peer, err := n.dialer().DialChoosing(ctx, addr, func(p identity.Claims) port.Channel {
		if fresh && p.Role.InLedger() && (expect.IsZero() || p.Node == expect) {
			return port.Snapshot
		}
		return port.Sync
	})
	// who checks that the node that answered is the one meant.
	who := func(peer identity.Claims) error {
		if expect.IsZero() || peer.Node == expect {
			return nil
		}
		conn.Close()
		n.log.Warn("refused a sync: another node answered", "addr", addr, "peer", peer.String(), "expected", expect.String())
		return fmt.Errorf("sync with %s: %w: %s, not node %s", addr, ErrNotWhoWasMeant, peer, expect)
	}
	if err != nil {
		return peersync.Result{}, err
	}
	if err := who(peer); err != nil {
		return peersync.Result{}, err
	}
	var snap peersync.ImportResult
	var snapBytes int64
	if fresh && peer.Role.InLedger() {
		snap, snapBytes, err = n.receiveSnapshot(ctx, conn, peer)
		switch {
		case errors.Is(err, errNoSnapshot):
		case err != nil:
			n.log.Warn("a snapshot was refused; syncing from the first change instead", "peer", peer.String(), "err", err)
		default:
			n.log.Info("started from a snapshot", "peer", peer.String(), "changes", snap.Changes, "new", snap.Applied)
		}
		if conn, peer, err = n.dialer().Dial(ctx, addr, port.Sync); err != nil {
			return peersync.Result{}, err
		}
		if err := who(peer); err != nil {
			return peersync.Result{}, err
		}
	}
	defer conn.Close()
	res, err := peersync.Run(ctx, conn, n.sessionConfig(peer))
	// What the snapshot brought was received too.
	res.Snapshot = snap.Applied
	res.Received += snap.Applied
	res.Duplicates += snap.Duplicates
	res.Revocations += snap.Revocations
	res.Receipts += snap.Receipts
	res.BytesIn += snapBytes
	// Who the peer is, the certificate says; its hello only claims it.
	res.Peer.Name, res.Peer.Role, res.Peer.District = peer.Name, peer.Role, peer.District
	n.afterSession(ctx, peer, addr, res, err)
	if err != nil {
		return res, fmt.Errorf("sync with %s (%s): %w", peer.Name, addr, err)
	}
	return res, nil
}

// afterSession logs a session and merges held changes whose predecessors
// it brought.
func (n *Node) afterSession(ctx context.Context, peer identity.Claims, addr string, res peersync.Result, err error) {
	p := store.Peer{Node: peer.Node, Name: peer.Name, Role: peer.Role, District: peer.District, Addr: addr, Seen: time.Now()}
	if err != nil {
		n.log.Warn("sync failed", "peer", peer.String(), "err", err)
		p.Error = peerError(err)
		if !peer.Node.IsZero() {
			n.store.PutPeer(ctx, p)
		}
		return
	}
	p.Synced = p.Seen
	if err := n.store.PutPeer(ctx, p); err != nil {
		n.log.Warn("recording a peer", "err", err)
	}
	n.log.Info("synced", "peer", peer.String(), "sent", res.Sent, "received", res.Received, "revocations", res.Revocations, "bytes_in", res.BytesIn, "bytes_out", res.BytesOut)
	if res.PeerHeld > 0 || res.Received > 0 {
		if _, err := n.store.ReleaseHeld(ctx); err != nil {
			n.log.Warn("merging held changes", "err", err)
		}
	}
	if res.Received > 0 {
		n.checkReceipts(ctx)
	}
}

// maxPeerError bounds the text kept of a failed session's error, which
// may quote what the peer said.
const maxPeerError = 300

// peerError is a failed session's error as the peers table keeps it:
// printable, and bounded.
func peerError(err error) string {
	s := err.Error()
	if len(s) > maxPeerError {
		cut := maxPeerError
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return Printable(s)
}

// SessionEvent reports a sync session a serving node took part in.
type SessionEvent struct {
	Peer   identity.Claims
	Addr   string
	Result peersync.Result
	Err    error
}

// serveSync runs a sync session a peer opened on the port.
func (n *Node) serveSync(ctx context.Context, conn net.Conn, peer identity.Claims) SessionEvent {
	ev := SessionEvent{Peer: peer, Addr: conn.RemoteAddr().String()}
	ev.Result, ev.Err = peersync.Run(ctx, conn, n.sessionConfig(peer))
	n.afterSession(ctx, peer, "", ev.Result, ev.Err)
	return ev
}

// Serve serves sync sessions, and nothing else, at addr until ctx ends.
// ready, if not nil, is called with the address bound (useful with port
// 0); done, if not nil, with each sync session that ends. A session that
// fails, stalls or panics ends alone: the node goes on serving the others.
func (n *Node) Serve(ctx context.Context, addr string, ready func(net.Addr), done func(SessionEvent)) error {
	creds := n.Credentials()
	if creds == nil {
		return fmt.Errorf("%w: it cannot serve sync until it is enrolled (lifeline enroll)", ErrNotEnrolled)
	}
	report := func(ev SessionEvent) {
		if done != nil {
			done(ev)
		}
	}
	failed := make(chan error, 1)
	p := port.New(n.portConfig(report, func(err error) { failed <- err }))
	p.Handle(port.Sync, n.syncDoor(func(ctx context.Context, conn net.Conn, peer identity.Claims) bool {
		report(n.serveSync(ctx, conn, peer))
		return false
	}))
	if n.Self().Role.InLedger() {
		p.Handle(port.Snapshot, n.snapshotDoor())
	}
	bound, err := p.Listen(addr)
	if err != nil {
		return err
	}
	if ready != nil {
		ready(bound)
	}
	if err := p.Start(ctx); err != nil {
		return err
	}
	defer p.Stop()
	select {
	case <-ctx.Done():
		return nil
	case err := <-failed:
		return err
	}
}

// ExportBundle writes a bundle of what a node holding have lacks
// (everything for a nil vector) to w.
func (n *Node) ExportBundle(ctx context.Context, w io.Writer, have syncproto.Vector) (peersync.ExportResult, error) {
	return n.exportBundle(ctx, w, have, nil)
}

// exportBundle is ExportBundle of the streams offer says (every one when
// nil).
func (n *Node) exportBundle(ctx context.Context, w io.Writer, have syncproto.Vector, offer func(syncproto.Stream) bool) (peersync.ExportResult, error) {
	if !n.Enrolled() {
		return peersync.ExportResult{}, fmt.Errorf("%w: a bundle is sealed with the node's certificate; enroll it first", ErrNotEnrolled)
	}
	cfg := n.sessionConfig(identity.Claims{Role: syncproto.RoleHQ})
	cfg.Offer = offer
	return peersync.Export(ctx, w, cfg, have, func(msg []byte) []byte {
		return ed25519.Sign(n.key.Signer(), msg)
	})
}

// ImportBundle checks a bundle file whole and applies it. A file
// encrypted for other nodes is refused (ErrNotForThisNode); a plain one,
// as Lifeline wrote them before they were encrypted, is read as it is.
func (n *Node) ImportBundle(ctx context.Context, path string) (peersync.ImportResult, error) {
	return n.importFile(ctx, path, false)
}

// maxRefusedOnStick bounds the origins whose streams a bundle's import
// leaves out for one not linking to the chains held here, each found by
// reading the file again.
const maxRefusedOnStick = 16

// importFile checks a bundle file whole, or a snapshot, and applies it.
// When a stream of a bundle does not link to the chain held here, its
// origin's streams are left out, and the file read again without them, as
// a session leaves them out: the origin signed two histories of it, and
// the bundle's writer holds the other one. A snapshot is taken whole or
// not at all.
func (n *Node) importFile(ctx context.Context, path string, snapshot bool) (peersync.ImportResult, error) {
	if !n.Enrolled() {
		return peersync.ImportResult{}, fmt.Errorf("%w: it cannot check a bundle's signatures until it is enrolled", ErrNotEnrolled)
	}
	refused := map[syncproto.NodeID]bool{}
	for {
		res, err := n.importOnce(ctx, path, snapshot, refused)
		var ce *store.ChainError
		if snapshot || !errors.As(err, &ce) || len(refused) >= maxRefusedOnStick {
			return res, err
		}
		n.log.Warn("a stream of the bundle does not link to the chain held here; its origin's left out", "file", path, "stream", ce.Dot.Stream().String(), "err", err)
		refused[ce.Dot.Origin] = true
	}
}

// importOnce is importFile of a bundle's streams but those of the origins
// refused.
func (n *Node) importOnce(ctx context.Context, path string, snapshot bool, refused map[syncproto.NodeID]bool) (peersync.ImportResult, error) {
	f, err := OpenFile(path)
	if err != nil {
		return peersync.ImportResult{}, err
	}
	defer f.Close()
	r, encrypted, err := n.openFile(ctx, f)
	if err != nil {
		return peersync.ImportResult{}, err
	}
	me := n.selfReach()
	// Who wrote it, for a relay to carry the writer's own streams, is its
	// certificate's say: the certificate travels in the bundle, checked
	// against the CA before the first batch. It is read once, not per
	// change.
	var from syncproto.Reach
	var fromOf []byte
	keep := func(writer []byte, st syncproto.Stream) bool {
		if writer != nil && fromOf == nil {
			fromOf = writer
			if c, err := n.trust.claims(writer); err == nil {
				from = n.reach(c)
			}
		}
		return syncproto.Passes(from, me, st) && !refused[st.Origin]
	}
	var res peersync.ImportResult
	if snapshot {
		res, err = peersync.ImportSnapshot(ctx, r, n.store, n.trust, keep)
	} else {
		res, err = peersync.ImportWithPhotos(ctx, r, n.store, n.trust, keep, n.readPhotoSection)
	}
	res.Encrypted = encrypted
	if !res.From.Node.IsZero() {
		// The seal is checked with the key of the node the hello names;
		// its name, role and district are its certificate's, not the
		// hello's.
		res.From.Name, res.From.Role, res.From.District = "", syncproto.RoleField, ""
		if c, ok, cerr := n.store.Node(ctx, res.From.Node); cerr == nil && ok {
			res.From.Name, res.From.Role, res.From.District = c.Name, c.Role, c.District
		}
	}
	if err != nil {
		return res, err
	}
	if res.Held > 0 || res.Applied > 0 {
		if _, err := n.store.ReleaseHeld(ctx); err != nil {
			return res, err
		}
		n.checkReceipts(ctx)
	}
	return res, nil
}

// WriteVector writes the node's version vector, for another node to export
// a bundle of only what this one lacks.
func (n *Node) WriteVector(ctx context.Context, w io.Writer) error {
	v, err := n.store.Vector(ctx)
	if err != nil {
		return err
	}
	b, err := syncproto.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append([]byte(peersync.VectorMagic), b...))
	return err
}

// ReadVector reads a vector file WriteVector wrote.
func ReadVector(r io.Reader) (syncproto.Vector, error) {
	data, err := io.ReadAll(io.LimitReader(r, syncproto.MaxFrame))
	if err != nil {
		return nil, err
	}
	rest, ok := bytes.CutPrefix(data, []byte(peersync.VectorMagic))
	if !ok {
		return nil, fmt.Errorf("not a Lifeline vector file (lifeline vector writes them)")
	}
	var v syncproto.Vector
	if err := syncproto.Unmarshal(rest, &v); err != nil {
		return nil, fmt.Errorf("vector file: %w", err)
	}
	return v, nil
}
