package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"time"

	"lifeline/syncproto"
)

// Apply stores and merges changes from other nodes in one transaction: all
// of them or none. A change that comes before the changes of its stream
// that precede it is refused (ErrGap): a sync peer sends streams in order.
func (s *SQLite) Apply(ctx context.Context, changes []Incoming) (ApplyResult, error) {
	res, err := s.ApplyAll(ctx, func(yield func([]Incoming, error) bool) { yield(changes, nil) }, false)
	return Sum(res), err
}

// Sum adds up results.
func Sum(results []ApplyResult) ApplyResult {
	var t ApplyResult
	for _, r := range results {
		t.Applied += r.Applied
		t.Duplicates += r.Duplicates
		t.Held += r.Held
	}
	return t
}

// ApplyAll is Apply for many batches in one transaction, so that a bundle
// is applied whole or not at all, and a sync session commits once for the
// batches that came together. It returns what it did with each batch. With
// holdGaps, a change whose predecessors are missing is held until they
// come (bundles may be carried in any order) instead of refused.
func (s *SQLite) ApplyAll(ctx context.Context, batches iter.Seq2[[]Incoming, error], holdGaps bool) ([]ApplyResult, error) {
	var out []ApplyResult
	if err := s.lockWrite(); err != nil {
		return nil, err
	}
	defer s.unlockWrite()
	t, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer t.rollback()
	held, err := t.heldSet()
	if err != nil {
		return nil, s.wrap(err)
	}
	for changes, err := range batches {
		if err != nil {
			return nil, err
		}
		if err := t.prefetch(changes); err != nil {
			return nil, s.wrap(err)
		}
		var res ApplyResult
		for i := range changes {
			if err := t.applyOne(&changes[i], held, holdGaps, &res); err != nil {
				return nil, s.wrap(err)
			}
		}
		out = append(out, res)
		// Write back what the batch changed, and forget it: a bundle of a
		// million changes must not hold a million records in memory.
		if err := t.flushRecords(); err != nil {
			return nil, s.wrap(err)
		}
		t.records = map[syncproto.RecordID]*recordRow{}
	}
	if total := Sum(out); total.Applied+total.Held == 0 {
		return out, nil
	}
	if err := t.commit(); err != nil {
		return nil, s.wrap(err)
	}
	return out, nil
}

// heldSet lists the held changes by stream, to tell a change resent from
// one that arrives for the first time.
func (t *txn) heldSet() (map[syncproto.Stream]map[uint64]bool, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT node_id, lane, seq FROM held`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	held := map[syncproto.Stream]map[uint64]bool{}
	for rows.Next() {
		var id []byte
		var st syncproto.Stream
		var seq int64
		if err := rows.Scan(&id, &st.Lane, &seq); err != nil {
			return nil, err
		}
		st.Origin = syncproto.NodeID(id)
		if held[st] == nil {
			held[st] = map[uint64]bool{}
		}
		held[st][uint64(seq)] = true
	}
	return held, rows.Err()
}

// applyOne merges, holds or skips one incoming change.
func (t *txn) applyOne(in *Incoming, held map[syncproto.Stream]map[uint64]bool, holdGaps bool, res *ApplyResult) error {
	c := &in.Change
	st := c.Stream()
	h, err := t.head(st, true)
	if err != nil {
		return err
	}
	if c.Seq <= h.seq || held[st][c.Seq] {
		res.Duplicates++
		return nil
	}
	next := c.Seq == h.seq+1
	// A change waits when it is stamped too far ahead, or when a change
	// before it is missing: merged now, it would leave a gap in its stream.
	if !next && !holdGaps && !held[st][c.Seq-1] {
		return fmt.Errorf("%w: %s came before %s:%d", ErrGap, c.Dot(), st, h.seq+1)
	}
	if !next || t.s.clock.TooFarAhead(c.HLC) {
		if err := t.chainHeld(in, h); err != nil {
			return err
		}
		if _, err := t.tx.ExecContext(t.ctx, `INSERT INTO held (node_id, lane, seq, hlc, sig, body, held_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			c.Origin[:], c.Lane, int64(c.Seq), int64(c.HLC), nullable(in.Sig), in.Body, time.Now().UTC().Format(time.RFC3339)); err != nil {
			return err
		}
		if held[st] == nil {
			held[st] = map[uint64]bool{}
		}
		held[st][c.Seq] = true
		res.Held++
		return nil
	}
	if err := t.remote(in, h); err != nil {
		return err
	}
	res.Applied++
	return nil
}

// chainHeld links a change being held to its stream's chain when the
// change follows the stream's head (or a change this transaction held just
// before), and checks the signature it carries. A run's signature is on its
// last change: when that change is held, this is what vouches for the
// changes of the run merged before it. A change held after a gap cannot be
// linked yet; it is checked when it is merged.
func (t *txn) chainHeld(in *Incoming, h *streamHead) error {
	c := &in.Change
	st := c.Stream()
	var prev syncproto.Hash
	switch last, ok := t.heldChain[st]; {
	case c.Seq == h.seq+1:
		prev = h.head
	case ok && last.seq == c.Seq-1:
		prev = last.hash
	default:
		return nil
	}
	hash, err := t.link(in, prev)
	if err != nil {
		return err
	}
	if t.heldChain == nil {
		t.heldChain = map[syncproto.Stream]heldLink{}
	}
	t.heldChain[st] = heldLink{seq: c.Seq, hash: hash}
	return nil
}

// link returns a received change's chain hash after prev, the chain hash of
// the change before it in its stream, and checks the signature the change
// carries against it (ErrChain).
func (t *txn) link(in *Incoming, prev syncproto.Hash) (syncproto.Hash, error) {
	c := &in.Change
	var hash syncproto.Hash
	if in.BodySum != nil {
		hash = syncproto.ChainLink(prev, *in.BodySum)
	} else {
		hash = syncproto.ChainHash(prev, in.Body)
	}
	if len(in.Sig) > 0 && t.s.opts.VerifyHead != nil {
		if err := t.s.opts.VerifyHead(c.Stream(), c.Seq, hash, in.Sig); err != nil {
			return syncproto.Hash{}, fmt.Errorf("%w: %s: %w", ErrChain, c.Dot(), err)
		}
	}
	return hash, nil
}

// remote links a received change to its stream's chain, checks the
// signature it carries, and merges it.
func (t *txn) remote(in *Incoming, h *streamHead) error {
	c := &in.Change
	hash, err := t.link(in, h.head)
	if err != nil {
		return err
	}
	r, exists, err := t.record(c.Record)
	if err != nil {
		return err
	}
	if !exists {
		r = t.newRecord(c.Record)
	}
	if err := t.merge(c, in.Body, hash, in.Sig, r); errors.Is(err, errTaken) {
		return fmt.Errorf("record %s appeared in the store during the transaction", c.Record)
	} else if err != nil {
		return err
	}
	t.s.clock.Observe(c.HLC)
	return nil
}

// ReleaseHeld merges held changes whose time has come, in sequence, and
// returns how many it merged.
func (s *SQLite) ReleaseHeld(ctx context.Context) (int, error) {
	if err := s.lockWrite(); err != nil {
		return 0, err
	}
	defer s.unlockWrite()
	t, err := s.begin(ctx)
	if err != nil {
		return 0, err
	}
	rows, err := t.tx.QueryContext(ctx, `SELECT node_id, lane, seq, hlc, sig, body FROM held ORDER BY node_id, lane, seq`)
	if err != nil {
		t.rollback()
		return 0, s.wrap(err)
	}
	type heldRow struct {
		stream syncproto.Stream
		seq    uint64
		hlc    syncproto.HLC
		sig    []byte
		body   []byte
	}
	var all []heldRow
	for rows.Next() {
		var r heldRow
		var id []byte
		var seq, hlc int64
		if err := rows.Scan(&id, &r.stream.Lane, &seq, &hlc, &r.sig, &r.body); err != nil {
			rows.Close()
			t.rollback()
			return 0, s.wrap(err)
		}
		copy(r.stream.Origin[:], id)
		r.seq, r.hlc = uint64(seq), syncproto.HLC(hlc)
		all = append(all, r)
	}
	rows.Close()
	released := 0
	blocked := map[syncproto.Stream]bool{}
	for _, r := range all {
		if blocked[r.stream] || s.clock.TooFarAhead(r.hlc) {
			blocked[r.stream] = true
			continue
		}
		h, err := t.head(r.stream, true)
		if err != nil {
			t.rollback()
			return 0, s.wrap(err)
		}
		if r.seq != h.seq+1 {
			blocked[r.stream] = true
			continue
		}
		c, err := syncproto.DecodeChange(r.body)
		if err != nil {
			t.rollback()
			return 0, fmt.Errorf("%w: held change %s:%d: %v", ErrCorrupt, r.stream, r.seq, err)
		}
		if err := t.remote(&Incoming{Change: c, Body: r.body, Sig: r.sig}, h); err != nil {
			t.rollback()
			return 0, s.wrap(err)
		}
		if _, err := t.tx.ExecContext(ctx, `DELETE FROM held WHERE node_id = ? AND lane = ? AND seq = ?`, r.stream.Origin[:], r.stream.Lane, int64(r.seq)); err != nil {
			t.rollback()
			return 0, s.wrap(err)
		}
		released++
	}
	if released == 0 {
		t.rollback()
		return 0, nil
	}
	if err := t.commit(); err != nil {
		return 0, s.wrap(err)
	}
	return released, nil
}

// HeldCount says how many changes wait for this node's clock.
func (s *SQLite) HeldCount(ctx context.Context) (int, error) {
	var n int
	err := s.rdb.QueryRowContext(ctx, `SELECT count(*) FROM held`).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return n, s.wrap(err)
}
