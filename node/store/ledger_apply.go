package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"lifeline/node/ledger"
	"lifeline/syncproto"
)

// The ledger's state lives in this store, beside the records, in tables
// only the Raft state machine writes (see sql/schema/0002_ledger.sql).

var _ ledger.Store = (*SQLite)(nil)

// LedgerApply runs fn in one transaction with the record of index as
// applied; an index already applied is skipped.
func (s *SQLite) LedgerApply(ctx context.Context, index, term uint64, fn func(ledger.Tx) error) (bool, error) {
	tx, end, err := s.lockTx(ctx)
	if err != nil {
		return false, err
	}
	defer end()
	ctx = context.WithoutCancel(ctx)
	var applied sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT applied FROM ledger_meta WHERE id = 1`).Scan(&applied); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, s.wrap(err)
	}
	if applied.Valid && uint64(applied.Int64) >= index {
		return false, nil
	}
	l := &ledgerTx{ctx: ctx, tx: tx, entry: index}
	err = fn(l)
	l.close()
	if err != nil {
		return false, s.wrap(err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO ledger_meta (id, applied, term) VALUES (1, ?, ?)
		ON CONFLICT (id) DO UPDATE SET applied = excluded.applied, term = excluded.term`, int64(index), int64(term)); err != nil {
		return false, s.wrap(err)
	}
	if err := tx.Commit(); err != nil {
		return false, s.wrap(err)
	}
	s.committed()
	return true, nil
}

type ledgerTx struct {
	ctx   context.Context
	tx    *sql.Tx
	entry uint64 // the Raft index being applied; 0 in a restore
	// stmts are the statements run once per record, prepared once per
	// transaction: an entry may number tens of thousands of records.
	stmts map[string]*sql.Stmt
}

// stmt is query prepared in the transaction, once.
func (l *ledgerTx) stmt(query string) (*sql.Stmt, error) {
	if st, ok := l.stmts[query]; ok {
		return st, nil
	}
	st, err := l.tx.PrepareContext(l.ctx, query)
	if err != nil {
		return nil, err
	}
	if l.stmts == nil {
		l.stmts = map[string]*sql.Stmt{}
	}
	l.stmts[query] = st
	return st, nil
}

// close closes the prepared statements.
func (l *ledgerTx) close() {
	for _, st := range l.stmts {
		st.Close()
	}
	l.stmts = nil
}

func (l *ledgerTx) Committed(st syncproto.Stream) (uint64, error) {
	var seq int64
	err := l.tx.QueryRowContext(l.ctx, `SELECT seq FROM ledger_streams WHERE node_id = ? AND lane = ?`, st.Origin[:], st.Lane).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return uint64(seq), err
}

func (l *ledgerTx) SetCommitted(st syncproto.Stream, seq uint64, head syncproto.Hash) error {
	if l.entry > 0 {
		// The range runs from after what was committed.
		if _, err := l.tx.ExecContext(l.ctx, `INSERT INTO ledger_log (position, entry, node_id, lane, first, last, head)
			VALUES ((SELECT coalesce(max(position), 0) + 1 FROM ledger_log), ?, ?, ?,
				coalesce((SELECT seq FROM ledger_streams WHERE node_id = ? AND lane = ?), 0) + 1, ?, ?)`,
			int64(l.entry), st.Origin[:], st.Lane, st.Origin[:], st.Lane, int64(seq), head[:]); err != nil {
			return err
		}
	}
	if _, err := l.tx.ExecContext(l.ctx, `INSERT INTO ledger_streams (node_id, lane, seq, head) VALUES (?, ?, ?, ?)
		ON CONFLICT (node_id, lane) DO UPDATE SET seq = excluded.seq, head = excluded.head`,
		st.Origin[:], st.Lane, int64(seq), head[:]); err != nil {
		return err
	}
	return confirmCommitted(l.ctx, l.tx, st, seq, head)
}

// confirmCommitted raises a stream's confirmed sequence to seq, which the
// ledger committed bound by head, if this node holds that change with that
// head: a change of another history of the stream (its origin signed two)
// is not what the ledger committed. One not held yet is confirmed when it
// arrives (CheckReceipts).
func confirmCommitted(ctx context.Context, q querier, st syncproto.Stream, seq uint64, head syncproto.Hash) error {
	_, err := q.ExecContext(ctx, `UPDATE streams SET confirmed = ?3
		WHERE node_id = ?1 AND lane = ?2 AND confirmed < ?3 AND seq >= ?3
			AND (SELECT hash FROM changes WHERE id = (streams.idx << 40) | ?3) = ?4`,
		st.Origin[:], st.Lane, int64(seq), head[:])
	return err
}

// caseChunk is how many records one statement looks up or numbers.
const caseChunk = 500

func (l *ledgerTx) Numbered(records []syncproto.RecordID) (map[syncproto.RecordID]bool, error) {
	has := map[syncproto.RecordID]bool{}
	for chunk := range slices.Chunk(records, caseChunk) {
		st, err := l.stmt(`SELECT record FROM ledger_cases WHERE record IN (?` + strings.Repeat(`, ?`, len(chunk)-1) + `)`)
		if err != nil {
			return nil, err
		}
		args := make([]any, len(chunk))
		for i := range chunk {
			args[i] = chunk[i][:]
		}
		rows, err := st.QueryContext(l.ctx, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var b []byte
			if err := rows.Scan(&b); err != nil {
				rows.Close()
				return nil, err
			}
			var id syncproto.RecordID
			copy(id[:], b)
			has[id] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return has, nil
}

func (l *ledgerTx) NextCases(prefix string, n int) (uint64, error) {
	if n < 1 {
		return 0, fmt.Errorf("store: %d case numbers asked of %s", n, prefix)
	}
	var last int64
	err := l.tx.QueryRowContext(l.ctx, `INSERT INTO ledger_case_seq (prefix, last) VALUES (?, ?)
		ON CONFLICT (prefix) DO UPDATE SET last = last + excluded.last RETURNING last`, prefix, n).Scan(&last)
	return uint64(last) - uint64(n) + 1, err
}

func (l *ledgerTx) SetCases(cases []ledger.Case) error {
	for chunk := range slices.Chunk(cases, caseChunk) {
		st, err := l.stmt(`INSERT INTO ledger_cases (record, number) VALUES (?, ?)` + strings.Repeat(`, (?, ?)`, len(chunk)-1))
		if err != nil {
			return err
		}
		args := make([]any, 0, 2*len(chunk))
		for _, c := range chunk {
			args = append(args, c.Record[:], c.Number)
		}
		if _, err := st.ExecContext(l.ctx, args...); err != nil {
			return err
		}
	}
	return nil
}

func (l *ledgerTx) Revoke(r ledger.Revoke) error {
	trusted, err := trustedBytes(r.Trusted)
	if err != nil {
		return err
	}
	_, err = l.tx.ExecContext(l.ctx, `INSERT INTO ledger_revoked (node_id, reason, at, by_node, trusted) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (node_id) DO NOTHING`, r.Node[:], r.Reason, r.At, r.By[:], trusted)
	return err
}

func (l *ledgerTx) Revoked(node syncproto.NodeID) (bool, error) {
	var n int
	err := l.tx.QueryRowContext(l.ctx, `SELECT count(*) FROM ledger_revoked WHERE node_id = ?`, node[:]).Scan(&n)
	return n > 0, err
}

// Enroll records an enrolled node in the ledger, and keeps its certificate
// with the others this node knows, so that its changes verify here before
// its certificate comes by sync.
func (l *ledgerTx) Enroll(e ledger.Enrolled) error {
	if _, err := l.tx.ExecContext(l.ctx, `INSERT INTO ledger_enrolled (node_id, name, role, district, cert) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (node_id) DO UPDATE SET name = excluded.name, role = excluded.role, district = excluded.district, cert = excluded.cert`,
		e.Node[:], e.Name, e.Role, e.District, e.Cert); err != nil {
		return err
	}
	return putNode(l.ctx, l.tx, NodeCert{Node: e.Node, Name: e.Name, Role: e.Role, District: e.District, Cert: e.Cert, NotAfter: e.NotAfter})
}

func (l *ledgerTx) Enrolled(node syncproto.NodeID) (ledger.Enrolled, bool, error) {
	e := ledger.Enrolled{Node: node}
	err := l.tx.QueryRowContext(l.ctx, `SELECT name, role, district, cert FROM ledger_enrolled WHERE node_id = ?`, node[:]).
		Scan(&e.Name, &e.Role, &e.District, &e.Cert)
	if errors.Is(err, sql.ErrNoRows) {
		return e, false, nil
	}
	return e, err == nil, err
}

func (l *ledgerTx) SetMember(node syncproto.NodeID, voter bool, addr string) error {
	_, err := l.tx.ExecContext(l.ctx, `INSERT INTO ledger_members (node_id, voter, addr) VALUES (?, ?, ?)
		ON CONFLICT (node_id) DO UPDATE SET voter = excluded.voter,
			addr = CASE excluded.addr WHEN '' THEN ledger_members.addr ELSE excluded.addr END`, node[:], voter, addr)
	return err
}

func (l *ledgerTx) RemoveMember(node syncproto.NodeID) error {
	_, err := l.tx.ExecContext(l.ctx, `DELETE FROM ledger_members WHERE node_id = ?`, node[:])
	return err
}

func (l *ledgerTx) KitVersion(name string) (string, bool, error) {
	var v string
	err := l.tx.QueryRowContext(l.ctx, `SELECT version FROM ledger_kits WHERE name = ?`, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return v, err == nil, err
}

func (l *ledgerTx) PutKit(k ledger.Kit) error {
	_, err := l.tx.ExecContext(l.ctx, `INSERT INTO ledger_kits (name, version, body) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET version = excluded.version, body = excluded.body`, k.Name, k.Version, k.Body)
	return err
}

func (l *ledgerTx) PutResolution(r ledger.Resolve) error {
	dot, err := syncproto.Marshal(r.Change)
	if err != nil {
		return err
	}
	_, err = l.tx.ExecContext(l.ctx, `INSERT INTO ledger_resolutions (record, field, dot, by_name, at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING`, r.Record[:], r.Field, dot, r.By, r.At)
	return err
}
