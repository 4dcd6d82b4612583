package node

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"

	"lifeline/fieldkits"
	"lifeline/node/ledger"
	"lifeline/schemas"
	"lifeline/syncproto"
)

// maxCommitChanges bounds the changes one ledger entry commits, so that an
// entry stays small for a follower on a slow link.
const maxCommitChanges = 50000

// createdPart is the most changes of a range one reader goes through when
// a commit's new records are found.
const createdPart = 4096

// startLedger opens the node's Raft member, on relays and HQ that serve.
// addr is the address other members reach this node at.
func (n *Node) startLedger(addr string) error {
	if n.Self().Role.Field() {
		return nil
	}
	n.layer = ledger.NewLayer(tcpAddr(addr), func(ctx context.Context, a string) (net.Conn, error) {
		c, peer, err := n.dialTLS(ctx, a, chanLedger)
		if err != nil {
			return nil, err
		}
		return n.cuttable(c, peer.Name), nil
	})
	l, err := ledger.Open(ledger.Config{
		Dir: filepath.Join(n.cfg.DataDir, "raft"), ID: n.Self().ID, Addr: addr, Bootstrap: n.cfg.Bootstrap,
		HeartbeatTimeout: n.cfg.Raft.Heartbeat, ElectionTimeout: n.cfg.Raft.Election,
		LeaderLeaseTimeout: n.cfg.Raft.LeaderLease, CommitTimeout: n.cfg.Raft.Commit,
		SnapshotThreshold: n.cfg.Raft.SnapshotThreshold, SegmentSize: n.cfg.Raft.SegmentSize,
		Layer: n.layer, Store: n.store, Log: n.log, OnApply: n.onApply,
	})
	if err != nil {
		n.layer.Close()
		n.layer = nil
		return fmt.Errorf("ledger: %w", err)
	}
	n.ledger = l
	return nil
}

func (n *Node) stopLedger() {
	if n.ledger != nil {
		if err := n.ledger.Shutdown(); err != nil {
			n.log.Warn("ledger shutdown", "err", err)
		}
		n.ledger = nil
	}
	if n.layer != nil {
		n.layer.Close()
		n.layer = nil
	}
}

type tcpAddr string

func (a tcpAddr) Network() string { return "tcp" }
func (a tcpAddr) String() string  { return string(a) }

// ledgerLoop keeps the ledger up to date while the node runs: every member
// commits what reached its store and the commands queued in its outbox,
// itself when it leads, through the leader otherwise. A relay cut off from
// the leader keeps its changes and commits them when it can reach it
// again; changes the leader already committed, from any member, are
// skipped by the ledger.
func (n *Node) ledgerLoop(ctx context.Context) {
	tick := time.NewTicker(n.cfg.Raft.ProposeEvery)
	defer tick.Stop()
	// New changes are proposed at once after a quiet spell; while they
	// keep coming, once per ProposeEvery, so that entries batch them.
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-n.store.Changed():
			if time.Since(last) < n.cfg.Raft.ProposeEvery {
				continue
			}
		}
		last = time.Now()
		if n.ledger == nil {
			continue
		}
		if err := n.drainOutbox(ctx); err != nil && ctx.Err() == nil {
			n.log.Debug("ledger outbox", "err", err)
		}
		if _, err := n.CommitPending(ctx); err != nil && ctx.Err() == nil {
			n.log.Debug("ledger commit", "err", err)
		}
		n.recordRaftStatus(ctx)
	}
}

// CommitPending proposes every change this node holds that the ledger has
// not committed, and returns how many the ledger took (on the leader; a
// follower forwards, and learns the outcome as the entries apply).
func (n *Node) CommitPending(ctx context.Context) (int, error) {
	if n.ledger == nil {
		return 0, errors.New("this node has no ledger")
	}
	total := 0
	for {
		cmd, err := n.pendingCommit(ctx)
		if err != nil || len(cmd.Ranges) == 0 {
			return total, err
		}
		if !n.ledger.IsLeader() {
			leader := n.ledger.LeaderAddr()
			if leader == "" {
				return total, errors.New("no leader")
			}
			entry, err := ledger.Encode(ledger.CmdCommit, cmd)
			if err != nil {
				return total, err
			}
			return total, n.forward(ctx, leader, entry)
		}
		res, err := n.ledger.Propose(ledger.CmdCommit, cmd, 30*time.Second)
		if err != nil {
			return total, err
		}
		if res.Committed == 0 {
			return total, nil // a stale view: next tick
		}
		total += res.Committed
	}
}

// pendingCommit builds the next commit: ranges of changes held here beyond
// what the ledger committed, lane 1 first, at most maxCommitChanges.
func (n *Node) pendingCommit(ctx context.Context) (*ledger.Commit, error) {
	held, err := n.store.Vector(ctx)
	if err != nil {
		return nil, err
	}
	state, err := n.store.Ledger(ctx)
	if err != nil {
		return nil, err
	}
	streams := make([]syncproto.Stream, 0, len(held))
	for st, seq := range held {
		if seq > state.Committed[st] {
			streams = append(streams, st)
		}
	}
	sortStreams(streams)
	cmd := &ledger.Commit{}
	budget := maxCommitChanges
	for _, st := range streams {
		if budget == 0 {
			break
		}
		from := state.Committed[st] + 1
		to := min(held[st], from+uint64(budget)-1)
		head, err := n.store.HeadAt(ctx, st, to)
		if err != nil {
			return nil, err
		}
		cmd.Ranges = append(cmd.Ranges, ledger.Range{Stream: st, From: from, To: to, Head: head})
		budget -= int(to - from + 1)
	}
	// Finding the records the ranges create decodes every change: the
	// ranges are read side by side, a long one in parts, and their records
	// listed in the ranges' order.
	type part struct {
		st       syncproto.Stream
		from, to uint64
	}
	var parts []part
	for _, r := range cmd.Ranges {
		for lo := r.From; lo <= r.To; lo += createdPart {
			parts = append(parts, part{r.Stream, lo, min(r.To, lo+createdPart-1)})
		}
	}
	created := make([][]ledger.NewRecord, len(parts))
	errs := make([]error, len(parts))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, p := range parts {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			created[i], errs[i] = n.store.Created(ctx, p.st, p.from, p.to)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	cmd.New = slices.Concat(created...)
	return cmd, nil
}

func sortStreams(s []syncproto.Stream) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j].Compare(s[j-1]) < 0; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// drainOutbox proposes the commands queued on this data folder (by the
// command line), or forwards them to the leader.
func (n *Node) drainOutbox(ctx context.Context) error {
	pending, err := n.store.PendingOutbox(ctx)
	if err != nil || len(pending) == 0 {
		return err
	}
	for _, o := range pending {
		entry := append([]byte{byte(o.Kind)}, o.Body...)
		if n.ledger.IsLeader() {
			_, err = n.ledger.ProposeEntry(entry, 30*time.Second)
		} else if leader := n.ledger.LeaderAddr(); leader != "" {
			err = n.forward(ctx, leader, entry)
		} else {
			return errors.New("no leader")
		}
		if err != nil {
			return err
		}
		if err := n.store.DoneOutbox(ctx, o.ID); err != nil {
			return err
		}
	}
	return nil
}

// recordRaftStatus writes the ledger status for other processes to read,
// when it changed.
func (n *Node) recordRaftStatus(ctx context.Context) {
	s := n.ledger.Status()
	b, _ := json.Marshal(RaftStatus{State: s.State, Leader: s.Leader, Height: s.Height, Voter: s.Voter})
	if string(b) == n.lastRaft && time.Since(n.lastRaftAt) < 30*time.Second {
		return
	}
	if err := n.store.SetState(ctx, stateRaft, string(b)); err == nil {
		n.lastRaft, n.lastRaftAt = string(b), time.Now()
	}
}

// onApply reacts to ledger commands as this node applies them.
func (n *Node) onApply(t ledger.CommandType, cmd any) {
	switch t {
	case ledger.CmdKit:
		if err := n.loadKits(context.Background()); err != nil {
			n.log.Error("reloading kits", "err", err)
		}
	case ledger.CmdRevoke:
		r := cmd.(*ledger.Revoke)
		n.trust.forget(r.Node)
		// The leader tells the nodes outside the ledger.
		if n.ledger != nil && n.ledger.IsLeader() {
			if body, err := syncproto.Marshal(r); err == nil {
				if err := n.broadcast(noticeRevoke, body); err != nil {
					n.log.Warn("gossip: spreading a revocation", "err", err)
				}
			}
		}
	}
}

// Revoke asks the ledger to revoke a node: every relay and HQ refuses it
// once the command is committed, and gossip carries the news to the field.
// Only headquarters revokes.
func (n *Node) Revoke(ctx context.Context, node syncproto.NodeID, reason string) error {
	if !n.Self().Role.Decides() {
		return fmt.Errorf("only headquarters revokes nodes; %s is a %s node", n.Self().Name, n.Self().Role)
	}
	if node == n.Self().ID {
		return errors.New("a node cannot revoke itself")
	}
	return n.Queue(ctx, ledger.CmdRevoke, &ledger.Revoke{Node: node, Reason: reason, At: time.Now().UnixMilli(), By: n.Self().ID})
}

// PublishKit asks the ledger to publish a kit file to every relay and HQ.
// The file is checked first, and with the kits already here.
func (n *Node) PublishKit(ctx context.Context, name string, data []byte) (*schemas.Kit, error) {
	if !n.Self().Role.Decides() {
		return nil, fmt.Errorf("only headquarters publishes kits; %s is a %s node", n.Self().Name, n.Self().Role)
	}
	k, err := fieldkits.Parse(name, data)
	if err != nil {
		return nil, err
	}
	if _, err := n.Kits().With([]*schemas.Kit{k}); err != nil {
		return nil, err
	}
	return k, n.Queue(ctx, ledger.CmdKit, &ledger.Kit{Name: k.Name, Version: k.Version, Body: data})
}

// Queue puts a ledger command in the outbox, for the running node of this
// data folder to propose.
func (n *Node) Queue(ctx context.Context, t ledger.CommandType, cmd any) error {
	entry, err := ledger.Encode(t, cmd)
	if err != nil {
		return err
	}
	return n.store.AddOutbox(ctx, t, entry[1:])
}

// Ledger is the node's Raft member, nil unless it runs as a relay or HQ.
func (n *Node) Ledger() *ledger.Ledger { return n.ledger }

// revokedCheck refuses peers the ledger (or a notice) revoked.
func (n *Node) revokedCheck(node syncproto.NodeID) error {
	revoked, err := n.store.Revoked(context.Background(), node)
	if err != nil {
		return err
	}
	if revoked {
		return errors.New("headquarters revoked its certificate")
	}
	return nil
}

// LedgerEntry is one range of changes in the canonical ledger, as people
// and scripts read it.
type LedgerEntry struct {
	Position uint64 `json:"position"` // from 1, in commit order
	Entry    uint64 `json:"entry"`    // the Raft index that committed it
	Node     string `json:"node"`     // the origin's id
	Name     string `json:"name,omitempty"`
	Lane     uint8  `json:"lane"`
	First    uint64 `json:"first"`
	Last     uint64 `json:"last"`
	Head     string `json:"head"` // the origin's chain head at Last, hex
}

// LedgerLog lists what the ledger committed, in commit order, from after
// position, at most limit ranges (all when 0). It is empty on field nodes.
func (n *Node) LedgerLog(ctx context.Context, after uint64, limit int) ([]LedgerEntry, error) {
	log, err := n.store.LedgerLog(ctx, after, limit)
	if err != nil {
		return nil, err
	}
	known, err := n.store.Nodes(ctx)
	if err != nil {
		return nil, err
	}
	names := map[syncproto.NodeID]string{}
	for _, k := range known {
		names[k.Node] = k.Name
	}
	out := make([]LedgerEntry, 0, len(log))
	for _, e := range log {
		out = append(out, LedgerEntry{Position: e.Position, Entry: e.Entry, Node: e.Stream.Origin.String(), Name: names[e.Stream.Origin],
			Lane: e.Stream.Lane, First: e.First, Last: e.Last, Head: hex.EncodeToString(e.Head[:])})
	}
	return out, nil
}
