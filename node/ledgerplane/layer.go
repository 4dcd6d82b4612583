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

// Layer is the stream layer raft.NetworkTransport dials with: a Ledger
// channel of the node's port, to a member whose identity the dial checks
// (dialMember). Connections members open to this node come through the
// port to the transport, which serves them itself: Accept only waits for
// Close.
type Layer struct {
	addr   net.Addr
	dial   func(ctx context.Context, address raft.ServerAddress) (net.Conn, error)
	closed chan struct{}
	once   sync.Once
}

// NewLayer makes a layer advertising addr, dialling with dial.
func NewLayer(addr net.Addr, dial func(ctx context.Context, address raft.ServerAddress) (net.Conn, error)) *Layer {
	return &Layer{addr: addr, dial: dial, closed: make(chan struct{})}
}

// Accept waits until the layer is closed.
func (l *Layer) Accept() (net.Conn, error) {
	<-l.closed
	return nil, net.ErrClosed
}

// Close stops accepting.
func (l *Layer) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

// Addr is the address Raft advertises: "<node id>@<host:port>".
func (l *Layer) Addr() net.Addr { return l.addr }

// Dial opens a ledger connection to a member.
func (l *Layer) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return l.dial(ctx, address)
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
