// Package port is a node's one network door. Every connection to a node is
// mutual TLS 1.3 on one TCP port, and its first byte after the handshake
// names the channel it is for: a sync session, Raft's transport, a ledger
// command forwarded to the leader. Each channel has a Door, registered
// once, that says who may open it, as a function of the peer's verified
// identity, and what is done with it: the rules of the door are in one
// place (see node.Run), and each handler checks again what it applies.
//
// A Dialer opens connections the same way from the other side.
//
// Handlers run concurrently, one goroutine per connection; a connection
// that fails, stalls or panics ends alone.
package port
