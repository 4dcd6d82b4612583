package port

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"sync"
	"syscall"
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
	// Snapshot: a relay or headquarters writes a new node the snapshot of
	// what it keeps (node/snapshot.go).
	Snapshot Channel = 'N'
)

func (c Channel) String() string {
	switch c {
	case Sync:
		return "sync"
	case Ledger:
		return "ledger"
	case Propose:
		return "propose"
	case Snapshot:
		return "snapshot"
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
	// Max bounds the connections the channel serves at once (zero for
	// DefaultMax), and PerPeer those of one peer (zero for Max). Every
	// channel has places of its own: no other channel's connections, and
	// no handshake, ever take them.
	Max, PerPeer int
	// ReplaceOldest: a peer over its share does not have its newest
	// connection refused but its oldest closed. A link that broke leaves
	// its connections behind until TCP notices: Raft's, kept for as long as
	// the link lasts, and sync sessions a laptop gave up on when its
	// satellite link dropped. A peer only ever displaces its own.
	ReplaceOldest bool
	// MaxTime ends a connection served this long; zero for no limit.
	MaxTime time.Duration
}

// Config is a port's.
type Config struct {
	// Creds are the node's: its certificate, the CA it trusts, and the
	// revocations it knows (checked at every handshake).
	Creds *identity.Credentials
	Log   *slog.Logger
	// Handshake bounds the time from accepting a connection to reading its
	// channel byte, the TLS handshake included: a peer that connects and
	// says nothing, or says it a byte at a time, is cut then. Zero for
	// DefaultHandshake.
	Handshake time.Duration
	// MaxHandshakes bounds the connections accepted that have not named
	// their channel yet, and MaxPerAddr those of one remote address
	// (zero for DefaultMaxHandshakes and DefaultMaxPerAddr). When they
	// are full, a newcomer takes the place of the oldest handshake of the
	// address holding the most, if that address holds at least two more
	// than the newcomer's.
	MaxHandshakes, MaxPerAddr int
	// Refused hears of a connection that failed before it reached a
	// channel: a handshake refused or too slow, no channel byte. It hears
	// of those the log shows one by one (under a flood, the log counts
	// the rest). It may be nil.
	Refused func(addr string, peer identity.Claims, err error)
	// Failed hears of the error that stopped the port serving (the
	// listener failed). It may be nil.
	Failed func(error)
	// Cut, for tests, cuts links: see Dialer.Cut.
	Cut func(peer string) bool
}

// The defaults of Config and Door.
const (
	// DefaultHandshake is how long a connection may take from its accept
	// to its channel byte. A TLS 1.3 handshake is one round trip and the
	// certificates; a satellite link's round trip is under a second.
	DefaultHandshake     = 5 * time.Second
	DefaultMaxHandshakes = 256
	DefaultMaxPerAddr    = 4
	DefaultMax           = 32
)

// Errors Config.Refused hears of, besides the TLS handshake's own.
var (
	// ErrTooSlow: the connection did not name its channel within
	// Config.Handshake of its accept.
	ErrTooSlow = errors.New("no channel within the handshake's time")
	// ErrDisplaced: handshakes were full, and the connection's address
	// held the most; a newcomer took its place.
	ErrDisplaced = errors.New("its place taken by another address's handshake")
)

// Port is a node's one network door: a mutual-TLS listener whose
// connections each ask for a channel in their first byte, and the doors
// that say who may open each one.
type Port struct {
	cfg      Config
	doors    map[Channel]*door
	ln       net.Listener
	pending  *budget // connections that have not named their channel
	refusals *refusalLog

	stop context.CancelFunc
	wg   sync.WaitGroup

	mu    sync.Mutex
	conns map[syncproto.NodeID]map[net.Conn]bool // served, by peer
}

// door is a Door and its places.
type door struct {
	Door
	places *budget
}

// New makes a port with no doors yet.
func New(cfg Config) *Port {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Handshake <= 0 {
		cfg.Handshake = DefaultHandshake
	}
	if cfg.MaxHandshakes <= 0 {
		cfg.MaxHandshakes = DefaultMaxHandshakes
	}
	if cfg.MaxPerAddr <= 0 {
		cfg.MaxPerAddr = DefaultMaxPerAddr
	}
	return &Port{cfg: cfg, doors: map[Channel]*door{}, conns: map[syncproto.NodeID]map[net.Conn]bool{},
		pending: newBudget(cfg.MaxHandshakes, cfg.MaxPerAddr, false), refusals: newRefusalLog(cfg.Log)}
}

// Handle opens a door for a channel. Call it before Start; a channel with
// no door is refused.
func (p *Port) Handle(ch Channel, d Door) {
	if d.Who == nil || d.Serve == nil {
		panic("port: a door needs Who and Serve")
	}
	if d.Max <= 0 {
		d.Max = DefaultMax
	}
	if d.PerPeer <= 0 {
		d.PerPeer = d.Max
	}
	p.doors[ch] = &door{Door: d, places: newBudget(d.Max, d.PerPeer, d.ReplaceOldest)}
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
	p.refusals.flush()
}

// serve accepts connections. A connection is refused here, before it
// costs a goroutine or a TLS handshake, when its address holds its share
// of handshakes or handshakes are full.
func (p *Port) serve(ctx context.Context) error {
	defer p.ln.Close()
	stop := context.AfterFunc(ctx, func() { p.ln.Close() })
	defer stop()
	var pause time.Duration
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
			if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				// Out of file descriptors for a moment: the node goes on,
				// and takes connections again as some close.
				p.refusals.warn(msgNoFiles, "err", err)
				pause = min(max(2*pause, 5*time.Millisecond), time.Second)
				time.Sleep(pause)
				continue
			}
			return fmt.Errorf("serve sync: %w", err)
		}
		pause = 0
		deadline := time.Now().Add(p.cfg.Handshake)
		place, displaced, err := p.pending.take(hostOf(raw.RemoteAddr()), raw)
		if err != nil {
			msg := msgHandshakes
			if errors.Is(err, errKeyFull) {
				msg = msgAddrFull
			}
			p.refusals.warn(msg, "from", raw.RemoteAddr().String())
			reset(raw)
			continue
		}
		if displaced != nil {
			reset(displaced.conn.(net.Conn)) // its handler says so
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.handle(ctx, raw, place, deadline)
		}()
	}
}

// reset closes a connection refused before its handshake with a TCP
// reset: it leaves nothing behind on this side (no TIME_WAIT) however fast
// a flood comes back.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}

// hostOf is the address a connection comes from, without its port.
func hostOf(a net.Addr) string {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.AddrPort().Addr().Unmap().String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

// handle runs one accepted connection: the handshake and the channel byte
// (by the deadline, in a place among the handshakes), the door's check, a
// place among the channel's, then the channel.
func (p *Port) handle(ctx context.Context, raw net.Conn, place *slot, deadline time.Time) {
	addr := raw.RemoteAddr().String()
	keep := false
	defer func() {
		if !keep {
			raw.Close()
		}
	}()
	defer p.pending.release(place)
	var peer identity.Claims
	defer func() {
		if r := recover(); r != nil {
			p.cfg.Log.Error("connection panicked", "from", addr, "panic", r, "stack", string(debug.Stack()))
			p.refused(addr, peer, fmt.Errorf("connection panicked: %v", r))
		}
	}()
	raw.SetDeadline(deadline)
	stopping := context.AfterFunc(ctx, func() { raw.Close() })
	defer stopping()
	conn := tls.Server(raw, p.cfg.Creds.ServerTLS())
	err := conn.HandshakeContext(ctx)
	shook := err == nil
	var ch [1]byte
	if shook {
		peer, _ = identity.PeerClaims(conn.ConnectionState())
		if p.cut(peer.Name) {
			return
		}
		_, err = io.ReadFull(conn, ch[:])
	}
	if !stopping() {
		return // the port stops
	}
	if !p.pending.release(place) {
		p.refuse(msgDisplaced, addr, peer, ErrDisplaced)
		return
	}
	switch {
	case err == nil:
	case errors.Is(err, os.ErrDeadlineExceeded) || !time.Now().Before(deadline):
		p.refuse(msgSlow, addr, peer, fmt.Errorf("%w (%v): %w", ErrTooSlow, p.cfg.Handshake, err))
		return
	case !shook:
		if p.refusals.warn(msgTLS, "from", addr, "err", err) {
			p.refused(addr, peer, fmt.Errorf("TLS: %w", err))
		}
		return
	default:
		p.refuse(msgNoChannel, addr, peer, fmt.Errorf("no channel: %w", err))
		return
	}
	raw.SetDeadline(time.Time{})
	d, ok := p.doors[Channel(ch[0])]
	if !ok {
		p.refusals.warn(msgUnknown, "from", addr, "peer", peer.String(), "channel", ch[0])
		return
	}
	if err := d.Who(peer); err != nil {
		p.refusals.warn(msgDoor, "from", addr, "peer", peer.String(), "channel", Channel(ch[0]).String(), "err", err)
		return
	}
	var c net.Conn = conn
	if p.cfg.Cut != nil {
		c = &cutConn{Conn: conn, cut: func() bool { return p.cfg.Cut(peer.Name) }}
	}
	tc := &trackedConn{Conn: c, peer: peer.String()}
	if !p.admit(d, Channel(ch[0]), tc, addr, peer) {
		return
	}
	keep = d.Serve(ctx, tc, peer)
	if !keep {
		tc.Close()
	}
}

// admit gives a connection a place among its channel's, notes it for
// Drop, and bounds its time; closing it gives all that back.
func (p *Port) admit(d *door, ch Channel, tc *trackedConn, addr string, peer identity.Claims) bool {
	place, displaced, err := d.places.take(peer.Node.String(), tc)
	if err != nil {
		limit := fmt.Sprintf("%d in all", d.Max)
		if errors.Is(err, errKeyFull) {
			limit = fmt.Sprintf("%d for one peer", d.PerPeer)
		}
		p.refusals.warn(msgChannelFull, "from", addr, "peer", peer.String(), "channel", ch.String(), "limit", limit)
		return false
	}
	tc.onClose(func() { d.places.release(place) })
	if displaced != nil {
		old := displaced.conn.(*trackedConn)
		if displaced.key == place.key {
			p.cfg.Log.Info(msgReplaced, "from", old.RemoteAddr().String(), "peer", peer.String(), "channel", ch.String())
		} else {
			p.refusals.warn(msgPeerMost, "from", old.RemoteAddr().String(), "peer", old.peer, "channel", ch.String())
		}
		old.Close()
	}
	p.track(peer.Node, tc)
	tc.onClose(func() { p.untrack(peer.Node, tc) })
	if d.MaxTime > 0 {
		t := time.AfterFunc(d.MaxTime, func() {
			p.cfg.Log.Warn(msgTooLong, "from", addr, "peer", peer.String(), "channel", ch.String(), "limit", d.MaxTime)
			tc.Close()
		})
		tc.onClose(func() { t.Stop() })
	}
	return true
}

// trackedConn is a connection served, noted by the port until it closes:
// its channel's place, Drop, its time limit.
type trackedConn struct {
	net.Conn
	peer string // who, for the log, once admitted

	mu     sync.Mutex
	closed bool
	hooks  []func()
}

// onClose has fn run when the connection closes, or now if it has.
func (t *trackedConn) onClose(fn func()) {
	t.mu.Lock()
	if !t.closed {
		t.hooks = append(t.hooks, fn)
		t.mu.Unlock()
		return
	}
	t.mu.Unlock()
	fn()
}

func (t *trackedConn) Close() error {
	t.mu.Lock()
	hooks := t.hooks
	t.closed, t.hooks = true, nil
	t.mu.Unlock()
	for _, fn := range hooks {
		fn()
	}
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

// refuse logs a refusal and reports it, unless a flood of its kind keeps
// it from the log.
func (p *Port) refuse(msg, addr string, peer identity.Claims, err error) {
	args := []any{"from", addr}
	if !peer.Node.IsZero() {
		args = append(args, "peer", peer.String())
	}
	if p.refusals.warn(msg, append(args, "err", err)...) {
		p.refused(addr, peer, err)
	}
}

func (p *Port) refused(addr string, peer identity.Claims, err error) {
	if p.cfg.Refused != nil {
		p.cfg.Refused(addr, peer, err)
	}
}

func (p *Port) cut(peer string) bool { return p.cfg.Cut != nil && p.cfg.Cut(peer) }
