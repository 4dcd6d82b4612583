package store

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"

	"lifeline/syncproto"
)

// signEvery bounds how many changes of this node go without a signature on
// their chain head, so that a peer can verify any batch it is sent with few
// signatures, and a batch boundary is never far from a signed head.
const signEvery = 256

type writeReq struct {
	edits []Edit
	out   []Written
	err   error
	done  chan struct{}
}

// ErrReadOnly means the store was opened without the node's key.
var ErrReadOnly = errors.New("store opened without the node key: it can read, not write")

// Write saves edits durably, committed together with other writers' edits.
func (s *SQLite) Write(ctx context.Context, edits []Edit) ([]Written, error) {
	if s.opts.Key == nil {
		return nil, ErrReadOnly
	}
	if len(edits) == 0 {
		return nil, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	req := &writeReq{edits: edits, done: make(chan struct{})}
	s.closeMu.RLock()
	if s.closed {
		s.closeMu.RUnlock()
		return nil, ErrClosed
	}
	s.reqs <- req
	s.closeMu.RUnlock()
	// Once queued, the edits are committed or refused as a whole; waiting
	// for the answer keeps the caller from reporting a save it cannot know.
	<-req.done
	return req.out, req.err
}

// commitLoop takes whatever writes are waiting and commits them in one
// transaction: one fsync for many writers.
func (s *SQLite) commitLoop() {
	defer close(s.done)
	for req := range s.reqs {
		group := []*writeReq{req}
		n := len(req.edits)
	collect:
		for n < s.opts.GroupMax {
			select {
			case r, ok := <-s.reqs:
				if !ok {
					break collect
				}
				group = append(group, r)
				n += len(r.edits)
			default:
				break collect
			}
		}
		s.commitGroup(group)
	}
}

func (s *SQLite) commitGroup(group []*writeReq) {
	defer func() {
		for _, r := range group {
			close(r.done)
		}
	}()
	fail := func(err error) {
		for _, r := range group {
			if r.err == nil {
				r.out, r.err = nil, err
			}
		}
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.waitLog()
	ctx := context.Background()
	t, err := s.begin(ctx)
	if err != nil {
		fail(err)
		return
	}
	ok := 0
	for _, r := range group {
		saved, savedDelta := t.saveHeads(), t.delta.clone()
		if _, err := t.tx.ExecContext(ctx, "SAVEPOINT edit"); err != nil {
			t.rollback()
			fail(s.wrap(err))
			return
		}
		r.out, r.err = t.local(r.edits)
		if r.err == nil {
			r.err = t.flushRecords()
		}
		if r.err != nil {
			r.out = nil
			t.restoreHeads(saved)
			t.delta = savedDelta
			t.records = map[syncproto.RecordID]*recordRow{}
			if _, err := t.tx.ExecContext(ctx, "ROLLBACK TO edit"); err != nil {
				t.rollback()
				fail(s.wrap(err))
				return
			}
		} else {
			ok++
		}
		if _, err := t.tx.ExecContext(ctx, "RELEASE edit"); err != nil {
			t.rollback()
			fail(s.wrap(err))
			return
		}
	}
	if ok == 0 {
		t.rollback()
		return
	}
	if err := t.signHeads(); err != nil {
		t.rollback()
		fail(s.wrap(err))
		return
	}
	if err := t.commit(); err != nil {
		fail(s.wrap(err))
	}
}

// saveHeads copies the stream heads loaded so far, for restoreHeads.
func (t *txn) saveHeads() map[syncproto.Stream]streamHead {
	saved := make(map[syncproto.Stream]streamHead, len(t.heads))
	for st, h := range t.heads {
		saved[st] = *h
	}
	return saved
}

// restoreHeads undoes what a rolled-back savepoint did to the heads; heads
// loaded since are forgotten, to be read again.
func (t *txn) restoreHeads(saved map[syncproto.Stream]streamHead) {
	for st, h := range t.heads {
		if old, ok := saved[st]; ok {
			*h = old
		} else {
			delete(t.heads, st)
		}
	}
}

// local turns this node's edits into changes and merges them.
func (t *txn) local(edits []Edit) ([]Written, error) {
	out := make([]Written, 0, len(edits))
	for i := range edits {
		w, skipped, err := t.localEdit(&edits[i], false)
		if err != nil {
			return nil, err
		}
		if !skipped {
			out = append(out, w)
		}
	}
	return out, nil
}

// localEdit makes one change. With skipExisting, a new record whose id is
// taken is skipped rather than refused.
func (t *txn) localEdit(e *Edit, skipExisting bool) (Written, bool, error) {
	if !syncproto.ValidLane(e.Lane) {
		return Written{}, false, fmt.Errorf("edit of record %s: lane %d has no priority from %d to %d", e.Record, e.Lane, syncproto.MinPriority, syncproto.MaxPriority)
	}
	var r *recordRow
	var err error
	if e.Create {
		// A new record is inserted without looking for its id first; the
		// insert says if the id is taken.
		if r, cached := t.records[e.Record]; cached && r != nil {
			if skipExisting {
				return Written{}, true, nil
			}
			return Written{}, false, fmt.Errorf("%w: %s", ErrExists, e.Record)
		}
		r = t.newRecord(e.Record)
	} else {
		var exists bool
		if r, exists, err = t.record(e.Record); err != nil {
			return Written{}, false, err
		}
		switch {
		case !exists:
			return Written{}, false, fmt.Errorf("%w: %s", ErrNotFound, e.Record)
		case r.state.Type != e.Type:
			return Written{}, false, fmt.Errorf("record %s is a %s, not a %s", e.Record, r.state.Type, e.Type)
		}
		// A record keeps the scope it was made in, whoever edits it: its
		// changes reach the nodes that hold it.
		if r.state.First.Seq != 0 {
			e.Lane = syncproto.MakeLane(syncproto.LanePriority(e.Lane), syncproto.LaneScope(r.state.First.Lane))
		}
	}
	self, err := t.head(syncproto.Stream{Origin: t.s.self.ID, Lane: e.Lane}, true)
	if err != nil {
		return Written{}, false, err
	}
	c := syncproto.Change{
		Origin: t.s.self.ID, Lane: e.Lane, Seq: self.seq + 1, HLC: t.s.clock.Now(), Record: e.Record,
		Kit: e.Kit, Type: e.Type, Version: e.Version, Author: e.Author,
		Fields: make([]syncproto.FieldChange, len(e.Fields)),
	}
	for i, f := range e.Fields {
		c.Fields[i] = syncproto.FieldChange{Name: f.Name, Value: f.Value, Base: r.state.Bases(f.Name)}
		if seen, ok := e.Seen[f.Name]; ok && !sameDots(seen, c.Fields[i].Base) {
			return Written{}, false, fmt.Errorf("%w: record %s, field %s: its versions are %d, %d were seen", ErrUnseen, e.Record, f.Name, len(c.Fields[i].Base), len(seen))
		}
	}
	body, err := c.Encode()
	if err != nil {
		return Written{}, false, err
	}
	hash := syncproto.ChainHash(self.head, body)
	var sig []byte
	if c.Seq%signEvery == 0 {
		sig = t.s.opts.Key.SignHead(c.Lane, c.Seq, hash)
	}
	switch err := t.merge(&c, body, hash, sig, r); {
	case errors.Is(err, errTaken) && skipExisting:
		return Written{}, true, nil
	case errors.Is(err, errTaken):
		return Written{}, false, fmt.Errorf("%w: %s", ErrExists, e.Record)
	case err != nil:
		return Written{}, false, err
	}
	self.unsigned = sig == nil
	return Written{Dot: c.Dot(), HLC: c.HLC}, false, nil
}

// sameDots says whether a and b hold the same dots, in any order; b is
// sorted.
func sameDots(a, b []syncproto.Dot) bool {
	if len(a) != len(b) {
		return false
	}
	a = slices.SortedFunc(slices.Values(a), syncproto.Dot.Compare)
	return slices.Equal(a, b)
}

// signHeads signs the heads of this node's streams that are not signed yet.
func (t *txn) signHeads() error {
	for st, h := range t.heads {
		if st.Origin != t.s.self.ID || !h.unsigned {
			continue
		}
		sig := t.s.opts.Key.SignHead(st.Lane, h.seq, h.head)
		if _, err := t.tx.ExecContext(t.ctx, `UPDATE changes SET sig = ? WHERE id = ?`, sig, changeID(h.idx, h.seq)); err != nil {
			return err
		}
		h.unsigned = false
	}
	return nil
}

// Import saves new records in one durable transaction. Ids already present
// are skipped, so importing a file twice adds nothing the second time.
//
// The work is split in two stages that run at once: one turns edits into
// changes (ids checked, sequence and clock assigned, bytes encoded, chain
// hashed, merge state built), the other writes rows. SQLite has a single
// writer, so the rows are the pace; everything else happens beside them.
func (s *SQLite) Import(ctx context.Context, edits iter.Seq2[Edit, error]) (ImportResult, error) {
	var res ImportResult
	if s.opts.Key == nil {
		return res, ErrReadOnly
	}
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed {
		return res, ErrClosed
	}
	next, stop := iter.Pull2(edits)
	defer stop()
	first, err, more := next()
	if !more || err != nil {
		return res, err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.waitLog()
	t, err := s.begin(ctx)
	if err != nil {
		return res, err
	}
	// Deferred calls run last first: the transaction ends (rolled back
	// if it did not commit) before the cache shrinks on its connection.
	defer s.wdb.ExecContext(context.WithoutCancel(ctx), "PRAGMA cache_size = -8192")
	defer t.rollback()
	// A bulk import's working set is larger than a node's everyday cache;
	// the cache grows for this transaction and shrinks after it.
	if _, err := t.tx.ExecContext(t.ctx, "PRAGMA cache_size = -65536"); err != nil {
		return res, s.wrap(err)
	}
	// The records of an import are of one type, so of one priority, and
	// each is in the scope of its district: the preparing stage extends
	// the head of each lane of that priority it meets. It owns their
	// sequence, chain head and clock until it ends; the writing stage adds
	// the streams that are new.
	heads := map[uint8]*streamHead{}
	for sc := range syncproto.MaxScope + 1 {
		lane := syncproto.MakeLane(syncproto.LanePriority(first.Lane), uint8(sc))
		h, err := t.head(syncproto.Stream{Origin: s.self.ID, Lane: lane}, false)
		if err != nil {
			return res, s.wrap(err)
		}
		if h == nil {
			h = &streamHead{}
		}
		heads[lane] = h
	}
	added := map[uint8]int64{}
	idxOf := func(lane uint8) (int64, error) {
		if h := heads[lane]; h.idx != 0 {
			return h.idx, nil
		}
		if idx, ok := added[lane]; ok {
			return idx, nil
		}
		idx, _, err := s.stream(t.ctx, t.tx, syncproto.Stream{Origin: s.self.ID, Lane: lane}, true)
		added[lane] = idx
		return idx, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan importBatch, 8)
	prepErr := make(chan error, 1)
	go func() {
		defer close(batches)
		prepErr <- s.prepareImport(ctx, first, next, heads, &res, batches)
	}()
	var writeErr error
	for batch := range batches {
		if writeErr != nil {
			continue // drain so that the preparing stage can finish
		}
		if writeErr = t.insertImported(batch.rows, idxOf); writeErr != nil {
			cancel()
		}
		<-batch.done
		t.delta.merge(batch.delta)
	}
	if err := <-prepErr; err != nil && writeErr == nil {
		writeErr = err
	}
	if writeErr != nil {
		return ImportResult{}, s.wrap(writeErr)
	}
	if res.Added == 0 {
		return res, nil
	}
	for lane, h := range heads {
		if idx, ok := added[lane]; ok {
			h.idx = idx
			t.heads[syncproto.Stream{Origin: s.self.ID, Lane: lane}] = h
		}
		if h.idx != 0 && h.seq > 0 {
			h.dirty = true
		}
	}
	if err := t.signHeads(); err != nil {
		return ImportResult{}, s.wrap(err)
	}
	if err := t.commit(); err != nil {
		return ImportResult{}, s.wrap(err)
	}
	return res, nil
}

// importRow is one new record, ready to be written.
type importRow struct {
	id    syncproto.RecordID
	typ   string
	lane  uint8
	hlc   syncproto.HLC
	seq   uint64
	state []byte
	del   bool
	body  []byte
	hash  syncproto.Hash
	sig   []byte
}

// importBatch is rows to write, with what they add to the digest and the
// totals: delta is ready once done is closed. It is counted beside the
// two stages, on a core of its own where there is one: hashing a record
// for the digest costs as much as writing it.
type importBatch struct {
	rows  []importRow
	delta *delta
	done  chan struct{}
}

const importBatchLen = 256

// prepareImport turns edits into rows, in order, a batch at a time. It skips
// ids already in the store (the write lock is held, so what is committed
// cannot change meanwhile) or earlier in the same import.
func (s *SQLite) prepareImport(ctx context.Context, first Edit, next func() (Edit, error, bool), heads map[uint8]*streamHead, res *ImportResult, out chan<- importBatch) error {
	seen := map[syncproto.RecordID]bool{}
	pending := make([]Edit, 0, importBatchLen)
	refs := s.refs.Load() // the write lock is held: as the transaction's
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		taken, err := s.existing(ctx, pending)
		if err != nil {
			return err
		}
		batch := importBatch{rows: make([]importRow, 0, len(pending)), delta: &delta{}, done: make(chan struct{})}
		views := make([]Record, 0, len(pending))
		for i := range pending {
			e := &pending[i]
			if taken[e.Record] || seen[e.Record] {
				res.Skipped++
				continue
			}
			seen[e.Record] = true
			row, view, err := s.newChange(e, heads[e.Lane])
			if err != nil {
				return err
			}
			batch.rows, views = append(batch.rows, row), append(views, view)
			res.Added++
		}
		pending = pending[:0]
		go func() {
			defer close(batch.done)
			for i := range views {
				batch.delta.record(&views[i], 1, s.opts.Tally, refs)
			}
		}()
		select {
		case out <- batch:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for e, err, ok := first, error(nil), true; ok; e, err, ok = next() {
		if err != nil {
			return err
		}
		if heads[e.Lane] == nil {
			return fmt.Errorf("an import holds records of one sync priority: record %s is in lane %d, of priority %d, not %d",
				e.Record, e.Lane, syncproto.LanePriority(e.Lane), syncproto.LanePriority(first.Lane))
		}
		pending = append(pending, e)
		if len(pending) == importBatchLen {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// newChange makes the change that creates a record, and its merge state.
func (s *SQLite) newChange(e *Edit, self *streamHead) (importRow, Record, error) {
	if !syncproto.ValidLane(e.Lane) {
		return importRow{}, Record{}, fmt.Errorf("record %s: lane %d has no priority from %d to %d", e.Record, e.Lane, syncproto.MinPriority, syncproto.MaxPriority)
	}
	c := syncproto.Change{
		Origin: s.self.ID, Lane: e.Lane, Seq: self.seq + 1, HLC: s.clock.Now(), Record: e.Record,
		Kit: e.Kit, Type: e.Type, Version: e.Version, Author: e.Author, Fields: e.Fields,
	}
	for i := range c.Fields {
		c.Fields[i].Base = nil
	}
	body, err := c.Encode()
	if err != nil {
		return importRow{}, Record{}, err
	}
	row := importRow{id: c.Record, typ: c.Type, lane: c.Lane, hlc: c.HLC, seq: c.Seq, state: encodeNew(&c), body: body, hash: syncproto.ChainHash(self.head, body)}
	if v, ok := c.Field(syncproto.DeletedField); ok {
		row.del = isTrue(v.Value)
	}
	v := newView(&c, row.del)
	if c.Seq%signEvery == 0 {
		row.sig = s.opts.Key.SignHead(c.Lane, c.Seq, row.hash)
	}
	self.seq, self.head, self.hlc = c.Seq, row.hash, max(self.hlc, c.HLC)
	self.unsigned = row.sig == nil
	return row, v, nil
}

// existing returns which of the edits' ids the store already holds.
func (s *SQLite) existing(ctx context.Context, edits []Edit) (map[syncproto.RecordID]bool, error) {
	q := make([]byte, 0, 40+2*len(edits))
	q = append(q, "SELECT id FROM records WHERE id IN ("...)
	args := make([]any, len(edits))
	for i := range edits {
		if i > 0 {
			q = append(q, ',')
		}
		q = append(q, '?')
		args[i] = edits[i].Record[:]
	}
	q = append(q, ')')
	rows, err := s.rdb.QueryContext(context.WithoutCancel(ctx), string(q), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	taken := map[syncproto.RecordID]bool{}
	for rows.Next() {
		var id []byte
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		taken[syncproto.RecordID(id)] = true
	}
	return taken, rows.Err()
}

// insertImported writes a batch of new records and their changes.
func (t *txn) insertImported(batch []importRow, idxOf func(lane uint8) (int64, error)) error {
	for i := range batch {
		r := &batch[i]
		origin, err := idxOf(r.lane)
		if err != nil {
			return err
		}
		res, err := t.insertRecord(r.id, r.typ, r.hlc, 0, r.del, r.state)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("record %s appeared during the import", r.id)
		}
		rid, err := res.LastInsertId()
		if err != nil {
			return err
		}
		if _, err := t.insChange.ExecContext(t.ctx, changeID(origin, r.seq), int64(r.hlc), rid, r.hash[:], nullable(r.sig), r.body, nil); err != nil {
			return err
		}
	}
	return nil
}
