package syncproto

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func sampleRuns(t testing.TB) []Run {
	c := sampleChange(t)
	body, err := c.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return []Run{{Stream: c.Stream(), First: c.Seq, Bodies: [][]byte{body}, Sig: bytes.Repeat([]byte{0x5a}, 64)}}
}

// sampleMessages are one message of each type, pinned in testdata as they
// travel: any change to their bytes breaks every deployed node.
func sampleMessages(t testing.TB) map[string]struct {
	t   MsgType
	msg any
} {
	c := sampleChange(t)
	v := Vector{c.Stream(): 42, {Origin: c.Fields[0].Base[1].Origin, Lane: 1}: 9}
	hello := NewHello(c.Origin, v)
	hello.Name, hello.Role, hello.District, hello.Kits, hello.Time = "cayo-laptop-07", "field", "Cayo", bytes.Repeat([]byte{7}, 32), 1732707323000
	hello.Ledger = Vector{c.Stream(): 40}
	hello.Held = Vector{{Origin: c.Fields[0].Base[1].Origin, Lane: 1}: 12}
	hello.Revocations = Notices{bytes.Repeat([]byte{0xa1}, 40), bytes.Repeat([]byte{0xb2}, 3)}
	hello.Grants = GrantNotices{bytes.Repeat([]byte{0xc3}, 30)}
	hello.Published = KitNotices{bytes.Repeat([]byte{0xd4}, 20)}
	runs := sampleRuns(t)
	raw, err := Marshal(runs)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]struct {
		t   MsgType
		msg any
	}{
		"hello": {MsgHello, &hello},
		"certs": {MsgCerts, &Certs{Certs: [][]byte{{0x30, 0x03, 0x02, 0x01, 0x01}}}},
		"batch": {MsgBatch, &Batch{Seq: 3, Codec: CodecNone, Size: uint32(len(raw)), Payload: raw}},
		"ack":   {MsgAck, &Ack{Seq: 3, Applied: 250, Duplicates: 6}},
		"done":  {MsgDone, &Done{Vector: v}},
		"error": {MsgError, &Error{Code: CodeBadChain, Message: "change x/3:42 breaks its chain"}},
		"seal":  {MsgSeal, &Seal{Hash: Hash{1, 2, 3}, Node: c.Origin, Sig: bytes.Repeat([]byte{0xa5}, 64)}},
		"receipts": {MsgReceipts, &Receipts{Certs: [][]byte{{0x30, 0x03, 0x02, 0x01, 0x02}},
			Receipts: []Receipt{{Stream: c.Stream(), Seq: 40, Head: Hash{4, 0}, Sig: bytes.Repeat([]byte{0x3c}, 64)}}}},
		"photowants": {MsgPhotoWants, &PhotoWants{Wants: []PhotoWant{{ID: Hash{0xab, 1}, Kind: PhotoThumb}, {ID: Hash{0xab, 1}, Kind: PhotoFull, Offset: 3 * PhotoChunkBytes}}}},
		"photochunk": {MsgPhotoChunk, NewPhotoChunk(Hash{0xab, 1}, PhotoThumb, Hash{0xcd, 2}, 5, 0, []byte("\xff\xd8\xff\xe0\x00"))},
		"photodone":  {MsgPhotoDone, &PhotoDone{Sent: 2, Absent: 1}},
		"photokept":  {MsgPhotoKept, &PhotoKept{Full: []Hash{{0xab, 1}}}},
		"photoconfirm": {MsgPhotoWants, &PhotoWants{Wants: []PhotoWant{{ID: Hash{0xab, 1}, Kind: PhotoThumb}},
			Confirm: []Hash{{0xab, 2}, {0xab, 3}}}},
		"photoheld": {MsgPhotoKept, &PhotoKept{Full: []Hash{{0xab, 1}}, Certs: [][]byte{{0x30, 0x03, 0x02, 0x01, 0x03}},
			Held: []PhotoHeld{{ID: Hash{0xab, 2}, Sig: bytes.Repeat([]byte{0x5a}, 64)}}}},
	}
}

// bytesSince is the protocol version each sample message's bytes date from:
// the hellos of versions 1 to 4 (frame-hello-v1.bin to frame-hello-v4.bin)
// offered those versions alone.
var bytesSince = map[string]int{"hello": 7, "receipts": 2,
	"certs": 1, "batch": 1, "ack": 1, "done": 1, "error": 1, "seal": 1,
	"photowants": 6, "photochunk": 6, "photodone": 6, "photokept": 6,
	"photoconfirm": 7, "photoheld": 7}

// negotiateWithOld negotiates a session with the hello a node of protocol
// version v wrote (testdata/frame-hello-vV.bin).
func negotiateWithOld(t *testing.T, v int) (uint16, error) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", fmt.Sprintf("frame-hello-v%d.bin", v)))
	if err != nil {
		t.Fatal(err)
	}
	typ, body, err := NewFrameReader(bytes.NewReader(b)).Read()
	if err != nil {
		t.Fatal(err)
	}
	m, err := Decode(typ, body)
	if err != nil {
		t.Fatal(err)
	}
	return Negotiate(NewHello(NodeID{1}, nil), *m.(*Hello))
}

// A node of protocol version 1 to 4 is told to update, whatever its
// hello says.
func TestOldHellosAreTooOld(t *testing.T) {
	for _, v := range []int{1, 2, 3, 4} {
		_, err := negotiateWithOld(t, v)
		if !errors.Is(err, &ProtocolError{Code: CodeTooOld}) || !strings.Contains(err.Error(), "update the peer") {
			t.Fatalf("a version %d hello: %v, want too-old", v, err)
		}
	}
}

// A hello's vectors are bounded in streams: one at the bound decodes, one
// past it is refused before its entries are read, with an error that says
// so.
func TestHelloVectorBound(t *testing.T) {
	big := func(n int) Vector {
		v := make(Vector, n)
		for i := range n {
			var id NodeID
			binary.BigEndian.PutUint32(id[:], uint32(i/MaxPriority))
			v[Stream{Origin: id, Lane: uint8(1 + i%MaxPriority)}] = 7
		}
		return v
	}
	for _, field := range []string{"vector", "ledger", "held"} {
		for _, n := range []int{MaxVectorEntries, MaxVectorEntries + 1} {
			h := NewHello(NodeID{1}, nil)
			switch field {
			case "vector":
				h.Vector = big(n)
			case "ledger":
				h.Ledger = big(n)
			case "held":
				h.Held = big(n)
			}
			body, err := Marshal(&h)
			if err != nil {
				t.Fatal(err)
			}
			m, err := Decode(MsgHello, body)
			switch {
			case n <= MaxVectorEntries && err != nil:
				t.Fatalf("a %s of %d streams: %v", field, n, err)
			case n <= MaxVectorEntries && len(m.(*Hello).Vector)+len(m.(*Hello).Ledger)+len(m.(*Hello).Held) != n:
				t.Fatalf("a %s of %d streams decoded short", field, n)
			case n > MaxVectorEntries && (!errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), fmt.Sprintf("a version vector of %d streams, the limit is %d", n, MaxVectorEntries))):
				t.Fatalf("a %s of %d streams: %v, want too large", field, n, err)
			}
		}
	}
}

// A version 3 node refuses a hello with a key it does not know, as this
// build's decoder does: a hello carrying Revocations (key 13) cannot be
// read by it, which is why version 4 is no version 3 node's.
func TestVersion3CannotReadRevocations(t *testing.T) {
	type helloV3 struct {
		Protocol   string `cbor:"1,keyasint"`
		MinVersion uint16 `cbor:"2,keyasint"`
		MaxVersion uint16 `cbor:"3,keyasint"`
		Node       NodeID `cbor:"4,keyasint"`
		Name       string `cbor:"5,keyasint,omitempty"`
		Role       Role   `cbor:"6,keyasint,omitempty"`
		District   string `cbor:"7,keyasint,omitempty"`
		Kits       []byte `cbor:"8,keyasint,omitempty"`
		Vector     Vector `cbor:"9,keyasint"`
		Time       int64  `cbor:"10,keyasint,omitempty"`
		Ledger     Vector `cbor:"11,keyasint,omitempty"`
		Held       Vector `cbor:"12,keyasint,omitempty"`
	}
	h := NewHello(NodeID{1}, nil)
	h.Revocations = Notices{{1, 2, 3}}
	body, err := Marshal(&h)
	if err != nil {
		t.Fatal(err)
	}
	var old helloV3
	if err := Unmarshal(body, &old); err == nil {
		t.Fatal("a version 3 hello decoder read a hello with revocations")
	}
	h.Revocations = nil
	body, _ = Marshal(&h)
	if err := Unmarshal(body, &old); err != nil {
		t.Fatalf("without revocations: %v", err)
	}
}

// A hello's revocations are bounded in count and bytes: a list at the
// bounds decodes, one past them is refused, with an error that says which
// bound; FitNotices keeps what a node sends within them.
func TestHelloRevocationBounds(t *testing.T) {
	notices := func(n, size int) Notices {
		l := make(Notices, n)
		for i := range l {
			l[i] = bytes.Repeat([]byte{byte(i)}, size)
		}
		return l
	}
	perByteBound := MaxRevocationBytes / MaxNoticeBytes
	for _, c := range []struct {
		name string
		list Notices
		says string // "" when it decodes
	}{
		{"at the count", notices(MaxRevocations, 16), ""},
		{"past the count", notices(MaxRevocations+1, 16), fmt.Sprintf("a revocation list of %d notices, the limit is %d", MaxRevocations+1, MaxRevocations)},
		{"at the bytes", notices(perByteBound, MaxNoticeBytes), ""},
		{"past the bytes", append(notices(perByteBound, MaxNoticeBytes), []byte{1}), fmt.Sprintf("a revocation list of %d bytes, the limit is %d", MaxRevocationBytes+1, MaxRevocationBytes)},
		{"a notice too large", notices(1, MaxNoticeBytes+1), fmt.Sprintf("notice 1 of the revocation list holds %d bytes, the limit is %d", MaxNoticeBytes+1, MaxNoticeBytes)},
	} {
		h := NewHello(NodeID{1}, nil)
		h.Revocations = c.list
		body, err := Marshal(&h)
		if err != nil {
			t.Fatal(err)
		}
		m, err := Decode(MsgHello, body)
		switch {
		case c.says == "" && err != nil:
			t.Fatalf("%s: %v", c.name, err)
		case c.says == "" && len(m.(*Hello).Revocations) != len(c.list):
			t.Fatalf("%s: %d notices decoded of %d", c.name, len(m.(*Hello).Revocations), len(c.list))
		case c.says != "" && (!errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), c.says)):
			t.Fatalf("%s: %v, want too large saying %q", c.name, err, c.says)
		}
		fit := FitNotices(c.list)
		total := 0
		for _, b := range fit {
			total += len(b)
		}
		if len(fit) > MaxRevocations || total > MaxRevocationBytes {
			t.Fatalf("%s: FitNotices kept %d notices of %d bytes", c.name, len(fit), total)
		}
	}
}

func TestMessagesGolden(t *testing.T) {
	for name, m := range sampleMessages(t) {
		var buf bytes.Buffer
		if _, err := WriteFrame(&buf, m.t, m.msg); err != nil {
			t.Fatal(err)
		}
		golden(t, fmt.Sprintf("frame-%s-v%d.bin", name, bytesSince[name]), buf.Bytes())
		typ, body, err := NewFrameReader(&buf).Read()
		if err != nil || typ != m.t {
			t.Fatalf("%s: read back %v %v", name, typ, err)
		}
		back, err := Decode(typ, body)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		again, _ := Marshal(back)
		want, _ := Marshal(m.msg)
		if !bytes.Equal(again, want) {
			t.Fatalf("%s does not round trip", name)
		}
	}
}

func TestBatchCompressedRoundTrip(t *testing.T) {
	runs := sampleRuns(t)
	for range 50 {
		runs[0].Bodies = append(runs[0].Bodies, runs[0].Bodies[0])
	}
	b, err := NewBatch(9, runs)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Payload) >= int(b.Size)/4 {
		t.Fatalf("51 alike changes compressed from %d to only %d bytes", b.Size, len(b.Payload))
	}
	back, err := b.Runs()
	if err != nil || len(back) != 1 || len(back[0].Bodies) != 51 || back[0].Last() != runs[0].First+50 {
		t.Fatalf("runs back: %v %v", back, err)
	}
	b.Size++
	if _, err := b.Runs(); !errors.Is(err, ErrMalformed) {
		t.Fatalf("a lying size: %v", err)
	}
}

func TestNegotiate(t *testing.T) {
	local := NewHello(NodeID{1}, nil)
	remote := NewHello(NodeID{2}, nil)
	if v, err := Negotiate(local, remote); err != nil || v != MaxVersion {
		t.Fatalf("same versions: %v %v", v, err)
	}
	old := remote
	old.MinVersion, old.MaxVersion = 0, 0
	if _, err := Negotiate(local, old); !errors.Is(err, &ProtocolError{Code: CodeTooOld}) {
		t.Fatalf("older peer: %v", err)
	}
	newer := remote
	newer.MinVersion, newer.MaxVersion = MaxVersion+1, MaxVersion+3
	_, err := Negotiate(local, newer)
	if !errors.Is(err, &ProtocolError{Code: CodeUnknownVersion}) || !strings.Contains(err.Error(), "update this node") {
		t.Fatalf("newer peer: %v", err)
	}
	other := remote
	other.Protocol = "HTTP/1.1"
	if _, err := Negotiate(local, other); !errors.Is(err, &ProtocolError{Code: CodeNotLifeline}) {
		t.Fatalf("not lifeline: %v", err)
	}
}

func TestFrameReaderBounds(t *testing.T) {
	huge := []byte{0x7f, 0xff, 0xff, 0xff, byte(MsgHello)}
	if _, _, err := NewFrameReader(bytes.NewReader(huge)).Read(); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("a 2 GiB frame: %v", err)
	}
	var buf bytes.Buffer
	m := sampleMessages(t)["ack"]
	WriteFrame(&buf, m.t, m.msg)
	whole := buf.Bytes()
	for i := 1; i < len(whole); i++ {
		_, _, err := NewFrameReader(bytes.NewReader(whole[:i])).Read()
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("frame cut at %d: %v", i, err)
		}
	}
	if _, _, err := NewFrameReader(bytes.NewReader(nil)).Read(); err != io.EOF {
		t.Fatalf("empty stream: %v", err)
	}
	if _, err := Decode(MsgType(200), nil); !errors.Is(err, ErrMalformed) {
		t.Fatalf("unknown type: %v", err)
	}
}

func FuzzFrameReader(f *testing.F) {
	for _, m := range sampleMessages(f) {
		var buf bytes.Buffer
		WriteFrame(&buf, m.t, m.msg)
		WriteFrame(&buf, m.t, m.msg)
		f.Add(buf.Bytes())
	}
	f.Add([]byte{0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewFrameReader(bytes.NewReader(data))
		for {
			typ, body, err := r.Read()
			if err != nil {
				return
			}
			if len(body)+1 > MaxFrame {
				t.Fatalf("a frame over the limit was returned")
			}
			Decode(typ, body) // must not panic
		}
	})
}

// Every message type, fed any bytes, decodes or fails; never panics; and
// what decodes encodes again.
func FuzzMessages(f *testing.F) {
	for _, m := range sampleMessages(f) {
		b, _ := Marshal(m.msg)
		f.Add(byte(m.t), b)
	}
	// A hello whose revocation list is one notice past the bound.
	over := NewHello(NodeID{1}, nil)
	for range MaxRevocations + 1 {
		over.Revocations = append(over.Revocations, []byte{1})
	}
	b, _ := Marshal(&over)
	f.Add(byte(MsgHello), b)
	f.Fuzz(func(t *testing.T, typ byte, body []byte) {
		msg, err := Decode(MsgType(typ), body)
		if err != nil {
			return
		}
		if _, err := Marshal(msg); err != nil {
			t.Fatalf("decoded %s does not encode: %v", MsgType(typ), err)
		}
		if b, ok := msg.(*Batch); ok {
			runs, err := b.Runs()
			if err == nil {
				var ref []Run
				if decMode.Unmarshal(b.Payload, &ref) != nil && b.Codec == CodecNone {
					t.Fatalf("the fast runs decoder accepted what the reference refuses")
				}
			}
			if err == nil {
				for _, r := range runs {
					for _, body := range r.Bodies {
						DecodeChange(body)
					}
				}
			}
		}
	})
}

// A run is bounded in bytes, so that whatever a node accepts it can pass
// on: a run of MaxRunBytes goes, one byte more is refused.
func TestRunBytesBound(t *testing.T) {
	body := bytes.Repeat([]byte{0x41}, MaxChangeBytes)
	run := Run{Stream: Stream{Origin: NodeID{3}, Lane: 2}, First: 1, Sig: bytes.Repeat([]byte{1}, 64)}
	for range MaxRunBytes / MaxChangeBytes {
		run.Bodies = append(run.Bodies, body)
	}
	b, err := NewBatch(1, []Run{run})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Runs(); err != nil {
		t.Fatalf("a run of %d bytes: %v", run.Bytes(), err)
	}
	run.Bodies = append(run.Bodies, []byte{0x41})
	if b, err = NewBatch(1, []Run{run}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Runs(); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "under one signature") {
		t.Fatalf("a run of %d bytes: %v, want too large", run.Bytes(), err)
	}
}

// A batch whose runs each declare as many changes as a batch may hold is
// refused as their count passes the bound, before the changes of every run
// are laid out: 4,000 runs of 8,192 empty changes, 32 MiB decompressed
// from a few kilobytes, would take 800 MB of slices first.
func TestBatchChangesBoundedAsRunsAreRead(t *testing.T) {
	run := AppendMap(nil, 4)
	run = AppendUint(run, 1)
	run = AppendArray(run, 2)
	run = AppendBytes(run, bytes.Repeat([]byte{3}, len(NodeID{})))
	run = AppendUint(run, 2)
	run = AppendUint(run, 2)
	run = AppendUint(run, 1)
	run = AppendUint(run, 3)
	run = AppendArray(run, MaxBatchChanges)
	run = append(run, bytes.Repeat([]byte{majorBytes << 5}, MaxBatchChanges)...) // empty changes
	run = AppendUint(run, 4)
	run = AppendBytes(run, make([]byte, 64))
	n := MaxBatchBytes / len(run)
	raw := AppendArray(nil, n)
	for range n {
		raw = append(raw, run...)
	}
	b := &Batch{Seq: 1, Codec: CodecZstd, Size: uint32(len(raw)), Payload: encoder().EncodeAll(raw, nil)}
	raw = nil
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := b.Runs()
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("%d runs of %d changes: %v, want too large", n, MaxBatchChanges, err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 2*MaxBatchBytes {
		t.Fatalf("a batch of %d compressed bytes, refused, took %d MiB; its payload decompressed is %d MiB", len(b.Payload), got>>20, b.Size>>20)
	}
}

// A hello's grants are bounded in count and bytes, as its revocations are.
func TestHelloGrantBounds(t *testing.T) {
	grants := func(n, size int) GrantNotices {
		l := make(GrantNotices, n)
		for i := range l {
			l[i] = bytes.Repeat([]byte{byte(i)}, size)
		}
		return l
	}
	perBytes := MaxGrantListBytes / MaxGrantNoticeBytes
	for _, c := range []struct {
		name string
		list GrantNotices
		says string
	}{
		{"at the count", grants(MaxGrants, 16), ""},
		{"past the count", grants(MaxGrants+1, 16), fmt.Sprintf("a list of %d grants, the limit is %d", MaxGrants+1, MaxGrants)},
		{"a grant too large", grants(1, MaxGrantNoticeBytes+1), fmt.Sprintf("grant 1 of the list holds %d bytes, the limit is %d", MaxGrantNoticeBytes+1, MaxGrantNoticeBytes)},
		{"past the bytes", append(grants(perBytes, MaxGrantNoticeBytes), bytes.Repeat([]byte{1}, MaxGrantListBytes-perBytes*MaxGrantNoticeBytes+1)), "a grant list of"},
	} {
		h := NewHello(NodeID{1}, nil)
		h.Grants = c.list
		body, err := Marshal(&h)
		if err != nil {
			t.Fatal(err)
		}
		m, err := Decode(MsgHello, body)
		switch {
		case c.says == "" && (err != nil || len(m.(*Hello).Grants) != len(c.list)):
			t.Fatalf("%s: %v", c.name, err)
		case c.says != "" && (!errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), c.says)):
			t.Fatalf("%s: %v, want too large saying %q", c.name, err, c.says)
		}
		fit := FitGrants(c.list)
		total := 0
		for _, b := range fit {
			total += len(b)
		}
		if len(fit) > MaxGrants || total > MaxGrantListBytes {
			t.Fatalf("%s: FitGrants kept %d grants of %d bytes", c.name, len(fit), total)
		}
	}
}
