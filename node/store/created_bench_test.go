package store

import (
	"context"
	"iter"
	"testing"

	"lifeline/syncproto"
)

// BenchmarkCreated measures listing the records ranges of changes create,
// as the ledger's leader does for every commit: 50,000 new records of one
// stream, in parts of 4,096 changes.
func BenchmarkCreated(b *testing.B) {
	edits := assessments(50000)
	s, _ := newStore(b, Options{})
	defer s.Close()
	ctx := context.Background()
	if _, err := s.Import(ctx, iter.Seq2[Edit, error](func(yield func(Edit, error) bool) {
		for _, e := range edits {
			if !yield(e, nil) {
				return
			}
		}
	})); err != nil {
		b.Fatal(err)
	}
	v, _ := s.Vector(ctx)
	var st syncproto.Stream
	for k := range v {
		st = k
	}
	b.ResetTimer()
	for range b.N {
		for lo := uint64(1); lo <= 50000; lo += 4096 {
			out, err := s.Created(ctx, st, lo, min(50000, lo+4095))
			if err != nil || len(out) == 0 {
				b.Fatal(err, len(out))
			}
		}
	}
	b.ReportMetric(float64(50000*b.N)/b.Elapsed().Seconds(), "changes/s")
}
