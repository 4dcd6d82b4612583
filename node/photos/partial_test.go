package photos

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"image"
	"math/rand/v2"
	"os"
	"testing"
)

// noise is a w×h picture of random pixels: a JPEG of it is large, as a
// photo of rubble is.
func noise(w, h int, seed uint64) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(seed, 1))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.UintN(256))
	}
	return img
}

// bigJPEG is a JPEG of random pixels, of several chunks, and its id.
func bigJPEG(t *testing.T, w, h int, seed uint64) (string, []byte) {
	b := jpegOf(t, noise(w, h, seed), 95)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), b
}

// A full image received in chunks across a restart: the chunks kept
// survive it, a chunk out of place is refused with nothing changed, and
// the photo is listed only once whole and matching its id.
func TestReceiveChunksResumesAfterRestart(t *testing.T) {
	id, full := bigJPEG(t, 700, 500, 1)
	a := Photo{ID: id}
	if len(full) < 4*ChunkBytes {
		t.Fatalf("the test photo is %d bytes, want over 4 chunks", len(full))
	}
	size := int64(len(full))
	chunk := func(off int64) []byte { return full[off:min(off+ChunkBytes, size)] }
	dst := newStore(t, DefaultConfig())
	for _, off := range []int64{0, ChunkBytes} {
		if _, done, err := dst.ReceiveChunk("", a.ID, Full, a.ID, size, off, chunk(off)); err != nil || done {
			t.Fatalf("chunk at %d: done %v, %v", off, done, err)
		}
	}
	// A restart: the store opened again.
	again, err := Open(dst.dir, dst.secret, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if held, err := again.Partial(a.ID, Full); err != nil || held != 2*ChunkBytes {
		t.Fatalf("held after a restart: %d, %v; want %d", held, err, 2*ChunkBytes)
	}
	for _, off := range []int64{0, ChunkBytes, 3 * ChunkBytes} {
		if _, _, err := again.ReceiveChunk("", a.ID, Full, a.ID, size, off, chunk(off)); !errors.Is(err, ErrOutOfPlace) {
			t.Fatalf("a chunk at %d when 2 are held: %v, want ErrOutOfPlace", off, err)
		}
	}
	if held, _ := again.Partial(a.ID, Full); held != 2*ChunkBytes {
		t.Fatalf("held after chunks refused: %d", held)
	}
	if list, _ := again.List(); len(list) != 0 {
		t.Fatalf("a photo in part is listed: %v", list)
	}
	var done bool
	for off := int64(2 * ChunkBytes); off < size; off += ChunkBytes {
		if _, done, err = again.ReceiveChunk("", a.ID, Full, a.ID, size, off, chunk(off)); err != nil {
			t.Fatal(err)
		}
	}
	if !done {
		t.Fatal("the last chunk did not complete the photo")
	}
	got := readAll(t, again, a.ID, Full)
	if sum := sha256.Sum256(got); hex.EncodeToString(sum[:]) != a.ID {
		t.Fatal("the photo received does not hash to its id")
	}
	if held, _ := again.Partial(a.ID, Full); held != 0 {
		t.Fatalf("the partial stayed after the photo came whole: %d", held)
	}
	if ps, _ := again.Partials(); len(ps) != 0 {
		t.Fatalf("partials left: %v", ps)
	}
}

// A chunk altered in a way its own hash does not show (a lying peer) is
// caught when the photo is whole: nothing is listed and the partial is
// dropped, so that the next session asks from the start.
func TestReceiveChunksRefusesAlteredWhole(t *testing.T) {
	id, full := bigJPEG(t, 400, 300, 2)
	a := Photo{ID: id}
	bad := bytes.Clone(full)
	bad[ChunkBytes+10] ^= 0x20
	size := int64(len(bad))
	dst := newStore(t, DefaultConfig())
	var last error
	for off := int64(0); off < size; off += ChunkBytes {
		_, _, last = dst.ReceiveChunk("", a.ID, Full, a.ID, size, off, bad[off:min(off+ChunkBytes, size)])
	}
	if !errors.Is(last, ErrCorrupt) {
		t.Fatalf("an altered photo: %v, want ErrCorrupt", last)
	}
	if list, _ := dst.List(); len(list) != 0 {
		t.Fatalf("an altered photo is listed: %v", list)
	}
	if held, _ := dst.Partial(a.ID, Full); held != 0 {
		t.Fatalf("the altered partial was kept: %d bytes", held)
	}
}

// A partial torn by a crash mid-chunk counts its whole chunks only.
func TestPartialTornChunkIsDropped(t *testing.T) {
	id, full := bigJPEG(t, 400, 300, 3)
	a := Photo{ID: id}
	size := int64(len(full))
	dst := newStore(t, DefaultConfig())
	if _, _, err := dst.ReceiveChunk("", a.ID, Full, a.ID, size, 0, full[:ChunkBytes]); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(dst.partialPath(a.ID, Full), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(make([]byte, 5000)) // half a chunk, as a crash leaves it
	f.Close()
	if held, err := dst.Partial(a.ID, Full); err != nil || held != ChunkBytes {
		t.Fatalf("held with a torn chunk: %d, %v; want %d", held, err, ChunkBytes)
	}
	for off := int64(ChunkBytes); off < size; off += ChunkBytes {
		if _, _, err := dst.ReceiveChunk("", a.ID, Full, a.ID, size, off, full[off:min(off+ChunkBytes, size)]); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(readAll(t, dst, a.ID, Full), full) {
		t.Fatal("the photo does not read back whole")
	}
}
