package store

import (
	"context"
	"errors"
	"slices"
	"testing"

	"lifeline/syncproto"
)

// A listing read in pages, each starting after the last record of the one
// before, yields every record once and in the order a whole listing does,
// newest first too; a page that starts after a record this node never
// stored is refused, not taken for the first page.
func TestRecordsAfterPagesThroughEveryRecordOnce(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t, Options{})
	var ids []syncproto.RecordID
	for i := range 600 { // more than one of Records' own pages
		id := syncproto.NewRecordID()
		ids = append(ids, id)
		if _, err := s.Write(ctx, []Edit{edit(t, id, true, "household_size", i)}); err != nil {
			t.Fatal(err)
		}
	}
	// The 10th record deleted: skipped, and a page may still start after it.
	if _, err := s.Write(ctx, []Edit{edit(t, ids[9], false, syncproto.DeletedField, true)}); err != nil {
		t.Fatal(err)
	}
	live := slices.Delete(slices.Clone(ids), 9, 10)
	pages := func(newest bool, size int) []syncproto.RecordID {
		var got []syncproto.RecordID
		var after syncproto.RecordID
		for {
			n := 0
			for r, err := range s.Records(ctx, Query{Newest: newest, Limit: size, After: after}) {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, r.ID)
				after = r.ID
				n++
			}
			if n < size {
				return got
			}
		}
	}
	for _, size := range []int{7, 256, 1000} {
		if got := pages(false, size); !slices.Equal(got, live) {
			t.Fatalf("pages of %d: %d records, want the %d stored, in order", size, len(got), len(live))
		}
	}
	reversed := slices.Clone(live)
	slices.Reverse(reversed)
	if got := pages(true, 50); !slices.Equal(got, reversed) {
		t.Fatalf("newest first in pages of 50: %d records, want the %d stored, newest first", len(got), len(live))
	}
	// After the deleted one: the records stored after it.
	var got []syncproto.RecordID
	for r, err := range s.Records(ctx, Query{After: ids[9], Limit: 3}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, r.ID)
	}
	if !slices.Equal(got, ids[10:13]) {
		t.Fatalf("after a deleted record: %v, want %v", got, ids[10:13])
	}
	var err error
	for _, err = range s.Records(ctx, Query{After: syncproto.NewRecordID()}) {
		break
	}
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("after a record never stored: %v, want not found", err)
	}
}
