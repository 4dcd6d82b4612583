package store

// Tests of the merge rule that mutation testing (make mutate) found
// unpinned: changes stamped alike by one origin, and records larger than
// the property tests make.

import (
	"bytes"
	"fmt"
	"testing"

	"lifeline/syncproto"
)

// applyInOrder merges changes into a fresh record state in the order given.
func applyInOrder(changes ...*syncproto.Change) *RecordState {
	st := &RecordState{}
	seen := map[syncproto.Dot]bool{}
	for _, c := range changes {
		st.Apply(c, func(d syncproto.Dot) bool { return seen[d] })
		seen[c.Dot()] = true
	}
	return st
}

// Two edits of one field by one origin, stamped alike (its clock never
// does; a faulty or forged one may), neither replacing the other: the
// state is the same whatever the order they arrive in, as for any changes.
func TestSameStampMergesAlikeInAnyOrder(t *testing.T) {
	origin, other := syncproto.NodeID{0x55}, syncproto.NodeID{0x66}
	rec := syncproto.NewRecordID()
	hlc := syncproto.MakeHLC(1_750_000_000_000, 0)
	mk := func(o syncproto.NodeID, lane uint8, seq uint64, v string) *syncproto.Change {
		return &syncproto.Change{Origin: o, Lane: lane, Seq: seq, HLC: hlc, Record: rec, Kit: "k", Type: "t", Version: 1,
			Fields: []syncproto.FieldChange{{Name: "a", Value: cborOf(t, v)}}}
	}
	a, b, c := mk(origin, 3, 1, "x"), mk(origin, 3, 2, "y"), mk(origin, 1, 1, "z")
	d := mk(other, 3, 1, "w")
	want, err := applyInOrder(a, b, c, d).Encode()
	if err != nil {
		t.Fatal(err)
	}
	for _, order := range [][]*syncproto.Change{{b, a, c, d}, {c, b, a, d}, {d, c, a, b}, {a, c, d, b}} {
		got, err := applyInOrder(order...).Encode()
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("order %v %v %v %v: a different state (%v)", order[0].Dot(), order[1].Dot(), order[2].Dot(), order[3].Dot(), err)
		}
	}
}

// A record of many fields and many concurrent versions survives its
// encoding, which writes what the reflection-based encoder writes.
func TestLargeRecordStateRoundTrip(t *testing.T) {
	rec := syncproto.NewRecordID()
	var changes []*syncproto.Change
	for o := range 6 {
		c := &syncproto.Change{Origin: syncproto.NodeID{byte(0x70 + o)}, Lane: 3, Seq: 1, HLC: syncproto.MakeHLC(1_750_000_000_000, uint16(o)),
			Record: rec, Kit: "k", Type: "t", Version: 1}
		for f := range 20 {
			c.Fields = append(c.Fields, syncproto.FieldChange{Name: fmt.Sprintf("f%02d", f), Value: cborOf(t, o)})
		}
		changes = append(changes, c)
	}
	st := applyInOrder(changes...)
	if st.Conflicts() != 20 {
		t.Fatalf("%d fields in conflict, want 20", st.Conflicts())
	}
	b, err := st.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeState(b)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := back.Encode(); !bytes.Equal(again, b) {
		t.Fatal("the state does not round trip")
	}
	var w stateWire
	if err := syncproto.Unmarshal(b, &w); err != nil {
		t.Fatal(err)
	}
	if ref, _ := syncproto.Marshal(&w); !bytes.Equal(ref, b) {
		t.Fatal("the hand encoding differs from the reflection-based one")
	}
}
