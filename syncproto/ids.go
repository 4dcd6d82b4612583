package syncproto

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// NodeID names a node: the first 16 bytes of the SHA-256 of its Ed25519
// public key, so that a change's origin is bound to the key that signs it.
type NodeID [16]byte

// nodeIDEncoding spells node ids in lower-case base32 without padding: short
// enough to read over a radio, with no characters that look alike.
var nodeIDEncoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// NodeIDFromKey derives a node's id from its Ed25519 public key.
func NodeIDFromKey(pub []byte) NodeID {
	sum := sha256.Sum256(pub)
	var id NodeID
	copy(id[:], sum[:16])
	return id
}

func (n NodeID) String() string { return nodeIDEncoding.EncodeToString(n[:]) }

// IsZero reports whether n is the zero id, which names no node.
func (n NodeID) IsZero() bool { return n == NodeID{} }

// Compare orders node ids bytewise; it breaks HLC ties in the merge rule.
func (n NodeID) Compare(o NodeID) int { return bytes.Compare(n[:], o[:]) }

// ParseNodeID parses the form String gives.
func ParseNodeID(s string) (NodeID, error) {
	var id NodeID
	b, err := nodeIDEncoding.DecodeString(strings.ToLower(s))
	if err != nil || len(b) != len(id) {
		return id, fmt.Errorf("%w: node id %q is not 26 base32 characters", ErrMalformed, s)
	}
	copy(id[:], b)
	return id, nil
}

// RecordID names a record. New ids are UUIDv7: time-sortable and made on a
// laptop without asking anyone. Ids that arrive with imported data may be any
// UUID version.
type RecordID [16]byte

// NewRecordID makes a fresh time-sortable record id.
func NewRecordID() RecordID {
	u, err := uuid.NewV7FromReader(rand.Reader)
	if err != nil {
		// crypto/rand never fails on the platforms Lifeline runs on.
		panic(fmt.Sprintf("syncproto: no randomness for a record id: %v", err))
	}
	return RecordID(u)
}

// ParseRecordID parses a UUID in its canonical 36-character form.
func ParseRecordID(s string) (RecordID, error) {
	if len(s) != 36 {
		return RecordID{}, fmt.Errorf("%w: record id %q is not a UUID (8-4-4-4-12 hex digits)", ErrMalformed, s)
	}
	u, err := uuid.Parse(s)
	if err != nil {
		return RecordID{}, fmt.Errorf("%w: record id %q is not a UUID (8-4-4-4-12 hex digits)", ErrMalformed, s)
	}
	return RecordID(u), nil
}

func (r RecordID) String() string { return uuid.UUID(r).String() }

// IsZero reports whether r is the zero id, which names no record.
func (r RecordID) IsZero() bool { return r == RecordID{} }

// Compare orders record ids bytewise.
func (r RecordID) Compare(o RecordID) int { return bytes.Compare(r[:], o[:]) }
