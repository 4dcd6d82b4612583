package ledgerplane

import (
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	wal "github.com/hashicorp/raft-wal"
	"github.com/hashicorp/raft-wal/metadb"

	"lifeline/node/identity"
	"lifeline/node/internal/loglimit"
	"lifeline/node/ledger"
	"lifeline/syncproto"
)

// MemberConfig is one node's part in the ledger.
type MemberConfig struct {
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
	Store       ledger.Store
	// CA is the deployment's CA certificate, against which the state
	// machine checks decisions and enrollments.
	CA  *x509.Certificate
	Log *slog.Logger
	// OnApply hears of each command applied, on every node.
	OnApply func(ledger.Applied)
	// Refused logs the RPCs refused of other members, a few lines a
	// second (NewRefusals); nil makes one logging to Log.
	Refused *loglimit.Limiter
}

// refusalLines is how many refusals of what relays and HQ nodes send on
// the ledger's channels (forwarded commands, Raft RPCs) are logged one by
// one in a second. Any relay may send them as fast as it makes
// handshakes: the rest of the second's are counted, and logged as one
// line, with count, when the second ends, as the port does with its
// refusals.
const refusalLines = 10

// NewRefusals is the log of a ledger plane's refusals of what others
// sent, refusalLines a second, to log.
func NewRefusals(log *slog.Logger) *loglimit.Limiter {
	return &loglimit.Limiter{Log: log, Lines: refusalLines, Msg: "ledger: more refusals of relays' commands and RPCs, not logged one by one"}
}

// Member is a node's Raft member.
type Member struct {
	cfg  MemberConfig
	raft *raft.Raft
	wal  *wal.WAL
	meta *metadb.BoltMetaDB
	fsm  *ledger.FSM
	tr   *transport
}

// ErrNotLeader means a proposal reached a node that is not the leader.
var ErrNotLeader = errors.New("not the ledger's leader")

// OpenMember starts the node's Raft member.
func OpenMember(cfg MemberConfig) (*Member, error) {
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
	dir := filepath.Join(cfg.Dir, "wal")
	w, err := wal.Open(dir, wal.WithLogger(hlog), wal.WithSegmentSize(segment), wal.WithMetaStore(meta), wal.WithSegmentFiler(newTruncatedFiler(dir)))
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
	m := &Member{cfg: cfg, wal: w, meta: meta}
	if cfg.Refused == nil {
		cfg.Refused = NewRefusals(cfg.Log)
	}
	tr := newTransport(cfg.Layer, m.admit, cfg.Refused, hlog)
	m.tr = tr
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
	fsm := ledger.NewFSM(cfg.Store, cfg.CA, cfg.Log)
	fsm.OnApply = cfg.OnApply
	if cfg.Bootstrap {
		has, err := raft.HasExistingState(w, w, snaps)
		if err != nil {
			tr.Close()
			closeLog()
			return nil, err
		}
		if !has {
			conf := raft.Configuration{Servers: []raft.Server{{Suffrage: raft.Voter, ID: rc.LocalID, Address: serverAddress(cfg.ID.String(), cfg.Addr)}}}
			if err := raft.BootstrapCluster(rc, w, w, snaps, tr, conf); err != nil {
				tr.Close()
				closeLog()
				return nil, fmt.Errorf("start a new ledger: %w", err)
			}
		}
	}
	r, err := raft.NewRaft(rc, raftFSM{fsm}, w, w, snaps, tr)
	if err != nil {
		tr.Close()
		closeLog()
		return nil, err
	}
	m.raft, m.fsm = r, fsm
	return m, nil
}

// Propose applies a command through Raft and waits for it to be applied
// here. Only the leader can propose: elsewhere it returns ErrNotLeader
// wrapped with the leader's address, if known.
func (l *Member) Propose(t ledger.CommandType, cmd any, timeout time.Duration) (ledger.Result, error) {
	entry, err := ledger.Encode(t, cmd)
	if err != nil {
		return ledger.Result{}, err
	}
	return l.ProposeEntry(entry, timeout)
}

// ProposeEntry is Propose for an encoded entry.
func (l *Member) ProposeEntry(entry []byte, timeout time.Duration) (ledger.Result, error) {
	if l.raft.State() != raft.Leader {
		addr, _ := l.raft.LeaderWithID()
		return ledger.Result{}, fmt.Errorf("%w (the leader is at %q)", ErrNotLeader, addr)
	}
	f := l.raft.Apply(entry, timeout)
	if err := f.Error(); err != nil {
		if errors.Is(err, raft.ErrNotLeader) || errors.Is(err, raft.ErrLeadershipLost) {
			return ledger.Result{}, fmt.Errorf("%w: %v", ErrNotLeader, err)
		}
		return ledger.Result{}, err
	}
	res, _ := f.Response().(ledger.Result)
	if res.Err == nil || errors.Is(res.Err, ledger.ErrRefused) {
		return res, res.Err
	}
	return res, fmt.Errorf("%w: %w", ledger.ErrRefused, res.Err)
}

// Status is the node's view of the ledger.
type Status struct {
	State  string // Leader, Follower, Candidate, Shutdown
	Leader string // the leader's node id, "" when unknown
	Height uint64 // the last entry applied here
	Voter  bool
}

// Status reports the node's Raft state.
func (l *Member) Status() Status {
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
func (l *Member) IsLeader() bool { return l.raft.State() == raft.Leader }

// LeaderAddr is the leader's address in the configuration
// ("<node id>@<host:port>"), "" when unknown.
func (l *Member) LeaderAddr() string {
	addr, _ := l.raft.LeaderWithID()
	return string(addr)
}

// Server is a member in the ledger's configuration.
type Server struct {
	ID    string
	Addr  string // its port's address
	Voter bool
}

// Servers lists the ledger's configuration.
func (l *Member) Servers() ([]Server, error) {
	f := l.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, err
	}
	var out []Server
	for _, s := range f.Configuration().Servers {
		_, addr, _ := splitAddress(s.Address)
		out = append(out, Server{ID: string(s.ID), Addr: addr, Voter: s.Suffrage == raft.Voter})
	}
	return out, nil
}

// AddMember adds a voter or a non-voter, or updates its address. Leader
// only.
func (l *Member) AddMember(id syncproto.NodeID, addr string, voter bool) error {
	var f raft.IndexFuture
	sid, at := raft.ServerID(id.String()), serverAddress(id.String(), addr)
	if voter {
		f = l.raft.AddVoter(sid, at, 0, 10*time.Second)
	} else {
		f = l.raft.AddNonvoter(sid, at, 0, 10*time.Second)
	}
	return f.Error()
}

// DemoteMember makes a voter a non-voter. Leader only.
func (l *Member) DemoteMember(id string) error {
	return l.raft.DemoteVoter(raft.ServerID(id), 0, 10*time.Second).Error()
}

// RemoveMember takes a server out of the configuration. Leader only.
func (l *Member) RemoveMember(id string) error {
	return l.raft.RemoveServer(raft.ServerID(id), 0, 10*time.Second).Error()
}

// ServeConn serves the RPCs of a Ledger connection the port admitted. It
// reports false when the member is shutting down.
func (l *Member) ServeConn(conn net.Conn, peer identity.Claims) bool { return l.tr.serve(conn, peer) }

// admit says whether a peer may send RPCs: only a voter of the ledger's
// current configuration (only voters lead and stand for election). A
// member that holds no configuration yet (it was just added, or never
// started a ledger) takes its first entries from headquarters only. It is
// asked before an RPC is decoded, and the RPC must then claim to be the
// peer itself.
func (l *Member) admit(peer identity.Claims) error {
	claimed := raft.ServerID(peer.Node.String())
	if l.raft == nil {
		return errors.New("the ledger is starting")
	}
	servers := l.raft.GetConfiguration().Configuration().Servers
	if len(servers) == 0 {
		if peer.Role.Decides() {
			return nil
		}
		return fmt.Errorf("%s: this node holds no ledger yet and takes its first entries from headquarters only", peer)
	}
	for _, s := range servers {
		if s.ID == claimed {
			if s.Suffrage == raft.Voter {
				return nil
			}
			return fmt.Errorf("%s is not a voter of the ledger", peer)
		}
	}
	return fmt.Errorf("%s is not a member of the ledger", peer)
}

// Snapshot makes a snapshot now.
func (l *Member) Snapshot() error { return l.raft.Snapshot().Error() }

// Barrier waits until every entry committed before it is applied here.
func (l *Member) Barrier(timeout time.Duration) error { return l.raft.Barrier(timeout).Error() }

// Shutdown stops the member.
func (l *Member) Shutdown() error {
	// An entry waiting for the store (a full disk) must not hold the
	// shutdown: it applies at the next start.
	l.fsm.Stop()
	err := l.raft.Shutdown().Error()
	l.tr.Close()
	return errors.Join(err, l.wal.Close(), l.meta.Close())
}
