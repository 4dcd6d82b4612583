// Package ledger is the ledger plane: relays and headquarters replicate,
// with hashicorp/raft, an ordered record of what must be decided once for
// everyone. Which changes have reached the ledger (so that a field laptop
// can tell a responder that HQ has their report), human-readable case
// numbers, the enrollment and revocation of nodes, published kits, and
// conflicts decided at headquarters.
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
