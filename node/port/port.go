package port

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"
	"time"

	"lifeline/node/identity"
	"lifeline/syncproto"
)

// Channel is what a connection is for: the first byte it sends after the
// TLS handshake. ONLY APPEND TO THIS LIST: a byte, once released, means the
// same channel forever.
type Channel byte

const (
	Sync    Channel = 'S' // a sync session (peersync)
	Ledger  Channel = 'L' // Raft's transport
	Propose Channel = 'P' // a ledger command forwarded to the leader
)

func (c Channel) String() string {
	switch c {
	case Sync:
		return "sync"
	case Ledger:
		return "ledger"
	case Propose:
		return "propose"
	}
	return fmt.Sprintf("channel %d", byte(c))
}

// Door says who may open a channel and what is done with it.
type Door struct {
	// Who decides from the peer's verified identity whether it may open
	// the channel: nil admits it, an error refuses it (and says why, in
	// the log).
	Who func(peer identity.Claims) error
	// Serve runs the channel over conn. conn is closed when Serve returns,
	// unless Serve returns true: then the channel owns it (Raft keeps its
	// connections for as long as the link lasts).
	Serve func(ctx context.Context, conn net.Conn, peer identity.Claims) (keep bool)
	// LongLived connections give their slot back once admitted, so that
	// the links between ledger members do not take the places of sync
	// sessions.
	LongLived bool
}

// Config is a port's.
type Config struct {
	// Creds are the node's: its certificate, the CA it trusts, and the
	// revocations it knows (checked at every handshake).
	Creds *identity.Credentials
	Log   *slog.Logger
	// MaxConns bounds the connections served at once, handshakes included.
	MaxConns int
	// Handshake bounds a TLS handshake and the channel byte after it, so
	// that a peer that connects and says nothing does not hold a slot.
	Handshake time.Duration
	// Refused hears of a connection that failed before it reached a
	// channel: a handshake refused, no channel byte. It may be nil.
	Refused func(addr string, peer identity.Claims, err error)
	// Failed hears of the error that stopped the port serving (the
	// listener failed). It may be nil.
	Failed func(error)
	// Cut, for tests, cuts links: see Dialer.Cut.
	Cut func(peer string) bool
}

// DefaultHandshake is how long a TLS handshake may take.
const DefaultHandshake = 30 * time.Second

// Port is a node's one network door: a mutual-TLS listener whose
// connections each ask for a channel in their first byte, and the doors
// that say who may open each one.
type Port struct {
	cfg   Config
	doors map[Channel]Door
	ln    net.Listener
	slots chan struct{}

	stop context.CancelFunc
	wg   sync.WaitGroup

	mu    sync.Mutex
	conns map[syncproto.NodeID]map[net.Conn]bool // served, by peer
}

// New makes a port with no doors yet.
func New(cfg Config) *Port {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Handshake <= 0 {
		cfg.Handshake = DefaultHandshake
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 32
	}
	return &Port{cfg: cfg, doors: map[Channel]Door{}, conns: map[syncproto.NodeID]map[net.Conn]bool{}}
}

// Handle opens a door for a channel. Call it before Start; a channel with
// no door is refused.
func (p *Port) Handle(ch Channel, d Door) {
	if d.Who == nil || d.Serve == nil {
		panic("port: a door needs Who and Serve")
	}
	p.doors[ch] = d
}

// Listen binds the port's address, so that its bound address is known
// (port 0) before anything else starts.
func (p *Port) Listen(addr string) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("serve sync: %w", err)
	}
	p.ln = ln
	return ln.Addr(), nil
}

// Addr is the bound address.
func (p *Port) Addr() net.Addr { return p.ln.Addr() }

// Start serves connections until Stop or ctx ends.
func (p *Port) Start(ctx context.Context) error {
	if p.ln == nil {
		return errors.New("port: Start before Listen")
	}
	ctx, p.stop = context.WithCancel(ctx)
	p.slots = make(chan struct{}, p.cfg.MaxConns)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		if err := p.serve(ctx); err != nil && p.cfg.Failed != nil {
			p.cfg.Failed(err)
		}
	}()
	return nil
}

// Stop stops serving (or closes the listener that never served) and waits
// for the connections being served.
func (p *Port) Stop() {
	if p.stop != nil {
		p.stop()
	} else if p.ln != nil {
		p.ln.Close()
	}
	p.wg.Wait()
}

func (p *Port) serve(ctx context.Context) error {
	defer p.ln.Close()
	stop := context.AfterFunc(ctx, func() { p.ln.Close() })
	defer stop()
	for {
		raw, err := p.ln.Accept()
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
		case p.slots <- struct{}{}:
		default:
			p.cfg.Log.Warn("sync: too many connections, refusing one", "from", raw.RemoteAddr().String())
			raw.Close()
			continue
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			var once sync.Once
			release := func() { once.Do(func() { <-p.slots }) }
			defer release()
			p.handle(ctx, raw, release)
		}()
	}
}

// handle runs one accepted connection: the handshake, the channel byte,
// the door's check, then the channel.
func (p *Port) handle(ctx context.Context, raw net.Conn, release func()) {
	addr := raw.RemoteAddr().String()
	keep := false
	defer func() {
		if !keep {
			raw.Close()
		}
	}()
	var peer identity.Claims
	defer func() {
		if r := recover(); r != nil {
			p.cfg.Log.Error("connection panicked", "from", addr, "panic", r, "stack", string(debug.Stack()))
			p.refused(addr, peer, fmt.Errorf("connection panicked: %v", r))
		}
	}()
	conn := tls.Server(raw, p.cfg.Creds.ServerTLS())
	hctx, cancel := context.WithTimeout(ctx, p.cfg.Handshake)
	err := conn.HandshakeContext(hctx)
	cancel()
	if err != nil {
		p.cfg.Log.Warn("refused a connection", "from", addr, "err", err)
		p.refused(addr, peer, fmt.Errorf("TLS: %w", err))
		return
	}
	peer, _ = identity.PeerClaims(conn.ConnectionState())
	if p.cut(peer.Name) {
		return
	}
	var ch [1]byte
	conn.SetReadDeadline(time.Now().Add(p.cfg.Handshake))
	if _, err := io.ReadFull(conn, ch[:]); err != nil {
		p.refused(addr, peer, fmt.Errorf("no channel: %w", err))
		return
	}
	conn.SetReadDeadline(time.Time{})
	door, ok := p.doors[Channel(ch[0])]
	if !ok {
		p.cfg.Log.Warn("refused a connection: unknown channel", "from", addr, "peer", peer.String(), "channel", ch[0])
		return
	}
	if err := door.Who(peer); err != nil {
		p.cfg.Log.Warn("refused a channel", "from", addr, "peer", peer.String(), "channel", Channel(ch[0]).String(), "err", err)
		return
	}
	if door.LongLived {
		release()
	}
	var c net.Conn = conn
	if p.cfg.Cut != nil {
		c = &cutConn{Conn: conn, cut: func() bool { return p.cfg.Cut(peer.Name) }}
	}
	tc := &trackedConn{Conn: c}
	tc.untrack = func() { p.untrack(peer.Node, tc) }
	p.track(peer.Node, tc)
	keep = door.Serve(ctx, tc, peer)
	if !keep {
		tc.Close()
	}
}

// trackedConn is a connection served, noted by the port until it closes,
// so that Drop finds it.
type trackedConn struct {
	net.Conn
	once    sync.Once
	untrack func()
}

func (t *trackedConn) Close() error {
	t.once.Do(t.untrack)
	return t.Conn.Close()
}

func (p *Port) track(node syncproto.NodeID, c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns[node] == nil {
		p.conns[node] = map[net.Conn]bool{}
	}
	p.conns[node][c] = true
}

func (p *Port) untrack(node syncproto.NodeID, c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.conns[node], c)
	if len(p.conns[node]) == 0 {
		delete(p.conns, node)
	}
}

// Drop closes every connection served to a node: headquarters revoked it.
// Its new connections are refused at the handshake.
func (p *Port) Drop(node syncproto.NodeID) int {
	p.mu.Lock()
	var conns []net.Conn
	for c := range p.conns[node] {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
	return len(conns)
}

func (p *Port) refused(addr string, peer identity.Claims, err error) {
	if p.cfg.Refused != nil {
		p.cfg.Refused(addr, peer, err)
	}
}

func (p *Port) cut(peer string) bool { return p.cfg.Cut != nil && p.cfg.Cut(peer) }
