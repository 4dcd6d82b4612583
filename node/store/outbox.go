package store

import (
	"context"
	"time"

	"lifeline/node/ledger"
)

// The outbox holds ledger commands queued on this data folder (by the
// command line) until the running node proposes them.

// Outbox is a command waiting to be proposed to the ledger.
type Outbox struct {
	ID   int64
	Kind ledger.CommandType
	Body []byte
}

// Entry is the ledger entry the command was queued as: its kind, then
// its body.
func (o Outbox) Entry() []byte { return append([]byte{byte(o.Kind)}, o.Body...) }

// AddOutbox queues a command for the running node to propose.
func (s *SQLite) AddOutbox(ctx context.Context, kind ledger.CommandType, body []byte) error {
	_, err := s.mdbExec(ctx, `INSERT INTO outbox (kind, body, created) VALUES (?, ?, ?)`, int(kind), body, time.Now().UTC().Format(time.RFC3339))
	return s.wrap(err)
}

// PendingOutbox lists queued commands, oldest first.
func (s *SQLite) PendingOutbox(ctx context.Context) ([]Outbox, error) {
	out, err := queryAll(ctx, s.rdb, func(r scanner) (Outbox, error) {
		var o Outbox
		err := r.Scan(&o.ID, &o.Kind, &o.Body)
		return o, err
	}, `SELECT id, kind, body FROM outbox ORDER BY id LIMIT 100`)
	return out, s.wrap(err)
}

// DoneOutbox removes a proposed command.
func (s *SQLite) DoneOutbox(ctx context.Context, id int64) error {
	_, err := s.mdbExec(ctx, `DELETE FROM outbox WHERE id = ?`, id)
	return s.wrap(err)
}
