package ledger

import (
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"lifeline/node/identity"
	"lifeline/syncproto"
)

// CommandType numbers ledger commands. ONLY APPEND TO THIS LIST: entries
// already in a Raft log are read with these numbers forever.
type CommandType uint8

const (
	CmdCommit  CommandType = 1 // changes reached the ledger
	CmdEnroll  CommandType = 2 // headquarters enrolled a node
	CmdRevoke  CommandType = 3 // headquarters revoked a node
	CmdKit     CommandType = 4 // headquarters published a kit
	CmdResolve CommandType = 5 // headquarters decided a conflict
	CmdSigned  CommandType = 6 // one of headquarters' decisions, signed (see Signed)
	CmdMember  CommandType = 7 // headquarters changed a relay's part in the ledger
	CmdReview  CommandType = 8 // headquarters, or a relay of the record's district, reviewed a record
	CmdLink    CommandType = 9 // headquarters, or a relay of both records' district, decided whether two records are one person
)

func (t CommandType) String() string {
	switch t {
	case CmdCommit:
		return "commit"
	case CmdEnroll:
		return "enroll"
	case CmdRevoke:
		return "revoke"
	case CmdKit:
		return "kit"
	case CmdResolve:
		return "resolve"
	case CmdSigned:
		return "signed decision"
	case CmdMember:
		return "member"
	case CmdReview:
		return "review"
	case CmdLink:
		return "link"
	}
	return fmt.Sprintf("command %d", uint8(t))
}

// Commit says changes reached the ledger: for each range, a stream's
// changes From to To, bound by the chain head at To; and the records they
// create, which get case numbers.
type Commit struct {
	Ranges []Range     `cbor:"1,keyasint"`
	New    []NewRecord `cbor:"2,keyasint,omitempty"`
}

// Range is consecutive changes of one stream.
type Range struct {
	_      struct{} `cbor:",toarray"`
	Stream syncproto.Stream
	From   uint64
	To     uint64
	Head   syncproto.Hash
}

// NewRecord is a record a commit creates: its case number is
// <district code>-<year>-<sequence>.
type NewRecord struct {
	_        struct{} `cbor:",toarray"`
	Record   syncproto.RecordID
	District string // three-letter code, e.g. CYO
	Year     uint16
}

// Enroll records a node headquarters enrolled: its certificate (DER). A
// relay or HQ enrolled is a member of the ledger: HQ a voter, a relay a
// non-voter unless Voter.
type Enroll struct {
	Cert  []byte `cbor:"1,keyasint"`
	Voter bool   `cbor:"2,keyasint,omitempty"`
	// Addr is where the member's port is, if headquarters knows: the
	// leader finds members where gossip says they are, and here when
	// gossip does not say.
	Addr string `cbor:"3,keyasint,omitempty"`
}

// Member changes an enrolled relay's or HQ's part in the ledger: a voter,
// a non-voter, or (Remove) no member at all.
type Member struct {
	Node   syncproto.NodeID `cbor:"1,keyasint"`
	Voter  bool             `cbor:"2,keyasint,omitempty"`
	Remove bool             `cbor:"3,keyasint,omitempty"`
	Addr   string           `cbor:"4,keyasint,omitempty"` // as Enroll.Addr
}

// Enrolled is what an enrollment tells every node: the certificate and the
// claims in it.
type Enrolled struct {
	Node     syncproto.NodeID
	Name     string
	Role     syncproto.Role
	District string
	Cert     []byte
	NotAfter time.Time
}

// ReadEnrolled checks an enrolled node's certificate against the
// deployment's CA and reads its claims, as the state machine does when it
// applies an enrollment and a store when it restores one from a snapshot.
func ReadEnrolled(der []byte, ca *x509.Certificate) (Enrolled, error) {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return Enrolled{}, err
	}
	c, err := identity.VerifyOrigin(cert, ca)
	if err != nil {
		return Enrolled{}, err
	}
	return Enrolled{Node: c.Node, Name: c.Name, Role: c.Role, District: c.District, Cert: der, NotAfter: cert.NotAfter}, nil
}

// Revoke withdraws trust from a node. Trusted is, per stream of the node,
// the last change still trusted: what headquarters held of it when it
// decided. Every node refuses the node's later changes, whoever brings
// them.
type Revoke struct {
	Node    syncproto.NodeID `cbor:"1,keyasint"`
	Reason  string           `cbor:"2,keyasint"`
	At      int64            `cbor:"3,keyasint"` // Unix milliseconds, as the proposer saw it
	By      syncproto.NodeID `cbor:"4,keyasint"`
	Trusted syncproto.Vector `cbor:"5,keyasint,omitempty"`
}

// Kit publishes a kit file.
type Kit struct {
	Name    string `cbor:"1,keyasint"`
	Version string `cbor:"2,keyasint"`
	Body    []byte `cbor:"3,keyasint"` // the YAML file
}

// Resolve records that headquarters decided a field in conflict, with the
// change that replaced every version.
type Resolve struct {
	Record syncproto.RecordID `cbor:"1,keyasint"`
	Field  string             `cbor:"2,keyasint"`
	Change syncproto.Dot      `cbor:"3,keyasint"`
	By     string             `cbor:"4,keyasint"`
	At     int64              `cbor:"5,keyasint"`
}

// Bounds on entries: a Raft log entry is read by every voter.
const (
	MaxEntryBytes = 16 << 20
	MaxRanges     = 1 << 16
	MaxNew        = 1 << 18
	maxText       = 1024
	maxAddr       = 256
)

// Encode makes a log entry: the type byte, then the command's CBOR.
func Encode(t CommandType, cmd any) ([]byte, error) {
	b, err := syncproto.Marshal(cmd)
	if err != nil {
		return nil, err
	}
	if len(b)+1 > MaxEntryBytes {
		return nil, fmt.Errorf("ledger: a %s of %d bytes, the limit is %d", t, len(b), MaxEntryBytes)
	}
	return append([]byte{byte(t)}, b...), nil
}

// Decode reads a log entry, refusing unknown types and anything out of
// bounds.
func Decode(entry []byte) (CommandType, any, error) {
	if len(entry) == 0 || len(entry) > MaxEntryBytes {
		return 0, nil, fmt.Errorf("ledger: an entry of %d bytes", len(entry))
	}
	t, body := CommandType(entry[0]), entry[1:]
	switch {
	case t == CmdCommit:
	case t == CmdSigned:
		d, err := decodeSigned(body)
		if err != nil {
			return t, nil, fmt.Errorf("ledger: %s: %w", t, err)
		}
		return t, d, nil
	case IsDecision(t):
		return t, nil, fmt.Errorf("ledger: a %s that headquarters did not sign", t)
	default:
		return t, nil, fmt.Errorf("ledger: unknown %s", t)
	}
	cmd, err := decodeCommand(t, body)
	return t, cmd, err
}

// decodeCommand decodes and checks one command's CBOR.
func decodeCommand(t CommandType, body []byte) (any, error) {
	var cmd any
	switch t {
	case CmdCommit:
		cmd = &Commit{}
	case CmdEnroll:
		cmd = &Enroll{}
	case CmdRevoke:
		cmd = &Revoke{}
	case CmdKit:
		cmd = &Kit{}
	case CmdResolve:
		cmd = &Resolve{}
	case CmdMember:
		cmd = &Member{}
	case CmdReview:
		cmd = &Review{}
	case CmdLink:
		cmd = &Link{}
	default:
		return nil, fmt.Errorf("ledger: unknown %s", t)
	}
	if err := syncproto.Unmarshal(body, cmd); err != nil {
		return nil, fmt.Errorf("ledger: %s: %w", t, err)
	}
	if err := check(cmd); err != nil {
		return nil, fmt.Errorf("ledger: %s: %w", t, err)
	}
	return cmd, nil
}

func check(cmd any) error {
	switch c := cmd.(type) {
	case *Commit:
		if len(c.Ranges) > MaxRanges || len(c.New) > MaxNew {
			return fmt.Errorf("%d ranges and %d records", len(c.Ranges), len(c.New))
		}
		for _, r := range c.Ranges {
			if r.From == 0 || r.To < r.From || !syncproto.ValidLane(r.Stream.Lane) {
				return fmt.Errorf("range %s %d-%d", r.Stream, r.From, r.To)
			}
		}
		for _, n := range c.New {
			if len(n.District) != 3 {
				return fmt.Errorf("district code %q", n.District)
			}
		}
	case *Revoke:
		if c.Node.IsZero() || len(c.Reason) > maxText || len(c.Trusted) > syncproto.MaxNodeStreams {
			return fmt.Errorf("revocation of %s", c.Node)
		}
		for st := range c.Trusted {
			if st.Origin != c.Node {
				return fmt.Errorf("revocation of %s trusts a stream of %s", c.Node, st.Origin)
			}
		}
	case *Kit:
		if c.Name == "" || len(c.Name) > syncproto.MaxNameLen || len(c.Version) > 32 {
			return fmt.Errorf("kit %q %q", c.Name, c.Version)
		}
	case *Resolve:
		if len(c.Field) > syncproto.MaxNameLen || len(c.By) > syncproto.MaxAuthorLen {
			return fmt.Errorf("resolution of %s", c.Record)
		}
	case *Enroll:
		if len(c.Cert) == 0 || len(c.Cert) > syncproto.MaxCertBytes {
			return fmt.Errorf("a certificate of %d bytes", len(c.Cert))
		}
		if len(c.Addr) > maxAddr {
			return fmt.Errorf("an address of %d bytes", len(c.Addr))
		}
	case *Member:
		if c.Node.IsZero() || len(c.Addr) > maxAddr {
			return errors.New("a member with no node id, or an address too long")
		}
	case *Review:
		if c.Node.IsZero() || len(c.District) > syncproto.MaxNameLen {
			return fmt.Errorf("a review of %s with no reviewer, or a district name too long", c.Record)
		}
		if err := CheckReview(c.Decision, c.Reason); err != nil {
			return fmt.Errorf("review of %s: %w", c.Record, err)
		}
	case *Link:
		return c.check()
	}
	return nil
}

// Review records that a record was reviewed: approved, sent back for a
// correction, or rejected, with the reason. It is signed like
// headquarters' decisions (see Signed), by the reviewing node: an HQ node,
// or a relay of the record's district, which District names as the
// reviewer holds the record. The state machine checks the signer against
// Node and District; the record itself does not travel in the ledger, so
// every node that takes the review into a record checks the record's
// district again (node.admitReview). CBOR keys are append-only.
type Review struct {
	Record   syncproto.RecordID `cbor:"1,keyasint"`
	Decision string             `cbor:"2,keyasint"` // one of ReviewDecisions
	Reason   string             `cbor:"3,keyasint,omitempty"`
	Node     syncproto.NodeID   `cbor:"4,keyasint"` // the reviewing node
	District string             `cbor:"5,keyasint,omitempty"`
	At       int64              `cbor:"6,keyasint"` // Unix milliseconds, by the reviewer's clock
}

// A review's decisions, as they are written in the ledger and in records.
const (
	ReviewApproved        = "approved"
	ReviewNeedsCorrection = "needs-correction"
	ReviewRejected        = "rejected"
)

// ReviewDecisions are the decisions a review may carry.
var ReviewDecisions = []string{ReviewApproved, ReviewNeedsCorrection, ReviewRejected}

// MaxReviewReason bounds a review's reason, in characters.
const MaxReviewReason = 500

// ErrReview is wrapped by the refusal of a review's decision or reason.
var ErrReview = errors.New("not a review")

// CheckReview says what is wrong with a review's decision and reason: the
// decision must be one of ReviewDecisions; a correction asked for or a
// rejection needs a reason, of at most MaxReviewReason characters of
// UTF-8 text without control characters.
func CheckReview(decision, reason string) error {
	switch decision {
	case ReviewApproved, ReviewNeedsCorrection, ReviewRejected:
	default:
		return fmt.Errorf("%w: decision %.32q is none of %s", ErrReview, decision, strings.Join(ReviewDecisions, ", "))
	}
	if !utf8.ValidString(reason) {
		return fmt.Errorf("%w: the reason is not UTF-8 text", ErrReview)
	}
	if n := utf8.RuneCountInString(reason); n > MaxReviewReason {
		return fmt.Errorf("%w: a reason of %d characters; at most %d", ErrReview, n, MaxReviewReason)
	}
	if strings.ContainsFunc(reason, unicode.IsControl) {
		return fmt.Errorf("%w: the reason holds a control character (a line break?): write it on one line", ErrReview)
	}
	if decision != ReviewApproved && strings.TrimSpace(reason) == "" {
		return fmt.Errorf("%w: a decision %s needs a reason, e.g. \"wrong village\"", ErrReview, decision)
	}
	return nil
}

// reviewer checks that the node whose claims signed a review may make it:
// the node the review names, and, if a relay, one of the district the
// review names.
func (r *Review) reviewer(c identity.Claims) error {
	switch {
	case c.Node != r.Node:
		return fmt.Errorf("a review in the name of %s signed by %s", r.Node, c)
	case c.Role.Decides():
		return nil
	case c.Role != syncproto.RoleRelay:
		return fmt.Errorf("a review signed by %s, a %s node", c, c.Role)
	case r.District == "" || r.District != c.District:
		return fmt.Errorf("a review of a record of %q signed by %s, a relay of %s", r.District, c, c.District)
	}
	return nil
}
