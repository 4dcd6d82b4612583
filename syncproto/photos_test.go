package syncproto

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"slices"
	"strings"
	"testing"
)

// The photo done frame, written out by hand from the definition: length 6,
// type 11, then the CBOR map {1: 2, 2: 1}.
func TestPhotoDoneBytes(t *testing.T) {
	var buf bytes.Buffer
	if _, err := WriteFrame(&buf, MsgPhotoDone, &PhotoDone{Sent: 2, Absent: 1}); err != nil {
		t.Fatal(err)
	}
	want := []byte{0, 0, 0, 6, 11, 0xa2, 0x01, 0x02, 0x02, 0x01}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("got %x, want %x", buf.Bytes(), want)
	}
}

// A version 5 node's hello still makes a session, of version 5: one
// without photos.
func TestVersion5PeerSyncsWithoutPhotos(t *testing.T) {
	v, err := negotiateWithOld(t, 5)
	if err != nil || v != 5 || v >= PhotoVersion {
		t.Fatalf("with a version 5 hello: version %d, %v; want 5, without photos", v, err)
	}
}

// Every chunk that is not what its header says is refused when decoded,
// with an error that says what is wrong.
func TestPhotoChunkRefusals(t *testing.T) {
	id := Hash(sha256.Sum256([]byte("photo")))
	full := bytes.Repeat([]byte{7}, PhotoChunkBytes)
	good := func() *PhotoChunk {
		return NewPhotoChunk(id, PhotoFull, id, 2*PhotoChunkBytes+10, PhotoChunkBytes, full)
	}
	cases := []struct {
		name string
		edit func(c *PhotoChunk)
		says string
	}{
		{"good", func(c *PhotoChunk) {}, ""},
		{"last chunk", func(c *PhotoChunk) {
			*c = *NewPhotoChunk(id, PhotoFull, id, 2*PhotoChunkBytes+10, 2*PhotoChunkBytes, full[:10])
		}, ""},
		{"past its size", func(c *PhotoChunk) {
			*c = *NewPhotoChunk(id, PhotoFull, id, 2*PhotoChunkBytes+10, 2*PhotoChunkBytes, full[:11])
		}, "past its declared size"},
		{"wrong offset", func(c *PhotoChunk) { c.Offset = 1000 }, "not a multiple of"},
		{"short not last", func(c *PhotoChunk) { *c = *NewPhotoChunk(id, PhotoFull, id, 2*PhotoChunkBytes+10, 0, full[:100]) }, "not its last"},
		{"altered", func(c *PhotoChunk) { c.Data = bytes.Repeat([]byte{8}, PhotoChunkBytes) }, "does not match its hash"},
		{"full not its id", func(c *PhotoChunk) { c.Sum = Hash{1} }, "must be the photo's id"},
		{"too large", func(c *PhotoChunk) { c.Size = MaxPhotoBytes + 1 }, "the limit is"},
		{"original", func(c *PhotoChunk) { c.Kind = 3 }, "kind 3"},
		{"oversized chunk", func(c *PhotoChunk) {
			*c = *NewPhotoChunk(id, PhotoFull, id, 4*PhotoChunkBytes, 0, make([]byte, PhotoChunkBytes+1))
		}, "from 1 to"},
	}
	for _, c := range cases {
		m := good()
		c.edit(m)
		body, err := Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Decode(MsgPhotoChunk, body)
		switch {
		case c.says == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.says != "" && (err == nil || !strings.Contains(err.Error(), c.says) || !strings.Contains(err.Error(), "photo chunk")):
			t.Errorf("%s: %v, want an error saying %q", c.name, err, c.says)
		}
	}
}

func TestPhotoWantsBounds(t *testing.T) {
	many := &PhotoWants{}
	for i := range MaxPhotoWants + 1 {
		many.Wants = append(many.Wants, PhotoWant{ID: Hash{byte(i), byte(i >> 8)}, Kind: PhotoThumb})
	}
	for _, c := range []struct {
		name string
		m    *PhotoWants
		want error
	}{
		{"at the bound", &PhotoWants{Wants: many.Wants[:MaxPhotoWants]}, nil},
		{"past the bound", many, ErrTooLarge},
		{"twice", &PhotoWants{Wants: []PhotoWant{{ID: Hash{1}, Kind: PhotoFull}, {ID: Hash{1}, Kind: PhotoFull, Offset: PhotoChunkBytes}}}, ErrMalformed},
		{"odd offset", &PhotoWants{Wants: []PhotoWant{{ID: Hash{1}, Kind: PhotoFull, Offset: 5}}}, ErrMalformed},
		{"past any photo", &PhotoWants{Wants: []PhotoWant{{ID: Hash{1}, Kind: PhotoFull, Offset: MaxPhotoBytes}}}, ErrMalformed},
		{"an original", &PhotoWants{Wants: []PhotoWant{{ID: Hash{1}, Kind: 3}}}, ErrMalformed},
	} {
		body, err := Marshal(c.m)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Decode(MsgPhotoWants, body)
		if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

// A photo chunk or wants that decodes is within every bound the session
// relies on.
func FuzzPhotoMessages(f *testing.F) {
	for _, name := range []string{"photowants", "photochunk", "photodone", "photokept", "photoconfirm", "photoheld"} {
		m := sampleMessages(f)[name]
		b, _ := Marshal(m.msg)
		f.Add(byte(m.t), b)
	}
	f.Fuzz(func(t *testing.T, typ byte, body []byte) {
		msg, err := Decode(MsgPhotoWants+MsgType(typ%4), body)
		if err != nil {
			return
		}
		switch m := msg.(type) {
		case *PhotoChunk:
			n := uint64(len(m.Data))
			if n == 0 || n > PhotoChunkBytes || m.Size > MaxPhotoBytes || m.Offset+n > m.Size || m.Offset%PhotoChunkBytes != 0 {
				t.Fatalf("a chunk out of bounds decoded: size %d offset %d data %d", m.Size, m.Offset, n)
			}
			if sha256.Sum256(m.Data) != m.DataSum {
				t.Fatalf("a chunk not matching its hash decoded")
			}
		case *PhotoWants:
			if len(m.Wants) > MaxPhotoWants || len(m.Confirm) > MaxPhotoWants {
				t.Fatalf("%d wants and %d confirmations asked for decoded", len(m.Wants), len(m.Confirm))
			}
		case *PhotoKept:
			if len(m.Full) > MaxPhotoWants || len(m.Held) > MaxPhotoWants || len(m.Certs) > MaxHeldSigners {
				t.Fatalf("%d kept, %d confirmations by %d signers decoded", len(m.Full), len(m.Held), len(m.Certs))
			}
			seen := map[Hash]bool{}
			for _, h := range m.Held {
				if int(h.Signer) >= len(m.Certs) || len(h.Sig) != 64 || seen[h.ID] {
					t.Fatalf("a confirmation out of bounds decoded: signer %d of %d, signature of %d bytes, twice %v", h.Signer, len(m.Certs), len(h.Sig), seen[h.ID])
				}
				seen[h.ID] = true
			}
			for _, der := range m.Certs {
				if len(der) == 0 || len(der) > MaxCertBytes {
					t.Fatalf("a certificate of %d bytes decoded", len(der))
				}
			}
		}
	})
}

// Headquarters' word that it holds a full image signs
// "lifeline/photo-held/v1", a 0 byte, and the photo's id. A relay passes
// on words signed months before, by HQ nodes of any version: the bytes
// must never change under this domain.
func TestPhotoHeldMessageGolden(t *testing.T) {
	id := Hash(counting(0x20, 32))
	msg := PhotoHeldMessage(id)
	if want := append([]byte("lifeline/photo-held/v1\x00"), counting(0x20, 32)...); !bytes.Equal(msg, want) {
		t.Errorf("photo held message %q, want %q", msg, want)
	}
	goldenSigned(t, "signed-photo-held-v1", msg)
}

// The version 7 photo messages, written out by hand from the definition:
// a PhotoWants asking headquarters' word on one full image is the map
// {1: [], 2: [id]}; a PhotoKept carrying the word, {2: [cert], 3: [[id,
// signer, sig]]}, each confirmation a CBOR array.
func TestPhotoConfirmBytes(t *testing.T) {
	id := Hash(counting(0x20, 32))
	sig := counting(0x80, 64)
	for _, c := range []struct {
		t    MsgType
		msg  any
		want []byte
	}{
		{MsgPhotoWants, &PhotoWants{Confirm: []Hash{id}},
			slices.Concat([]byte{0, 0, 0, 40, 9, 0xa2, 0x01, 0x80, 0x02, 0x81, 0x58, 0x20}, id[:])},
		{MsgPhotoKept, &PhotoKept{Certs: [][]byte{{0x01}}, Held: []PhotoHeld{{ID: id, Signer: 0, Sig: sig}}},
			slices.Concat([]byte{0, 0, 0, 110, 12, 0xa2, 0x02, 0x81, 0x41, 0x01, 0x03, 0x81, 0x83, 0x58, 0x20}, id[:], []byte{0x00, 0x58, 0x40}, sig)},
	} {
		var buf bytes.Buffer
		if _, err := WriteFrame(&buf, c.t, c.msg); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), c.want) {
			t.Errorf("%s: got %x, want %x", c.t, buf.Bytes(), c.want)
		}
	}
}

// A PhotoKept's confirmations are bounded and well formed when decoded,
// or refused with an error that says what is wrong.
func TestPhotoKeptBounds(t *testing.T) {
	sig := make([]byte, 64)
	many := make([]PhotoHeld, MaxPhotoWants+1)
	for i := range many {
		many[i] = PhotoHeld{ID: Hash{byte(i), byte(i >> 8)}, Sig: sig}
	}
	cert := [][]byte{{0x30}}
	for _, c := range []struct {
		name string
		m    *PhotoKept
		want error
		says string
	}{
		{"at the bound", &PhotoKept{Certs: cert, Held: many[:MaxPhotoWants]}, nil, ""},
		{"past the bound", &PhotoKept{Certs: cert, Held: many}, ErrTooLarge, "confirmations"},
		{"too many signers", &PhotoKept{Certs: slices.Repeat(cert, MaxHeldSigners+1), Held: many[:1]}, ErrTooLarge, "signers"},
		{"no such signer", &PhotoKept{Certs: cert, Held: []PhotoHeld{{ID: Hash{1}, Signer: 1, Sig: sig}}}, ErrMalformed, "signer 1 of 1"},
		{"short signature", &PhotoKept{Certs: cert, Held: []PhotoHeld{{ID: Hash{1}, Sig: sig[:63]}}}, ErrMalformed, "63 bytes"},
		{"twice", &PhotoKept{Certs: cert, Held: []PhotoHeld{{ID: Hash{1}, Sig: sig}, {ID: Hash{1}, Sig: sig}}}, ErrMalformed, "twice"},
		{"empty certificate", &PhotoKept{Certs: [][]byte{{}}, Held: many[:1]}, ErrMalformed, "certificate 1"},
		{"confirm twice", nil, ErrMalformed, "twice"},
	} {
		var body []byte
		var err error
		if c.m == nil {
			body, _ = Marshal(&PhotoWants{Confirm: []Hash{{1}, {1}}})
			_, err = Decode(MsgPhotoWants, body)
		} else {
			body, _ = Marshal(c.m)
			_, err = Decode(MsgPhotoKept, body)
		}
		if c.want == nil && err != nil || c.want != nil && (!errors.Is(err, c.want) || !strings.Contains(err.Error(), c.says)) {
			t.Errorf("%s: %v, want %v saying %q", c.name, err, c.want, c.says)
		}
	}
}

// A version 6 node's hello makes a session of version 6: photos, and no
// confirmations passed on, which a version 6 node could not decode.
func TestVersion6PeerGetsNoConfirmations(t *testing.T) {
	v, err := negotiateWithOld(t, 6)
	if err != nil || v != PhotoVersion || v >= ConfirmVersion {
		t.Fatalf("with a version 6 hello: version %d, %v; want 6, without confirmations", v, err)
	}
}
