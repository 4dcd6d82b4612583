package node

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"sync"
	"time"

	"lifeline/node/identity"
	"lifeline/node/ledger"
	"lifeline/node/peersync"
	"lifeline/syncproto"
)

// Every connection to a node is mutual TLS on one port. Its first byte
// after the handshake says what it is for. ONLY APPEND TO THIS LIST.
const (
	chanSync    byte = 'S' // a sync session (peersync)
	chanLedger  byte = 'L' // Raft's transport, relays and HQ only
	chanPropose byte = 'P' // a ledger command for the leader, relays and HQ only
)

// errCut is a link a test cut.
var errCut = errors.New("link cut")

// cuttable makes a long-lived connection fail once a test cuts its link.
func (n *Node) cuttable(c net.Conn, peer string) net.Conn {
	if n.cfg.Cut == nil {
		return c
	}
	return &cutConn{Conn: c, cut: func() bool { return n.cfg.Cut(peer) }}
}

type cutConn struct {
	net.Conn
	cut func() bool
}

func (c *cutConn) Read(p []byte) (int, error) {
	if c.cut() {
		c.Conn.Close()
		return 0, errCut
	}
	return c.Conn.Read(p)
}

func (c *cutConn) Write(p []byte) (int, error) {
	if c.cut() {
		c.Conn.Close()
		return 0, errCut
	}
	return c.Conn.Write(p)
}

// dialTLS opens a mutually authenticated connection to a peer and asks for
// a channel.
func (n *Node) dialTLS(ctx context.Context, addr string, channel byte) (*tls.Conn, identity.Claims, error) {
	if n.creds == nil {
		return nil, identity.Claims{}, fmt.Errorf("%w: enroll it first (lifeline enroll)", ErrNotEnrolled)
	}
	d := net.Dialer{Timeout: handshakeTimeout, KeepAlive: 30 * time.Second}
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, identity.Claims{}, fmt.Errorf("connect to %s: %w", addr, err)
	}
	conn := tls.Client(raw, n.creds.ClientTLS())
	hctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	err = conn.HandshakeContext(hctx)
	cancel()
	if err != nil {
		raw.Close()
		return nil, identity.Claims{}, fmt.Errorf("TLS with %s: %w", addr, err)
	}
	peer, _ := identity.PeerClaims(conn.ConnectionState())
	if n.cfg.Cut != nil && n.cfg.Cut(peer.Name) {
		conn.Close()
		return nil, peer, fmt.Errorf("connect to %s: %w", addr, errCut)
	}
	conn.SetWriteDeadline(time.Now().Add(handshakeTimeout))
	if _, err := conn.Write([]byte{channel}); err != nil {
		conn.Close()
		return nil, peer, fmt.Errorf("%s: %w", addr, err)
	}
	conn.SetWriteDeadline(time.Time{})
	return conn, peer, nil
}

// serve accepts connections until ctx ends.
func (n *Node) serve(ctx context.Context, ln net.Listener, done func(SessionEvent)) error {
	defer ln.Close()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
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
			n.log.Warn("sync: too many connections, refusing one", "from", raw.RemoteAddr().String())
			raw.Close()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			released := false
			release := func() {
				if !released {
					released = true
					<-slots
				}
			}
			defer release()
			ev, isSync := n.handle(ctx, raw, release)
			if isSync && done != nil {
				done(ev)
			}
		}()
	}
}

// handle runs one accepted connection: the handshake, the channel byte,
// then the channel's work. release frees the connection's slot early, for
// long-lived ledger connections.
func (n *Node) handle(ctx context.Context, raw net.Conn, release func()) (ev SessionEvent, isSync bool) {
	ev.Addr = raw.RemoteAddr().String()
	keep := false
	defer func() {
		if !keep {
			raw.Close()
		}
	}()
	defer func() {
		if p := recover(); p != nil {
			ev.Err = fmt.Errorf("connection panicked: %v", p)
			n.log.Error("connection panicked", "from", ev.Addr, "panic", p, "stack", string(debug.Stack()))
		}
	}()
	conn := tls.Server(raw, n.creds.ServerTLS())
	hctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	err := conn.HandshakeContext(hctx)
	cancel()
	if err != nil {
		ev.Err = fmt.Errorf("TLS: %w", err)
		n.log.Warn("refused a connection", "from", ev.Addr, "err", err)
		return ev, true
	}
	ev.Peer, _ = identity.PeerClaims(conn.ConnectionState())
	if n.cfg.Cut != nil && n.cfg.Cut(ev.Peer.Name) {
		ev.Err = errCut
		return ev, false
	}
	var ch [1]byte
	conn.SetReadDeadline(time.Now().Add(handshakeTimeout))
	if _, err := io.ReadFull(conn, ch[:]); err != nil {
		ev.Err = fmt.Errorf("no channel: %w", err)
		return ev, true
	}
	conn.SetReadDeadline(time.Time{})
	switch ch[0] {
	case chanSync:
		ev.Result, ev.Err = peersync.Run(ctx, conn, n.sessionConfig())
		n.afterSession(ctx, ev.Peer, "", ev.Result, ev.Err)
		if ev.Err == nil {
			n.reached(ev.Peer)
		}
		return ev, true
	case chanLedger:
		if !n.ledgerPeer(ev.Peer) {
			return ev, false
		}
		release()
		if n.layer != nil && n.layer.Handoff(n.cuttable(conn, ev.Peer.Name)) {
			keep = true // Raft owns it now
			n.reached(ev.Peer)
		}
		return ev, false
	case chanPropose:
		if n.ledgerPeer(ev.Peer) {
			n.serveProposal(conn, ev.Peer)
		}
		return ev, false
	}
	n.log.Warn("refused a connection: unknown channel", "from", ev.Addr, "peer", ev.Peer.String(), "channel", ch[0])
	return ev, false
}

// reached notes that a peer reached this node: whatever failed between
// them before works now.
func (n *Node) reached(peer identity.Claims) {
	if n.disc != nil {
		n.disc.reached(peer.Node)
	}
}

// ledgerPeer checks that a peer may take part in the ledger: relays and HQ.
func (n *Node) ledgerPeer(p identity.Claims) bool {
	if p.Role.InLedger() {
		return true
	}
	n.log.Warn("refused a ledger connection from a field node", "peer", p.String())
	return false
}

// maxProposal bounds a forwarded command.
const maxProposal = ledger.MaxEntryBytes

// serveProposal reads one forwarded ledger entry, proposes it if this node
// leads, and answers with a frame: an Error message, or Done.
// Only what headquarters decides (enrollments, revocations, kits, conflict
// decisions) needs an HQ node behind it; a relay forwards commits.
func (n *Node) serveProposal(conn net.Conn, from identity.Claims) {
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	r := syncproto.NewFrameReader(io.LimitReader(conn, maxProposal+16))
	_, body, err := r.Read()
	if err == nil {
		var t ledger.CommandType
		t, _, err = ledger.Decode(body)
		switch {
		case err != nil:
		case t != ledger.CmdCommit && !from.Role.Decides():
			err = fmt.Errorf("only headquarters proposes %s; %s is a %s node", t, from.Name, from.Role)
			n.log.Warn("refused a forwarded ledger command", "from", from.String(), "err", err)
		case n.ledger == nil:
			err = ledger.ErrNotLeader
		default:
			_, err = n.ledger.ProposeEntry(body, 20*time.Second)
		}
	}
	if err != nil {
		syncproto.WriteFrame(conn, syncproto.MsgError, &syncproto.Error{Code: syncproto.CodeInternal, Message: err.Error()})
		return
	}
	syncproto.WriteFrame(conn, syncproto.MsgDone, &syncproto.Done{})
}

// forward sends a ledger entry to the leader at addr.
func (n *Node) forward(ctx context.Context, addr string, entry []byte) error {
	conn, _, err := n.dialTLS(ctx, addr, chanPropose)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := syncproto.WriteRaw(conn, syncproto.MsgSeal, entry); err != nil {
		return err
	}
	t, body, err := syncproto.NewFrameReader(conn).Read()
	if err != nil {
		return err
	}
	if t == syncproto.MsgError {
		m, derr := syncproto.Decode(t, body)
		if derr != nil {
			return derr
		}
		return errors.New(m.(*syncproto.Error).Message)
	}
	return nil
}
