package syncproto

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"

	"github.com/fxamacker/cbor/v2"
)

// DeletedField is the pseudo-field that carries a record's tombstone. It is a
// register like any other, so a deletion and a concurrent edit merge by the
// same rule, and an undelete is just another change.
const DeletedField = "_deleted"

// Change is the unit of replication: one node's edit of one record. Its
// canonical bytes are what is stored, hash-chained, signed and sent; nodes
// carry them verbatim and never re-encode a change they did not write.
//
// CBOR keys are append-only: never renumber.
type Change struct {
	Origin  NodeID        `cbor:"1,keyasint"`
	Lane    uint8         `cbor:"2,keyasint"` // the record type's sync priority
	Seq     uint64        `cbor:"3,keyasint"` // gapless per origin and lane, from 1
	HLC     HLC           `cbor:"4,keyasint"`
	Record  RecordID      `cbor:"5,keyasint"`
	Kit     string        `cbor:"6,keyasint"`
	Type    string        `cbor:"7,keyasint"`
	Version uint32        `cbor:"8,keyasint"` // schema version the author's kit had
	Author  string        `cbor:"9,keyasint,omitempty"`
	Fields  []FieldChange `cbor:"10,keyasint"` // sorted by name, names unique
}

// FieldChange sets one field. Base names the versions of the field the
// author saw and replaces; an empty base means the author saw no value.
type FieldChange struct {
	Name  string          `cbor:"1,keyasint"`
	Value cbor.RawMessage `cbor:"2,keyasint"`           // one CBOR item; null clears the field
	Base  []Dot           `cbor:"3,keyasint,omitempty"` // sorted, unique
}

// Dot names the change.
func (c *Change) Dot() Dot { return Dot{Origin: c.Origin, Lane: c.Lane, Seq: c.Seq} }

// Stream is the stream the change belongs to.
func (c *Change) Stream() Stream { return Stream{Origin: c.Origin, Lane: c.Lane} }

// Field returns the change's value for name, if it sets it.
func (c *Change) Field(name string) (FieldChange, bool) {
	i, ok := slices.BinarySearchFunc(c.Fields, name, func(f FieldChange, n string) int { return strings.Compare(f.Name, n) })
	if !ok {
		return FieldChange{}, false
	}
	return c.Fields[i], true
}

// Encode returns the change's canonical bytes after checking its shape.
func (c *Change) Encode() ([]byte, error) {
	if err := c.Check(); err != nil {
		return nil, err
	}
	b := appendChange(make([]byte, 0, c.encodedSize()), c)
	if len(b) > MaxChangeBytes {
		return nil, fmt.Errorf("%w: change %s is %d bytes, the limit is %d", ErrTooLarge, c.Dot(), len(b), MaxChangeBytes)
	}
	return b, nil
}

// DecodeChange decodes and checks untrusted change bytes, which must be in
// canonical form. The field values point into data.
func DecodeChange(data []byte) (Change, error) { return DecodeChangeInterned(data, nil) }

// DecodeChangeInterned is DecodeChange sharing repeated names through in.
func DecodeChangeInterned(data []byte, in *Interner) (Change, error) {
	if len(data) > MaxChangeBytes {
		return Change{}, fmt.Errorf("%w: change is %d bytes, the limit is %d", ErrTooLarge, len(data), MaxChangeBytes)
	}
	c, err := decodeChangeFast(data, in)
	if err != nil {
		return c, fmt.Errorf("change: %w", err)
	}
	if err := c.Check(); err != nil {
		return c, err
	}
	return c, nil
}

// Check verifies what every node relies on before merging a change: ids
// present, bounded names, fields sorted and unique, bases sorted and unique
// and never naming the change itself.
func (c *Change) Check() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: change %s: %s", ErrMalformed, c.Dot(), fmt.Sprintf(format, args...))
	}
	switch {
	case c.Origin.IsZero():
		return bad("no origin")
	case !ValidLane(c.Lane):
		return bad("lane %d has no priority from %d to %d", c.Lane, MinPriority, MaxPriority)
	case c.Seq == 0:
		return bad("sequence 0")
	case c.Record.IsZero():
		return bad("no record id")
	case c.Type == "" || len(c.Type) > MaxNameLen:
		return bad("record type must be 1 to %d bytes", MaxNameLen)
	case len(c.Kit) > MaxNameLen:
		return bad("kit name over %d bytes", MaxNameLen)
	case len(c.Author) > MaxAuthorLen:
		return bad("author over %d bytes", MaxAuthorLen)
	case len(c.Fields) == 0:
		return bad("sets no field")
	case len(c.Fields) > MaxFields:
		return bad("sets %d fields, the limit is %d", len(c.Fields), MaxFields)
	}
	for i, f := range c.Fields {
		if f.Name == "" || len(f.Name) > MaxNameLen {
			return bad("field name must be 1 to %d bytes", MaxNameLen)
		}
		if i > 0 && c.Fields[i-1].Name >= f.Name {
			return bad("fields not sorted or repeated at %q", f.Name)
		}
		if len(f.Value) == 0 {
			return bad("field %q has no value", f.Name)
		}
		if len(f.Base) > MaxBases {
			return bad("field %q replaces %d versions, the limit is %d", f.Name, len(f.Base), MaxBases)
		}
		for j, b := range f.Base {
			if b.Seq == 0 || b.Origin.IsZero() || !ValidLane(b.Lane) {
				return bad("field %q names an empty base", f.Name)
			}
			if b == c.Dot() {
				return bad("field %q names its own change as base", f.Name)
			}
			if j > 0 && f.Base[j-1].Compare(b) >= 0 {
				return bad("field %q bases not sorted or repeated", f.Name)
			}
		}
	}
	return nil
}

// Hash is a SHA-256 digest.
type Hash [32]byte

// ChainHash links a change to its origin's previous one:
// SHA-256("lifeline/chain/v1" || prev || SHA-256(body)). Hashing the body on
// its own first lets many bodies be hashed in parallel, while the chain
// itself stays a cheap sequential step. prev is the zero hash for seq 1.
func ChainHash(prev Hash, body []byte) Hash {
	return ChainLink(prev, sha256.Sum256(body))
}

// ChainLink is ChainHash for a body whose SHA-256 is already known.
func ChainLink(prev Hash, bodySum Hash) Hash {
	var buf [len(chainDomain) + 64]byte
	n := copy(buf[:], chainDomain)
	n += copy(buf[n:], prev[:])
	copy(buf[n:], bodySum[:])
	return sha256.Sum256(buf[:])
}

const chainDomain = "lifeline/chain/v1"

// HeadMessage is what an origin signs: a stream's chain hash at a sequence.
// One signature vouches for that change and, through the chain, every
// change of the stream before it.
func HeadMessage(s Stream, seq uint64, head Hash) []byte {
	const domain = "lifeline/head/v1"
	b := make([]byte, 0, len(domain)+16+1+8+32)
	b = append(b, domain...)
	b = append(b, s.Origin[:]...)
	b = append(b, s.Lane)
	b = append(b, byte(seq>>56), byte(seq>>48), byte(seq>>40), byte(seq>>32), byte(seq>>24), byte(seq>>16), byte(seq>>8), byte(seq))
	return append(b, head[:]...)
}
