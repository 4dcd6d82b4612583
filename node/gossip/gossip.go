package gossip

import (
	"bytes"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"

	"lifeline/syncproto"
)

// label is put on every packet and stream, inside the encryption's
// authenticated data, so that another memberlist cluster on the same network
// (a consul agent on a district office's server) is told apart at once
// rather than by failed decryption.
const label = "lifeline"

// frameVersion is the version of this package's broadcast frames, given to
// memberlist as the delegate protocol version so that members whose frames
// could not be read by each other refuse to join rather than lose messages.
const frameVersion = 1

var (
	// ErrClosed is returned by the methods of a Gossip that was shut down.
	ErrClosed = errors.New("gossip: shut down")
	// ErrTimeout is wrapped by the errors of UpdateMeta and Leave when what
	// they spread had not all gone out within the timeout. It is still on
	// its way: the others learn it from the gossip that follows or from the
	// next push-pull.
	ErrTimeout = errors.New("not all sent within the timeout")
)

// Config is what Start needs.
type Config struct {
	// BindAddr is the IP address and port to listen on, for UDP and TCP
	// both, e.g. 0.0.0.0:7946; port 0 picks a free one (Gossip.Addr says
	// which).
	BindAddr string
	// Advertise is the IP address and port others reach this member at,
	// when that is not where it listens (behind NAT, or bound to 0.0.0.0 on
	// a machine with several networks); "" lets memberlist choose (the bound
	// IP, or a private IP of the machine when bound to 0.0.0.0). Port 0
	// means the bound port.
	Advertise string
	// KeyFile is the deployment's gossip key file (WriteKeyFile), in the
	// clear. It or Keys is required: gossip is always encrypted. Key
	// rotations rewrite it.
	KeyFile string
	// Keys, if set, keeps the keys instead of KeyFile: a node keeps them
	// encrypted with its own key.
	Keys KeyStore
	// Profile sets the timers for the network; the zero Profile means LAN.
	Profile Profile
	// Meta gives this member's metadata. It is called whenever memberlist
	// needs it (on Start, UpdateMeta and Leave), so it must be quick and
	// must not call the Gossip's methods. Its Node must not change; its
	// Version may be left zero; its Leaving is ignored (Leave sets it).
	Meta func() Meta
	// OnMessage, if set, receives each message another member broadcast,
	// once. The bytes are untrusted (at most MaxMessage of them): the node
	// checks their signature, and returns why it refuses one, which is
	// logged, a few refusals a second. Calls come from one goroutine, in
	// the order messages arrive; if OnMessage falls behind by more than a
	// few hundred messages, further ones are dropped (and logged) rather
	// than stall gossip.
	OnMessage func(msg []byte) error
	// Events, if set, is told of other members joining, changing and
	// leaving.
	Events Events
	// Log receives memberlist's and this package's logs; nil means
	// slog.Default().
	Log *slog.Logger
	// MaxMembers bounds the members gossip admits, this one included;
	// zero means DefaultMaxMembers.
	MaxMembers int
}

// DefaultMaxMembers is the most members a Gossip admits at once: a
// deployment's laptops, relays and HQ nodes together, with room to spare.
// A holder of the gossip key can tell of members without end (a push-pull
// carries hundreds of thousands), each of which memberlist would keep,
// probe and gossip to, and the node record; past the bound a member not
// known yet is refused until members gone are forgotten.
const DefaultMaxMembers = 4096

// Events is told of changes to the member list, as this member sees them.
// memberlist reports them holding its own lock; they are queued and passed
// on from one goroutine of the Gossip, in the order they happened, never
// concurrently, so that a handler may take its time or call back into the
// Gossip (Members, UpdateMeta, Join; not Shutdown, which waits for the
// handler to return). A member's changes that come while one of its events
// waits are folded into that one, which then tells its latest state (a
// member that joined and changed is told Joined, with its latest
// metadata; one that joined and left, Left): a handler slower than the
// changes is told the latest, not every step. They stop when Shutdown
// returns. Events about this member itself are not sent.
type Events interface {
	// Joined: a member is alive, for the first time or again.
	Joined(Member)
	// Updated: an alive member's metadata changed.
	Updated(Member)
	// Left: a member is gone. Its State says how: StateLeft if it said
	// goodbye (Leave), StateDead if it stopped answering.
	Left(Member)
}

// Member states.
const (
	StateAlive = "alive"
	// StateDead: the member stopped answering probes, memberlist suspected
	// it for a while and then declared it failed. (memberlist does not tell
	// its users when it suspects a member, so a suspect member is reported
	// alive until it is declared dead.)
	StateDead = "dead"
	// StateLeft: the member said goodbye.
	StateLeft = "left"
)

// Member is a member of the gossip as this member sees it.
type Member struct {
	Meta
	// Addr is its gossip address, host:port.
	Addr string
	// State is StateAlive, StateDead or StateLeft.
	State string
	// Since is when State last changed here.
	Since time.Time
}

// Gossip is this node's membership of the gossip.
type Gossip struct {
	cfg Config
	log *slog.Logger
	// warnings logs what others sent that is refused, a few lines a
	// second.
	warnings *warnings
	node     syncproto.NodeID
	name     string // our name in memberlist: node.String()
	addr     string // the bound address
	ml       *memberlist.Memberlist
	keyring  *memberlist.Keyring
	store    KeyStore   // where the keys are kept
	keyMu    sync.Mutex // serialises key rotations and the key store
	bcast    *memberlist.TransmitLimitedQueue

	metaMu   sync.Mutex
	metaLast []byte     // the last metadata that encoded; memberlist gets it if a newer one fails
	updMu    sync.Mutex // serialises UpdateMeta and Leave's update

	// mu guards the member table, selfMeta, the message ids seen, the
	// recent messages and closed. It is taken inside memberlist's own lock
	// (its events arrive holding it), so nothing may call memberlist while
	// holding mu.
	mu       sync.Mutex
	members  map[string]*Member // by memberlist name
	selfMeta []byte             // the metadata memberlist holds for this member
	seen     seenSet
	// recent are the latest broadcast messages, oldest first, for
	// push-pulls to repair what gossip lost.
	recent      []recentFrame
	recentBytes int
	closed      bool
	alive       atomic.Int32 // alive members, us included: the broadcast queue's retransmit count grows with it
	// admitted holds every member memberlist was let keep, by name: the
	// zero time while it is alive, when it went once gone. A member gone
	// is forgotten here once memberlist has forgotten it too.
	admitted  map[string]time.Time
	lastPurge time.Time

	leaveMu sync.Mutex  // serialises Leave with itself and Shutdown
	leaving atomic.Bool // Leave was called: our metadata says so

	events  eventQueue
	msgs    chan []byte
	dropped atomic.Uint64
	done    chan struct{}
	wg      sync.WaitGroup
}

// Start listens on cfg.BindAddr and starts gossiping, alone until Join is
// called (or another member joins this one).
func Start(cfg Config) (*Gossip, error) {
	if cfg.Meta == nil {
		return nil, errors.New("gossip: Config.Meta is not set: it gives this member's metadata")
	}
	store := cfg.Keys
	if store == nil {
		if cfg.KeyFile == "" {
			return nil, errors.New("gossip: Config.KeyFile is not set: gossip is always encrypted; write the deployment's keys with WriteKeyFile")
		}
		store = keyFile(cfg.KeyFile)
	}
	if cfg.Profile == (Profile{}) {
		cfg.Profile = LAN
	}
	if err := cfg.Profile.check(); err != nil {
		return nil, err
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	bindIP, bindPort, err := splitAddr(cfg.BindAddr, "bind address", true)
	if err != nil {
		return nil, err
	}
	var advIP string
	var advPort int
	if cfg.Advertise != "" {
		if advIP, advPort, err = splitAddr(cfg.Advertise, "advertise address", false); err != nil {
			return nil, err
		}
	} else if ip := net.ParseIP(bindIP); ip.IsUnspecified() && ip.To4() == nil {
		// memberlist picks a private IP for 0.0.0.0 only; bound to :: it
		// would tell others to reach it at ::.
		return nil, fmt.Errorf("gossip: bound to %s: set Config.Advertise to the address others reach this member at", cfg.BindAddr)
	}
	keys, err := store.ReadKeys()
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("gossip: no keys: %w", ErrKeyFile)
	}
	keyring, err := memberlist.NewKeyring(keys[1:], keys[0])
	if err != nil {
		return nil, fmt.Errorf("gossip: the keys: %v", err)
	}

	g := &Gossip{
		cfg:      cfg,
		store:    store,
		log:      cfg.Log,
		warnings: newWarnings(cfg.Log),
		keyring:  keyring,
		members:  map[string]*Member{},
		admitted: map[string]time.Time{},
		done:     make(chan struct{}),
	}
	meta := cfg.Meta()
	g.node, g.name = meta.Node, meta.Node.String()
	if _, err := g.encodeOwn(meta); err != nil {
		return nil, fmt.Errorf("gossip: this member's metadata: %w", err)
	}
	g.bcast = &memberlist.TransmitLimitedQueue{
		NumNodes:       func() int { return max(1, int(g.alive.Load())) },
		RetransmitMult: memberlist.DefaultLANConfig().RetransmitMult,
	}

	mlLog := log.New(logWriter{g.warnings}, "", 0)
	nt, err := listen(bindIP, bindPort, mlLog)
	if err != nil {
		return nil, fmt.Errorf("gossip: listen on %s: %v: choose another port, or stop what uses it", cfg.BindAddr, err)
	}
	port := nt.GetAutoBindPort()
	g.addr = net.JoinHostPort(bindIP, strconv.Itoa(port))
	if advIP != "" && advPort == 0 {
		advPort = port
	}

	c := memberlist.DefaultLANConfig()
	cfg.Profile.apply(c)
	c.Name = g.name
	c.Transport = nt
	c.BindAddr, c.BindPort = bindIP, port
	c.AdvertiseAddr, c.AdvertisePort = advIP, advPort
	c.Label = label
	c.Keyring = keyring
	c.GossipVerifyIncoming, c.GossipVerifyOutgoing = true, true
	c.DelegateProtocolVersion, c.DelegateProtocolMin, c.DelegateProtocolMax = frameVersion, frameVersion, frameVersion
	d := &delegate{g}
	c.Delegate, c.Events, c.Conflict, c.Alive = d, d, d, d
	c.Logger = mlLog

	if cfg.OnMessage != nil {
		g.msgs = make(chan []byte, deliverQueue)
		g.wg.Add(1)
		go g.deliver()
	}
	if cfg.Events != nil {
		g.events.init()
		g.wg.Add(1)
		go g.dispatch()
	}
	ml, err := memberlist.Create(c)
	if err != nil {
		nt.Shutdown()
		close(g.done)
		g.wg.Wait()
		if advIP == "" && strings.Contains(err.Error(), "advertise") {
			return nil, fmt.Errorf("gossip: start on %s: %v: set Config.Advertise to the address others reach this member at", g.addr, err)
		}
		return nil, fmt.Errorf("gossip: start on %s: %v", g.addr, err)
	}
	g.ml = ml
	g.log.Info("gossip: started", "addr", g.addr, "advertise", ml.LocalNode().Address(), "node", g.name)
	return g, nil
}

// listen opens memberlist's UDP and TCP listeners. With port 0 the kernel
// picks the TCP port and UDP must get the same one, which another process
// may hold: try a few times, as memberlist itself does.
func listen(ip string, port int, logger *log.Logger) (*memberlist.NetTransport, error) {
	tries := 1
	if port == 0 {
		tries = 10
	}
	var err error
	for range tries {
		var nt *memberlist.NetTransport
		nt, err = memberlist.NewNetTransport(&memberlist.NetTransportConfig{BindAddrs: []string{ip}, BindPort: port, Logger: logger})
		if err == nil {
			return nt, nil
		}
	}
	return nil, err
}

// splitAddr parses an IP:port. memberlist listens on and advertises IP
// addresses only; a host name would be silently taken as "every interface".
func splitAddr(addr, what string, emptyHost bool) (string, int, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("gossip: %s %q: not IP:port (e.g. 0.0.0.0:7946)", what, addr)
	}
	if host == "" && emptyHost {
		host = "0.0.0.0"
	}
	if net.ParseIP(host) == nil {
		return "", 0, fmt.Errorf("gossip: %s %q: %q is not an IP address (gossip binds and advertises IP addresses, not names)", what, addr, host)
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return "", 0, fmt.Errorf("gossip: %s %q: port %q is not 0 to 65535", what, addr, port)
	}
	return host, int(p), nil
}

// Addr is the address the member listens on, with the port resolved.
func (g *Gossip) Addr() string { return g.addr }

// Join contacts members at addrs (IP:port, or host:port resolved by DNS) and
// exchanges member lists with each, which joins this member to their
// gossip. It returns how many it reached; it fails only if it reached none.
func (g *Gossip) Join(addrs []string) (int, error) {
	if g.isClosed() {
		return 0, ErrClosed
	}
	if len(addrs) == 0 {
		return 0, errors.New("gossip: join: no addresses given")
	}
	n, err := g.ml.Join(addrs)
	if n == 0 {
		return 0, fmt.Errorf("gossip: could not join any of %s: %v: check the addresses, that a Lifeline node runs there, and that this node has the deployment's current gossip key",
			strings.Join(addrs, ", "), err)
	}
	return n, nil
}

// UpdateMeta reads Config.Meta again and spreads it, waiting up to timeout
// for the update to go out (zero or less: not waiting; it is on its way).
// If the new metadata does not encode, nothing is spread and the error
// says why; if it did not all go out in time, the error wraps ErrTimeout.
func (g *Gossip) UpdateMeta(timeout time.Duration) error {
	if g.isClosed() {
		return ErrClosed
	}
	if _, err := g.encodeOwn(g.cfg.Meta()); err != nil {
		return fmt.Errorf("gossip: update metadata: %w", err)
	}
	if err := g.spreadMeta(timeout); err != nil {
		return fmt.Errorf("gossip: update metadata: %w", err)
	}
	return nil
}

// maxUpdateTries bounds spreadMeta's attempts.
const maxUpdateTries = 5

// spreadMeta has memberlist spread this member's metadata. memberlist's
// UpdateNode silently drops the update if, between taking an incarnation
// number and applying it, this member refuted a suspicion with a newer one;
// it then waits for a broadcast that never comes. That happens when the
// link is poor, which is when the others most need to hear. So the update
// is checked (memberlist reports its own change of metadata to us) and
// tried again.
func (g *Gossip) spreadMeta(timeout time.Duration) error {
	g.updMu.Lock()
	defer g.updMu.Unlock()
	deadline := time.Now().Add(timeout)
	for range maxUpdateTries {
		wait := time.Until(deadline)
		if wait <= 0 {
			// UpdateNode applies the update before it waits: a nanosecond
			// is "do not wait". (Zero would be "wait for ever".)
			wait = time.Nanosecond
		}
		err := g.ml.UpdateNode(wait)
		if g.metaApplied() {
			if err != nil && timeout > 0 {
				// memberlist's only error here is its timeout.
				return fmt.Errorf("%w (%v): the others will still learn it, by gossip or push-pull (every %v)",
					ErrTimeout, err, g.cfg.Profile.PushPullInterval)
			}
			return nil
		}
	}
	return fmt.Errorf("memberlist dropped the update %d times (this member keeps being suspected: a slow or lossy link?): try again", maxUpdateTries)
}

// metaApplied reports whether memberlist holds the metadata last given to
// it.
func (g *Gossip) metaApplied() bool {
	g.metaMu.Lock()
	last := g.metaLast
	g.metaMu.Unlock()
	g.mu.Lock()
	defer g.mu.Unlock()
	return bytes.Equal(g.selfMeta, last)
}

// encodeOwn encodes this member's metadata and keeps it as the last good
// one.
func (g *Gossip) encodeOwn(m Meta) ([]byte, error) {
	m.Leaving = g.leaving.Load()
	if m.Node != g.node {
		return nil, fmt.Errorf("%w: node id changed from %s to %s: a member keeps its node id; start a new Gossip for a new key", ErrMeta, g.node, m.Node)
	}
	b, err := m.Encode()
	if err != nil {
		return nil, err
	}
	g.metaMu.Lock()
	g.metaLast = b
	g.metaMu.Unlock()
	return b, nil
}

// Leave says goodbye: it spreads metadata marked Leaving, then memberlist's
// leave message, so that others report this member left rather than dead,
// and waits up to timeout for them to go out (zero or less: not waiting;
// the others may then report it dead). The member still relays gossip
// until Shutdown.
func (g *Gossip) Leave(timeout time.Duration) error {
	g.leaveMu.Lock()
	defer g.leaveMu.Unlock()
	if g.isClosed() {
		return ErrClosed
	}
	if g.leaving.Swap(true) {
		return nil
	}
	// The Leaving metadata must be out before memberlist's leave message,
	// which replaces it in memberlist's queue. A third of the time for it to
	// be gossiped, a third for a push-pull to make sure, the rest for the
	// leave message.
	deadline := time.Now().Add(timeout)
	step := timeout / 3
	if err := g.spreadMeta(step); err != nil {
		g.log.Warn("gossip: leave: the others may report this member dead rather than left", "err", err)
	}
	// Gossip is UDP and may have lost the update on every member's way.
	// memberlist's Join is a push-pull over TCP: it carries the update to a
	// couple of members for certain, and they gossip it on. (If it outlasts
	// its time, it ends on its own; it can only repeat what was said.)
	if peers := g.somePeers(2); timeout > 0 && len(peers) > 0 {
		done := make(chan struct{})
		go func() {
			defer close(done)
			g.ml.Join(peers)
		}()
		t := time.NewTimer(time.Until(deadline) - step)
		select {
		case <-done:
		case <-t.C:
		}
		t.Stop()
	}
	rest := time.Nanosecond // memberlist's zero is "wait for ever"
	if timeout > 0 {
		rest = max(rest, time.Until(deadline))
	}
	if err := g.ml.Leave(rest); err != nil && timeout > 0 {
		// memberlist's only error here is its timeout.
		return fmt.Errorf("gossip: leave: %w (%v): the others will notice this member is gone when it stops answering", ErrTimeout, err)
	}
	return nil
}

// Shutdown stops gossiping, without a goodbye unless Leave was called
// first: the others will declare this member dead. Events and OnMessage are
// not called once it returns. It may be called more than once.
func (g *Gossip) Shutdown() error {
	g.leaveMu.Lock()
	defer g.leaveMu.Unlock()
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return nil
	}
	g.closed = true
	g.mu.Unlock()
	err := g.ml.Shutdown()
	close(g.done)
	g.wg.Wait()
	g.warnings.Stop()
	if err != nil {
		return fmt.Errorf("gossip: shutdown: %v", err)
	}
	return nil
}

// somePeers gives the gossip addresses of up to n other alive members, at
// random.
func (g *Gossip) somePeers(n int) []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var addrs []string
	for name, e := range g.members { // map order is random enough
		if len(addrs) == n {
			break
		}
		if name != g.name && e.State == StateAlive {
			addrs = append(addrs, e.Addr)
		}
	}
	return addrs
}

func (g *Gossip) isClosed() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.closed
}
