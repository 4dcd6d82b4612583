package store

import (
	"bytes"
	"cmp"
	"context"
	"testing"
	"time"

	"lifeline/syncproto"
)

// The merge rule as docs/architecture.md states it: of a field's
// concurrent versions, the one with the greater HLC wins; at equal HLC, the
// one whose origin id is greater, byte by byte. The cases below are written
// out by hand, and byRule restates the rule apart from compareWin, so that
// no test agrees with the code merely because it asks the code.

// byRule orders two versions by the merge rule: an HLC is a wall-clock
// millisecond and a counter within it, so the later millisecond wins, then
// the greater counter, then the greater origin byte by byte. Lane and
// sequence only separate two changes of one origin stamped alike, which an
// origin's own clock never issues.
func byRule(a, b Stamp) int {
	return cmp.Or(
		cmp.Compare(a.HLC.Millis(), b.HLC.Millis()),
		cmp.Compare(a.HLC.Logical(), b.HLC.Logical()),
		bytes.Compare(a.Origin[:], b.Origin[:]),
		cmp.Compare(a.Lane, b.Lane),
		cmp.Compare(a.Seq, b.Seq))
}

// nodeID is an origin id with its first and last bytes given, the rest zero.
func nodeID(first, last byte) syncproto.NodeID {
	var id syncproto.NodeID
	id[0], id[15] = first, last
	return id
}

// wall is a fixed moment, in Unix milliseconds, for clocks in these tests.
const wall = 1_764_000_000_000

// version is one node's change of a field, as a test case writes it.
type version struct {
	origin syncproto.NodeID
	hlc    syncproto.HLC
}

// concurrent makes the changes of a test: an ancestor that sets "level",
// then one change per version, each replacing the ancestor and none seeing
// the others.
func concurrent(vs ...version) (syncproto.Change, []syncproto.Change) {
	rec := syncproto.RecordID{0xaa, 15: 1}
	ancestor := syncproto.Change{Origin: nodeID(0x77, 0x77), Lane: 3, Seq: 1, HLC: syncproto.MakeHLC(wall-60_000, 0), Record: rec,
		Kit: "k", Type: "t", Version: 1, Fields: []syncproto.FieldChange{{Name: "level", Value: []byte{0x00}}}}
	out := make([]syncproto.Change, len(vs))
	for i, v := range vs {
		out[i] = syncproto.Change{Origin: v.origin, Lane: 3, Seq: 2, HLC: v.hlc, Record: rec, Kit: "k", Type: "t", Version: 1,
			Fields: []syncproto.FieldChange{{Name: "level", Value: []byte{byte(i + 1)}, Base: []syncproto.Dot{ancestor.Dot()}}}}
	}
	return ancestor, out
}

// mergeAll merges changes into a fresh record state in the order given.
func mergeAll(changes ...syncproto.Change) *RecordState {
	st := &RecordState{}
	seen := map[syncproto.Dot]bool{}
	for i := range changes {
		st.Apply(&changes[i], func(d syncproto.Dot) bool { return seen[d] })
		seen[changes[i].Dot()] = true
	}
	return st
}

func TestMergeWinnerByRule(t *testing.T) {
	low, high := nodeID(0x01, 0x00), nodeID(0xf0, 0x00)
	for _, tc := range []struct {
		name string
		a, b version
		want int // 0 for a, 1 for b
	}{
		{"the later clock wins over the greater origin",
			version{high, syncproto.MakeHLC(wall, 0)}, version{low, syncproto.MakeHLC(wall+1, 0)}, 1},
		{"the later clock wins when it is the first written",
			version{low, syncproto.MakeHLC(wall+1, 0)}, version{high, syncproto.MakeHLC(wall, 0)}, 0},
		{"a millisecond outweighs any counter",
			version{low, syncproto.MakeHLC(wall+1, 0)}, version{high, syncproto.MakeHLC(wall, 65535)}, 0},
		{"within a millisecond the counter decides",
			version{high, syncproto.MakeHLC(wall, 1)}, version{low, syncproto.MakeHLC(wall, 2)}, 1},
		{"a clock far in the past still loses",
			version{high, syncproto.MakeHLC(0, 5)}, version{low, syncproto.MakeHLC(wall, 0)}, 1},
		{"at equal clocks the greater origin wins",
			version{low, syncproto.MakeHLC(wall, 3)}, version{high, syncproto.MakeHLC(wall, 3)}, 1},
		{"at equal clocks the greater origin wins when it is the first written",
			version{high, syncproto.MakeHLC(wall, 3)}, version{low, syncproto.MakeHLC(wall, 3)}, 0},
		{"origins compare from their first byte",
			version{nodeID(0x02, 0x00), syncproto.MakeHLC(wall, 0)}, version{nodeID(0x01, 0xff), syncproto.MakeHLC(wall, 0)}, 0},
		{"origins that differ in their last byte only",
			version{nodeID(0x01, 0x01), syncproto.MakeHLC(wall, 0)}, version{nodeID(0x01, 0x02), syncproto.MakeHLC(wall, 0)}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ancestor, vs := concurrent(tc.a, tc.b)
			a, b := vs[0], vs[1]
			for _, order := range [][]syncproto.Change{
				{ancestor, a, b}, {ancestor, b, a}, {a, b, ancestor}, {b, ancestor, a},
			} {
				st := mergeAll(order...)
				f, ok := st.Field("level")
				if !ok || len(f.Heads) != 2 {
					t.Fatalf("merged in the order %v: heads %+v, want both versions", dots(order), f)
				}
				if got, want := f.Heads[0].Dot(), vs[tc.want].Dot(); got != want {
					t.Fatalf("merged in the order %v: %s wins, want %s", dots(order), got, want)
				}
			}
		})
	}
}

// A field's versions are kept winner first: the greatest (HLC, origin),
// then the next, whatever the order they came in.
func TestMergeVersionsWinnerFirst(t *testing.T) {
	ancestor, vs := concurrent(
		version{nodeID(0x01, 0x00), syncproto.MakeHLC(wall+1, 0)}, // second: later clock, lesser origin
		version{nodeID(0xf0, 0x00), syncproto.MakeHLC(wall, 7)},   // last: earliest clock
		version{nodeID(0x80, 0x00), syncproto.MakeHLC(wall+1, 0)}, // first: later clock, greater origin
	)
	want := []syncproto.Dot{vs[2].Dot(), vs[0].Dot(), vs[1].Dot()}
	for _, order := range [][]syncproto.Change{
		{ancestor, vs[0], vs[1], vs[2]}, {vs[2], vs[1], ancestor, vs[0]}, {vs[1], vs[0], vs[2], ancestor},
	} {
		f, _ := mergeAll(order...).Field("level")
		var got []syncproto.Dot
		for _, h := range f.Heads {
			got = append(got, h.Dot())
		}
		if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
			t.Fatalf("merged in the order %v: versions %v, want %v", dots(order), got, want)
		}
	}
}

// A record's type is its first change's: the least (HLC, origin). Two
// nodes that create one record (the same imported row) agree on it.
func TestRecordTypeFromFirstChange(t *testing.T) {
	low, high := nodeID(0x01, 0x00), nodeID(0xf0, 0x00)
	create := func(origin syncproto.NodeID, hlc syncproto.HLC, typ string) syncproto.Change {
		return syncproto.Change{Origin: origin, Lane: 3, Seq: 1, HLC: hlc, Record: syncproto.RecordID{0xbb, 15: 1},
			Kit: "k", Type: typ, Version: 1, Fields: []syncproto.FieldChange{{Name: "level", Value: []byte{0x01}}}}
	}
	for _, tc := range []struct {
		name string
		a, b syncproto.Change
		want string
	}{
		{"the earlier clock", create(high, syncproto.MakeHLC(wall, 0), "earlier"), create(low, syncproto.MakeHLC(wall, 1), "later"), "earlier"},
		{"the earlier clock, written second", create(low, syncproto.MakeHLC(wall, 1), "later"), create(high, syncproto.MakeHLC(wall, 0), "earlier"), "earlier"},
		{"at equal clocks the lesser origin", create(high, syncproto.MakeHLC(wall, 0), "greater"), create(low, syncproto.MakeHLC(wall, 0), "lesser"), "lesser"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, order := range [][]syncproto.Change{{tc.a, tc.b}, {tc.b, tc.a}} {
				if got := mergeAll(order...).Type; got != tc.want {
					t.Fatalf("merged in the order %v: type %q, want %q", dots(order), got, tc.want)
				}
			}
		})
	}
}

func dots(changes []syncproto.Change) []syncproto.Dot {
	out := make([]syncproto.Dot, len(changes))
	for i := range changes {
		out[i] = changes[i].Dot()
	}
	return out
}

// fixedClock is a clock that reads the same moment, offset from wall,
// whenever it is asked: its stamps differ only by their counter.
func fixedClock(offset time.Duration) *syncproto.Clock {
	at := time.UnixMilli(wall).Add(offset)
	return syncproto.NewClock(func() time.Time { return at }, 0)
}

// Two laptops edit one field without seeing each other's edit; once they
// have exchanged, both show the version the rule picks, whichever node
// wrote it.
func TestConflictWinnerOnBothNodes(t *testing.T) {
	for _, tc := range []struct {
		name       string
		skewA      time.Duration // how far each laptop's clock is ahead
		skewB      time.Duration
		wantLaterA bool // whether a's version wins by its clock
		byOrigin   bool // the clocks agree: the greater node id wins
	}{
		{name: "b's clock is later", skewB: 2 * time.Second},
		{name: "a's clock is later", skewA: 2 * time.Second, wantLaterA: true},
		{name: "the clocks agree", byOrigin: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			a, _ := newStore(t, Options{Clock: fixedClock(tc.skewA)})
			b, _ := newStore(t, Options{Clock: fixedClock(tc.skewB)})
			id := syncproto.NewRecordID()
			if _, err := a.Write(ctx, []Edit{edit(t, id, true, "village", "Sarteneja", "damage_level", 1)}); err != nil {
				t.Fatal(err)
			}
			exchange(t, a, b)
			wa, err := a.Write(ctx, []Edit{edit(t, id, false, "damage_level", 3)})
			if err != nil {
				t.Fatal(err)
			}
			wb, err := b.Write(ctx, []Edit{edit(t, id, false, "damage_level", 4)})
			if err != nil {
				t.Fatal(err)
			}
			exchange(t, a, b)

			hlcA, hlcB := wa[0].HLC, wb[0].HLC
			if tc.byOrigin && hlcA != hlcB {
				t.Fatalf("the laptops stamped %s and %s; the case needs equal stamps", hlcA, hlcB)
			}
			idA, idB := a.Self().ID, b.Self().ID
			want := int64(4)
			if tc.wantLaterA || tc.byOrigin && bytes.Compare(idA[:], idB[:]) > 0 {
				want = 3
			}
			for name, s := range map[string]*SQLite{"a": a, "b": b} {
				rec, err := s.Record(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if rec.Conflicts != 1 || value(t, rec, "damage_level") != want {
					t.Fatalf("%s shows damage_level %v with %d conflicts; want %d, in conflict (a is %s at %s, b %s at %s)",
						name, value(t, rec, "damage_level"), rec.Conflicts, want, idA, hlcA, idB, hlcB)
				}
			}
		})
	}
}
