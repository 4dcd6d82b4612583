package store

import (
	"context"
	"database/sql"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"lifeline/syncproto"
)

// waitsPolicy is a write policy that says what a change kept aside waits
// for, as a node's does, and counts how often it is asked of each kind of
// change: those whose note is "kit" wait for the node (as for a kit
// version not here yet), and a change whose field "after" names a version
// waits for it until the record holds it (for the record, when it is not
// held). Every other change is admitted.
type waitsPolicy struct {
	kitOpen                     atomic.Bool
	kit, record, version, other atomic.Int64
}

// kitNote is "kit" as a change's value.
var kitNote = string([]byte{0x63, 'k', 'i', 't'})

func (p *waitsPolicy) admit(c *syncproto.Change, rec RecordFacts) Verdict {
	if f, ok := c.Field("note"); ok && string(f.Value) == kitNote {
		p.kit.Add(1)
		if !p.kitOpen.Load() {
			return Verdict{Reason: "a kit version not here yet"}
		}
		return Verdict{}
	}
	if f, ok := c.Field("after"); ok && len(f.Base) > 0 {
		if !rec.Exists {
			// Said as a version of a record not held: the store has it
			// wait for the record, whose first change wakes it.
			p.record.Add(1)
			return Verdict{Reason: "its record is not here yet", Waits: WaitsForVersion, Version: f.Base[0]}
		}
		p.version.Add(1)
		if _, held := rec.Change(f.Base[0]); !held {
			return Verdict{Reason: "the version it replaces is not here yet", Waits: WaitsForVersion, Version: f.Base[0]}
		}
		return Verdict{}
	}
	p.other.Add(1)
	return Verdict{}
}

// A change kept aside is looked at again when what it waits for may have
// come, and not at every change of its record: a laptop's many
// changes of one record waiting for a kit version cost nothing to the
// changes of that record that follow them, an edit waiting for a version
// is looked at when that version arrives, and one waiting for its record
// when the record comes. Readmit still looks at every change waiting.
func TestChangesKeptAsideAreLookedAtWhenWhatTheyWaitForComes(t *testing.T) {
	ctx := context.Background()
	p := &waitsPolicy{}
	s, _ := newStore(t, Options{Admit: p.admit})
	rogue, hq, other := syncproto.NodeID{0xa1}, syncproto.NodeID{0xa2}, syncproto.NodeID{0xa3}
	rec, later := syncproto.NewRecordID(), syncproto.NewRecordID()
	hlc := syncproto.MakeHLC(time.Now().UnixMilli(), 0)
	at := func(n int) syncproto.HLC { return hlc + syncproto.HLC(n) }
	create := fromPeer(t, syncproto.Change{Origin: rogue, Seq: 1, HLC: at(0), Record: rec, Fields: setField(t, "roof", "intact")})
	if _, err := s.Apply(ctx, []Incoming{create}); err != nil {
		t.Fatal(err)
	}
	// The rogue's changes of the record, waiting for a kit version (fewer
	// than MaxHeads, so that all merge once it comes).
	const waiting = MaxHeads - 4
	in := make([]Incoming, waiting)
	for i := range in {
		in[i] = fromPeer(t, syncproto.Change{Origin: rogue, Seq: uint64(2 + i), HLC: at(1 + i), Record: rec, Fields: setField(t, "note", "kit")})
	}
	if res, err := s.Apply(ctx, in); err != nil || res.Quarantined != waiting {
		t.Fatalf("the rogue's changes: %+v, %v", res, err)
	}
	// An edit of HQ's version that has not come, and one of a record
	// that has not come.
	decision := fromPeer(t, syncproto.Change{Origin: hq, Seq: 1, HLC: at(300), Record: rec, Fields: setField(t, "roof", "gone")})
	onDecision := fromPeer(t, syncproto.Change{Origin: other, Seq: 1, HLC: at(301), Record: rec,
		Fields: setField(t, "after", "the decision", decision.Change.Dot())})
	laterCreate := fromPeer(t, syncproto.Change{Origin: hq, Seq: 2, HLC: at(302), Record: later, Fields: setField(t, "roof", "intact")})
	onLater := fromPeer(t, syncproto.Change{Origin: other, Seq: 2, HLC: at(303), Record: later,
		Fields: setField(t, "after", "the record", laterCreate.Change.Dot())})
	if res, err := s.Apply(ctx, []Incoming{onDecision, onLater}); err != nil || res.Quarantined != 2 {
		t.Fatalf("the edits ahead of what they edit: %+v, %v", res, err)
	}
	if p.kit.Load() != waiting || p.version.Load() != 1 || p.record.Load() != 1 {
		t.Fatalf("asked %d, %d, %d times; want each change once", p.kit.Load(), p.version.Load(), p.record.Load())
	}

	// The rogue's next change of the record, a plain one, merges; none of
	// those waiting is looked at again.
	next := fromPeer(t, syncproto.Change{Origin: rogue, Seq: 2 + waiting, HLC: at(400), Record: rec, Fields: setField(t, "roof", "leaking")})
	if res, err := s.Apply(ctx, []Incoming{next}); err != nil || res.Applied != 1 || res.Quarantined != 0 {
		t.Fatalf("the next change: %+v, %v", res, err)
	}
	if p.kit.Load() != waiting || p.version.Load() != 1 || p.record.Load() != 1 {
		t.Fatalf("after a change of the record, asked %d, %d, %d times; want nothing asked again", p.kit.Load(), p.version.Load(), p.record.Load())
	}

	// HQ's decision arrives: the edit waiting for it is looked at, and
	// merges; so does the edit of the later record, when it comes.
	if _, err := s.Apply(ctx, []Incoming{decision}); err != nil {
		t.Fatal(err)
	}
	if p.version.Load() != 2 || p.kit.Load() != waiting {
		t.Fatalf("after the decision, asked %d (the edit on it) and %d (the rogue's) times; want 2 and %d", p.version.Load(), p.kit.Load(), waiting)
	}
	if _, err := s.Apply(ctx, []Incoming{laterCreate}); err != nil {
		t.Fatal(err)
	}
	if p.record.Load() != 1 || p.version.Load() != 3 {
		t.Fatalf("after the later record, asked %d and %d times of the edit of it", p.record.Load(), p.version.Load())
	}
	for _, id := range []syncproto.RecordID{rec, later} {
		r, err := s.Record(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if value(t, r, "after") == nil {
			t.Fatalf("record %s: the edit that waited did not merge: %+v", id, r)
		}
	}
	if n, _ := s.QuarantineCount(ctx); n != waiting {
		t.Fatalf("%d kept aside, want the rogue's %d", n, waiting)
	}

	// The kit comes: Readmit looks at every change waiting.
	p.kitOpen.Store(true)
	if n, err := s.Readmit(ctx); err != nil || n != waiting {
		t.Fatalf("readmit: %d, %v; want %d", n, err, waiting)
	}
	if p.kit.Load() != 2*waiting {
		t.Fatalf("the rogue's changes asked %d times, want %d", p.kit.Load(), 2*waiting)
	}
}

// waitingOn has origin create a record and send n changes of it that wait
// aside for a kit version (waitsPolicy), a thousand at a time.
func waitingOn(tb testing.TB, s *SQLite, origin syncproto.NodeID, rec syncproto.RecordID, hlc syncproto.HLC, n int) {
	tb.Helper()
	in := []Incoming{fromPeer(tb, syncproto.Change{Origin: origin, Seq: 1, HLC: hlc, Record: rec, Fields: setField(tb, "roof", "intact")})}
	for i := range n {
		in = append(in, fromPeer(tb, syncproto.Change{Origin: origin, Seq: uint64(2 + i), HLC: hlc + syncproto.HLC(1+i), Record: rec, Fields: setField(tb, "note", "kit")}))
	}
	quarantined := 0
	for len(in) > 0 {
		piece := in[:min(len(in), 1000)]
		in = in[len(piece):]
		res, err := s.Apply(context.Background(), piece)
		if err != nil {
			tb.Fatal(err)
		}
		quarantined += res.Quarantined
	}
	if quarantined != n {
		tb.Fatalf("%d changes kept aside, want %d", quarantined, n)
	}
}

// Changes kept aside by a store of schema version 13, which kept no wait,
// were looked at again at every change of their record: after the upgrade
// they are so once more, and then wait as their verdict says.
func TestChangesKeptAsideBeforeTheUpgradeAreLookedAtOnceMore(t *testing.T) {
	ctx := context.Background()
	p := &waitsPolicy{}
	s, _ := newStore(t, Options{Admit: p.admit})
	origin := syncproto.NodeID{0xb1}
	rec := syncproto.NewRecordID()
	hlc := syncproto.MakeHLC(time.Now().UnixMilli(), 0)
	const waiting = 5
	waitingOn(t, s, origin, rec, hlc, waiting)
	path := s.path
	s.Close()

	// The store as schema version 13 left it: the quarantine table
	// without the columns migration 14 added, and nothing of 15 to 19.
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`DROP INDEX quarantine_waits_record`,
		`DROP INDEX quarantine_waits_version`,
		`DROP INDEX quarantine_waits_field`,
		`ALTER TABLE quarantine DROP COLUMN waits`,
		`ALTER TABLE quarantine DROP COLUMN version`,
		`CREATE INDEX quarantine_record ON quarantine (record)`,
		`DROP TABLE refs`,
		`DROP TABLE refs_pending`,
		`DELETE FROM derived WHERE name IN ('refs', 'refs-seq', 'refs-base')`,
		`DROP INDEX records_written`,
		`ALTER TABLE records DROP COLUMN written`,
		`DROP TABLE ledger_decided`,
		`DROP INDEX ledger_links_b`,
		`PRAGMA user_version = 13`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	s, err = Open(ctx, path, Options{Admit: p.admit, Tally: testTally})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	asked := p.kit.Load()
	touch := func(seq uint64, roof string) {
		t.Helper()
		c := fromPeer(t, syncproto.Change{Origin: origin, Seq: seq, HLC: hlc + syncproto.HLC(seq), Record: rec, Fields: setField(t, "roof", roof)})
		if res, err := s.Apply(ctx, []Incoming{c}); err != nil || res.Applied != 1 {
			t.Fatalf("a change of the record: %+v, %v", res, err)
		}
	}
	touch(2+waiting, "leaking")
	if got := p.kit.Load() - asked; got != waiting {
		t.Fatalf("the first change of the record after the upgrade looked at %d of those waiting, want %d", got, waiting)
	}
	touch(3+waiting, "gone")
	if got := p.kit.Load() - asked; got != waiting {
		t.Fatalf("the second looked at %d more, want none", got-waiting)
	}
	if n, _ := s.QuarantineCount(ctx); n != waiting {
		t.Fatalf("%d kept aside, want %d", n, waiting)
	}
}

// BenchmarkAChangeOfARecordWithChangesWaiting measures a peer's change of
// a record of which 20,000 changes wait aside for a kit version: before
// each change kept aside said what it waits for, every one of them was
// decoded and judged again at each such change.
func BenchmarkAChangeOfARecordWithChangesWaiting(b *testing.B) {
	ctx := context.Background()
	p := &waitsPolicy{}
	s, _ := newStore(b, Options{Admit: p.admit})
	origin := syncproto.NodeID{0xc1}
	rec := syncproto.NewRecordID()
	hlc := syncproto.MakeHLC(time.Now().UnixMilli(), 0)
	const waiting = 20000
	waitingOn(b, s, origin, rec, hlc, waiting)
	seq := uint64(waiting + 2)
	b.ResetTimer()
	for range b.N {
		c := fromPeer(b, syncproto.Change{Origin: origin, Seq: seq, HLC: hlc + syncproto.HLC(seq), Record: rec, Fields: setField(b, "roof", int(seq))})
		if res, err := s.Apply(ctx, []Incoming{c}); err != nil || res.Applied != 1 {
			b.Fatalf("%+v, %v", res, err)
		}
		seq++
	}
}

// A change kept aside until a field of its record changes (as a deletion
// from another district waits for a national record's district to move)
// is looked at again when a change setting that field merges, and not at
// every other change of the record: a flood of such changes costs the
// record's other changes nothing.
func TestAChangeWaitingForAFieldIsLookedAtWhenTheFieldChanges(t *testing.T) {
	ctx := context.Background()
	var asked atomic.Int64
	toledo := cborOf(t, "Toledo")
	policy := func(c *syncproto.Change, rec RecordFacts) Verdict {
		if _, ok := c.Field("gone"); !ok || !rec.Exists {
			return Verdict{}
		}
		asked.Add(1)
		if string(rec.Field("district")) != string(toledo) {
			return Verdict{Reason: "deletes a record of another district", Waits: WaitsForField, Field: "district"}
		}
		return Verdict{}
	}
	s, _ := newStore(t, Options{Admit: policy})
	cayo, tol := syncproto.NodeID{0xc1}, syncproto.NodeID{0xc2}
	rec := syncproto.NewRecordID()
	hlc := syncproto.MakeHLC(time.Now().UnixMilli(), 0)
	create := fromPeer(t, syncproto.Change{Origin: cayo, Seq: 1, HLC: hlc, Record: rec, Fields: setField(t, "district", "Cayo")})
	gone := fromPeer(t, syncproto.Change{Origin: tol, Seq: 1, HLC: hlc + 1, Record: rec, Fields: setField(t, "gone", true)})
	if res, err := s.Apply(ctx, []Incoming{create, gone}); err != nil || res.Quarantined != 1 {
		t.Fatalf("the deletion: %+v, %v", res, err)
	}
	other := fromPeer(t, syncproto.Change{Origin: cayo, Seq: 2, HLC: hlc + 2, Record: rec, Fields: setField(t, "roof", "leaking")})
	if res, err := s.Apply(ctx, []Incoming{other}); err != nil || res.Applied != 1 || asked.Load() != 1 {
		t.Fatalf("a change of another field: %+v, %v; the deletion asked %d times, want once", res, err, asked.Load())
	}
	move := fromPeer(t, syncproto.Change{Origin: cayo, Seq: 3, HLC: hlc + 3, Record: rec, Fields: setField(t, "district", "Toledo", create.Change.Dot())})
	if _, err := s.Apply(ctx, []Incoming{move}); err != nil || asked.Load() != 2 {
		t.Fatalf("the move: %v; the deletion asked %d times, want twice", err, asked.Load())
	}
	if n, err := s.QuarantineCount(ctx); err != nil || n != 0 {
		t.Fatalf("%d kept aside after the move (%v), want the deletion merged", n, err)
	}
	r, err := s.Record(ctx, rec)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(r.Fields, func(f FieldView) bool { return f.Name == "gone" && len(f.Versions) == 1 }) {
		t.Fatalf("the record after the move: %+v", r.Fields)
	}
}
