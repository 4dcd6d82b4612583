package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mattn/go-sqlite3"

	"lifeline/node/identity"
	"lifeline/syncproto"
)

//go:embed sql/schema/*.sql
var migrations embed.FS

// applicationID marks a SQLite file as a Lifeline store ("LFLN"), so that
// another program's database is refused instead of being written into.
const applicationID = 0x4c464c4e

// FileName is the store's file in a node's data folder.
const FileName = "lifeline.db"

// Options configure a store.
type Options struct {
	// Key signs this node's chain heads. Required to write.
	Key *identity.Key
	// Clock stamps local changes and decides which remote ones are too far
	// ahead. A clock on time.Now with the default skew when nil.
	Clock *syncproto.Clock
	// VerifyHead checks an origin's signature over a stream's chain head for
	// changes that arrive signed. Nil skips the check; only tests and
	// trusted local tools leave it nil.
	VerifyHead func(s syncproto.Stream, seq uint64, head syncproto.Hash, sig []byte) error
	// GroupMax bounds how many writes one commit carries.
	GroupMax int
	// Admit decides whether a change from a peer merges (see Admission).
	// Nil merges every change whose signature checks.
	Admit Admission
	// Log hears of what the store drops: held changes whose signature is
	// not their origin's. Nil for none.
	Log *slog.Logger
	// Tally says what each record adds to the totals the store keeps
	// (see Tallies). Nil keeps none; a write then marks them stale.
	Tally *Tally
}

// SQLite is a node's store on a SQLite file. All methods are safe for
// concurrent use; writes return once they are durable.
type SQLite struct {
	path string
	opts Options
	self Self
	wdb  *sql.DB // one connection: SQLite has one writer
	rdb  *sql.DB
	mdb  *sql.DB // one connection for checkpoints, beside the writer
	kick chan struct{}
	// changed is signalled, without blocking, after a transaction that
	// stored changes commits.
	changed chan struct{}
	ckpt    chan struct{} // closed when checkpointLoop ends
	clock   *syncproto.Clock

	wmu sync.Mutex // serialises write transactions in this process
	// restartAt is the log's size below which no RESTART checkpoint is
	// tried again, after one that readers kept from completing (see
	// restartOn); guarded by wmu.
	restartAt int64
	// restartsKept counts the RESTART checkpoints readers kept from
	// completing: each lets the log grow by another walCheckpointBytes.
	restartsKept atomic.Int64
	reqs         chan *writeReq
	done         chan struct{}
	closeMu      sync.RWMutex
	closed       bool

	// refs is the definition of what records name the store keeps, set
	// by SetRefs under the write lock.
	refs atomic.Pointer[Refs]

	streamMu  sync.Mutex
	streamIdx map[syncproto.Stream]int64 // streams are append-only: safe to cache
	streamOf  map[int64]syncproto.Stream
}

// driverName is go-sqlite3 with a hook that sets what the DSN cannot: this
// process never checkpoints on commit, and a log that starts again is cut
// back to walCheckpointBytes. A commit that also copied the log into the
// database would make a bulk import's commit three times slower;
// checkpoints run beside the writers instead (see checkpointLoop), a
// writer runs one only when the checkpointer falls behind (see
// waitLog), and SQLite runs one when the last connection closes.
const driverName = "sqlite3-lifeline"

func init() {
	sql.Register(driverName, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		if _, err := c.Exec("PRAGMA wal_autocheckpoint = 0", nil); err != nil {
			return err
		}
		_, err := c.Exec(fmt.Sprintf("PRAGMA journal_size_limit = %d", walCheckpointBytes), nil)
		return err
	}})
}

// busyTimeout is how long a connection waits for another process's lock
// before it fails.
const busyTimeout = 15 * time.Second

func dsn(path string, readOnly bool) string {
	q := fmt.Sprintf("_journal_mode=WAL&_synchronous=FULL&_busy_timeout=%d&_foreign_keys=off", busyTimeout.Milliseconds())
	if readOnly {
		q += "&_query_only=true&_txlock=deferred&_cache_size=-4096"
	} else {
		// A node keeps its memory small (a relay serves many peers on a
		// small machine); a bulk import enlarges the writer's cache for
		// its own transaction (see Import).
		q += "&_cache_size=-8192"
		// Writers take the lock when they begin, so that two processes
		// never both read a head and then both try to extend it.
		q += "&_txlock=immediate"
	}
	// The path is escaped as a URI's: SQLite reads "file:" names as URIs,
	// in which '#' and '?' would end the path and '%' begin an escape, so
	// that a folder called "NEMO #2" opened the file "NEMO ".
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q
}

// Create makes a new, empty store for this node. It refuses to touch an
// existing file.
func Create(ctx context.Context, path string, self Self, opts Options) (*SQLite, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: create %s: %w", path, err)
	}
	f.Close()
	db, err := sql.Open(driverName, dsn(path, false))
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d", applicationID)); err != nil {
		return nil, fmt.Errorf("store: create %s: %w", path, err)
	}
	if err := migrate(ctx, db, path); err != nil {
		return nil, err
	}
	if self.Created == "" {
		self.Created = time.Now().UTC().Format(time.RFC3339)
	}
	_, err = db.ExecContext(ctx, `INSERT INTO node (id, node_id, name, role, district, created) VALUES (1, ?, ?, ?, ?, ?)`,
		self.ID[:], self.Name, self.Role, self.District, self.Created)
	if err != nil {
		return nil, fmt.Errorf("store: create %s: %w", path, err)
	}
	if err := db.Close(); err != nil {
		return nil, err
	}
	return Open(ctx, path, opts)
}

// Open opens an existing store, upgrading its schema if it is older.
func Open(ctx context.Context, path string, opts Options) (*SQLite, error) {
	if err := checkFile(path); err != nil {
		return nil, err
	}
	wdb, err := sql.Open(driverName, dsn(path, false))
	if err != nil {
		return nil, err
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetConnMaxIdleTime(0)
	rdb, err := sql.Open(driverName, dsn(path, true))
	if err != nil {
		wdb.Close()
		return nil, err
	}
	rdb.SetMaxOpenConns(4)
	mdb, err := sql.Open(driverName, dsn(path, false))
	if err != nil {
		wdb.Close()
		rdb.Close()
		return nil, err
	}
	mdb.SetMaxOpenConns(1)
	s := &SQLite{path: path, opts: opts, wdb: wdb, rdb: rdb, mdb: mdb, clock: opts.Clock,
		kick: make(chan struct{}, 1), ckpt: make(chan struct{}), changed: make(chan struct{}, 1),
		reqs: make(chan *writeReq, 1024), done: make(chan struct{}),
		streamIdx: map[syncproto.Stream]int64{}, streamOf: map[int64]syncproto.Stream{}}
	if s.clock == nil {
		s.clock = syncproto.NewClock(nil, 0)
	}
	if s.opts.GroupMax <= 0 {
		s.opts.GroupMax = 512
	}
	if err := s.open(ctx); err != nil {
		wdb.Close()
		rdb.Close()
		mdb.Close()
		return nil, err
	}
	go s.commitLoop()
	go s.checkpointLoop()
	return s, nil
}

func (s *SQLite) open(ctx context.Context) error {
	if err := migrate(ctx, s.wdb, s.path); err != nil {
		return err
	}
	var id []byte
	err := s.rdb.QueryRowContext(ctx, `SELECT node_id, name, role, district, created FROM node WHERE id = 1`).
		Scan(&id, &s.self.Name, &s.self.Role, &s.self.District, &s.self.Created)
	if err != nil {
		return s.wrap(fmt.Errorf("read node identity: %w", err))
	}
	copy(s.self.ID[:], id)
	if s.opts.Key != nil && s.opts.Key.ID() != s.self.ID {
		return fmt.Errorf("store: %s belongs to node %s, but the key is node %s's", s.path, s.self.ID, s.opts.Key.ID())
	}
	return s.catchUp(ctx)
}

// checkFile refuses files that are not Lifeline stores, or are cut short,
// before SQLite gets a chance to treat them as an empty database.
func checkFile(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %s does not exist", ErrNotStore, path)
	}
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	var h [100]byte
	if _, err := io.ReadFull(f, h[:]); err != nil {
		return fmt.Errorf("%w: %s is %d bytes, too short for a database header (was it truncated?)", ErrCorrupt, path, fi.Size())
	}
	if string(h[:16]) != "SQLite format 3\x00" {
		return fmt.Errorf("%w: %s is not a SQLite database", ErrNotStore, path)
	}
	if id := binary.BigEndian.Uint32(h[68:72]); id != applicationID {
		return fmt.Errorf("%w: %s is a SQLite database of another program (application id %#x)", ErrNotStore, path, id)
	}
	pageSize := int64(binary.BigEndian.Uint16(h[16:18]))
	if pageSize == 1 {
		pageSize = 65536
	}
	pages := int64(binary.BigEndian.Uint32(h[28:32]))
	counterValid := binary.BigEndian.Uint32(h[24:28]) == binary.BigEndian.Uint32(h[92:96])
	// While a write-ahead log exists, a checkpoint cut short may have
	// written the header before the pages; the log still holds them and
	// SQLite completes the checkpoint. Without one, the file must be whole.
	wal, err := os.Stat(path + "-wal")
	hasWAL := err == nil && wal.Size() > 0
	if counterValid && !hasWAL && pages*pageSize > fi.Size() {
		return fmt.Errorf("%w: %s is cut short: %d bytes where its header says %d (restore it from a backup or sync it again from a peer)",
			ErrCorrupt, path, fi.Size(), pages*pageSize)
	}
	return nil
}

// wrap names the store in SQLite's errors and turns its corruption errors
// into ErrCorrupt. Other errors (a caller's, or already explained) pass
// through as they are.
func (s *SQLite) wrap(err error) error {
	var se sqlite3.Error
	if !errors.As(err, &se) {
		return err
	}
	if se.Code == sqlite3.ErrCorrupt || se.Code == sqlite3.ErrNotADB {
		return fmt.Errorf("%w: %s: %v (restore it from a backup or sync it again from a peer)", ErrCorrupt, s.path, err)
	}
	if se.Code == sqlite3.ErrFull {
		return fmt.Errorf("store %s: the disk is full; nothing was saved: free space and try again: %w", s.path, err)
	}
	return fmt.Errorf("store %s: %w", s.path, err)
}

// migrate runs the migrations the file has not had yet, each in its own
// transaction.
func migrate(ctx context.Context, db *sql.DB, file string) error {
	names, err := fs.Glob(migrations, "sql/schema/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	var have int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&have); err != nil {
		return wrapOpen(file, err)
	}
	if have > len(names) {
		return fmt.Errorf("%w: %s has schema version %d, this Lifeline knows up to %d; use a newer Lifeline", ErrNewer, file, have, len(names))
	}
	for i := have; i < len(names); i++ {
		body, err := migrations.ReadFile(names[i])
		if err != nil {
			return err
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return wrapOpen(file, err)
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("store %s: migration %s: %w", file, path.Base(names[i]), err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", i+1)); err != nil {
			tx.Rollback()
			return wrapOpen(file, err)
		}
		if err := tx.Commit(); err != nil {
			return wrapOpen(file, err)
		}
	}
	return nil
}

func wrapOpen(file string, err error) error {
	var se sqlite3.Error
	if errors.As(err, &se) && (se.Code == sqlite3.ErrCorrupt || se.Code == sqlite3.ErrNotADB) {
		return fmt.Errorf("%w: %s: %v", ErrCorrupt, file, err)
	}
	return fmt.Errorf("store %s: %w", file, err)
}

// Self returns this node's identity.
func (s *SQLite) Self() Self { return s.self }

// Path is the store's file.
func (s *SQLite) Path() string { return s.path }

// IntegrityCheck runs PRAGMA integrity_check.
func (s *SQLite) IntegrityCheck(ctx context.Context) (string, error) {
	rows, err := s.rdb.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return "", s.wrap(err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var l string
		if err := rows.Scan(&l); err != nil {
			return "", s.wrap(err)
		}
		lines = append(lines, l)
	}
	return strings.Join(lines, "\n"), s.wrap(rows.Err())
}

// Close waits for writes in flight and closes the store.
func (s *SQLite) Close() error {
	s.closeMu.Lock()
	if s.closed {
		s.closeMu.Unlock()
		return nil
	}
	s.closed = true
	close(s.reqs)
	s.closeMu.Unlock()
	<-s.done
	close(s.kick)
	<-s.ckpt
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return errors.Join(s.mdb.Close(), s.rdb.Close(), s.wdb.Close())
}

// lockWrite takes this process's write lock, unless the store is closed
// (ErrClosed). Close waits for the holder to call unlockWrite.
func (s *SQLite) lockWrite() error {
	s.closeMu.RLock()
	if s.closed {
		s.closeMu.RUnlock()
		return ErrClosed
	}
	s.wmu.Lock()
	s.waitLog()
	return nil
}

// unlockWrite releases what lockWrite took.
func (s *SQLite) unlockWrite() {
	s.wmu.Unlock()
	s.closeMu.RUnlock()
}

// lockTx takes the write lock and begins a transaction. end rolls the
// transaction back, unless it was committed, and releases the lock.
func (s *SQLite) lockTx(ctx context.Context) (tx *sql.Tx, end func(), err error) {
	if err := s.lockWrite(); err != nil {
		return nil, nil, err
	}
	if tx, err = s.wdb.BeginTx(ctx, nil); err != nil {
		s.unlockWrite()
		return nil, nil, s.wrap(err)
	}
	return tx, func() { tx.Rollback(); s.unlockWrite() }, nil
}

// lockTxn is lockTx for a transaction that writes changes.
func (s *SQLite) lockTxn(ctx context.Context) (t *txn, end func(), err error) {
	if err := s.lockWrite(); err != nil {
		return nil, nil, err
	}
	if t, err = s.begin(ctx); err != nil {
		s.unlockWrite()
		return nil, nil, err
	}
	return t, func() { t.rollback(); s.unlockWrite() }, nil
}

// The write-ahead log's bounds (docs/architecture.md, "Storage"). Past
// walCheckpointBytes, a checkpoint copies the log into the database beside
// the writers, then holds them back for a moment while it copies what
// they committed meanwhile, so that the next commit starts the log again
// from its beginning; journal_size_limit (set on every connection) then
// cuts the file back to walCheckpointBytes. Past walRestartBytes (the
// checkpointer fell behind), the next writer does the same itself before
// its transaction begins. The log file so stays under
// walRestartBytes plus one transaction, however long a sync session or a
// run of edits goes on, unless a reader holds one snapshot for longer
// than walRestartWait each time. They are variables only so that a test
// can show the bound with a shorter session; nothing else changes them.
var (
	walCheckpointBytes int64 = 32 << 20
	walRestartBytes    int64 = 64 << 20
)

// walRestartWait is how long a checkpoint that restarts the log waits for
// readers to leave it, with this process's writers held back. If they do
// not leave, the next try waits until the log has grown by another
// walCheckpointBytes.
const walRestartWait = 2 * time.Second

// checkpointLoop runs checkpoints on their own connection after commits
// that leave a log past walCheckpointBytes, so that no commit waits for
// the bulk of the copying.
//
// A PASSIVE checkpoint never catches up with a writer that commits again
// and again: the log starts again from its beginning only when a writer
// begins while every frame of it is copied and no reader still reads one,
// and a sync session or a burst of edits leaves no such moment. So after
// the PASSIVE copy, the loop takes the write lock and runs a RESTART
// checkpoint, which copies what was committed meanwhile and waits for
// readers still on the log.
func (s *SQLite) checkpointLoop() {
	defer close(s.ckpt)
	for range s.kick {
		// A checkpoint that fails (busy, disk full) is retried after a
		// later commit; nothing depends on it but the log's size.
		if _, err := s.mdb.Exec("PRAGMA wal_checkpoint(PASSIVE)"); err != nil {
			continue
		}
		s.wmu.Lock()
		if size := s.walSize(); size > walCheckpointBytes && size >= s.restartAt {
			s.restartOn(s.mdb, size)
		}
		s.wmu.Unlock()
	}
}

// walSize is the size of the log file, 0 when there is none.
func (s *SQLite) walSize() int64 {
	fi, err := os.Stat(s.path + "-wal")
	if err != nil {
		return 0
	}
	return fi.Size()
}

// committed tells the checkpointer a transaction has committed. The
// caller holds the write lock.
func (s *SQLite) committed() {
	if s.walSize() <= walCheckpointBytes {
		s.restartAt = 0
		return
	}
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// waitLog is called with the write lock held, before a write transaction
// begins. When the checkpointer has fallen behind and the log is past
// walRestartBytes, the writer restarts the log itself first
// (back-pressure). A writer that has just committed a large transaction
// (an import) does not wait for it: the next one does.
func (s *SQLite) waitLog() {
	if size := s.walSize(); size > walRestartBytes && size >= s.restartAt {
		s.restartOn(s.wdb, size)
	}
}

// restartOn runs a RESTART checkpoint on a connection of db; the caller
// holds the write lock. When readers keep it from completing, the next
// try waits until the log has grown by another walCheckpointBytes.
func (s *SQLite) restartOn(db *sql.DB, size int64) {
	if s.restart(db) {
		s.restartAt = 0
	} else {
		s.restartAt = size + walCheckpointBytes
		s.restartsKept.Add(1)
	}
}

// restart runs a RESTART checkpoint on a connection of db and says
// whether it completed.
func (s *SQLite) restart(db *sql.DB) bool {
	ctx := context.Background()
	c, err := db.Conn(ctx)
	if err != nil {
		return false
	}
	defer c.Close()
	// The connection waits for readers with its busy handler; it gets
	// back its usual patience before it goes back to the pool, or is
	// dropped.
	if _, err := c.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", walRestartWait.Milliseconds())); err != nil {
		return false
	}
	defer func() {
		if _, err := c.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", busyTimeout.Milliseconds())); err != nil {
			c.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	var busy, logFrames, copied int
	err = c.QueryRowContext(ctx, "PRAGMA wal_checkpoint(RESTART)").Scan(&busy, &logFrames, &copied)
	return err == nil && busy == 0
}

// Changed receives after changes were stored (an import, a sync, a
// record saved), once for any number of transactions since it was last
// read: for one reader that then looks at what is new.
func (s *SQLite) Changed() <-chan struct{} { return s.changed }

// stream returns the local index of a stream, adding it if create is set
// (then q must be a write transaction).
func (s *SQLite) stream(ctx context.Context, q querier, st syncproto.Stream, create bool) (int64, bool, error) {
	s.streamMu.Lock()
	idx, ok := s.streamIdx[st]
	s.streamMu.Unlock()
	if ok {
		return idx, true, nil
	}
	err := q.QueryRowContext(ctx, `SELECT idx FROM streams WHERE node_id = ? AND lane = ?`, st.Origin[:], st.Lane).Scan(&idx)
	if errors.Is(err, sql.ErrNoRows) {
		if !create {
			return 0, false, nil
		}
		err = q.QueryRowContext(ctx, `INSERT INTO streams (node_id, lane) VALUES (?, ?) RETURNING idx`, st.Origin[:], st.Lane).Scan(&idx)
		if err != nil {
			return 0, false, err
		}
		// Not cached: the transaction that added it may still roll back.
		return idx, true, nil
	}
	if err != nil {
		return 0, false, err
	}
	s.cacheStream(st, idx)
	return idx, true, nil
}

func (s *SQLite) cacheStream(st syncproto.Stream, idx int64) {
	s.streamMu.Lock()
	s.streamIdx[st] = idx
	s.streamOf[idx] = st
	s.streamMu.Unlock()
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// scanner is a row to read: an *sql.Row, or the current row of *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// queryAll runs query on q and reads each row it returns with scan, in
// order.
func queryAll[T any](ctx context.Context, q querier, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
