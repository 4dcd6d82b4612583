// Package syncproto is the language Lifeline nodes speak to each other: the
// change that every record edit becomes, the hybrid logical clock that orders
// changes, the version vector that says what a node holds, and the canonical
// CBOR (RFC 8949) bytes that are hashed, signed and sent.
//
// Every encoding here is deterministic: the same value always gives the same
// bytes, because those bytes are hash-chained and signed by the node that
// wrote them, and every other node must be able to check them. Wire and log
// numbers (CBOR map keys) are append-only: never renumber a key, only add.
//
// Decoding takes untrusted input. Every size, depth and count is bounded (see
// Limits) and a decode error never panics.
package syncproto
