package store

import (
	"context"
	"database/sql"

	"lifeline/syncproto"
)

// LogEntry is one range of changes in the canonical ledger.
type LogEntry struct {
	_        struct{} `cbor:",toarray"`
	Position uint64   // from 1, in commit order
	Entry    uint64   // the Raft index that committed it
	Stream   syncproto.Stream
	First    uint64
	Last     uint64
	Head     syncproto.Hash // the stream's chain head at Last
}

const logQuery = `SELECT position, entry, node_id, lane, first, last, head FROM ledger_log`

func scanLogEntry(rows *sql.Rows) (LogEntry, error) {
	var e LogEntry
	var id, head []byte
	if err := rows.Scan(&e.Position, &e.Entry, &id, &e.Stream.Lane, &e.First, &e.Last, &head); err != nil {
		return e, err
	}
	copy(e.Stream.Origin[:], id)
	copy(e.Head[:], head)
	return e, nil
}

// LedgerLog reads the canonical ledger from after position, at most limit
// ranges (all when 0), in commit order. On nodes outside the ledger it is
// empty.
func (s *SQLite) LedgerLog(ctx context.Context, after uint64, limit int) ([]LogEntry, error) {
	if limit <= 0 {
		limit = -1
	}
	rows, err := s.rdb.QueryContext(ctx, logQuery+` WHERE position > ? ORDER BY position LIMIT ?`, int64(after), limit)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	var out []LogEntry
	for rows.Next() {
		e, err := scanLogEntry(rows)
		if err != nil {
			return nil, s.wrap(err)
		}
		out = append(out, e)
	}
	return out, s.wrap(rows.Err())
}
