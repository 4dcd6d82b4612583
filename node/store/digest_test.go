package store

import (
	"context"
	"crypto/aes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"testing"

	"lifeline/syncproto"
)

// The digest as docs/sync.md defines it, restated here apart from the
// store's code: each record's entry is the CBOR array [id, type, deleted,
// [[field name, [[dot, value]...]]...]] (fields by name, versions winner
// first, the tombstone field among them); its element is the 2,048 bytes
// BLAKE2X gives of the entry, read as 1,024 little-endian 16-bit lanes;
// the accumulator sums the elements lane by lane mod 2^16; the digest is
// SHA-256 of the accumulator's bytes.
type specEntry struct {
	_       struct{} `cbor:",toarray"`
	ID      [16]byte
	Type    string
	Deleted bool
	Fields  []specField
}

type specField struct {
	_        struct{} `cbor:",toarray"`
	Name     string
	Versions []specVersion
}

type specVersion struct {
	_     struct{} `cbor:",toarray"`
	Dot   specDot
	Value []byte
}

type specDot struct {
	_      struct{} `cbor:",toarray"`
	Origin []byte
	Lane   uint8
	Seq    uint64
}

func specEntryOf(t testing.TB, r Record) []byte {
	t.Helper()
	e := specEntry{ID: r.ID, Type: r.Type, Deleted: r.Deleted}
	for _, f := range r.Fields {
		sf := specField{Name: f.Name}
		for _, v := range f.Versions {
			sf.Versions = append(sf.Versions, specVersion{Dot: specDot{Origin: v.Stamp.Origin[:], Lane: v.Stamp.Lane, Seq: v.Stamp.Seq}, Value: v.Value})
		}
		e.Fields = append(e.Fields, sf)
	}
	return cborOf(t, e)
}

// specDigest is the digest of records by the definition above.
// specElement is an entry's element by its definition: the AES-256
// encryptions of the counter blocks 0, 1, ... 127 (16 bytes, big-endian)
// under the key SHA-256("lifeline/digest/element/v2" || entry).
func specElement(t testing.TB, entry []byte) []byte {
	t.Helper()
	key := sha256.Sum256(append([]byte("lifeline/digest/element/v2"), entry...))
	blk, err := aes.NewCipher(key[:])
	if err != nil {
		t.Fatal(err)
	}
	out := make([]byte, 0, 2048)
	for n := range uint64(128) {
		var ctr, ks [16]byte
		binary.BigEndian.PutUint64(ctr[8:], n)
		blk.Encrypt(ks[:], ctr[:])
		out = append(out, ks[:]...)
	}
	return out
}

func specDigest(t testing.TB, records []Record) [32]byte {
	t.Helper()
	var acc [1024]uint16
	for _, r := range records {
		out := specElement(t, specEntryOf(t, r))
		for i := range acc {
			acc[i] += binary.LittleEndian.Uint16(out[2*i:])
		}
	}
	var b [2048]byte
	for i, v := range acc {
		binary.LittleEndian.PutUint16(b[2*i:], v)
	}
	return sha256.Sum256(b[:])
}

func allRecords(t testing.TB, s *SQLite) []Record {
	t.Helper()
	var out []Record
	for r, err := range s.Records(context.Background(), Query{WithDeleted: true}) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// testTally counts, per district and type, the records not deleted, their
// damage levels summed and those in conflict; and the deleted ones, per
// type.
var testTally = &Tally{Version: 1, Count: func(r *Record) []Count {
	if r.Deleted {
		return []Count{{Type: r.Type, Name: "deleted", N: 1}}
	}
	var district string
	var level int64
	for _, f := range r.Fields {
		var v any
		if syncproto.Unmarshal(f.Versions[0].Value, &v) != nil {
			continue
		}
		switch f.Name {
		case "district":
			district, _ = v.(string)
		case "damage_level":
			if n, ok := v.(uint64); ok {
				level = int64(n)
			}
		}
	}
	out := []Count{{Scope: district, Type: r.Type, Name: "records", N: 1}, {Scope: district, Type: r.Type, Name: "level", N: level}}
	if r.Conflicts > 0 {
		out = append(out, Count{Scope: district, Type: r.Type, Name: "conflicts", N: 1})
	}
	return out
}}

// walkTallies sums the tally over every record as the store lists them.
func walkTallies(t testing.TB, tally *Tally, records []Record) map[countKey]int64 {
	out := map[countKey]int64{}
	for _, r := range records {
		for _, c := range tally.Count(&r) {
			out[countKey{c.Scope, c.Type, c.Name}] += c.N
		}
	}
	maps.DeleteFunc(out, func(_ countKey, n int64) bool { return n == 0 })
	return out
}

// checkDerived fails unless the store's digest and totals are what its
// records give by the definitions, computed from the records now.
func checkDerived(t testing.TB, s *SQLite) {
	t.Helper()
	ctx := context.Background()
	records := allRecords(t, s)
	got, err := s.Digest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := specDigest(t, records); got != want {
		t.Errorf("%s: digest %x, its %d records give %x", s.Self().Name, got, len(records), want)
	}
	var every []string
	for sc := range syncproto.MaxScope + 1 {
		every = append(every, strconv.Itoa(sc))
	}
	if got, err := s.DigestOf(ctx, every); err != nil || got != specDigest(t, records) {
		t.Errorf("%s: digest of every scope %x, %v; want the whole store's", s.Self().Name, got, err)
	}
	// Each scope's digest is that of its records alone: a record is of
	// its first change's lane's scope, the high four bits.
	byScope := map[uint8][]Record{}
	for _, r := range records {
		byScope[r.Lane>>4] = append(byScope[r.Lane>>4], r)
	}
	for sc, rs := range byScope {
		if got, err := s.DigestOf(ctx, []string{strconv.Itoa(int(sc))}); err != nil || got != specDigest(t, rs) {
			t.Errorf("%s: digest of scope %d %x, %v; want that of its %d records", s.Self().Name, sc, got, err, len(rs))
		}
	}
	if s.opts.Tally == nil {
		return
	}
	counts, err := s.Tallies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	have := map[countKey]int64{}
	for _, c := range counts {
		have[countKey{c.Scope, c.Type, c.Name}] += c.N
	}
	if want := walkTallies(t, s.opts.Tally, records); !maps.Equal(have, want) {
		t.Errorf("%s: totals %v, its records give %v", s.Self().Name, have, want)
	}
}

// The digest of a fixed set of records is pinned: what `lifeline digest`
// prints and nodes compare must not change by accident. The expected
// value was computed once by specDigest; a change to it is a change of
// the digest's definition (and of digestDefinition).
func TestDigestGolden(t *testing.T) {
	origin := syncproto.NodeID{0x01, 15: 0x07}
	other := syncproto.NodeID{0x02, 15: 0x0c}
	rec := func(id byte, typ string, deleted bool, fields ...FieldView) Record {
		return Record{ID: syncproto.RecordID{0x01, 0x9a, 15: id}, Type: typ, Deleted: deleted, Fields: fields}
	}
	ver := func(o syncproto.NodeID, seq uint64, v any) Version {
		return Version{Value: cborOf(t, v), Stamp: Stamp{Origin: o, Lane: 3, Seq: seq, HLC: syncproto.HLC(seq << 16)}}
	}
	records := []Record{
		rec(1, "damage-assessment", false,
			FieldView{Name: "damage_level", Versions: []Version{ver(origin, 1, 3)}},
			FieldView{Name: "district", Versions: []Version{ver(origin, 1, "Cayo")}}),
		rec(2, "missing-person", false,
			FieldView{Name: "full_name", Versions: []Version{ver(origin, 2, "Elena Sho")}},
			FieldView{Name: "last_seen_place", Versions: []Version{ver(other, 1, "Hawkesworth Bridge"), ver(origin, 3, "Bus terminal")}}),
		rec(3, "damage-assessment", true,
			FieldView{Name: syncproto.DeletedField, Versions: []Version{ver(origin, 5, true)}},
			FieldView{Name: "district", Versions: []Version{ver(origin, 4, "Cayo")}}),
	}
	const want = "a0fe3b71571fb44b726f3b5ce26492dc0c66bb91a481113247d319f42a88e876"
	if got := hex.EncodeToString(func() []byte { d := specDigest(t, records); return d[:] }()); got != want {
		t.Errorf("the definition gives %s, pinned %s", got, want)
	}
	// The store's accumulator of the same records, and its entries' bytes.
	var acc ltHash
	for i := range records {
		entry := appendEntry(nil, &records[i])
		if spec := specEntryOf(t, records[i]); string(entry) != string(spec) {
			t.Errorf("record %d: entry %x, the definition's %x", i, entry, spec)
		}
		acc.addElement(entry, 1)
	}
	if got := acc.sum(); hex.EncodeToString(got[:]) != want {
		t.Errorf("the store's accumulator gives %x, pinned %s", got, want)
	}
	// Taking a record away gives the digest of the others.
	acc.addElement(appendEntry(nil, &records[1]), -1)
	if got, want := acc.sum(), specDigest(t, []Record{records[0], records[2]}); got != want {
		t.Errorf("after taking a record away %x, want %x", got, want)
	}
	if got, want := (&ltHash{}).sum(), sha256.Sum256(make([]byte, 2048)); got != want {
		t.Errorf("no record: %x, want SHA-256 of 2,048 zero bytes %x", got, want)
	}
}

// Random histories on three nodes that write, import, delete, restore
// and edit the same records apart (conflicts), and sync now and then:
// after every step each store's digest and totals are what its records
// give, and stores that hold the same changes, merged in any order, have
// the same digest.
func TestDigestAndTotalsFollowEveryChange(t *testing.T) {
	var conflicts, deleted int
	for seed := range uint64(12) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			c, d := randomHistory(t, seed)
			conflicts, deleted = conflicts+c, deleted+d
		})
	}
	// The histories did what they are meant to check.
	if conflicts == 0 || deleted == 0 {
		t.Errorf("the histories ended with %d records in conflict and %d deleted: some of each wanted", conflicts, deleted)
	}
}

// randomHistory runs one history; it returns how many records ended in
// conflict and deleted.
func randomHistory(t *testing.T, seed uint64) (conflicts, deleted int) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 0xd16e57))
	var nodes []*SQLite
	for range 3 {
		s, _ := newStore(t, Options{Tally: testTally})
		nodes = append(nodes, s)
	}
	districts := []string{"Cayo", "Belize", "Toledo"}
	held := func(s *SQLite) []syncproto.RecordID {
		var ids []syncproto.RecordID
		for _, r := range allRecords(t, s) {
			ids = append(ids, r.ID)
		}
		return ids
	}
	fields := func() []any {
		var kv []any
		if rng.IntN(3) > 0 {
			kv = append(kv, "damage_level", rng.IntN(5))
		}
		if rng.IntN(3) > 0 {
			kv = append(kv, "district", districts[rng.IntN(len(districts))])
		}
		if rng.IntN(4) == 0 {
			kv = append(kv, "notes", fmt.Sprint("note ", rng.IntN(100)))
		}
		if len(kv) == 0 {
			kv = append(kv, "damage_level", rng.IntN(5))
		}
		return kv
	}
	for range 40 {
		s := nodes[rng.IntN(len(nodes))]
		ids := held(s)
		switch op := rng.IntN(10); {
		case op < 2 || len(ids) == 0:
			var edits []Edit
			for range 1 + rng.IntN(3) {
				edits = append(edits, edit(t, syncproto.NewRecordID(), true, fields()...))
			}
			if _, err := s.Write(ctx, edits); err != nil {
				t.Fatal(err)
			}
		case op == 2:
			var edits []Edit
			for range 1 + rng.IntN(20) {
				edits = append(edits, edit(t, syncproto.NewRecordID(), true, fields()...))
			}
			if _, err := s.Import(ctx, imported(t, edits...)); err != nil {
				t.Fatal(err)
			}
		case op < 6:
			e := edit(t, ids[rng.IntN(len(ids))], false, fields()...)
			if _, err := s.Write(ctx, []Edit{e}); err != nil {
				t.Fatal(err)
			}
		case op == 6:
			e := edit(t, ids[rng.IntN(len(ids))], false, syncproto.DeletedField, rng.IntN(2) == 0)
			if _, err := s.Write(ctx, []Edit{e}); err != nil {
				t.Fatal(err)
			}
		default:
			o := nodes[rng.IntN(len(nodes))]
			if o != s {
				exchange(t, s, o)
			}
		}
		checkDerived(t, s)
		if t.Failed() {
			t.FailNow()
		}
	}
	// A fourth node takes everything the others hold, origin by origin in
	// a random order and in random pieces: the same records as theirs,
	// merged in another order.
	for _, a := range nodes {
		for _, b := range nodes {
			if a != b {
				exchange(t, a, b)
			}
		}
	}
	late, _ := newStore(t, Options{Tally: testTally})
	all := missing(t, nodes[0], nil)
	byStream := map[syncproto.Stream][]Incoming{}
	for _, in := range all {
		byStream[in.Change.Stream()] = append(byStream[in.Change.Stream()], in)
	}
	streams := slices.Collect(maps.Keys(byStream))
	for len(streams) > 0 {
		i := rng.IntN(len(streams))
		st := streams[i]
		n := min(len(byStream[st]), 1+rng.IntN(4))
		if _, err := late.Apply(ctx, byStream[st][:n]); err != nil {
			t.Fatal(err)
		}
		if byStream[st] = byStream[st][n:]; len(byStream[st]) == 0 {
			streams = slices.Delete(streams, i, i+1)
		}
	}
	checkDerived(t, late)
	want := digest(t, nodes[0])
	for _, s := range append(nodes[1:], late) {
		if got := digest(t, s); got != want {
			t.Errorf("%s: digest %x after merging every change, %s has %x", s.Self().Name, got, nodes[0].Self().Name, want)
		}
	}
	// Deriving every record again from the log leaves them, and so the
	// digest and the totals, as they were.
	if err := late.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	checkDerived(t, late)
	if got := digest(t, late); got != want {
		t.Errorf("after a rebuild the digest is %x, want %x", got, want)
	}
	for _, r := range allRecords(t, late) {
		if r.Conflicts > 0 {
			conflicts++
		}
		if r.Deleted {
			deleted++
		}
	}
	return conflicts, deleted
}

// A store opened with a new version of its tally computes its totals
// again; one written by a process without a tally has them computed again
// when they are next read; an upgraded store without derived tables yet
// computes them when it opens.
func TestTotalsComputedAgain(t *testing.T) {
	ctx := context.Background()
	s, key := newStore(t, Options{})
	var edits []Edit
	for i := range 30 {
		edits = append(edits, edit(t, syncproto.NewRecordID(), true, "district", []string{"Cayo", "Toledo"}[i%2], "damage_level", i%5))
	}
	if _, err := s.Import(ctx, imported(t, edits...)); err != nil {
		t.Fatal(err)
	}
	path := s.Path()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(ctx, path, Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Tallies(ctx); !errors.Is(err, ErrNoTally) {
		t.Errorf("totals of a store without a tally: %v, want ErrNoTally", err)
	}
	// As after the migration: nothing computed yet.
	if _, err := s.wdb.Exec(`UPDATE derived SET version = 0; DELETE FROM digests; DELETE FROM tallies`); err != nil {
		t.Fatal(err)
	}
	s.Close()

	reopen := func(opts Options) *SQLite {
		t.Helper()
		opts.Key = key
		s, err := Open(ctx, path, opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	s = reopen(Options{Tally: testTally})
	checkDerived(t, s)
	s.Close()

	// Another definition of the tally.
	v2 := &Tally{Version: 2, Count: func(r *Record) []Count { return []Count{{Type: r.Type, Name: "all", N: 1}} }}
	s = reopen(Options{Tally: v2})
	checkDerived(t, s)
	if counts, err := s.Tallies(ctx); err != nil || len(counts) != 1 || counts[0].N != 30 {
		t.Errorf("totals by the second tally: %v, %v; want 30 records", counts, err)
	}
	// A process without a tally writes; the totals are stale until read.
	plain := reopen(Options{})
	if _, err := plain.Write(ctx, []Edit{edit(t, edits[0].Record, false, syncproto.DeletedField, true)}); err != nil {
		t.Fatal(err)
	}
	checkDerived(t, s)
	plain.Close()
	s.Close()
	s = reopen(Options{Tally: testTally})
	checkDerived(t, s)
}

// Writers whose edits commit together, some of them refused after a first
// edit of theirs merged: the digest and totals count only what was saved.
func TestRefusedEditsInAGroupCountNothing(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t, Options{})
	taken := syncproto.NewRecordID()
	if _, err := s.Write(ctx, []Edit{edit(t, taken, true, "district", "Cayo", "damage_level", 2)}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Go(func() {
			first := edit(t, syncproto.NewRecordID(), true, "district", "Toledo", "damage_level", i%5)
			if i%2 == 0 {
				if _, err := s.Write(ctx, []Edit{first}); err != nil {
					t.Error(err)
				}
				return
			}
			if _, err := s.Write(ctx, []Edit{first, edit(t, taken, true, "district", "Cayo")}); !errors.Is(err, ErrExists) {
				t.Errorf("a unit that creates a taken id: %v", err)
			}
		})
	}
	wg.Wait()
	checkDerived(t, s)
	if n := len(allRecords(t, s)); n != 33 {
		t.Errorf("%d records, want 33", n)
	}
}
