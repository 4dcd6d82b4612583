package store

import (
	"context"
	"iter"
	"strings"
	"testing"

	"lifeline/syncproto"
)

// assessments makes n new records like the benchmark workload's (13
// fields, 600 characters of notes).
func assessments(n int) []Edit {
	notes, _ := syncproto.Marshal(strings.Repeat("flood roof down ", 38))
	small, _ := syncproto.Marshal("Benque Viejo")
	names := []string{"damage_level", "displaced", "district", "household_size", "injured", "lat", "lon", "needs", "notes", "reported_at", "reported_by", "structure_type", "village"}
	edits := make([]Edit, n)
	for i := range edits {
		e := Edit{Record: syncproto.NewRecordID(), Create: true, Lane: 3, Kit: "damage-assessment", Type: "damage-assessment", Version: 1, Author: "bench"}
		for _, name := range names {
			v := small
			if name == "notes" {
				v = notes
			}
			e.Fields = append(e.Fields, syncproto.FieldChange{Name: name, Value: v})
		}
		edits[i] = e
	}
	return edits
}

// BenchmarkImport measures the store's bulk import of 50,000 records like
// the benchmark workload's (13 fields, 600 characters of notes), without
// parsing: what the store adds to an import.
func BenchmarkImport(b *testing.B) {
	edits := assessments(50000)
	for range b.N {
		b.StopTimer()
		s, _ := newStore(b, Options{})
		b.StartTimer()
		res, err := s.Import(context.Background(), iter.Seq2[Edit, error](func(yield func(Edit, error) bool) {
			for _, e := range edits {
				if !yield(e, nil) {
					return
				}
			}
		}))
		if err != nil || res.Added != len(edits) {
			b.Fatal(res, err)
		}
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(len(edits)*b.N)/b.Elapsed().Seconds(), "records/s")
}
