package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"lifeline/syncproto"
)

// Admission decides whether a change a peer sent merges into its record.
// It is called inside the write transaction, after the change's chain and
// signature were checked, and must be quick and deterministic: every node
// decides alike. A change it refuses is kept aside (quarantined) with the
// reason; final says the refusal stands whatever arrives later, otherwise
// the change is looked at again when the node's kits change (Readmit).
type Admission func(c *syncproto.Change, rec RecordFacts) Verdict

// Verdict is an Admission's answer: an empty Reason admits.
type Verdict struct {
	Reason string
	Final  bool
	// Waits says, of a refusal that is not final, what the change waits
	// for, and so when it is looked at again; Version is the version it
	// waits for when that is WaitsForVersion.
	Waits   Waits
	Version syncproto.Dot
	// Field is the field of its record the change waits for a change of,
	// when Waits is WaitsForField.
	Field string
}

// Waits is what a change kept aside for now waits for. A change is looked
// at again only when what it waits for may have come, so that a node's
// many changes kept aside on one record do not cost every later change of
// that record as much.
type Waits uint8

const (
	// WaitsForNode: something of the node's own, its kits, the
	// certificates it holds, its keys. Looked at again when the node calls
	// Readmit.
	WaitsForNode Waits = iota
	// WaitsForRecord: its record, which the node does not hold yet. Looked
	// at again when a peer's change merges into the record.
	WaitsForRecord
	// WaitsForVersion: the version Verdict.Version of its record, which
	// the node holds, a version the node does not hold, or has not merged,
	// yet. Looked at again when that version arrives, and when it merges.
	// A change of a record not held waits for the record instead.
	WaitsForVersion
	// WaitsForField: a change of the field Verdict.Field of its record,
	// which may change what the change was judged by (a national
	// record's district, which a later change may move). Looked at again
	// when a change that sets that field merges into the record, not at
	// every change of it. A change of a record not held waits for the
	// record instead.
	WaitsForField
)

// RecordFacts is what admission may know of the record a change touches.
type RecordFacts struct {
	Exists bool
	Type   string
	Kit    string
	// Lane is the lane of the record's first change: its scope is the
	// record's.
	Lane uint8
	// Field returns the shown (winning) value of one of the record's
	// fields, CBOR, nil when it has none. It reads the store: call it only
	// when the answer matters.
	Field func(name string) []byte
	// Change returns a change this node holds, by its dot. It reads the
	// store.
	Change func(d syncproto.Dot) (*syncproto.Change, bool)
	// Names returns the names of the record's fields, sorted, without
	// reading the store.
	Names func() []string
}

// Quarantined is a change kept aside, as people see it.
type Quarantined struct {
	Change syncproto.Change
	Reason string
	Final  bool
	At     time.Time
	// Field is, for a change that waits for a change of one field of its
	// record (WaitsForField), that field.
	Field string
}

// facts are what admission may know of a record.
func (t *txn) facts(r *recordRow, exists bool) RecordFacts {
	f := RecordFacts{Change: t.change}
	if !exists {
		return f
	}
	f.Exists, f.Type, f.Kit, f.Lane = true, r.state.Type, r.state.Kit, r.state.First.Lane
	f.Field = func(name string) []byte {
		fs, ok := r.state.Field(name)
		if !ok || len(fs.Heads) == 0 {
			return nil
		}
		c, ok := t.change(fs.Heads[0].Dot())
		if !ok {
			return nil
		}
		if fc, ok := c.Field(name); ok {
			return fc.Value
		}
		return nil
	}
	f.Names = func() []string {
		out := make([]string, len(r.state.Fields))
		for i := range r.state.Fields {
			out[i] = r.state.Fields[i].Name
		}
		return out
	}
	return f
}

// change reads a change this store holds, by its dot.
func (t *txn) change(d syncproto.Dot) (*syncproto.Change, bool) {
	h, err := t.head(d.Stream(), false)
	if err != nil || h == nil || d.Seq > h.seq {
		return nil, false
	}
	var body []byte
	if err := t.getBody.QueryRowContext(t.ctx, changeID(h.idx, d.Seq)).Scan(&body); err != nil {
		return nil, false
	}
	c, err := syncproto.DecodeChange(body)
	if err != nil {
		return nil, false
	}
	return &c, true
}

// MaxPending bounds the versions a field of a record remembers as replaced
// but not arrived yet: an honest edit names the few versions its author
// saw, while bases that never come would grow a record's state without end.
const MaxPending = 64

// tooManyPending says why a change would take a field's pending versions
// past MaxPending, "" if it would not.
func (t *txn) tooManyPending(c *syncproto.Change, r *recordRow, exists bool) string {
	for i := range c.Fields {
		f := &c.Fields[i]
		if len(f.Base) == 0 {
			continue
		}
		pending := 0
		if exists {
			if fs, ok := r.state.Field(f.Name); ok {
				pending = len(fs.Pending)
			}
		}
		if pending+len(f.Base) <= MaxPending {
			continue
		}
		seen := func(syncproto.Dot) bool { return false }
		if exists {
			seen = t.seenIn(r)
		}
		for _, b := range f.Base {
			if !seen(b) {
				pending++
			}
		}
		if pending > MaxPending {
			return fmt.Sprintf("%s names versions that are not here: %d would wait, at most %d may", f.Name, pending, MaxPending)
		}
	}
	return ""
}

// MaxHeads bounds the versions of a field that stand at once, none
// replacing another: a conflict. A person resolves it with an edit that
// names every one of them as its base, and an edit names at most
// syncproto.MaxBases; honest nodes that never saw each other's edits make
// a few. A forger's versions past it would leave the conflict for no one
// to resolve, and would grow the record's state without end.
const MaxHeads = syncproto.MaxBases

// MaxRecordFields bounds the fields a record holds, its rows' fields and
// the fields removed included. The kits allow fewer (schemas.MaxRows rows
// of each repeat); a forger's new field names past it would grow the
// record's state, and the cost of each change to it, without end.
const MaxRecordFields = 16384

// tooMuch says why a change would take a record past one of the bounds on
// its state (MaxPending, MaxHeads, MaxRecordFields), "" if it would not.
// A change past them is kept aside for good: honest nodes never reach
// them, so that the node that does is shown, and nothing is lost.
func (t *txn) tooMuch(c *syncproto.Change, r *recordRow, exists bool) string {
	if reason := t.tooManyPending(c, r, exists); reason != "" {
		return reason
	}
	if !exists {
		return "" // at most syncproto.MaxFields, each one version
	}
	dot := c.Dot()
	added := 0
	for i := range c.Fields {
		f := &c.Fields[i]
		fs, ok := r.state.Field(f.Name)
		if !ok {
			added++
			continue
		}
		heads := len(fs.Heads)
		if _, late := slices.BinarySearchFunc(fs.Pending, dot, syncproto.Dot.Compare); !late {
			heads++
		}
		for _, b := range f.Base {
			if slices.ContainsFunc(fs.Heads, func(h Stamp) bool { return h.Dot() == b }) {
				heads--
			}
		}
		if heads > MaxHeads {
			return fmt.Sprintf("%s would stand in %d versions at once, at most %d may: no one could resolve them", f.Name, heads, MaxHeads)
		}
	}
	if n := len(r.state.Fields) + added; n > MaxRecordFields {
		return fmt.Sprintf("the record would hold %d fields, at most %d may", n, MaxRecordFields)
	}
	return ""
}

// quarantine appends a change to its stream's chain without merging it,
// and keeps the reason.
func (t *txn) quarantine(c *syncproto.Change, body []byte, hash syncproto.Hash, sig []byte, v Verdict) error {
	h := t.heads[c.Stream()]
	id := changeID(h.idx, c.Seq)
	if _, err := t.insChange.ExecContext(t.ctx, id, int64(c.HLC), 0, hash[:], nullable(sig), body, nil); err != nil {
		return err
	}
	if _, err := t.tx.ExecContext(t.ctx, `INSERT INTO quarantine (change, record, reason, final, at, waits, version) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		id, c.Record[:], v.Reason, v.Final, time.Now().UTC().Format(time.RFC3339), v.Waits, t.awaits(v)); err != nil {
		return err
	}
	h.seq, h.head, h.dirty = c.Seq, hash, true
	t.quarantined++
	return nil
}

// Quarantine lists the changes kept aside, newest first, at most limit (all
// when 0).
func (s *SQLite) Quarantine(ctx context.Context, limit int) ([]Quarantined, error) {
	if limit <= 0 {
		limit = -1
	}
	out, err := queryAll(ctx, s.rdb, func(r scanner) (Quarantined, error) {
		var q Quarantined
		var body, awaited []byte
		var at string
		var waits Waits
		err := r.Scan(&body, &q.Reason, &q.Final, &at, &waits, &awaited)
		if err != nil {
			return q, err
		}
		if waits == WaitsForField && !q.Final {
			q.Field = string(awaited)
		}
		if q.Change, err = syncproto.DecodeChange(body); err != nil {
			return q, fmt.Errorf("%w: a quarantined change: %v", ErrCorrupt, err)
		}
		q.At, _ = time.Parse(time.RFC3339, at)
		return q, nil
	}, `SELECT c.body, q.reason, q.final, q.at, q.waits, q.version FROM quarantine q JOIN changes c ON c.id = q.change
		ORDER BY q.change DESC LIMIT ?`, limit)
	return out, s.wrap(err)
}

// QuarantineCount counts the changes kept aside.
func (s *SQLite) QuarantineCount(ctx context.Context) (int, error) {
	var n int
	err := s.rdb.QueryRowContext(ctx, `SELECT count(*) FROM quarantine`).Scan(&n)
	return n, s.wrap(err)
}

// Readmit looks again at the changes kept aside for a reason that may pass
// (a kit version or a replaced version that was not here): those the
// node's admission now accepts are merged into their records. It returns
// how many. Sync and bundles do it as they apply; a node calls it when its
// kits change.
func (s *SQLite) Readmit(ctx context.Context) (int, error) {
	if s.opts.Admit == nil {
		return 0, nil
	}
	t, end, err := s.lockTxn(ctx)
	if err != nil {
		return 0, err
	}
	defer end()
	merged, err := t.readmit(true)
	if err != nil {
		return 0, s.wrap(err)
	}
	if merged == 0 {
		return 0, nil
	}
	return merged, s.wrap(t.commit())
}

// waitsOf is a verdict as the quarantine table keeps it: a final one waits
// for nothing; a change of a record not held waits for the record, whatever
// version of it it names, as the version can only come after the record's
// first change, which wakes it.
func waitsOf(v Verdict, exists bool) Verdict {
	switch {
	case v.Final || v.Waits > WaitsForField:
		v.Waits, v.Version, v.Field = WaitsForNode, syncproto.Dot{}, ""
	case (v.Waits == WaitsForVersion || v.Waits == WaitsForField) && !exists:
		v.Waits, v.Version, v.Field = WaitsForRecord, syncproto.Dot{}, ""
	case v.Waits == WaitsForVersion:
		v.Field = ""
	case v.Waits == WaitsForField:
		v.Version = syncproto.Dot{}
	default:
		v.Version, v.Field = syncproto.Dot{}, ""
	}
	return v
}

// awaits is the key of the version, or the name of the field, a verdict
// waits for, as the quarantine table keeps it, nil when it waits for
// neither; such a verdict has this transaction look for the version as
// changes arrive (arrived), or for changes of the field as they merge
// (fieldSet).
func (t *txn) awaits(v Verdict) []byte {
	switch v.Waits {
	case WaitsForVersion:
		t.versionsAwaited = awaited
		return versionKey(v.Version)
	case WaitsForField:
		if t.fieldsAwaited != nil {
			t.fieldsAwaited[v.Field] = true
		}
		return []byte(v.Field)
	}
	return nil
}

// versionKey is a version's key in the quarantine table: its origin, lane
// and sequence, big-endian.
func versionKey(d syncproto.Dot) []byte {
	k := make([]byte, 0, len(d.Origin)+9)
	k = append(k, d.Origin[:]...)
	k = append(k, d.Lane)
	return binary.BigEndian.AppendUint64(k, d.Seq)
}

// Whether a change kept aside waits for a version (txn.versionsAwaited),
// not yet asked in this transaction, or known.
const (
	awaitedUnknown = iota
	awaitedNone
	awaited
)

// arrived wakes the changes kept aside that wait for a version that has
// just arrived from a peer (merged or kept aside itself), or merged after
// it waited aside: readmit looks at them again. Nothing is read while no
// change waits for a version.
func (t *txn) arrived(d syncproto.Dot) error {
	if t.versionsAwaited == awaitedUnknown {
		var one int
		err := t.tx.QueryRowContext(t.ctx, `SELECT 1 FROM quarantine WHERE waits = 2 AND final = 0 LIMIT 1`).Scan(&one)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			t.versionsAwaited = awaitedNone
		case err != nil:
			return err
		default:
			t.versionsAwaited = awaited
		}
	}
	if t.versionsAwaited != awaited {
		return nil
	}
	if t.wakes == nil {
		st, err := t.tx.PrepareContext(t.ctx, `SELECT change FROM quarantine WHERE version = ? AND waits = 2 AND final = 0`)
		if err != nil {
			return err
		}
		t.wakes = st
	}
	rows, err := t.wakes.QueryContext(t.ctx, versionKey(d))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return err
		}
		t.woken = append(t.woken, id)
	}
	return rows.Err()
}

// fieldSet wakes the changes kept aside that wait for a change of a field
// of c's record that c sets, c having just merged into it: readmit looks
// at them again. The fields waited for are read once a transaction.
func (t *txn) fieldSet(c *syncproto.Change) error {
	if t.fieldsAwaited == nil {
		t.fieldsAwaited = map[string]bool{}
		rows, err := t.tx.QueryContext(t.ctx, `SELECT DISTINCT version FROM quarantine WHERE waits = 3 AND final = 0`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var f []byte
			if err := rows.Scan(&f); err != nil {
				rows.Close()
				return err
			}
			t.fieldsAwaited[string(f)] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	for i := range c.Fields {
		if !t.fieldsAwaited[c.Fields[i].Name] {
			continue
		}
		of, err := t.waiting(`SELECT change FROM quarantine WHERE record = ? AND version = ? AND waits = 3 AND final = 0`, c.Record[:], []byte(c.Fields[i].Name))
		if err != nil {
			return err
		}
		t.woken = append(t.woken, of...)
	}
	return nil
}

// readmit is Readmit inside a transaction: of every change waiting aside
// when all, else of those that wait for what this transaction brought (a
// record a peer's change merged into, a version that arrived), until no
// more merge. A change waiting for its record may be what another waits
// for.
func (t *txn) readmit(all bool) (int, error) {
	if t.s.opts.Admit == nil {
		return 0, nil
	}
	merged := 0
	for {
		var ids []int64
		var err error
		if all {
			ids, err = t.waiting(`SELECT change FROM quarantine WHERE final = 0`)
			if err != nil {
				return 0, err
			}
			all = false
		} else {
			if len(t.touched) == 0 && len(t.woken) == 0 {
				return merged, nil
			}
			only := make([]syncproto.RecordID, 0, len(t.touched))
			for id := range t.touched {
				only = append(only, id)
			}
			ids, t.woken, t.touched = t.woken, nil, nil
			// A piece of records at a time: SQLite bounds a statement's
			// parameters.
			for len(only) > 0 {
				piece := only[:min(len(only), 500)]
				only = only[len(piece):]
				args := make([]any, len(piece))
				for i, id := range piece {
					args[i] = id[:]
				}
				of, err := t.waiting(`SELECT change FROM quarantine WHERE waits = 1 AND final = 0 AND record IN (?`+
					strings.Repeat(`, ?`, len(piece)-1)+`)`, args...)
				if err != nil {
					return 0, err
				}
				ids = append(ids, of...)
			}
			slices.Sort(ids)
			ids = slices.Compact(ids)
		}
		n, err := t.readmitIDs(ids)
		if err != nil {
			return 0, err
		}
		if merged += n; n == 0 {
			return merged, nil
		}
	}
}

// waiting lists the changes kept aside that a query selects.
func (t *txn) waiting(q string, args ...any) ([]int64, error) {
	rows, err := t.tx.QueryContext(t.ctx, q+` ORDER BY change`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// readmitIDs looks again at changes kept aside, by id, and merges those
// admission now admits; of the others, it keeps what they now wait for.
// Each body is read as it is looked at: the changes waiting may be many,
// and large, and are not all held in memory at once.
func (t *txn) readmitIDs(ids []int64) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	waiting, err := t.tx.PrepareContext(t.ctx, `SELECT c.body, q.reason, q.waits, q.version FROM quarantine q JOIN changes c ON c.id = q.change
		WHERE q.change = ? AND q.final = 0`)
	if err != nil {
		return 0, err
	}
	defer waiting.Close()
	merged := 0
	for _, id := range ids {
		var body, had []byte
		var reason string
		var waits Waits
		err := waiting.QueryRowContext(t.ctx, id).Scan(&body, &reason, &waits, &had)
		if errors.Is(err, sql.ErrNoRows) {
			continue // woken twice, and merged or refused for good already
		}
		if err != nil {
			return 0, err
		}
		c, err := syncproto.DecodeChange(body)
		if err != nil {
			return 0, fmt.Errorf("%w: a quarantined change: %v", ErrCorrupt, err)
		}
		r, exists, err := t.record(c.Record)
		if err != nil {
			return 0, err
		}
		v := t.s.opts.Admit(&c, t.facts(r, exists))
		if v.Reason == "" {
			if reason := t.tooMuch(&c, r, exists); reason != "" {
				v = Verdict{Reason: reason, Final: true}
			}
		}
		if v.Reason != "" {
			v = waitsOf(v, exists)
			version := t.awaits(v)
			if v.Final || v.Reason != reason || v.Waits != waits || !bytes.Equal(version, had) {
				if _, err := t.tx.ExecContext(t.ctx, `UPDATE quarantine SET reason = ?, final = ?, waits = ?, version = ? WHERE change = ?`,
					v.Reason, v.Final, v.Waits, version, id); err != nil {
					return 0, err
				}
			}
			continue
		}
		if !exists {
			r = t.newRecord(c.Record)
		}
		if err := t.mergeStored(&c, id, r); err != nil {
			return 0, err
		}
		if _, err := t.tx.ExecContext(t.ctx, `DELETE FROM quarantine WHERE change = ?`, id); err != nil {
			return 0, err
		}
		merged++
	}
	// The records merged are written back when the transaction commits
	// (txn.flush), as every other path's are.
	return merged, nil
}

// mergeStored merges a change already in the log (kept aside until now)
// into its record.
func (t *txn) mergeStored(c *syncproto.Change, id int64, r *recordRow) error {
	if t.touched == nil {
		t.touched = map[syncproto.RecordID]bool{}
	}
	t.touched[c.Record] = true
	if err := t.apply(c, r); err != nil {
		return err
	}
	// A change waiting for this one to merge, not only to arrive, may
	// merge now.
	if err := t.arrived(c.Dot()); err != nil {
		return err
	}
	if err := t.fieldSet(c); err != nil {
		return err
	}
	if r.fresh {
		b, err := r.state.Encode()
		if err != nil {
			return err
		}
		res, err := t.insertRecord(c.Record, r.state.Type, r.state.Last, r.state.Conflicts(), r.deleted, b)
		if err != nil {
			return err
		}
		if r.rid, err = res.LastInsertId(); err != nil {
			return err
		}
		r.fresh = false
		t.created(c, r, b)
	} else {
		r.dirty = true
	}
	_, err := t.tx.ExecContext(t.ctx, `UPDATE changes SET record = ? WHERE id = ?`, r.rid, id)
	return err
}
