package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"lifeline/node/ledger"
	"lifeline/schemas"
	"lifeline/syncproto"
)

// The ledger's state lives in this store, beside the records, in tables
// only the Raft state machine writes (see sql/schema/0002_ledger.sql).

var _ ledger.Store = (*SQLite)(nil)

// LedgerApply runs fn in one transaction with the record of index as
// applied; an index already applied is skipped.
func (s *SQLite) LedgerApply(ctx context.Context, index, term uint64, fn func(ledger.Tx) error) (bool, error) {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed {
		return false, ErrClosed
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return false, s.wrap(err)
	}
	defer tx.Rollback()
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
	return markConfirmed(l.ctx, l.tx, st, seq)
}

// markConfirmed raises a stream's confirmed sequence, adding the stream if
// its changes have not reached this node yet.
func markConfirmed(ctx context.Context, q querier, st syncproto.Stream, seq uint64) error {
	_, err := q.ExecContext(ctx, `INSERT INTO streams (node_id, lane, confirmed) VALUES (?, ?, ?)
		ON CONFLICT (node_id, lane) DO UPDATE SET confirmed = max(confirmed, excluded.confirmed)`,
		st.Origin[:], st.Lane, int64(seq))
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
	_, err := l.tx.ExecContext(l.ctx, `INSERT INTO ledger_revoked (node_id, reason, at, by_node) VALUES (?, ?, ?, ?)
		ON CONFLICT (node_id) DO NOTHING`, r.Node[:], r.Reason, r.At, r.By[:])
	return err
}

// Enroll keeps an enrolled node's certificate with the others this node
// knows, so that its changes verify here before its certificate comes by
// sync.
func (l *ledgerTx) Enroll(e ledger.Enrolled) error {
	return putNode(l.ctx, l.tx, NodeCert{Node: e.Node, Name: e.Name, Role: e.Role, District: e.District, Cert: e.Cert, NotAfter: e.NotAfter})
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

// ledgerSnapshot is the whole ledger state, as a snapshot holds it. Keys
// are append-only.
type ledgerSnapshot struct {
	Applied     uint64           `cbor:"1,keyasint"`
	Term        uint64           `cbor:"2,keyasint"`
	Streams     []snapStream     `cbor:"3,keyasint"`
	Cases       []snapCase       `cbor:"4,keyasint"`
	CaseSeq     []snapCaseSeq    `cbor:"5,keyasint"`
	Revoked     []ledger.Revoke  `cbor:"6,keyasint"`
	Kits        []ledger.Kit     `cbor:"7,keyasint"`
	Resolutions []ledger.Resolve `cbor:"8,keyasint"`
	Log         []LogEntry       `cbor:"9,keyasint"`
}

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

type snapStream struct {
	_      struct{} `cbor:",toarray"`
	Stream syncproto.Stream
	Seq    uint64
	Head   syncproto.Hash
}

type snapCase struct {
	_      struct{} `cbor:",toarray"`
	Record syncproto.RecordID
	Number string
}

type snapCaseSeq struct {
	_      struct{} `cbor:",toarray"`
	Prefix string
	Last   uint64
}

// LedgerSnapshot writes the ledger state from one read transaction.
func (s *SQLite) LedgerSnapshot(ctx context.Context, w io.Writer) error {
	var snap ledgerSnapshot
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		var applied, term sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT applied, term FROM ledger_meta WHERE id = 1`).Scan(&applied, &term); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		snap.Applied, snap.Term = uint64(applied.Int64), uint64(term.Int64)
		return scanAll(ctx, tx, []scanTable{
			{`SELECT node_id, lane, seq, head FROM ledger_streams ORDER BY node_id, lane`, func(rows *sql.Rows) error {
				var st snapStream
				var id, head []byte
				if err := rows.Scan(&id, &st.Stream.Lane, &st.Seq, &head); err != nil {
					return err
				}
				copy(st.Stream.Origin[:], id)
				copy(st.Head[:], head)
				snap.Streams = append(snap.Streams, st)
				return nil
			}},
			{`SELECT record, number FROM ledger_cases ORDER BY record`, func(rows *sql.Rows) error {
				var c snapCase
				var id []byte
				if err := rows.Scan(&id, &c.Number); err != nil {
					return err
				}
				copy(c.Record[:], id)
				snap.Cases = append(snap.Cases, c)
				return nil
			}},
			{`SELECT prefix, last FROM ledger_case_seq ORDER BY prefix`, func(rows *sql.Rows) error {
				var c snapCaseSeq
				if err := rows.Scan(&c.Prefix, &c.Last); err != nil {
					return err
				}
				snap.CaseSeq = append(snap.CaseSeq, c)
				return nil
			}},
			{`SELECT node_id, reason, at, by_node FROM ledger_revoked ORDER BY node_id`, func(rows *sql.Rows) error {
				var r ledger.Revoke
				var id, by []byte
				if err := rows.Scan(&id, &r.Reason, &r.At, &by); err != nil {
					return err
				}
				copy(r.Node[:], id)
				copy(r.By[:], by)
				snap.Revoked = append(snap.Revoked, r)
				return nil
			}},
			{`SELECT name, version, body FROM ledger_kits ORDER BY name`, func(rows *sql.Rows) error {
				var k ledger.Kit
				if err := rows.Scan(&k.Name, &k.Version, &k.Body); err != nil {
					return err
				}
				snap.Kits = append(snap.Kits, k)
				return nil
			}},
			{logQuery + ` ORDER BY position`, func(rows *sql.Rows) error {
				e, err := scanLogEntry(rows)
				snap.Log = append(snap.Log, e)
				return err
			}},
			{`SELECT record, field, dot, by_name, at FROM ledger_resolutions ORDER BY record, field, dot`, func(rows *sql.Rows) error {
				var r ledger.Resolve
				var id, dot []byte
				if err := rows.Scan(&id, &r.Field, &dot, &r.By, &r.At); err != nil {
					return err
				}
				copy(r.Record[:], id)
				if err := syncproto.Unmarshal(dot, &r.Change); err != nil {
					return err
				}
				snap.Resolutions = append(snap.Resolutions, r)
				return nil
			}},
		})
	})
	if err != nil {
		return err
	}
	b, err := syncproto.Marshal(&snap)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

type scanTable struct {
	query string
	row   func(*sql.Rows) error
}

func scanAll(ctx context.Context, tx *sql.Tx, tables []scanTable) error {
	for _, t := range tables {
		rows, err := tx.QueryContext(ctx, t.query)
		if err != nil {
			return err
		}
		for rows.Next() {
			if err := t.row(rows); err != nil {
				rows.Close()
				return err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// maxSnapshot bounds a ledger snapshot read back.
const maxSnapshot = 1 << 30

// LedgerRestore replaces the ledger state with a snapshot's, in one
// transaction.
func (s *SQLite) LedgerRestore(ctx context.Context, r io.Reader) error {
	data, err := io.ReadAll(io.LimitReader(r, maxSnapshot+1))
	if err != nil {
		return err
	}
	if len(data) > maxSnapshot {
		return fmt.Errorf("ledger snapshot over %d bytes", maxSnapshot)
	}
	var snap ledgerSnapshot
	if err := syncproto.Unmarshal(data, &snap); err != nil {
		return fmt.Errorf("ledger snapshot: %w", err)
	}
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap(err)
	}
	defer tx.Rollback()
	ctx = context.WithoutCancel(ctx)
	for _, t := range []string{"ledger_meta", "ledger_streams", "ledger_cases", "ledger_case_seq", "ledger_revoked", "ledger_kits", "ledger_resolutions", "ledger_log"} {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+t); err != nil {
			return s.wrap(err)
		}
	}
	l := &ledgerTx{ctx: ctx, tx: tx}
	defer l.close()
	if _, err := tx.ExecContext(ctx, `INSERT INTO ledger_meta (id, applied, term) VALUES (1, ?, ?)`, int64(snap.Applied), int64(snap.Term)); err != nil {
		return s.wrap(err)
	}
	for _, st := range snap.Streams {
		if err := l.SetCommitted(st.Stream, st.Seq, st.Head); err != nil {
			return s.wrap(err)
		}
	}
	cases := make([]ledger.Case, len(snap.Cases))
	for i, c := range snap.Cases {
		cases[i] = ledger.Case{Record: c.Record, Number: c.Number}
	}
	if err := l.SetCases(cases); err != nil {
		return s.wrap(err)
	}
	for _, c := range snap.CaseSeq {
		if _, err := tx.ExecContext(ctx, `INSERT INTO ledger_case_seq (prefix, last) VALUES (?, ?)`, c.Prefix, int64(c.Last)); err != nil {
			return s.wrap(err)
		}
	}
	for _, r := range snap.Revoked {
		if err := l.Revoke(r); err != nil {
			return s.wrap(err)
		}
	}
	for _, k := range snap.Kits {
		if err := l.PutKit(k); err != nil {
			return s.wrap(err)
		}
	}
	for _, r := range snap.Resolutions {
		if err := l.PutResolution(r); err != nil {
			return s.wrap(err)
		}
	}
	for _, e := range snap.Log {
		if _, err := tx.ExecContext(ctx, `INSERT INTO ledger_log (position, entry, node_id, lane, first, last, head) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			int64(e.Position), int64(e.Entry), e.Stream.Origin[:], e.Stream.Lane, int64(e.First), int64(e.Last), e.Head[:]); err != nil {
			return s.wrap(err)
		}
	}
	if err := tx.Commit(); err != nil {
		return s.wrap(err)
	}
	s.committed()
	return nil
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

// Confirmed returns, per stream, the highest sequence this node knows the
// ledger committed: its own ledger's on relays and HQ, what peers told it
// on a field laptop.
func (s *SQLite) Confirmed(ctx context.Context) (syncproto.Vector, error) {
	return s.vectorColumn(ctx, "confirmed")
}

// Sent returns, per stream, the highest sequence a peer is known to hold.
func (s *SQLite) Sent(ctx context.Context) (syncproto.Vector, error) {
	return s.vectorColumn(ctx, "sent")
}

func (s *SQLite) vectorColumn(ctx context.Context, col string) (syncproto.Vector, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT node_id, lane, `+col+` FROM streams WHERE `+col+` > 0`)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	v := syncproto.Vector{}
	for rows.Next() {
		var id []byte
		var k syncproto.Stream
		var seq int64
		if err := rows.Scan(&id, &k.Lane, &seq); err != nil {
			return nil, s.wrap(err)
		}
		k.Origin = syncproto.NodeID(id)
		v[k] = uint64(seq)
	}
	return v, s.wrap(rows.Err())
}

// MarkConfirmed raises the confirmed sequences to what a peer's ledger
// says, for the streams whose changes this node holds.
func (s *SQLite) MarkConfirmed(ctx context.Context, v syncproto.Vector) error {
	return s.raise(ctx, "confirmed", v)
}

// MarkSent raises the sent sequences to what a peer holds.
func (s *SQLite) MarkSent(ctx context.Context, v syncproto.Vector) error {
	return s.raise(ctx, "sent", v)
}

func (s *SQLite) raise(ctx context.Context, col string, v syncproto.Vector) error {
	if len(v) == 0 {
		return nil
	}
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap(err)
	}
	defer tx.Rollback()
	for k, seq := range v {
		if _, err := tx.ExecContext(ctx, `UPDATE streams SET `+col+` = max(`+col+`, min(?, seq)) WHERE node_id = ? AND lane = ?`,
			int64(seq), k.Origin[:], k.Lane); err != nil {
			return s.wrap(err)
		}
	}
	return s.wrap(tx.Commit())
}

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

// Outbox is a command waiting to be proposed to the ledger.
type Outbox struct {
	ID   int64
	Kind ledger.CommandType
	Body []byte
}

// AddOutbox queues a command for the running node to propose.
func (s *SQLite) AddOutbox(ctx context.Context, kind ledger.CommandType, body []byte) error {
	_, err := s.mdbExec(ctx, `INSERT INTO outbox (kind, body, created) VALUES (?, ?, ?)`, int(kind), body, time.Now().UTC().Format(time.RFC3339))
	return s.wrap(err)
}

// PendingOutbox lists queued commands, oldest first.
func (s *SQLite) PendingOutbox(ctx context.Context) ([]Outbox, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT id, kind, body FROM outbox ORDER BY id LIMIT 100`)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	var out []Outbox
	for rows.Next() {
		var o Outbox
		if err := rows.Scan(&o.ID, &o.Kind, &o.Body); err != nil {
			return nil, s.wrap(err)
		}
		out = append(out, o)
	}
	return out, s.wrap(rows.Err())
}

// DoneOutbox removes a proposed command.
func (s *SQLite) DoneOutbox(ctx context.Context, id int64) error {
	_, err := s.mdbExec(ctx, `DELETE FROM outbox WHERE id = ?`, id)
	return s.wrap(err)
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
		c, err := syncproto.DecodeChange(body)
		if err != nil {
			return nil, fmt.Errorf("%w: change %s:%d: %v", ErrCorrupt, st, seq, err)
		}
		code := "NEM"
		if f, ok := c.Field("district"); ok {
			var d string
			if syncproto.Unmarshal(f.Value, &d) == nil {
				if c, ok := schemas.DistrictCode[d]; ok {
					code = c
				}
			}
		}
		out = append(out, ledger.NewRecord{Record: c.Record, District: code, Year: uint16(c.HLC.Time().Year())})
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
