package peersync

import (
	"context"
	"errors"
	"fmt"
	"io"

	"lifeline/node/store"
	"lifeline/syncproto"
)

// A snapshot is how a new or wiped node starts: one transfer, from a relay
// or headquarters, of every stream the node keeps, whole, then a session
// for what came after. It is a bundle (the same frames, sealed by its
// writer) that Export writes for the new node's reach, and that
// ImportSnapshot checks more strictly than a bundle:
//
//   - each stream it carries starts at the stream's first change and runs
//     without a gap, so that what the node holds afterwards is whole;
//   - it carries headquarters' receipts, and every receipt of a stream the
//     node keeps is met: the snapshot's chain reaches the receipt's
//     sequence with the receipt's head there. What the ledger had
//     committed when the snapshot was written is in it, change for change,
//     and a writer that leaves out the end of a stream, or a stream whose
//     receipt it carries, is refused.
//
// Each change is still checked against its origin's signed heads, as in
// any bundle. What the checks cannot show is a stream the writer left out
// together with its receipt: the node's next session, with any peer, brings
// it, as it brings what was written after the snapshot.

// SnapshotTrust is what snapshots need of trust, beyond a bundle's.
type SnapshotTrust interface {
	BundleTrust
	// CheckReceipts returns the receipts of m that an unrevoked
	// headquarters node of this deployment signed; it keeps nothing.
	CheckReceipts(ctx context.Context, m *syncproto.Receipts) []syncproto.Receipt
}

// ErrSnapshot is wrapped by the reasons a snapshot is refused that a plain
// bundle would not be.
var ErrSnapshot = errors.New("not a whole snapshot")

// ImportSnapshot applies a snapshot as ImportKept applies a bundle, in one
// transaction, and refuses it whole if it is not a whole snapshot of what
// keep keeps (see above).
func ImportSnapshot(ctx context.Context, r io.Reader, st BundleStore, trust SnapshotTrust, keep func(writer []byte, st syncproto.Stream) bool) (ImportResult, error) {
	return importBundle(ctx, r, st, trust, keep, &snapshotCheck{trust: trust, reached: map[syncproto.Stream]reached{}, due: map[syncproto.Stream]syncproto.Receipt{}}, nil)
}

// snapshotCheck follows a snapshot's streams as they are read.
type snapshotCheck struct {
	trust   SnapshotTrust
	reached map[syncproto.Stream]reached
	due     map[syncproto.Stream]syncproto.Receipt // the receipt each stream must meet
	vouched bool                                   // a receipt of headquarters was read
}

// reached is how far a snapshot's stream has come: its last sequence and
// the chain hash there.
type reached struct {
	seq  uint64
	head syncproto.Hash
}

// expect reads headquarters' receipts: each is a point its stream must
// pass through. A receipt that does not check is left aside (it is no
// claim of headquarters); one that comes after the changes it covers is
// refused, since it could not be checked against them.
func (c *snapshotCheck) expect(ctx context.Context, m *syncproto.Receipts) error {
	if c == nil {
		return nil
	}
	for _, r := range c.trust.CheckReceipts(ctx, m) {
		c.vouched = true
		if c.reached[r.Stream].seq > 0 {
			return fmt.Errorf("%w: headquarters' receipt of %s comes after its changes", ErrSnapshot, r.Stream)
		}
		d, ok := c.due[r.Stream]
		if ok && d.Seq == r.Seq && d.Head != r.Head {
			return fmt.Errorf("%w: headquarters' receipts name two chains of %s at sequence %d", ErrSnapshot, r.Stream, r.Seq)
		}
		if !ok || r.Seq > d.Seq {
			c.due[r.Stream] = r
		}
	}
	return nil
}

// add follows the changes of a batch, as kept.
func (c *snapshotCheck) add(in []store.Incoming) error {
	if c == nil {
		return nil
	}
	for _, x := range in {
		st := x.Change.Stream()
		at := c.reached[st]
		if x.Change.Seq != at.seq+1 {
			if at.seq == 0 {
				return fmt.Errorf("%w: stream %s starts at sequence %d, not at its first change", ErrSnapshot, st, x.Change.Seq)
			}
			return fmt.Errorf("%w: stream %s jumps from sequence %d to %d", ErrSnapshot, st, at.seq, x.Change.Seq)
		}
		at.seq = x.Change.Seq
		at.head = syncproto.ChainLink(at.head, *x.BodySum) // incoming sets it
		c.reached[st] = at
		if d, ok := c.due[st]; ok && d.Seq == at.seq && d.Head != at.head {
			return fmt.Errorf("%w: stream %s at sequence %d is not the chain headquarters' receipt names", ErrSnapshot, st, at.seq)
		}
	}
	return nil
}

// complete checks, once the snapshot is read and sealed, that it met every
// receipt of a stream kept.
func (c *snapshotCheck) complete(writer []byte, keep func(writer []byte, st syncproto.Stream) bool) error {
	if c == nil {
		return nil
	}
	if !c.vouched {
		return fmt.Errorf("%w: it carries no receipt of headquarters, so nothing shows it holds what the ledger committed", ErrSnapshot)
	}
	for st, d := range c.due {
		if keep != nil && !keep(writer, st) {
			continue
		}
		if got := c.reached[st].seq; got < d.Seq {
			return fmt.Errorf("%w: stream %s ends at sequence %d, and headquarters' receipt says the ledger committed it to %d: the snapshot was cut short", ErrSnapshot, st, got, d.Seq)
		}
	}
	return nil
}
