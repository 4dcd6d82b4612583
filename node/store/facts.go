package store

import (
	"context"
	"database/sql"

	"lifeline/syncproto"
)

// Facts are what a list of records shows beside each record, read for all
// records at once: its case number, and the latest change this node made
// of it in each lane (which says how far this node's changes of it got).
type Facts struct {
	Cases map[syncproto.RecordID]string
	Own   map[syncproto.RecordID][]syncproto.Dot
}

// Facts reads the case numbers and this node's latest change of each
// record it changed, in one read transaction.
func (s *SQLite) Facts(ctx context.Context) (Facts, error) {
	f := Facts{Cases: map[syncproto.RecordID]string{}, Own: map[syncproto.RecordID][]syncproto.Dot{}}
	self := s.Self().ID
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT record, number FROM ledger_cases`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id []byte
			var number string
			if err := rows.Scan(&id, &number); err != nil {
				rows.Close()
				return err
			}
			f.Cases[syncproto.RecordID(id)] = number
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		type stream struct {
			idx  int64
			lane uint8
		}
		var own []stream
		rows, err = tx.QueryContext(ctx, `SELECT idx, lane FROM streams WHERE node_id = ?`, self[:])
		if err != nil {
			return err
		}
		for rows.Next() {
			var st stream
			if err := rows.Scan(&st.idx, &st.lane); err != nil {
				rows.Close()
				return err
			}
			own = append(own, st)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, st := range own {
			rows, err := tx.QueryContext(ctx, `SELECT r.id, max(c.id) FROM changes c JOIN records r ON r.rid = c.record
				WHERE c.id BETWEEN ? AND ? GROUP BY c.record`, changeID(st.idx, 1), changeID(st.idx, 1<<seqBits-1))
			if err != nil {
				return err
			}
			for rows.Next() {
				var id []byte
				var change int64
				if err := rows.Scan(&id, &change); err != nil {
					rows.Close()
					return err
				}
				_, seq := splitID(change)
				rid := syncproto.RecordID(id)
				f.Own[rid] = append(f.Own[rid], syncproto.Dot{Origin: self, Lane: st.lane, Seq: seq})
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		return nil
	})
	return f, s.wrap(err)
}
