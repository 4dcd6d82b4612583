package node

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"

	"lifeline/node/store"
	"lifeline/syncproto"
)

// Receipts: an HQ node signs, for every stream whose changes it holds and
// the ledger committed, that it holds them up to a sequence whose chain
// head is the one it holds. The receipts travel in sessions and bundles to
// the laptops that wrote the changes, which check each against their own
// chain before they show "confirmed at HQ": no other word moves that mark.

// signReceipts signs, on an HQ node, the receipts of what it holds and the
// ledger committed since it last signed.
func (n *Node) signReceipts(ctx context.Context) error {
	due, err := n.store.Unreceipted(ctx)
	if err != nil || len(due) == 0 {
		return err
	}
	self := n.Self().ID
	for i := range due {
		r := &due[i]
		r.Signer = self
		r.Sig = ed25519.Sign(n.key.Signer(), syncproto.ReceiptMessage(r.Stream, r.Seq, r.Head))
	}
	if err := n.store.PutReceipts(ctx, due); err != nil {
		return err
	}
	_, err = n.store.CheckReceipts(ctx)
	return err
}

// checkReceipts checks the receipts this node holds of changes that have
// just arrived.
func (n *Node) checkReceipts(ctx context.Context) {
	forked, err := n.store.CheckReceipts(ctx)
	if err != nil {
		n.log.Warn("checking receipts", "err", err)
	}
	for _, r := range forked {
		n.log.Warn("refused a receipt", "stream", r.Stream.String(), "seq", r.Seq, "err", store.ErrForkedReceipt)
	}
}

// errReceipt is wrapped by the reasons a receipt is refused.
var errReceipt = errors.New("refused a receipt")

// receipts checks a Receipts message: it returns the receipts an unrevoked
// headquarters node of this deployment signed, why each other one was
// refused, and how many were left unchecked: after maxBadNotices whose
// signatures fail, the rest are refused unchecked, as an honest node
// passes on only receipts it checked, and each check costs what a
// forger's made-up signature does not. With remember, the signers'
// certificates are kept.
func (t *trust) receipts(ctx context.Context, m *syncproto.Receipts, remember bool) (keep []store.Receipt, refused []error, unchecked int) {
	type signer struct {
		node syncproto.NodeID
		pub  ed25519.PublicKey
		err  error
	}
	signers := make([]signer, len(m.Certs))
	for i, der := range m.Certs {
		cert, claims, err := t.check(der)
		switch {
		case err != nil:
		case !claims.Role.Decides():
			err = fmt.Errorf("%w: signed by %s, not headquarters", errReceipt, claims)
		default:
			var revoked bool
			if revoked, err = t.store.Revoked(ctx, claims.Node); err == nil && revoked {
				err = fmt.Errorf("%w: signed by %s, which headquarters revoked", errReceipt, claims)
			}
		}
		if err == nil && remember {
			err = t.put(ctx, cert, claims)
		}
		signers[i] = signer{node: claims.Node, err: err}
		if err == nil {
			signers[i].pub = cert.PublicKey.(ed25519.PublicKey)
		}
	}
	forged := 0
	for i, r := range m.Receipts {
		s := signers[r.Signer]
		switch {
		case forged >= maxBadNotices:
			return keep, refused, len(m.Receipts) - i
		case s.err != nil:
			refused = append(refused, s.err)
		case !ed25519.Verify(s.pub, syncproto.ReceiptMessage(r.Stream, r.Seq, r.Head), r.Sig):
			forged++
			refused = append(refused, fmt.Errorf("%w: of %s at %d, whose signature is not %s's", errReceipt, r.Stream, r.Seq, s.node))
		default:
			keep = append(keep, store.Receipt{Stream: r.Stream, Seq: r.Seq, Head: r.Head, Signer: s.node, Sig: r.Sig})
		}
	}
	return keep, refused, 0
}

// AddReceipts checks receipts a peer sent and keeps those whose signer is
// an HQ node of this deployment, not revoked, and whose signature checks;
// those of changes this node holds are then checked against its chain
// (store.CheckReceipts), and only those raise a confirmed mark.
func (t *trust) AddReceipts(ctx context.Context, m *syncproto.Receipts) (int, error) {
	keep, refused, unchecked := t.receipts(ctx, m, true)
	if err := t.store.PutReceipts(ctx, keep); err != nil {
		return 0, err
	}
	forked, err := t.store.CheckReceipts(ctx)
	if err != nil {
		return 0, err
	}
	for _, r := range forked {
		refused = append(refused, fmt.Errorf("%w: of %s at %d: %w", errReceipt, r.Stream, r.Seq, store.ErrForkedReceipt))
	}
	switch {
	case unchecked > 0:
		t.log.Warn("refused receipts", "count", len(refused), "unchecked", unchecked, "first", refused[0].Error())
	case len(refused) > 0:
		t.log.Warn("refused receipts", "count", len(refused), "first", refused[0].Error())
	}
	return len(keep) - len(forked), nil
}

// CheckReceipts returns the receipts of m that an unrevoked headquarters
// node of this deployment signed, keeping nothing (peersync.SnapshotTrust).
func (t *trust) CheckReceipts(ctx context.Context, m *syncproto.Receipts) []syncproto.Receipt {
	keep, _, _ := t.receipts(ctx, m, false)
	out := make([]syncproto.Receipt, len(keep))
	for i, r := range keep {
		out[i] = syncproto.Receipt{Stream: r.Stream, Seq: r.Seq, Head: r.Head, Sig: r.Sig}
	}
	return out
}
