package store

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"pgregory.net/rapid"

	"lifeline/node/identity"
	"lifeline/syncproto"
)

// An origin's stream reaches a node in every way it can: by sync from the
// node's head or from past what it says it holds aside, by bundles that
// start anywhere (after a gap, or over what the node holds), with changes stamped ahead, beside changes a thief
// forged under the origin's name by bundle, and releases as the clock
// moves on. Whatever came before, the origin's honest changes are never
// refused, and once the clock has passed their stamps and the origin syncs
// its stream, the node holds all of it, and no forged change merged.
func TestAStreamArrivesWhateverCameBefore(t *testing.T) {
	checks(t, 300) // each case commits a dozen transactions to a file
	ctx := context.Background()
	thief, err := identity.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	// One node for every case, each case a new origin; its clock moves on
	// from case to case, never back.
	var mu sync.Mutex
	now := time.UnixMilli(1_750_000_000_000)
	clock := syncproto.NewClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return now }, 10*time.Minute)
	origins := map[syncproto.NodeID]*identity.Key{}
	verify := func(s syncproto.Stream, seq uint64, head syncproto.Hash, sig []byte) error {
		mu.Lock()
		key := origins[s.Origin]
		mu.Unlock()
		if key == nil || !identity.VerifyHead(key.Public(), s, seq, head, sig) {
			return errors.New("signature does not verify")
		}
		return nil
	}
	s, _ := newStore(t, Options{Clock: clock, VerifyHead: verify})
	const lane = 3
	rapid.Check(t, func(rt *rapid.T) {
		origin, err := identity.NewKey()
		if err != nil {
			rt.Fatal(err)
		}
		mu.Lock()
		origins[origin.ID()] = origin
		now = now.Add(5 * time.Hour)
		start := now
		mu.Unlock()
		st := syncproto.Stream{Origin: origin.ID(), Lane: lane}

		// The origin's stream: n changes, some stamped hours ahead.
		n := rapid.IntRange(2, 10).Draw(rt, "changes")
		stream := &chain{origin: origin, lane: lane}
		records := make([]syncproto.RecordID, n)
		for i := range n {
			at := start
			if rapid.IntRange(0, 4).Draw(rt, fmt.Sprintf("ahead%d", i+1)) == 0 {
				at = start.Add(time.Duration(rapid.IntRange(1, 3).Draw(rt, fmt.Sprintf("hours%d", i+1))) * time.Hour)
			}
			records[i] = stream.add(t, at)
		}
		run := func(from, to int) []Incoming { return stream.run(t, from, to) }
		apply := func(holdGaps bool, batches ...[]Incoming) ([]ApplyResult, error) {
			return s.ApplyAll(ctx, func(yield func([]Incoming, error) bool) {
				for _, b := range batches {
					if !yield(b, nil) {
						return
					}
				}
			}, holdGaps)
		}
		headOf := func() int {
			v, err := s.Vector(ctx)
			if err != nil {
				rt.Fatal(err)
			}
			return int(v[st])
		}
		forgedRecords := map[syncproto.RecordID]bool{}

		steps := rapid.IntRange(1, 8).Draw(rt, "steps")
		for i := range steps {
			h := headOf()
			switch op := rapid.IntRange(0, 5).Draw(rt, fmt.Sprintf("op%d", i)); op {
			case 0: // the origin, or a relay, syncs from the node's head
				if h == n {
					continue
				}
				to := rapid.IntRange(h+1, n).Draw(rt, fmt.Sprintf("to%d", i))
				// A relay may cut the stream into two runs of one batch.
				cut := rapid.IntRange(h, to-1).Draw(rt, fmt.Sprintf("cut%d", i))
				batch := run(cut+1, to)
				if cut > h {
					batch = append(run(h+1, cut), batch...)
				}
				if _, err := apply(false, batch); err != nil {
					rt.Fatalf("step %d: the origin's changes %d to %d by sync were refused: %v", i, h+1, to, err)
				}
			case 1: // a bundle of the origin's changes, from anywhere
				from := rapid.IntRange(1, n).Draw(rt, fmt.Sprintf("from%d", i))
				to := rapid.IntRange(from, n).Draw(rt, fmt.Sprintf("to%d", i))
				if _, err := apply(true, run(from, to)); err != nil {
					rt.Fatalf("step %d: a bundle of the origin's changes %d to %d was refused: %v", i, from, to, err)
				}
			case 2: // a thief's bundle: a change forged as the origin's
				seq := rapid.IntRange(1, n+1).Draw(rt, fmt.Sprintf("forged%d", i))
				at := start
				if rapid.Bool().Draw(rt, fmt.Sprintf("forgedAhead%d", i)) {
					at = start.AddDate(10, 0, 0)
				}
				in := forge(t, thief, origin, lane, uint64(seq), at)
				forgedRecords[in.Change.Record] = true
				apply(true, []Incoming{in}) // held, or refused: either way never merged
			case 5: // a peer syncs, skipping what the node says it holds aside
				aside, err := s.HeldAside(ctx)
				if err != nil {
					rt.Fatal(err)
				}
				from := max(h, int(aside[st])) + 1
				if aside[st] == 0 || from > n {
					continue
				}
				to := rapid.IntRange(from, n).Draw(rt, fmt.Sprintf("to%d", i))
				if _, err := apply(false, run(from, to)); err != nil {
					rt.Fatalf("step %d: the origin's changes %d to %d by sync, after those held aside, were refused: %v", i, from, to, err)
				}
			case 3: // time passes
				mu.Lock()
				now = now.Add(time.Duration(rapid.IntRange(1, 4).Draw(rt, fmt.Sprintf("hours%d", i))) * time.Hour)
				mu.Unlock()
				fallthrough
			case 4:
				if _, err := s.ReleaseHeld(ctx); err != nil {
					rt.Fatalf("step %d: releasing held changes: %v", i, err)
				}
			}
		}

		// The clock passes every stamp of the origin's; the origin syncs its
		// stream, as every peer does: past what the node says it holds
		// aside.
		mu.Lock()
		now = start.Add(4 * time.Hour)
		mu.Unlock()
		if _, err := s.ReleaseHeld(ctx); err != nil {
			rt.Fatalf("releasing held changes: %v", err)
		}
		aside, err := s.HeldAside(ctx)
		if err != nil {
			rt.Fatal(err)
		}
		if from := max(headOf(), int(aside[st])) + 1; from <= n {
			if _, err := apply(false, run(from, n)); err != nil {
				rt.Fatalf("the origin's changes %d to %d by sync, at the end, were refused: %v", from, n, err)
			}
			if _, err := s.ReleaseHeld(ctx); err != nil {
				rt.Fatalf("releasing held changes: %v", err)
			}
		}
		if h := headOf(); h != n {
			rt.Fatalf("the node holds the origin's stream up to %d of %d", h, n)
		}
		for i, id := range records {
			r, err := s.Record(ctx, id)
			var v int
			if err == nil && (len(r.Fields) != 1 || r.Fields[0].Name != "n" || syncproto.Unmarshal(r.Fields[0].Versions[0].Value, &v) != nil || v != i+1) {
				err = fmt.Errorf("fields %+v", r.Fields)
			}
			if err != nil {
				rt.Fatalf("the origin's record %d: %v", i+1, err)
			}
		}
		for id := range forgedRecords {
			if _, err := s.Record(ctx, id); err == nil {
				rt.Fatalf("a forged change merged: record %s", id)
			}
		}
		// Nor is anything of the origin's still held, forged or not.
		var left int
		id := origin.ID()
		if err := s.rdb.QueryRowContext(ctx, `SELECT count(*) FROM held WHERE node_id = ?`, id[:]).Scan(&left); err != nil || left != 0 {
			rt.Fatalf("%d changes of the origin still held (%v)", left, err)
		}
	})
}

// A thief's stick carries changes forged under a responder's name, each
// after a gap, so that nothing can check them yet: they fill the thief's
// share of the held table, not the responder's, whose own changes stamped
// ahead are still held.
func TestAThiefsStickFillsOnlyTheThiefsShare(t *testing.T) {
	ctx := context.Background()
	now := time.UnixMilli(1_750_000_000_000)
	s, origin, thief := originStore(t, syncproto.NewClock(func() time.Time { return now }, 10*time.Minute))
	const lane = 3
	forged := make([]Incoming, MaxHeldPerOrigin+1)
	for i := range forged {
		forged[i] = forge(t, thief, origin, lane, uint64(1_000_000+i), now)
	}
	if res, err := bundle(ctx, s, forged); err != nil || res.Held != MaxHeldPerOrigin || res.Dropped != 1 {
		t.Fatalf("the thief's stick: %+v, %v; want %d held and 1 dropped", res, err, MaxHeldPerOrigin)
	}

	// The responder's run by sync: 1 merges, 2 is stamped ahead, 3 follows.
	stream := &chain{origin: origin, lane: lane}
	for _, at := range []time.Time{now, now.Add(time.Hour), now} {
		stream.add(t, at)
	}
	res, err := s.Apply(ctx, stream.run(t, 1, 3))
	if err != nil || res.Applied != 1 || res.Held != 2 || res.Dropped != 0 {
		t.Fatalf("the responder's run by sync: %+v, %v; want 1 merged and 2 held", res, err)
	}
}

// A responder's share of held changes is full of its own, stamped ahead.
// Its run then comes by sync: the first change merges, the second is
// stamped ahead and finds no room. That one and those after it are not
// kept, to come again; the signature at the run's end still vouches for
// the change merged, and the sync is not refused.
func TestAFullHeldShareRefusesNoSync(t *testing.T) {
	ctx := context.Background()
	now := time.UnixMilli(1_750_000_000_000)
	s, origin, thief := originStore(t, syncproto.NewClock(func() time.Time { return now }, 10*time.Minute))
	// run is the origin's stream in lane, from 1, stamped at the times
	// given, signed on the last.
	run := func(lane uint8, at ...time.Time) []Incoming {
		stream := &chain{origin: origin, lane: lane}
		for _, at := range at {
			stream.add(t, at)
		}
		return stream.run(t, 1, len(at))
	}
	ahead := make([]time.Time, MaxHeldPerOrigin)
	for i := range ahead {
		ahead[i] = now.Add(time.Hour + time.Duration(i)*time.Millisecond)
	}
	if res, err := s.Apply(ctx, run(4, ahead...)); err != nil || res.Held != MaxHeldPerOrigin {
		t.Fatalf("the responder's changes stamped ahead: %+v, %v", res, err)
	}
	three := run(3, now, now.Add(time.Hour), now)
	res, err := s.Apply(ctx, three)
	if err != nil || res.Applied != 1 || res.Dropped != 2 {
		t.Fatalf("the responder's run by sync: %+v, %v; want 1 merged and 2 dropped", res, err)
	}
	if v, _ := s.Vector(ctx); v[syncproto.Stream{Origin: origin.ID(), Lane: 3}] != 1 {
		t.Fatalf("vector %v, want the responder's stream at 1", v)
	}

	// A forged signature at the run's end is still refused, dropped or not.
	three[2].Sig = thief.SignHead(3, 3, syncproto.ChainHash(syncproto.Hash{}, three[2].Body))
	if _, err := s.Apply(ctx, three[1:]); !errors.Is(err, ErrChain) {
		t.Fatalf("a run whose end a thief signed: %v, want ErrChain", err)
	}
}

// The path the hurricane drill found. A thief's stick holds a change
// forged as the origin's change 2, after a gap; the origin's change 1
// comes by sync. The forgery then follows the head: it is found out in
// that same transaction, not left held aside until a release, where the
// node's hello would tell its peers not to send the real change 2 (they
// sent 3 and 4 only, and the origin's next sync from 2 was refused, for
// 3 and 4 were held already). The origin's 2 to 4 then merge.
func TestAForgedChangeHeldAsideStopsNoStream(t *testing.T) {
	ctx := context.Background()
	s, origin, thief := originStore(t, nil)
	const lane = 3
	st := syncproto.Stream{Origin: origin.ID(), Lane: lane}
	now := time.Now()
	stream := &chain{origin: origin, lane: lane}
	for range 4 {
		stream.add(t, now)
	}
	run := func(from, to int) []Incoming { return stream.run(t, from, to) }
	bySync := func(in []Incoming) ApplyResult {
		t.Helper()
		res, err := s.Apply(ctx, in)
		if err != nil {
			t.Fatalf("changes %d to %d by sync: %v", in[0].Change.Seq, in[len(in)-1].Change.Seq, err)
		}
		return res
	}

	if res, err := bundle(ctx, s, []Incoming{forge(t, thief, origin, lane, 2, now)}); err != nil || res.Held != 1 {
		t.Fatalf("the forged stick: %+v, %v", res, err)
	}
	bySync(run(1, 1))
	if aside, err := s.HeldAside(ctx); err != nil || aside[st] != 0 {
		t.Fatalf("held aside once the origin's change 1 came: %v, %v; want nothing", aside, err)
	}
	if n, _ := s.HeldCount(ctx); n != 0 {
		t.Fatalf("%d held once the origin's change 1 came; want the forgery dropped", n)
	}
	if res := bySync(run(2, 4)); res.Applied != 3 {
		t.Fatalf("the origin's sync from 2: %+v, want 2, 3 and 4 merged", res)
	}
	if v, _ := s.Vector(ctx); v[st] != 4 {
		t.Fatalf("the origin's stream at %d, want 4", v[st])
	}
}

// A change forged after a gap and stamped ten years ahead is found out as
// soon as the gap closes, not in ten years: until then the node's hello
// would tell its peers it holds that change aside, and none would send the
// real one.
func TestAForgedChangeStampedAheadIsDroppedOnceItFollows(t *testing.T) {
	ctx := context.Background()
	s, origin, thief := originStore(t, nil)
	const lane = 3
	st := syncproto.Stream{Origin: origin.ID(), Lane: lane}
	now := time.Now()
	if res, err := bundle(ctx, s, []Incoming{forge(t, thief, origin, lane, 2, now.AddDate(10, 0, 0))}); err != nil || res.Held != 1 {
		t.Fatalf("the forged stick: %+v, %v", res, err)
	}
	stream := &chain{origin: origin, lane: lane}
	stream.add(t, now)
	stream.add(t, now)
	if res, err := s.Apply(ctx, stream.run(t, 1, 1)); err != nil || res.Applied != 1 {
		t.Fatalf("the origin's change 1: %+v, %v", res, err)
	}
	if n, err := s.ReleaseHeld(ctx); err != nil || n != 0 {
		t.Fatalf("the release: %d merged, %v", n, err)
	}
	if n, _ := s.HeldCount(ctx); n != 0 {
		t.Fatalf("the forged change stamped ten years ahead is still held once it follows the head")
	}
	if aside, _ := s.HeldAside(ctx); aside[st] != 0 {
		t.Fatalf("the hello would still say change %d is held aside", aside[st])
	}
	if res, err := s.Apply(ctx, stream.run(t, 2, 2)); err != nil || res.Applied != 1 {
		t.Fatalf("the origin's change 2: %+v, %v", res, err)
	}
}

// A thief's stick carries a change forged in the importing node's own
// stream, after a gap: held. The node's own writes then pass its sequence.
// The forgery is not kept for ever, taking room in the node's share.
func TestAForgedChangePassedByTheStreamIsNotKept(t *testing.T) {
	ctx := context.Background()
	thief, err := identity.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	var s *SQLite
	var key *identity.Key
	verify := func(st syncproto.Stream, seq uint64, head syncproto.Hash, sig []byte) error {
		if st.Origin != key.ID() || !identity.VerifyHead(key.Public(), st, seq, head, sig) {
			return errors.New("signature does not verify")
		}
		return nil
	}
	s, key = newStore(t, Options{VerifyHead: verify})
	if res, err := bundle(ctx, s, []Incoming{forge(t, thief, key, 3, 3, time.Now())}); err != nil || res.Held != 1 {
		t.Fatalf("the forged stick: %+v, %v", res, err)
	}
	for range 4 {
		if _, err := s.Write(ctx, []Edit{edit(t, syncproto.NewRecordID(), true, "n", 1)}); err != nil {
			t.Fatal(err)
		}
	}
	if v, _ := s.Vector(ctx); v[syncproto.Stream{Origin: key.ID(), Lane: 3}] != 4 {
		t.Fatalf("the node's own stream: %v, want at 4", v)
	}
	if _, err := s.ReleaseHeld(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.HeldCount(ctx); n != 0 {
		t.Fatalf("%d held after the node's own stream passed the forged change's sequence", n)
	}
}

// originStore is a store that checks signatures against one origin's key,
// with that origin and a thief, whose key is enrolled but not the
// origin's.
func originStore(t *testing.T, clock *syncproto.Clock) (s *SQLite, origin, thief *identity.Key) {
	t.Helper()
	var err error
	if origin, err = identity.NewKey(); err != nil {
		t.Fatal(err)
	}
	if thief, err = identity.NewKey(); err != nil {
		t.Fatal(err)
	}
	verify := func(st syncproto.Stream, seq uint64, head syncproto.Hash, sig []byte) error {
		if st.Origin != origin.ID() || !identity.VerifyHead(origin.Public(), st, seq, head, sig) {
			return errors.New("signature does not verify")
		}
		return nil
	}
	s, _ = newStore(t, Options{Clock: clock, VerifyHead: verify})
	return s, origin, thief
}

// A relay's stick brings a responder's changes 2 and 3, stamped ahead,
// without 1: held, unchecked, in the relay's share. The responder's run
// 1 to 3 then comes by sync: 1 merges, and 2 and 3, the same changes and
// still stamped ahead, are checked against it; from then on the responder
// answers for them, not the relay.
func TestAHeldChangeCheckedLaterCountsInItsOrigins(t *testing.T) {
	ctx := context.Background()
	now := time.UnixMilli(1_750_000_000_000)
	s, origin, relay := originStore(t, syncproto.NewClock(func() time.Time { return now }, 10*time.Minute))
	const lane = 3
	stream := &chain{origin: origin, lane: lane}
	for _, at := range []time.Time{now, now.Add(time.Hour), now.Add(time.Hour)} {
		stream.add(t, at)
	}
	stick := stream.run(t, 2, 3)
	stick[0].From, stick[1].From = relay.ID(), relay.ID()
	if res, err := bundle(ctx, s, stick); err != nil || res.Held != 2 {
		t.Fatalf("the relay's stick: %+v, %v", res, err)
	}
	if shares, err := s.HeldShares(ctx); err != nil || shares[relay.ID()] != 2 {
		t.Fatalf("held shares after the stick: %v, %v; want 2 in the relay's", shares, err)
	}
	if res, err := s.Apply(ctx, stream.run(t, 1, 3)); err != nil || res.Applied != 1 || res.Duplicates != 2 {
		t.Fatalf("the responder's run by sync: %+v, %v", res, err)
	}
	if shares, err := s.HeldShares(ctx); err != nil || shares[relay.ID()] != 0 || shares[origin.ID()] != 2 {
		t.Fatalf("held shares after the sync: %v, %v; want 2 in the responder's and none in the relay's", shares, err)
	}
}

// checks sets how many cases rapid draws for the test, unless
// -rapid.checks was given, and sets it back after.
func checks(t *testing.T, n int) {
	f := flag.Lookup("rapid.checks")
	if checksGiven || f == nil {
		return
	}
	old := f.Value.String()
	if err := f.Value.Set(strconv.Itoa(n)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Value.Set(old) })
}

// A thief's stick holds a change forged as a responder's change 3, after
// a gap. The responder's 1 and 2 come by sync, both stamped ahead: held,
// and checked. The node's hello says it holds 1 and 2 aside, not the
// forgery: the peer sends the real 3, which takes the forgery's place.
func TestHeldAsideSaysOnlyWhatWasChecked(t *testing.T) {
	ctx := context.Background()
	now := time.UnixMilli(1_750_000_000_000)
	s, origin, thief := originStore(t, syncproto.NewClock(func() time.Time { return now }, 10*time.Minute))
	const lane = 3
	st := syncproto.Stream{Origin: origin.ID(), Lane: lane}
	ahead := now.Add(time.Hour)
	stream := &chain{origin: origin, lane: lane}
	for range 3 {
		stream.add(t, ahead)
	}
	if res, err := bundle(ctx, s, []Incoming{forge(t, thief, origin, lane, 3, ahead)}); err != nil || res.Held != 1 {
		t.Fatalf("the forged stick: %+v, %v", res, err)
	}
	if res, err := s.Apply(ctx, stream.run(t, 1, 2)); err != nil || res.Held != 2 {
		t.Fatalf("the responder's 1 and 2, stamped ahead: %+v, %v", res, err)
	}
	if aside, err := s.HeldAside(ctx); err != nil || aside[st] != 2 {
		t.Fatalf("held aside: %v, %v; want the responder's stream up to 2, not the forgery", aside[st], err)
	}
	if res, err := s.Apply(ctx, stream.run(t, 3, 3)); err != nil || res.Held != 1 {
		t.Fatalf("the responder's 3, sent past what is held aside: %+v, %v", res, err)
	}
	if shares, err := s.HeldShares(ctx); err != nil || shares[origin.ID()] != 3 || shares[thief.ID()] != 0 {
		t.Fatalf("held shares: %v, %v; want the responder's 3 and nothing of the thief's", shares, err)
	}
}

// chain is an origin's stream as its node wrote it: each change's body
// and the chain head after it, from sequence 1.
type chain struct {
	origin *identity.Key
	lane   uint8
	bodies [][]byte
	heads  []syncproto.Hash
}

// add appends a change stamped at that sets field n to the change's
// sequence in a record of its own, and returns the record.
func (c *chain) add(t testing.TB, at time.Time) syncproto.RecordID {
	seq := len(c.bodies) + 1
	in := fromPeer(t, syncproto.Change{Origin: c.origin.ID(), Lane: c.lane, Seq: uint64(seq), HLC: syncproto.MakeHLC(at.UnixMilli(), 0),
		Record: syncproto.NewRecordID(), Fields: setField(t, "n", seq)})
	var prev syncproto.Hash
	if seq > 1 {
		prev = c.heads[seq-2]
	}
	c.bodies, c.heads = append(c.bodies, in.Body), append(c.heads, syncproto.ChainHash(prev, in.Body))
	return in.Change.Record
}

// run is the changes from to to (counted from 1), as a sync or a bundle
// carries them: signed on the last, brought by the origin.
func (c *chain) run(t testing.TB, from, to int) []Incoming {
	var out []Incoming
	for i := from; i <= to; i++ {
		ch, err := syncproto.DecodeChange(c.bodies[i-1])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, Incoming{Change: ch, Body: c.bodies[i-1], From: c.origin.ID()})
	}
	out[len(out)-1].Sig = c.origin.SignHead(c.lane, uint64(to), c.heads[to-1])
	return out
}

// forge is a change a thief passes off as the origin's change seq, in
// lane, stamped at, signed with the thief's key as if it began a stream,
// and brought by the thief.
func forge(t testing.TB, thief, origin *identity.Key, lane uint8, seq uint64, at time.Time) Incoming {
	in := fromPeer(t, syncproto.Change{Origin: origin.ID(), Lane: lane, Seq: seq, HLC: syncproto.MakeHLC(at.UnixMilli(), 0),
		Record: syncproto.NewRecordID(), Fields: setField(t, "forged", int(seq))})
	in.Sig, in.From = thief.SignHead(lane, seq, syncproto.ChainHash(syncproto.Hash{}, in.Body)), thief.ID()
	return in
}

// bundle applies changes as a bundle does: a change after a gap is held.
func bundle(ctx context.Context, s *SQLite, in []Incoming) (ApplyResult, error) {
	out, err := s.ApplyAll(ctx, func(yield func([]Incoming, error) bool) { yield(in, nil) }, true)
	return Sum(out), err
}
