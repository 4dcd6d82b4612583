package store

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"lifeline/syncproto"
)

// photoRefs is a definition of refs as a node's, simplified: a record
// names the strings its field "photo" holds, in every version, and a
// deleted record names nothing.
func photoRefs(version int64) *Refs {
	return &Refs{
		Version: version,
		Reads:   func(_, field string) bool { return field == "photo" },
		Of: func(r *Record) []Ref {
			if r.Deleted {
				return nil
			}
			var out []Ref
			for _, f := range r.Fields {
				if f.Name != "photo" {
					continue
				}
				for _, v := range f.Versions {
					var name string
					if syncproto.Unmarshal(v.Value, &name) == nil {
						out = append(out, Ref{Name: name, Stream: syncproto.Stream{Origin: v.Stamp.Origin, Lane: v.Stamp.Lane}})
					}
				}
			}
			return out
		},
	}
}

// namesOf is what a RefsSince answer says each record names, as
// "record: name name", sorted.
func namesOf(m map[syncproto.RecordID][]Ref) []string {
	var out []string
	for id, refs := range m {
		var names []string
		for _, r := range refs {
			names = append(names, r.Name)
		}
		slices.Sort(names)
		out = append(out, id.String()[:8]+":"+strings.Join(names, " "))
	}
	slices.Sort(out)
	return out
}

func refsSince(t *testing.T, s *SQLite, mark int64) (map[syncproto.RecordID][]Ref, int64, bool) {
	t.Helper()
	m, next, all, err := s.RefsSince(context.Background(), mark)
	if err != nil {
		t.Fatal(err)
	}
	return m, next, all
}

func wantNames(t *testing.T, step string, m map[syncproto.RecordID][]Ref, want map[syncproto.RecordID][]string) {
	t.Helper()
	w := map[syncproto.RecordID][]Ref{}
	for id, names := range want {
		w[id] = []Ref{}
		for _, n := range names {
			w[id] = append(w[id], Ref{Name: n})
		}
	}
	if got, exp := namesOf(m), namesOf(w); !slices.Equal(got, exp) {
		t.Fatalf("%s: the records name %q, want %q", step, got, exp)
	}
}

// What records name is kept however they change (a local edit, a peer's
// change, an edit that replaces a version, a change kept aside that merges
// later, a deletion, an import, another process without the definition),
// and a node reads only what changed since it last asked; a new
// definition computes it all again.
func TestRefsFollowEveryWayARecordChanges(t *testing.T) {
	ctx := context.Background()
	p := &waitsPolicy{}
	s, key := newStore(t, Options{Admit: p.admit})
	if _, _, _, err := s.RefsSince(ctx, 0); err != ErrNoRefs {
		t.Fatalf("before a definition: %v, want ErrNoRefs", err)
	}
	if err := s.SetRefs(ctx, photoRefs(1)); err != nil {
		t.Fatal(err)
	}
	m, mark, all := refsSince(t, s, 0)
	if !all || len(m) != 0 {
		t.Fatalf("an empty store: %v (all %v)", namesOf(m), all)
	}

	// A responder's records, one naming a photo.
	a, b, c, d, e := syncproto.NewRecordID(), syncproto.NewRecordID(), syncproto.NewRecordID(), syncproto.NewRecordID(), syncproto.NewRecordID()
	written, err := s.Write(ctx, []Edit{edit(t, a, true, "photo", "p1", "roof", "intact"), edit(t, b, true, "roof", "intact")})
	if err != nil {
		t.Fatal(err)
	}
	m, mark, all = refsSince(t, s, mark)
	wantNames(t, "after a local write", m, map[syncproto.RecordID][]string{a: {"p1"}})
	if all || m[a][0].Stream != (syncproto.Stream{Origin: s.Self().ID, Lane: 3}) {
		t.Fatalf("after a local write: all %v, %+v", all, m[a])
	}

	// A peer creates a record naming p2 and replaces a's photo with p3; a
	// rogue's change naming p4, kept aside for a kit version not here.
	peer, rogue := syncproto.NodeID{0xb1}, syncproto.NodeID{0xb2}
	hlc := syncproto.MakeHLC(time.Now().UnixMilli(), 0)
	aFirst := written[0].Dot
	in := []Incoming{
		fromPeer(t, syncproto.Change{Origin: peer, Seq: 1, HLC: hlc, Record: c, Fields: setField(t, "photo", "p2")}),
		fromPeer(t, syncproto.Change{Origin: peer, Seq: 2, HLC: hlc + 1, Record: a, Fields: setField(t, "photo", "p3", aFirst)}),
		fromPeer(t, syncproto.Change{Origin: rogue, Seq: 1, HLC: hlc + 2, Record: d,
			Fields: []syncproto.FieldChange{{Name: "note", Value: cborOf(t, "kit")}, {Name: "photo", Value: cborOf(t, "p4")}}}),
	}
	if res, err := s.Apply(ctx, in); err != nil || res.Quarantined != 1 {
		t.Fatalf("the peers' changes: %+v, %v", res, err)
	}
	m, mark, _ = refsSince(t, s, mark)
	wantNames(t, "after a session", m, map[syncproto.RecordID][]string{a: {"p3"}, c: {"p2"}})

	// The kit comes: the rogue's change merges without a new change in
	// the log, and what it names is known all the same.
	p.kitOpen.Store(true)
	if n, err := s.Readmit(ctx); err != nil || n != 1 {
		t.Fatalf("readmit: %d, %v", n, err)
	}
	m, mark, _ = refsSince(t, s, mark)
	wantNames(t, "after a change kept aside merged", m, map[syncproto.RecordID][]string{d: {"p4"}})

	// a deleted names nothing; an import naming p5.
	if _, err := s.Write(ctx, []Edit{edit(t, a, false, syncproto.DeletedField, true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Import(ctx, imported(t, edit(t, e, true, "photo", "p5"))); err != nil {
		t.Fatal(err)
	}
	m, mark, _ = refsSince(t, s, mark)
	wantNames(t, "after a deletion and an import", m, map[syncproto.RecordID][]string{a: {}, e: {"p5"}})
	if m, next, _ := refsSince(t, s, mark); len(m) != 0 || next != mark {
		t.Fatalf("nothing changed, yet %v (mark %d, was %d)", namesOf(m), next, mark)
	}

	// Another process, without the definition, adds a photo to b: the
	// record is read again when the node next asks.
	other, err := Open(ctx, s.path, Options{Key: key, Tally: testTally})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Write(ctx, []Edit{edit(t, b, false, "photo", "p6")}); err != nil {
		t.Fatal(err)
	}
	other.Close()
	m, mark, _ = refsSince(t, s, mark)
	wantNames(t, "after another process's write", m, map[syncproto.RecordID][]string{b: {"p6"}})

	// Another definition (new kits, a new key): everything again, the
	// same as the changes gave.
	want := map[syncproto.RecordID][]string{b: {"p6"}, c: {"p2"}, d: {"p4"}, e: {"p5"}}
	if err := s.SetRefs(ctx, photoRefs(2)); err != nil {
		t.Fatal(err)
	}
	m, _, all = refsSince(t, s, mark)
	if !all {
		t.Fatal("a new definition: not said to be all")
	}
	wantNames(t, "after a new definition", m, want)
	// A process starting now reads the same from the start.
	again, err := Open(ctx, s.path, Options{Key: key, Tally: testTally})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if err := again.SetRefs(ctx, photoRefs(2)); err != nil {
		t.Fatal(err)
	}
	m, _, all, err = again.RefsSince(ctx, 0)
	if err != nil || !all {
		t.Fatalf("from the start: all %v, %v", all, err)
	}
	wantNames(t, "a process starting", m, want)
}
