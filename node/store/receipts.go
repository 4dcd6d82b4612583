package store

import (
	"bytes"
	"context"
	"errors"

	"lifeline/syncproto"
)

// Beside each stream's vector entry, two receipts: confirmed, the highest
// sequence the ledger is known to have committed, and sent, the highest a
// peer is known to hold (see sql/schema/0002_ledger.sql).

// Confirmed returns, per stream, the highest sequence this node knows the
// ledger committed: its own ledger's on relays and HQ, headquarters'
// receipts it checked on a field laptop.
func (s *SQLite) Confirmed(ctx context.Context) (syncproto.Vector, error) {
	return s.vectorColumn(ctx, "confirmed")
}

// Receipt is a receipt headquarters signed, as a node keeps it.
type Receipt struct {
	Stream syncproto.Stream
	Seq    uint64
	Head   syncproto.Hash
	Signer syncproto.NodeID
	Sig    []byte
}

// PutReceipts keeps receipts whose signature was checked: each replaces a
// stream's receipt of a lower sequence. Those of changes this node holds
// are then checked against its chain (CheckReceipts).
func (s *SQLite) PutReceipts(ctx context.Context, rs []Receipt) error {
	if len(rs) == 0 {
		return nil
	}
	tx, end, err := s.lockTx(ctx)
	if err != nil {
		return err
	}
	defer end()
	for _, r := range rs {
		if _, err := tx.ExecContext(ctx, `INSERT INTO receipts (node_id, lane, seq, head, signer, sig) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (node_id, lane) DO UPDATE SET seq = excluded.seq, head = excluded.head, signer = excluded.signer, sig = excluded.sig,
				checked = 0
			WHERE excluded.seq > receipts.seq`,
			r.Stream.Origin[:], r.Stream.Lane, int64(r.Seq), r.Head[:], r.Signer[:], r.Sig); err != nil {
			return s.wrap(err)
		}
	}
	return s.wrap(tx.Commit())
}

// ErrForkedReceipt: a receipt names a chain head this node does not hold
// at that sequence: the origin signed two histories, or the receipt is
// forged. The receipt is dropped.
var ErrForkedReceipt = errors.New("a receipt names a chain head that is not the one held here")

// CheckReceipts checks the receipts of changes this node holds against its
// own chains, and raises the confirmed sequence of those that match, and
// of the streams whose changes the ledger committed before they arrived
// here, if they are the history it committed (confirmCommitted). It
// returns the receipts it dropped for naming another head.
func (s *SQLite) CheckReceipts(ctx context.Context) ([]Receipt, error) {
	tx, end, err := s.lockTx(ctx)
	if err != nil {
		return nil, err
	}
	defer end()
	committed, err := tx.ExecContext(ctx, `UPDATE streams SET confirmed = l.seq FROM ledger_streams l
		WHERE l.node_id = streams.node_id AND l.lane = streams.lane AND l.seq > streams.confirmed AND l.seq <= streams.seq
			AND (SELECT hash FROM changes WHERE id = (streams.idx << 40) | l.seq) = l.head`)
	if err != nil {
		return nil, s.wrap(err)
	}
	raised, err := committed.RowsAffected()
	if err != nil {
		return nil, s.wrap(err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT r.node_id, r.lane, r.seq, r.head, c.hash FROM receipts r
		JOIN streams st ON st.node_id = r.node_id AND st.lane = r.lane
		JOIN changes c ON c.id = (st.idx << 40) | r.seq
		WHERE r.checked = 0 AND r.seq <= st.seq`)
	if err != nil {
		return nil, s.wrap(err)
	}
	var good, bad []Receipt
	for rows.Next() {
		var r Receipt
		var id, head, held []byte
		if err := rows.Scan(&id, &r.Stream.Lane, &r.Seq, &head, &held); err != nil {
			rows.Close()
			return nil, s.wrap(err)
		}
		r.Stream.Origin = syncproto.NodeID(id)
		copy(r.Head[:], head)
		if bytes.Equal(head, held) {
			good = append(good, r)
		} else {
			bad = append(bad, r)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, s.wrap(err)
	}
	for _, r := range good {
		if _, err := tx.ExecContext(ctx, `UPDATE receipts SET checked = 1 WHERE node_id = ? AND lane = ?`, r.Stream.Origin[:], r.Stream.Lane); err != nil {
			return nil, s.wrap(err)
		}
		if err := markConfirmed(ctx, tx, r.Stream, r.Seq); err != nil {
			return nil, s.wrap(err)
		}
	}
	for _, r := range bad {
		if _, err := tx.ExecContext(ctx, `DELETE FROM receipts WHERE node_id = ? AND lane = ?`, r.Stream.Origin[:], r.Stream.Lane); err != nil {
			return nil, s.wrap(err)
		}
	}
	if len(good)+len(bad) == 0 && raised == 0 {
		return nil, nil
	}
	return bad, s.wrap(tx.Commit())
}

// ReceiptVector is, per stream, the sequence of the receipt this node
// holds.
func (s *SQLite) ReceiptVector(ctx context.Context) (syncproto.Vector, error) {
	return s.vectorOf(ctx, `SELECT node_id, lane, seq FROM receipts`)
}

// Receipts lists the receipts this node holds beyond what a peer holds
// receipts of: of the peer's own streams only when own, else of every
// stream, the peer's first; at most max.
func (s *SQLite) Receipts(ctx context.Context, peer syncproto.NodeID, own bool, beyond syncproto.Vector, max int) ([]Receipt, error) {
	q := `SELECT node_id, lane, seq, head, signer, sig FROM receipts ORDER BY node_id != ?1, lane, node_id`
	if own {
		q = `SELECT node_id, lane, seq, head, signer, sig FROM receipts WHERE node_id = ?1 ORDER BY lane`
	}
	rows, err := s.rdb.QueryContext(ctx, q, peer[:])
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	var out []Receipt
	for rows.Next() && len(out) < max {
		var r Receipt
		var id, head, signer []byte
		if err := rows.Scan(&id, &r.Stream.Lane, &r.Seq, &head, &signer, &r.Sig); err != nil {
			return nil, s.wrap(err)
		}
		r.Stream.Origin = syncproto.NodeID(id)
		if r.Seq <= beyond[r.Stream] {
			continue
		}
		copy(r.Head[:], head)
		copy(r.Signer[:], signer)
		out = append(out, r)
	}
	return out, s.wrap(rows.Err())
}

// Unreceipted lists, on headquarters, the streams whose changes it holds
// and the ledger committed beyond the receipt it signed last: for each,
// the sequence and chain head to sign now. What it holds counts as far as
// it is confirmed here, the history the ledger committed (confirmCommitted):
// of another history of a stream, which its origin signed for this node,
// no receipt is signed.
func (s *SQLite) Unreceipted(ctx context.Context) ([]Receipt, error) {
	out, err := queryAll(ctx, s.rdb, func(row scanner) (Receipt, error) {
		var r Receipt
		var id, head []byte
		if err := row.Scan(&id, &r.Stream.Lane, &r.Seq, &head); err != nil {
			return r, err
		}
		r.Stream.Origin = syncproto.NodeID(id)
		copy(r.Head[:], head)
		return r, nil
	}, `SELECT st.node_id, st.lane, min(st.seq, l.seq, st.confirmed) AS upto, c.hash
		FROM streams st JOIN ledger_streams l ON l.node_id = st.node_id AND l.lane = st.lane
		JOIN changes c ON c.id = (st.idx << 40) | min(st.seq, l.seq, st.confirmed)
		LEFT JOIN receipts r ON r.node_id = st.node_id AND r.lane = st.lane
		WHERE min(st.seq, l.seq, st.confirmed) > coalesce(r.seq, 0)`)
	return out, s.wrap(err)
}

// Sent returns, per stream, the highest sequence a peer is known to hold.
func (s *SQLite) Sent(ctx context.Context) (syncproto.Vector, error) {
	return s.vectorColumn(ctx, "sent")
}

// MarkSent raises the sent sequences to what a peer holds.
func (s *SQLite) MarkSent(ctx context.Context, v syncproto.Vector) error {
	return s.raise(ctx, "sent", v)
}

// raise raises a column of the streams this node holds to a vector's
// entries, never past what it holds. The streams are read first and only
// those that move are written, under the write lock: a vector, however
// long (a peer's, from its hello), costs what this node holds, and most
// often no write at all.
func (s *SQLite) raise(ctx context.Context, col string, v syncproto.Vector) error {
	if len(v) == 0 {
		return nil
	}
	type rise struct {
		st  syncproto.Stream
		seq uint64
	}
	var rises []rise
	rows, err := s.rdb.QueryContext(ctx, `SELECT node_id, lane, seq, `+col+` FROM streams WHERE seq > `+col)
	if err != nil {
		return s.wrap(err)
	}
	for rows.Next() {
		var id []byte
		var st syncproto.Stream
		var seq, at int64
		if err := rows.Scan(&id, &st.Lane, &seq, &at); err != nil {
			rows.Close()
			return s.wrap(err)
		}
		st.Origin = syncproto.NodeID(id)
		if to := min(v[st], uint64(seq)); to > uint64(at) {
			rises = append(rises, rise{st, to})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(rises) == 0 {
		return s.wrap(err)
	}
	tx, end, err := s.lockTx(ctx)
	if err != nil {
		return err
	}
	defer end()
	for _, r := range rises {
		if _, err := tx.ExecContext(ctx, `UPDATE streams SET `+col+` = max(`+col+`, ?) WHERE node_id = ? AND lane = ?`,
			int64(r.seq), r.st.Origin[:], r.st.Lane); err != nil {
			return s.wrap(err)
		}
	}
	return s.wrap(tx.Commit())
}

// markConfirmed raises a stream's confirmed sequence, adding the stream if
// its changes have not reached this node yet.
func markConfirmed(ctx context.Context, q querier, st syncproto.Stream, seq uint64) error {
	_, err := q.ExecContext(ctx, `INSERT INTO streams (node_id, lane, confirmed) VALUES (?, ?, ?)
		ON CONFLICT (node_id, lane) DO UPDATE SET confirmed = max(confirmed, excluded.confirmed)`,
		st.Origin[:], st.Lane, int64(seq))
	return err
}
