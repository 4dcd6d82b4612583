package store

import (
	"errors"
	"testing"

	"lifeline/syncproto"
)

// peekFirst reads a state's First as the CBOR decoder does: on states as
// Encode writes them, and on any bytes it takes at all.
func FuzzPeekFirst(f *testing.F) {
	for _, st := range []RecordState{
		{Type: "damage-assessment", Kit: "damage-assessment", First: Stamp{Origin: syncproto.NodeID{1, 15: 2}, Lane: 3, Seq: 7, HLC: syncproto.MakeHLC(1_764_000_000_000, 3)}},
		{Type: "t", First: Stamp{Lane: 255, Seq: 1 << 40, HLC: 1<<64 - 1}},
	} {
		b, err := st.Encode()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := peekFirst(b)
		if !ok {
			return
		}
		var w struct {
			First Stamp `cbor:"3,keyasint"`
		}
		if err := syncproto.UnmarshalPart(b, &w); err != nil {
			// The decoder reads the whole state; peekFirst stops at
			// First. Past it, only the decoder sees what is wrong.
			return
		}
		if got != w.First {
			t.Fatalf("peekFirst read %+v, the decoder %+v, from % x", got, w.First, b)
		}
	})
}

// Every state Encode writes is read by peekFirst, as the decoder reads it.
func TestPeekFirstReadsWhatEncodeWrites(t *testing.T) {
	for _, st := range []RecordState{
		{Type: "missing-person", Kit: "missing-persons", First: Stamp{Origin: syncproto.NodeID{0xff, 15: 0xee}, Lane: 1, Seq: 23, HLC: 99}},
		{Type: "asset", First: Stamp{Seq: 1}},
		{Type: "x", Kit: "y", First: Stamp{Lane: 200, Seq: 1<<40 - 1, HLC: syncproto.MakeHLC(4_000_000_000_000, 65535)}, Version: 3, Last: 5},
	} {
		b, err := st.Encode()
		if err != nil {
			t.Fatal(err)
		}
		got, ok := peekFirst(b)
		if !ok || got != st.First {
			t.Fatalf("peekFirst read %+v (%v), Encode wrote %+v", got, ok, st.First)
		}
	}
}

// A state cut anywhere is either read right or left to the decoder: never
// read past its end.
func TestPeekFirstOnEveryCut(t *testing.T) {
	st := RecordState{Type: "missing-person", Kit: "missing-persons",
		First: Stamp{Origin: syncproto.NodeID{0xff, 15: 0xee}, Lane: 1, Seq: 1 << 33, HLC: syncproto.MakeHLC(4_000_000_000_000, 65535)}}
	b, err := st.Encode()
	if err != nil {
		t.Fatal(err)
	}
	for n := range len(b) + 1 {
		got, ok := peekFirst(b[:n])
		if ok && got != st.First {
			t.Fatalf("cut at %d of %d bytes: read %+v, wrote %+v", n, len(b), got, st.First)
		}
	}
}

// A field's head that points past the state's stamps is a corrupt state,
// said as such.
func TestDecodeStateRefusesAHeadPastItsStamps(t *testing.T) {
	for _, k := range []int{1, 2} {
		w := stateWire{Type: "t", Stamps: []Stamp{{Seq: 1}}, Fields: []fieldStateWire{{Name: "f", Heads: []uint32{uint32(k)}}}}
		b, err := syncproto.Marshal(w)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := DecodeState(b); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("a head at %d of 1 stamp: %v", k, err)
		}
	}
}
