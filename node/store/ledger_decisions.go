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

// AddRevocation records a revocation a notice brought (by gossip, a
// session or a bundle). It is kept apart from the ledger's own, which only
// the ledger's state machine writes.
func (s *SQLite) AddRevocation(ctx context.Context, r ledger.Revoke) error {
	trusted, err := trustedBytes(r.Trusted)
	if err != nil {
		return err
	}
	_, err = s.mdbExec(ctx, `INSERT INTO revoked_notices (node_id, reason, at, by_node, trusted) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (node_id) DO NOTHING`, r.Node[:], r.Reason, r.At, r.By[:], trusted)
	return s.wrap(err)
}

// trustedBytes is a revocation's trusted streams as stored: CBOR, nil when
// none.
func trustedBytes(v syncproto.Vector) ([]byte, error) {
	if len(v) == 0 {
		return nil, nil
	}
	return syncproto.Marshal(v)
}

// Revocation reports whether this node knows that headquarters revoked a
// node, and, per stream of it, the last change still trusted (by the
// ledger's word if it has one, else a notice's).
func (s *SQLite) Revocation(ctx context.Context, node syncproto.NodeID) (syncproto.Vector, bool, error) {
	var trusted []byte
	err := s.rdb.QueryRowContext(ctx, `SELECT trusted FROM ledger_revoked WHERE node_id = ?1
		UNION ALL SELECT trusted FROM revoked_notices WHERE node_id = ?1 LIMIT 1`, node[:]).Scan(&trusted)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, s.wrap(err)
	}
	v := syncproto.Vector{}
	if len(trusted) > 0 {
		if err := syncproto.Unmarshal(trusted, &v); err != nil {
			return nil, true, fmt.Errorf("%w: the trusted streams of revoked node %s: %v", ErrCorrupt, node, err)
		}
	}
	return v, true, nil
}

// Revoked reports whether this node knows that headquarters revoked a
// node: by the ledger, or by a notice.
func (s *SQLite) Revoked(ctx context.Context, node syncproto.NodeID) (bool, error) {
	var n int
	err := s.rdb.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM ledger_revoked WHERE node_id = ?1)
		+ (SELECT count(*) FROM revoked_notices WHERE node_id = ?1)`, node[:]).Scan(&n)
	return n > 0, s.wrap(err)
}

// LedgerMember is a member of the ledger as headquarters decided.
type LedgerMember struct {
	Voter bool
	Addr  string // where its port is, if headquarters said
}

// LedgerMembers are the ledger's members as headquarters decided.
func (s *SQLite) LedgerMembers(ctx context.Context) (map[syncproto.NodeID]LedgerMember, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT node_id, voter, addr FROM ledger_members`)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	out := map[syncproto.NodeID]LedgerMember{}
	for rows.Next() {
		var id []byte
		var m LedgerMember
		if err := rows.Scan(&id, &m.Voter, &m.Addr); err != nil {
			return nil, s.wrap(err)
		}
		out[syncproto.NodeID(id)] = m
	}
	return out, s.wrap(rows.Err())
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
