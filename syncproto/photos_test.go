package syncproto

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
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
	b, err := os.ReadFile(filepath.Join("testdata", "frame-hello-v5.bin"))
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
	v, err := Negotiate(NewHello(NodeID{1}, nil), *m.(*Hello))
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
	for _, name := range []string{"photowants", "photochunk", "photodone", "photokept"} {
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
			if len(m.Wants) > MaxPhotoWants {
				t.Fatalf("%d wants decoded", len(m.Wants))
			}
		case *PhotoKept:
			if len(m.Full) > MaxPhotoWants {
				t.Fatalf("%d kept decoded", len(m.Full))
			}
		}
	})
}
