package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"math"
	"slices"
	"strings"
	"time"

	"lifeline/syncproto"
)

// Vector returns the version vector: per stream, the highest sequence held.
func (s *SQLite) Vector(ctx context.Context) (syncproto.Vector, error) {
	return s.vectorColumn(ctx, "seq")
}

// vectorColumn reads one of the streams' sequence columns as a vector:
// seq (what this node holds) or a receipt (confirmed, sent).
func (s *SQLite) vectorColumn(ctx context.Context, col string) (syncproto.Vector, error) {
	return s.vectorOf(ctx, `SELECT node_id, lane, `+col+` FROM streams WHERE `+col+` > 0`)
}

// vectorOf reads a vector from a query of (node id, lane, sequence) rows.
func (s *SQLite) vectorOf(ctx context.Context, query string) (syncproto.Vector, error) {
	rows, err := s.rdb.QueryContext(ctx, query)
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

// readTx runs fn in one read transaction: a consistent snapshot even while
// other processes write.
func (s *SQLite) readTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return s.wrap(err)
	}
	defer tx.Rollback()
	return s.wrap(fn(tx))
}

// Record returns one record.
func (s *SQLite) Record(ctx context.Context, id syncproto.RecordID) (Record, error) {
	var rec Record
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		var state []byte
		err := tx.QueryRowContext(ctx, `SELECT deleted, state FROM records WHERE id = ?`, id[:]).Scan(&rec.Deleted, &state)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: %s", ErrNotFound, id)
		}
		if err != nil {
			return err
		}
		rec, err = s.view(ctx, tx, id, rec.Deleted, state)
		return err
	})
	return rec, err
}

// Change reads one change of the log by its dot (a record's first,
// Record.First), alone, whatever else its record holds.
func (s *SQLite) Change(ctx context.Context, d syncproto.Dot) (syncproto.Change, error) {
	var out syncproto.Change
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		c, _, err := s.change(ctx, tx, d)
		if err == nil {
			out = *c
		}
		return err
	})
	return out, err
}

// recordsPage is how many records Records reads in one read transaction.
const recordsPage = 256

// Records yields the records a query selects, oldest first, with what a
// list shows beside each (Record.Case and Own). It reads them a page at a
// time, each page in a read transaction of its own that ends before the
// page is yielded, so that a long listing holds neither every record in
// memory nor one snapshot that keeps the write-ahead log from starting
// again. Each record is as it stood at one moment; a record stored while
// the listing runs is listed if it comes after those already yielded.
func (s *SQLite) Records(ctx context.Context, q Query) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		var where []string
		var args []any
		if q.Type != "" {
			where, args = append(where, "type = ?"), append(args, q.Type)
		}
		if q.OnlyConflict {
			where = append(where, "conflicts > 0")
		}
		if !q.WithDeleted && !q.OnlyConflict {
			// A deleted record in conflict (deleted on one node while
			// another restored it) is still a conflict to decide.
			where = append(where, "deleted = 0")
		}
		if !q.WrittenBy.IsZero() {
			// A record's changes of the node are those whose stream is
			// one of the node's (changes.id is a stream's index << 40 |
			// the sequence), read by the record's index of its changes:
			// a page costs what its records' changes do, whoever wrote
			// the rest of the log.
			where = append(where, `EXISTS (SELECT 1 FROM changes c WHERE c.record = records.rid
				AND c.id >> 40 IN (SELECT idx FROM streams WHERE node_id = ?))`)
			args = append(args, q.WrittenBy[:])
		}
		order, after := "", int64(0)
		if q.Newest {
			order, after = " DESC", math.MaxInt64
			where = append(where, "rid < ?")
		} else {
			where = append(where, "rid > ?")
		}
		if !q.After.IsZero() {
			err := s.readTx(ctx, func(tx *sql.Tx) error {
				err := tx.QueryRowContext(ctx, `SELECT rid FROM records WHERE id = ?`, q.After[:]).Scan(&after)
				if errors.Is(err, sql.ErrNoRows) {
					return fmt.Errorf("%w: %s", ErrNotFound, q.After)
				}
				return err
			})
			if err != nil {
				yield(Record{}, err)
				return
			}
		}
		query := `SELECT rid, id, deleted, state, (SELECT number FROM ledger_cases WHERE record = records.id) FROM records WHERE ` +
			strings.Join(where, " AND ") + " ORDER BY rid" + order + " LIMIT ?"
		left := q.Limit
		for {
			n := recordsPage
			if q.Limit > 0 {
				n = min(n, left)
			}
			var page []Record
			err := s.readTx(ctx, func(tx *sql.Tx) error {
				var err error
				page, after, err = s.recordPage(ctx, tx, after, query, append(args, after, n)...)
				return err
			})
			if err != nil {
				yield(Record{}, err)
				return
			}
			for _, rec := range page {
				if !yield(rec, nil) {
					return
				}
			}
			left -= len(page)
			if len(page) < n || q.Limit > 0 && left == 0 {
				return
			}
		}
	}
}

// recordPage reads the records query selects after the row id last, with
// their case numbers and this node's latest change of each in each lane,
// and returns them and the last row id read.
func (s *SQLite) recordPage(ctx context.Context, tx *sql.Tx, last int64, query string, args ...any) ([]Record, int64, error) {
	own := map[int64]uint8{} // this node's streams: lane by index
	streams, err := tx.QueryContext(ctx, `SELECT idx, lane FROM streams WHERE node_id = ?`, s.self.ID[:])
	if err != nil {
		return nil, last, err
	}
	for streams.Next() {
		var idx int64
		var lane uint8
		if err := streams.Scan(&idx, &lane); err != nil {
			streams.Close()
			return nil, last, err
		}
		own[idx] = lane
	}
	streams.Close()
	if err := streams.Err(); err != nil {
		return nil, last, err
	}
	changes, err := tx.PrepareContext(ctx, `SELECT id FROM changes WHERE record = ?`)
	if err != nil {
		return nil, last, err
	}
	defer changes.Close()
	type row struct {
		rid     int64
		id      syncproto.RecordID
		deleted bool
		state   []byte
		number  sql.NullString
	}
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, last, err
	}
	var page []row
	for rows.Next() {
		var r row
		var id []byte
		if err := rows.Scan(&r.rid, &id, &r.deleted, &r.state, &r.number); err != nil {
			rows.Close()
			return nil, last, err
		}
		r.id = syncproto.RecordID(id)
		page = append(page, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, last, err
	}
	out := make([]Record, 0, len(page))
	for _, r := range page {
		rec, err := s.view(ctx, tx, r.id, r.deleted, r.state)
		if err != nil {
			return nil, last, err
		}
		rec.Case = r.number.String
		if len(own) > 0 {
			if rec.Own, err = ownLatest(ctx, changes, r.rid, own, s.self.ID); err != nil {
				return nil, last, err
			}
		}
		out = append(out, rec)
		last = r.rid
	}
	return out, last, nil
}

// ownLatest is the latest change of a record in each of this node's
// streams that changed it.
func ownLatest(ctx context.Context, changes *sql.Stmt, rid int64, own map[int64]uint8, self syncproto.NodeID) ([]syncproto.Dot, error) {
	rows, err := changes.QueryContext(ctx, rid)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var dots []syncproto.Dot
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		idx, seq := splitID(id)
		lane, ok := own[idx]
		if !ok {
			continue
		}
		i := slices.IndexFunc(dots, func(d syncproto.Dot) bool { return d.Lane == lane })
		switch {
		case i < 0:
			dots = append(dots, syncproto.Dot{Origin: self, Lane: lane, Seq: seq})
		case seq > dots[i].Seq:
			dots[i].Seq = seq
		}
	}
	return dots, rows.Err()
}

// views yields the records that query selects as rows of (id, deleted,
// state), their values put back beside their merge state.
func (s *SQLite) views(ctx context.Context, tx *sql.Tx, query string, args ...any) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		rows, err := tx.QueryContext(ctx, query, args...)
		if err != nil {
			yield(Record{}, err)
			return
		}
		defer rows.Close()
		for rows.Next() {
			var id, state []byte
			var deleted bool
			if err := rows.Scan(&id, &deleted, &state); err != nil {
				yield(Record{}, err)
				return
			}
			rec, err := s.view(ctx, tx, syncproto.RecordID(id), deleted, state)
			if !yield(rec, err) || err != nil {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(Record{}, err)
		}
	}
}

// view puts a record's values back beside its merge state, reading each
// change that holds a version once.
func (s *SQLite) view(ctx context.Context, q querier, id syncproto.RecordID, deleted bool, state []byte) (Record, error) {
	st, err := DecodeState(state)
	if err != nil {
		return Record{}, fmt.Errorf("record %s: %w", id, err)
	}
	rec := Record{ID: id, Type: st.Type, Kit: st.Kit, Lane: st.First.Lane, First: st.First.Dot(), Version: st.Version, Deleted: deleted, Updated: st.Last, Conflicts: st.Conflicts()}
	changes := map[syncproto.Dot]*syncproto.Change{}
	ahead := map[syncproto.Dot]time.Duration{}
	for _, stamp := range st.Stamps() {
		c, ms, err := s.change(ctx, q, stamp.Dot())
		if err != nil {
			return Record{}, fmt.Errorf("record %s: %w", id, err)
		}
		changes[stamp.Dot()], ahead[stamp.Dot()] = c, time.Duration(ms)*time.Millisecond
	}
	for _, f := range st.Fields {
		if len(f.Heads) == 0 {
			continue
		}
		fv := FieldView{Name: f.Name, Versions: make([]Version, 0, len(f.Heads))}
		for _, h := range f.Heads {
			c := changes[h.Dot()]
			v, _ := c.Field(f.Name)
			fv.Versions = append(fv.Versions, Version{Value: v.Value, Stamp: h, Author: c.Author, Ahead: ahead[h.Dot()]})
		}
		rec.Fields = append(rec.Fields, fv)
	}
	return rec, nil
}

// change reads one change from the log, with how many milliseconds its
// origin stamped it ahead of this node's clock when it merged (0 when
// not).
func (s *SQLite) change(ctx context.Context, q querier, d syncproto.Dot) (*syncproto.Change, int64, error) {
	idx, ok, err := s.stream(ctx, q, d.Stream(), false)
	if err != nil {
		return nil, 0, err
	}
	if !ok {
		return nil, 0, fmt.Errorf("%w: change %s: stream unknown", ErrCorrupt, d)
	}
	var body []byte
	var ahead sql.NullInt64
	if err := q.QueryRowContext(ctx, `SELECT body, ahead FROM changes WHERE id = ?`, changeID(idx, d.Seq)).Scan(&body, &ahead); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, 0, fmt.Errorf("%w: change %s is missing from the log", ErrCorrupt, d)
		}
		return nil, 0, err
	}
	c, err := syncproto.DecodeChange(body)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: change %s: %v", ErrCorrupt, d, err)
	}
	return &c, ahead.Int64, nil
}

// History returns every change of a record in HLC order.
func (s *SQLite) History(ctx context.Context, id syncproto.RecordID) ([]syncproto.Change, error) {
	var out []syncproto.Change
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT c.body FROM changes c JOIN records r ON c.record = r.rid WHERE r.id = ?`, id[:])
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var body []byte
			if err := rows.Scan(&body); err != nil {
				return err
			}
			c, err := syncproto.DecodeChange(body)
			if err != nil {
				return fmt.Errorf("%w: a change of record %s: %v", ErrCorrupt, id, err)
			}
			out = append(out, c)
		}
		return rows.Err()
	})
	if err == nil && len(out) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	slices.SortFunc(out, func(a, b syncproto.Change) int {
		return cmp.Or(cmp.Compare(a.HLC, b.HLC), a.Dot().Compare(b.Dot()))
	})
	return out, err
}

// span is the part of a stream that a vector lacks: the changes after from,
// through to.
type span struct {
	idx      int64
	stream   syncproto.Stream
	from, to uint64
}

// beyond lists the streams of which this store holds more than have, in
// sync order (lane 1 of every origin first).
func beyond(ctx context.Context, tx *sql.Tx, have syncproto.Vector) ([]span, error) {
	rows, err := tx.QueryContext(ctx, `SELECT idx, node_id, lane, seq FROM streams WHERE seq > 0 ORDER BY lane & 15, lane, node_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var spans []span
	for rows.Next() {
		var sp span
		var id []byte
		var seq int64
		if err := rows.Scan(&sp.idx, &id, &sp.stream.Lane, &seq); err != nil {
			return nil, err
		}
		sp.stream.Origin = syncproto.NodeID(id)
		sp.from, sp.to = have[sp.stream], uint64(seq)
		if sp.to > sp.from {
			spans = append(spans, sp)
		}
	}
	// rows.Err is not checked, as Since and Outgoing never did: an error
	// that ends the rows early is not reported (to be mended on its own).
	return spans, nil
}

// Since returns the changes this store holds beyond a vector, stream by
// stream in sync order (lane 1 of every origin first), each stream in
// sequence, at most limit in all: how a running node notices what other
// processes wrote into its store, and what sync sends a peer.
func (s *SQLite) Since(ctx context.Context, have syncproto.Vector, limit int) ([]syncproto.Change, error) {
	var out []syncproto.Change
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		spans, err := beyond(ctx, tx, have)
		if err != nil {
			return err
		}
		for _, sp := range spans {
			if len(out) >= limit {
				break
			}
			rows, err := tx.QueryContext(ctx, `SELECT body FROM changes WHERE id > ? AND id <= ? ORDER BY id LIMIT ?`,
				changeID(sp.idx, sp.from), changeID(sp.idx, sp.to), limit-len(out))
			if err != nil {
				return err
			}
			for rows.Next() {
				var body []byte
				if err := rows.Scan(&body); err != nil {
					rows.Close()
					return err
				}
				c, err := syncproto.DecodeChange(body)
				if err != nil {
					rows.Close()
					return fmt.Errorf("%w: a change of stream %d: %v", ErrCorrupt, sp.idx, err)
				}
				out = append(out, c)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// Written returns the records of the given types (of every type when none
// is given) written after the mark, and the mark to ask from next time: 0
// asks for every record. A record is written when a change merges into it,
// whatever brought the change (a session, a bundle, a local edit, a change
// kept aside that merges when what it waited for comes) and when the
// records are rebuilt from the log, so that whoever keeps something read
// from the records (a match index) reads again only what changed. Deleted
// records are among them: their deletion is a write.
func (s *SQLite) Written(ctx context.Context, after int64, types ...string) ([]syncproto.RecordID, int64, error) {
	var ids []syncproto.RecordID
	mark := after
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		top, err := writtenMark(ctx, tx)
		if err != nil || top <= after {
			return err
		}
		mark = top
		q := `SELECT id FROM records WHERE written > ? AND written <= ?`
		args := []any{after, mark}
		if len(types) > 0 {
			q += ` AND type IN (?` + strings.Repeat(`, ?`, len(types)-1) + `)`
			for _, t := range types {
				args = append(args, t)
			}
		}
		ids, err = queryAll(ctx, tx, scanRecordID, q, args...)
		return err
	})
	if err != nil {
		return nil, after, err
	}
	return ids, mark, nil
}

// WrittenMark is the mark Written would return now: a reader that reads
// the records after it asks Written from it what was written since.
func (s *SQLite) WrittenMark(ctx context.Context) (int64, error) {
	var top int64
	err := s.readTx(ctx, func(tx *sql.Tx) (err error) {
		top, err = writtenMark(ctx, tx)
		return err
	})
	return top, err
}

// writtenMark is the greatest written mark of the records, 0 for none.
func writtenMark(ctx context.Context, q querier) (int64, error) {
	var top int64
	err := q.QueryRowContext(ctx, `SELECT coalesce(max(written), 0) FROM records`).Scan(&top)
	return top, err
}

// scanRecordID reads a record id of a row, refusing one of another length.
func scanRecordID(r scanner) (syncproto.RecordID, error) {
	var b []byte
	if err := r.Scan(&b); err != nil {
		return syncproto.RecordID{}, err
	}
	if len(b) != len(syncproto.RecordID{}) {
		return syncproto.RecordID{}, fmt.Errorf("%w: a record id of %d bytes", ErrCorrupt, len(b))
	}
	return syncproto.RecordID(b), nil
}

// Counts summarises the store for a status line.
type Counts struct {
	Records   map[string]int // live records per type
	Deleted   int
	Conflicts int // records with at least one field in conflict
	Changes   int
	Held      int
}

// Counts counts records per type, conflicts, changes and held changes.
func (s *SQLite) Counts(ctx context.Context) (Counts, error) {
	c := Counts{Records: map[string]int{}}
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT type, deleted, count(*), sum(conflicts > 0) FROM records GROUP BY type, deleted`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var typ string
			var deleted bool
			var n, conflicts int
			if err := rows.Scan(&typ, &deleted, &n, &conflicts); err != nil {
				return err
			}
			if deleted {
				c.Deleted += n
			} else {
				c.Records[typ] += n
			}
			c.Conflicts += conflicts
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM changes`).Scan(&c.Changes); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM held`).Scan(&c.Held)
	})
	return c, err
}

// HeldShares counts the held changes each node answers for: its own
// whose signature was checked as they were held, and those it brought
// after a gap (see MaxHeldPerOrigin).
func (s *SQLite) HeldShares(ctx context.Context) (map[syncproto.NodeID]int, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT coalesce(bringer, node_id), count(*) FROM held GROUP BY 1`)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	out := map[syncproto.NodeID]int{}
	for rows.Next() {
		var id []byte
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, s.wrap(err)
		}
		out[syncproto.NodeID(id)] = n
	}
	return out, s.wrap(rows.Err())
}

// heldRun returns the held changes of a stream that follow its head seq
// without a gap, up to the first that carries a signature, and that
// signature; nil when no held change after the head is signed.
func heldRun(ctx context.Context, tx *sql.Tx, st syncproto.Stream, seq uint64) ([][]byte, []byte, error) {
	rows, err := tx.QueryContext(ctx, `SELECT seq, sig, body FROM held WHERE node_id = ? AND lane = ? AND seq > ? ORDER BY seq`,
		st.Origin[:], st.Lane, int64(seq))
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var bodies [][]byte
	for rows.Next() {
		var at int64
		var sig, body []byte
		if err := rows.Scan(&at, &sig, &body); err != nil {
			return nil, nil, err
		}
		if uint64(at) != seq+uint64(len(bodies))+1 {
			break // a gap: nothing after it can be sent
		}
		bodies = append(bodies, body)
		if len(sig) > 0 {
			return bodies, sig, nil
		}
	}
	return nil, nil, rows.Err()
}

// HeldAside is, per stream whose next change this node holds aside
// (stamped too far ahead of its clock), the last change it holds in
// sequence from there: what a peer need not offer again until those merge.
// Only changes whose signature was checked as they were held count: one
// brought after a gap may be forged, and the peer's copy is what shows it.
func (s *SQLite) HeldAside(ctx context.Context) (syncproto.Vector, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT h.node_id, h.lane, h.seq, coalesce(st.seq, 0) FROM held h
		LEFT JOIN streams st ON st.node_id = h.node_id AND st.lane = h.lane WHERE h.bringer IS NULL ORDER BY h.node_id, h.lane, h.seq`)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	v := syncproto.Vector{}
	for rows.Next() {
		var id []byte
		var st syncproto.Stream
		var seq, head int64
		if err := rows.Scan(&id, &st.Lane, &seq, &head); err != nil {
			return nil, s.wrap(err)
		}
		st.Origin = syncproto.NodeID(id)
		next := uint64(head) + 1
		if last, ok := v[st]; ok {
			next = last + 1
		}
		if uint64(seq) == next {
			v[st] = next
		}
	}
	return v, s.wrap(rows.Err())
}

// Bounds of a batch Outgoing makes, beside its count of changes. A batch is
// encoded as an array of runs; maxBatchBytes bounds that encoding (the
// changes' bytes, each with its head, and each run's stream, first sequence
// and signature), far more than a thousand ordinary records take, so that a
// batch of large changes still fits a frame (syncproto.MaxFrame) however
// badly they compress.
const (
	maxBatchBytes = 2 << 20
	bodyOverhead  = 5   // a byte string's head, up to 4 GiB
	runOverhead   = 128 // a run's map, stream, first sequence and signature
)

// UnsendableError: a stretch of a stream between two signed chain heads is
// larger than one run may be (syncproto.MaxRunBytes, or MaxBatchChanges
// changes). A run can end only at a signed head, so no batch can carry the
// stretch: the stream cannot be passed on from here beyond After. Such a
// stretch was stored before runs were bounded; this node will not accept
// another.
type UnsendableError struct {
	Stream  syncproto.Stream
	After   uint64 // the sequence before the stretch
	Changes int    // at least this many changes
	Bytes   int    // at least this many bytes
}

func (e *UnsendableError) Error() string {
	return fmt.Sprintf("stream %s after %d: %d changes and %d bytes or more under one signature, more than a batch may carry: "+
		"the stream cannot be passed on from this node", e.Stream, e.After, e.Changes, e.Bytes)
}

// Outgoing returns the runs of changes a peer holding have lacks, stream by
// stream in sync order (lane 1 first), and the vector the peer will hold
// once it has them: up to about max changes, and at most maxBatchBytes.
// Every run ends at a change whose chain head is signed, so that the peer
// can verify the run with one signature: where a commit or a peer signed
// it, and in this node's own streams anywhere (it signs the head there).
// A batch goes on past max to the next head signed so, within its bytes
// and syncproto.MaxBatchChanges; at either of those it ends at the last
// head it may end at. Where the first stretch alone is beyond them, it
// travels alone, up to what one run may carry (syncproto's MaxRunBytes and
// MaxBatchChanges, which every run this node accepted kept to); a stretch
// larger than that is an *UnsendableError, returned only when the batch
// would hold nothing else.
func (s *SQLite) Outgoing(ctx context.Context, have syncproto.Vector, max int) ([]syncproto.Run, syncproto.Vector, error) {
	after := have.Clone()
	var runs []syncproto.Run
	total, size := 0, 0 // the batch's changes and encoded bytes so far
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		spans, err := beyond(ctx, tx, have)
		if err != nil {
			return err
		}
		full := false
		for _, sp := range spans {
			if full || total >= max || size >= maxBatchBytes {
				break
			}
			own := s.opts.Key != nil && sp.stream.Origin == s.self.ID
			rows, err := tx.QueryContext(ctx, `SELECT sig, hash, body FROM changes WHERE id > ? AND id <= ? ORDER BY id`,
				changeID(sp.idx, sp.from), changeID(sp.idx, sp.to))
			if err != nil {
				return err
			}
			// One run per stream, cut at the last signed head reached: one
			// signature then vouches for all of it, however many commits
			// wrote it.
			run := syncproto.Run{Stream: sp.stream, First: sp.from + 1}
			runSize, runBytes := runOverhead, 0 // encoded; the bodies alone
			cut, cutSize := 0, 0                // the changes up to the last head the run may end at, encoded
			var cutSig, cutHash []byte
			// fits says whether n more changes of b encoded bytes keep the
			// batch within its bounds; alone, once they do not, whether the
			// stretch may still travel by itself.
			fits := func(n, b int) bool {
				return total+len(run.Bodies)+n <= syncproto.MaxBatchChanges && size+runSize+b <= maxBatchBytes
			}
			alone := func(n, b int) error {
				if len(run.Bodies)+n > syncproto.MaxBatchChanges || runBytes+b > syncproto.MaxRunBytes {
					return &UnsendableError{Stream: sp.stream, After: sp.from, Changes: len(run.Bodies) + n, Bytes: runBytes + b}
				}
				return nil
			}
			for rows.Next() {
				var sig, hash, body []byte
				if err := rows.Scan(&sig, &hash, &body); err != nil {
					rows.Close()
					return err
				}
				if !fits(1, len(body)+bodyOverhead) {
					if total > 0 || cut > 0 {
						full = true
						break
					}
					if err := alone(1, len(body)); err != nil {
						rows.Close()
						return err
					}
				}
				run.Bodies = append(run.Bodies, body)
				runSize += len(body) + bodyOverhead
				runBytes += len(body)
				if len(sig) > 0 || own {
					cut, cutSize, cutSig, cutHash = len(run.Bodies), runSize, sig, hash
				}
				if len(sig) > 0 && total+len(run.Bodies) >= max {
					full = true
					break
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			if !full && cut < len(run.Bodies) && run.Last() == sp.to {
				// The changes after the last signed one reach this node's
				// head: if the change that vouches for them is held here
				// (stamped ahead), the run goes on through the held changes
				// to it, so that the peer can verify and merge what this
				// node merged, and hold the rest as this node does.
				held, sig, err := heldRun(ctx, tx, sp.stream, sp.to)
				if err != nil {
					return err
				}
				if sig != nil {
					heldSize, heldBytes := 0, 0
					for _, b := range held {
						heldSize += len(b) + bodyOverhead
						heldBytes += len(b)
					}
					switch {
					case fits(len(held), heldSize):
					case total > 0 || cut > 0:
						full = true // the rest goes in a batch of its own
					default:
						if err := alone(len(held), heldBytes); err != nil {
							return err
						}
					}
					if !full {
						run.Bodies, run.Sig = append(run.Bodies, held...), sig
						total += len(run.Bodies)
						size += runSize + heldSize
						runs = append(runs, run)
						after[sp.stream] = sp.to
						continue
					}
				}
			}
			if cut > 0 {
				run.Bodies, run.Sig = run.Bodies[:cut], cutSig
				if run.Sig == nil { // a head of this node's own that no commit signed
					run.Sig = s.opts.Key.SignHead(sp.stream.Lane, run.Last(), syncproto.Hash(cutHash))
				}
				runs = append(runs, run)
				after[sp.stream] = run.Last()
				total += cut
				size += cutSize
			}
			// Changes of another origin after the last signed head stay for
			// a later batch; they are only possible while a writer is
			// committing.
		}
		return nil
	})
	return runs, after, err
}
