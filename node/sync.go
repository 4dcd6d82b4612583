package node

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"lifeline/node/identity"
	"lifeline/node/peersync"
	"lifeline/syncproto"
)

// ErrNotEnrolled means the node has no certificate yet: it cannot sync.
var ErrNotEnrolled = identity.ErrNotEnrolled

// handshakeTimeout bounds a TLS handshake, so that a peer that connects and
// says nothing does not hold a session slot.
const handshakeTimeout = 30 * time.Second

// sessionConfig is this node's side of a sync session.
func (n *Node) sessionConfig() peersync.Config {
	self := n.Self()
	return peersync.Config{
		Hello: syncproto.Hello{Node: self.ID, Name: self.Name, Role: self.Role, District: self.District, Kits: n.kitsDigest()},
		Store: n.store, Trust: n.trust, Log: n.log,
		BatchChanges: n.cfg.BatchChanges, Idle: n.cfg.SyncIdle,
	}
}

// kitsDigest identifies the kits this node knows by name and version.
func (n *Node) kitsDigest() []byte {
	h := sha256.New()
	for _, k := range n.kits.Kits() {
		fmt.Fprintf(h, "%s %s\n", k.Name, k.Version)
	}
	return h.Sum(nil)
}

// Sync runs one session with the peer at addr (host:port) and returns what
// it did. The peer must present a certificate from this deployment's CA.
func (n *Node) Sync(ctx context.Context, addr string) (peersync.Result, error) {
	if n.creds == nil {
		return peersync.Result{}, fmt.Errorf("%w: enrol it first (lifeline enroll)", ErrNotEnrolled)
	}
	d := net.Dialer{Timeout: handshakeTimeout, KeepAlive: 30 * time.Second}
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return peersync.Result{}, fmt.Errorf("connect to %s: %w", addr, err)
	}
	defer raw.Close()
	conn := tls.Client(raw, n.creds.ClientTLS())
	hctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	err = conn.HandshakeContext(hctx)
	cancel()
	if err != nil {
		return peersync.Result{}, fmt.Errorf("TLS with %s: %w", addr, err)
	}
	peer, _ := identity.PeerClaims(conn.ConnectionState())
	res, err := peersync.Run(ctx, conn, n.sessionConfig())
	n.afterSession(ctx, peer, res, err)
	if err != nil {
		return res, fmt.Errorf("sync with %s (%s): %w", peer.Name, addr, err)
	}
	return res, nil
}

// afterSession logs a session and merges held changes whose predecessors
// it brought.
func (n *Node) afterSession(ctx context.Context, peer identity.Claims, res peersync.Result, err error) {
	if err != nil {
		n.log.Warn("sync failed", "peer", peer.String(), "err", err)
		return
	}
	n.log.Info("synced", "peer", peer.String(), "sent", res.Sent, "received", res.Received, "bytes_in", res.BytesIn, "bytes_out", res.BytesOut)
	if res.PeerHeld > 0 || res.Received > 0 {
		if _, err := n.store.ReleaseHeld(ctx); err != nil {
			n.log.Warn("merging held changes", "err", err)
		}
	}
}

// SessionEvent reports a sync session a serving node took part in.
type SessionEvent struct {
	Peer   identity.Claims
	Addr   string
	Result peersync.Result
	Err    error
}

// Serve accepts sync sessions at addr until ctx ends. ready, if not nil, is
// called with the address bound (useful with port 0); done, if not nil,
// with each session that ends. A session that fails, stalls or panics ends
// alone: the node goes on serving the others.
func (n *Node) Serve(ctx context.Context, addr string, ready func(net.Addr), done func(SessionEvent)) error {
	if n.creds == nil {
		return fmt.Errorf("%w: it cannot serve sync until it is enrolled (lifeline enroll)", ErrNotEnrolled)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("serve sync: %w", err)
	}
	defer ln.Close()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	if ready != nil {
		ready(ln.Addr())
	}
	slots := make(chan struct{}, n.cfg.MaxSessions)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		raw, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("serve sync: %w", err)
		}
		select {
		case slots <- struct{}{}:
		default:
			n.log.Warn("sync: too many sessions, refusing a connection", "from", raw.RemoteAddr().String())
			raw.Close()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			ev := n.serveOne(ctx, raw)
			if done != nil {
				done(ev)
			}
		}()
	}
}

func (n *Node) serveOne(ctx context.Context, raw net.Conn) (ev SessionEvent) {
	ev.Addr = raw.RemoteAddr().String()
	defer raw.Close()
	defer func() {
		if p := recover(); p != nil {
			ev.Err = fmt.Errorf("session panicked: %v", p)
			n.log.Error("sync session panicked", "from", ev.Addr, "panic", p, "stack", string(debug.Stack()))
		}
	}()
	conn := tls.Server(raw, n.creds.ServerTLS())
	hctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	err := conn.HandshakeContext(hctx)
	cancel()
	if err != nil {
		ev.Err = fmt.Errorf("TLS: %w", err)
		n.log.Warn("sync: refused a connection", "from", ev.Addr, "err", err)
		return ev
	}
	ev.Peer, _ = identity.PeerClaims(conn.ConnectionState())
	ev.Result, ev.Err = peersync.Run(ctx, conn, n.sessionConfig())
	n.afterSession(ctx, ev.Peer, ev.Result, ev.Err)
	return ev
}

// ExportBundle writes a bundle of what a node holding have lacks
// (everything for a nil vector) to w.
func (n *Node) ExportBundle(ctx context.Context, w io.Writer, have syncproto.Vector) (peersync.ExportResult, error) {
	if n.creds == nil {
		return peersync.ExportResult{}, fmt.Errorf("%w: a bundle is sealed with the node's certificate; enrol it first", ErrNotEnrolled)
	}
	return peersync.Export(ctx, w, n.sessionConfig(), have, func(msg []byte) []byte {
		return ed25519.Sign(n.key.Signer(), msg)
	})
}

// ImportBundle checks a bundle file whole and applies it.
func (n *Node) ImportBundle(ctx context.Context, path string) (peersync.ImportResult, error) {
	if n.creds == nil {
		return peersync.ImportResult{}, fmt.Errorf("%w: it cannot check a bundle's signatures until it is enrolled", ErrNotEnrolled)
	}
	f, err := os.Open(path)
	if err != nil {
		return peersync.ImportResult{}, err
	}
	defer f.Close()
	res, err := peersync.Import(ctx, f, n.store, n.trust)
	if err != nil {
		return res, err
	}
	if res.Held > 0 || res.Applied > 0 {
		if _, err := n.store.ReleaseHeld(ctx); err != nil {
			return res, err
		}
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
