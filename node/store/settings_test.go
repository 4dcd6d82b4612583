//go:build !mutate

package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"runtime"
	"testing"

	"lifeline/syncproto"
)

// Left out of a mutation run (the mutate tag): it checks the settings
// that make a write durable, not how a change merges.

// connSettings is what one SQLite connection says of itself.
type connSettings struct {
	journalMode    string
	synchronous    int // 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA
	busyTimeout    int // milliseconds
	foreignKeys    int
	queryOnly      int
	walAutoCkpoint int // pages; 0 when commits never checkpoint
	journalLimit   int64
}

func readSettings(ctx context.Context, c *sql.Conn) (connSettings, error) {
	var s connSettings
	for _, p := range []struct {
		pragma string
		into   any
	}{
		{"journal_mode", &s.journalMode},
		{"synchronous", &s.synchronous},
		{"busy_timeout", &s.busyTimeout},
		{"foreign_keys", &s.foreignKeys},
		{"query_only", &s.queryOnly},
		{"wal_autocheckpoint", &s.walAutoCkpoint},
		{"journal_size_limit", &s.journalLimit},
	} {
		if err := c.QueryRowContext(ctx, "PRAGMA "+p.pragma).Scan(p.into); err != nil {
			return s, err
		}
	}
	return s, nil
}

// Every connection the store opens, to write, to read or to checkpoint,
// new or used before, runs with the settings that make a saved write
// survive a power cut: the write-ahead log, fsynced at every commit
// (synchronous FULL; NORMAL in WAL mode loses the last commits on power
// loss). A writer waits for another process's write lock instead of
// failing at once, no commit copies the log into the database, a log
// that starts again is cut back to 32 MiB, and the read connections cannot
// write. SQLite applies these per connection, so
// a connection opened without them would go unnoticed by any test that
// only looks at one.
func TestEveryConnectionIsDurable(t *testing.T) {
	s, _ := newStore(t, Options{})
	ctx := context.Background()
	pools := []struct {
		name     string
		db       *sql.DB
		conns    int // at once: the pool's size
		readOnly bool
	}{
		{"write", s.wdb, 1, false},
		{"read", s.rdb, 4, true},
		{"checkpoint", s.mdb, 1, false},
	}
	for _, p := range pools {
		seen := map[any]int{} // driver connection: rounds it was checked in
		// Kept so that no closed connection's memory is reused for a new
		// one, which would then look like the old one reused.
		var kept []any
		const rounds = 5
		for round := range rounds {
			// The store uses its pools between rounds, as it does in use.
			if _, err := s.Write(ctx, []Edit{edit(t, syncproto.NewRecordID(), true, "notes", "round")}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Vector(ctx); err != nil {
				t.Fatal(err)
			}
			conns := make([]*sql.Conn, p.conns)
			for i := range conns {
				c, err := p.db.Conn(ctx)
				if err != nil {
					t.Fatal(err)
				}
				conns[i] = c
				var dc any
				c.Raw(func(d any) error { dc = d; return nil })
				kept = append(kept, dc)
				seen[dc]++
				got, err := readSettings(ctx, c)
				if err != nil {
					t.Fatalf("%s pool, round %d: %v", p.name, round, err)
				}
				if got.journalMode != "wal" {
					t.Errorf("%s pool, round %d, connection %d: journal_mode %q, want wal", p.name, round, i, got.journalMode)
				}
				if got.synchronous < 2 {
					t.Errorf("%s pool, round %d, connection %d: synchronous %d, want 2 (FULL): a commit must be on disk when it returns",
						p.name, round, i, got.synchronous)
				}
				if got.busyTimeout < 5000 {
					t.Errorf("%s pool, round %d, connection %d: busy_timeout %d ms: another process's commit would make this one fail",
						p.name, round, i, got.busyTimeout)
				}
				if got.foreignKeys != 0 {
					t.Errorf("%s pool, round %d, connection %d: foreign_keys %d, want 0 as the store declares", p.name, round, i, got.foreignKeys)
				}
				if got.walAutoCkpoint != 0 {
					t.Errorf("%s pool, round %d, connection %d: wal_autocheckpoint %d, want 0: a commit must not run a checkpoint",
						p.name, round, i, got.walAutoCkpoint)
				}
				if got.journalLimit != 32<<20 {
					t.Errorf("%s pool, round %d, connection %d: journal_size_limit %d, want 32 MiB: a log that starts again must shrink back",
						p.name, round, i, got.journalLimit)
				}
				if want := map[bool]int{true: 1, false: 0}[p.readOnly]; got.queryOnly != want {
					t.Errorf("%s pool, round %d, connection %d: query_only %d, want %d", p.name, round, i, got.queryOnly, want)
				}
			}
			// Every other round one connection goes back as broken, so
			// that the pool opens a new one for the next; the others go
			// back to be reused.
			if round%2 == 1 {
				conns[0].Raw(func(any) error { return driver.ErrBadConn })
				conns = conns[1:]
			}
			for _, c := range conns {
				c.Close()
			}
		}
		reused := 0
		for _, n := range seen {
			if n > 1 {
				reused++
			}
		}
		// The first round's connections, and at least one new after each
		// broken one that a round followed (more where the pool keeps
		// fewer idle than it opens).
		if want := p.conns + (rounds-1)/2; len(seen) < want {
			t.Errorf("%s pool: %d connections checked, want at least %d", p.name, len(seen), want)
		}
		if reused == 0 {
			t.Errorf("%s pool: no connection was checked again after its reuse", p.name)
		}
		t.Logf("%s pool: %d connections, %d of them checked again after reuse", p.name, len(seen), reused)
		runtime.KeepAlive(kept)
	}
}
