package port

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"lifeline/node/identity"
)

// ErrNotEnrolled: a node without a certificate cannot open a connection.
var ErrNotEnrolled = identity.ErrNotEnrolled

// ErrCut is a link a test cut.
var ErrCut = errors.New("link cut")

// Dialer opens connections to other nodes' ports.
type Dialer struct {
	Creds *identity.Credentials
	// Handshake bounds the connection and its TLS handshake; zero for
	// DefaultHandshake.
	Handshake time.Duration
	// Cut, for tests, cuts links: a connection with a peer it names (by
	// node name) is dropped right after the handshake, both ways, and a
	// long-lived one fails once its link is cut, as if the network between
	// them were down.
	Cut func(peer string) bool
}

// Dial opens a mutually authenticated connection to the port at addr and
// asks for a channel. It returns the peer's verified claims.
func (d Dialer) Dial(ctx context.Context, addr string, ch Channel) (net.Conn, identity.Claims, error) {
	return d.DialChoosing(ctx, addr, func(identity.Claims) Channel { return ch })
}

// DialChoosing is Dial that chooses the channel once the handshake says
// who answered.
func (d Dialer) DialChoosing(ctx context.Context, addr string, choose func(identity.Claims) Channel) (net.Conn, identity.Claims, error) {
	if d.Creds == nil {
		return nil, identity.Claims{}, fmt.Errorf("%w: enroll it first (lifeline enroll)", ErrNotEnrolled)
	}
	timeout := d.Handshake
	if timeout <= 0 {
		timeout = DefaultHandshake
	}
	nd := net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	raw, err := nd.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, identity.Claims{}, fmt.Errorf("connect to %s: %w", addr, err)
	}
	conn := tls.Client(raw, d.Creds.ClientTLS())
	hctx, cancel := context.WithTimeout(ctx, timeout)
	err = conn.HandshakeContext(hctx)
	cancel()
	if err != nil {
		raw.Close()
		return nil, identity.Claims{}, fmt.Errorf("TLS with %s: %w", addr, err)
	}
	peer, _ := identity.PeerClaims(conn.ConnectionState())
	if d.Cut != nil && d.Cut(peer.Name) {
		conn.Close()
		return nil, peer, fmt.Errorf("connect to %s: %w", addr, ErrCut)
	}
	conn.SetWriteDeadline(time.Now().Add(timeout))
	if _, err := conn.Write([]byte{byte(choose(peer))}); err != nil {
		conn.Close()
		return nil, peer, fmt.Errorf("%s: %w", addr, err)
	}
	conn.SetWriteDeadline(time.Time{})
	if d.Cut == nil {
		return conn, peer, nil
	}
	return &cutConn{Conn: conn, cut: func() bool { return d.Cut(peer.Name) }}, peer, nil
}

// cutConn makes a connection fail once a test cuts its link.
type cutConn struct {
	net.Conn
	cut func() bool
}

func (c *cutConn) Read(p []byte) (int, error) {
	if c.cut() {
		c.Conn.Close()
		return 0, ErrCut
	}
	return c.Conn.Read(p)
}

func (c *cutConn) Write(p []byte) (int, error) {
	if c.cut() {
		c.Conn.Close()
		return 0, ErrCut
	}
	return c.Conn.Write(p)
}
