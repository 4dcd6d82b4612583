// Package store is a node's durable memory: the append-only change log that
// is the source of truth, the current records derived from it by the merge
// rule, the conflicts people still have to decide, and the version vector
// that says what this node holds.
//
// The only implementation is SQLite in WAL mode with synchronous=FULL: a
// write that returned success is on disk, through kill -9 and power loss.
// Several processes may use one store at once (the daemon, the desktop app,
// the command line); every write takes SQLite's write lock, reads the
// origin's head inside it, and so keeps sequences gapless and clocks
// monotonic across processes.
//
// The package declares no interface for the store. Each consumer declares
// the small one it needs and *SQLite satisfies it: node/peersync's Store
// (what a sync session or a bundle reads and writes), node/ledger's Store
// (applying entries, snapshots) and Tx (what a ledger command may write,
// inside LedgerApply). Package node holds the *SQLite and passes it on.
//
// See DESIGN.md beside this file for the merge rule and the tables.
package store
