package store

// Tests of the path a peer's change takes into the store that mutation
// testing (make mutate) found unpinned: the held table's share per origin,
// what a transaction that holds, merges and keeps aside commits, the
// write policy's quarantine and readmission, and the bound on versions a
// field waits for.

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

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
