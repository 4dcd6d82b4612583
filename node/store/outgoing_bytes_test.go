//go:build !mutate

package store

import (
	"context"
	"testing"

	"lifeline/syncproto"
)

// Left out of a mutation run (the mutate tag): it checks the outbox's
// bound in bytes, with 36 MB of changes, and reaches the apply path only
// as TestLargestChangesTravel does.

// A stream of large changes, signed every five as a peer sent them, is
// passed on in batches bounded in bytes, each cut at a signed head, each
// within a frame and a batch's limits; the relay's own record travels
// too. Without the bound in bytes, the 180 changes of 200 KiB made one
// batch of 36 MB that no frame could carry.
func TestOutgoingBoundedInBytes(t *testing.T) {
	ctx := context.Background()
	origin, ko := newStore(t, Options{})
	relay, kr := newStore(t, Options{VerifyHead: verifier(ko)})
	laptop, _ := newStore(t, Options{VerifyHead: verifier(ko, kr)})
	notes := bigNotes(200 << 10)
	for range 36 {
		var edits []Edit
		for range 5 {
			edits = append(edits, edit(t, syncproto.NewRecordID(), true, "notes", notes))
		}
		if _, err := origin.Write(ctx, edits); err != nil {
			t.Fatal(err)
		}
	}
	// Runs of five, as a peer sends them: the relay holds a signature
	// every five changes.
	for seq := uint64(0); seq < 180; seq += 5 {
		runs, _, err := origin.Outgoing(ctx, syncproto.Vector{lane3(origin): seq}, 5)
		if err != nil || len(runs) != 1 || len(runs[0].Bodies) != 5 {
			t.Fatalf("the origin's run after %d: %d runs, %v", seq, len(runs), err)
		}
		if _, err := relay.Apply(ctx, incomingOf(t, runs)); err != nil {
			t.Fatal(err)
		}
	}
	own := syncproto.NewRecordID()
	if _, err := relay.Write(ctx, []Edit{edit(t, own, true, "village", "San Ignacio")}); err != nil {
		t.Fatal(err)
	}
	sizes := drain(t, relay, laptop, syncproto.Vector{}, 1000)
	total := 0
	for _, n := range sizes {
		total += n
		if n%5 > 1 { // the relay's own record rides in one of them
			t.Fatalf("a batch of %d changes: not cut at a signed head (batches %v)", n, sizes)
		}
	}
	if total != 181 || len(sizes) < 18 {
		t.Fatalf("batches of %v changes", sizes)
	}
	if _, err := laptop.Record(ctx, own); err != nil {
		t.Fatalf("the relay's own record: %v", err)
	}
	if digest(t, relay) != digest(t, laptop) {
		t.Fatal("the laptop does not hold what the relay holds")
	}
}
