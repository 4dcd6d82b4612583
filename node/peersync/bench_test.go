package peersync

import (
	"context"
	"iter"
	"strings"
	"testing"

	"lifeline/node/identity"
	"lifeline/node/store"
	"lifeline/syncproto"
)

// BenchmarkCatchUp measures a session in which one node sends 20,000
// records like the benchmark workload's to an empty one, every chain and
// signature checked, over an in-memory pipe.
func BenchmarkCatchUp(b *testing.B) {
	const n = 20000
	for range b.N {
		b.StopTimer()
		ring := &keyring{keys: map[syncproto.NodeID]*identity.Key{}}
		a, c := newPeer(b, ring, "a"), newPeer(b, ring, "c")
		edits := func(yield func(store.Edit, error) bool) {
			for range n {
				if !yield(assessment(syncproto.NewRecordID()), nil) {
					return
				}
			}
		}
		if _, err := a.Import(context.Background(), iter.Seq2[store.Edit, error](edits)); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		ra, rc, ea, ec := pair(b, ring, a, c)
		b.StopTimer()
		if ea != nil || ec != nil || rc.Received != n {
			b.Fatal(ea, ec, ra, rc)
		}
		a.Close()
		c.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkIncremental measures a session that brings 1,000 edits of
// records the receiver holds (W2's shape, without processes or TLS).
func BenchmarkIncremental(b *testing.B) {
	const n, edited = 20000, 1000
	ring := &keyring{keys: map[syncproto.NodeID]*identity.Key{}}
	a, c := newPeer(b, ring, "a"), newPeer(b, ring, "c")
	ids := make([]syncproto.RecordID, n)
	edits := func(yield func(store.Edit, error) bool) {
		for i := range n {
			ids[i] = syncproto.NewRecordID()
			if !yield(assessment(ids[i]), nil) {
				return
			}
		}
	}
	ctx := context.Background()
	if _, err := a.Import(ctx, iter.Seq2[store.Edit, error](edits)); err != nil {
		b.Fatal(err)
	}
	if _, _, ea, ec := pair(b, ring, a, c); ea != nil || ec != nil {
		b.Fatal(ea, ec)
	}
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		batch := make([]store.Edit, edited)
		for j := range batch {
			v, _ := syncproto.Marshal(strings.Repeat("x", i%7+1))
			batch[j] = store.Edit{Record: ids[(i*edited+j)%n], Lane: 3, Kit: "damage-assessment", Type: "damage-assessment", Version: 1, Author: "bench",
				Fields: []syncproto.FieldChange{{Name: "village", Value: v}}}
		}
		if _, err := a.Write(ctx, batch); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		_, rc, ea, ec := pair(b, ring, a, c)
		if ea != nil || ec != nil || rc.Received != edited {
			b.Fatal(ea, ec, rc)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/session")
}

// assessment is a new record like the benchmark workload's (13 fields, 600
// characters of notes).
func assessment(id syncproto.RecordID) store.Edit {
	notes, _ := syncproto.Marshal(strings.Repeat("flood roof down ", 38))
	small, _ := syncproto.Marshal("Benque Viejo")
	e := store.Edit{Record: id, Create: true, Lane: 3, Kit: "damage-assessment", Type: "damage-assessment", Version: 1, Author: "bench"}
	for _, name := range []string{"damage_level", "displaced", "district", "household_size", "injured", "lat", "lon", "needs", "notes", "reported_at", "reported_by", "structure_type", "village"} {
		v := small
		if name == "notes" {
			v = notes
		}
		e.Fields = append(e.Fields, syncproto.FieldChange{Name: name, Value: v})
	}
	return e
}
