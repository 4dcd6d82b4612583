package ledgerplane

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/hashicorp/raft"

	"lifeline/node/identity"
	"lifeline/node/ledger"
	"lifeline/node/port"
	"lifeline/syncproto"
)

// A member that does not lead sends its entries to the leader over the
// port's Propose channel: one frame with the entry, answered by Done or an
// Error.

// maxProposal bounds a forwarded command.
const maxProposal = ledger.MaxEntryBytes

// forwardTimeout bounds a forwarded proposal, both ways.
const forwardTimeout = 30 * time.Second

// ServeProposal reads one forwarded ledger entry, proposes it if this node
// leads, and answers with a frame: an Error message, or Done. It is the
// port's door for port.Propose. What is proposed is checked first: a
// decision must carry headquarters' signature (every member's state
// machine checks it again), and a commit is proposed as this node can
// vouch for it (verifyCommit), never as it came.
func (p *Plane) ServeProposal(ctx context.Context, conn net.Conn, from identity.Claims) bool {
	conn.SetDeadline(time.Now().Add(forwardTimeout))
	r := syncproto.NewFrameReader(io.LimitReader(conn, maxProposal+16))
	_, body, err := r.Read()
	if err == nil {
		err = p.proposeForwarded(ctx, body)
		if err != nil && !errors.Is(err, ErrNotLeader) {
			p.refused.LogAt(slog.LevelWarn, "refused a forwarded ledger command", "from", from.String(), "err", err)
		}
	}
	if err != nil {
		code := syncproto.CodeInternal
		switch {
		case errors.Is(err, ledger.ErrApplied):
			code = syncproto.CodeApplied
		case errors.Is(err, ledger.ErrRefused):
			code = syncproto.CodeRefused
		}
		syncproto.WriteFrame(conn, syncproto.MsgError, &syncproto.Error{Code: code, Message: err.Error()})
		return false
	}
	syncproto.WriteFrame(conn, syncproto.MsgDone, &syncproto.Done{})
	return false
}

func (p *Plane) proposeForwarded(ctx context.Context, entry []byte) error {
	t, cmd, err := ledger.Decode(entry)
	if err != nil {
		return fmt.Errorf("%w: %w", ledger.ErrRefused, err)
	}
	if p.member == nil || !p.member.IsLeader() {
		return ErrNotLeader
	}
	switch c := cmd.(type) {
	case *ledger.Decision:
		if _, err := c.Verify(p.cfg.CA, func(id syncproto.NodeID) (bool, error) { return p.cfg.Store.Revoked(ctx, id) }, time.Now()); err != nil {
			if errors.Is(err, ledger.ErrNotHQ) {
				err = fmt.Errorf("%w: %w", ledger.ErrRefused, err)
			}
			return err
		}
		// Every member refuses it again at apply; refused here, a member
		// replaying the log it holds does not grow the log either.
		if seen, refused, err := p.cfg.Store.Considered(ctx, c.Digest()); err != nil || seen {
			if seen {
				err = ledger.Considered(c, refused)
			}
			return err
		}
		_, err = p.member.ProposeEntry(entry, 20*time.Second)
		return err
	case *ledger.Commit:
		mine, err := p.verifyCommit(ctx, c)
		if err != nil || len(mine.Ranges) == 0 {
			return err
		}
		_, err = p.member.Propose(ledger.CmdCommit, mine, 20*time.Second)
		return err
	}
	return fmt.Errorf("%w: a forwarded %s", ledger.ErrRefused, t)
}

// refusal is the leader's refusal of a forwarded entry, in its words:
// ledger.ErrRefused, and ledger.ErrApplied when it was applied already.
type refusal struct {
	msg     string
	applied bool
}

func (r refusal) Error() string { return r.msg }

func (r refusal) Is(target error) bool {
	return target == ledger.ErrRefused || r.applied && target == ledger.ErrApplied
}

// ErrForgedCommit: a forwarded commit names a chain head this node does not
// hold for that range: its sender made it up, or holds a forked stream.
var ErrForgedCommit = errors.New("a forwarded commit names a chain head that is not the stream's")

// verifyCommit is the commit of a member's as this node vouches for it:
// each range of changes this node holds whose chain head is the one named
// (a range it does not hold yet is left for a later entry: its changes are
// on their way), and the records those changes create, as this node finds
// them. A head that differs refuses the whole commit. Of the ranges whose
// heads check, only a stream's first that starts right after what the
// ledger committed is kept, the one the state machine would apply: each
// other would cost a read of its changes for nothing, and a relay could
// name one range thousands of times in an entry. A commit of more changes
// than one entry takes is refused before anything is read: a member never
// forwards one, and the leader would read every change of it to find the
// records it creates, and propose them all in one entry.
func (p *Plane) verifyCommit(ctx context.Context, c *ledger.Commit) (*ledger.Commit, error) {
	left := uint64(maxCommitChanges)
	for _, r := range c.Ranges {
		n := r.To - r.From + 1
		if n > left {
			return nil, fmt.Errorf("%w: a forwarded commit of more than %d changes, the most one entry commits", ledger.ErrRefused, maxCommitChanges)
		}
		left -= n
	}
	held, err := p.cfg.Store.Vector(ctx)
	if err != nil {
		return nil, err
	}
	state, err := p.cfg.Store.Ledger(ctx)
	if err != nil {
		return nil, err
	}
	mine := &ledger.Commit{}
	checked := map[ledger.Range]bool{}
	named := map[syncproto.Stream]bool{}
	for _, r := range c.Ranges {
		if held[r.Stream] < r.To || checked[r] {
			continue
		}
		checked[r] = true
		head, err := p.cfg.Store.HeadAt(ctx, r.Stream, r.To)
		if err != nil {
			return nil, err
		}
		if head != r.Head {
			return nil, fmt.Errorf("%w: %s at %d", ErrForgedCommit, r.Stream, r.To)
		}
		if r.From != state.Committed[r.Stream]+1 || named[r.Stream] {
			continue
		}
		named[r.Stream] = true
		mine.Ranges = append(mine.Ranges, r)
	}
	mine.New, err = p.created(ctx, mine.Ranges)
	return mine, err
}

// Forward sends a ledger entry to the leader at addr.
func (p *Plane) Forward(ctx context.Context, addr string, entry []byte) error {
	return Forward(ctx, p.cfg.Dialer, addr, entry)
}

// Forward sends a ledger entry to the leader at its configuration address
// ("<node id>@<host:port>"), as a member does: the node that answers must
// be that member.
func Forward(ctx context.Context, d port.Dialer, leader string, entry []byte) error {
	id, addr, err := splitAddress(raft.ServerAddress(leader))
	if err != nil {
		return err
	}
	conn, peer, err := d.Dial(ctx, addr, port.Propose)
	if err != nil {
		return err
	}
	if peer.Node.String() != id {
		conn.Close()
		return fmt.Errorf("ledger: %s answered at %s, where the leader %s should be", peer, addr, id)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(forwardTimeout))
	if _, err := syncproto.WriteRaw(conn, syncproto.MsgSeal, entry); err != nil {
		return err
	}
	t, body, err := syncproto.NewFrameReader(conn).Read()
	if err != nil {
		return err
	}
	if t == syncproto.MsgError {
		m, derr := syncproto.Decode(t, body)
		if derr != nil {
			return derr
		}
		e := m.(*syncproto.Error)
		if e.Code == syncproto.CodeApplied || e.Code == syncproto.CodeRefused {
			return refusal{msg: e.Message, applied: e.Code == syncproto.CodeApplied}
		}
		return errors.New(e.Message)
	}
	return nil
}
