package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"lifeline/syncproto"
)

// txn is one write transaction: it caches what it reads and writes so that
// a group of edits touches each row once.
type txn struct {
	s   *SQLite
	ctx context.Context
	tx  *sql.Tx

	insChange, insRecord, updRecord, getRecord, getBody, getRecordOf *sql.Stmt

	heads   map[syncproto.Stream]*streamHead
	records map[syncproto.RecordID]*recordRow
	// heldChain is, by stream, the chain hash of the last change this
	// transaction held in sequence after the stream's head: a run whose
	// signed end is held is still verified whole, the changes merged
	// before it included.
	heldChain map[syncproto.Stream]heldLink
	// cover is, by stream, the last change this transaction took from a
	// peer (merged or kept aside) and the last whose chain head a
	// signature of its origin verified: commit refuses changes no
	// signature covers (ErrUnsigned).
	cover map[syncproto.Stream]*coverage
	// quarantined counts the changes kept aside in this transaction.
	quarantined int
	// heldCount counts the changes held aside, by origin; dropping are the
	// streams whose changes this transaction stopped holding.
	heldCount map[syncproto.NodeID]int
	dropping  map[syncproto.Stream]bool
	// touched are the records a change from a peer merged into: what a
	// change kept aside may have waited for.
	touched map[syncproto.RecordID]bool
	// woken are the changes kept aside that wait for a version that
	// arrived in this transaction (txn.arrived); versionsAwaited says
	// whether any change kept aside waits for a version at all.
	woken           []int64
	versionsAwaited int
	wakes           *sql.Stmt // prepared when first needed
	// fieldsAwaited are the fields changes kept aside wait for a change
	// of (WaitsForField), nil until read.
	fieldsAwaited map[string]bool
	// delta is what the records changed so far do to the digest and the
	// totals (see derived.go); derive, when set, counts created records
	// beside the writer until the delta is written.
	delta  delta
	derive *deriver
	// refs is the definition of what records name that this transaction
	// keeps (see refs.go), nil for none.
	refs *Refs
	// writtenAt is what the records this transaction writes read in their
	// written column (see Written), once read; 0 before.
	writtenAt int64
}

// written returns the written mark of this transaction's records: past
// every mark committed, which this transaction, writing, reads.
func (t *txn) written() (int64, error) {
	if t.writtenAt == 0 {
		if err := t.tx.QueryRowContext(t.ctx, `SELECT coalesce(max(written), 0) + 1 FROM records`).Scan(&t.writtenAt); err != nil {
			return 0, err
		}
	}
	return t.writtenAt, nil
}

// insertRecord inserts a record's row, marked written by this transaction;
// none when a row of that id is there (the result says 0 rows).
func (t *txn) insertRecord(id syncproto.RecordID, typ string, hlc syncproto.HLC, conflicts int, deleted bool, state []byte) (sql.Result, error) {
	at, err := t.written()
	if err != nil {
		return nil, err
	}
	return t.insRecord.ExecContext(t.ctx, id[:], typ, int64(hlc), conflicts, deleted, state, at)
}

// updateRecord writes a record's row again, from its state and state
// encoded, marked written by this transaction.
func (t *txn) updateRecord(rid int64, st *RecordState, deleted bool, state []byte) error {
	at, err := t.written()
	if err != nil {
		return err
	}
	_, err = t.updRecord.ExecContext(t.ctx, st.Type, int64(st.Last), st.Conflicts(), deleted, state, at, rid)
	return err
}

type coverage struct{ took, signed uint64 }

// ErrUnsigned: changes from a peer that no signature of their origin
// covers. A sync run or a bundle always ends with the signed head that
// vouches for the changes before it; nothing else is merged.
var ErrUnsigned = errors.New("changes no signature of their origin covers")

// covered checks that a signature covers every change taken from a peer.
func (t *txn) covered() error {
	if t.s.opts.VerifyHead == nil {
		return nil // trusted local tools and tests
	}
	for st, c := range t.cover {
		if c.took > c.signed {
			return fmt.Errorf("%w: %s up to %d, signed up to %d", ErrUnsigned, st, c.took, c.signed)
		}
	}
	return nil
}

// coverOf is a stream's coverage in this transaction.
func (t *txn) coverOf(st syncproto.Stream) *coverage {
	if t.cover == nil {
		t.cover = map[syncproto.Stream]*coverage{}
	}
	c := t.cover[st]
	if c == nil {
		c = &coverage{}
		t.cover[st] = c
	}
	return c
}

type heldLink struct {
	seq  uint64
	hash syncproto.Hash
}

// streamHead is a stream's vector entry and chain head as this transaction
// sees them.
type streamHead struct {
	idx      int64
	seq      uint64
	head     syncproto.Hash
	hlc      syncproto.HLC
	dirty    bool
	unsigned bool // the head has no signature yet (this node's streams)
}

type recordRow struct {
	rid     int64 // 0 until inserted
	state   *RecordState
	deleted bool
	fresh   bool // created in this transaction and not yet inserted
	dirty   bool
	// orig and origDeleted are the record as last written: what it
	// contributes to the digest and the totals until it is written again.
	orig        []byte
	origDeleted bool
}

func (s *SQLite) begin(ctx context.Context) (*txn, error) {
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return nil, s.wrap(err)
	}
	// Statements run without the caller's cancellation: the driver would
	// start a goroutine per statement to watch it. Cancellation still ends
	// the transaction, which database/sql rolls back.
	t := &txn{s: s, ctx: context.WithoutCancel(ctx), tx: tx, heads: map[syncproto.Stream]*streamHead{}, records: map[syncproto.RecordID]*recordRow{}, refs: s.refs.Load()}
	prep := func(q string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var st *sql.Stmt
		st, err = tx.PrepareContext(t.ctx, q)
		return st
	}
	t.insChange = prep(`INSERT INTO changes (id, hlc, record, hash, sig, body, ahead) VALUES (?, ?, ?, ?, ?, ?, ?)`)
	t.insRecord = prep(`INSERT INTO records (id, type, hlc, conflicts, deleted, state, written) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`)
	t.updRecord = prep(`UPDATE records SET type = ?, hlc = ?, conflicts = ?, deleted = ?, state = ?, written = ? WHERE rid = ?`)
	t.getRecord = prep(`SELECT rid, deleted, state FROM records WHERE id = ?`)
	t.getBody = prep(`SELECT body FROM changes WHERE id = ?`)
	t.getRecordOf = prep(`SELECT record FROM changes WHERE id = ?`)
	if err != nil {
		tx.Rollback()
		return nil, s.wrap(err)
	}
	// Observe the newest change any process merged, so that local edits are
	// stamped after everything this node has seen: its own stamps as they
	// are (they never go back), others' no further than a little past the
	// wall clock (see syncproto.Clock.Observe).
	var own, others sql.NullInt64
	if err := tx.QueryRowContext(t.ctx, `SELECT max(CASE WHEN node_id = ?1 THEN hlc END), max(CASE WHEN node_id != ?1 THEN hlc END) FROM streams`,
		s.self.ID[:]).Scan(&own, &others); err != nil {
		tx.Rollback()
		return nil, s.wrap(err)
	}
	s.clock.ObserveOwn(syncproto.HLC(own.Int64))
	s.clock.Observe(syncproto.HLC(others.Int64))
	return t, nil
}

func (t *txn) rollback() { t.tx.Rollback() }

// head loads a stream's vector entry and chain head.
func (t *txn) head(st syncproto.Stream, create bool) (*streamHead, error) {
	if h, ok := t.heads[st]; ok {
		return h, nil
	}
	idx, ok, err := t.s.stream(t.ctx, t.tx, st, create)
	if err != nil || !ok {
		return nil, err
	}
	h := &streamHead{idx: idx}
	var head []byte
	var seq, hlc int64
	if err := t.tx.QueryRowContext(t.ctx, `SELECT seq, head, hlc FROM streams WHERE idx = ?`, idx).Scan(&seq, &head, &hlc); err != nil {
		return nil, err
	}
	h.seq, h.hlc = uint64(seq), syncproto.HLC(hlc)
	copy(h.head[:], head)
	t.heads[st] = h
	return h, nil
}

// seenIn returns the merge's seen function for one record: whether the
// change d names is in the log as a change of that record. It only queries
// for a base that is not a head, which a local edit never names.
func (t *txn) seenIn(r *recordRow) func(syncproto.Dot) bool {
	return func(d syncproto.Dot) bool {
		if r.rid == 0 {
			return false
		}
		h, err := t.head(d.Stream(), false)
		if err != nil || h == nil || d.Seq > h.seq {
			return false
		}
		var rid int64
		err = t.getRecordOf.QueryRowContext(t.ctx, changeID(h.idx, d.Seq)).Scan(&rid)
		return err == nil && rid == r.rid
	}
}

// record loads a record's merge state; ok is false when it does not exist.
func (t *txn) record(id syncproto.RecordID) (*recordRow, bool, error) {
	if r, ok := t.records[id]; ok {
		return r, r != nil, nil
	}
	var rid int64
	var deleted bool
	var state []byte
	err := t.getRecord.QueryRowContext(t.ctx, id[:]).Scan(&rid, &deleted, &state)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	st, err := DecodeState(state)
	if err != nil {
		return nil, false, fmt.Errorf("record %s: %w", id, err)
	}
	r := &recordRow{rid: rid, state: st, deleted: deleted, orig: state, origDeleted: deleted}
	t.records[id] = r
	return r, true, nil
}

// prefetch loads, in a few queries, the records a batch of changes touches
// that this transaction has not read yet, and notes which do not exist, so
// that applying the batch asks nothing more of the database.
func (t *txn) prefetch(changes []Incoming) error {
	const chunk = 500
	var ids []any
	asked := map[syncproto.RecordID]bool{}
	for i := range changes {
		id := changes[i].Change.Record
		if _, ok := t.records[id]; !ok && !asked[id] {
			asked[id] = true
			ids = append(ids, id[:])
		}
	}
	for len(ids) > 0 {
		n := min(len(ids), chunk)
		q := "SELECT id, rid, deleted, state FROM records WHERE id IN (?" + strings.Repeat(", ?", n-1) + ")"
		rows, err := t.tx.QueryContext(t.ctx, q, ids[:n]...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id, state []byte
			var rid int64
			var deleted bool
			if err := rows.Scan(&id, &rid, &deleted, &state); err != nil {
				rows.Close()
				return err
			}
			st, err := DecodeState(state)
			if err != nil {
				rows.Close()
				return fmt.Errorf("record %x: %w", id, err)
			}
			t.records[syncproto.RecordID(id)] = &recordRow{rid: rid, state: st, deleted: deleted, orig: state, origDeleted: deleted}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		ids = ids[n:]
	}
	for id := range asked {
		if _, ok := t.records[id]; !ok {
			t.records[id] = nil // known not to exist
		}
	}
	return nil
}

// errTaken says a record this transaction tried to create exists already.
var errTaken = errors.New("record id taken")

// newRecord starts a record that this transaction creates.
func (t *txn) newRecord(id syncproto.RecordID) *recordRow {
	r := &recordRow{state: &RecordState{}, fresh: true}
	t.records[id] = r
	return r
}

// merge applies a change to its record and appends it to the log. body is
// the change's canonical bytes; c's stream head must already be loaded.
// ahead is how far, in milliseconds, another node stamped a change past
// this node's clock as it merges here; nil when no more than a clock
// observes (syncproto.ObserveAhead). A version that wins a conflict only
// because its origin's clock ran fast is shown so.
func (t *txn) ahead(c *syncproto.Change) any {
	if c.Origin == t.s.self.ID {
		return nil
	}
	if d := t.s.clock.Ahead(c.HLC); d > syncproto.ObserveAhead {
		return d.Milliseconds()
	}
	return nil
}

// apply applies c to the state of its record r, and a deletion or a
// restore to whether r is deleted.
func (t *txn) apply(c *syncproto.Change, r *recordRow) error {
	r.state.Apply(c, t.seenIn(r))
	if _, tomb := c.Field(syncproto.DeletedField); tomb {
		deleted, err := t.deleted(r.state, c)
		if err != nil {
			return err
		}
		r.deleted = deleted
	}
	return nil
}

func (t *txn) merge(c *syncproto.Change, body []byte, hash syncproto.Hash, sig []byte, r *recordRow) error {
	h := t.heads[c.Stream()]
	if err := t.apply(c, r); err != nil {
		return err
	}
	if r.fresh {
		// A new record is inserted once, with its state after this change,
		// so that a bulk import writes each row once.
		var b []byte
		var err error
		if len(r.state.Fields) == len(c.Fields) && !hasBases(c) {
			// The record's first change names no bases: its state is
			// the shape encodeNew writes, without walking it.
			b = encodeNew(c)
		} else if b, err = r.state.Encode(); err != nil {
			return err
		}
		res, err := t.insertRecord(c.Record, r.state.Type, r.state.Last, r.state.Conflicts(), r.deleted, b)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			// A new record whose id another change already holds: creating
			// without looking first saves a query per record in an import.
			delete(t.records, c.Record)
			return errTaken
		}
		if r.rid, err = res.LastInsertId(); err != nil {
			return err
		}
		r.fresh = false
		t.created(c, r, b)
	} else {
		r.dirty = true
	}
	if _, err := t.insChange.ExecContext(t.ctx, changeID(h.idx, c.Seq), int64(c.HLC), r.rid, hash[:], nullable(sig), body, t.ahead(c)); err != nil {
		return err
	}
	h.seq, h.head, h.hlc, h.dirty = c.Seq, hash, max(h.hlc, c.HLC), true
	return nil
}

// seqBits is how many low bits of a change's row id hold its sequence; the
// stream's index is above them.
const seqBits = 40

// changeID packs a dot into the change log's row id.
func changeID(stream int64, seq uint64) int64 { return stream<<seqBits | int64(seq) }

// splitID unpacks a change log row id.
func splitID(id int64) (stream int64, seq uint64) {
	return id >> seqBits, uint64(id & (1<<seqBits - 1))
}

func hasBases(c *syncproto.Change) bool {
	for i := range c.Fields {
		if len(c.Fields[i].Base) > 0 {
			return true
		}
	}
	return false
}

func nullable(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// deleted decides the tombstone from the winning version of the tombstone
// field. Values live in the change log, so unless the winner is the change
// in hand, its body is read back.
func (t *txn) deleted(st *RecordState, c *syncproto.Change) (bool, error) {
	f, ok := st.Field(syncproto.DeletedField)
	if !ok || len(f.Heads) == 0 {
		return false, nil
	}
	win := f.Heads[0]
	if win.Dot() == c.Dot() {
		v, _ := c.Field(syncproto.DeletedField)
		return isTrue(v.Value), nil
	}
	h, err := t.head(win.Dot().Stream(), false)
	if err != nil || h == nil {
		return false, fmt.Errorf("tombstone of record %s: stream %s unknown", c.Record, win.Dot().Stream())
	}
	var body []byte
	if err := t.getBody.QueryRowContext(t.ctx, changeID(h.idx, win.Seq)).Scan(&body); err != nil {
		return false, fmt.Errorf("tombstone of record %s: %w", c.Record, err)
	}
	wc, err := syncproto.DecodeChange(body)
	if err != nil {
		return false, fmt.Errorf("%w: change %s: %v", ErrCorrupt, win.Dot(), err)
	}
	v, _ := wc.Field(syncproto.DeletedField)
	return isTrue(v.Value), nil
}

func isTrue(cbor []byte) bool { return len(cbor) == 1 && cbor[0] == 0xf5 }

// flushRecords writes back the records changed so far.
func (t *txn) flushRecords() error {
	for id, r := range t.records {
		if r == nil || !r.dirty {
			continue
		}
		b, err := r.state.Encode()
		if err != nil {
			return err
		}
		if err := t.recount(id, r, b); err != nil {
			return err
		}
		if err := t.updateRecord(r.rid, r.state, r.deleted, b); err != nil {
			return err
		}
		r.dirty = false
	}
	return nil
}

// flush writes back the records and stream heads this transaction changed.
func (t *txn) flush() error {
	if err := t.flushRecords(); err != nil {
		return err
	}
	for _, h := range t.heads {
		if !h.dirty {
			continue
		}
		if _, err := t.tx.ExecContext(t.ctx, `UPDATE streams SET seq = ?, head = ?, hlc = ? WHERE idx = ?`,
			int64(h.seq), h.head[:], int64(h.hlc), h.idx); err != nil {
			return err
		}
		h.dirty = false
	}
	return t.flushDerived()
}

func (t *txn) commit() error {
	if err := t.covered(); err != nil {
		t.tx.Rollback()
		return err
	}
	if err := t.flush(); err != nil {
		t.tx.Rollback()
		return err
	}
	if err := t.tx.Commit(); err != nil {
		return err
	}
	t.s.committed()
	select {
	case t.s.changed <- struct{}{}:
	default:
	}
	// Streams added in this transaction are now safe to cache.
	for st, h := range t.heads {
		t.s.cacheStream(st, h.idx)
	}
	return nil
}
