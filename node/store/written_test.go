package store

import (
	"context"
	"slices"
	"testing"
	"time"

	"lifeline/syncproto"
)

// idsOf is a set of records as their ids, sorted.
func idsOf(ids []syncproto.RecordID) []string {
	var out []string
	for _, id := range ids {
		out = append(out, id.String())
	}
	slices.Sort(out)
	return out
}

// Whoever keeps something read from the records learns which were written
// since it last asked, however they changed: a local edit, a peer's
// change, a change kept aside that merges later with nothing new in the
// log, a deletion, an import, another process, a rebuild from the log.
func TestWrittenFollowsEveryWayARecordChanges(t *testing.T) {
	ctx := context.Background()
	p := &waitsPolicy{}
	s, key := newStore(t, Options{Admit: p.admit})
	step := func(name string, mark int64, want ...syncproto.RecordID) int64 {
		t.Helper()
		got, next, err := s.Written(ctx, mark)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if g, w := idsOf(got), idsOf(want); !slices.Equal(g, w) {
			t.Fatalf("%s: written %q, want %q", name, g, w)
		}
		if len(want) > 0 && next <= mark || len(want) == 0 && next != mark {
			t.Fatalf("%s: the mark went from %d to %d", name, mark, next)
		}
		return next
	}
	mark := step("an empty store", 0)

	a, b, c, d, e := syncproto.NewRecordID(), syncproto.NewRecordID(), syncproto.NewRecordID(), syncproto.NewRecordID(), syncproto.NewRecordID()
	missing := edit(t, b, true, "name", "Maria Pop")
	missing.Kit, missing.Type = "missing-person", "missing-person"
	written, err := s.Write(ctx, []Edit{edit(t, a, true, "roof", "intact"), missing})
	if err != nil {
		t.Fatal(err)
	}
	first := step("a local write", mark, a, b)
	got, _, err := s.Written(ctx, mark, "missing-person", "shelter-registration")
	if err != nil || !slices.Equal(idsOf(got), idsOf([]syncproto.RecordID{b})) {
		t.Fatalf("of the people types: %q, %v; want only %s", idsOf(got), err, b)
	}
	mark = first

	// A peer creates c and edits a; a change of d is kept aside for a kit
	// version not here.
	peer, other := syncproto.NodeID{0xc1}, syncproto.NodeID{0xc2}
	hlc := syncproto.MakeHLC(time.Now().UnixMilli(), 0)
	in := []Incoming{
		fromPeer(t, syncproto.Change{Origin: peer, Seq: 1, HLC: hlc, Record: c, Fields: setField(t, "roof", "gone")}),
		fromPeer(t, syncproto.Change{Origin: peer, Seq: 2, HLC: hlc + 1, Record: a, Fields: setField(t, "roof", "gone", written[0].Dot)}),
		fromPeer(t, syncproto.Change{Origin: other, Seq: 1, HLC: hlc + 2, Record: d,
			Fields: []syncproto.FieldChange{{Name: "note", Value: cborOf(t, "kit")}, {Name: "roof", Value: cborOf(t, "gone")}}}),
	}
	if res, err := s.Apply(ctx, in); err != nil || res.Quarantined != 1 {
		t.Fatalf("the peers' changes: %+v, %v", res, err)
	}
	mark = step("a session", mark, a, c)

	// The kit comes: d's change merges, and no new change is logged.
	vector, err := s.Vector(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p.kitOpen.Store(true)
	if n, err := s.Readmit(ctx); err != nil || n != 1 {
		t.Fatalf("readmit: %d, %v", n, err)
	}
	if after, err := s.Vector(ctx); err != nil || !vector.Covers(after) {
		t.Fatalf("readmission logged changes: %v then %v (%v)", vector, after, err)
	}
	mark = step("a change kept aside merged", mark, d)

	if _, err := s.Write(ctx, []Edit{edit(t, a, false, syncproto.DeletedField, true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Import(ctx, imported(t, edit(t, e, true, "roof", "intact"))); err != nil {
		t.Fatal(err)
	}
	mark = step("a deletion and an import", mark, a, e)
	mark = step("nothing new", mark)

	again, err := Open(ctx, s.path, Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := again.Write(ctx, []Edit{edit(t, c, false, "roof", "patched")}); err != nil {
		t.Fatal(err)
	}
	again.Close()
	mark = step("another process's write", mark, c)

	if err := s.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	step("a rebuild", mark, a, b, c, d, e)
	step("from the start", 0, a, b, c, d, e)
}
