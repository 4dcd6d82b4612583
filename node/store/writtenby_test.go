package store

import (
	"context"
	"slices"
	"testing"
	"time"

	"lifeline/syncproto"
)

// After a laptop is stolen and revoked, headquarters lists every record a
// change of it wrote, in any of its lanes: those it created and those it
// edited, whoever created them; not a record only others wrote, nor one
// its change reached only to be kept aside.
func TestRecordsWrittenByANode(t *testing.T) {
	ctx := context.Background()
	p := &waitsPolicy{}
	s, _ := newStore(t, Options{Admit: p.admit})
	a, b, c, d, e := syncproto.NewRecordID(), syncproto.NewRecordID(), syncproto.NewRecordID(), syncproto.NewRecordID(), syncproto.NewRecordID()
	written, err := s.Write(ctx, []Edit{edit(t, a, true, "roof", "intact"), edit(t, b, true, "roof", "intact")})
	if err != nil {
		t.Fatal(err)
	}
	thief, other := syncproto.NodeID{0xd1}, syncproto.NodeID{0xd2}
	hlc := syncproto.MakeHLC(time.Now().UnixMilli(), 0)
	in := []Incoming{
		fromPeer(t, syncproto.Change{Origin: thief, Lane: 3, Seq: 1, HLC: hlc, Record: c, Fields: setField(t, "roof", "gone")}),
		fromPeer(t, syncproto.Change{Origin: thief, Lane: 1, Seq: 1, HLC: hlc + 1, Record: a, Fields: setField(t, "roof", "gone", written[0].Dot)}),
		fromPeer(t, syncproto.Change{Origin: other, Lane: 3, Seq: 1, HLC: hlc + 2, Record: d, Fields: setField(t, "roof", "gone")}),
		fromPeer(t, syncproto.Change{Origin: other, Lane: 3, Seq: 2, HLC: hlc + 3, Record: b, Fields: setField(t, "roof", "gone", written[1].Dot)}),
		// Kept aside: its kit version is not here.
		fromPeer(t, syncproto.Change{Origin: thief, Lane: 3, Seq: 2, HLC: hlc + 4, Record: e,
			Fields: []syncproto.FieldChange{{Name: "note", Value: cborOf(t, "kit")}, {Name: "roof", Value: cborOf(t, "gone")}}}),
	}
	if res, err := s.Apply(ctx, in); err != nil || res.Quarantined != 1 {
		t.Fatalf("the peers' changes: %+v, %v", res, err)
	}
	by := func(node syncproto.NodeID, q Query) []string {
		t.Helper()
		q.WrittenBy = node
		var ids []syncproto.RecordID
		for r, err := range s.Records(ctx, q) {
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, r.ID)
		}
		return idsOf(ids)
	}
	for _, tc := range []struct {
		what string
		node syncproto.NodeID
		q    Query
		want []syncproto.RecordID
	}{
		{"the thief", thief, Query{}, []syncproto.RecordID{a, c}},
		{"the thief, newest first, one", thief, Query{Newest: true, Limit: 1}, []syncproto.RecordID{c}},
		{"the other peer", other, Query{}, []syncproto.RecordID{b, d}},
		{"this node", s.Self().ID, Query{}, []syncproto.RecordID{a, b}},
		{"a node never heard of", syncproto.NodeID{0xd3}, Query{}, nil},
		{"anyone", syncproto.NodeID{}, Query{}, []syncproto.RecordID{a, b, c, d}},
	} {
		if got, want := by(tc.node, tc.q), idsOf(tc.want); !slices.Equal(got, want) {
			t.Errorf("%s: %q, want %q", tc.what, got, want)
		}
	}
}

// BenchmarkRecordsWrittenBy lists 50,000 records unfiltered, written by
// the node that wrote them all, and written by a node that wrote none.
func BenchmarkRecordsWrittenBy(b *testing.B) {
	ctx := context.Background()
	s, _ := newStore(b, Options{})
	for range 10 {
		var es []Edit
		for range 5000 {
			es = append(es, edit(b, syncproto.NewRecordID(), true, "roof", "intact"))
		}
		if _, err := s.Write(ctx, es); err != nil {
			b.Fatal(err)
		}
	}
	for _, bc := range []struct {
		name string
		by   syncproto.NodeID
		want int
	}{{"anyone", syncproto.NodeID{}, 50_000}, {"the writer", s.Self().ID, 50_000}, {"another", syncproto.NodeID{0xd1}, 0}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				n := 0
				for _, err := range s.Records(ctx, Query{WrittenBy: bc.by}) {
					if err != nil {
						b.Fatal(err)
					}
					n++
				}
				if n != bc.want {
					b.Fatalf("%d records, want %d", n, bc.want)
				}
			}
		})
	}
}
