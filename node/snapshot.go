package node

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"lifeline/node/identity"
	"lifeline/node/peersync"
	"lifeline/node/port"
	"lifeline/syncproto"
)

// Snapshots: a node that holds nothing of anyone else's yet (new, or
// wiped and enrolled again) starts from one transfer of what it keeps,
// written by a relay or headquarters for its certificate, checked whole
// against its origins' signatures and headquarters' receipts
// (peersync.ImportSnapshot), and applied in one transaction; a session then
// brings what came after. Over the network it is the port's snapshot
// channel; by stick, `lifeline snapshot export` and `snapshot import`.

// ExportSnapshot writes a snapshot for a node whose certificate claims
// `for`: every stream it keeps, whole, with headquarters' receipts of them,
// sealed by this node.
func (n *Node) ExportSnapshot(ctx context.Context, w io.Writer, to identity.Claims) (peersync.ExportResult, error) {
	if !n.Enrolled() {
		return peersync.ExportResult{}, fmt.Errorf("%w: a snapshot is sealed with the node's certificate; enroll it first", ErrNotEnrolled)
	}
	return peersync.Export(ctx, w, n.sessionConfig(to), nil, func(msg []byte) []byte {
		return ed25519.Sign(n.key.Signer(), msg)
	})
}

// ImportSnapshot checks a snapshot file whole and applies it; it is
// refused whole when it is not a whole snapshot of what this node keeps.
func (n *Node) ImportSnapshot(ctx context.Context, path string) (peersync.ImportResult, error) {
	return n.importFile(ctx, path, true)
}

// fresh says whether this node holds no change of another node's yet: it
// starts from a snapshot. Once it holds one it never is again.
func (n *Node) fresh(ctx context.Context) bool {
	if n.started.Load() {
		return false
	}
	v, err := n.store.Vector(ctx)
	if err != nil {
		return false
	}
	self := n.Self().ID
	for st, seq := range v {
		if seq > 0 && st.Origin != self {
			n.started.Store(true)
			return false
		}
	}
	return true
}

// snapshotDoor serves snapshots, on relays and headquarters: a couple at
// once, one per peer, each within a session's time.
func (n *Node) snapshotDoor() port.Door {
	return port.Door{Who: anyEnrolled, Max: 2, PerPeer: 1, MaxTime: n.cfg.MaxSessionTime,
		Serve: func(ctx context.Context, conn net.Conn, peer identity.Claims) bool {
			n.serveSnapshot(ctx, conn, peer)
			return false
		}}
}

// serveSnapshot writes a snapshot for the peer's certificate to its
// connection. A peer that stops reading for the idle time is left. A node
// that holds no receipt of headquarters of what the peer keeps (cut off
// from the ledger so far) has no snapshot to give: it closes the
// connection at once, and the peer syncs from the first change.
func (n *Node) serveSnapshot(ctx context.Context, conn net.Conn, peer identity.Claims) {
	if ok, err := n.hasReceiptsFor(ctx, peer); err != nil || !ok {
		return
	}
	w := bufio.NewWriterSize(idleWriter{conn: conn, idle: n.cfg.SyncIdle}, 64<<10)
	res, err := n.ExportSnapshot(ctx, w, peer)
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		n.log.Warn("a snapshot was not sent", "peer", peer.String(), "err", err)
		return
	}
	n.log.Info("sent a snapshot", "peer", peer.String(), "changes", res.Changes, "bytes", res.Bytes)
}

// hasReceiptsFor says whether this node holds a receipt of headquarters of
// a stream a peer keeps.
func (n *Node) hasReceiptsFor(ctx context.Context, peer identity.Claims) (bool, error) {
	rs, err := n.store.Receipts(ctx, syncproto.NodeID{}, false, nil, syncproto.MaxReceipts)
	if err != nil {
		return false, err
	}
	me, them := n.selfReach(), n.reach(peer)
	for _, r := range rs {
		if syncproto.Passes(me, them, r.Stream) {
			return true, nil
		}
	}
	return false, nil
}

// idleWriter gives each write the idle time to complete.
type idleWriter struct {
	conn net.Conn
	idle time.Duration
}

func (w idleWriter) Write(p []byte) (int, error) {
	w.conn.SetWriteDeadline(time.Now().Add(w.idle))
	return w.conn.Write(p)
}

// ErrSnapshotTooLarge: a peer's snapshot ran past what the node gives it
// (snapshotLimit).
var ErrSnapshotTooLarge = errors.New("the snapshot is larger than a bundle may be")

// errNoSnapshot: the peer closed the snapshot channel without a byte, as
// a node does that has no snapshot to give.
var errNoSnapshot = errors.New("the peer has no snapshot to give")

// snapshotFiles names the files a snapshot is read into.
const snapshotFiles = ".snapshot-*"

// receiveSnapshot reads a snapshot from a connection into a file beside
// the store, bounded in size and in time, applies it, and removes the
// file; it returns what the import did and the bytes read. It closes conn.
func (n *Node) receiveSnapshot(ctx context.Context, conn net.Conn, peer identity.Claims) (peersync.ImportResult, int64, error) {
	defer conn.Close()
	// A file a power cut left behind goes first.
	if old, _ := filepath.Glob(filepath.Join(n.cfg.DataDir, snapshotFiles)); len(old) > 0 {
		for _, p := range old {
			os.Remove(p)
		}
	}
	f, err := os.CreateTemp(n.cfg.DataDir, snapshotFiles)
	if err != nil {
		return peersync.ImportResult{}, 0, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	deadline := time.Now().Add(n.cfg.SyncMax)
	r := &idleReader{conn: conn, idle: n.cfg.SyncIdle, deadline: deadline}
	limit := snapshotLimit(n.cfg.DataDir)
	copied, err := io.Copy(f, io.LimitReader(r, limit+1))
	switch {
	case err != nil:
		return peersync.ImportResult{}, copied, fmt.Errorf("reading a snapshot from %s: %w", peer, err)
	case copied == 0:
		return peersync.ImportResult{}, 0, errNoSnapshot
	case copied > limit:
		return peersync.ImportResult{}, copied, fmt.Errorf("a snapshot from %s: %w (%d bytes, half the disk's free space or a bundle's limit)", peer, ErrSnapshotTooLarge, limit)
	}
	if err := f.Close(); err != nil {
		return peersync.ImportResult{}, copied, err
	}
	res, err := n.ImportSnapshot(ctx, f.Name())
	return res, copied, err
}

// snapshotLimit is the most a snapshot may take on disk: half the free
// space of the data folder's disk, and no more than a bundle. A peer that
// sends more is cut off before the node runs out of room for what its
// responders save.
func snapshotLimit(dir string) int64 {
	limit := int64(peersync.MaxBundleBytes)
	var fs syscall.Statfs_t
	if err := syscall.Statfs(dir, &fs); err == nil {
		if free := int64(fs.Bavail) * fs.Bsize / 2; free < limit {
			limit = free
		}
	}
	return limit
}

// idleReader gives each read the idle time to bring something, and all of
// them the deadline.
type idleReader struct {
	conn     net.Conn
	idle     time.Duration
	deadline time.Time
}

func (r *idleReader) Read(p []byte) (int, error) {
	d := time.Now().Add(r.idle)
	if d.After(r.deadline) {
		d = r.deadline
	}
	r.conn.SetReadDeadline(d)
	return r.conn.Read(p)
}
