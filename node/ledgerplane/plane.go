package ledgerplane

import (
	"cmp"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/raft"

	"lifeline/node/gossip"
	"lifeline/node/identity"
	"lifeline/node/internal/loglimit"
	"lifeline/node/ledger"
	"lifeline/node/port"
	"lifeline/node/store"
	"lifeline/syncproto"
)

// Store is what the ledger plane needs of the node's store. Its methods
// are called from the plane's loop, from Raft's goroutines and from
// connections, concurrently.
type Store interface {
	ledger.Store
	// Vector is what the node holds; Ledger what the ledger committed.
	Vector(ctx context.Context) (syncproto.Vector, error)
	Ledger(ctx context.Context) (store.LedgerState, error)
	HeadAt(ctx context.Context, st syncproto.Stream, seq uint64) (syncproto.Hash, error)
	// Created lists the records whose first change is in a range.
	Created(ctx context.Context, st syncproto.Stream, from, to uint64) ([]ledger.NewRecord, error)
	// The outbox holds commands the command line queued for the ledger.
	PendingOutbox(ctx context.Context) ([]store.Outbox, error)
	DoneOutbox(ctx context.Context, id int64) error
	SetState(ctx context.Context, key, value string) error
	State(ctx context.Context, key string) (string, time.Time, error)
	// LedgerMembers are the members headquarters decided.
	LedgerMembers(ctx context.Context) (map[syncproto.NodeID]store.LedgerMember, error)
	// Revoked reports whether a node is known to be revoked.
	Revoked(ctx context.Context, node syncproto.NodeID) (bool, error)
	// Considered reports whether the ledger considered a decision
	// already, and whether it refused it.
	Considered(ctx context.Context, digest [32]byte) (seen, refused bool, err error)
	// Changed is signalled when changes reach the store.
	Changed() <-chan struct{}
}

// Config is a node's part in the ledger plane.
type Config struct {
	Dir       string // the Raft log and snapshots
	Self      syncproto.NodeID
	Addr      string // where other members reach this node's port
	Bootstrap bool
	// CA is the deployment's CA certificate.
	CA           *x509.Certificate
	Timers       Timers
	ProposeEvery time.Duration
	// MembersEvery is how often the leader brings the configuration in
	// line with the members headquarters decided.
	MembersEvery time.Duration
	Store        Store
	Dialer       port.Dialer
	// Members lists the members gossip knows, nil when the node does not
	// gossip: it says where each member is, never who is one.
	Members func() []gossip.Member
	// OnApply hears of each command applied, on every member.
	OnApply func(ledger.Applied)
	// Push syncs with the leader (at its configuration address), so that
	// it holds the changes a commit this member forwards names: the leader
	// proposes only what it can vouch for.
	Push func(ctx context.Context, leader string) error
	Log  *slog.Logger
}

// Timers tune Raft: satellite links need long timeouts, tests short ones.
// Zero values take Raft's defaults.
type Timers struct {
	Heartbeat, Election, LeaderLease, Commit time.Duration
	SnapshotThreshold                        uint64
	SegmentSize                              int
}

// Plane is a relay's or HQ's part in the ledger while the node runs: its
// Raft member, and the loop that commits what reaches the node.
type Plane struct {
	cfg    Config
	layer  *Layer
	member *Member

	stop context.CancelFunc
	done chan struct{}

	lastStatus   string // the status last recorded, and when
	lastStatusAt time.Time

	where whereabouts // the members' addresses gossip gives, checked

	refused *loglimit.Limiter // what members sent that was refused
}

// New makes the plane; Start opens its Raft member.
func New(cfg Config) *Plane {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Plane{cfg: cfg, refused: NewRefusals(cfg.Log)}
}

// Start opens the Raft member and starts the loop.
func (p *Plane) Start(ctx context.Context) error {
	p.layer = NewLayer(tcpAddr(serverAddress(p.cfg.Self.String(), p.cfg.Addr)), func(ctx context.Context, a raft.ServerAddress) (net.Conn, error) {
		return dialMember(ctx, p.cfg.Dialer, a)
	})
	p.where.dial = func(ctx context.Context, a raft.ServerAddress) error {
		conn, err := dialMember(ctx, p.cfg.Dialer, a)
		if err == nil {
			conn.Close()
		}
		return err
	}
	t := p.cfg.Timers
	m, err := OpenMember(MemberConfig{
		Dir: p.cfg.Dir, ID: p.cfg.Self, Addr: p.cfg.Addr, Bootstrap: p.cfg.Bootstrap,
		HeartbeatTimeout: t.Heartbeat, ElectionTimeout: t.Election, LeaderLeaseTimeout: t.LeaderLease, CommitTimeout: t.Commit,
		SnapshotThreshold: t.SnapshotThreshold, SegmentSize: t.SegmentSize,
		Layer: p.layer, Store: p.cfg.Store, CA: p.cfg.CA, Log: p.cfg.Log, OnApply: p.cfg.OnApply, Refused: p.refused,
	})
	if err != nil {
		p.layer.Close()
		return fmt.Errorf("ledger: %w", err)
	}
	p.member = m
	ctx, p.stop = context.WithCancel(ctx)
	p.done = make(chan struct{})
	go func() {
		defer close(p.done)
		p.loop(ctx)
	}()
	return nil
}

// Stop stops the loop and the Raft member.
func (p *Plane) Stop() {
	if p.stop == nil {
		return
	}
	p.stop()
	<-p.done
	p.where.wait()
	if err := p.member.Shutdown(); err != nil {
		p.cfg.Log.Warn("ledger shutdown", "err", err)
	}
	p.layer.Close()
	p.refused.Stop()
}

// Member is the node's Raft member.
func (p *Plane) Member() *Member { return p.member }

type tcpAddr string

func (a tcpAddr) Network() string { return "tcp" }
func (a tcpAddr) String() string  { return string(a) }

// loop keeps the ledger up to date while the node runs: every member
// commits what reached its store and the commands queued in its outbox,
// itself when it leads, through the leader otherwise. A relay cut off from
// the leader keeps its changes and commits them when it can reach it
// again; changes the leader already committed, from any member, are
// skipped by the ledger.
func (p *Plane) loop(ctx context.Context) {
	tick := time.NewTicker(p.cfg.ProposeEvery)
	defer tick.Stop()
	members := time.NewTicker(p.cfg.MembersEvery)
	defer members.Stop()
	// New changes are proposed at once after a quiet spell; while they
	// keep coming, once per ProposeEvery, so that entries batch them.
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-members.C:
			p.reconcile(ctx)
			continue
		case <-tick.C:
		case <-p.cfg.Store.Changed():
			if time.Since(last) < p.cfg.ProposeEvery {
				continue
			}
		}
		last = time.Now()
		if err := p.drainOutbox(ctx); err != nil && ctx.Err() == nil {
			p.cfg.Log.Debug("ledger outbox", "err", err)
		}
		if _, err := p.CommitPending(ctx); err != nil && ctx.Err() == nil {
			p.cfg.Log.Debug("ledger commit", "err", err)
		}
		p.recordStatus(ctx)
	}
}

// maxCommitChanges bounds the changes one ledger entry commits, so that an
// entry stays small for a follower on a slow link.
const maxCommitChanges = 50000

// createdPart is the most changes of a range one reader goes through when
// a commit's new records are found.
const createdPart = 4096

// CommitPending proposes every change this node holds that the ledger has
// not committed, and returns how many the ledger took (on the leader; a
// follower forwards, and learns the outcome as the entries apply). Only
// the leader lists the records a commit creates: it lists them again for a
// forwarded commit in any case, and a node that knows no leader has
// nothing to send, so neither reads the changes.
func (p *Plane) CommitPending(ctx context.Context) (int, error) {
	total := 0
	for {
		leading := p.member.IsLeader()
		leader := ""
		if !leading {
			if leader = p.member.LeaderAddr(); leader == "" {
				return total, errors.New("no leader")
			}
		}
		cmd, err := p.pendingCommit(ctx)
		if err != nil || len(cmd.Ranges) == 0 {
			return total, err
		}
		if !leading {
			entry, err := ledger.Encode(ledger.CmdCommit, cmd)
			if err != nil {
				return total, err
			}
			if p.cfg.Push != nil {
				if err := p.cfg.Push(ctx, leader); err != nil {
					return total, err
				}
			}
			return total, p.Forward(ctx, leader, entry)
		}
		if cmd.New, err = p.created(ctx, cmd.Ranges); err != nil {
			return total, err
		}
		res, err := p.member.Propose(ledger.CmdCommit, cmd, 30*time.Second)
		if err != nil {
			return total, err
		}
		if res.Committed == 0 {
			return total, nil // a stale view: next tick
		}
		total += res.Committed
	}
}

// pendingCommit builds the ranges of the next commit: changes held here
// beyond what the ledger committed, lane 1 first, at most maxCommitChanges.
// The records they create are left to the leader.
func (p *Plane) pendingCommit(ctx context.Context) (*ledger.Commit, error) {
	s := p.cfg.Store
	held, err := s.Vector(ctx)
	if err != nil {
		return nil, err
	}
	state, err := s.Ledger(ctx)
	if err != nil {
		return nil, err
	}
	streams := make([]syncproto.Stream, 0, len(held))
	for st, seq := range held {
		if seq > state.Committed[st] {
			streams = append(streams, st)
		}
	}
	slices.SortFunc(streams, syncproto.Stream.Compare)
	cmd := &ledger.Commit{}
	budget := maxCommitChanges
	for _, st := range streams {
		if budget == 0 {
			break
		}
		from := state.Committed[st] + 1
		to := min(held[st], from+uint64(budget)-1)
		head, err := s.HeadAt(ctx, st, to)
		if err != nil {
			return nil, err
		}
		cmd.Ranges = append(cmd.Ranges, ledger.Range{Stream: st, From: from, To: to, Head: head})
		budget -= int(to - from + 1)
	}
	return cmd, nil
}

// created lists the records the ranges create. Finding them decodes every
// change: the ranges are read side by side, a long one in parts, and their
// records listed in the ranges' order.
func (p *Plane) created(ctx context.Context, ranges []ledger.Range) ([]ledger.NewRecord, error) {
	type part struct {
		st       syncproto.Stream
		from, to uint64
	}
	var parts []part
	for _, r := range ranges {
		for lo := r.From; lo <= r.To; lo += createdPart {
			parts = append(parts, part{r.Stream, lo, min(r.To, lo+createdPart-1)})
		}
	}
	created := make([][]ledger.NewRecord, len(parts))
	errs := make([]error, len(parts))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, pt := range parts {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			created[i], errs[i] = p.cfg.Store.Created(ctx, pt.st, pt.from, pt.to)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return slices.Concat(created...), nil
}

// drainOutbox proposes the commands queued on this data folder (by the
// command line), or forwards them to the leader.
func (p *Plane) drainOutbox(ctx context.Context) error {
	pending, err := p.cfg.Store.PendingOutbox(ctx)
	if err != nil || len(pending) == 0 {
		return err
	}
	for _, o := range pending {
		entry := o.Entry()
		if p.member.IsLeader() {
			_, err = p.member.ProposeEntry(entry, 30*time.Second)
		} else if leader := p.member.LeaderAddr(); leader != "" {
			err = p.Forward(ctx, leader, entry)
		} else {
			return errors.New("no leader")
		}
		switch {
		case errors.Is(err, ledger.ErrApplied):
			// A try before this one went through (its answer was lost
			// to a timeout): the command is done.
			p.cfg.Log.Debug("a queued command the ledger applied already", "command", CommandName(entry))
		case errors.Is(err, ledger.ErrRefused):
			// Every member refuses it alike, now and at every try: it
			// is dropped, said once, and the commands after it go on.
			// A revocation is never held up behind a refused command.
			what := CommandName(entry)
			p.cfg.Log.Warn("the ledger refused a queued command; it is dropped", "command", what, "err", err)
			if err := p.noteRefused(ctx, Refused{At: time.Now().UTC(), Command: what, Reason: err.Error()}); err != nil {
				return err
			}
		case err != nil:
			return err
		}
		if err := p.cfg.Store.DoneOutbox(ctx, o.ID); err != nil {
			return err
		}
	}
	return nil
}

// RefusedKey is the node state key under which the running node keeps the
// commands of its outbox the ledger refused, newest last, as JSON of
// []Refused: the person who queued one from the command line has gone, and
// `lifeline status` tells them.
const RefusedKey = "ledger-refused"

// maxRefused is how many refused commands RefusedKey keeps.
const maxRefused = 20

// Refused is a queued command the ledger refused, and why.
type Refused struct {
	At      time.Time `json:"at"`
	Command string    `json:"command"`
	Reason  string    `json:"reason"`
}

// noteRefused adds a refused command to those RefusedKey keeps.
func (p *Plane) noteRefused(ctx context.Context, r Refused) error {
	v, _, err := p.cfg.Store.State(ctx, RefusedKey)
	if err != nil {
		return err
	}
	var list []Refused
	if v != "" {
		// A list this node wrote; one that does not read is started again.
		_ = json.Unmarshal([]byte(v), &list)
	}
	list = append(list, r)
	if len(list) > maxRefused {
		list = list[len(list)-maxRefused:]
	}
	b, err := json.Marshal(list)
	if err != nil {
		return err
	}
	return p.cfg.Store.SetState(ctx, RefusedKey, string(b))
}

// CommandName is an entry's command as a log names it: a decision by
// what it decides.
func CommandName(entry []byte) string {
	t, cmd, err := ledger.Decode(entry)
	if err != nil {
		return "undecodable"
	}
	if d, ok := cmd.(*ledger.Decision); ok {
		return d.Type.String()
	}
	return t.String()
}

// StatusKey is the node state key under which the running node records its
// ledger status, as JSON of RecordedStatus, for other processes to read.
const StatusKey = "raft"

// RecordedStatus is the ledger status as recorded under StatusKey.
type RecordedStatus struct {
	State  string `json:"state"`
	Leader string `json:"leader"`
	Height uint64 `json:"height"`
	Voter  bool   `json:"voter"`
}

// recordStatus writes the ledger status for other processes to read, when
// it changed.
func (p *Plane) recordStatus(ctx context.Context) {
	s := p.member.Status()
	b, _ := json.Marshal(RecordedStatus{State: s.State, Leader: s.Leader, Height: s.Height, Voter: s.Voter})
	if string(b) == p.lastStatus && time.Since(p.lastStatusAt) < 30*time.Second {
		return
	}
	if err := p.cfg.Store.SetState(ctx, StatusKey, string(b)); err == nil {
		p.lastStatus, p.lastStatusAt = string(b), time.Now()
	}
}

// reconcile brings the ledger's configuration in line with the members
// headquarters decided (ledger.Member, enrollments): each at the address
// gossip says it is at (else the one headquarters gave), a voter or not as
// decided; anyone else is removed, a revoked member among them. An address
// only says where to dial: the dial checks that the member answers. Only the leader changes the configuration,
// and never removes itself.
func (p *Plane) reconcile(ctx context.Context) {
	if !p.member.IsLeader() {
		return
	}
	want, err := p.cfg.Store.LedgerMembers(ctx)
	if err != nil {
		return
	}
	servers, err := p.member.Servers()
	if err != nil {
		return
	}
	have := map[string]Server{}
	for _, s := range servers {
		have[s.ID] = s
	}
	where := map[syncproto.NodeID]string{}
	if p.cfg.Members != nil {
		for _, m := range p.cfg.Members() {
			if m.State == gossip.StateAlive && !m.Leaving && m.SyncAddr != "" {
				where[m.Node] = m.SyncAddr
			}
		}
	}
	self := p.cfg.Self.String()
	for id, m := range want {
		if id == p.cfg.Self {
			continue
		}
		voter := m.Voter
		s, in := have[id.String()]
		// Where headquarters' decision or the configuration has it, or
		// where gossip says it is once it answered there.
		addr := cmp.Or(m.Addr, s.Addr)
		if g := where[id]; g != "" && g != addr && (in && g == s.Addr || p.where.answers(ctx, id, g, func(err error) {
			p.cfg.Log.Warn("ledger: gossip says a member is at an address where it does not answer as itself; it stays where the ledger has it",
				"member", id.String(), "gossiped", g, "kept", cmp.Or(addr, "none yet"), "err", err)
		})) {
			addr = g
		}
		var err error
		switch {
		case addr == "":
			continue // not found yet
		case !in || s.Addr != addr || voter && !s.Voter:
			err = p.member.AddMember(id, addr, voter)
		case !voter && s.Voter:
			err = p.member.DemoteMember(id.String())
		default:
			continue
		}
		if err != nil {
			p.cfg.Log.Warn("ledger: a member", "member", id.String(), "voter", voter, "err", err)
		} else {
			p.cfg.Log.Info("ledger: a member", "member", id.String(), "voter", voter, "addr", addr)
		}
	}
	for id := range have {
		if id == self {
			continue
		}
		if node, err := syncproto.ParseNodeID(id); err == nil {
			if _, ok := want[node]; ok {
				continue
			}
		}
		if err := p.member.RemoveMember(id); err != nil {
			p.cfg.Log.Warn("ledger: removing a member headquarters did not decide", "member", id, "err", err)
		} else {
			p.cfg.Log.Info("ledger: removed a member headquarters did not decide", "member", id)
		}
	}
}

// ServeRaft serves a ledger connection's RPCs, each checked against the
// connection's identity, for as long as it lasts. It is the port's door
// for port.Ledger.
func (p *Plane) ServeRaft(_ context.Context, conn net.Conn, peer identity.Claims) bool {
	return p.member != nil && p.member.ServeConn(conn, peer)
}
