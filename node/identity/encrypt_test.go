package identity

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"
	"slices"
	"testing"
)

// What EncryptTo encrypts for a node's key, only that key opens; the bytes
// carry nothing of the secret.
func TestEncryptToANodesKey(t *testing.T) {
	k, other := newTestKey(t), newTestKey(t)
	secret := []byte("c2VjcmV0IGdvc3NpcCBrZXkgb2YgMzIgYnl0ZXM=\n")
	box, err := EncryptTo(k.Public(), secret)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(box, secret) || bytes.Contains(box, secret[:16]) {
		t.Fatal("the secret is in the clear")
	}
	got, err := k.Decrypt(box)
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("the node's own key: %q, %v", got, err)
	}
	if _, err := other.Decrypt(box); !errors.Is(err, ErrNotForKey) {
		t.Fatalf("another node's key: %v, want ErrNotForKey", err)
	}
	altered := slices.Clone(box)
	altered[len(altered)-3] ^= 1
	if _, err := k.Decrypt(altered); err == nil {
		t.Fatal("an altered file opened")
	}
	if _, err := k.Decrypt([]byte("not age")); err == nil {
		t.Fatal("garbage opened")
	}
}

// tagOf is a key's recipient tag as the age specification defines it for
// ssh-ed25519: the first four bytes of the SHA-256 of the key in SSH wire
// form, unpadded base64.
func tagOf(pub ed25519.PublicKey) string {
	var wire []byte
	wire = binary.BigEndian.AppendUint32(wire, 11)
	wire = append(wire, "ssh-ed25519"...)
	wire = binary.BigEndian.AppendUint32(wire, 32)
	wire = append(wire, pub...)
	h := sha256.Sum256(wire)
	return base64.RawStdEncoding.EncodeToString(h[:4])
}

// countingReader counts what was read of a file.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// A file larger than many of age's chunks, encrypted for two keys as it is
// written, opens whole for each, read as it comes; a third key learns only
// whom it was for; a file cut or altered anywhere does not read whole.
func TestEncryptingStreams(t *testing.T) {
	a, b, c := newTestKey(t), newTestKey(t), newTestKey(t)
	plain := make([]byte, 1<<20+12345)
	for i := range plain {
		plain[i] = byte(i*7 + i>>9)
	}
	var file bytes.Buffer
	w, err := Encrypting(&file, []ed25519.PublicKey{a.Public(), b.Public()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(plain); err != nil {
		t.Fatal(err)
	}
	// Written as it goes: all but the last chunk is out before Close.
	if file.Len() < len(plain)-64<<10 {
		t.Fatalf("%d bytes out of %d before Close: the writer holds the file", file.Len(), len(plain))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	enc := file.Bytes()
	if !bytes.HasPrefix(enc, []byte(AgeMagic)) {
		t.Fatalf("the file starts with %q", enc[:20])
	}
	if bytes.Contains(enc, plain[1000:1032]) {
		t.Fatal("plain bytes in the encrypted file")
	}
	for _, k := range []*Key{a, b} {
		cr := &countingReader{r: bytes.NewReader(enc)}
		r, err := k.Decrypting(cr)
		if err != nil {
			t.Fatal(err)
		}
		var first [10]byte
		if _, err := io.ReadFull(r, first[:]); err != nil {
			t.Fatal(err)
		}
		if cr.n > 256<<10 {
			t.Fatalf("%d bytes read for the first ten: the reader does not stream", cr.n)
		}
		rest, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(append(first[:], rest...), plain) {
			t.Fatalf("decrypted %d bytes, %v", len(rest)+10, err)
		}
	}
	_, err = c.Decrypting(bytes.NewReader(enc))
	var nf *NotForKeyError
	if !errors.As(err, &nf) || !errors.Is(err, ErrNotForKey) || nf.Node != c.ID() {
		t.Fatalf("a third key: %v", err)
	}
	want := []string{tagOf(a.Public()), tagOf(b.Public())}
	if !slices.Equal(nf.For, want) || RecipientTag(a.Public()) != want[0] {
		t.Fatalf("the file names %v, want %v (RecipientTag %s)", nf.For, want, RecipientTag(a.Public()))
	}

	readAll := func(data []byte) error {
		r, err := a.Decrypting(bytes.NewReader(data))
		if err != nil {
			return err
		}
		_, err = io.ReadAll(r)
		return err
	}
	chunk := 64<<10 + 16
	payload := len(enc) - (len(plain)/(64<<10)+1)*16 - len(plain) // header and nonce
	for name, data := range map[string][]byte{
		"cut at a chunk":      enc[:payload+2*chunk],
		"cut in a chunk":      enc[:len(enc)-100],
		"cut in the header":   enc[:40],
		"a payload bit":       flip(enc, len(enc)/2),
		"the last byte":       flip(enc, len(enc)-1),
		"a header bit":        flip(enc, payload-20),
		"bytes after the end": append(slices.Clone(enc), 0),
	} {
		err := readAll(data)
		if err == nil {
			t.Errorf("%s: read whole", name)
			continue
		}
		if !errors.Is(err, ErrDamaged) && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%s: %v, want ErrDamaged or io.ErrUnexpectedEOF", name, err)
		}
	}
}

func flip(b []byte, i int) []byte {
	c := slices.Clone(b)
	c[i] ^= 0x04
	return c
}
