package store

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"

	"lifeline/syncproto"
)

// The digest's accumulators and the tallies are derived from the records
// as the records are from the change log. Every transaction that changes
// a record collects, in a delta, the record's old contribution taken away
// and its new one added, and writes the delta before it commits: reading
// either never walks the records. A record's contribution is computed
// from its view (its fields' versions with their values) before and after
// the change; a new record's from the change that creates it.

// delta is what a transaction's record changes do to the derived tables.
type delta struct {
	sums   map[string]*ltHash
	counts map[countKey]int64
	// changed is set once any record's contribution changed: a store
	// without a tally then marks the totals stale.
	changed bool
	entry   []byte // scratch for digest entries
	// names is, by record, what its refs were and are (see refs.go);
	// noNames, set when the delta is not written record by record
	// (recompute), that they are not noted.
	names   map[syncproto.RecordID]*named
	noNames bool
}

func (d *delta) clone() delta {
	c := delta{counts: maps.Clone(d.counts), changed: d.changed}
	if d.names != nil {
		c.names = make(map[syncproto.RecordID]*named, len(d.names))
		for id, n := range d.names {
			cp := *n
			c.names[id] = &cp
		}
	}
	if d.sums != nil {
		c.sums = make(map[string]*ltHash, len(d.sums))
		for k, h := range d.sums {
			cp := *h
			c.sums[k] = &cp
		}
	}
	return c
}

// record adds (sign 1) or takes away (sign -1) what r contributes.
func (d *delta) record(r *Record, sign int, tally *Tally, refs *Refs) {
	d.changed = true
	if !d.noNames {
		d.name(r, sign, refs)
	}
	scope := digestScope(r)
	acc := d.sums[scope]
	if acc == nil {
		if d.sums == nil {
			d.sums = map[string]*ltHash{}
		}
		acc = &ltHash{}
		d.sums[scope] = acc
	}
	d.entry = appendEntry(d.entry[:0], r)
	acc.addElement(d.entry, sign)
	if tally == nil {
		return
	}
	for _, c := range tally.Count(r) {
		if c.N == 0 {
			continue
		}
		if d.counts == nil {
			d.counts = map[countKey]int64{}
		}
		d.counts[countKey{c.Scope, c.Type, c.Name}] += int64(sign) * c.N
	}
}

// merge adds another delta into this one.
func (d *delta) merge(o *delta) {
	for scope, h := range o.sums {
		if d.sums == nil {
			d.sums = map[string]*ltHash{}
		}
		if acc := d.sums[scope]; acc != nil {
			acc.add(h)
		} else {
			cp := *h
			d.sums[scope] = &cp
		}
	}
	for k, n := range o.counts {
		if d.counts == nil {
			d.counts = map[countKey]int64{}
		}
		d.counts[k] += n
	}
	d.changed = d.changed || o.changed
	d.mergeNames(o)
}

// addElement adds (sign 1) or takes away (sign -1) the LtHash element of
// a digest entry's bytes.
func (h *ltHash) addElement(entry []byte, sign int) {
	var b [ltBytes]byte
	element(entry, &b)
	if sign > 0 {
		for i := range h {
			h[i] += binary.LittleEndian.Uint16(b[2*i:])
		}
	} else {
		for i := range h {
			h[i] -= binary.LittleEndian.Uint16(b[2*i:])
		}
	}
}

// elementDomain prefixes a digest entry where it is hashed into the key of
// its element.
const elementDomain = "lifeline/digest/element/v2"

// element writes a digest entry's element: the AES-256-CTR keystream, from
// a zero counter block, under the key SHA-256(elementDomain || entry).
// That is a collision-resistant hash of the entry expanded by a
// pseudorandom function, as NIST's CTR_DRBG expands its seed, and costs a
// quarter of BLAKE2X of the same length (2.3 against 8.8 µs for an entry of
// 1,000 bytes on this project's bench machine).
func element(entry []byte, out *[ltBytes]byte) {
	h := sha256.New()
	h.Write([]byte(elementDomain))
	h.Write(entry)
	var key [32]byte
	h.Sum(key[:0])
	blk, err := aes.NewCipher(key[:])
	if err != nil {
		panic(err) // only for a key of another length
	}
	var iv [aes.BlockSize]byte
	clear(out[:])
	cipher.NewCTR(blk, iv[:]).XORKeyStream(out[:], out[:])
}

// newView is the view of a record after the change that creates it: every
// field it sets has one version, the change's.
func newView(c *syncproto.Change, deleted bool) Record {
	st := Stamp{Origin: c.Origin, Lane: c.Lane, Seq: c.Seq, HLC: c.HLC}
	rec := Record{ID: c.Record, Type: c.Type, Kit: c.Kit, Lane: c.Lane, First: c.Dot(), Version: c.Version, Deleted: deleted, Updated: c.HLC,
		Fields: make([]FieldView, len(c.Fields))}
	versions := make([]Version, len(c.Fields))
	for i := range c.Fields {
		versions[i] = Version{Value: c.Fields[i].Value, Stamp: st}
		rec.Fields[i] = FieldView{Name: c.Fields[i].Name, Versions: versions[i : i+1 : i+1]}
	}
	return rec
}

// created counts a record that this transaction inserted, in the state its
// first change c gives it, and remembers that state as what it contributes.
func (t *txn) created(c *syncproto.Change, r *recordRow, state []byte) {
	v := newView(c, r.deleted)
	if t.derive != nil {
		t.derive.add(v)
	} else {
		t.delta.record(&v, 1, t.s.opts.Tally, t.refs)
	}
	r.orig, r.origDeleted = state, r.deleted
}

// deriver counts created records' contributions beside the transaction's
// writer: a session that brings tens of thousands of new records spends
// as long on their digest elements and totals as SQLite on their rows, and
// the sums add up in any order. A view holds only what its change holds,
// which nothing changes once decoded.
type deriver struct {
	pending []Record
	batches chan []Record
	done    chan struct{}
	d       delta
}

const deriveBatchLen = 256

func newDeriver(tally *Tally, refs *Refs) *deriver {
	dr := &deriver{batches: make(chan []Record, 2), done: make(chan struct{})}
	go func() {
		defer close(dr.done)
		for views := range dr.batches {
			for i := range views {
				dr.d.record(&views[i], 1, tally, refs)
			}
		}
	}()
	return dr
}

func (dr *deriver) add(v Record) {
	if dr.pending == nil {
		dr.pending = make([]Record, 0, deriveBatchLen)
	}
	dr.pending = append(dr.pending, v)
	if len(dr.pending) == deriveBatchLen {
		dr.batches <- dr.pending
		dr.pending = nil
	}
}

// wait counts what is left and returns the sum, once: the deriver is done.
func (dr *deriver) wait() *delta {
	if len(dr.pending) > 0 {
		dr.batches <- dr.pending
		dr.pending = nil
	}
	close(dr.batches)
	<-dr.done
	return &dr.d
}

// joinDeriver adds what the transaction's deriver counted into its delta
// and stops it.
func (t *txn) joinDeriver() {
	if t.derive != nil {
		t.delta.merge(t.derive.wait())
		t.derive = nil
	}
}

// recount takes away what a record contributed in the state it was last
// written in, and adds what it contributes in state, about to be written.
func (t *txn) recount(id syncproto.RecordID, r *recordRow, state []byte) error {
	if r.origDeleted == r.deleted && bytes.Equal(r.orig, state) {
		return nil
	}
	bodies := map[syncproto.Dot]*syncproto.Change{}
	if r.orig != nil {
		old, err := DecodeState(r.orig)
		if err != nil {
			return fmt.Errorf("record %s: %w", id, err)
		}
		v, err := t.view(id, old, r.origDeleted, bodies)
		if err != nil {
			return err
		}
		t.delta.record(&v, -1, t.s.opts.Tally, t.refs)
	}
	v, err := t.view(id, r.state, r.deleted, bodies)
	if err != nil {
		return err
	}
	t.delta.record(&v, 1, t.s.opts.Tally, t.refs)
	r.orig, r.origDeleted = state, r.deleted
	return nil
}

// view is SQLite.view inside the transaction, the changes it reads kept
// in bodies; versions have no Author nor Ahead.
func (t *txn) view(id syncproto.RecordID, st *RecordState, deleted bool, bodies map[syncproto.Dot]*syncproto.Change) (Record, error) {
	rec := Record{ID: id, Type: st.Type, Kit: st.Kit, Lane: st.First.Lane, First: st.First.Dot(), Version: st.Version, Deleted: deleted, Updated: st.Last, Conflicts: st.Conflicts()}
	for _, f := range st.Fields {
		if len(f.Heads) == 0 {
			continue
		}
		fv := FieldView{Name: f.Name, Versions: make([]Version, 0, len(f.Heads))}
		for _, h := range f.Heads {
			c, err := t.body(h.Dot(), bodies)
			if err != nil {
				return Record{}, fmt.Errorf("record %s: %w", id, err)
			}
			v, _ := c.Field(f.Name)
			fv.Versions = append(fv.Versions, Version{Value: v.Value, Stamp: h})
		}
		rec.Fields = append(rec.Fields, fv)
	}
	return rec, nil
}

// body reads a change of the log, once per transaction's call.
func (t *txn) body(d syncproto.Dot, bodies map[syncproto.Dot]*syncproto.Change) (*syncproto.Change, error) {
	if c, ok := bodies[d]; ok {
		return c, nil
	}
	h, err := t.head(d.Stream(), false)
	if err != nil {
		return nil, err
	}
	if h == nil {
		return nil, fmt.Errorf("%w: change %s: stream unknown", ErrCorrupt, d)
	}
	var body []byte
	if err := t.getBody.QueryRowContext(t.ctx, changeID(h.idx, d.Seq)).Scan(&body); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("%w: change %s is missing from the log", ErrCorrupt, d)
		}
		return nil, err
	}
	c, err := syncproto.DecodeChange(body)
	if err != nil {
		return nil, fmt.Errorf("%w: change %s: %v", ErrCorrupt, d, err)
	}
	bodies[d] = &c
	return &c, nil
}

// flushDerived writes the delta into the derived tables.
func (t *txn) flushDerived() error {
	t.joinDeriver()
	d := &t.delta
	if !d.changed {
		return nil
	}
	for scope, h := range d.sums {
		var b []byte
		err := t.tx.QueryRowContext(t.ctx, `SELECT sum FROM digests WHERE scope = ?`, scope).Scan(&b)
		acc := &ltHash{}
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		default:
			if acc, err = ltFrom(b); err != nil {
				return err
			}
		}
		acc.add(h)
		if _, err := t.tx.ExecContext(t.ctx, `INSERT INTO digests (scope, sum) VALUES (?, ?) ON CONFLICT (scope) DO UPDATE SET sum = excluded.sum`,
			scope, acc.bytes()); err != nil {
			return err
		}
	}
	// Totals are kept only by the tally that computed them; any other
	// writer leaves them stale, to be computed again (see Tallies).
	var version int
	if err := t.tx.QueryRowContext(t.ctx, `SELECT version FROM derived WHERE name = 'tally'`).Scan(&version); err != nil {
		return err
	}
	switch tally := t.s.opts.Tally; {
	case version == 0:
	case tally == nil || tally.Version != version:
		if _, err := t.tx.ExecContext(t.ctx, `UPDATE derived SET version = 0 WHERE name = 'tally'`); err != nil {
			return err
		}
	default:
		for k, n := range d.counts {
			if n == 0 {
				continue
			}
			if _, err := t.tx.ExecContext(t.ctx, `INSERT INTO tallies (scope, type, name, n) VALUES (?, ?, ?, ?)
				ON CONFLICT (scope, type, name) DO UPDATE SET n = n + excluded.n`, k.scope, k.typ, k.name, n); err != nil {
				return err
			}
		}
	}
	if err := t.flushRefs(d); err != nil {
		return err
	}
	t.delta = delta{entry: d.entry}
	return nil
}

// catchUp computes, when the store opens, what a migration or another
// definition left out of date.
func (s *SQLite) catchUp(ctx context.Context) error {
	digest, tally, err := s.stale(ctx, s.rdb)
	if err != nil || !digest && !tally {
		return err
	}
	return s.recompute(ctx)
}

// stale says which derived tables were computed by a definition that is
// not this store's.
func (s *SQLite) stale(ctx context.Context, q querier) (digest, tally bool, err error) {
	var d, t int
	if err := q.QueryRowContext(ctx, `SELECT (SELECT version FROM derived WHERE name = 'digest'), (SELECT version FROM derived WHERE name = 'tally')`).Scan(&d, &t); err != nil {
		return false, false, s.wrap(err)
	}
	return d != digestDefinition, s.opts.Tally != nil && t != s.opts.Tally.Version, nil
}

// recompute computes again, from every record, the derived tables that
// are stale, in one write transaction.
func (s *SQLite) recompute(ctx context.Context) error {
	t, end, err := s.lockTxn(ctx)
	if err != nil {
		return err
	}
	defer end()
	// Another process may have done it while this one waited.
	digest, tally, err := s.stale(ctx, t.tx)
	if err != nil || !digest && !tally {
		return err
	}
	if err := t.recompute(digest, tally); err != nil {
		return s.wrap(err)
	}
	if err := t.tx.Commit(); err != nil {
		return s.wrap(err)
	}
	s.committed()
	return nil
}

// eachRecord calls fn with every record's state, decoded.
func (t *txn) eachRecord(fn func(id syncproto.RecordID, st *RecordState, deleted bool) error) error {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT id, deleted, state FROM records`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, state []byte
		var deleted bool
		if err := rows.Scan(&id, &deleted, &state); err != nil {
			return err
		}
		if len(id) != len(syncproto.RecordID{}) {
			return fmt.Errorf("%w: a record's id of %d bytes", ErrCorrupt, len(id))
		}
		st, err := DecodeState(state)
		if err != nil {
			return fmt.Errorf("record %x: %w", id, err)
		}
		if err := fn(syncproto.RecordID(id), st, deleted); err != nil {
			return err
		}
	}
	return rows.Err()
}

// recompute replaces the digest's accumulators, the totals or both with
// what every record contributes now.
func (t *txn) recompute(digest, tally bool) error {
	d := delta{noNames: true}
	var count *Tally
	if tally {
		count = t.s.opts.Tally
	}
	bodies := map[syncproto.Dot]*syncproto.Change{}
	err := t.eachRecord(func(id syncproto.RecordID, st *RecordState, deleted bool) error {
		v, err := t.view(id, st, deleted, bodies)
		if err != nil {
			return err
		}
		d.record(&v, 1, count, nil)
		clear(bodies)
		return nil
	})
	if err != nil {
		return err
	}
	if digest {
		if _, err := t.tx.ExecContext(t.ctx, `DELETE FROM digests`); err != nil {
			return err
		}
		for scope, h := range d.sums {
			if _, err := t.tx.ExecContext(t.ctx, `INSERT INTO digests (scope, sum) VALUES (?, ?)`, scope, h.bytes()); err != nil {
				return err
			}
		}
		if _, err := t.tx.ExecContext(t.ctx, `UPDATE derived SET version = ? WHERE name = 'digest'`, digestDefinition); err != nil {
			return err
		}
	}
	if tally {
		if _, err := t.tx.ExecContext(t.ctx, `DELETE FROM tallies`); err != nil {
			return err
		}
		for k, n := range d.counts {
			if n == 0 {
				continue
			}
			if _, err := t.tx.ExecContext(t.ctx, `INSERT INTO tallies (scope, type, name, n) VALUES (?, ?, ?, ?)`, k.scope, k.typ, k.name, n); err != nil {
				return err
			}
		}
		if _, err := t.tx.ExecContext(t.ctx, `UPDATE derived SET version = ? WHERE name = 'tally'`, count.Version); err != nil {
			return err
		}
	}
	return nil
}
