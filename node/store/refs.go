package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"lifeline/syncproto"
)

// Refs says what each record names that the store does not hold: the
// photos its fields name. As with a Tally, the store knows nothing of what
// is named: it keeps what Of returns in the transaction that changes the
// record, whatever changes it (a session, a bundle, a local edit, a change
// kept aside that merges later, another process), so that a node reads
// what changed (RefsSince) instead of every record.
type Refs struct {
	// Version names the definition, not 0: Of's code and what it reads
	// records with (the node's kits and keys). SetRefs computes the refs
	// again from every record when they were computed by another.
	Version int64
	// Reads says whether Of reads a field of a record of a type: the
	// store reads no other field's values when it computes the refs
	// again, and a record none of whose fields Of reads names nothing.
	Reads func(typ, field string) bool
	// Of lists what one record names: deleted records too, for which Of
	// decides. It must depend on the record and Version alone; it runs
	// inside the store's write transaction, or beside it, and must not
	// call the store. Record.Fields' versions carry their values and
	// stamps; their Author and Ahead are not set.
	Of func(r *Record) []Ref
}

// Ref is a name a version of a record's field gives, and the stream of
// the change that wrote that version.
type Ref struct {
	Name   string
	Stream syncproto.Stream
}

// ErrNoRefs: RefsSince before any SetRefs.
var ErrNoRefs = errors.New("store keeps no refs: no definition was set")

// named is what a transaction learnt of one record's refs: what they were
// before it and are now, and whether they are to be written.
type named struct {
	old, now []Ref
	hadOld   bool
	write    bool
}

// name notes what a record names before (sign -1) or after (sign 1) a
// change of it. Without a definition every record changed is noted, to be
// read again.
func (d *delta) name(r *Record, sign int, refs *Refs) {
	var of []Ref
	if refs != nil {
		of = refs.Of(r)
	}
	e := d.names[r.ID]
	if e == nil {
		if sign > 0 && refs != nil && len(of) == 0 {
			return // a new record that names nothing
		}
		if d.names == nil {
			d.names = map[syncproto.RecordID]*named{}
		}
		e = &named{}
		d.names[r.ID] = e
	}
	if sign < 0 {
		e.old, e.hadOld = of, true
		return
	}
	e.now = of
	e.write = e.write || refs == nil || !e.hadOld || !slices.Equal(e.old, of)
}

// mergeNames adds another delta's notes into this one's. o's are of
// records created before this delta's changes (the deriver's, an
// import's batches): a record in both is as this delta says, and written
// when either says so.
func (d *delta) mergeNames(o *delta) {
	for id, oe := range o.names {
		e := d.names[id]
		if e == nil {
			if d.names == nil {
				d.names = map[syncproto.RecordID]*named{}
			}
			d.names[id] = oe
			continue
		}
		e.write = e.write || oe.write
	}
}

// refsMarks reads the definition the refs were computed by, the last seq
// written and whether records wait to be read again.
func refsMarks(ctx context.Context, q querier) (version, seq, base int64, pending bool, err error) {
	err = q.QueryRowContext(ctx, `SELECT (SELECT version FROM derived WHERE name = 'refs'), (SELECT version FROM derived WHERE name = 'refs-seq'),
		(SELECT version FROM derived WHERE name = 'refs-base'), EXISTS (SELECT 1 FROM refs_pending)`).Scan(&version, &seq, &base, &pending)
	return
}

// flushRefs writes what the records changed in this transaction name
// now. A transaction without the definition the refs were computed by
// leaves its records to be read again when a definition is next set.
func (t *txn) flushRefs(d *delta) error {
	if len(d.names) == 0 {
		return nil
	}
	version, seq, _, _, err := refsMarks(t.ctx, t.tx)
	if err != nil {
		return err
	}
	if t.refs == nil || t.refs.Version != version {
		if version == 0 {
			return nil // none kept: computed whole when a definition is set
		}
		for id := range d.names {
			if _, err := t.tx.ExecContext(t.ctx, `INSERT INTO refs_pending (record) VALUES (?) ON CONFLICT DO NOTHING`, id[:]); err != nil {
				return err
			}
		}
		return nil
	}
	w := refsWriter{t: t, seq: seq + 1}
	for id, e := range d.names {
		if e.write {
			if err := w.write(id, e.now); err != nil {
				return err
			}
		}
	}
	return w.done()
}

// refsWriter writes records' refs with one seq.
type refsWriter struct {
	t        *txn
	seq      int64
	del, ins *sql.Stmt
	wrote    bool
}

// write replaces what a record names; a record that names nothing keeps
// one row saying so, for RefsSince to tell.
func (w *refsWriter) write(id syncproto.RecordID, refs []Ref) error {
	t := w.t
	if w.del == nil {
		var err error
		if w.del, err = t.tx.PrepareContext(t.ctx, `DELETE FROM refs WHERE record = ?`); err != nil {
			return err
		}
		if w.ins, err = t.tx.PrepareContext(t.ctx, `INSERT INTO refs (seq, record, name, origin, lane) VALUES (?, ?, ?, ?, ?)`); err != nil {
			return err
		}
	}
	w.wrote = true
	if _, err := w.del.ExecContext(t.ctx, id[:]); err != nil {
		return err
	}
	if len(refs) == 0 {
		_, err := w.ins.ExecContext(t.ctx, w.seq, id[:], nil, nil, 0)
		return err
	}
	for _, r := range refs {
		if _, err := w.ins.ExecContext(t.ctx, w.seq, id[:], r.Name, r.Stream.Origin[:], r.Stream.Lane); err != nil {
			return err
		}
	}
	return nil
}

// done records the seq written, if any was, and closes the statements.
func (w *refsWriter) done() error {
	if w.del != nil {
		w.del.Close()
		w.ins.Close()
	}
	if !w.wrote {
		return nil
	}
	_, err := w.t.tx.ExecContext(w.t.ctx, `UPDATE derived SET version = ? WHERE name = 'refs-seq'`, w.seq)
	return err
}

// SetRefs makes the store keep refs by def from now on: computed again
// from every record first when they were computed by another definition
// (or none), and the records other processes left to read again read.
func (s *SQLite) SetRefs(ctx context.Context, def *Refs) error {
	if def == nil || def.Version == 0 || def.Of == nil || def.Reads == nil {
		return errors.New("store: a definition of refs needs a version other than 0, Reads and Of")
	}
	t, end, err := s.lockTxn(ctx)
	if err != nil {
		return err
	}
	defer end()
	t.refs = def
	version, seq, _, pending, err := refsMarks(ctx, t.tx)
	if err != nil {
		return s.wrap(err)
	}
	switch {
	case version != def.Version:
		err = t.recomputeRefs(seq + 1)
	case pending:
		err = t.reviseRefs(seq + 1)
	default:
		s.refs.Store(def)
		return nil
	}
	if err != nil {
		return s.wrap(err)
	}
	if err := t.tx.Commit(); err != nil {
		return s.wrap(err)
	}
	s.refs.Store(def)
	s.committed()
	return nil
}

// partView is a record's view with only the fields a definition reads.
func (t *txn) partView(id syncproto.RecordID, st *RecordState, deleted bool, reads func(typ, field string) bool) (Record, bool, error) {
	fields := st.Fields
	st.Fields = slices.DeleteFunc(slices.Clone(fields), func(f FieldState) bool { return !reads(st.Type, f.Name) })
	defer func() { st.Fields = fields }()
	if len(st.Fields) == 0 {
		return Record{}, false, nil
	}
	v, err := t.view(id, st, deleted, map[syncproto.Dot]*syncproto.Change{})
	return v, true, err
}

// recomputeRefs replaces every record's refs with what t.refs says of it.
func (t *txn) recomputeRefs(seq int64) error {
	found := map[syncproto.RecordID][]Ref{}
	err := t.eachRecord(func(id syncproto.RecordID, st *RecordState, deleted bool) error {
		v, ok, err := t.partView(id, st, deleted, t.refs.Reads)
		if err != nil || !ok {
			return err
		}
		if refs := t.refs.Of(&v); len(refs) > 0 {
			found[id] = refs
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, q := range []string{`DELETE FROM refs`, `DELETE FROM refs_pending`} {
		if _, err := t.tx.ExecContext(t.ctx, q); err != nil {
			return err
		}
	}
	w := refsWriter{t: t, seq: seq}
	for id, refs := range found {
		if err := w.write(id, refs); err != nil {
			return err
		}
	}
	if err := w.done(); err != nil {
		return err
	}
	_, err = t.tx.ExecContext(t.ctx, `UPDATE derived SET version = CASE name WHEN 'refs' THEN ? ELSE ? END WHERE name IN ('refs', 'refs-seq', 'refs-base')`,
		t.refs.Version, seq)
	return err
}

// reviseRefs reads again the records other processes left to read.
func (t *txn) reviseRefs(seq int64) error {
	ids, err := queryAll(t.ctx, t.tx, scanRecordID, `SELECT record FROM refs_pending`)
	if err != nil {
		return err
	}
	w := refsWriter{t: t, seq: seq}
	for _, id := range ids {
		var refs []Ref
		var deleted bool
		var state []byte
		err := t.tx.QueryRowContext(t.ctx, `SELECT deleted, state FROM records WHERE id = ?`, id[:]).Scan(&deleted, &state)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		default:
			st, err := DecodeState(state)
			if err != nil {
				return fmt.Errorf("record %s: %w", id, err)
			}
			v, ok, err := t.partView(id, st, deleted, t.refs.Reads)
			if err != nil {
				return err
			}
			if ok {
				refs = t.refs.Of(&v)
			}
		}
		if err := w.write(id, refs); err != nil {
			return err
		}
	}
	if _, err := t.tx.ExecContext(t.ctx, `DELETE FROM refs_pending`); err != nil {
		return err
	}
	// A record's rows are written even when they say what they said: the
	// seq is new all the same.
	w.wrote = true
	return w.done()
}

// RefsSince returns the records whose refs were written after mark (a
// value it returned before, or 0), each with what it names now (nothing:
// it names nothing any more), and the mark they reach. When the refs were
// computed again from every record after mark, all is set and the map
// holds every record that names anything, to replace what the caller
// kept. Refs another process left stale are brought up to date first, by
// the definition last set.
func (s *SQLite) RefsSince(ctx context.Context, mark int64) (changed map[syncproto.RecordID][]Ref, next int64, all bool, err error) {
	def := s.refs.Load()
	if def == nil {
		return nil, 0, false, ErrNoRefs
	}
	for range 3 {
		current := false
		err = s.readTx(ctx, func(tx *sql.Tx) error {
			version, seq, base, pending, err := refsMarks(ctx, tx)
			if err != nil {
				return err
			}
			if current = version == def.Version && !pending; !current {
				return nil
			}
			changed, next, all = map[syncproto.RecordID][]Ref{}, seq, mark < base
			rows, err := tx.QueryContext(ctx, `SELECT record, name, origin, lane FROM refs WHERE seq > ? AND seq <= ?`, mark, seq)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var id, origin []byte
				var name sql.NullString
				var lane uint8
				if err := rows.Scan(&id, &name, &origin, &lane); err != nil {
					return err
				}
				if len(id) != len(syncproto.RecordID{}) || name.Valid && len(origin) != len(syncproto.NodeID{}) {
					return fmt.Errorf("%w: a row of refs with a record id of %d bytes, an origin of %d", ErrCorrupt, len(id), len(origin))
				}
				rec := syncproto.RecordID(id)
				refs := changed[rec]
				if name.Valid {
					refs = append(refs, Ref{Name: name.String, Stream: syncproto.Stream{Origin: syncproto.NodeID(origin), Lane: lane}})
				}
				changed[rec] = refs
			}
			return rows.Err()
		})
		if err != nil || current {
			if all {
				for id, refs := range changed {
					if len(refs) == 0 {
						delete(changed, id)
					}
				}
			}
			return changed, next, all, err
		}
		if err := s.SetRefs(ctx, def); err != nil {
			return nil, 0, false, err
		}
	}
	return nil, 0, false, fmt.Errorf("store %s: the refs keep being computed by another definition", s.path)
}
