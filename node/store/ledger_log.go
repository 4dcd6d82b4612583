package store

import (
	"context"

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

func scanLogEntry(r scanner) (LogEntry, error) {
	var e LogEntry
	var id, head []byte
	if err := r.Scan(&e.Position, &e.Entry, &id, &e.Stream.Lane, &e.First, &e.Last, &head); err != nil {
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
	out, err := queryAll(ctx, s.rdb, scanLogEntry, logQuery+` WHERE position > ? ORDER BY position LIMIT ?`, int64(after), limit)
	return out, s.wrap(err)
}
