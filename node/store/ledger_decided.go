package store

import (
	"context"
	"database/sql"
	"errors"
)

// The decisions the ledger's state machine considered (ledger_decided),
// so that it considers each once.

// Considered reports whether the ledger considered a decision (by its
// digest), and whether it refused it.
func (l *ledgerTx) Considered(digest [32]byte) (seen, refused bool, err error) {
	return considered(l.ctx, l.tx, digest)
}

// Consider records that the ledger considered a decision.
func (l *ledgerTx) Consider(digest [32]byte, refused bool) error {
	_, err := l.tx.ExecContext(l.ctx, `INSERT INTO ledger_decided (digest, refused) VALUES (?, ?) ON CONFLICT (digest) DO NOTHING`, digest[:], refused)
	return err
}

// Considered is ledger.Tx.Considered as the ledger stands, for the leader
// to refuse a decision sent again before it proposes it.
func (s *SQLite) Considered(ctx context.Context, digest [32]byte) (seen, refused bool, err error) {
	seen, refused, err = considered(ctx, s.rdb, digest)
	return seen, refused, s.wrap(err)
}

func considered(ctx context.Context, q querier, digest [32]byte) (seen, refused bool, err error) {
	err = q.QueryRowContext(ctx, `SELECT refused FROM ledger_decided WHERE digest = ?`, digest[:]).Scan(&refused)
	if errors.Is(err, sql.ErrNoRows) {
		return false, false, nil
	}
	return err == nil, refused, err
}
