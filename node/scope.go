package node

import (
	"context"

	"lifeline/node/identity"
	"lifeline/schemas"
	"lifeline/syncproto"
)

// Scopes. A record of a national type (missing persons, shelters) is kept
// by every node; a record of a district type (damage, relief, registrations,
// assets) by its district's nodes, headquarters and the node that wrote it
// (see syncproto.Reach). The scope is the record's lane, fixed when the
// record is made: the district its "district" field names, or the writing
// node's district when it names none.

// newLane is the lane a new record of type t is made in.
func (n *Node) newLane(t *schemas.Type, fields []syncproto.FieldChange) uint8 {
	scope := uint8(syncproto.National)
	if !t.National() {
		for _, f := range fields {
			if f.Name == "district" {
				if d, ok := syncproto.TextValue(f.Value); ok {
					scope = schemas.DistrictScope(d)
				}
			}
		}
		if scope == syncproto.National {
			scope = n.district()
		}
	}
	return syncproto.MakeLane(uint8(t.Priority), scope)
}

// reach is what a node keeps, by the claims of its certificate and
// whether this node's ledger names it a voter.
func (n *Node) reach(c identity.Claims) syncproto.Reach {
	return syncproto.Reach{Node: c.Node, Role: c.Role, District: schemas.DistrictScope(c.District), Voter: n.isVoter(c.Node)}
}

// isVoter says whether this node's ledger names a node a voter.
func (n *Node) isVoter(id syncproto.NodeID) bool {
	ms, err := n.store.LedgerMembers(context.Background())
	return err == nil && ms[id].Voter
}

// selfReach is what this node keeps: what its certificate claims, as its
// peers judge it, once it has one (a responder moved to another district
// keeps the new district's records from the certificate that says so).
func (n *Node) selfReach() syncproto.Reach {
	if c := n.Credentials(); c != nil {
		return n.reach(c.Claims)
	}
	self := n.Self()
	return syncproto.Reach{Node: self.ID, Role: self.Role, District: n.district(), Voter: n.isVoter(self.ID)}
}

// district is the scope of this node's district, as its certificate
// claims it once it has one: what selfReach says, without asking the
// ledger who votes, for each record made.
func (n *Node) district() uint8 { return schemas.DistrictScope(n.districtName()) }

// districtName is this node's district, canonical, as its certificate
// claims it once it has one: a responder moved to another district is
// signed a certificate of the new one, and the store's identity keeps the
// district the node was made in.
func (n *Node) districtName() string {
	d := n.Self().District
	if c := n.Credentials(); c != nil {
		d = c.Claims.District
	}
	canon, _ := schemas.District(d)
	return canon
}

// Scopes are the scopes whose every record this node keeps: national and
// its district's; nil, every scope, at headquarters and on a voter. Two nodes hold the
// same records of these scopes once in step: compare DigestOf(Scopes())
// on both.
func (n *Node) Scopes() []uint8 {
	return scopesOf(n.selfReach())
}

func scopesOf(r syncproto.Reach) []uint8 {
	if r.Role.Decides() || r.Voter {
		return nil
	}
	if r.District == syncproto.National {
		return []uint8{syncproto.National}
	}
	return []uint8{syncproto.National, r.District}
}
