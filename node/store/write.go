package store

import (
	"context"
	"errors"
	"fmt"
	"iter"

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
	ctx := context.Background()
	t, err := s.begin(ctx)
	if err != nil {
		fail(err)
		return
	}
	self, err := t.head(s.self.ID, true)
	if err != nil {
		t.rollback()
		fail(s.wrap(err))
		return
	}
	ok := 0
	for _, r := range group {
		saved := *self
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
			*self = saved
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
	if err := t.signHead(self); err != nil {
		t.rollback()
		fail(s.wrap(err))
		return
	}
	if err := t.commit(); err != nil {
		fail(s.wrap(err))
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
	self := t.heads[t.s.self.ID]
	r, exists, err := t.record(e.Record)
	if err != nil {
		return Written{}, false, err
	}
	switch {
	case e.Create && exists && skipExisting:
		return Written{}, true, nil
	case e.Create && exists:
		return Written{}, false, fmt.Errorf("%w: %s", ErrExists, e.Record)
	case !e.Create && !exists:
		return Written{}, false, fmt.Errorf("%w: %s", ErrNotFound, e.Record)
	case exists && r.state.Type != e.Type:
		return Written{}, false, fmt.Errorf("record %s is a %s, not a %s", e.Record, r.state.Type, e.Type)
	case !exists:
		r = t.newRecord(e.Record)
	}
	c := syncproto.Change{
		Origin: t.s.self.ID, Seq: self.seq + 1, HLC: t.s.clock.Now(), Record: e.Record,
		Kit: e.Kit, Type: e.Type, Version: e.Version, Author: e.Author,
		Fields: make([]syncproto.FieldChange, len(e.Fields)),
	}
	for i, f := range e.Fields {
		c.Fields[i] = syncproto.FieldChange{Name: f.Name, Value: f.Value, Base: r.state.Bases(f.Name)}
	}
	body, err := c.Encode()
	if err != nil {
		return Written{}, false, err
	}
	hash := syncproto.ChainHash(self.head, body)
	var sig []byte
	if c.Seq%signEvery == 0 {
		sig = t.s.opts.Key.SignHead(c.Seq, hash)
	}
	if err := t.merge(&c, body, hash, sig, r); err != nil {
		return Written{}, false, err
	}
	self.unsigned = sig == nil
	return Written{Dot: c.Dot(), HLC: c.HLC}, false, nil
}

// signHead signs this node's chain head if it is not signed yet.
func (t *txn) signHead(self *originHead) error {
	if !self.unsigned {
		return nil
	}
	sig := t.s.opts.Key.SignHead(self.seq, self.head)
	_, err := t.tx.ExecContext(t.ctx, `UPDATE changes SET sig = ? WHERE origin = ? AND seq = ?`, sig, self.idx, int64(self.seq))
	self.unsigned = false
	return err
}

// flushRecords writes back the records changed so far.
func (t *txn) flushRecords() error {
	for _, r := range t.records {
		if !r.dirty {
			continue
		}
		b, err := r.state.Encode()
		if err != nil {
			return err
		}
		if _, err := t.updRecord.ExecContext(t.ctx, r.state.Type, int64(r.state.Last), r.state.Conflicts(), r.deleted, b, r.rid); err != nil {
			return err
		}
		r.dirty = false
	}
	return nil
}

// Import saves new records in one durable transaction. Ids already present
// are skipped, so importing a file twice adds nothing the second time.
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
	s.wmu.Lock()
	defer s.wmu.Unlock()
	t, err := s.begin(ctx)
	if err != nil {
		return res, err
	}
	self, err := t.head(s.self.ID, true)
	if err != nil {
		t.rollback()
		return res, s.wrap(err)
	}
	for e, err := range edits {
		if err == nil {
			err = ctx.Err()
		}
		if err != nil {
			t.rollback()
			return ImportResult{}, err
		}
		e.Create = true
		_, skipped, err := t.localEdit(&e, true)
		if err != nil {
			t.rollback()
			return ImportResult{}, s.wrap(err)
		}
		if skipped {
			res.Skipped++
			continue
		}
		res.Added++
		// An import of many records only needs the states of the few it
		// updates twice; forgetting the rest keeps memory flat.
		if len(t.records) > 4096 {
			if err := t.flushRecords(); err != nil {
				t.rollback()
				return ImportResult{}, s.wrap(err)
			}
			t.records = map[syncproto.RecordID]*recordRow{}
		}
	}
	if res.Added == 0 {
		t.rollback()
		return res, nil
	}
	if err := t.signHead(self); err != nil {
		t.rollback()
		return ImportResult{}, s.wrap(err)
	}
	if err := t.commit(); err != nil {
		return ImportResult{}, s.wrap(err)
	}
	return res, nil
}
