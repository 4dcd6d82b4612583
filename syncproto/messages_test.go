package syncproto

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
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
	}
}

// bytesSince is the protocol version each sample message's bytes date from:
// the hello of version 1 (frame-hello-v1.bin) offered version 1.
var bytesSince = map[string]int{"hello": 2, "receipts": 2,
	"certs": 1, "batch": 1, "ack": 1, "done": 1, "error": 1, "seal": 1}

// A node of protocol version 1 is told to update, whatever its hello says.
func TestVersion1HelloIsTooOld(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "frame-hello-v1.bin"))
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
	_, err = Negotiate(NewHello(NodeID{1}, nil), *m.(*Hello))
	if !errors.Is(err, &ProtocolError{Code: CodeTooOld}) {
		t.Fatalf("a version 1 hello: %v, want too-old", err)
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
