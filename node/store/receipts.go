package store

import (
	"context"

	"lifeline/syncproto"
)

// Beside each stream's vector entry, two receipts: confirmed, the highest
// sequence the ledger is known to have committed, and sent, the highest a
// peer is known to hold (see sql/schema/0002_ledger.sql).

// Confirmed returns, per stream, the highest sequence this node knows the
// ledger committed: its own ledger's on relays and HQ, what peers told it
// on a field laptop.
func (s *SQLite) Confirmed(ctx context.Context) (syncproto.Vector, error) {
	return s.vectorColumn(ctx, "confirmed")
}

// Sent returns, per stream, the highest sequence a peer is known to hold.
func (s *SQLite) Sent(ctx context.Context) (syncproto.Vector, error) {
	return s.vectorColumn(ctx, "sent")
}

// MarkConfirmed raises the confirmed sequences to what a peer's ledger
// says, for the streams whose changes this node holds.
func (s *SQLite) MarkConfirmed(ctx context.Context, v syncproto.Vector) error {
	return s.raise(ctx, "confirmed", v)
}

// MarkSent raises the sent sequences to what a peer holds.
func (s *SQLite) MarkSent(ctx context.Context, v syncproto.Vector) error {
	return s.raise(ctx, "sent", v)
}

func (s *SQLite) raise(ctx context.Context, col string, v syncproto.Vector) error {
	if len(v) == 0 {
		return nil
	}
	if err := s.lockWrite(); err != nil {
		return err
	}
	defer s.unlockWrite()
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap(err)
	}
	defer tx.Rollback()
	for k, seq := range v {
		if _, err := tx.ExecContext(ctx, `UPDATE streams SET `+col+` = max(`+col+`, min(?, seq)) WHERE node_id = ? AND lane = ?`,
			int64(seq), k.Origin[:], k.Lane); err != nil {
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
