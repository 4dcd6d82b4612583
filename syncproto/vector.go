package syncproto

import (
	"fmt"
	"slices"
	"strings"
)

// Dot names one change: its origin node and that origin's sequence number.
// A field's version is the dot of the change that set it.
type Dot struct {
	_      struct{} `cbor:",toarray"`
	Origin NodeID
	Seq    uint64
}

func (d Dot) String() string { return fmt.Sprintf("%s:%d", d.Origin, d.Seq) }

// Compare orders dots by origin, then sequence.
func (d Dot) Compare(o Dot) int {
	if c := d.Origin.Compare(o.Origin); c != 0 {
		return c
	}
	switch {
	case d.Seq < o.Seq:
		return -1
	case d.Seq > o.Seq:
		return 1
	}
	return 0
}

// Vector is a version vector: for each origin, the highest sequence number
// held with no gap before it. Sequences are gapless per origin, so a vector
// says exactly which changes a node has.
type Vector map[NodeID]uint64

// Has reports whether the vector covers the change d names.
func (v Vector) Has(d Dot) bool { return d.Seq != 0 && d.Seq <= v[d.Origin] }

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
func (v Vector) Equal(o Vector) bool { return v.Covers(o) && o.Covers(v) }

// Entries returns the vector's non-zero entries sorted by origin: the
// canonical order for encoding and printing.
func (v Vector) Entries() []Dot {
	out := make([]Dot, 0, len(v))
	for k, s := range v {
		if s > 0 {
			out = append(out, Dot{Origin: k, Seq: s})
		}
	}
	slices.SortFunc(out, func(a, b Dot) int { return a.Origin.Compare(b.Origin) })
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

// MarshalCBOR encodes the vector as an array of [origin, seq] pairs sorted by
// origin, so that equal vectors have equal bytes.
func (v Vector) MarshalCBOR() ([]byte, error) {
	return encMode.Marshal(v.Entries())
}

// UnmarshalCBOR decodes the form MarshalCBOR writes and refuses anything
// else: unsorted or repeated origins, or zero sequences.
func (v *Vector) UnmarshalCBOR(data []byte) error {
	var entries []Dot
	if err := decMode.Unmarshal(data, &entries); err != nil {
		return fmt.Errorf("%w: version vector: %v", ErrMalformed, err)
	}
	out := make(Vector, len(entries))
	for i, e := range entries {
		if e.Seq == 0 {
			return fmt.Errorf("%w: version vector: origin %s has sequence 0", ErrMalformed, e.Origin)
		}
		if i > 0 && entries[i-1].Origin.Compare(e.Origin) >= 0 {
			return fmt.Errorf("%w: version vector: origins not in ascending order", ErrNotCanonical)
		}
		out[e.Origin] = e.Seq
	}
	*v = out
	return nil
}
