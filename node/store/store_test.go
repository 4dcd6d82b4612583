package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"pgregory.net/rapid"

	"lifeline/node/identity"
	"lifeline/node/ledger"
	"lifeline/syncproto"
)

// newStore creates a store for a fresh node in a temporary folder.
// lane3 is the stream this node's test edits go to.
func lane3(s *SQLite) syncproto.Stream { return syncproto.Stream{Origin: s.Self().ID, Lane: 3} }

func newStore(t testing.TB, opts Options) (*SQLite, *identity.Key) {
	t.Helper()
	key := opts.Key
	if key == nil {
		var err error
		if key, err = identity.NewKey(); err != nil {
			t.Fatal(err)
		}
		opts.Key = key
	}
	path := filepath.Join(t.TempDir(), FileName)
	// Every test's store keeps totals, so that every test checks them.
	if opts.Tally == nil {
		opts.Tally = testTally
	}
	s, err := Create(context.Background(), path, Self{ID: key.ID(), Name: "cayo-07", Role: "field", District: "Cayo"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	// Whatever a test did to the store, its digest and totals are what
	// its records give.
	if _, ok := t.(*testing.T); ok {
		t.Cleanup(func() {
			if !s.isClosed() {
				checkDerived(t, s)
			}
		})
	}
	return s, key
}

func cborOf(t testing.TB, v any) []byte {
	t.Helper()
	b, err := syncproto.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func edit(t testing.TB, id syncproto.RecordID, create bool, kv ...any) Edit {
	t.Helper()
	e := Edit{Record: id, Create: create, Lane: 3, Kit: "damage-assessment", Type: "damage-assessment", Version: 1, Author: "vol-193"}
	for i := 0; i < len(kv); i += 2 {
		e.Fields = append(e.Fields, syncproto.FieldChange{Name: kv[i].(string), Value: cborOf(t, kv[i+1])})
	}
	slices.SortFunc(e.Fields, func(a, b syncproto.FieldChange) int { return strings.Compare(a.Name, b.Name) })
	return e
}

func value(t testing.TB, rec Record, field string) any {
	t.Helper()
	for _, f := range rec.Fields {
		if f.Name == field {
			var v any
			if err := syncproto.Unmarshal(f.Versions[0].Value, &v); err != nil {
				t.Fatal(err)
			}
			return v
		}
	}
	return nil
}

func TestWriteUpdateShowHistory(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t, Options{})
	id := syncproto.NewRecordID()
	w, err := s.Write(ctx, []Edit{edit(t, id, true, "village", "Succotz", "damage_level", 2)})
	if err != nil {
		t.Fatal(err)
	}
	if len(w) != 1 || w[0].Dot.Seq != 1 || w[0].Dot.Origin != s.Self().ID || w[0].Dot.Lane != 3 {
		t.Fatalf("written %+v", w)
	}
	if _, err := s.Write(ctx, []Edit{edit(t, id, false, "damage_level", 3)}); err != nil {
		t.Fatal(err)
	}
	rec, err := s.Record(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Type != "damage-assessment" || value(t, rec, "damage_level") != int64(3) || value(t, rec, "village") != "Succotz" || rec.Conflicts != 0 {
		t.Fatalf("record %+v", rec)
	}
	hist, err := s.History(ctx, id)
	if err != nil || len(hist) != 2 {
		t.Fatalf("history %v %v", hist, err)
	}
	// The update replaced the version it saw.
	f, _ := hist[1].Field("damage_level")
	if len(f.Base) != 1 || f.Base[0] != hist[0].Dot() {
		t.Fatalf("update's base %v, want %v", f.Base, hist[0].Dot())
	}
	if v, _ := s.Vector(ctx); v[lane3(s)] != 2 {
		t.Fatalf("vector %v", v)
	}
	// The two writes are told once: the reader looks at what is new.
	select {
	case <-s.Changed():
	default:
		t.Fatal("Changed did not tell of the writes")
	}
	select {
	case <-s.Changed():
		t.Fatal("Changed told twice of the same writes")
	default:
	}
}

func TestWriteRefusals(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t, Options{})
	id := syncproto.NewRecordID()
	if _, err := s.Write(ctx, []Edit{edit(t, id, true, "village", "Hopkins")}); err != nil {
		t.Fatal(err)
	}
	before, _ := s.Digest(ctx)
	if _, err := s.Write(ctx, []Edit{edit(t, id, true, "village", "Hopkins")}); !errors.Is(err, ErrExists) {
		t.Fatalf("creating a taken id: %v", err)
	}
	if _, err := s.Write(ctx, []Edit{edit(t, syncproto.NewRecordID(), false, "village", "Hopkins")}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("updating a missing record: %v", err)
	}
	// A unit of edits is atomic: the good first edit is not saved when the
	// second is refused.
	fresh := syncproto.NewRecordID()
	if _, err := s.Write(ctx, []Edit{edit(t, fresh, true, "village", "Dangriga"), edit(t, id, true, "village", "x")}); !errors.Is(err, ErrExists) {
		t.Fatalf("got %v", err)
	}
	if _, err := s.Record(ctx, fresh); !errors.Is(err, ErrNotFound) {
		t.Fatalf("half of a refused unit was saved: %v", err)
	}
	other := edit(t, id, false, "village", "x")
	other.Type = "missing-person"
	if _, err := s.Write(ctx, []Edit{other}); err == nil || !strings.Contains(err.Error(), "not a missing-person") {
		t.Fatalf("changing a record's type: %v", err)
	}
	after, _ := s.Digest(ctx)
	if before != after {
		t.Fatal("refused writes changed the store")
	}
	if v, _ := s.Vector(ctx); v[lane3(s)] != 1 {
		t.Fatalf("refused writes used sequence numbers: %v", v)
	}
}

// Many goroutines writing at once share commits, and every write that
// returned is there, with a gapless sequence.
func TestGroupCommitConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t, Options{})
	const writers, each = 16, 40
	var wg sync.WaitGroup
	ids := make([][]syncproto.RecordID, writers)
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				id := syncproto.NewRecordID()
				if _, err := s.Write(ctx, []Edit{edit(t, id, true, "household_size", i)}); err != nil {
					errs <- err
					return
				}
				ids[w] = append(ids[w], id)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, list := range ids {
		for _, id := range list {
			if _, err := s.Record(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
	}
	v, _ := s.Vector(ctx)
	if v[lane3(s)] != writers*each {
		t.Fatalf("sequence %d, want %d", v[lane3(s)], writers*each)
	}
	var n int
	if err := s.rdb.QueryRow(`SELECT count(*) FROM changes WHERE id BETWEEN ? AND ?`, changeID(1, 1), changeID(1, writers*each)).Scan(&n); err != nil || n != writers*each {
		t.Fatalf("%d changes in the log (%v)", n, err)
	}
}

func imported(t testing.TB, edits ...Edit) iter.Seq2[Edit, error] {
	return func(yield func(Edit, error) bool) {
		for _, e := range edits {
			if !yield(e, nil) {
				return
			}
		}
	}
}

func TestImportIsAtomicAndIdempotent(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t, Options{})
	a, b := syncproto.NewRecordID(), syncproto.NewRecordID()
	res, err := s.Import(ctx, imported(t, edit(t, a, true, "village", "Ladyville"), edit(t, b, true, "village", "Hattieville")))
	if err != nil || res.Added != 2 || res.Skipped != 0 {
		t.Fatalf("import: %+v %v", res, err)
	}
	d1, _ := s.Digest(ctx)
	res, err = s.Import(ctx, imported(t, edit(t, a, true, "village", "Ladyville"), edit(t, b, true, "village", "Hattieville")))
	if err != nil || res.Added != 0 || res.Skipped != 2 {
		t.Fatalf("second import: %+v %v", res, err)
	}
	if d2, _ := s.Digest(ctx); d1 != d2 {
		t.Fatal("importing the same records again changed the store")
	}
	c := syncproto.NewRecordID()
	bad := func(yield func(Edit, error) bool) {
		if yield(edit(t, c, true, "village", "Crooked Tree"), nil) {
			yield(Edit{}, errors.New("line 2: broken"))
		}
	}
	if _, err := s.Import(ctx, bad); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("import with a bad line: %v", err)
	}
	if _, err := s.Record(ctx, c); !errors.Is(err, ErrNotFound) {
		t.Fatal("an import that failed saved a record")
	}
}

// Concurrent edits of one field on two nodes are both kept as a conflict;
// an edit made after seeing both resolves it on every node.
func TestConflictKeptThenResolved(t *testing.T) {
	ctx := context.Background()
	a, _ := newStore(t, Options{})
	b, _ := newStore(t, Options{})
	id := syncproto.NewRecordID()
	if _, err := a.Write(ctx, []Edit{edit(t, id, true, "village", "Sarteneja", "damage_level", 1)}); err != nil {
		t.Fatal(err)
	}
	exchange(t, a, b)
	wa, err := a.Write(ctx, []Edit{edit(t, id, false, "damage_level", 3)})
	if err != nil {
		t.Fatal(err)
	}
	wb, err := b.Write(ctx, []Edit{edit(t, id, false, "damage_level", 4, "village", "Chunox")})
	if err != nil {
		t.Fatal(err)
	}
	exchange(t, a, b)
	ra, _ := a.Record(ctx, id)
	rb, _ := b.Record(ctx, id)
	if ra.Conflicts != 1 || rb.Conflicts != 1 {
		t.Fatalf("conflicts: %d and %d, want 1 (damage_level)", ra.Conflicts, rb.Conflicts)
	}
	// Until someone decides, both nodes show the version the rule picks.
	want := int64(4)
	if byRule(Stamp{Origin: wa[0].Dot.Origin, HLC: wa[0].HLC}, Stamp{Origin: wb[0].Dot.Origin, HLC: wb[0].HLC}) > 0 {
		want = 3
	}
	if value(t, ra, "damage_level") != want || value(t, rb, "damage_level") != want {
		t.Fatalf("damage_level shows %v and %v, want %d (a's 3 at %s, b's 4 at %s)",
			value(t, ra, "damage_level"), value(t, rb, "damage_level"), want, wa[0].HLC, wb[0].HLC)
	}
	if value(t, ra, "village") != "Chunox" {
		t.Fatal("an edit of another field was not merged silently")
	}
	if da, db := digest(t, a), digest(t, b); da != db {
		t.Fatal("digests differ after exchanging everything")
	}
	if _, err := b.Write(ctx, []Edit{edit(t, id, false, "damage_level", 4)}); err != nil {
		t.Fatal(err)
	}
	exchange(t, a, b)
	ra, _ = a.Record(ctx, id)
	if ra.Conflicts != 0 || value(t, ra, "damage_level") != int64(4) {
		t.Fatalf("after resolving: %d conflicts, value %v", ra.Conflicts, value(t, ra, "damage_level"))
	}
	if digest(t, a) != digest(t, b) {
		t.Fatal("digests differ after the resolution")
	}
}

func digest(t testing.TB, s *SQLite) syncproto.Hash {
	t.Helper()
	d, err := s.Digest(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// exchange gives each store the changes it lacks from the other, the way
// sync will: per origin, in sequence, from the other's vector.
func exchange(t testing.TB, a, b *SQLite) {
	t.Helper()
	for _, pair := range [][2]*SQLite{{a, b}, {b, a}} {
		from, to := pair[0], pair[1]
		have, err := to.Vector(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		in := missing(t, from, have)
		if _, err := to.Apply(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}
}

// missing reads the changes of from that a vector lacks, per origin in
// sequence, with the signatures from has.
func missing(t testing.TB, from *SQLite, have syncproto.Vector) []Incoming {
	changes, err := from.Since(context.Background(), have, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]Incoming, len(changes))
	for i, c := range changes {
		idx, _, _ := from.stream(context.Background(), from.rdb, c.Stream(), false)
		var sig, body []byte
		if err := from.rdb.QueryRow(`SELECT sig, body FROM changes WHERE id = ?`, changeID(idx, c.Seq)).Scan(&sig, &body); err != nil {
			t.Fatal(err)
		}
		out[i] = Incoming{Change: c, Body: body, Sig: sig}
	}
	return out
}

// Signatures that arrive are checked against the chain the receiver
// computes; a change whose bytes were altered breaks it.
func TestApplyVerifiesSignedHeads(t *testing.T) {
	ctx := context.Background()
	a, ka := newStore(t, Options{})
	verify := func(st syncproto.Stream, seq uint64, head syncproto.Hash, sig []byte) error {
		if st.Origin != ka.ID() || !identity.VerifyHead(ka.Public(), st, seq, head, sig) {
			return errors.New("signature does not verify")
		}
		return nil
	}
	b, _ := newStore(t, Options{VerifyHead: verify})
	id := syncproto.NewRecordID()
	for i := range 3 {
		if _, err := a.Write(ctx, []Edit{edit(t, id, i == 0, "household_size", i)}); err != nil {
			t.Fatal(err)
		}
	}
	in := missing(t, a, syncproto.Vector{})
	if len(in[2].Sig) == 0 {
		t.Fatal("the head has no signature")
	}
	tampered := slices.Clone(in)
	tampered[1].Body = bytes.Replace(slices.Clone(in[1].Body), []byte("vol-193"), []byte("vol-666"), 1)
	if _, err := b.Apply(ctx, tampered); !errors.Is(err, ErrChain) {
		t.Fatalf("tampered change: %v", err)
	}
	if v, _ := b.Vector(ctx); len(v) != 0 {
		t.Fatalf("a refused batch left changes behind: %v", v)
	}
	if _, err := b.Apply(ctx, in[1:]); !errors.Is(err, ErrGap) {
		t.Fatalf("batch with a gap: %v", err)
	}
	if res, err := b.Apply(ctx, in); err != nil || res.Applied != 3 {
		t.Fatalf("good batch: %+v %v", res, err)
	}
	if res, err := b.Apply(ctx, in); err != nil || res.Duplicates != 3 || res.Applied != 0 {
		t.Fatalf("replayed batch: %+v %v", res, err)
	}
}

// A change stamped far in the future of this node's clock is kept, not
// merged, until the clock catches up.
func TestFutureChangesHeld(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	ahead, _ := newStore(t, Options{Clock: syncproto.NewClock(func() time.Time { return time.Now().Add(24 * time.Hour) }, 0)})
	b, _ := newStore(t, Options{Clock: syncproto.NewClock(clock, 10*time.Minute)})
	id := syncproto.NewRecordID()
	if _, err := ahead.Write(ctx, []Edit{edit(t, id, true, "damage_level", 4)}); err != nil {
		t.Fatal(err)
	}
	if _, err := ahead.Write(ctx, []Edit{edit(t, id, false, "damage_level", 3)}); err != nil {
		t.Fatal(err)
	}
	in := missing(t, ahead, syncproto.Vector{})
	res, err := b.Apply(ctx, in)
	if err != nil || res.Held != 2 || res.Applied != 0 {
		t.Fatalf("apply: %+v %v", res, err)
	}
	if _, err := b.Record(ctx, id); !errors.Is(err, ErrNotFound) {
		t.Fatal("a change from a day ahead was merged")
	}
	if res, _ := b.Apply(ctx, in); res.Duplicates != 2 {
		t.Fatalf("held changes sent again: %+v", res)
	}
	select { // what the apply told
	case <-b.Changed():
	default:
	}
	if n, _ := b.ReleaseHeld(ctx); n != 0 {
		t.Fatal("released before the clock caught up")
	}
	select {
	case <-b.Changed():
		t.Fatal("a release of nothing told readers the store changed")
	default:
	}
	mu.Lock()
	now = now.Add(25 * time.Hour)
	mu.Unlock()
	if n, err := b.ReleaseHeld(ctx); n != 2 || err != nil {
		t.Fatalf("released %d (%v), want 2", n, err)
	}
	rec, err := b.Record(ctx, id)
	if err != nil || value(t, rec, "damage_level") != int64(3) {
		t.Fatalf("after release: %+v %v", rec, err)
	}
	if digest(t, ahead) != digest(t, b) {
		t.Fatal("digests differ after the release")
	}
}

func TestDeleteAndUndelete(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t, Options{})
	id := syncproto.NewRecordID()
	if _, err := s.Write(ctx, []Edit{edit(t, id, true, "village", "Pomona")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Write(ctx, []Edit{edit(t, id, false, syncproto.DeletedField, true)}); err != nil {
		t.Fatal(err)
	}
	count := func(q Query) int {
		n := 0
		for _, err := range s.Records(ctx, q) {
			if err != nil {
				t.Fatal(err)
			}
			n++
		}
		return n
	}
	if count(Query{}) != 0 || count(Query{WithDeleted: true}) != 1 {
		t.Fatal("a deleted record is listed, or lost")
	}
	if _, err := s.Write(ctx, []Edit{edit(t, id, false, syncproto.DeletedField, false)}); err != nil {
		t.Fatal(err)
	}
	if count(Query{}) != 1 {
		t.Fatal("undelete did not bring the record back")
	}
}

func TestOpenRefusesForeignAndDamagedFiles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	foreign := filepath.Join(dir, "foreign.db")
	db, err := sql.Open("sqlite3", foreign)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE customers (name TEXT); INSERT INTO customers VALUES ('x')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	text := filepath.Join(dir, "notes.db")
	os.WriteFile(text, []byte("these are not the records you are looking for, but they are long enough to fill a header and then some more bytes"), 0o600)

	s, _ := newStore(t, Options{})
	for range 200 {
		if _, err := s.Write(ctx, []Edit{edit(t, syncproto.NewRecordID(), true, "notes", strings.Repeat("flood ", 100))}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	good, _ := os.ReadFile(s.Path())
	truncated := filepath.Join(dir, "truncated.db")
	os.WriteFile(truncated, good[:len(good)/2], 0o600)
	stub := filepath.Join(dir, "stub.db")
	os.WriteFile(stub, good[:50], 0o600)

	for _, tc := range []struct {
		path string
		want error
		text string
	}{
		{filepath.Join(dir, "absent.db"), ErrNotStore, "does not exist"},
		{foreign, ErrNotStore, "another program"},
		{text, ErrNotStore, "not a SQLite database"},
		{truncated, ErrCorrupt, "cut short"},
		{stub, ErrCorrupt, "too short"},
	} {
		before, _ := os.ReadFile(tc.path)
		_, err := Open(ctx, tc.path, Options{})
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) || !strings.Contains(err.Error(), tc.path) {
			t.Errorf("%s: got %v, want %v mentioning %q and the path", filepath.Base(tc.path), err, tc.want, tc.text)
		}
		if after, _ := os.ReadFile(tc.path); !bytes.Equal(before, after) {
			t.Errorf("%s: opening it changed the file", filepath.Base(tc.path))
		}
	}
}

func TestOpenWithAnotherNodesKeyRefused(t *testing.T) {
	s, _ := newStore(t, Options{})
	s.Close()
	other, _ := identity.NewKey()
	if _, err := Open(context.Background(), s.Path(), Options{Key: other}); err == nil || !strings.Contains(err.Error(), "belongs to node") {
		t.Fatalf("got %v", err)
	}
	ro, err := Open(context.Background(), s.Path(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := ro.Write(context.Background(), []Edit{edit(t, syncproto.NewRecordID(), true, "village", "x")}); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("write without the key: %v", err)
	}
}

// Stores that receive the same changes in different interleavings, with
// duplicates and in batches of any size, end byte-identical, equal to the
// pure merge of those changes; and rebuilding the records from the change
// log gives the same rows.
func TestStoresConvergeAndRebuild(t *testing.T) {
	ctx := context.Background()
	a, _ := newStore(t, Options{})
	b, _ := newStore(t, Options{})
	round := 0
	rapid.Check(t, func(rt *rapid.T) {
		round++
		h := genHistory(rt)
		// Each history gets its own origins and records in the shared stores.
		tag := func(p []byte) { p[1], p[2] = byte(round>>8), byte(round) }
		for i := range h.changes {
			c := &h.changes[i]
			tag(c.Origin[:])
			tag(c.Record[:])
			for j := range c.Fields {
				for k := range c.Fields[j].Base {
					tag(c.Fields[j].Base[k].Origin[:])
				}
			}
		}
		pure := newReplica()
		for i := range h.changes {
			pure.apply(&h.changes[i])
		}
		for _, s := range []*SQLite{a, b} {
			for _, batch := range interleave(rt, h.changes) {
				if _, err := s.Apply(ctx, batch); err != nil {
					rt.Fatal(err)
				}
			}
		}
		for id, st := range pure.states {
			want, _ := st.Encode()
			for _, s := range []*SQLite{a, b} {
				var got []byte
				if err := s.rdb.QueryRow(`SELECT state FROM records WHERE id = ?`, id[:]).Scan(&got); err != nil {
					rt.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					rt.Fatalf("record %s: the store holds another state than the merge rule gives", id)
				}
			}
		}
	})
	if digest(t, a) != digest(t, b) {
		t.Fatal("stores given the same changes have different digests")
	}
	before := rowsOf(t, a)
	if err := a.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	if after := rowsOf(t, a); !bytes.Equal(before, after) {
		t.Fatal("rebuilding from the change log gives other records")
	}
}

// interleave sends each origin's changes in sequence, origins mixed at
// random, some changes again, cut into batches.
func interleave(t *rapid.T, changes []syncproto.Change) [][]Incoming {
	queues := map[syncproto.NodeID][]syncproto.Change{}
	var origins []syncproto.NodeID
	for _, c := range changes {
		if _, ok := queues[c.Origin]; !ok {
			origins = append(origins, c.Origin)
		}
		queues[c.Origin] = append(queues[c.Origin], c)
	}
	var sent, order []syncproto.Change
	for len(origins) > 0 {
		if len(sent) > 0 && rapid.IntRange(0, 5).Draw(t, "again") == 0 {
			order = append(order, sent[rapid.IntRange(0, len(sent)-1).Draw(t, "which")])
			continue
		}
		i := rapid.IntRange(0, len(origins)-1).Draw(t, "origin")
		q := queues[origins[i]]
		order = append(order, q[0])
		sent = append(sent, q[0])
		if queues[origins[i]] = q[1:]; len(q) == 1 {
			origins = slices.Delete(origins, i, i+1)
		}
	}
	var batches [][]Incoming
	for len(order) > 0 {
		n := rapid.IntRange(1, len(order)).Draw(t, "batch")
		var batch []Incoming
		for _, c := range order[:n] {
			body, _ := c.Encode()
			batch = append(batch, Incoming{Change: c, Body: body})
		}
		batches = append(batches, batch)
		order = order[n:]
	}
	return batches
}

func rowsOf(t testing.TB, s *SQLite) []byte {
	rows, err := s.rdb.Query(`SELECT id, type, hlc, conflicts, deleted, state FROM records ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out bytes.Buffer
	for rows.Next() {
		var id, state []byte
		var typ string
		var hlc, conflicts, deleted int64
		if err := rows.Scan(&id, &typ, &hlc, &conflicts, &deleted, &state); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&out, "%x %s %d %d %d %x\n", id, typ, hlc, conflicts, deleted, state)
	}
	return out.Bytes()
}

// Created lists the records a range of a stream creates, in order, and not
// the records it only edits, wherever the range starts and ends.
func TestCreatedListsNewRecordsOfARange(t *testing.T) {
	const createdPart = 4096 // a size the node reads a commit's ranges in
	ctx := context.Background()
	s, _ := newStore(t, Options{})
	districts := []string{"Cayo", "Toledo", "Atlantis"} // the last is no district: NEM
	codes := map[string]string{"Cayo": "CYO", "Toledo": "TOL", "Atlantis": "NEM"}
	// Three imports, so that the stream holds new records, then edits of
	// some of them, then new records again.
	var edits []Edit // in the stream's order
	var ids []syncproto.RecordID
	add := func(batch []Edit) {
		t.Helper()
		if _, err := s.Import(ctx, imported(t, batch...)); err != nil {
			t.Fatal(err)
		}
		edits = append(edits, batch...)
	}
	creates := func(k int) []Edit {
		var batch []Edit
		for range k {
			id := syncproto.NewRecordID()
			ids = append(ids, id)
			batch = append(batch, edit(t, id, true, "district", districts[len(ids)%3]))
		}
		return batch
	}
	add(creates(2 * createdPart))
	var updates []Edit
	for i := 0; i < len(ids); i += 9 {
		updates = append(updates, edit(t, ids[i], false, "damage_level", 2))
	}
	if _, err := s.Write(ctx, updates); err != nil {
		t.Fatal(err)
	}
	edits = append(edits, updates...)
	add(creates(createdPart))
	if v, _ := s.Vector(ctx); v[lane3(s)] != uint64(len(edits)) {
		t.Fatalf("the stream holds %d changes, want %d", v[lane3(s)], len(edits))
	}
	total := uint64(len(edits))
	check := func(from, to uint64) {
		t.Helper()
		got, err := s.Created(ctx, lane3(s), from, to)
		if err != nil {
			t.Fatal(err)
		}
		var want []ledger.NewRecord
		for seq := from; seq <= to; seq++ {
			if e := edits[seq-1]; e.Create {
				var d string
				if err := syncproto.Unmarshal(e.Fields[0].Value, &d); err != nil {
					t.Fatal(err)
				}
				want = append(want, ledger.NewRecord{Record: e.Record, District: codes[d]})
			}
		}
		if len(got) != len(want) {
			t.Fatalf("changes %d to %d: %d new records, want %d", from, to, len(got), len(want))
		}
		for i := range got {
			if got[i].Record != want[i].Record || got[i].District != want[i].District || got[i].Year < 2026 {
				t.Fatalf("changes %d to %d: new record %d is %+v, want %+v", from, to, i, got[i], want[i])
			}
		}
	}
	check(1, total)
	check(2, total-1)
	check(createdPart+7, createdPart+7)
	check(100, 100+createdPart)
	check(2*createdPart-10, total) // edits in the middle
}

// incomingOf turns runs, as Outgoing gives them, into what Apply takes: the
// run's signature on its last change.
func incomingOf(t *testing.T, runs []syncproto.Run) []Incoming {
	t.Helper()
	var out []Incoming
	for _, r := range runs {
		for i, body := range r.Bodies {
			c, err := syncproto.DecodeChange(body)
			if err != nil {
				t.Fatal(err)
			}
			in := Incoming{Change: c, Body: body}
			if i == len(r.Bodies)-1 {
				in.Sig = r.Sig
			}
			out = append(out, in)
		}
	}
	return out
}

// A laptop records, then its clock jumps a day ahead and it records more,
// and one run carries both: the receiver merges the first change and holds
// the rest, verifying the run's signature (on a held change) for the whole
// of it; and it passes the run on, so that a third node ends as it does.
func TestRunEndingInHeldChangesIsVerifiedAndPassedOn(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	ahead := time.Duration(0)
	clock := syncproto.NewClock(func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return time.Now().Add(ahead)
	}, 0)
	a, ka := newStore(t, Options{Clock: clock})
	verify := func(st syncproto.Stream, seq uint64, head syncproto.Hash, sig []byte) error {
		if st.Origin != ka.ID() || !identity.VerifyHead(ka.Public(), st, seq, head, sig) {
			return errors.New("signature does not verify")
		}
		return nil
	}
	b, _ := newStore(t, Options{VerifyHead: verify})
	c, _ := newStore(t, Options{VerifyHead: verify})
	forged, _ := newStore(t, Options{VerifyHead: verify})
	first := syncproto.NewRecordID()
	if _, err := a.Write(ctx, []Edit{edit(t, first, true, "village", "Succotz")}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	ahead = 24 * time.Hour
	mu.Unlock()
	for range 2 {
		if _, err := a.Write(ctx, []Edit{edit(t, syncproto.NewRecordID(), true, "village", "Benque")}); err != nil {
			t.Fatal(err)
		}
	}
	runs, _, err := a.Outgoing(ctx, syncproto.Vector{}, 1000)
	if err != nil || len(runs) != 1 || len(runs[0].Bodies) != 3 {
		t.Fatalf("runs %v %v", runs, err)
	}
	in := incomingOf(t, runs)

	// The merged first change is vouched for by the held change's
	// signature: altered, the whole run is refused.
	tampered := slices.Clone(in)
	tampered[0].Body = bytes.Replace(slices.Clone(in[0].Body), []byte("Succotz"), []byte("Sukotz!"), 1)
	if _, err := forged.Apply(ctx, tampered); !errors.Is(err, ErrChain) {
		t.Fatalf("a run altered before its held end: %v", err)
	}
	if v, _ := forged.Vector(ctx); len(v) != 0 {
		t.Fatalf("a refused run left changes behind: %v", v)
	}

	res, err := b.Apply(ctx, in)
	if err != nil || res.Applied != 1 || res.Held != 2 {
		t.Fatalf("b: %+v %v", res, err)
	}
	fromB, after, err := b.Outgoing(ctx, syncproto.Vector{}, 1000)
	if err != nil || len(fromB) != 1 || len(fromB[0].Bodies) != 3 {
		t.Fatalf("b passes on %d runs (%v): the merged change must go with the held ones that vouch for it", len(fromB), err)
	}
	if st := lane3(a); after[st] != 1 {
		t.Fatalf("b expects its peer to hold %d of the stream, want 1", after[st])
	}
	res, err = c.Apply(ctx, incomingOf(t, fromB))
	if err != nil || res.Applied != 1 || res.Held != 2 {
		t.Fatalf("c: %+v %v", res, err)
	}
	db, _ := b.Digest(ctx)
	dc, _ := c.Digest(ctx)
	if db != dc {
		t.Fatal("b and c hold different records")
	}
	if rec, err := c.Record(ctx, first); err != nil || value(t, rec, "village") != "Succotz" {
		t.Fatalf("c lacks the record made before the clock jumped: %v", err)
	}
}

// A record says which change created it, whatever came after, as read
// alone and in a list: what a node's live feed says "added" by.
func TestARecordSaysItsFirstChange(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t, Options{})
	rec := syncproto.NewRecordID()
	hlc := syncproto.MakeHLC(time.Now().UnixMilli(), 0)
	create := fromPeer(t, syncproto.Change{Origin: syncproto.NodeID{0xd1}, Seq: 1, HLC: hlc, Record: rec, Fields: setField(t, "roof", "intact")})
	edit := fromPeer(t, syncproto.Change{Origin: syncproto.NodeID{0xd2}, Seq: 1, HLC: hlc + 5, Record: rec,
		Fields: setField(t, "roof", "gone", create.Change.Dot())})
	for _, in := range []Incoming{create, edit} {
		if _, err := s.Apply(ctx, []Incoming{in}); err != nil {
			t.Fatal(err)
		}
	}
	want := syncproto.Dot{Origin: syncproto.NodeID{0xd1}, Lane: 3, Seq: 1}
	if r, err := s.Record(ctx, rec); err != nil || r.First != want {
		t.Fatalf("the record's first change: %v (%v), want %v", r.First, err, want)
	}
	for r, err := range s.Records(ctx, Query{}) {
		if err != nil || r.First != want {
			t.Fatalf("listed, the record's first change: %v (%v), want %v", r.First, err, want)
		}
	}
}
