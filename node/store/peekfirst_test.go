package store

import (
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
