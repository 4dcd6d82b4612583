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
		t.Dropped += r.Dropped
		t.Quarantined += r.Quarantined
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
	t, end, err := s.lockTxn(ctx)
	if err != nil {
		return nil, err
	}
	t.derive = newDeriver(s.opts.Tally, t.refs)
	defer func() { t.joinDeriver(); end() }()
	held, err := t.heldSet()
	if err != nil {
		return nil, s.wrap(err)
	}
	if t.heldCount == nil {
		t.heldCount = map[syncproto.NodeID]int{}
	}
	for changes, err := range batches {
		if err != nil {
			return nil, err
		}
		if err := t.prefetch(changes); err != nil {
			return nil, s.wrap(err)
		}
		var res ApplyResult
		before := t.quarantined
		for i := range changes {
			if err := t.applyOne(&changes[i], held, holdGaps, &res); err != nil {
				return nil, s.wrap(err)
			}
		}
		res.Quarantined = t.quarantined - before
		out = append(out, res)
		// Write back what the batch changed, and forget it: a bundle of a
		// million changes must not hold a million records in memory.
		if err := t.flushRecords(); err != nil {
			return nil, s.wrap(err)
		}
		t.records = map[syncproto.RecordID]*recordRow{}
	}
	if total := Sum(out); total.Applied+total.Held+total.Quarantined == 0 {
		return out, nil
	}
	// What came may close the gap before changes held here: they are
	// checked and merged now, not at the next release, so that a forged
	// one is not left held aside, where the hello would tell peers not to
	// send the real one.
	if err := t.releaseFollowing(held); err != nil {
		return nil, s.wrap(err)
	}
	// What came may be what changes kept aside waited for.
	if _, err := t.readmit(false); err != nil {
		return nil, s.wrap(err)
	}
	if err := t.commit(); err != nil {
		return nil, s.wrap(err)
	}
	return out, nil
}

// MaxHeldPerOrigin bounds the changes held aside that one node answers
// for: those of its own streams whose signature was checked when they were
// held (a peer that stamps a flood of changes far ahead fills its share,
// and no more), and those it brought after a gap, which nothing can check
// until the gap closes (a thief's stick of changes forged under other
// names fills the thief's share, not theirs).
const MaxHeldPerOrigin = 4096

// heldRows are the changes held here, by stream and sequence.
type heldRows map[syncproto.Stream]map[uint64]heldEntry

// heldEntry is a held change: the node that answers for it in the shares of
// the held table, and whether its origin's signature was checked as it was
// held (else a node brought it after a gap).
type heldEntry struct {
	by      syncproto.NodeID
	checked bool
}

func (h heldRows) has(st syncproto.Stream, seq uint64) bool {
	_, ok := h[st][seq]
	return ok
}

// shareOf counts the held changes a node answers for (as heldSet read
// them, and this transaction added).
func (t *txn) shareOf(id syncproto.NodeID) int { return t.heldCount[id] }

// heldSet lists the held changes by stream, to tell a change resent from
// one that arrives for the first time, and counts them by the node that
// answers for them: the node that brought a change held after a gap, else
// its origin.
func (t *txn) heldSet() (heldRows, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT node_id, lane, seq, coalesce(bringer, node_id), bringer IS NULL FROM held`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	held := heldRows{}
	for rows.Next() {
		var id, by []byte
		var st syncproto.Stream
		var seq int64
		var checked bool
		if err := rows.Scan(&id, &st.Lane, &seq, &by, &checked); err != nil {
			return nil, err
		}
		st.Origin = syncproto.NodeID(id)
		if held[st] == nil {
			held[st] = map[uint64]heldEntry{}
		}
		held[st][uint64(seq)] = heldEntry{by: syncproto.NodeID(by), checked: checked}
		if t.heldCount == nil {
			t.heldCount = map[syncproto.NodeID]int{}
		}
		t.heldCount[syncproto.NodeID(by)]++
	}
	return held, rows.Err()
}

// applyOne merges, holds or skips one incoming change.
func (t *txn) applyOne(in *Incoming, held heldRows, holdGaps bool, res *ApplyResult) error {
	c := &in.Change
	st := c.Stream()
	h, err := t.head(st, true)
	if err != nil {
		return err
	}
	if c.Seq <= h.seq {
		res.Duplicates++
		return nil
	}
	next := c.Seq == h.seq+1
	waits := !next || t.s.clock.TooFarAhead(c.HLC)
	if held.has(st, c.Seq) {
		// A change held here took no slot: if this one differs, nothing
		// verified the held one yet, and this one takes its place.
		var body []byte
		if err := t.tx.QueryRowContext(t.ctx, `SELECT body FROM held WHERE node_id = ? AND lane = ? AND seq = ?`,
			st.Origin[:], st.Lane, int64(c.Seq)).Scan(&body); err != nil {
			return err
		}
		if string(body) == string(in.Body) && waits {
			// The same change, still waiting. Its signature, when it
			// carries its run's, is what vouches for the changes of the
			// run merged before it: it is checked all the same. (Once
			// its time has come, it is merged below, as any other.)
			res.Duplicates++
			linked, err := t.chainHeld(in, h, held)
			if was := held[st][c.Seq]; err == nil && linked && !was.checked {
				// Checked now: its origin answers for it.
				if _, err := t.tx.ExecContext(t.ctx, `UPDATE held SET bringer = NULL WHERE node_id = ? AND lane = ? AND seq = ?`,
					st.Origin[:], st.Lane, int64(c.Seq)); err != nil {
					return err
				}
				t.heldCount[was.by]--
				t.heldCount[c.Origin]++
				held[st][c.Seq] = heldEntry{by: c.Origin, checked: true}
			}
			return err
		}
	}
	if t.dropping[st] {
		// The share of held changes is full. The change is not kept, but
		// its chain is followed: the signature it may carry vouches for
		// the changes of its run merged before it.
		res.Dropped++
		_, err := t.chainHeld(in, h, held)
		return err
	}
	// A change waits when it is stamped too far ahead, or when a change
	// before it is missing: merged now, it would leave a gap in its stream.
	if !next && !holdGaps && !held.has(st, c.Seq-1) {
		return fmt.Errorf("%w: %s came before %s:%d", ErrGap, c.Dot(), st, h.seq+1)
	}
	if waits {
		linked, err := t.chainHeld(in, h, held)
		if err != nil {
			return err
		}
		// Who answers for it: its origin, whose signature covers it (or
		// the transaction fails), or, after a gap, whoever brought it.
		by, bringer := c.Origin, []byte(nil)
		if !linked {
			by, bringer = in.From, in.From[:]
		}
		if was, ok := held[st][c.Seq]; ok {
			t.heldCount[was.by]--
		}
		if t.shareOf(by) >= MaxHeldPerOrigin {
			// The share of the held table is full: this change and those
			// after it in its stream are not kept; they come again once
			// the held ones are released.
			if was, ok := held[st][c.Seq]; ok {
				t.heldCount[was.by]++
			}
			if t.dropping == nil {
				t.dropping = map[syncproto.Stream]bool{}
			}
			t.dropping[st] = true
			res.Dropped++
			return nil
		}
		if _, err := t.tx.ExecContext(t.ctx, `INSERT OR REPLACE INTO held (node_id, lane, seq, hlc, sig, body, held_at, bringer) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			c.Origin[:], c.Lane, int64(c.Seq), int64(c.HLC), nullable(in.Sig), in.Body, time.Now().UTC().Format(time.RFC3339), bringer); err != nil {
			return err
		}
		if held[st] == nil {
			held[st] = map[uint64]heldEntry{}
		}
		held[st][c.Seq] = heldEntry{by: by, checked: linked}
		t.heldCount[by]++
		res.Held++
		return nil
	}
	if was, ok := held[st][c.Seq]; ok {
		// The change held at this sequence is merged now, or was not
		// this one (nothing verified it), and this one takes its slot.
		if _, err := t.tx.ExecContext(t.ctx, `DELETE FROM held WHERE node_id = ? AND lane = ? AND seq = ?`, st.Origin[:], st.Lane, int64(c.Seq)); err != nil {
			return err
		}
		delete(held[st], c.Seq)
		t.heldCount[was.by]--
	}
	if err := t.remote(in, h); err != nil {
		return err
	}
	res.Applied++
	return nil
}

// chainHeld links a change being held to its stream's chain when the
// change follows the stream's head, or held changes whose signatures were
// checked as they were held, checks the signature it carries, and says
// whether it linked it. A run's signature is on its last change: when that
// change is held, this is what vouches for the changes of the run merged
// before it. A change held after a gap, or after a held change nothing
// checked yet, cannot be linked; it is checked when the gap closes.
func (t *txn) chainHeld(in *Incoming, h *streamHead, held heldRows) (bool, error) {
	c := &in.Change
	st := c.Stream()
	last, ok := t.heldChain[st]
	if !ok && c.Seq > h.seq+1 && held.has(st, c.Seq-1) {
		var err error
		if last, ok, err = t.checkedChain(st, h, c.Seq-1, held); err != nil {
			return false, err
		}
	}
	var prev syncproto.Hash
	switch {
	case c.Seq == h.seq+1:
		prev = h.head
	case ok && last.seq == c.Seq-1:
		prev = last.hash
	default:
		return false, nil
	}
	hash, err := t.link(in, prev)
	if err != nil {
		return false, err
	}
	if t.heldChain == nil {
		t.heldChain = map[syncproto.Stream]heldLink{}
	}
	t.heldChain[st] = heldLink{seq: c.Seq, hash: hash}
	return true, nil
}

// checkedChain is the chain hash at to through the changes held after the
// stream's head, when every one of them was checked as it was held.
func (t *txn) checkedChain(st syncproto.Stream, h *streamHead, to uint64, held heldRows) (heldLink, bool, error) {
	for seq := h.seq + 1; seq <= to; seq++ {
		if r, ok := held[st][seq]; !ok || !r.checked {
			return heldLink{}, false, nil
		}
	}
	prev, next := h.head, h.seq+1
	for next <= to {
		piece, err := t.heldPiece(st, next-1)
		if err != nil {
			return heldLink{}, false, err
		}
		for _, r := range piece {
			if r.seq != next || r.seq > to {
				break
			}
			prev = syncproto.ChainHash(prev, r.body)
			next++
		}
		if len(piece) < releasePiece {
			break
		}
	}
	if next <= to {
		return heldLink{}, false, nil
	}
	return heldLink{seq: to, hash: prev}, true, nil
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
			return syncproto.Hash{}, &ChainError{Dot: c.Dot(), Err: err}
		}
		cov := t.coverOf(c.Stream())
		cov.signed = max(cov.signed, c.Seq)
	}
	return hash, nil
}

// remote links a received change to its stream's chain, checks the
// signature it carries, and merges it, or keeps it aside if admission
// refuses it.
func (t *txn) remote(in *Incoming, h *streamHead) error {
	c := &in.Change
	hash, err := t.link(in, h.head)
	if err != nil {
		return err
	}
	cov := t.coverOf(c.Stream())
	cov.took = max(cov.took, c.Seq)
	r, exists, err := t.record(c.Record)
	if err != nil {
		return err
	}
	if exists {
		// Only a version of a record held can be waited for (waitsOf):
		// the change that creates a record, most of what a sync brings,
		// wakes nothing.
		if err := t.arrived(c.Dot()); err != nil {
			return err
		}
	}
	if admit := t.s.opts.Admit; admit != nil {
		if v := admit(c, t.facts(r, exists)); v.Reason != "" {
			return t.quarantine(c, in.Body, hash, in.Sig, waitsOf(v, exists))
		}
	}
	if reason := t.tooMuch(c, r, exists); reason != "" {
		return t.quarantine(c, in.Body, hash, in.Sig, Verdict{Reason: reason, Final: true})
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
	if err := t.fieldSet(c); err != nil {
		return err
	}
	if t.touched == nil {
		t.touched = map[syncproto.RecordID]bool{}
	}
	t.touched[c.Record] = true
	return nil
}

// releaseFollowing releases the held changes of the streams this
// transaction took changes of, where a held change now follows the head.
func (t *txn) releaseFollowing(held heldRows) error {
	var streams []syncproto.Stream
	for st, c := range t.cover {
		if c.took == 0 {
			continue
		}
		h, err := t.head(st, true)
		if err != nil {
			return err
		}
		if held.has(st, h.seq+1) {
			streams = append(streams, st)
		}
	}
	for _, st := range streams {
		if _, _, err := t.releaseStream(st); err != nil {
			return err
		}
	}
	return nil
}

// releasePiece bounds the held changes of a stream read at once.
const releasePiece = 1024

// ReleaseHeld merges held changes whose time has come, in sequence, and
// returns how many it merged. Of each stream it takes the changes that
// follow the stream's head, are no longer stamped too far ahead, and that
// a signature of their origin covers: it computes their chain first, and
// releases up to the last held change whose signature verifies. A held
// change whose signature does not verify was never the origin's, however
// far ahead it is stamped: it is dropped, with those held before it that
// it would have vouched for, and logged; the real ones come again from any
// peer.
func (s *SQLite) ReleaseHeld(ctx context.Context) (int, error) {
	t, end, err := s.lockTxn(ctx)
	if err != nil {
		return 0, err
	}
	defer end()
	rows, err := t.tx.QueryContext(t.ctx, `SELECT DISTINCT node_id, lane FROM held`)
	if err != nil {
		return 0, s.wrap(err)
	}
	var streams []syncproto.Stream
	for rows.Next() {
		var id []byte
		var st syncproto.Stream
		if err := rows.Scan(&id, &st.Lane); err != nil {
			rows.Close()
			return 0, s.wrap(err)
		}
		st.Origin = syncproto.NodeID(id)
		streams = append(streams, st)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, s.wrap(err)
	}
	released, changed := 0, false
	for _, st := range streams {
		n, dropped, err := t.releaseStream(st)
		if err != nil {
			return 0, s.wrap(err)
		}
		released += n
		changed = changed || n > 0 || dropped > 0
	}
	if !changed {
		return 0, nil
	}
	if _, err := t.readmit(false); err != nil {
		return 0, s.wrap(err)
	}
	if err := t.commit(); err != nil {
		return 0, s.wrap(err)
	}
	return released, nil
}

// heldRow is a held change as releaseStream reads it.
type heldRow struct {
	seq  uint64
	hlc  syncproto.HLC
	sig  []byte
	body []byte
}

// heldPiece reads a stream's held changes after seq, at most releasePiece.
func (t *txn) heldPiece(st syncproto.Stream, after uint64) ([]heldRow, error) {
	return queryAll(t.ctx, t.tx, func(row scanner) (heldRow, error) {
		var r heldRow
		var seq, hlc int64
		err := row.Scan(&seq, &hlc, &r.sig, &r.body)
		r.seq, r.hlc = uint64(seq), syncproto.HLC(hlc)
		return r, err
	}, `SELECT seq, hlc, sig, body FROM held WHERE node_id = ? AND lane = ? AND seq > ?
		ORDER BY seq LIMIT ?`, st.Origin[:], st.Lane, int64(after), releasePiece)
}

// releaseStream releases what it can of one stream's held changes. A first
// pass, piece by piece, links the chain from the head through the held
// changes in sequence, checks their signatures, drops what a signature
// that fails would have vouched for, and finds the last change a
// signature covers before the first one stamped ahead; the second merges
// up to it, piece by piece.
func (t *txn) releaseStream(st syncproto.Stream) (released, dropped int, err error) {
	h, err := t.head(st, true)
	if err != nil {
		return 0, 0, err
	}
	// A change held at a sequence the stream has passed lost its slot to
	// a verified one: a change forged, after a gap, in this node's own
	// stream, which its own writes then passed. It would be kept for ever,
	// and counted in its origin's share.
	res, err := t.tx.ExecContext(t.ctx, `DELETE FROM held WHERE node_id = ? AND lane = ? AND seq <= ?`, st.Origin[:], st.Lane, int64(h.seq))
	if err != nil {
		return 0, 0, err
	}
	stale, _ := res.RowsAffected()
	dropped = int(stale)
	// The chain is followed, and signatures checked, through every held
	// change that follows the head, whether its time has come or not: a
	// change forged after a gap and stamped years ahead must not wait
	// years to be found out, held aside where the node's hello tells its
	// peers not to send the real one. Only the changes up to the first
	// one stamped ahead may merge.
	prev, next, covered, due := h.head, h.seq+1, h.seq, true
	vouched := h.seq // the last change a signature verified covers
	var bad error
scan:
	for {
		piece, err := t.heldPiece(st, next-1)
		if err != nil {
			return 0, 0, err
		}
		for _, r := range piece {
			if r.seq != next {
				break scan
			}
			due = due && !t.s.clock.TooFarAhead(r.hlc)
			prev = syncproto.ChainHash(prev, r.body)
			switch {
			case t.s.opts.VerifyHead == nil:
			case len(r.sig) > 0:
				if err := t.s.opts.VerifyHead(st, r.seq, prev, r.sig); err != nil {
					bad = err
					break scan
				}
				vouched = r.seq
			default:
				next++
				continue // vouched for by a signature after it, if any
			}
			if due {
				covered = r.seq
			}
			next++
		}
		if len(piece) < releasePiece {
			break
		}
	}
	if bad != nil {
		// From the last change a signature vouched for to the change
		// whose signature failed, nothing is the origin's: drop those;
		// what follows waits for its own.
		res, err := t.tx.ExecContext(t.ctx, `DELETE FROM held WHERE node_id = ? AND lane = ? AND seq > ? AND seq <= ?`,
			st.Origin[:], st.Lane, int64(vouched), int64(next))
		if err != nil {
			return 0, 0, err
		}
		k, _ := res.RowsAffected()
		dropped += int(k)
		if t.s.opts.Log != nil {
			t.s.opts.Log.Warn("dropped held changes whose signature is not their origin's", "stream", st.String(),
				"from", vouched+1, "to", next, "err", bad)
		}
	}
	for h.seq < covered {
		piece, err := t.heldPiece(st, h.seq)
		if err != nil {
			return released, dropped, err
		}
		for _, r := range piece {
			if r.seq > covered {
				break
			}
			c, err := syncproto.DecodeChange(r.body)
			if err != nil {
				return released, dropped, fmt.Errorf("%w: held change %s:%d: %v", ErrCorrupt, st, r.seq, err)
			}
			if err := t.remote(&Incoming{Change: c, Body: r.body, Sig: r.sig}, h); err != nil {
				return released, dropped, err
			}
			if _, err := t.tx.ExecContext(t.ctx, `DELETE FROM held WHERE node_id = ? AND lane = ? AND seq = ?`, st.Origin[:], st.Lane, int64(r.seq)); err != nil {
				return released, dropped, err
			}
			released++
		}
		if err := t.flushRecords(); err != nil {
			return released, dropped, err
		}
		t.records = map[syncproto.RecordID]*recordRow{}
	}
	return released, dropped, nil
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
