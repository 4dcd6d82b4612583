package ledger

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	wal "github.com/hashicorp/raft-wal"
	"github.com/hashicorp/raft-wal/metadb"

	"lifeline/syncproto"
)

// Config is one node's part in the ledger.
type Config struct {
	// Dir holds the Raft log (raft-wal) and snapshots.
	Dir string
	// ID is the node's id; Addr the address peers reach its TLS service at
	// (the same port as sync).
	ID   syncproto.NodeID
	Addr string
	// Bootstrap starts a new ledger with this node as its only voter, if
	// it has no ledger yet: the first HQ, once.
	Bootstrap bool
	// Timers. Zero values take Raft's defaults; tests shorten them, and a
	// deployment over satellite links lengthens them.
	HeartbeatTimeout   time.Duration
	ElectionTimeout    time.Duration
	LeaderLeaseTimeout time.Duration
	CommitTimeout      time.Duration
	// SnapshotThreshold is how many entries since the last snapshot make
	// the next one.
	SnapshotThreshold uint64
	// SegmentSize of the Raft log files; zero for raft-wal's 64 MiB.
	SegmentSize int
	Layer       *Layer
	Store       Store
	Log         *slog.Logger
	// OnApply hears of each command applied, on every node.
	OnApply func(CommandType, any)
}

// Ledger is a node's Raft member.
type Ledger struct {
	cfg  Config
	raft *raft.Raft
	wal  *wal.WAL
	meta *metadb.BoltMetaDB
	fsm  *FSM
	tr   *raft.NetworkTransport
}

// ErrNotLeader means a proposal reached a node that is not the leader.
var ErrNotLeader = errors.New("not the ledger's leader")

// Open starts the node's Raft member.
func Open(cfg Config) (*Ledger, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(filepath.Join(cfg.Dir, "wal"), 0o700); err != nil {
		return nil, err
	}
	hlog := hclog.New(&hclog.LoggerOptions{Name: "raft", Level: hclog.Warn, Output: slogWriter{cfg.Log}})
	segment := cfg.SegmentSize
	if segment <= 0 {
		segment = 64 << 20
	}
	// raft-wal does not close the meta database it opens itself; this one
	// is closed at Shutdown, or a restart in the same process would wait
	// on its lock forever.
	meta := &metadb.BoltMetaDB{}
	w, err := wal.Open(filepath.Join(cfg.Dir, "wal"), wal.WithLogger(hlog), wal.WithSegmentSize(segment), wal.WithMetaStore(meta))
	if err != nil {
		meta.Close()
		return nil, fmt.Errorf("ledger log in %s: %w", cfg.Dir, err)
	}
	closeLog := func() { w.Close(); meta.Close() }
	snaps, err := raft.NewFileSnapshotStoreWithLogger(cfg.Dir, 2, hlog)
	if err != nil {
		closeLog()
		return nil, fmt.Errorf("ledger snapshots in %s: %w", cfg.Dir, err)
	}
	tr := raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream: cfg.Layer, MaxPool: 3, Timeout: 10 * time.Second, Logger: hlog,
	})
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(cfg.ID.String())
	rc.Logger = hlog
	if cfg.HeartbeatTimeout > 0 {
		rc.HeartbeatTimeout = cfg.HeartbeatTimeout
	}
	if cfg.ElectionTimeout > 0 {
		rc.ElectionTimeout = cfg.ElectionTimeout
	}
	if cfg.LeaderLeaseTimeout > 0 {
		rc.LeaderLeaseTimeout = cfg.LeaderLeaseTimeout
	}
	if cfg.CommitTimeout > 0 {
		rc.CommitTimeout = cfg.CommitTimeout
	}
	if cfg.SnapshotThreshold > 0 {
		rc.SnapshotThreshold = cfg.SnapshotThreshold
	}
	fsm := NewFSM(cfg.Store, cfg.Log)
	fsm.OnApply = cfg.OnApply
	if cfg.Bootstrap {
		has, err := raft.HasExistingState(w, w, snaps)
		if err != nil {
			closeLog()
			return nil, err
		}
		if !has {
			conf := raft.Configuration{Servers: []raft.Server{{Suffrage: raft.Voter, ID: rc.LocalID, Address: raft.ServerAddress(cfg.Addr)}}}
			if err := raft.BootstrapCluster(rc, w, w, snaps, tr, conf); err != nil {
				closeLog()
				return nil, fmt.Errorf("start a new ledger: %w", err)
			}
		}
	}
	r, err := raft.NewRaft(rc, fsm, w, w, snaps, tr)
	if err != nil {
		closeLog()
		return nil, err
	}
	return &Ledger{cfg: cfg, raft: r, wal: w, meta: meta, fsm: fsm, tr: tr}, nil
}

// Propose applies a command through Raft and waits for it to be applied
// here. Only the leader can propose: elsewhere it returns ErrNotLeader
// wrapped with the leader's address, if known.
func (l *Ledger) Propose(t CommandType, cmd any, timeout time.Duration) (Result, error) {
	entry, err := Encode(t, cmd)
	if err != nil {
		return Result{}, err
	}
	return l.ProposeEntry(entry, timeout)
}

// ProposeEntry is Propose for an encoded entry.
func (l *Ledger) ProposeEntry(entry []byte, timeout time.Duration) (Result, error) {
	if l.raft.State() != raft.Leader {
		addr, _ := l.raft.LeaderWithID()
		return Result{}, fmt.Errorf("%w (the leader is at %q)", ErrNotLeader, addr)
	}
	f := l.raft.Apply(entry, timeout)
	if err := f.Error(); err != nil {
		if errors.Is(err, raft.ErrNotLeader) || errors.Is(err, raft.ErrLeadershipLost) {
			return Result{}, fmt.Errorf("%w: %v", ErrNotLeader, err)
		}
		return Result{}, err
	}
	res, _ := f.Response().(Result)
	return res, res.Err
}

// Status is the node's view of the ledger.
type Status struct {
	State  string // Leader, Follower, Candidate, Shutdown
	Leader string // the leader's node id, "" when unknown
	Height uint64 // the last entry applied here
	Voter  bool
}

// Status reports the node's Raft state.
func (l *Ledger) Status() Status {
	_, id := l.raft.LeaderWithID()
	st := Status{State: l.raft.State().String(), Leader: string(id), Height: l.raft.AppliedIndex()}
	if f := l.raft.GetConfiguration(); f.Error() == nil {
		for _, s := range f.Configuration().Servers {
			if s.ID == raft.ServerID(l.cfg.ID.String()) {
				st.Voter = s.Suffrage == raft.Voter
			}
		}
	}
	return st
}

// IsLeader reports whether this node leads the ledger.
func (l *Ledger) IsLeader() bool { return l.raft.State() == raft.Leader }

// LeaderAddr is the leader's address, "" when unknown.
func (l *Ledger) LeaderAddr() string {
	addr, _ := l.raft.LeaderWithID()
	return string(addr)
}

// Member is a server in the ledger's configuration.
type Member struct {
	ID    string
	Addr  string
	Voter bool
}

// Members lists the ledger's configuration.
func (l *Ledger) Members() ([]Member, error) {
	f := l.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, err
	}
	var out []Member
	for _, s := range f.Configuration().Servers {
		out = append(out, Member{ID: string(s.ID), Addr: string(s.Address), Voter: s.Suffrage == raft.Voter})
	}
	return out, nil
}

// AddMember adds a voter or a non-voter, or updates its address. Leader
// only.
func (l *Ledger) AddMember(id syncproto.NodeID, addr string, voter bool) error {
	var f raft.IndexFuture
	if voter {
		f = l.raft.AddVoter(raft.ServerID(id.String()), raft.ServerAddress(addr), 0, 10*time.Second)
	} else {
		f = l.raft.AddNonvoter(raft.ServerID(id.String()), raft.ServerAddress(addr), 0, 10*time.Second)
	}
	return f.Error()
}

// Snapshot makes a snapshot now.
func (l *Ledger) Snapshot() error { return l.raft.Snapshot().Error() }

// Barrier waits until every entry committed before it is applied here.
func (l *Ledger) Barrier(timeout time.Duration) error { return l.raft.Barrier(timeout).Error() }

// Shutdown stops the member.
func (l *Ledger) Shutdown() error {
	// An entry waiting for the store (a full disk) must not hold the
	// shutdown: it applies at the next start.
	l.fsm.Stop()
	err := l.raft.Shutdown().Error()
	l.tr.Close()
	return errors.Join(err, l.wal.Close(), l.meta.Close())
}

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
