package ledgerplane

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

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
// port's door for port.Propose. Only what headquarters decides
// (enrollments, revocations, kits, conflict decisions) needs an HQ node
// behind it; a relay forwards commits.
func (p *Plane) ServeProposal(_ context.Context, conn net.Conn, from identity.Claims) bool {
	conn.SetDeadline(time.Now().Add(forwardTimeout))
	r := syncproto.NewFrameReader(io.LimitReader(conn, maxProposal+16))
	_, body, err := r.Read()
	if err == nil {
		var t ledger.CommandType
		t, _, err = ledger.Decode(body)
		switch {
		case err != nil:
		case t != ledger.CmdCommit && !from.Role.Decides():
			err = fmt.Errorf("only headquarters proposes %s; %s is a %s node", t, from.Name, from.Role)
			p.cfg.Log.Warn("refused a forwarded ledger command", "from", from.String(), "err", err)
		case p.member == nil:
			err = ErrNotLeader
		default:
			_, err = p.member.ProposeEntry(body, 20*time.Second)
		}
	}
	if err != nil {
		syncproto.WriteFrame(conn, syncproto.MsgError, &syncproto.Error{Code: syncproto.CodeInternal, Message: err.Error()})
		return false
	}
	syncproto.WriteFrame(conn, syncproto.MsgDone, &syncproto.Done{})
	return false
}

// Forward sends a ledger entry to the leader at addr.
func (p *Plane) Forward(ctx context.Context, addr string, entry []byte) error {
	return Forward(ctx, p.cfg.Dialer, addr, entry)
}

// Forward sends a ledger entry to the leader at addr, as a member does.
func Forward(ctx context.Context, d port.Dialer, addr string, entry []byte) error {
	conn, _, err := d.Dial(ctx, addr, port.Propose)
	if err != nil {
		return err
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
		return errors.New(m.(*syncproto.Error).Message)
	}
	return nil
}
