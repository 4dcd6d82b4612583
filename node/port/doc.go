// Package port is a node's one network door. Every connection to a node is
// mutual TLS 1.3 on one TCP port, and its first byte after the handshake
// names the channel it is for: a sync session, Raft's transport, a ledger
// command forwarded to the leader. Each channel has a Door, registered
// once, that says who may open it, as a function of the peer's verified
// identity, and what is done with it: the rules of the door are in one
// place (see node.Run), and each handler checks again what it applies.
//
// Anyone who can reach the port can open connections to it, so what a
// connection may hold is bounded at each stage. Until it names its
// channel, a connection holds a place among the handshakes, which are
// bounded in all and per remote address, and it has Config.Handshake from
// its accept to do so. Once a door admits its peer, it holds a place among
// its channel's, bounded in all and per peer, and for at most the door's
// MaxTime. The stages share no places: no flood of handshakes takes a
// session's place, and no session a ledger link's. Refusals are logged by
// kind, each kind at most a few lines a second.
//
// A Dialer opens connections the same way from the other side.
//
// Handlers run concurrently, one goroutine per connection; a connection
// that fails, stalls or panics ends alone.
package port
