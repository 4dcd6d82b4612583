package store

import (
	"bytes"
	"flag"
	"os"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"lifeline/syncproto"
)

// checksGiven: -rapid.checks was given on the command line.
var checksGiven bool

func TestMain(m *testing.M) {
	if os.Getenv(killWriterEnv) != "" {
		killWriterMain()
		return
	}
	flag.Parse()
	// The merge properties are checked over a thousand random histories
	// unless -rapid.checks says otherwise.
	flag.Visit(func(f *flag.Flag) { checksGiven = checksGiven || f.Name == "rapid.checks" })
	if !checksGiven {
		flag.Set("rapid.checks", "1000")
	}
	os.Exit(m.Run())
}

// history is what a few nodes wrote while syncing with each other now and
// then: every change, and each origin's changes in sequence.
type history struct {
	origins []syncproto.NodeID
	records []syncproto.RecordID
	changes []syncproto.Change // in the order they were made
	bodies  map[syncproto.Dot][]byte
}

// replica is one simulated node: what it has merged.
type replica struct {
	states  map[syncproto.RecordID]*RecordState
	seen    map[syncproto.RecordID]map[syncproto.Dot]bool // per record
	applied map[syncproto.Dot]bool
}

func newReplica() *replica {
	return &replica{states: map[syncproto.RecordID]*RecordState{}, seen: map[syncproto.RecordID]map[syncproto.Dot]bool{},
		applied: map[syncproto.Dot]bool{}}
}

func (r *replica) apply(c *syncproto.Change) {
	st := r.states[c.Record]
	if st == nil {
		st = &RecordState{}
		r.states[c.Record] = st
		r.seen[c.Record] = map[syncproto.Dot]bool{}
	}
	seen := r.seen[c.Record]
	st.Apply(c, func(d syncproto.Dot) bool { return seen[d] })
	seen[c.Dot()] = true
	r.applied[c.Dot()] = true
}

// encode gives the replica's whole state as bytes, records in id order.
func (r *replica) encode(t *rapid.T) []byte {
	ids := make([]syncproto.RecordID, 0, len(r.states))
	for id := range r.states {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, syncproto.RecordID.Compare)
	var out bytes.Buffer
	for _, id := range ids {
		b, err := r.states[id].Encode()
		if err != nil {
			t.Fatal(err)
		}
		out.Write(id[:])
		out.Write(b)
	}
	return out.Bytes()
}

var fieldNames = []string{"a", "b", "c", syncproto.DeletedField}

// genHistory simulates 1 to 4 nodes editing 1 to 3 records, each basing its
// edits on what it has seen, syncing now and then, with clocks that drift,
// and now and then a change naming a base that is not what it claims.
func genHistory(t *rapid.T) *history {
	n := rapid.IntRange(1, 4).Draw(t, "nodes")
	h := &history{bodies: map[syncproto.Dot][]byte{}}
	for i := range n {
		var id syncproto.NodeID
		id[0], id[15] = byte(0x10*(i+1)), byte(i)
		h.origins = append(h.origins, id)
	}
	for i := range rapid.IntRange(1, 3).Draw(t, "records") {
		var id syncproto.RecordID
		id[0], id[15] = 0xaa, byte(i)
		h.records = append(h.records, id)
	}
	reps := make([]*replica, n)
	seqs := make([]map[uint8]uint64, n)
	clocks := make([]syncproto.HLC, n)
	for i := range reps {
		reps[i] = newReplica()
		seqs[i] = map[uint8]uint64{}
		clocks[i] = syncproto.MakeHLC(1_700_000_000_000, 0)
	}
	steps := rapid.IntRange(1, 40).Draw(t, "steps")
	for range steps {
		if rapid.IntRange(0, 9).Draw(t, "action") >= 7 && n > 1 {
			// Node i receives everything node j has.
			i, j := rapid.IntRange(0, n-1).Draw(t, "to"), rapid.IntRange(0, n-1).Draw(t, "from")
			for k := range h.changes {
				c := &h.changes[k]
				if reps[j].applied[c.Dot()] && !reps[i].applied[c.Dot()] {
					reps[i].apply(c)
					clocks[i] = max(clocks[i], c.HLC)
				}
			}
			continue
		}
		o := rapid.IntRange(0, n-1).Draw(t, "origin")
		rec := rapid.SampledFrom(h.records).Draw(t, "record")
		names := rapid.SliceOfNDistinct(rapid.SampledFrom(fieldNames), 1, 3, func(s string) string { return s }).Draw(t, "fields")
		slices.Sort(names)
		// Two lanes, so that one node's changes arrive in two streams.
		lane := uint8(rapid.IntRange(1, 2).Draw(t, "lane"))
		seqs[o][lane]++
		clocks[o] += syncproto.HLC(rapid.IntRange(0, 3).Draw(t, "tick")) << 16
		clocks[o]++
		c := syncproto.Change{
			Origin: h.origins[o], Lane: lane, Seq: seqs[o][lane], HLC: clocks[o], Record: rec,
			Kit: "k", Type: rapid.SampledFrom([]string{"t", "u"}).Draw(t, "type"), Version: uint32(rapid.IntRange(1, 3).Draw(t, "version")),
		}
		st := reps[o].states[rec]
		for _, name := range names {
			var value []byte
			if name == syncproto.DeletedField {
				value = []byte{0xf4 + byte(rapid.IntRange(0, 1).Draw(t, "deleted"))}
			} else {
				value, _ = syncproto.Marshal(rapid.IntRange(0, 5).Draw(t, "value"))
			}
			var base []syncproto.Dot
			if st != nil {
				base = st.Bases(name)
			}
			if rapid.IntRange(0, 9).Draw(t, "bogus") == 0 {
				// A base that names a change which never set this field, or
				// one that does not exist at all.
				bogus := syncproto.Dot{Origin: rapid.SampledFrom(h.origins).Draw(t, "bogusOrigin"),
					Lane: uint8(rapid.IntRange(1, 2).Draw(t, "bogusLane")), Seq: uint64(rapid.IntRange(1, 8).Draw(t, "bogusSeq"))}
				if bogus != c.Dot() && !slices.Contains(base, bogus) {
					base = append(base, bogus)
					slices.SortFunc(base, syncproto.Dot.Compare)
				}
			}
			c.Fields = append(c.Fields, syncproto.FieldChange{Name: name, Value: value, Base: base})
		}
		body, err := c.Encode()
		if err != nil {
			t.Fatal(err)
		}
		h.bodies[c.Dot()] = body
		h.changes = append(h.changes, c)
		reps[o].apply(&h.changes[len(h.changes)-1])
	}
	return h
}

// withDuplicates returns the changes in a random order with some of them
// repeated.
func withDuplicates(t *rapid.T, changes []syncproto.Change, label string) []syncproto.Change {
	order := rapid.Permutation(changes).Draw(t, label)
	for range rapid.IntRange(0, len(order)).Draw(t, label+"Dups") {
		i := rapid.IntRange(0, len(order)-1).Draw(t, label+"Dup")
		order = slices.Insert(order, rapid.IntRange(0, len(order)).Draw(t, label+"At"), order[i])
	}
	return order
}

// The merge rule converges: the same changes in any order, any number of
// times, give the same state, byte for byte; and that state is the one the
// rule defines, computed directly from the set of changes.
func TestMergeConvergesInAnyOrder(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		h := genHistory(t)
		var want []byte
		for k := range 3 {
			r := newReplica()
			for _, c := range withDuplicates(t, h.changes, "order") {
				r.apply(&c)
			}
			got := r.encode(t)
			if k == 0 {
				want = got
				checkAgainstDefinition(t, h, r)
			} else if !bytes.Equal(got, want) {
				t.Fatalf("order %d gives another state:\n%x\n%x", k, got, want)
			}
		}
	})
}

// checkAgainstDefinition recomputes each field's heads straight from the
// definition: the versions that no change of the set names as a base, the
// winner first by the rule as byRule states it (not as the merge code
// compares); and each record's type from its first change by that rule.
func checkAgainstDefinition(t *rapid.T, h *history, r *replica) {
	for _, id := range h.records {
		replaced := map[string]map[syncproto.Dot]bool{}
		var first *syncproto.Change
		for i := range h.changes {
			c := &h.changes[i]
			if c.Record != id {
				continue
			}
			if first == nil || byRule(stampOf(c), stampOf(first)) < 0 {
				first = c
			}
			for _, f := range c.Fields {
				if replaced[f.Name] == nil {
					replaced[f.Name] = map[syncproto.Dot]bool{}
				}
				for _, b := range f.Base {
					replaced[f.Name][b] = true
				}
			}
		}
		st := r.states[id]
		if first == nil {
			if st != nil {
				t.Fatalf("record %s has state but no change", id)
			}
			continue
		}
		if st.Type != first.Type {
			t.Fatalf("record type %q, the first change says %q", st.Type, first.Type)
		}
		for _, name := range fieldNames {
			var want []Stamp
			for i := range h.changes {
				c := &h.changes[i]
				if _, sets := c.Field(name); c.Record == id && sets && !replaced[name][c.Dot()] {
					want = append(want, stampOf(c))
				}
			}
			slices.SortFunc(want, func(a, b Stamp) int { return byRule(b, a) })
			var got []Stamp
			if f, ok := st.Field(name); ok {
				got = f.Heads
				for _, p := range f.Pending {
					if r.seen[id][p] {
						t.Fatalf("field %s keeps %s pending though it has arrived", name, p)
					}
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("record %s field %s: heads %v, the definition gives %v", id, name, got, want)
			}
		}
	}
}

func stampOf(c *syncproto.Change) Stamp {
	return Stamp{Origin: c.Origin, Lane: c.Lane, Seq: c.Seq, HLC: c.HLC}
}

// A state survives its encoding: decode(encode(s)) encodes to the same bytes.
func TestStateEncodingRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		h := genHistory(t)
		r := newReplica()
		for i := range h.changes {
			r.apply(&h.changes[i])
		}
		for id, st := range r.states {
			b, err := st.Encode()
			if err != nil {
				t.Fatal(err)
			}
			back, err := DecodeState(b)
			if err != nil {
				t.Fatal(err)
			}
			again, _ := back.Encode()
			if !bytes.Equal(b, again) {
				t.Fatalf("record %s: state does not round trip", id)
			}
			if first, err := decodeFirst(b); err != nil || first != back.First {
				t.Fatalf("record %s: first change read alone %v (%v), want %v", id, first, err, back.First)
			}
			// The hand-written encoder writes what the reflection-based
			// encoder writes for the wire form.
			var w stateWire
			if err := syncproto.Unmarshal(b, &w); err != nil {
				t.Fatal(err)
			}
			if want, _ := syncproto.Marshal(&w); !bytes.Equal(b, want) {
				t.Fatalf("record %s: hand encoding differs:\n got %x\nwant %x", id, b, want)
			}
		}
	})
}

// The shortcut an import takes for a record's first change gives the bytes
// the merge gives.
func TestEncodeNewMatchesMerge(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		h := genHistory(t)
		if len(h.changes) == 0 {
			return
		}
		c := h.changes[rapid.IntRange(0, len(h.changes)-1).Draw(t, "change")]
		for i := range c.Fields {
			c.Fields[i].Base = nil
		}
		var st RecordState
		st.Apply(&c, func(syncproto.Dot) bool { return false })
		want, _ := st.Encode()
		if got := encodeNew(&c); !bytes.Equal(got, want) {
			t.Fatalf("encodeNew:\n got %x\nwant %x", got, want)
		}
	})
}
