package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"lifeline/node/ledger"
	"lifeline/schemas"
	"lifeline/syncproto"
)

// What a relay reads to build its next commit: how far the ledger
// committed each stream, the chain head at a range's end, and the records
// a range creates.

// LedgerState is what this node knows of the ledger.
type LedgerState struct {
	Applied   uint64           // the last entry applied (relays and HQ)
	Committed syncproto.Vector // per stream, what the ledger committed
}

// Ledger reads the ledger state this node holds.
func (s *SQLite) Ledger(ctx context.Context) (LedgerState, error) {
	st := LedgerState{Committed: syncproto.Vector{}}
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		var applied sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT applied FROM ledger_meta WHERE id = 1`).Scan(&applied); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		st.Applied = uint64(applied.Int64)
		rows, err := tx.QueryContext(ctx, `SELECT node_id, lane, seq FROM ledger_streams`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id []byte
			var k syncproto.Stream
			var seq int64
			if err := rows.Scan(&id, &k.Lane, &seq); err != nil {
				return err
			}
			k.Origin = syncproto.NodeID(id)
			st.Committed[k] = uint64(seq)
		}
		return rows.Err()
	})
	return st, err
}

// LedgerHead is how far the ledger committed a stream, and the chain head
// it committed there.
func (s *SQLite) LedgerHead(ctx context.Context, st syncproto.Stream) (uint64, syncproto.Hash, error) {
	var seq int64
	var head []byte
	var h syncproto.Hash
	err := s.rdb.QueryRowContext(ctx, `SELECT seq, head FROM ledger_streams WHERE node_id = ? AND lane = ?`, st.Origin[:], st.Lane).Scan(&seq, &head)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, h, nil
	}
	copy(h[:], head)
	return uint64(seq), h, s.wrap(err)
}

// HeadAt is a stream's chain hash through its change seq, which this store
// holds.
func (s *SQLite) HeadAt(ctx context.Context, st syncproto.Stream, seq uint64) (syncproto.Hash, error) {
	var h syncproto.Hash
	idx, ok, err := s.stream(ctx, s.rdb, st, false)
	if err != nil || !ok {
		return h, fmt.Errorf("%w: stream %s", ErrNotFound, st)
	}
	var b []byte
	if err := s.rdb.QueryRowContext(ctx, `SELECT hash FROM changes WHERE id = ?`, changeID(idx, seq)).Scan(&b); err != nil {
		return h, s.wrap(err)
	}
	copy(h[:], b)
	return h, nil
}

// Created lists the records whose first change lies in a stream's changes
// from to to, with the district code and year their case number takes:
// the district field's value in that change (NEM when it has none) and the
// year of its clock.
func (s *SQLite) Created(ctx context.Context, st syncproto.Stream, from, to uint64) ([]ledger.NewRecord, error) {
	idx, ok, err := s.stream(ctx, s.rdb, st, false)
	if err != nil || !ok {
		return nil, err
	}
	return s.created(ctx, st, idx, from, to)
}

func (s *SQLite) created(ctx context.Context, st syncproto.Stream, idx int64, from, to uint64) ([]ledger.NewRecord, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT c.id, c.body, r.state FROM changes c JOIN records r ON r.rid = c.record
		WHERE c.id >= ? AND c.id <= ?`, changeID(idx, from), changeID(idx, to))
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	var out []ledger.NewRecord
	for rows.Next() {
		var id int64
		var body, state []byte
		if err := rows.Scan(&id, &body, &state); err != nil {
			return nil, s.wrap(err)
		}
		first, err := decodeFirst(state)
		if err != nil {
			return nil, err
		}
		_, seq := splitID(id)
		if first.Origin != st.Origin || first.Lane != st.Lane || first.Seq != seq {
			continue
		}
		// Only the record, the stamp and the district of a change that
		// creates a record count here: the rest is passed over.
		rec, hlc, district, err := syncproto.PeekChange(body, "district")
		if err != nil {
			c, derr := syncproto.DecodeChange(body)
			if derr != nil {
				return nil, fmt.Errorf("%w: change %s:%d: %v", ErrCorrupt, st, seq, derr)
			}
			rec, hlc, district = c.Record, c.HLC, nil
			if f, ok := c.Field("district"); ok {
				district = f.Value
			}
		}
		code := "NEM"
		if district != nil {
			d, ok := syncproto.TextValue(district)
			if !ok && syncproto.Unmarshal(district, &d) != nil {
				d = ""
			}
			if c, ok := schemas.DistrictCode[d]; ok {
				code = c
			}
		}
		out = append(out, ledger.NewRecord{Record: rec, District: code, Year: uint16(hlc.Time().Year())})
	}
	return out, s.wrap(rows.Err())
}
