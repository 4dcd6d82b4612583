package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"lifeline/node/ledger"
	"lifeline/syncproto"
)

// What the ledger decided, as the rest of the node reads it: case numbers,
// resolutions, revocations and published kits.

// CaseNumber is a record's case number, if the ledger gave it one and
// this node knows it.
func (s *SQLite) CaseNumber(ctx context.Context, id syncproto.RecordID) (string, error) {
	var n string
	err := s.rdb.QueryRowContext(ctx, `SELECT number FROM ledger_cases WHERE record = ?`, id[:]).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return n, s.wrap(err)
}

// Resolutions lists the conflicts of a record the ledger recorded as
// decided at headquarters, oldest first.
func (s *SQLite) Resolutions(ctx context.Context, id syncproto.RecordID) ([]ledger.Resolve, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT field, dot, by_name, at FROM ledger_resolutions WHERE record = ? ORDER BY at, field`, id[:])
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	var out []ledger.Resolve
	for rows.Next() {
		r := ledger.Resolve{Record: id}
		var dot []byte
		if err := rows.Scan(&r.Field, &dot, &r.By, &r.At); err != nil {
			return nil, s.wrap(err)
		}
		if err := syncproto.Unmarshal(dot, &r.Change); err != nil {
			return nil, fmt.Errorf("store: ledger resolution of %s.%s: %w", id, r.Field, err)
		}
		out = append(out, r)
	}
	return out, s.wrap(rows.Err())
}

// AddRevocation records a revocation gossip brought (on nodes outside the
// ledger; on relays and HQ the ledger records it too).
func (s *SQLite) AddRevocation(ctx context.Context, r ledger.Revoke) error {
	_, err := s.mdbExec(ctx, `INSERT INTO ledger_revoked (node_id, reason, at, by_node) VALUES (?, ?, ?, ?)
		ON CONFLICT (node_id) DO NOTHING`, r.Node[:], r.Reason, r.At, r.By[:])
	return s.wrap(err)
}

// Revoked reports whether the ledger revoked a node.
func (s *SQLite) Revoked(ctx context.Context, node syncproto.NodeID) (bool, error) {
	var n int
	err := s.rdb.QueryRowContext(ctx, `SELECT count(*) FROM ledger_revoked WHERE node_id = ?`, node[:]).Scan(&n)
	return n > 0, s.wrap(err)
}

// PublishedKits lists the kit files the ledger published.
func (s *SQLite) PublishedKits(ctx context.Context) ([]ledger.Kit, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT name, version, body FROM ledger_kits ORDER BY name`)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	var out []ledger.Kit
	for rows.Next() {
		var k ledger.Kit
		if err := rows.Scan(&k.Name, &k.Version, &k.Body); err != nil {
			return nil, s.wrap(err)
		}
		out = append(out, k)
	}
	return out, s.wrap(rows.Err())
}
