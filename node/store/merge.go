package store

import (
	"fmt"
	"slices"
	"strings"

	"lifeline/syncproto"
)

// Stamp identifies a change and orders it for the merge rule.
type Stamp struct {
	_      struct{} `cbor:",toarray"`
	Origin syncproto.NodeID
	Lane   uint8
	Seq    uint64
	HLC    syncproto.HLC
}

// Dot is the change the stamp names.
func (s Stamp) Dot() syncproto.Dot { return syncproto.Dot{Origin: s.Origin, Lane: s.Lane, Seq: s.Seq} }

// compareWin orders stamps for the merge rule: the greater (HLC, origin)
// wins; lane and sequence only separate two edits of one origin stamped
// alike, which its own clock never issues.
func compareWin(a, b Stamp) int {
	switch {
	case a.HLC < b.HLC:
		return -1
	case a.HLC > b.HLC:
		return 1
	}
	if c := a.Origin.Compare(b.Origin); c != 0 {
		return c
	}
	return a.Dot().Compare(b.Dot())
}

// FieldState is one field's multi-value register: the versions no other
// version replaced (its heads, winner first), and the versions that applied
// changes replaced but that have not arrived yet (pending), so that a late
// arrival does not come back to life.
type FieldState struct {
	Name    string
	Heads   []Stamp
	Pending []syncproto.Dot
}

// InConflict reports whether people disagree on the field: more than one
// version stands and none replaced the others.
func (f *FieldState) InConflict() bool { return len(f.Heads) > 1 }

// RecordState is the merge state of one record. It holds no values, only
// which changes hold each field's versions: values stay in the change log,
// the one place they are written.
type RecordState struct {
	// Type and Kit come from the record's first change (least HLC, then
	// origin and sequence), so that every node agrees on them whatever the
	// order of arrival.
	Type    string
	Kit     string
	First   Stamp
	Version uint32        // highest schema version of any change
	Last    syncproto.HLC // latest change
	Fields  []FieldState  // sorted by name
}

// Field returns the state of the named field.
func (r *RecordState) Field(name string) (*FieldState, bool) {
	i, ok := slices.BinarySearchFunc(r.Fields, name, func(f FieldState, n string) int { return strings.Compare(f.Name, n) })
	if !ok {
		return nil, false
	}
	return &r.Fields[i], true
}

func (r *RecordState) field(name string) *FieldState {
	i, ok := slices.BinarySearchFunc(r.Fields, name, func(f FieldState, n string) int { return strings.Compare(f.Name, n) })
	if !ok {
		r.Fields = slices.Insert(r.Fields, i, FieldState{Name: name})
	}
	return &r.Fields[i]
}

// Conflicts counts the fields in conflict.
func (r *RecordState) Conflicts() int {
	n := 0
	for i := range r.Fields {
		if r.Fields[i].InConflict() {
			n++
		}
	}
	return n
}

// Apply merges a change into the record, following DESIGN's rule: a field
// value replaces the versions it names as its base; the field's heads are
// the versions nothing replaced; the winner is the head with the greatest
// (HLC, origin). seen reports whether a change has already been merged into
// this record. Apply does nothing for a change already seen, so the result
// is the same whatever the order and however often changes come.
//
// seen must concern this record, not the whole store: a base naming a
// change of another record (a bug or a forgery elsewhere) then stays
// pending here whether that change came first or not.
//
// Apply reports whether it merged the change (false when already seen).
func (r *RecordState) Apply(c *syncproto.Change, seen func(syncproto.Dot) bool) bool {
	dot := c.Dot()
	if seen(dot) {
		return false
	}
	st := Stamp{Origin: c.Origin, Lane: c.Lane, Seq: c.Seq, HLC: c.HLC}
	if r.Type == "" || compareWin(st, r.First) < 0 {
		r.Type, r.Kit, r.First = c.Type, c.Kit, st
	}
	r.Version = max(r.Version, c.Version)
	r.Last = max(r.Last, c.HLC)
	if len(r.Fields) == 0 {
		r.first(c, st, seen)
		return true
	}
	for i := range c.Fields {
		fc := &c.Fields[i]
		f := r.field(fc.Name)
		if j, late := slices.BinarySearchFunc(f.Pending, dot, syncproto.Dot.Compare); late {
			// A change already merged replaced this version before it came.
			f.Pending = slices.Delete(f.Pending, j, j+1)
		} else {
			f.addHead(st)
		}
		for _, b := range fc.Base {
			if j := slices.IndexFunc(f.Heads, func(h Stamp) bool { return h.Dot() == b }); j >= 0 {
				f.Heads = slices.Delete(f.Heads, j, j+1)
			} else if !seen(b) {
				if j, found := slices.BinarySearchFunc(f.Pending, b, syncproto.Dot.Compare); !found {
					f.Pending = slices.Insert(f.Pending, j, b)
				}
			}
		}
	}
	// A base naming this change for a field it does not set was never a
	// version of that field; forget it, as if the change had come first.
	for i := range r.Fields {
		f := &r.Fields[i]
		if _, sets := c.Field(f.Name); sets {
			continue
		}
		if j, found := slices.BinarySearchFunc(f.Pending, dot, syncproto.Dot.Compare); found {
			f.Pending = slices.Delete(f.Pending, j, j+1)
		}
	}
	r.dropEmpty()
	return true
}

// first merges a change into a record that has no fields yet, the case of
// nearly every record in an import, with one allocation for all heads. It
// gives exactly what the general path gives: every field a head, every
// base it has not seen pending.
func (r *RecordState) first(c *syncproto.Change, st Stamp, seen func(syncproto.Dot) bool) {
	r.Fields = make([]FieldState, len(c.Fields))
	heads := make([]Stamp, len(c.Fields))
	for i := range c.Fields {
		fc := &c.Fields[i]
		heads[i] = st
		f := FieldState{Name: fc.Name, Heads: heads[i : i+1 : i+1]}
		for _, b := range fc.Base {
			if !seen(b) {
				f.Pending = append(f.Pending, b)
			}
		}
		r.Fields[i] = f
	}
}

// addHead inserts a head keeping the winner first.
func (f *FieldState) addHead(s Stamp) {
	i, _ := slices.BinarySearchFunc(f.Heads, s, func(h, s Stamp) int { return compareWin(s, h) })
	f.Heads = slices.Insert(f.Heads, i, s)
}

// dropEmpty removes fields left with neither heads nor pending versions,
// which happens when a base named a change that set nothing there.
func (r *RecordState) dropEmpty() {
	r.Fields = slices.DeleteFunc(r.Fields, func(f FieldState) bool { return len(f.Heads) == 0 && len(f.Pending) == 0 })
}

// Bases returns the dots a new local edit of the field replaces: all its
// heads, so that an edit made after seeing a conflict resolves it.
func (r *RecordState) Bases(name string) []syncproto.Dot {
	f, ok := r.Field(name)
	if !ok || len(f.Heads) == 0 {
		return nil
	}
	out := make([]syncproto.Dot, len(f.Heads))
	for i, h := range f.Heads {
		out[i] = h.Dot()
	}
	slices.SortFunc(out, syncproto.Dot.Compare)
	return out
}

// Stamps returns every change holding a head of some field, sorted by dot.
// A record has few: one per change whose value still stands.
func (r *RecordState) Stamps() []Stamp {
	out := make([]Stamp, 0, 4)
	for i := range r.Fields {
		for _, h := range r.Fields[i].Heads {
			if indexOf(out, h) < 0 {
				out = append(out, h)
			}
		}
	}
	slices.SortFunc(out, func(a, b Stamp) int { return a.Dot().Compare(b.Dot()) })
	return out
}

func indexOf(stamps []Stamp, s Stamp) int {
	for i := range stamps {
		if stamps[i].Seq == s.Seq && stamps[i].Lane == s.Lane && stamps[i].Origin == s.Origin {
			return i
		}
	}
	return -1
}

// stateWire is RecordState's stored form. Every field's heads point into one
// table of stamps, because most records are one change whose stamp would
// otherwise be repeated for every field. Keys are append-only.
type stateWire struct {
	Type    string           `cbor:"1,keyasint"`
	Kit     string           `cbor:"2,keyasint,omitempty"`
	First   Stamp            `cbor:"3,keyasint"`
	Version uint32           `cbor:"4,keyasint"`
	Last    syncproto.HLC    `cbor:"5,keyasint"`
	Stamps  []Stamp          `cbor:"6,keyasint"`
	Fields  []fieldStateWire `cbor:"7,keyasint"`
}

type fieldStateWire struct {
	_       struct{} `cbor:",toarray"`
	Name    string
	Heads   []uint32 // indexes into stateWire.Stamps, winner first
	Pending []syncproto.Dot
}

// Encode returns the state's canonical bytes: equal states, equal bytes.
// It writes what syncproto.Marshal would write for the stateWire form, by
// hand, because every record written is encoded once.
func (r *RecordState) Encode() ([]byte, error) {
	stamps := r.Stamps()
	b := make([]byte, 0, 96+len(r.Kit)+len(r.Type)+40*len(stamps)+24*len(r.Fields))
	n := 6
	if r.Kit != "" {
		n++
	}
	b = syncproto.AppendMap(b, n)
	b = syncproto.AppendText(append(b, 1), r.Type)
	if r.Kit != "" {
		b = syncproto.AppendText(append(b, 2), r.Kit)
	}
	b = appendStamp(append(b, 3), r.First)
	b = syncproto.AppendUint(append(b, 4), uint64(r.Version))
	b = syncproto.AppendUint(append(b, 5), uint64(r.Last))
	b = syncproto.AppendArray(append(b, 6), len(stamps))
	for _, st := range stamps {
		b = appendStamp(b, st)
	}
	b = syncproto.AppendArray(append(b, 7), len(r.Fields))
	for i := range r.Fields {
		f := &r.Fields[i]
		b = syncproto.AppendArray(b, 3)
		b = syncproto.AppendText(b, f.Name)
		b = syncproto.AppendArray(b, len(f.Heads))
		for _, h := range f.Heads {
			b = syncproto.AppendUint(b, uint64(indexOf(stamps, h)))
		}
		b = syncproto.AppendArray(b, len(f.Pending))
		for _, d := range f.Pending {
			b = syncproto.AppendDot(b, d)
		}
	}
	return b, nil
}

// encodeNew is Encode of the state a record has after its first change, when
// that change names no bases: what an import writes for every record, built
// without the state itself.
func encodeNew(c *syncproto.Change) []byte {
	st := Stamp{Origin: c.Origin, Lane: c.Lane, Seq: c.Seq, HLC: c.HLC}
	b := make([]byte, 0, 128+len(c.Kit)+len(c.Type)+16*len(c.Fields))
	n := 6
	if c.Kit != "" {
		n++
	}
	b = syncproto.AppendMap(b, n)
	b = syncproto.AppendText(append(b, 1), c.Type)
	if c.Kit != "" {
		b = syncproto.AppendText(append(b, 2), c.Kit)
	}
	b = appendStamp(append(b, 3), st)
	b = syncproto.AppendUint(append(b, 4), uint64(c.Version))
	b = syncproto.AppendUint(append(b, 5), uint64(c.HLC))
	b = appendStamp(syncproto.AppendArray(append(b, 6), 1), st)
	b = syncproto.AppendArray(append(b, 7), len(c.Fields))
	for i := range c.Fields {
		b = syncproto.AppendArray(b, 3)
		b = syncproto.AppendText(b, c.Fields[i].Name)
		b = append(b, 0x81, 0x00, 0x80) // heads [0], pending []
	}
	return b
}

func appendStamp(b []byte, s Stamp) []byte {
	b = syncproto.AppendArray(b, 4)
	b = syncproto.AppendBytes(b, s.Origin[:])
	b = syncproto.AppendUint(b, uint64(s.Lane))
	b = syncproto.AppendUint(b, s.Seq)
	return syncproto.AppendUint(b, uint64(s.HLC))
}

// decodeFirst reads only the stamp of a record's first change from its
// state, skipping the rest.
func decodeFirst(b []byte) (Stamp, error) {
	if st, ok := peekFirst(b); ok {
		return st, nil
	}
	var w struct {
		First Stamp `cbor:"3,keyasint"`
	}
	if err := syncproto.UnmarshalPart(b, &w); err != nil {
		return Stamp{}, fmt.Errorf("%w: record state: %v", ErrCorrupt, err)
	}
	return w.First, nil
}

// peekFirst reads First from a state as Encode writes it (a map whose
// keys 1 and 2, the type and kit, are texts, and whose key 3 is First),
// without the CBOR decoder: the ledger reads it for every change a commit
// covers. ok is false for anything else, which the decoder then reads.
func peekFirst(b []byte) (st Stamp, ok bool) {
	head := func() (major byte, arg uint64, ok bool) {
		if len(b) == 0 {
			return 0, 0, false
		}
		major, info := b[0]>>5, b[0]&0x1f
		size := 0
		switch {
		case info < 24:
			arg, b = uint64(info), b[1:]
			return major, arg, true
		case info == 24:
			size = 1
		case info == 25:
			size = 2
		case info == 26:
			size = 4
		case info == 27:
			size = 8
		default:
			return 0, 0, false
		}
		if len(b) < 1+size {
			return 0, 0, false
		}
		for _, c := range b[1 : 1+size] {
			arg = arg<<8 | uint64(c)
		}
		b = b[1+size:]
		return major, arg, true
	}
	m, n, ok := head()
	if !ok || m != 5 {
		return st, false
	}
	for range n {
		m, k, ok := head()
		if !ok || m != 0 {
			return st, false
		}
		switch k {
		case 1, 2:
			m, l, ok := head()
			if !ok || m != 3 || l > uint64(len(b)) {
				return st, false
			}
			b = b[l:]
		case 3:
			if m, n, ok := head(); !ok || m != 4 || n != 4 {
				return st, false
			}
			if m, l, ok := head(); !ok || m != 2 || l != uint64(len(st.Origin)) || len(b) < len(st.Origin) {
				return st, false
			}
			copy(st.Origin[:], b)
			b = b[len(st.Origin):]
			var v [3]uint64
			for i := range v {
				m, x, ok := head()
				if !ok || m != 0 {
					return st, false
				}
				v[i] = x
			}
			if v[0] > 255 {
				return st, false
			}
			st.Lane, st.Seq, st.HLC = uint8(v[0]), v[1], syncproto.HLC(v[2])
			return st, true
		default:
			return st, false
		}
	}
	return st, false
}

// DecodeState reads bytes Encode wrote.
func DecodeState(b []byte) (*RecordState, error) {
	var w stateWire
	if err := syncproto.Unmarshal(b, &w); err != nil {
		return nil, fmt.Errorf("%w: record state: %v", ErrCorrupt, err)
	}
	r := &RecordState{Type: w.Type, Kit: w.Kit, First: w.First, Version: w.Version, Last: w.Last, Fields: make([]FieldState, len(w.Fields))}
	for i, fw := range w.Fields {
		f := FieldState{Name: fw.Name, Pending: fw.Pending, Heads: make([]Stamp, len(fw.Heads))}
		for j, k := range fw.Heads {
			if int(k) >= len(w.Stamps) {
				return nil, fmt.Errorf("%w: record state: field %s points past its stamps", ErrCorrupt, fw.Name)
			}
			f.Heads[j] = w.Stamps[k]
		}
		r.Fields[i] = f
	}
	return r, nil
}
