package syncproto

// Tests of the bounds and refusals that mutation testing (make mutate)
// found unpinned: every limit is checked on both sides of its edge, and the
// hand-written decoders against RFC 8949 and the reflection-based decoder.

import (
	"bytes"
	"errors"
	"io"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"pgregory.net/rapid"
)

// refDecode is the reference the fast change decoder must agree with: the
// reflection-based decoder, then Check.
func refDecode(data []byte) error {
	var ref Change
	if err := decMode.Unmarshal(data, &ref); err != nil {
		return err
	}
	return ref.Check()
}

// ownBuffer copies b into a slice whose capacity is its length, so that a
// decoder reading past the end fails there instead of reading on into the
// rest of a larger buffer.
func ownBuffer(b []byte) []byte {
	out := make([]byte, len(b))
	copy(out, b)
	return out
}

// richChange sets values of every size class of CBOR head, and floats of
// every width, so that the decoders meet each form.
func richChange(t testing.TB) Change {
	c := sampleChange(t)
	values := []struct {
		name string
		v    any
	}{
		{"a_bytes", []byte{0xff, 0x00, 0xfe}}, // not UTF-8, and need not be
		{"b_f16", 0.0},
		{"c_f32", float64(math.SmallestNonzeroFloat32)},
		{"d_f64", math.SmallestNonzeroFloat64},
		{"e_u8", 24},
		{"f_u16", 256},
		{"g_u32", 65536},
		{"h_u64", uint64(1) << 32},
		{"i_neg", -70000},
		{"j_text", strings.Repeat("ñ", 200)},
		{"k_bools", []any{true, false, nil}},
		{"l_map", map[string]any{"x": 1, "y": []any{1.5, "z"}}},
	}
	for _, v := range values {
		c.Fields = append(c.Fields, FieldChange{Name: v.name, Value: mustRaw(t, v.v)})
	}
	slices.SortFunc(c.Fields, func(a, b FieldChange) int { return strings.Compare(a.Name, b.Name) })
	return c
}

func TestRichChangeDecodesAsTheReferenceDoes(t *testing.T) {
	c := richChange(t)
	good, err := c.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if err := refDecode(good); err != nil {
		t.Fatalf("the reference refuses the change: %v", err)
	}
	got, err := DecodeChange(ownBuffer(good))
	if err != nil {
		t.Fatalf("a canonical change with values of every width: %v", err)
	}
	again, err := got.Encode()
	if err != nil || !bytes.Equal(again, good) {
		t.Fatalf("the change did not come back byte for byte (%v)", err)
	}
	// Cut anywhere, in a buffer that ends where the cut is: refused, and
	// never read past its end.
	for i := range len(good) {
		if _, err := DecodeChange(ownBuffer(good[:i])); err == nil {
			t.Fatalf("a change cut to %d of %d bytes decoded", i, len(good))
		}
	}
}

// TestHeadsShortestOnly checks the reader of CBOR heads against RFC 8949
// section 4.2.1: an argument in the shortest form that holds it is read, a
// longer form is refused, and so is a head cut short. Floats (major type
// 7) keep their width whatever their bits.
func TestHeadsShortestOnly(t *testing.T) {
	for _, tc := range []struct {
		in   []byte
		want uint64
		ok   bool
	}{
		{[]byte{0x17}, 23, true},
		{[]byte{0x18, 0x18}, 24, true},
		{[]byte{0x18, 0x17}, 0, false},
		{[]byte{0x18}, 0, false},
		{[]byte{0x19, 0x01, 0x00}, 256, true},
		{[]byte{0x19, 0x00, 0xff}, 0, false},
		{[]byte{0x19, 0x01}, 0, false},
		{[]byte{0x1a, 0x00, 0x01, 0x00, 0x00}, 65536, true},
		{[]byte{0x1a, 0x00, 0x00, 0xff, 0xff}, 0, false},
		{[]byte{0x1a, 0x00, 0x01, 0x00}, 0, false},
		{[]byte{0x1b, 0, 0, 0, 1, 0, 0, 0, 0}, 1 << 32, true},
		{[]byte{0x1b, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}, 0, false},
		{[]byte{0x1b, 0, 0, 0, 1, 0, 0, 0}, 0, false},
		{[]byte{0x78, 0x17}, 0, false}, // a text's length, non-shortest
		{[]byte{0x99, 0x01, 0x00}, 256, true},
		{[]byte{0xf9, 0x00, 0x00}, 0, true},             // half-precision 0.0
		{[]byte{0xfa, 0x00, 0x00, 0x00, 0x01}, 1, true}, // the least float32
		{[]byte{0xfb, 0, 0, 0, 0, 0, 0, 0, 1}, 1, true}, // the least float64
		{[]byte{0x1f}, 0, false},
	} {
		r := &cborReader{b: ownBuffer(tc.in)}
		_, got, err := r.head()
		switch {
		case tc.ok && (err != nil || got != tc.want || r.off != len(tc.in)):
			t.Errorf("% x: got %d after %d bytes, %v; want %d", tc.in, got, r.off, err, tc.want)
		case !tc.ok && err == nil:
			t.Errorf("% x: read %d, want it refused", tc.in, got)
		}
	}
}

// rawMap writes a CBOR map with its keys in the order given, for changes a
// canonical encoder cannot write.
func rawMap(t *testing.T, keys []uint64, vals []any) []byte {
	b := AppendMap(nil, len(keys))
	for i, k := range keys {
		b = AppendUint(b, k)
		b = append(b, mustRaw(t, vals[i])...)
	}
	return b
}

// changeMap is the sample change as a map from its CBOR keys, to change
// and encode again.
func changeMap(t *testing.T) map[int]any {
	c := sampleChange(t)
	good, err := c.Encode()
	if err != nil {
		t.Fatal(err)
	}
	m := map[int]any{}
	if err := Unmarshal(good, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestDecodeChangeRefusesValuesOutOfRange(t *testing.T) {
	decodeWith := func(key int, v any) (Change, error) {
		m := changeMap(t)
		m[key] = v
		b, err := Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return DecodeChange(b)
	}
	for _, tc := range []struct {
		name string
		key  int
		v    any
	}{
		{"lane 257, which is 1 in a byte", 2, 257},
		{"a negative sequence", 3, -5},
		{"a negative timestamp", 4, -1},
		{"schema version 2^32", 8, uint64(1) << 32},
		{"schema version 2^32+1, which is 1 in 32 bits", 8, uint64(1)<<32 + 1},
	} {
		if c, err := decodeWith(tc.key, tc.v); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: decoded (lane %d, seq %d, version %d), %v", tc.name, c.Lane, c.Seq, c.Version, err)
		}
	}
	c, err := decodeWith(8, uint64(math.MaxUint32))
	if err != nil || c.Version != math.MaxUint32 {
		t.Fatalf("the greatest schema version: %d, %v", c.Version, err)
	}
}

func TestDecodeChangeRefusesKeysOutOfOrder(t *testing.T) {
	c := sampleChange(t)
	c.Author = ""
	fields := []map[int]any{}
	for _, f := range c.Fields {
		fields = append(fields, map[int]any{1: f.Name, 2: f.Value})
	}
	keys := []uint64{1, 2, 3, 4, 5, 6, 7, 8, 10}
	vals := []any{c.Origin[:], c.Lane, c.Seq, uint64(c.HLC), c.Record[:], c.Kit, c.Type, c.Version, fields}
	if _, err := DecodeChange(rawMap(t, keys, vals)); err != nil {
		t.Fatalf("the change in order: %v", err)
	}
	swapped := slices.Clone(keys)
	swapped[1], swapped[2] = swapped[2], swapped[1]
	sv := slices.Clone(vals)
	sv[1], sv[2] = sv[2], sv[1]
	if _, err := DecodeChange(rawMap(t, swapped, sv)); !errors.Is(err, ErrMalformed) {
		t.Fatalf("keys 1, 3, 2: %v", err)
	}
	// Key 2 twice: the second lane would overwrite the first.
	twice := append([]uint64{1, 2, 2}, keys[2:]...)
	tv := append([]any{vals[0], vals[1], uint8(5)}, vals[2:]...)
	if _, err := DecodeChange(rawMap(t, twice, tv)); !errors.Is(err, ErrMalformed) {
		t.Fatalf("key 2 twice: %v", err)
	}
}

func TestFieldValuesAsTheReferenceReadsThem(t *testing.T) {
	agree := func(name string, value []byte) error {
		t.Helper()
		c := sampleChange(t)
		c.Fields[1].Value = value
		b, err := c.Encode()
		if err != nil {
			t.Fatal(err)
		}
		fast, ref := func() error { _, err := DecodeChange(ownBuffer(b)); return err }(), refDecode(b)
		if (fast == nil) != (ref == nil) {
			t.Errorf("%s: the fast decoder says %v, the reference %v", name, fast, ref)
		}
		return fast
	}
	// Nested arrays and maps, each way of ending: the two decoders take the
	// same depths.
	accepted, refused := 0, 0
	for depth := range 15 {
		for _, open := range [][]byte{{0x81}, {0xa1, 0x00}} {
			for _, end := range [][]byte{{0x00}, {0x80}, {0xa0}} {
				v := append(bytes.Repeat(open, depth), end...)
				if agree("nested", v) == nil {
					accepted++
				} else {
					refused++
				}
			}
		}
	}
	if accepted == 0 || refused == 0 {
		t.Fatalf("nesting: %d accepted, %d refused; the bound was never met", accepted, refused)
	}
	// The most items an array may hold, and one more.
	for _, n := range []int{maxItems, maxItems + 1} {
		v := append(AppendArray(nil, n), bytes.Repeat([]byte{0x01}, n)...)
		err := agree("long array", v)
		if (n <= maxItems) != (err == nil) {
			t.Errorf("an array of %d items: %v", n, err)
		}
	}
	// A byte string need not be UTF-8; a text string must be.
	if err := agree("bytes", []byte{0x42, 0xff, 0xfe}); err != nil {
		t.Errorf("a byte string: %v", err)
	}
	if _, err := DecodeChange(func() []byte {
		c := sampleChange(t)
		c.Fields[1].Value = []byte{0x62, 0xff, 0xfe}
		b, _ := c.Encode()
		return b
	}()); !errors.Is(err, ErrMalformed) {
		t.Errorf("a text string of invalid UTF-8: %v", err)
	}
}

func TestChangeLimitsInclusive(t *testing.T) {
	dots := func(n int, lane uint8) []Dot {
		out := make([]Dot, n)
		for i := range out {
			out[i] = Dot{Origin: NodeID{9}, Lane: lane, Seq: uint64(i + 1)}
		}
		return out
	}
	for _, tc := range []struct {
		name string
		edit func(*Change)
		ok   bool
	}{
		{"lane 9", func(c *Change) { c.Lane = MaxPriority }, true},
		{"lane 10: priority 10", func(c *Change) { c.Lane = 10 }, false},
		{"lane 0x10: priority 0 of Belize", func(c *Change) { c.Lane = 0x10 }, false},
		{"lane 0x61: priority 1 of Toledo", func(c *Change) { c.Lane = 0x61 }, true},
		{"lane 0xf9: priority 9 of scope 15", func(c *Change) { c.Lane = 0xf9 }, true},
		{"lane 0xfa", func(c *Change) { c.Lane = 0xfa }, false},
		{"a field name of 64 bytes", func(c *Change) { c.Fields[4].Name = "z" + strings.Repeat("a", MaxNameLen-1) }, true},
		{"a field name of 65 bytes", func(c *Change) { c.Fields[4].Name = "z" + strings.Repeat("a", MaxNameLen) }, false},
		{"a kit name of 64 bytes", func(c *Change) { c.Kit = strings.Repeat("k", MaxNameLen) }, true},
		{"an author of 128 bytes", func(c *Change) { c.Author = strings.Repeat("a", MaxAuthorLen) }, true},
		{"64 bases", func(c *Change) { c.Fields[1].Base = dots(MaxBases, 2) }, true},
		{"65 bases", func(c *Change) { c.Fields[1].Base = dots(MaxBases+1, 2) }, false},
		{"a base in lane 1", func(c *Change) { c.Fields[1].Base = dots(1, MinLane) }, true},
		{"a base in lane 9", func(c *Change) { c.Fields[1].Base = dots(1, 9) }, true},
		{"a base in lane 0x39", func(c *Change) { c.Fields[1].Base = dots(1, 0x39) }, true},
		{"a base in lane 0", func(c *Change) { c.Fields[1].Base = dots(1, 0) }, false},
		{"a base in lane 10", func(c *Change) { c.Fields[1].Base = dots(1, 10) }, false},
		{"a base in lane 0x30", func(c *Change) { c.Fields[1].Base = dots(1, 0x30) }, false},
		{"a base named twice", func(c *Change) { c.Fields[1].Base = append(dots(2, 2), dots(2, 2)[1]) }, false},
		{"256 fields", func(c *Change) { c.Fields = manyFields(t, MaxFields) }, true},
		{"257 fields", func(c *Change) { c.Fields = manyFields(t, MaxFields+1) }, false},
	} {
		c := sampleChange(t)
		tc.edit(&c)
		b, err := c.Encode()
		if tc.ok && err == nil {
			_, err = DecodeChange(b)
		}
		if tc.ok != (err == nil) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func manyFields(t *testing.T, n int) []FieldChange {
	out := make([]FieldChange, n)
	for i := range out {
		out[i] = FieldChange{Name: string(rune('a'+i/26/26%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i%26)), Value: mustRaw(t, i)}
	}
	return out
}

func TestChangeOfExactlyTheByteLimit(t *testing.T) {
	c := sampleChange(t)
	c.Fields[4].Value = mustRaw(t, strings.Repeat("x", 200_000))
	b, err := c.Encode()
	if err != nil {
		t.Fatal(err)
	}
	n := 200_000 + MaxChangeBytes - len(b)
	c.Fields[4].Value = mustRaw(t, strings.Repeat("x", n))
	if b, err = c.Encode(); err != nil || len(b) != MaxChangeBytes {
		t.Fatalf("a change of %d bytes, the limit: %v", len(b), err)
	}
	if _, err := DecodeChange(b); err != nil {
		t.Fatalf("decoding a change of exactly the limit: %v", err)
	}
	c.Fields[4].Value = mustRaw(t, strings.Repeat("x", n+1))
	if _, err := c.Encode(); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("a change one byte over the limit: %v", err)
	}
}

// TestEncodedSizeBoundsEncoding checks what encodedSize promises: the
// buffer it sizes holds the whole change, so that encoding allocates once.
func TestEncodedSizeBoundsEncoding(t *testing.T) {
	check := func(t interface{ Fatalf(string, ...any) }, c *Change) {
		if err := c.Check(); err != nil {
			t.Fatalf("the generated change is not valid: %v", err)
		}
		if n, bound := len(appendChange(nil, c)), c.encodedSize(); n > bound {
			t.Fatalf("a change of %d bytes, sized at %d", n, bound)
		}
	}
	// The widest of everything, with and without bases.
	widest := Change{Origin: NodeID{1}, Lane: MaxLane, Seq: math.MaxUint64, HLC: math.MaxUint64,
		Record: RecordID{1}, Kit: strings.Repeat("k", MaxNameLen), Type: strings.Repeat("t", MaxNameLen),
		Version: math.MaxUint32, Author: strings.Repeat("a", MaxAuthorLen),
		Fields: []FieldChange{{Name: strings.Repeat("f", MaxNameLen), Value: mustRaw(t, strings.Repeat("v", 1000))}}}
	check(t, &widest)
	for i := range MaxBases {
		widest.Fields[0].Base = append(widest.Fields[0].Base, Dot{Origin: NodeID{2}, Lane: MaxLane, Seq: math.MaxUint64 - uint64(MaxBases-i)})
	}
	check(t, &widest)
	rapid.Check(t, func(rt *rapid.T) {
		name := func(label string, min, max int) string {
			return rapid.StringOfN(rapid.RuneFrom([]rune("aé€")), min, max, max).Draw(rt, label)
		}
		c := Change{Origin: NodeID{1}, Lane: MakeLane(rapid.Uint8Range(MinPriority, MaxPriority).Draw(rt, "priority"), rapid.Uint8Range(0, MaxScope).Draw(rt, "scope")),
			Seq: rapid.Uint64Min(1).Draw(rt, "seq"), HLC: HLC(rapid.Uint64().Draw(rt, "hlc")), Record: RecordID{1},
			Kit: name("kit", 0, MaxNameLen), Type: name("type", 1, MaxNameLen),
			Version: rapid.Uint32().Draw(rt, "version"), Author: name("author", 0, MaxAuthorLen)}
		for i := range rapid.IntRange(1, 8).Draw(rt, "fields") {
			f := FieldChange{Name: string(rune('a' + i)), Value: rapid.SliceOfN(rapid.Byte(), 1, 400).Draw(rt, "value")}
			seqs := rapid.SliceOfNDistinct(rapid.Uint64Min(1), 0, MaxBases, rapid.ID).Draw(rt, "bases")
			slices.Sort(seqs)
			for _, s := range seqs {
				f.Base = append(f.Base, Dot{Origin: NodeID{2}, Lane: MaxLane, Seq: s})
			}
			c.Fields = append(c.Fields, f)
		}
		check(rt, &c)
	})
}

func TestInternerSharesNamesWithinItsBound(t *testing.T) {
	c := sampleChange(t)
	b, err := c.Encode()
	if err != nil {
		t.Fatal(err)
	}
	var in Interner
	first, err1 := DecodeChangeInterned(b, &in)
	second, err2 := DecodeChangeInterned(b, &in)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if unsafe.StringData(first.Kit) != unsafe.StringData(second.Kit) || unsafe.StringData(first.Fields[0].Name) != unsafe.StringData(second.Fields[0].Name) {
		t.Fatal("two changes of one kit decoded through one interner do not share its name")
	}
	// A peer sending a fresh name in every change does not grow it for ever.
	for i := range 5000 {
		in.get([]byte(strings.Repeat("n", 1+i%64) + string(rune(0x100+i))))
	}
	if len(in.m) != 4096 {
		t.Fatalf("the interner holds %d names, its bound is 4096", len(in.m))
	}
}

func TestFramesUpToTheLimit(t *testing.T) {
	var buf bytes.Buffer
	body := bytes.Repeat([]byte{0x41}, MaxFrame-1)
	n, err := WriteRaw(&buf, MsgBatch, body)
	if err != nil || n != 4+MaxFrame || buf.Len() != n {
		t.Fatalf("a frame of the largest body: wrote %d (buffer %d), %v", n, buf.Len(), err)
	}
	n2, err := WriteFrame(&buf, MsgAck, &Ack{Seq: 1, Applied: 2})
	if err != nil || buf.Len() != n+n2 {
		t.Fatalf("an ack frame: wrote %d, the buffer grew by %d, %v", n2, buf.Len()-n, err)
	}
	if _, err := WriteRaw(io.Discard, MsgBatch, append(body, 0x41)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("a body one byte over: %v", err)
	}
	fr := NewFrameReader(bytes.NewReader(buf.Bytes()))
	typ, got, err := fr.Read()
	if err != nil || typ != MsgBatch || !bytes.Equal(got, body) || fr.Offset() != int64(n) {
		t.Fatalf("reading the largest frame back: %v, %d bytes, offset %d, %v", typ, len(got), fr.Offset(), err)
	}
	if typ, _, err = fr.Read(); err != nil || typ != MsgAck || fr.Offset() != int64(n+n2) {
		t.Fatalf("the frame after it: %v at offset %d, %v", typ, fr.Offset(), err)
	}
	if _, _, err := fr.Read(); err != io.EOF {
		t.Fatalf("after the last frame: %v", err)
	}
}

func TestDecodeChecksEveryMessage(t *testing.T) {
	encode := func(v any) []byte {
		b, err := Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	hello := NewHello(NodeID{1}, nil)
	hello.Protocol = "http"
	sig := bytes.Repeat([]byte{1}, 64)
	for _, tc := range []struct {
		name string
		t    MsgType
		msg  any
	}{
		{"a hello of another protocol", MsgHello, &hello},
		{"certs holding an empty certificate", MsgCerts, &Certs{Certs: [][]byte{{}}}},
		{"a receipt of sequence 0", MsgReceipts, &Receipts{Certs: [][]byte{{1}}, Receipts: []Receipt{{Stream: Stream{Origin: NodeID{1}, Lane: 1}, Sig: sig}}}},
		{"a seal of 63 bytes", MsgSeal, &Seal{Node: NodeID{1}, Sig: sig[:63]}},
		{"batch number 0", MsgBatch, &Batch{Seq: 0, Codec: CodecNone, Size: 1, Payload: []byte{0x80}}},
		{"a batch of an unknown codec", MsgBatch, &Batch{Seq: 1, Codec: 7, Size: 1, Payload: []byte{0x80}}},
		{"a batch larger than it says", MsgBatch, &Batch{Seq: 1, Codec: CodecNone, Size: 1, Payload: []byte{0x81, 0x80}}},
	} {
		if _, err := Decode(tc.t, encode(tc.msg)); err == nil {
			t.Errorf("%s decoded", tc.name)
		}
	}
	for _, n := range []int{MaxMessageLen, MaxMessageLen + 1, 3 * MaxMessageLen} {
		text := strings.Repeat("e", n)
		m, err := Decode(MsgError, encode(&Error{Code: CodeInternal, Message: text}))
		if err != nil || m.(*Error).Message != text[:min(n, MaxMessageLen)] {
			t.Fatalf("an error of %d bytes came as %d bytes, %v", n, len(m.(*Error).Message), err)
		}
	}
}

func TestCertsAndReceiptsLimitsInclusive(t *testing.T) {
	certs := func(n, size int) [][]byte {
		out := make([][]byte, n)
		for i := range out {
			out[i] = bytes.Repeat([]byte{0x30}, size)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		c    Certs
		ok   bool
	}{
		{"4096 certificates", Certs{Certs: certs(MaxCerts, 1)}, true},
		{"4097 certificates", Certs{Certs: certs(MaxCerts+1, 1)}, false},
		{"a certificate of 16 KiB", Certs{Certs: certs(1, MaxCertBytes)}, true},
		{"a certificate of 16 KiB and a byte", Certs{Certs: certs(1, MaxCertBytes+1)}, false},
	} {
		if err := tc.c.Check(); tc.ok != (err == nil) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	receipts := func(n, signers, size int) *Receipts {
		r := &Receipts{Certs: certs(signers, size)}
		sig := bytes.Repeat([]byte{1}, 64)
		for i := range n {
			r.Receipts = append(r.Receipts, Receipt{Stream: Stream{Origin: NodeID{1, byte(i), byte(i >> 8)}, Lane: 1}, Seq: 1, Signer: uint16(i % signers), Sig: sig})
		}
		return r
	}
	for _, tc := range []struct {
		name string
		r    *Receipts
		ok   bool
	}{
		{"65536 receipts", receipts(MaxReceipts, 1, 1), true},
		{"65537 receipts", receipts(MaxReceipts+1, 1, 1), false},
		{"16 signers", receipts(16, MaxReceiptSigners, 1), true},
		{"17 signers", receipts(17, MaxReceiptSigners+1, 1), false},
		{"a signer's certificate of 16 KiB", receipts(1, 1, MaxCertBytes), true},
		{"a signer's certificate of 16 KiB and a byte", receipts(1, 1, MaxCertBytes+1), false},
	} {
		if err := tc.r.Check(); tc.ok != (err == nil) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func TestClockSkewBound(t *testing.T) {
	wall := time.UnixMilli(1_700_000_000_000)
	now := func() time.Time { return wall }
	c := NewClock(now, time.Minute)
	if c.TooFarAhead(MakeHLC(wall.Add(time.Minute).UnixMilli(), 0xffff)) {
		t.Fatal("a change stamped exactly the bound ahead was held")
	}
	if !c.TooFarAhead(MakeHLC(wall.Add(time.Minute+time.Millisecond).UnixMilli(), 0)) {
		t.Fatal("a change a millisecond past the bound was not held")
	}
	// No bound given: the default, ten minutes.
	d := NewClock(now, 0)
	if d.TooFarAhead(MakeHLC(wall.Add(DefaultMaxSkew).UnixMilli(), 0)) || !d.TooFarAhead(MakeHLC(wall.Add(DefaultMaxSkew+time.Second).UnixMilli(), 0)) {
		t.Fatal("a clock made with no bound does not hold changes at ten minutes")
	}
}

func TestVectorBytesCanonical(t *testing.T) {
	a, b := NodeID{1}, NodeID{2}
	sa, sb := Stream{Origin: a, Lane: 1}, Stream{Origin: b, Lane: 1}
	// An entry of 0 holds nothing: the vector equals one without it, and
	// equal vectors have equal bytes.
	with, without := Vector{sa: 3, sb: 0}, Vector{sa: 3}
	wb, err1 := with.MarshalCBOR()
	nb, err2 := without.MarshalCBOR()
	if err1 != nil || err2 != nil || !with.Equal(without) || !bytes.Equal(wb, nb) {
		t.Fatalf("equal vectors encode as % x and % x (%v, %v)", wb, nb, err1, err2)
	}
	var back Vector
	if err := back.UnmarshalCBOR(wb); err != nil || !back.Equal(without) {
		t.Fatalf("round trip: %v, %v", back, err)
	}
	// A stream twice: which entry counts would depend on the reader.
	raw, _ := Marshal([]Dot{{Origin: a, Lane: 1, Seq: 1}, {Origin: a, Lane: 1, Seq: 2}})
	if err := back.UnmarshalCBOR(raw); !errors.Is(err, ErrNotCanonical) {
		t.Fatalf("a stream named twice: %v", err)
	}
}

func TestBatchLimitsInclusive(t *testing.T) {
	sig := bytes.Repeat([]byte{1}, 64)
	// As many changes as a batch may hold, over two runs, and one more.
	for _, n := range []int{MaxBatchChanges, MaxBatchChanges + 1} {
		runs := []Run{{Stream: Stream{Origin: NodeID{1}, Lane: 1}, First: 1, Sig: sig}, {Stream: Stream{Origin: NodeID{2}, Lane: 1}, First: 1, Sig: sig}}
		for i := range n {
			runs[i%2].Bodies = append(runs[i%2].Bodies, []byte{0xa0})
		}
		b, err := NewBatch(1, runs)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Runs(); (n <= MaxBatchChanges) != (err == nil) {
			t.Errorf("a batch of %d changes: %v", n, err)
		}
	}
	// A lane that does not fit in a byte is refused, not read modulo 256.
	run := map[int]any{1: []any{NodeID{1}, 257}, 2: 1, 3: [][]byte{{0xa0}}, 4: sig}
	raw, _ := Marshal([]any{run})
	if _, err := (&Batch{Seq: 1, Codec: CodecNone, Size: uint32(len(raw)), Payload: raw}).Runs(); !errors.Is(err, ErrMalformed) {
		t.Errorf("a run of lane 257: %v", err)
	}
	// Cut anywhere, in a buffer of its own: refused.
	good, _ := Marshal(sampleRuns(t))
	for i := range len(good) {
		cut := ownBuffer(good[:i])
		if _, err := (&Batch{Seq: 1, Codec: CodecNone, Size: uint32(i), Payload: cut}).Runs(); err == nil {
			t.Fatalf("runs cut to %d of %d bytes decoded", i, len(good))
		}
	}
}

func TestBatchOfExactlyTheByteLimit(t *testing.T) {
	sig := bytes.Repeat([]byte{1}, 64)
	body := bytes.Repeat([]byte{0x41}, MaxChangeBytes)
	runs := make([]Run, MaxBatchBytes/MaxRunBytes)
	for i := range runs {
		runs[i] = Run{Stream: Stream{Origin: NodeID{byte(i + 1)}, Lane: 1}, First: 1, Sig: sig}
		for range MaxRunBytes / MaxChangeBytes {
			runs[i].Bodies = append(runs[i].Bodies, body)
		}
	}
	// The runs' own bytes take the batch over; shorten the last change
	// to land on the limit exactly.
	raw, _ := Marshal(runs)
	last := &runs[len(runs)-1].Bodies[len(runs[len(runs)-1].Bodies)-1]
	*last = (*last)[:len(*last)-(len(raw)-MaxBatchBytes)]
	if raw, _ = Marshal(runs); len(raw) != MaxBatchBytes {
		t.Fatalf("the runs take %d bytes, not %d", len(raw), MaxBatchBytes)
	}
	b, err := NewBatch(1, runs)
	if err != nil {
		t.Fatalf("a batch of exactly %d bytes: %v", MaxBatchBytes, err)
	}
	got, err := b.Runs()
	if err != nil || len(got) != len(runs) {
		t.Fatalf("reading it back: %d runs, %v", len(got), err)
	}
	runs[0].Bodies = append(runs[0].Bodies, []byte{0x41})
	if _, err := NewBatch(1, runs); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("a batch over the limit: %v", err)
	}
}

// A field value a node wrote as one text string reads back as that text;
// anything after the string makes it not one.
func TestTextValueReadsWhatANodeWrote(t *testing.T) {
	for _, s := range []string{"Cayo", "", "Techo dañado"} {
		raw := mustRaw(t, s)
		if got, ok := TextValue(raw); !ok || got != s {
			t.Errorf("TextValue of %q as written: %q, %v", s, got, ok)
		}
		if got, ok := TextValue(append(ownBuffer(raw), 0x01)); ok {
			t.Errorf("TextValue of %q with a byte after it: %q, %v", s, got, ok)
		}
	}
}

// Merging a vector that holds nothing of a stream adds no entry for it: the
// merged vector names the streams either held changes of, and no more.
func TestMergeAddsNoStreamOfNoChanges(t *testing.T) {
	a := Stream{Origin: NodeID{1}, Lane: 1}
	b := Stream{Origin: NodeID{2}, Lane: 1}
	v := Vector{a: 3}
	v.Merge(Vector{a: 2, b: 0})
	if len(v) != 1 || v[a] != 3 {
		t.Fatalf("{%s:3} merged with {%s:2 %s:0}: %d streams, %v", a, a, b, len(v), v)
	}
	if _, ok := v[b]; ok {
		t.Fatalf("the merge added %s, of no changes", b)
	}
}

// A lane that fits in a byte but is past MaxLane is refused for the reason
// the reference decoder gives: the lane out of range, not a byte misread.
func TestLaneOutOfRangeRefusedAsTheReferenceDoes(t *testing.T) {
	for _, lane := range []uint8{MaxLane + 1, 254, 255} {
		c := sampleChange(t)
		c.Lane = lane
		ref := refDecode(appendChange(nil, &c))
		if _, err := DecodeChange(appendChange(nil, &c)); err == nil || ref == nil || err.Error() != ref.Error() {
			t.Errorf("a change on lane %d: %v; the reference: %v", lane, err, ref)
		}
		c = sampleChange(t)
		c.Fields[0].Base[0].Lane = lane
		ref = refDecode(appendChange(nil, &c))
		if _, err := DecodeChange(appendChange(nil, &c)); err == nil || ref == nil || err.Error() != ref.Error() {
			t.Errorf("a base on lane %d: %v; the reference: %v", lane, err, ref)
		}

		runs := sampleRuns(t)
		runs[0].Stream.Lane = lane
		raw, err := Marshal(runs)
		if err != nil {
			t.Fatal(err)
		}
		var back []Run
		if err := decMode.Unmarshal(raw, &back); err != nil || len(back) != 1 {
			t.Fatalf("the reference decoder on a run of lane %d: %v", lane, err)
		}
		ref = back[0].Check()
		_, err = (&Batch{Seq: 1, Codec: CodecNone, Size: uint32(len(raw)), Payload: raw}).Runs()
		if err == nil || ref == nil || !strings.HasSuffix(err.Error(), ref.Error()) {
			t.Errorf("a run of lane %d: %v; the reference: %v", lane, err, ref)
		}
	}
}

// FitNotices keeps, in order, every notice a hello can carry: each one of 1
// to MaxNoticeBytes bytes, up to MaxRevocations of them and MaxRevocationBytes
// in all; the notices it keeps make a list a receiver takes.
func TestFitNoticesUpToEachBound(t *testing.T) {
	notice := func(n int, b byte) []byte { return bytes.Repeat([]byte{b}, n) }
	check := func(name string, list [][]byte, want [][]byte) {
		t.Helper()
		got := FitNotices(list)
		if len(got) != len(want) {
			t.Fatalf("%s: kept %d notices, want %d", name, len(got), len(want))
		}
		for i := range want {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("%s: notice %d is % x..., want % x...", name, i, got[i][:1], want[i][:1])
			}
		}
		raw, err := Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		var back Notices
		if err := back.UnmarshalCBOR(raw); err != nil || len(back) != len(want) {
			t.Fatalf("%s: a receiver reads %d of the notices kept, %v", name, len(back), err)
		}
	}
	a, b := notice(3, 'a'), notice(5, 'b')
	check("two small notices", [][]byte{a, b}, [][]byte{a, b})
	check("an empty notice", [][]byte{{}, a, {}, b}, [][]byte{a, b})

	largest := notice(MaxNoticeBytes, 'l')
	over := notice(MaxNoticeBytes+1, 'o')
	check("a notice of the largest size and one over", [][]byte{over, largest, a}, [][]byte{largest, a})

	// MaxRevocationBytes in notices of the largest size, exactly: all are
	// kept, and a notice after them is not.
	var full [][]byte
	for i := range MaxRevocationBytes / MaxNoticeBytes {
		full = append(full, notice(MaxNoticeBytes, byte(i)))
	}
	check("notices of exactly the byte bound", append(slices.Clone(full), a), full)
	// One byte short of it: a one-byte notice still fits, a larger not.
	short := slices.Clone(full)
	short[0] = short[0][:MaxNoticeBytes-1]
	one := notice(1, '1')
	check("notices one byte short of the bound", append(slices.Clone(short), a, one, b), append(slices.Clone(short), one))

	var many [][]byte
	for i := range MaxRevocations + 1 {
		many = append(many, []byte{byte(i), byte(i >> 8)})
	}
	check("one notice more than the count bound", many, many[:MaxRevocations])
}
