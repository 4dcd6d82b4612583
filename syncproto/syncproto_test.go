package syncproto

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"pgregory.net/rapid"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func mustRaw(t testing.TB, v any) cbor.RawMessage {
	t.Helper()
	b, err := Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sampleChange is a fixed change whose bytes are pinned in testdata: if this
// encoding ever changes, every stored chain and signature breaks.
func sampleChange(t testing.TB) Change {
	var a, b NodeID
	for i := range a {
		a[i] = byte(i + 1)
		b[i] = byte(0xf0 - i)
	}
	rec, err := ParseRecordID("9677a110-fd65-46a3-8c48-dc056870ed52")
	if err != nil {
		t.Fatal(err)
	}
	return Change{
		Origin:  a,
		Lane:    3,
		Seq:     42,
		HLC:     MakeHLC(1732707323000, 3),
		Record:  rec,
		Kit:     "damage-assessment",
		Type:    "damage-assessment",
		Version: 1,
		Author:  "vol-193",
		Fields: []FieldChange{
			{Name: "damage_level", Value: mustRaw(t, 3), Base: []Dot{{Origin: a, Lane: 3, Seq: 7}, {Origin: b, Lane: 3, Seq: 2}}},
			{Name: "district", Value: mustRaw(t, "Cayo")},
			{Name: "lat", Value: mustRaw(t, 16.202391)},
			{Name: "needs", Value: mustRaw(t, []string{"roofing", "medical"})},
			{Name: "notes", Value: mustRaw(t, "Techo dañado; niño con fiebre.")},
		},
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s: encoding changed\n got %x\nwant %x", name, got, want)
	}
}

func TestChangeGolden(t *testing.T) {
	c := sampleChange(t)
	b, err := c.Encode()
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "change-v1.cbor", b)

	back, err := DecodeChange(b)
	if err != nil {
		t.Fatal(err)
	}
	again, err := back.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, b) {
		t.Fatalf("decode then encode changed the bytes")
	}
	// The chain hash of the golden change is pinned too.
	h := ChainHash(Hash{}, b)
	golden(t, "change-v1.chain", h[:])
}

func TestVectorGolden(t *testing.T) {
	c := sampleChange(t)
	v := Vector{c.Stream(): 42, {Origin: c.Fields[0].Base[1].Origin, Lane: 1}: 9}
	b, err := Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "vector-v1.cbor", b)
	var back Vector
	if err := Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !back.Equal(v) {
		t.Fatalf("round trip: got %v want %v", back, v)
	}
}

func TestChangeCheckRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Change)
		want string
	}{
		{"no origin", func(c *Change) { c.Origin = NodeID{} }, "no origin"},
		{"seq zero", func(c *Change) { c.Seq = 0 }, "sequence 0"},
		{"no lane", func(c *Change) { c.Lane = 0 }, "lane 0"},
		{"lane too high", func(c *Change) { c.Lane = 10 }, "lane 10"},
		{"no record", func(c *Change) { c.Record = RecordID{} }, "no record id"},
		{"no type", func(c *Change) { c.Type = "" }, "record type"},
		{"no fields", func(c *Change) { c.Fields = nil }, "sets no field"},
		{"unsorted fields", func(c *Change) { c.Fields[0], c.Fields[1] = c.Fields[1], c.Fields[0] }, "not sorted"},
		{"repeated field", func(c *Change) { c.Fields[1].Name = c.Fields[0].Name }, "not sorted or repeated"},
		{"empty value", func(c *Change) { c.Fields[1].Value = nil }, "has no value"},
		{"own base", func(c *Change) { c.Fields[1].Base = []Dot{c.Dot()} }, "its own change"},
		{"unsorted bases", func(c *Change) { b := c.Fields[0].Base; b[0], b[1] = b[1], b[0] }, "bases not sorted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := sampleChange(t)
			tc.edit(&c)
			_, err := c.Encode()
			if !errors.Is(err, ErrMalformed) || !bytes.Contains([]byte(err.Error()), []byte(tc.want)) {
				t.Fatalf("got %v, want ErrMalformed mentioning %q", err, tc.want)
			}
		})
	}
}

func TestDecodeChangeRefusesBadBytes(t *testing.T) {
	c := sampleChange(t)
	good, err := c.Encode()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(good); i++ {
		if _, err := DecodeChange(good[:i]); err == nil {
			t.Fatalf("a change cut to %d of %d bytes decoded", i, len(good))
		}
	}
	// A short origin id must not be padded into a valid one.
	type shortOrigin struct {
		Origin []byte `cbor:"1,keyasint"`
	}
	b, _ := Marshal(shortOrigin{Origin: make([]byte, 15)})
	if _, err := DecodeChange(b); err == nil {
		t.Fatal("a 15-byte origin decoded")
	}
	// Unknown keys are refused, not silently dropped: a change must survive
	// a round trip through any node unchanged.
	m := map[int]any{}
	if err := Unmarshal(good, &m); err != nil {
		t.Fatal(err)
	}
	m[99] = "extra"
	b, _ = Marshal(m)
	if _, err := DecodeChange(b); err == nil {
		t.Fatal("a change with an unknown key decoded")
	}
	if _, err := DecodeChange(make([]byte, MaxChangeBytes+1)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized change: %v", err)
	}
}

func TestClockMonotonicAndSkew(t *testing.T) {
	wall := time.UnixMilli(1_700_000_000_000)
	c := NewClock(func() time.Time { return wall }, time.Minute)
	a := c.Now()
	b := c.Now()
	if b <= a || b.Millis() != a.Millis() {
		t.Fatalf("same millisecond: want %v < %v with equal wall part", a, b)
	}
	wall = wall.Add(-time.Hour) // the clock is set back
	if d := c.Now(); d <= b {
		t.Fatalf("clock went back: %v after %v", d, b)
	}
	wall = wall.Add(2 * time.Hour) // the clock is set right, past b
	c.Observe(MakeHLC(wall.Add(500*time.Millisecond).UnixMilli(), 7))
	if e := c.Now(); e != MakeHLC(wall.Add(500*time.Millisecond).UnixMilli(), 8) {
		t.Fatalf("observing a stamp half a second ahead: the next is %v", e)
	}
	// A peer three hours ahead (held, but say its stamp came through a
	// store): this clock goes no further than a second past its wall.
	c.Observe(MakeHLC(wall.Add(3*time.Hour).UnixMilli(), 0))
	if e := c.Now(); e.Millis() != wall.Add(ObserveAhead).UnixMilli() {
		t.Fatalf("observing a stamp three hours ahead moved the clock to %v, want a second past %v", e, wall)
	}
	// Its own stamps, from before a restart, move it as far as they go: a
	// node's stamps never go back.
	c.ObserveOwn(MakeHLC(wall.Add(3*time.Hour).UnixMilli(), 0))
	if e := c.Now(); e != MakeHLC(wall.Add(3*time.Hour).UnixMilli(), 1) {
		t.Fatalf("observing its own stamp three hours ahead: the next is %v", e)
	}
	if c.TooFarAhead(MakeHLC(wall.Add(59*time.Second).UnixMilli(), 0)) {
		t.Fatal("a change 59s ahead was held with a one-minute bound")
	}
	if !c.TooFarAhead(MakeHLC(wall.Add(61*time.Second).UnixMilli(), 0)) {
		t.Fatal("a change 61s ahead was not held with a one-minute bound")
	}
}

func TestVectorOperations(t *testing.T) {
	var a, b NodeID
	a[0], b[0] = 1, 2
	sa, sb := Stream{Origin: a, Lane: 1}, Stream{Origin: b, Lane: 1}
	v := Vector{sa: 3}
	w := Vector{sa: 1, sb: 5}
	if v.Covers(w) || w.Covers(v) {
		t.Fatal("concurrent vectors must not cover each other")
	}
	u := v.Clone()
	u.Merge(w)
	if !u.Covers(v) || !u.Covers(w) || u[sa] != 3 || u[sb] != 5 {
		t.Fatalf("merge: %v", u)
	}
	if v[sb] != 0 {
		t.Fatal("clone shares storage with the original")
	}
	if !u.Has(Dot{Origin: b, Lane: 1, Seq: 5}) || u.Has(Dot{Origin: b, Lane: 1, Seq: 6}) || u.Has(Dot{Origin: b, Lane: 2, Seq: 1}) || u.Has(Dot{Origin: a, Lane: 1, Seq: 0}) {
		t.Fatal("Has")
	}
	var bad Vector
	raw, _ := Marshal([]Dot{{Origin: b, Lane: 1, Seq: 1}, {Origin: a, Lane: 1, Seq: 1}})
	if err := Unmarshal(raw, &bad); !errors.Is(err, ErrNotCanonical) {
		t.Fatalf("unsorted vector: %v", err)
	}
}

func TestIDsRoundTrip(t *testing.T) {
	r := NewRecordID()
	back, err := ParseRecordID(r.String())
	if err != nil || back != r {
		t.Fatalf("record id round trip: %v %v", back, err)
	}
	if r2 := NewRecordID(); r2.Compare(r) <= 0 && r2.String()[:8] == r.String()[:8] && r2.String() < r.String() {
		t.Fatal("record ids made later sort earlier")
	}
	for _, s := range []string{"", "not-a-uuid", "9677a110fd6546a38c48dc056870ed52", "9677a110-fd65-46a3-8c48-dc056870ed5z"} {
		if _, err := ParseRecordID(s); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseRecordID(%q) = %v, want ErrMalformed", s, err)
		}
	}
	n := NodeIDFromKey([]byte("a public key"))
	m, err := ParseNodeID(n.String())
	if err != nil || m != n {
		t.Fatalf("node id round trip: %v %v", m, err)
	}
	if _, err := ParseNodeID("ilou"); err == nil {
		t.Fatal("a node id with letters outside the alphabet parsed")
	}
}

func FuzzDecodeChange(f *testing.F) {
	c := sampleChange(f)
	good, err := c.Encode()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte{0xa0})
	f.Add([]byte{0x9f, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := DecodeChange(data)
		// The reflection-based decoder is the reference: whatever the
		// fast one accepts, it accepts and reads alike; whatever it
		// accepts in canonical form, the fast one accepts.
		var ref Change
		refErr := decMode.Unmarshal(data, &ref)
		if refErr == nil {
			refErr = ref.Check()
		}
		canonical := false
		if refErr == nil {
			b, _ := encMode.Marshal(&ref)
			canonical = bytes.Equal(b, data)
		}
		switch {
		case err == nil && refErr != nil:
			t.Fatalf("the fast decoder accepted what the reference refuses (%v)", refErr)
		case err != nil && canonical && !strings.Contains(err.Error(), "invalid UTF-8") && !strings.Contains(err.Error(), "simple value"):
			// The fast decoder is stricter inside field values only: it
			// refuses invalid UTF-8 and simple values no field holds.
			t.Fatalf("the fast decoder refused a canonical change: %v", err)
		case err != nil:
			return
		}
		again, err := c.Encode()
		if err != nil {
			t.Fatalf("decoded change does not encode: %v", err)
		}
		want, _ := encMode.Marshal(&ref)
		if !bytes.Equal(again, want) {
			t.Fatalf("the decoders read the change differently")
		}
	})
}

func FuzzVector(f *testing.F) {
	var a NodeID
	a[3] = 9
	good, _ := Marshal(Vector{{Origin: a, Lane: 2}: 12})
	f.Add(good)
	f.Add([]byte{0x80})
	f.Fuzz(func(t *testing.T, data []byte) {
		var v Vector
		if err := Unmarshal(data, &v); err != nil {
			return
		}
		b, err := Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var w Vector
		if err := Unmarshal(b, &w); err != nil || !w.Equal(v) {
			t.Fatalf("vector does not round trip: %v %v", w, err)
		}
	})
}

// The hand-written encoder agrees with the reflection-based one on every
// change, so that bytes hashed and signed are the canonical encoding.
func TestAppendChangeMatchesEncoder(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var c Change
		copy(c.Origin[:], rapid.SliceOfN(rapid.Byte(), 16, 16).Draw(t, "origin"))
		copy(c.Record[:], rapid.SliceOfN(rapid.Byte(), 16, 16).Draw(t, "record"))
		c.Lane = MakeLane(uint8(rapid.IntRange(MinPriority, MaxPriority).Draw(t, "priority")), uint8(rapid.IntRange(0, MaxScope).Draw(t, "scope")))
		c.Seq = rapid.Uint64().Draw(t, "seq")
		c.HLC = HLC(rapid.Uint64().Draw(t, "hlc"))
		c.Kit = rapid.StringN(0, 30, -1).Draw(t, "kit")
		c.Type = rapid.StringN(0, 30, -1).Draw(t, "type")
		c.Version = rapid.Uint32().Draw(t, "version")
		c.Author = rapid.StringN(0, 300, -1).Draw(t, "author")
		for i := range rapid.IntRange(0, 5).Draw(t, "fields") {
			f := FieldChange{Name: fmt.Sprintf("f%d", i)}
			var err error
			switch rapid.IntRange(0, 3).Draw(t, "kind") {
			case 0:
				f.Value, err = Marshal(rapid.Int64().Draw(t, "int"))
			case 1:
				f.Value, err = Marshal(rapid.StringN(0, 2000, -1).Draw(t, "text"))
			case 2:
				f.Value, err = Marshal(rapid.Float64().Draw(t, "float"))
			default:
				f.Value, err = Marshal(rapid.SliceOfN(rapid.StringN(0, 20, -1), 0, 30).Draw(t, "list"))
			}
			if err != nil {
				t.Fatal(err)
			}
			for range rapid.IntRange(0, 3).Draw(t, "bases") {
				var d Dot
				copy(d.Origin[:], rapid.SliceOfN(rapid.Byte(), 16, 16).Draw(t, "base"))
				d.Lane = MakeLane(uint8(rapid.IntRange(MinPriority, MaxPriority).Draw(t, "basePriority")), uint8(rapid.IntRange(0, MaxScope).Draw(t, "baseScope")))
				d.Seq = rapid.Uint64().Draw(t, "baseSeq")
				f.Base = append(f.Base, d)
			}
			c.Fields = append(c.Fields, f)
		}
		want, err := encMode.Marshal(&c)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendChange(nil, &c); !bytes.Equal(got, want) {
			t.Fatalf("hand encoding differs:\n got %x\nwant %x", got, want)
		}
	})
}

func TestUnmarshalPartSkipsOtherKeysOnly(t *testing.T) {
	type whole struct {
		A string `cbor:"1,keyasint"`
		B uint64 `cbor:"2,keyasint"`
	}
	b, err := Marshal(whole{A: "Cayo", B: 7})
	if err != nil {
		t.Fatal(err)
	}
	var part struct {
		B uint64 `cbor:"2,keyasint"`
	}
	if err := Unmarshal(b, &part); err == nil {
		t.Fatal("Unmarshal took a key the struct does not have")
	}
	if err := UnmarshalPart(b, &part); err != nil || part.B != 7 {
		t.Fatalf("UnmarshalPart: %+v %v", part, err)
	}
	// The bounds still hold: a duplicate key is refused.
	dup := []byte{0xa2, 0x02, 0x01, 0x02, 0x03}
	if err := UnmarshalPart(dup, &part); err == nil {
		t.Fatal("UnmarshalPart took a duplicate key")
	}
}
