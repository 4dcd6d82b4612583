package syncproto

// Reach is what a node keeps of a deployment's streams, from the claims
// its certificate makes and the ledger's members: headquarters and the
// ledger's voters keep every stream; another relay or a field laptop the
// national ones, those of its district and its own.
type Reach struct {
	Node NodeID
	Role Role
	// District is the scope of the node's district, 0 if it has none.
	District uint8
	// Voter: the ledger names the node a voter. A voter may lead the
	// ledger, and a leader commits only the changes it holds, so a voter
	// keeps every stream, as headquarters does.
	Voter bool
}

// Keeps says whether the node keeps a stream.
func (r Reach) Keeps(st Stream) bool {
	if r.Role.Decides() || r.Voter || st.Origin == r.Node {
		return true
	}
	sc := LaneScope(st.Lane)
	return sc == National || sc == r.District && r.District != National
}

// Passes says whether a stream goes from one node to another in a session
// or a bundle: when the receiver keeps it, and when a relay is handed a
// field laptop's own streams, whatever their scope, to carry on to
// headquarters. A responder sent to another district writes in that
// district's scope, and what they write reaches headquarters through
// whichever relay they meet: nothing saved waits for the right one.
func Passes(from, to Reach, st Stream) bool {
	return to.Keeps(st) || to.Role == RoleRelay && from.Role == RoleField && st.Origin == from.Node
}
