// Package ledger is the ledger's language and its state machine: the
// commands relays and headquarters replicate (which changes reached the
// ledger, case numbers, enrollments, revocations, published kits,
// conflicts decided at headquarters), their bytes, and the deterministic
// handlers every member applies them with. It does not know Raft: package
// ledgerplane runs this state machine under hashicorp/raft, and the store
// keeps its state, so neither the store nor anything that reads the
// ledger's commands links Raft.
//
// The ledger does not carry records: they travel by sync, on any link,
// with or without quorum. A ledger entry commits a range of a stream by its
// chain head hash, which binds every byte of every change in the range; the
// changes themselves may reach a follower before or after the entry.
//
// The state machine is thin and deterministic: a command type byte selects
// a handler, unknown types are refused, and handlers read and write only the
// ledger's own tables, inside one transaction per entry.
package ledger
