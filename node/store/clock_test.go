package store

import (
	"context"
	"testing"
	"time"

	"lifeline/syncproto"
)

// A node that merges a peer's change stamped ahead of its own clock stamps
// its next change after it, so that what someone writes after seeing a
// change sorts after it, even on a laptop whose clock is behind: as far as
// one second past the node's wall clock (docs/architecture.md, "Ids and
// clocks"). A peer further ahead, within the ten minutes a node accepts,
// moves the node's stamps that second and no more, or every node that saw
// its changes would stamp its own too far ahead for the slower laptops.
// Clocks here are fixed: each expectation follows from the HLC's
// definition (wall milliseconds, then a counter), not from the code.
func TestLocalChangeStampedAfterMergedChange(t *testing.T) {
	const observeAhead = time.Second // how far past its wall clock a node follows a peer
	for _, tc := range []struct {
		name    string
		ahead   time.Duration // the peer's clock, ahead of the receiver's
		restart bool          // the receiver restarts before it writes
	}{
		{name: "a peer half a second ahead", ahead: 500 * time.Millisecond},
		{name: "a peer a millisecond ahead", ahead: time.Millisecond},
		{name: "a peer half a second ahead, then a restart", ahead: 500 * time.Millisecond, restart: true},
		{name: "a peer five minutes ahead", ahead: 5 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			peer, _ := newStore(t, Options{Clock: fixedClock(tc.ahead)})
			clock := fixedClock(0)
			recv, key := newStore(t, Options{Clock: clock})
			id := syncproto.NewRecordID()
			w, err := peer.Write(ctx, []Edit{edit(t, id, true, "village", "Succotz", "damage_level", 2)})
			if err != nil {
				t.Fatal(err)
			}
			theirs := w[0].HLC
			if want := syncproto.MakeHLC(wall+tc.ahead.Milliseconds(), 0); theirs != want {
				t.Fatalf("the peer stamped %s, want %s: its clock's first stamp", theirs, want)
			}
			res, err := recv.Apply(ctx, missing(t, peer, syncproto.Vector{}))
			if err != nil || res.Applied != 1 || res.Held != 0 {
				t.Fatalf("merging the peer's change: %+v %v", res, err)
			}
			// The clock the node stamps with has followed the change as it
			// merged, before any other transaction began.
			bound := syncproto.MakeHLC(wall+observeAhead.Milliseconds(), 0)
			if now := clock.Now(); now <= min(theirs, bound) {
				t.Fatalf("right after the merge the node's clock stamps %s, want after %s", now, min(theirs, bound))
			}
			if tc.restart {
				path := recv.path
				if err := recv.Close(); err != nil {
					t.Fatal(err)
				}
				if recv, err = Open(ctx, path, Options{Key: key, Clock: fixedClock(0)}); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { recv.Close() })
			}
			mine, err := recv.Write(ctx, []Edit{edit(t, syncproto.NewRecordID(), true, "village", "Benque Viejo")})
			if err != nil {
				t.Fatal(err)
			}
			ours := mine[0].HLC
			if tc.ahead <= observeAhead {
				if ours <= theirs {
					t.Fatalf("the node stamped its next change %s, not after the peer's %s", ours, theirs)
				}
				return
			}
			if ours <= bound || ours >= theirs {
				t.Fatalf("the node stamped its next change %s; want it past %s, a second past its clock, and before the peer's %s",
					ours, bound, theirs)
			}
			// An edit of the peer's record still replaces the peer's value,
			// by naming it as its base: no conflict, whatever the stamps.
			if _, err := recv.Write(ctx, []Edit{edit(t, id, false, "damage_level", 3)}); err != nil {
				t.Fatal(err)
			}
			rec, err := recv.Record(ctx, id)
			if err != nil || rec.Conflicts != 0 || value(t, rec, "damage_level") != int64(3) {
				t.Fatalf("after editing the peer's record: %+v %v", rec, err)
			}
		})
	}
}
