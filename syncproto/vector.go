package syncproto

import (
	"fmt"
	"slices"
	"strings"
)

// Lanes. A node writes its changes in one stream per lane, and a lane is
// a sync priority and a scope in one byte:
//
//   - the low four bits are the priority, 1 to 9: lane priority 1 holds
//     the changes of life-safety record types (missing persons), 9 the
//     least urgent, so that a thin link can carry priority 1 of every node
//     before anything else without leaving a gap in any stream;
//   - the high four bits are the scope: 0 for records every node holds
//     (national), 1 to 15 for those of one district, which only the
//     district's nodes, the node that wrote them and headquarters hold.
//
// Each lane is numbered, chained and signed on its own, and the origin's
// signature over a chain head covers the lane: a node that holds only some
// scopes holds whole streams, verified as any other, and no relay can move
// a change to another scope. A lane of scope 0 is the byte a node wrote
// before scopes existed: those streams stay national.
const (
	MinLane = 1
	MaxLane = MaxScope<<4 | MaxPriority

	MinPriority = 1
	MaxPriority = 9
	// National is the scope of records every node holds.
	National = 0
	MaxScope = 15
	// MaxNodeStreams is how many streams one node can write.
	MaxNodeStreams = (MaxScope + 1) * MaxPriority
)

// MakeLane is the lane of a priority and a scope; it does not check them.
func MakeLane(priority, scope uint8) uint8 { return scope<<4 | priority&0x0f }

// LanePriority is a lane's sync priority, 1 first.
func LanePriority(lane uint8) uint8 { return lane & 0x0f }

// LaneScope is a lane's scope: National, or a district's number.
func LaneScope(lane uint8) uint8 { return lane >> 4 }

// ValidLane says whether a lane has a priority of 1 to 9.
func ValidLane(lane uint8) bool {
	p := LanePriority(lane)
	return p >= MinPriority && p <= MaxPriority
}

// CompareLanes orders lanes by priority, then scope: the order in which
// sync sends them.
func CompareLanes(a, b uint8) int {
	if pa, pb := LanePriority(a), LanePriority(b); pa != pb {
		return int(pa) - int(pb)
	}
	return int(a) - int(b)
}

// Stream is one lane of one node: the unit that sequence numbers, hash
// chains, signatures and version vectors count in.
type Stream struct {
	_      struct{} `cbor:",toarray"`
	Origin NodeID
	Lane   uint8
}

func (s Stream) String() string { return fmt.Sprintf("%s/%d", s.Origin, s.Lane) }

// Compare orders streams by lane (priority, then scope), then origin: the
// order in which sync sends them.
func (s Stream) Compare(o Stream) int {
	if c := CompareLanes(s.Lane, o.Lane); c != 0 {
		return c
	}
	return s.Origin.Compare(o.Origin)
}

// Dot names one change: its stream and its sequence number there. A field's
// version is the dot of the change that set it.
type Dot struct {
	_      struct{} `cbor:",toarray"`
	Origin NodeID
	Lane   uint8
	Seq    uint64
}

// Stream is the stream the dot's change belongs to.
func (d Dot) Stream() Stream { return Stream{Origin: d.Origin, Lane: d.Lane} }

func (d Dot) String() string { return fmt.Sprintf("%s/%d:%d", d.Origin, d.Lane, d.Seq) }

// Compare orders dots by origin, lane, then sequence.
func (d Dot) Compare(o Dot) int {
	if c := d.Origin.Compare(o.Origin); c != 0 {
		return c
	}
	if d.Lane != o.Lane {
		return int(d.Lane) - int(o.Lane)
	}
	switch {
	case d.Seq < o.Seq:
		return -1
	case d.Seq > o.Seq:
		return 1
	}
	return 0
}

// Vector is a version vector: for each stream, the highest sequence number
// held with no gap before it. Sequences are gapless per stream, so a vector
// says exactly which changes a node has.
type Vector map[Stream]uint64

// MaxVectorEntries bounds the streams of a vector that is decoded: nine
// lanes of more than three thousand nodes. A peer's vectors are read from
// every hello, so their size is what one connection can make a node do.
const MaxVectorEntries = 1 << 15

// Has reports whether the vector covers the change d names.
func (v Vector) Has(d Dot) bool { return d.Seq != 0 && d.Seq <= v[d.Stream()] }

// Clone returns a copy that can be changed independently.
func (v Vector) Clone() Vector {
	c := make(Vector, len(v))
	for k, s := range v {
		c[k] = s
	}
	return c
}

// Merge raises every entry of v to at least o's.
func (v Vector) Merge(o Vector) {
	for k, s := range o {
		if s > v[k] {
			v[k] = s
		}
	}
}

// Covers reports whether v holds every change o holds.
func (v Vector) Covers(o Vector) bool {
	for k, s := range o {
		if v[k] < s {
			return false
		}
	}
	return true
}

// Equal reports whether both vectors hold the same changes.
// Only is the part of the vector whose streams keep says to keep; keep
// nil keeps every stream.
func (v Vector) Only(keep func(Stream) bool) Vector {
	if keep == nil {
		return v.Clone()
	}
	out := make(Vector, len(v))
	for st, seq := range v {
		if keep(st) {
			out[st] = seq
		}
	}
	return out
}

func (v Vector) Equal(o Vector) bool { return v.Covers(o) && o.Covers(v) }

// Entries returns the vector's non-zero entries as the dots of each
// stream's last change, sorted: the canonical order for encoding and
// printing.
func (v Vector) Entries() []Dot {
	out := make([]Dot, 0, len(v))
	for k, s := range v {
		if s > 0 {
			out = append(out, Dot{Origin: k.Origin, Lane: k.Lane, Seq: s})
		}
	}
	slices.SortFunc(out, Dot.Compare)
	return out
}

func (v Vector) String() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, d := range v.Entries() {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(d.String())
	}
	b.WriteByte('}')
	return b.String()
}

// MarshalCBOR encodes the vector as a sorted array of [origin, lane, seq],
// so that equal vectors have equal bytes.
func (v Vector) MarshalCBOR() ([]byte, error) {
	return encMode.Marshal(v.Entries())
}

// UnmarshalCBOR decodes the form MarshalCBOR writes and refuses anything
// else: unsorted or repeated streams, lanes out of range, zero sequences.
func (v *Vector) UnmarshalCBOR(data []byte) error {
	// The count comes first: a vector past the bound is refused before its
	// entries are decoded, and says so.
	if major, n, err := (&cborReader{b: data}).head(); err == nil && major == majorArray && n > MaxVectorEntries {
		return fmt.Errorf("%w: a version vector of %d streams, the limit is %d", ErrTooLarge, n, MaxVectorEntries)
	}
	var entries []Dot
	if err := decMode.Unmarshal(data, &entries); err != nil {
		return fmt.Errorf("%w: version vector: %v", ErrMalformed, err)
	}
	out := make(Vector, len(entries))
	for i, e := range entries {
		if e.Seq == 0 || !ValidLane(e.Lane) {
			return fmt.Errorf("%w: version vector: stream %s has sequence %d", ErrMalformed, e.Stream(), e.Seq)
		}
		if i > 0 && entries[i-1].Compare(Dot{Origin: e.Origin, Lane: e.Lane}) >= 0 {
			return fmt.Errorf("%w: version vector: streams not in ascending order", ErrNotCanonical)
		}
		out[e.Stream()] = e.Seq
	}
	*v = out
	return nil
}
