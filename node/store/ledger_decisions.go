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
// session or a bundle), with the notice as headquarters signed it and its
// signer, once the node checked them: the node passes the notice on. It is
// kept apart from the ledger's own, which only the ledger's state machine
// writes. A revocation known already keeps what it was, and takes the
// notice if it has none, or one whose signer was revoked since.
func (s *SQLite) AddRevocation(ctx context.Context, r ledger.Revoke, notice []byte, signer syncproto.NodeID) error {
	trusted, err := trustedBytes(r.Trusted)
	if err != nil {
		return err
	}
	var by []byte
	if notice != nil {
		by = signer[:]
	}
	_, err = s.mdbExec(ctx, `INSERT INTO revoked_notices (node_id, reason, at, by_node, trusted, notice, signer) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (node_id) DO UPDATE SET notice = excluded.notice, signer = excluded.signer
		WHERE excluded.notice IS NOT NULL AND (revoked_notices.notice IS NULL OR `+signerRevoked+`)`,
		r.Node[:], r.Reason, r.At, r.By[:], trusted, notice, by)
	return s.wrap(err)
}

// signerRevoked holds when the notice of a revoked_notices row was
// signed by a node this one knows headquarters revoked: such a notice
// convinces no one who knows it too, and is not passed on.
const signerRevoked = `(revoked_notices.signer IN (SELECT node_id FROM ledger_revoked) OR revoked_notices.signer IN (SELECT node_id FROM revoked_notices))`

// RevocationNotices are the signed notices of the revocations this node
// knows, to pass on: of nodes newest first, those whose signer this node
// knows was revoked left out, then of people; as many as one hello
// carries.
func (s *SQLite) RevocationNotices(ctx context.Context) ([][]byte, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT notice FROM revoked_notices
		WHERE notice IS NOT NULL AND NOT `+signerRevoked+` ORDER BY at DESC, node_id LIMIT ?`, syncproto.MaxRevocations)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, s.wrap(err)
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap(err)
	}
	// Then the people headquarters revoked on a node: the nodes first, as
	// a revoked node is refused whoever signs in on it.
	people, err := s.personRevocationNotices(ctx)
	if err != nil {
		return nil, err
	}
	return syncproto.FitNotices(append(out, people...)), nil
}

// NoticedRevocations are the nodes whose revocation this node holds a
// notice of that it passes on: a peer's notice of one of them teaches it
// nothing.
func (s *SQLite) NoticedRevocations(ctx context.Context) (map[syncproto.NodeID]bool, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT node_id FROM revoked_notices WHERE notice IS NOT NULL AND NOT `+signerRevoked)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	out := map[syncproto.NodeID]bool{}
	for rows.Next() {
		var id []byte
		if err := rows.Scan(&id); err != nil {
			return nil, s.wrap(err)
		}
		out[syncproto.NodeID(id)] = true
	}
	return out, s.wrap(rows.Err())
}

// UnnoticedRevocations are the ledger's revocations this node holds no
// notice of that it could pass on: on an HQ node, those it signs.
func (s *SQLite) UnnoticedRevocations(ctx context.Context) ([]ledger.Revoke, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT node_id, reason, at, by_node, trusted FROM ledger_revoked l
		WHERE NOT EXISTS (SELECT 1 FROM revoked_notices WHERE revoked_notices.node_id = l.node_id
			AND notice IS NOT NULL AND NOT `+signerRevoked+`) ORDER BY at, node_id`)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	var out []ledger.Revoke
	for rows.Next() {
		var r ledger.Revoke
		var id, by, trusted []byte
		if err := rows.Scan(&id, &r.Reason, &r.At, &by, &trusted); err != nil {
			return nil, s.wrap(err)
		}
		r.Node, r.By = syncproto.NodeID(id), syncproto.NodeID(by)
		if len(trusted) > 0 {
			if err := syncproto.Unmarshal(trusted, &r.Trusted); err != nil {
				return nil, fmt.Errorf("%w: the trusted streams of revoked node %s: %v", ErrCorrupt, r.Node, err)
			}
		}
		out = append(out, r)
	}
	return out, s.wrap(rows.Err())
}

// RevokedNodes lists every node this node knows headquarters revoked, by
// the ledger or by a notice.
func (s *SQLite) RevokedNodes(ctx context.Context) ([]syncproto.NodeID, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT node_id FROM ledger_revoked UNION SELECT node_id FROM revoked_notices ORDER BY 1`)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	var out []syncproto.NodeID
	for rows.Next() {
		var id []byte
		if err := rows.Scan(&id); err != nil {
			return nil, s.wrap(err)
		}
		out = append(out, syncproto.NodeID(id))
	}
	return out, s.wrap(rows.Err())
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
