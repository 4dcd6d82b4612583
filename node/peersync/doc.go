// Package peersync runs anti-entropy sessions between two nodes over
// syncproto: each side says what it holds (its version vector), sends
// exactly what the other lacks, lane 1 (life safety) first, in compressed
// batches of signed runs, and stores what it receives batch by batch. Each
// batch holds one priority and is planned from what the store holds when
// the window has room for it, so a life-safety change stored during a
// session, by the app or by another session, goes before the bulk not yet
// sent.
//
// A session needs only a byte stream; the caller brings the mutually
// authenticated TLS connection (or a file, for a bundle) and the node's
// store and trust. One session failing, stalling or lying never affects
// another: every session has its own goroutines, deadlines and errors, and
// ends within its budgets (Config) whatever the peer sends: a message out
// of place (an acknowledgement of nothing, a batch past the window) ends it
// at once, and every step that waits watches the session's end.
package peersync
