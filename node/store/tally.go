package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Tally says what each record adds to the totals a store keeps for its
// node (headquarters' report), so that reading them does not walk every
// record. The store knows nothing of what is counted: it sums what Count
// returns, taking a record's old counts away and adding its new ones in
// the transaction that changes the record.
type Tally struct {
	// Version names Count's definition, from 1. A store computes its
	// totals again from every record when it opens (or reads them) and
	// finds them computed by another version: change it whenever Count
	// would count a record differently.
	Version int
	// Count lists what one record adds: deleted records too, for which
	// Count decides. It must depend on the record alone (not on kits or
	// settings that may change): the store calls it again only when the
	// record changes. Record.Fields' versions carry their values and
	// stamps; their Author and Ahead are not set. It runs inside the
	// store's write transaction and must not call the store.
	Count func(r *Record) []Count
}

// Count is a number one record adds to a total, named by scope (a
// district), record type and name.
type Count struct {
	Scope, Type, Name string
	N                 int64
}

// countKey names a total.
type countKey struct{ scope, typ, name string }

// ErrNoTally: the store was opened without a Tally, so it keeps no totals.
var ErrNoTally = errors.New("store keeps no totals: opened without a tally")

// Tallies returns the totals: the sum over every record of what
// Options.Tally counts, one Count per scope, type and name whose sum is
// not zero. When the totals were computed by another version of the
// tally, or by a process without one, it computes them again first.
func (s *SQLite) Tallies(ctx context.Context) ([]Count, error) {
	if s.opts.Tally == nil {
		return nil, ErrNoTally
	}
	for range 2 {
		var out []Count
		current := false
		err := s.readTx(ctx, func(tx *sql.Tx) error {
			var version int
			if err := tx.QueryRowContext(ctx, `SELECT version FROM derived WHERE name = 'tally'`).Scan(&version); err != nil {
				return err
			}
			if current = version == s.opts.Tally.Version; !current {
				return nil
			}
			var err error
			out, err = queryAll(ctx, tx, func(r scanner) (Count, error) {
				var c Count
				return c, r.Scan(&c.Scope, &c.Type, &c.Name, &c.N)
			}, `SELECT scope, type, name, n FROM tallies WHERE n != 0 ORDER BY scope, type, name`)
			return err
		})
		if err != nil || current {
			return out, err
		}
		if err := s.recompute(ctx); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("store %s: the totals keep being computed by another version of the tally", s.path)
}

// isClosed reports whether Close was called.
func (s *SQLite) isClosed() bool {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	return s.closed
}
