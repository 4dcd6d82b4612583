package ledgerplane

import (
	"context"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// Layer carries Raft's connections over the node's TLS listener: the node
// accepts a TLS connection whose first byte says "ledger" and hands it to
// Accept; Dial opens one the same way. Raft never sees a plain TCP
// connection.
type Layer struct {
	addr   net.Addr
	dial   func(ctx context.Context, addr string) (net.Conn, error)
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

// NewLayer makes a layer advertising addr, dialling with dial.
func NewLayer(addr net.Addr, dial func(ctx context.Context, addr string) (net.Conn, error)) *Layer {
	return &Layer{addr: addr, dial: dial, conns: make(chan net.Conn), closed: make(chan struct{})}
}

// Handoff gives the layer a connection that asked for the ledger. It
// returns false when the layer is closed (the caller closes the conn).
func (l *Layer) Handoff(c net.Conn) bool {
	select {
	case l.conns <- c:
		return true
	case <-l.closed:
		return false
	}
}

// Accept implements net.Listener for Raft's transport.
func (l *Layer) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

// Close stops accepting.
func (l *Layer) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

// Addr is the address Raft advertises.
func (l *Layer) Addr() net.Addr { return l.addr }

// Dial opens a ledger connection to a peer.
func (l *Layer) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return l.dial(ctx, string(address))
}

// slogWriter feeds hclog's lines into the node's log.
type slogWriter struct{ log *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	w.log.Warn(string(trimNewline(p)))
	return len(p), nil
}

func trimNewline(p []byte) []byte {
	for len(p) > 0 && (p[len(p)-1] == '\n' || p[len(p)-1] == '\r') {
		p = p[:len(p)-1]
	}
	return p
}

var _ io.Writer = slogWriter{}
