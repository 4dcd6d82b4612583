package store

import (
	"context"
	"fmt"

	"lifeline/syncproto"
)

// Rebuild derives every record again from the change log. The merge rule
// does not depend on the order of the changes; the replay goes origin by
// origin.
func (s *SQLite) Rebuild(ctx context.Context) error {
	t, end, err := s.lockTxn(ctx)
	if err != nil {
		return err
	}
	defer end()

	type rebuilt struct {
		state   *RecordState
		seen    map[syncproto.Dot]bool
		deleted map[syncproto.Dot]bool // tombstone values by change
	}
	states := map[int64]*rebuilt{}
	rows, err := t.tx.QueryContext(ctx, `SELECT id, record, body FROM changes ORDER BY id`)
	if err != nil {
		return s.wrap(err)
	}
	for rows.Next() {
		var id, rid int64
		var body []byte
		if err := rows.Scan(&id, &rid, &body); err != nil {
			rows.Close()
			return s.wrap(err)
		}
		if rid == 0 {
			continue // kept aside: in the log, in no record
		}
		c, err := syncproto.DecodeChange(body)
		if err != nil {
			rows.Close()
			idx, seq := splitID(id)
			return fmt.Errorf("%w: change %d of origin %d: %v", ErrCorrupt, seq, idx, err)
		}
		r := states[rid]
		if r == nil {
			r = &rebuilt{state: &RecordState{}, seen: map[syncproto.Dot]bool{}}
			states[rid] = r
		}
		r.state.Apply(&c, func(d syncproto.Dot) bool { return r.seen[d] })
		r.seen[c.Dot()] = true
		if v, ok := c.Field(syncproto.DeletedField); ok {
			if r.deleted == nil {
				r.deleted = map[syncproto.Dot]bool{}
			}
			r.deleted[c.Dot()] = isTrue(v.Value)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return s.wrap(err)
	}
	for rid, r := range states {
		deleted := false
		if f, ok := r.state.Field(syncproto.DeletedField); ok && len(f.Heads) > 0 {
			deleted = r.deleted[f.Heads[0].Dot()]
		}
		b, err := r.state.Encode()
		if err != nil {
			return err
		}
		if err := t.updateRecord(rid, r.state, deleted, b); err != nil {
			return s.wrap(err)
		}
	}
	// Records may have changed: what they contribute is computed again.
	if err := t.recompute(true, s.opts.Tally != nil); err != nil {
		return s.wrap(err)
	}
	if s.opts.Tally == nil {
		if _, err := t.tx.ExecContext(ctx, `UPDATE derived SET version = 0 WHERE name = 'tally'`); err != nil {
			return s.wrap(err)
		}
	}
	// And what they name, when a definition is next set.
	if _, err := t.tx.ExecContext(ctx, `UPDATE derived SET version = 0 WHERE name = 'refs'`); err != nil {
		return s.wrap(err)
	}
	if err := t.tx.Commit(); err != nil {
		return s.wrap(err)
	}
	s.committed()
	return nil
}
