package store

import (
	"context"
	"database/sql"
	"errors"

	"lifeline/node/ledger"
	"lifeline/syncproto"
)

// PutLink keeps a pair's decision, replacing the one it had: the last
// applied is the pair's state.
func (l *ledgerTx) PutLink(k ledger.Link) error {
	_, err := l.tx.ExecContext(l.ctx, `INSERT INTO ledger_links (a, b, decision, by_node, district, at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (a, b) DO UPDATE SET decision = excluded.decision, by_node = excluded.by_node,
			district = excluded.district, at = excluded.at`,
		k.A[:], k.B[:], k.Decision, k.Node[:], k.District, k.At)
	return err
}

// Link is the decision the pair a, b (a before b) holds, if any.
func (l *ledgerTx) Link(a, b syncproto.RecordID) (ledger.Link, bool, error) {
	k, err := scanLink(l.tx.QueryRowContext(l.ctx, linksQuery+` WHERE a = ? AND b = ?`, a[:], b[:]))
	if errors.Is(err, sql.ErrNoRows) {
		return k, false, nil
	}
	return k, err == nil, err
}

// linksQuery reads ledger_links as scanLink scans it.
const linksQuery = `SELECT a, b, decision, by_node, district, at FROM ledger_links`

func scanLink(rows scanner) (ledger.Link, error) {
	var k ledger.Link
	var a, b, by []byte
	if err := rows.Scan(&a, &b, &k.Decision, &by, &k.District, &k.At); err != nil {
		return k, err
	}
	copy(k.A[:], a)
	copy(k.B[:], b)
	copy(k.Node[:], by)
	return k, nil
}

// Links returns every pair's decision the ledger holds, ordered by pair.
// On a node outside the ledger it is empty.
func (s *SQLite) Links(ctx context.Context) ([]ledger.Link, error) {
	rows, err := s.rdb.QueryContext(ctx, linksQuery+` ORDER BY a, b`)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	var out []ledger.Link
	for rows.Next() {
		k, err := scanLink(rows)
		if err != nil {
			return nil, s.wrap(err)
		}
		out = append(out, k)
	}
	return out, s.wrap(rows.Err())
}

// linksOfQuery reads the decisions naming a record either way, each by
// an index (ledger_links_b for the second).
const linksOfQuery = linksQuery + ` WHERE a = ? OR b = ? ORDER BY a, b`

// LinksOf returns the decisions the ledger holds on the pairs of which id
// is one, ordered by pair: what one record's links read, however many the
// ledger holds of other records.
func (s *SQLite) LinksOf(ctx context.Context, id syncproto.RecordID) ([]ledger.Link, error) {
	out, err := queryAll(ctx, s.rdb, scanLink, linksOfQuery, id[:], id[:])
	return out, s.wrap(err)
}

// LinkOf is the decision the ledger holds on the pair a, b, if any.
func (s *SQLite) LinkOf(ctx context.Context, a, b syncproto.RecordID) (ledger.Link, bool, error) {
	a, b = ledger.PairOf(a, b)
	rows, err := s.rdb.QueryContext(ctx, linksQuery+` WHERE a = ? AND b = ?`, a[:], b[:])
	if err != nil {
		return ledger.Link{}, false, s.wrap(err)
	}
	defer rows.Close()
	if !rows.Next() {
		return ledger.Link{}, false, s.wrap(rows.Err())
	}
	k, err := scanLink(rows)
	return k, err == nil, s.wrap(err)
}
