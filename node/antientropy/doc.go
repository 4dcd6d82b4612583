// Package antientropy keeps a node converged with the peers it finds: it
// chooses whom to sync with (relays and headquarters first, the node's own
// district first), backs off from peers that fail, syncs at once with one
// that appears or reaches the node by itself, rejoins members gossip gave
// up on, and runs a few sessions side by side.
//
// It depends on a small interface the node implements (sync one peer, what
// is unconfirmed, is this peer revoked, what do I hold) and on gossip's
// membership; it knows nothing of stores, ports or the ledger.
package antientropy
