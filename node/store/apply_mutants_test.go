package store

// Tests of the path a peer's change takes into the store that mutation
// testing (make mutate) found unpinned: the held table's share per origin,
// what a transaction that holds, merges and keeps aside commits, the
// write policy's quarantine and readmission, and the bound on versions a
// field waits for.

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"lifeline/node/identity"
	"lifeline/syncproto"
)

// fromPeer encodes a change of a node that is not a store here, as a peer
// would send it (without a signature: these stores check none).
func fromPeer(t testing.TB, c syncproto.Change) Incoming {
	t.Helper()
	if c.Lane == 0 {
		c.Lane = 3
	}
	c.Kit, c.Type, c.Version = "damage-assessment", "damage-assessment", 1
	body, err := c.Encode()
	if err != nil {
		t.Fatal(err)
	}
	dec, err := syncproto.DecodeChange(body)
	if err != nil {
		t.Fatal(err)
	}
	return Incoming{Change: dec, Body: body}
}

func setField(t testing.TB, name string, v any, base ...syncproto.Dot) []syncproto.FieldChange {
	return []syncproto.FieldChange{{Name: name, Value: cborOf(t, v), Base: base}}
}

// An origin's changes held for being stamped ahead take at most
// MaxHeldPerOrigin rows, counted across transactions and within one; the
// rest are dropped, to come again later.
func TestHeldShareOfAnOrigin(t *testing.T) {
	ctx := context.Background()
	now := time.UnixMilli(1_750_000_000_000)
	s, _ := newStore(t, Options{Clock: syncproto.NewClock(func() time.Time { return now }, 10*time.Minute)})
	origin := syncproto.NodeID{0xaa}
	ahead := syncproto.MakeHLC(now.Add(24*time.Hour).UnixMilli(), 0)
	in := make([]Incoming, MaxHeldPerOrigin+1)
	for i := range in {
		in[i] = fromPeer(t, syncproto.Change{Origin: origin, Seq: uint64(i + 1), HLC: ahead + syncproto.HLC(i),
			Record: syncproto.NewRecordID(), Fields: setField(t, "n", i)})
	}
	first := 4000
	res, err := s.Apply(ctx, in[:first])
	if err != nil || res.Held != first || res.Dropped != 0 {
		t.Fatalf("the first %d: %+v, %v", first, res, err)
	}
	res, err = s.Apply(ctx, in[first:])
	if err != nil || res.Held != MaxHeldPerOrigin-first || res.Dropped != 1 {
		t.Fatalf("the rest: %+v, %v; want %d held and 1 dropped", res, err, MaxHeldPerOrigin-first)
	}
	if n, err := s.HeldCount(ctx); err != nil || n != MaxHeldPerOrigin {
		t.Fatalf("%d held, %v; want %d", n, err, MaxHeldPerOrigin)
	}

	// Within one transaction alike.
	s2, _ := newStore(t, Options{Clock: syncproto.NewClock(func() time.Time { return now }, 10*time.Minute)})
	res, err = s2.Apply(ctx, in)
	if err != nil || res.Held != MaxHeldPerOrigin || res.Dropped != 1 {
		t.Fatalf("all at once: %+v, %v", res, err)
	}
}

// A transaction that merges one change and holds another commits both.
func TestApplyCommitsWhatItMergedAndHeld(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t, Options{})
	origin := syncproto.NodeID{0xbb}
	rec := syncproto.NewRecordID()
	hlc := syncproto.MakeHLC(time.Now().UnixMilli(), 0)
	one := fromPeer(t, syncproto.Change{Origin: origin, Seq: 1, HLC: hlc, Record: rec, Fields: setField(t, "n", 1)})
	three := fromPeer(t, syncproto.Change{Origin: origin, Seq: 3, HLC: hlc + 2, Record: rec, Fields: setField(t, "n", 3)})
	out, err := s.ApplyAll(ctx, func(yield func([]Incoming, error) bool) { yield([]Incoming{one, three}, nil) }, true)
	if err != nil || len(out) != 1 || out[0].Applied != 1 || out[0].Held != 1 {
		t.Fatalf("a batch with a gap, gaps held: %+v, %v", out, err)
	}
	if v, _ := s.Vector(ctx); v[one.Change.Stream()] != 1 {
		t.Fatalf("the merged change is not stored: %v", v)
	}
	if n, _ := s.HeldCount(ctx); n != 1 {
		t.Fatalf("%d held, want 1", n)
	}
}

// policy is a write policy for tests: it refuses, for now, changes whose
// field "note" says "wait", and for good those saying "never".
type policy struct{ open atomic.Bool }

func (p *policy) admit(c *syncproto.Change, _ RecordFacts) Verdict {
	f, ok := c.Field("note")
	if !ok {
		return Verdict{}
	}
	var note string
	syncproto.Unmarshal(f.Value, &note)
	switch {
	case note == "never":
		return Verdict{Reason: "never", Final: true}
	case note == "wait" && !p.open.Load():
		return Verdict{Reason: "waits for the policy"}
	}
	return Verdict{}
}

func TestQuarantineAndReadmit(t *testing.T) {
	ctx := context.Background()
	p := &policy{}
	s, _ := newStore(t, Options{Admit: p.admit})
	origin := syncproto.NodeID{0xcc}
	hlc := syncproto.MakeHLC(time.Now().UnixMilli(), 0)
	change := func(seq uint64, note string) Incoming {
		return fromPeer(t, syncproto.Change{Origin: origin, Seq: seq, HLC: hlc + syncproto.HLC(seq), Record: syncproto.NewRecordID(), Fields: setField(t, "note", note)})
	}
	// One merged, one kept aside: both are committed.
	res, err := s.Apply(ctx, []Incoming{change(1, "fine"), change(2, "wait")})
	if err != nil || res.Applied != 2 || res.Quarantined != 1 {
		t.Fatalf("apply: %+v, %v", res, err)
	}
	if v, _ := s.Vector(ctx); v[syncproto.Stream{Origin: origin, Lane: 3}] != 2 {
		t.Fatalf("the changes are not in the log: %v", v)
	}
	// Two batches of one transaction: each counts its own.
	out, err := s.ApplyAll(ctx, func(yield func([]Incoming, error) bool) {
		_ = yield([]Incoming{change(3, "wait")}, nil) && yield([]Incoming{change(4, "never"), change(5, "fine")}, nil)
	}, false)
	if err != nil || len(out) != 2 || out[0].Quarantined != 1 || out[1].Quarantined != 1 || out[1].Applied != 2 {
		t.Fatalf("two batches: %+v, %v", out, err)
	}
	// A batch of nothing but a refused change: kept aside, and committed.
	if res, err := s.Apply(ctx, []Incoming{change(6, "never")}); err != nil || res.Quarantined != 1 {
		t.Fatalf("a refused change alone: %+v, %v", res, err)
	}
	if v, _ := s.Vector(ctx); v[syncproto.Stream{Origin: origin, Lane: 3}] != 6 {
		t.Fatalf("the refused change is not in the log: %v", v)
	}
	q, err := s.Quarantine(ctx, 0)
	if err != nil || len(q) != 4 || q[0].Change.Seq != 6 || q[1].Change.Seq != 4 || !q[0].Final || q[2].Reason != "waits for the policy" || q[2].Final {
		t.Fatalf("kept aside: %+v, %v", q, err)
	}
	if q, _ := s.Quarantine(ctx, 1); len(q) != 1 || q[0].Change.Seq != 6 {
		t.Fatalf("the newest one: %+v", q)
	}
	// The policy changes: those that waited merge, the refused one stays.
	if n, err := s.Readmit(ctx); err != nil || n != 0 {
		t.Fatalf("readmit before the policy changed: %d, %v", n, err)
	}
	p.open.Store(true)
	if n, err := s.Readmit(ctx); err != nil || n != 2 {
		t.Fatalf("readmit: %d, %v; want 2", n, err)
	}
	if n, _ := s.QuarantineCount(ctx); n != 2 {
		t.Fatalf("%d kept aside after readmission, want the two final ones", n)
	}
	n := 0
	for _, err := range s.Records(ctx, Query{}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 4 {
		t.Fatalf("%d records, want the 4 admitted", n)
	}
}

// A field remembers at most MaxPending versions that changes replaced but
// that have not arrived: the change that would remember more is kept
// aside for good, with the reason.
func TestPendingVersionsBounded(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t, Options{})
	origin, absent := syncproto.NodeID{0xdd}, syncproto.NodeID{0xee}
	rec := syncproto.NewRecordID()
	hlc := syncproto.MakeHLC(time.Now().UnixMilli(), 0)
	bases := func(from, to uint64) []syncproto.Dot {
		var out []syncproto.Dot
		for seq := from; seq <= to; seq++ {
			out = append(out, syncproto.Dot{Origin: absent, Lane: 3, Seq: seq})
		}
		return out
	}
	in := []Incoming{
		fromPeer(t, syncproto.Change{Origin: origin, Seq: 1, HLC: hlc, Record: rec, Fields: setField(t, "f", "first")}),
		fromPeer(t, syncproto.Change{Origin: origin, Seq: 2, HLC: hlc + 1, Record: rec, Fields: setField(t, "f", "at the bound", bases(1, MaxPending)...)}),
		fromPeer(t, syncproto.Change{Origin: origin, Seq: 3, HLC: hlc + 2, Record: rec, Fields: setField(t, "f", "past it", bases(MaxPending+1, MaxPending+1)...)}),
	}
	res, err := s.Apply(ctx, in)
	if err != nil || res.Applied != 3 || res.Quarantined != 1 {
		t.Fatalf("apply: %+v, %v", res, err)
	}
	q, err := s.Quarantine(ctx, 0)
	if err != nil || len(q) != 1 || q[0].Change.Seq != 3 || !q[0].Final || !strings.Contains(q[0].Reason, "at most 64") {
		t.Fatalf("kept aside: %+v, %v", q, err)
	}
	r, err := s.Record(ctx, rec)
	if err != nil {
		t.Fatal(err)
	}
	vals := []any{}
	for _, f := range r.Fields {
		for _, v := range f.Versions {
			var x any
			syncproto.Unmarshal(v.Value, &x)
			vals = append(vals, x)
		}
	}
	if !slices.Equal(vals, []any{"first", "at the bound"}) && !slices.Equal(vals, []any{"at the bound", "first"}) {
		t.Fatalf("the record shows %v", vals)
	}
}

// An edit that reaches a node before its record waits aside, and merges in
// the transaction that brings the record.
func TestEditWaitsForItsRecord(t *testing.T) {
	ctx := context.Background()
	waitForRecord := func(c *syncproto.Change, rec RecordFacts) Verdict {
		for _, f := range c.Fields {
			if len(f.Base) > 0 && !rec.Exists {
				return Verdict{Reason: "waits for its record", Waits: WaitsForRecord}
			}
		}
		return Verdict{}
	}
	s, _ := newStore(t, Options{Admit: waitForRecord})
	writer, editor := syncproto.NodeID{0x11}, syncproto.NodeID{0x22}
	rec := syncproto.NewRecordID()
	hlc := syncproto.MakeHLC(time.Now().UnixMilli(), 0)
	create := fromPeer(t, syncproto.Change{Origin: writer, Seq: 1, HLC: hlc, Record: rec, Fields: setField(t, "roof", "intact")})
	edit := fromPeer(t, syncproto.Change{Origin: editor, Seq: 1, HLC: hlc + 1, Record: rec,
		Fields: setField(t, "roof", "gone", create.Change.Dot())})
	if res, err := s.Apply(ctx, []Incoming{edit}); err != nil || res.Quarantined != 1 {
		t.Fatalf("the edit first: %+v, %v", res, err)
	}
	if _, err := s.Apply(ctx, []Incoming{create}); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.QuarantineCount(ctx); n != 0 {
		t.Fatalf("%d changes still wait aside once their record came", n)
	}
	r, err := s.Record(ctx, rec)
	if err != nil || value(t, r, "roof") != "gone" || len(r.Fields[0].Versions) != 1 {
		t.Fatalf("the record: %+v, %v", r, err)
	}
}

// A node's own stamps come after every change it merged, even one stamped
// a little ahead of its wall clock.
func TestOwnStampsFollowWhatMerged(t *testing.T) {
	ctx := context.Background()
	now := time.UnixMilli(1_750_000_000_000)
	s, _ := newStore(t, Options{Clock: syncproto.NewClock(func() time.Time { return now }, 10*time.Minute)})
	ahead := syncproto.MakeHLC(now.Add(500*time.Millisecond).UnixMilli(), 3)
	in := fromPeer(t, syncproto.Change{Origin: syncproto.NodeID{0x33}, Seq: 1, HLC: ahead, Record: syncproto.NewRecordID(), Fields: setField(t, "n", 1)})
	if _, err := s.Apply(ctx, []Incoming{in}); err != nil {
		t.Fatal(err)
	}
	id := syncproto.NewRecordID()
	if _, err := s.Write(ctx, []Edit{edit(t, id, true, "n", 2)}); err != nil {
		t.Fatal(err)
	}
	r, err := s.Record(ctx, id)
	if err != nil || r.Fields[0].Versions[0].Stamp.HLC <= ahead {
		t.Fatalf("a local edit after merging a change stamped %v is stamped %v (%v)", ahead, r.Fields[0].Versions[0].Stamp.HLC, err)
	}
}

// A held change that came after a gap, whose signature turns out not to be
// its origin's once the gap is filled, is dropped at release: never merged,
// and no longer held.
func TestForgedHeldChangeDroppedAtRelease(t *testing.T) {
	ctx := context.Background()
	key, err := identity.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	now := time.UnixMilli(1_750_000_000_000)
	clock := syncproto.NewClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return now }, 10*time.Minute)
	verify := func(st syncproto.Stream, seq uint64, head syncproto.Hash, sig []byte) error {
		if st.Origin != key.ID() || !identity.VerifyHead(key.Public(), st, seq, head, sig) {
			return errors.New("signature does not verify")
		}
		return nil
	}
	s, _ := newStore(t, Options{Clock: clock, VerifyHead: verify})
	rec := syncproto.NewRecordID()
	one := fromPeer(t, syncproto.Change{Origin: key.ID(), Seq: 1, HLC: syncproto.MakeHLC(now.UnixMilli(), 0), Record: rec, Fields: setField(t, "n", 1)})
	one.Sig = key.SignHead(3, 1, syncproto.ChainHash(syncproto.Hash{}, one.Body))
	two := fromPeer(t, syncproto.Change{Origin: key.ID(), Seq: 2, HLC: syncproto.MakeHLC(now.Add(time.Hour).UnixMilli(), 0), Record: rec, Fields: setField(t, "n", 2)})
	two.Sig = make([]byte, 64) // not the origin's
	batches := func(in ...Incoming) iter.Seq2[[]Incoming, error] {
		return func(yield func([]Incoming, error) bool) { yield(in, nil) }
	}
	if out, err := s.ApplyAll(ctx, batches(two), true); err != nil || out[0].Held != 1 {
		t.Fatalf("the second change first, ahead: %+v, %v", out, err)
	}
	if res, err := s.Apply(ctx, []Incoming{one}); err != nil || res.Applied != 1 {
		t.Fatalf("the first: %+v, %v", res, err)
	}
	mu.Lock()
	now = now.Add(2 * time.Hour)
	mu.Unlock()
	if n, err := s.ReleaseHeld(ctx); err != nil || n != 0 {
		t.Fatalf("released %d, %v; want none", n, err)
	}
	if n, _ := s.HeldCount(ctx); n != 0 {
		t.Fatalf("%d still held after the forged change failed its signature", n)
	}
	if v, _ := s.Vector(ctx); v[one.Change.Stream()] != 1 {
		t.Fatalf("vector %v", v)
	}
}

// A stream's held changes are released together, however many pieces they
// are read in.
func TestReleaseHeldPastOnePiece(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	now := time.UnixMilli(1_750_000_000_000)
	s, _ := newStore(t, Options{Clock: syncproto.NewClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return now }, 10*time.Minute)})
	ahead := syncproto.MakeHLC(now.Add(time.Hour).UnixMilli(), 0)
	n := releasePiece + releasePiece/2
	in := make([]Incoming, n)
	for i := range in {
		in[i] = fromPeer(t, syncproto.Change{Origin: syncproto.NodeID{0x44}, Seq: uint64(i + 1), HLC: ahead + syncproto.HLC(i),
			Record: syncproto.NewRecordID(), Fields: setField(t, "n", i)})
	}
	if res, err := s.Apply(ctx, in); err != nil || res.Held != n {
		t.Fatalf("apply: %+v, %v", res, err)
	}
	mu.Lock()
	now = now.Add(2 * time.Hour)
	mu.Unlock()
	if got, err := s.ReleaseHeld(ctx); err != nil || got != n {
		t.Fatalf("released %d, %v; want all %d", got, err, n)
	}
	if left, _ := s.HeldCount(ctx); left != 0 {
		t.Fatalf("%d still held", left)
	}
}

// A record that a readmitted change created lists that change in its
// history, as one created by a change merged at once does.
func TestReadmittedRecordKeepsItsHistory(t *testing.T) {
	ctx := context.Background()
	p := &policy{}
	s, _ := newStore(t, Options{Admit: p.admit})
	in := fromPeer(t, syncproto.Change{Origin: syncproto.NodeID{0x88}, Seq: 1, HLC: syncproto.MakeHLC(time.Now().UnixMilli(), 0),
		Record: syncproto.NewRecordID(), Fields: setField(t, "note", "wait")})
	if res, err := s.Apply(ctx, []Incoming{in}); err != nil || res.Quarantined != 1 {
		t.Fatalf("apply: %+v, %v", res, err)
	}
	p.open.Store(true)
	if n, err := s.Readmit(ctx); err != nil || n != 1 {
		t.Fatalf("readmit: %d, %v", n, err)
	}
	h, err := s.History(ctx, in.Change.Record)
	if err != nil || len(h) != 1 || h[0].Dot() != in.Change.Dot() {
		t.Fatalf("history of the readmitted record: %v, %v", h, err)
	}
}

// Changes waiting aside one for another merge in turn, in the transaction
// that brings what the first waited for.
func TestChainOfWaitingChangesMerges(t *testing.T) {
	ctx := context.Background()
	// A change setting step n waits until the record shows step n-1.
	inTurn := func(c *syncproto.Change, rec RecordFacts) Verdict {
		f, ok := c.Field("step")
		if !ok {
			return Verdict{}
		}
		var step int
		syncproto.Unmarshal(f.Value, &step)
		if step == 0 {
			return Verdict{}
		}
		var shown int
		if !rec.Exists {
			return Verdict{Reason: "waits for its record", Waits: WaitsForRecord}
		}
		if syncproto.Unmarshal(rec.Field("step"), &shown) != nil || shown != step-1 {
			return Verdict{Reason: "waits for the step before", Waits: WaitsForVersion, Version: f.Base[0]}
		}
		return Verdict{}
	}
	s, _ := newStore(t, Options{Admit: inTurn})
	rec := syncproto.NewRecordID()
	hlc := syncproto.MakeHLC(time.Now().UnixMilli(), 0)
	step := func(o byte, n int, base ...syncproto.Dot) Incoming {
		return fromPeer(t, syncproto.Change{Origin: syncproto.NodeID{o}, Seq: 1, HLC: hlc + syncproto.HLC(n), Record: rec, Fields: setField(t, "step", n, base...)})
	}
	s0 := step(0x90, 0)
	s1 := step(0x91, 1, s0.Change.Dot())
	s2 := step(0x92, 2, s1.Change.Dot())
	for _, in := range []Incoming{s2, s1} {
		if res, err := s.Apply(ctx, []Incoming{in}); err != nil || res.Quarantined != 1 {
			t.Fatalf("step %s before its record: %+v, %v", in.Change.Dot(), res, err)
		}
	}
	if _, err := s.Apply(ctx, []Incoming{s0}); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.QuarantineCount(ctx); n != 0 {
		t.Fatalf("%d steps still wait aside", n)
	}
	r, err := s.Record(ctx, rec)
	if err != nil || value(t, r, "step") != int64(2) {
		t.Fatalf("the record: %+v, %v", r, err)
	}
}

// A field's pending versions may reach MaxPending exactly, counted from
// the bases not here, when the bases named add up to more.
func TestPendingVersionsUpToTheBound(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t, Options{})
	origin, absent := syncproto.NodeID{0xdd}, syncproto.NodeID{0xee}
	rec := syncproto.NewRecordID()
	hlc := syncproto.MakeHLC(time.Now().UnixMilli(), 0)
	missing := func(from, to uint64) []syncproto.Dot {
		var out []syncproto.Dot
		for seq := from; seq <= to; seq++ {
			out = append(out, syncproto.Dot{Origin: absent, Lane: 3, Seq: seq})
		}
		return out
	}
	create := fromPeer(t, syncproto.Change{Origin: origin, Seq: 1, HLC: hlc, Record: rec, Fields: setField(t, "f", "first")})
	most := fromPeer(t, syncproto.Change{Origin: origin, Seq: 2, HLC: hlc + 1, Record: rec, Fields: setField(t, "f", "second", missing(1, MaxPending-4)...)})
	// Names both versions here, and four more that are not: 64 wait.
	bases := append([]syncproto.Dot{create.Change.Dot(), most.Change.Dot()}, missing(MaxPending-3, MaxPending)...)
	last := fromPeer(t, syncproto.Change{Origin: origin, Seq: 3, HLC: hlc + 2, Record: rec, Fields: setField(t, "f", "third", bases...)})
	res, err := s.Apply(ctx, []Incoming{create, most, last})
	if err != nil || res.Quarantined != 0 {
		t.Fatalf("apply: %+v, %v", res, err)
	}
	r, err := s.Record(ctx, rec)
	if err != nil || value(t, r, "f") != "third" {
		t.Fatalf("the record: %+v, %v", r, err)
	}
}

// A change that skips ahead of its stream is refused, naming the change
// that must come first.
func TestGapNamesTheMissingChange(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t, Options{})
	origin := syncproto.NodeID{0x99}
	hlc := syncproto.MakeHLC(time.Now().UnixMilli(), 0)
	mk := func(seq uint64) Incoming {
		return fromPeer(t, syncproto.Change{Origin: origin, Seq: seq, HLC: hlc + syncproto.HLC(seq), Record: syncproto.NewRecordID(), Fields: setField(t, "n", seq)})
	}
	if _, err := s.Apply(ctx, []Incoming{mk(1), mk(2)}); err != nil {
		t.Fatal(err)
	}
	_, err := s.Apply(ctx, []Incoming{mk(5)})
	st := syncproto.Stream{Origin: origin, Lane: 3}
	if !errors.Is(err, ErrGap) || !strings.HasSuffix(err.Error(), "came before "+st.String()+":3") {
		t.Fatalf("change 5 after 2: %v", err)
	}
}

// A forger sends versions of one field that replace nothing, one after
// another: past MaxHeads they are kept aside for good, with the reason, so
// that a person can still resolve the conflict (an edit names at most
// syncproto.MaxBases versions) and the record's state stays bounded. The
// edit that resolves it merges.
func TestVersionsOfAFieldAtOnceBounded(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t, Options{})
	origin := syncproto.NodeID{0xd1}
	rec := syncproto.NewRecordID()
	hlc := syncproto.MakeHLC(time.Now().UnixMilli(), 0)
	in := make([]Incoming, MaxHeads+3)
	for i := range in {
		in[i] = fromPeer(t, syncproto.Change{Origin: origin, Seq: uint64(i + 1), HLC: hlc + syncproto.HLC(i), Record: rec, Fields: setField(t, "notes", i)})
	}
	res, err := s.Apply(ctx, in)
	if err != nil || res.Applied != len(in) || res.Quarantined != 3 {
		t.Fatalf("apply: %+v, %v; want %d applied, 3 kept aside", res, err, len(in))
	}
	q, err := s.Quarantine(ctx, 0)
	if err != nil || len(q) != 3 {
		t.Fatalf("kept aside: %+v, %v", q, err)
	}
	for _, c := range q {
		if c.Change.Seq <= MaxHeads || !c.Final || c.Reason != "notes would stand in 65 versions at once, at most 64 may: no one could resolve them" {
			t.Fatalf("kept aside: %+v; want the versions past the %d-th, for good, saying why", c, MaxHeads)
		}
	}
	r, err := s.Record(ctx, rec)
	if err != nil {
		t.Fatal(err)
	}
	if f := r.Fields[0]; len(f.Versions) != MaxHeads {
		t.Fatalf("notes stands in %d versions, want %d", len(f.Versions), MaxHeads)
	}
	// A version that replaces one of them still merges: the count
	// stays.
	replacing := fromPeer(t, syncproto.Change{Origin: origin, Seq: uint64(len(in) + 1), HLC: hlc + 100, Record: rec,
		Fields: setField(t, "notes", "instead", in[0].Change.Dot())})
	if res, err := s.Apply(ctx, []Incoming{replacing}); err != nil || res.Quarantined != 0 {
		t.Fatalf("a version replacing one: %+v, %v", res, err)
	}
	if _, err := s.Write(ctx, []Edit{edit(t, rec, false, "notes", "decided")}); err != nil {
		t.Fatalf("a person resolving the conflict: %v", err)
	}
	r, err = s.Record(ctx, rec)
	if err != nil {
		t.Fatal(err)
	}
	if r.Conflicts != 0 || value(t, r, "notes") != "decided" {
		t.Fatalf("after the decision: %d conflicts, notes %v", r.Conflicts, value(t, r, "notes"))
	}
}

// A forger adds new fields to one record, MaxFields a change: past
// MaxRecordFields the change is kept aside for good, and the record still
// reads.
func TestFieldsOfARecordBounded(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t, Options{})
	origin := syncproto.NodeID{0xd2}
	rec := syncproto.NewRecordID()
	hlc := syncproto.MakeHLC(time.Now().UnixMilli(), 0)
	changes := MaxRecordFields/syncproto.MaxFields + 1
	in := make([]Incoming, changes)
	for i := range in {
		fs := make([]syncproto.FieldChange, syncproto.MaxFields)
		for j := range fs {
			fs[j] = syncproto.FieldChange{Name: fmt.Sprintf("household.%04x%04x.age", i, j), Value: cborOf(t, j)}
		}
		in[i] = fromPeer(t, syncproto.Change{Origin: origin, Seq: uint64(i + 1), HLC: hlc + syncproto.HLC(i), Record: rec, Fields: fs})
	}
	res, err := s.Apply(ctx, in)
	if err != nil || res.Quarantined != 1 {
		t.Fatalf("apply: %+v, %v; want the last change kept aside", res, err)
	}
	q, err := s.Quarantine(ctx, 0)
	want := fmt.Sprintf("the record would hold %d fields, at most %d may", MaxRecordFields+syncproto.MaxFields, MaxRecordFields)
	if err != nil || len(q) != 1 || q[0].Change.Seq != uint64(changes) || !q[0].Final || q[0].Reason != want {
		t.Fatalf("kept aside: %+v, %v; want the last change, %q", q, err, want)
	}
	r, err := s.Record(ctx, rec)
	if err != nil || len(r.Fields) != MaxRecordFields {
		t.Fatalf("the record reads %d fields (%v), want %d", len(r.Fields), err, MaxRecordFields)
	}
}
