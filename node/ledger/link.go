package ledger

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"lifeline/node/identity"
	"lifeline/syncproto"
)

// Link records a person's decision on two people records (missing-person
// reports, or a report and a shelter's registration): they are one person
// (linked), they are not (different), or an earlier decision is withdrawn
// (unlinked). A pair's state is the last Link applied for it, in ledger
// order, so that two reviewers deciding at once end the same on every
// member. It is signed like headquarters' decisions (see Signed), by the
// deciding node: an HQ node, or a relay of the district both records are
// of, which District names. As with Review, the records do not travel in
// the ledger: the state machine checks the signer against Node and
// District, the node that proposes a link checks the records' districts,
// and every node that reads a relay's decision checks them again against
// the records it holds (node.linkHolds). Headquarters names the records'
// district when they are of one, and none otherwise; its decision stands
// whatever district it names. A relay's decision takes the place only of
// one naming its district. CBOR keys are append-only.
type Link struct {
	A        syncproto.RecordID `cbor:"1,keyasint"` // A sorts before B (see PairOf)
	B        syncproto.RecordID `cbor:"2,keyasint"`
	Decision string             `cbor:"3,keyasint"` // one of LinkDecisions
	Node     syncproto.NodeID   `cbor:"4,keyasint"` // the deciding node
	District string             `cbor:"5,keyasint,omitempty"`
	At       int64              `cbor:"6,keyasint"` // Unix milliseconds, by the decider's clock
}

// A link's decisions, as the ledger holds them.
const (
	LinkLinked    = "linked"
	LinkDifferent = "different"
	LinkUnlinked  = "unlinked"
)

// LinkDecisions are the decisions a Link may carry.
var LinkDecisions = []string{LinkLinked, LinkDifferent, LinkUnlinked}

// ErrLink is wrapped by the refusal of a malformed Link.
var ErrLink = errors.New("not a link of two records")

// ErrNotLinker is wrapped by the refusal of a link that neither an HQ node
// nor a relay of both records' district signed; it wraps ErrNotHQ.
var ErrNotLinker = fmt.Errorf("%w, nor by a relay of both records' district", ErrNotHQ)

// PairOf orders two record ids as a Link holds them.
func PairOf(a, b syncproto.RecordID) (syncproto.RecordID, syncproto.RecordID) {
	if bytes.Compare(a[:], b[:]) > 0 {
		return b, a
	}
	return a, b
}

// CheckLinkDecision says whether d is one of LinkDecisions.
func CheckLinkDecision(d string) error {
	for _, ok := range LinkDecisions {
		if d == ok {
			return nil
		}
	}
	return fmt.Errorf("%w: decision %.32q is none of %s", ErrLink, d, strings.Join(LinkDecisions, ", "))
}

func (l *Link) check() error {
	switch {
	case l.A == l.B:
		return fmt.Errorf("%w: record %s linked with itself", ErrLink, l.A)
	case bytes.Compare(l.A[:], l.B[:]) > 0:
		return fmt.Errorf("%w: records %s and %s out of order", ErrLink, l.A, l.B)
	case l.Node.IsZero():
		return fmt.Errorf("%w: a decision on %s and %s with no deciding node", ErrLink, l.A, l.B)
	case len(l.District) > syncproto.MaxNameLen:
		return fmt.Errorf("%w: a district name of %d bytes", ErrLink, len(l.District))
	}
	return CheckLinkDecision(l.Decision)
}

// linker checks that the node whose claims signed a link may make it: the
// node the link names, and, if a relay, one of the district the link
// names.
func (l *Link) linker(c identity.Claims) error {
	switch {
	case c.Node != l.Node:
		return fmt.Errorf("a link in the name of %s signed by %s", l.Node, c)
	case c.Role.Decides():
		return nil
	case c.Role != syncproto.RoleRelay:
		return fmt.Errorf("a link signed by %s, a %s node", c, c.Role)
	case l.District == "" || l.District != c.District:
		return fmt.Errorf("a link of records of %q signed by %s, a relay of %s", l.District, c, c.District)
	}
	return nil
}
