package photos

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func newStore(t testing.TB, cfg Config) *Store {
	t.Helper()
	var secret [32]byte
	copy(secret[:], "a node's photo secret, for tests")
	s, err := Open(filepath.Join(t.TempDir(), "photos"), secret, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// picture is a w×h image: a pattern that seed varies, with a red block in
// its top-left corner (a quarter of each edge) to tell which way is up.
func picture(w, h, seed int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{0, uint8((x*3 + y*5 + seed*40) % 100), 200, 255}
			if x < w/4 && y < h/4 {
				c = color.RGBA{230, 10, 10, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

func jpegOf(t testing.TB, img image.Image, q int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: q}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// withOrientation puts an APP1 EXIF segment right after a JPEG's SOI, as a
// camera writes it: "Exif\0\0", a TIFF header in the byte order given,
// IFD0 at offset 8 holding one entry, tag 0x0112 (Orientation), type
// SHORT (3), count 1, its value in the first two bytes of the value field.
func withOrientation(jpg []byte, o uint16, bo binary.AppendByteOrder) []byte {
	var tiff []byte
	if bo == binary.LittleEndian {
		tiff = append(tiff, 'I', 'I')
	} else {
		tiff = append(tiff, 'M', 'M')
	}
	tiff = bo.AppendUint16(tiff, 42)
	tiff = bo.AppendUint32(tiff, 8)
	tiff = bo.AppendUint16(tiff, 1)
	tiff = bo.AppendUint16(tiff, 0x0112)
	tiff = bo.AppendUint16(tiff, 3)
	tiff = bo.AppendUint32(tiff, 1)
	tiff = bo.AppendUint16(tiff, o)
	tiff = append(tiff, 0, 0)
	tiff = bo.AppendUint32(tiff, 0) // no next IFD
	seg := append([]byte("Exif\x00\x00"), tiff...)
	out := []byte{0xFF, 0xD8, 0xFF, 0xE1}
	out = binary.BigEndian.AppendUint16(out, uint16(len(seg)+2))
	out = append(out, seg...)
	return append(out, jpg[2:]...)
}

func readAll(t testing.TB, s *Store, id string, k Kind) []byte {
	t.Helper()
	rc, err := s.Open(id, k)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decodeJPEG(t testing.TB, b []byte) image.Image {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a JPEG: %v", err)
	}
	return img
}

func red(c color.Color) bool {
	r, g, b, _ := c.RGBA()
	return r>>8 > 180 && g>>8 < 70 && b>>8 < 70
}

func TestAddShrinksToLongEdgeWithThumbnail(t *testing.T) {
	s := newStore(t, DefaultConfig())
	for _, c := range []struct {
		w, h           int
		fw, fh, tw, th int
	}{
		// 1600 on the long edge, the short one in proportion, rounded;
		// the thumbnail 256 on the long edge of the full image.
		{2400, 1600, 1600, 1067, 256, 171},
		{1200, 2400, 800, 1600, 128, 256},
		// Never grown.
		{800, 600, 800, 600, 256, 192},
		{200, 100, 200, 100, 200, 100},
	} {
		a, err := s.Add(bytes.NewReader(jpegOf(t, picture(c.w, c.h, 1), 90)))
		if err != nil {
			t.Fatal(err)
		}
		full := readAll(t, s, a.ID, Full)
		if sum := sha256.Sum256(full); hex.EncodeToString(sum[:]) != a.ID {
			t.Fatalf("%dx%d: the id %s is not the SHA-256 of the full image", c.w, c.h, a.ID)
		}
		thumb := readAll(t, s, a.ID, Thumb)
		if sum := sha256.Sum256(thumb); hex.EncodeToString(sum[:]) != a.ThumbHash {
			t.Fatalf("%dx%d: the thumbnail does not hash to %s", c.w, c.h, a.ThumbHash)
		}
		fb, tb := decodeJPEG(t, full).Bounds(), decodeJPEG(t, thumb).Bounds()
		if fb.Dx() != c.fw || fb.Dy() != c.fh || tb.Dx() != c.tw || tb.Dy() != c.th || a.Width != c.fw || a.Height != c.fh {
			t.Fatalf("%dx%d: full %v (said %dx%d), thumbnail %v; want %dx%d and %dx%d", c.w, c.h, fb.Size(), a.Width, a.Height, tb.Size(), c.fw, c.fh, c.tw, c.th)
		}
		if a.Has(Original) {
			t.Fatal("the original is kept though the store was not told to")
		}
	}
	list, err := s.List()
	if err != nil || len(list) != 4 {
		t.Fatalf("listed %d photos (%v), want 4", len(list), err)
	}
}

func TestAddTurnsUprightByEXIF(t *testing.T) {
	s := newStore(t, DefaultConfig())
	// The camera stored the picture 400×200, red block top-left. Where
	// EXIF (CIPA DC-008, Orientation) says the picture must be seen, the
	// block lands at the corner given, as fractions of the upright size.
	for _, c := range []struct {
		o      uint16
		w, h   int
		rx, ry float64 // a point inside the red block, upright
	}{
		{1, 400, 200, 0.1, 0.1},
		{2, 400, 200, 0.9, 0.1}, // mirrored left to right
		{3, 400, 200, 0.9, 0.9}, // upside down
		{4, 400, 200, 0.1, 0.9}, // mirrored top to bottom
		{5, 200, 400, 0.1, 0.1}, // transposed
		{6, 200, 400, 0.9, 0.1}, // turned a quarter clockwise: the top-left goes top-right
		{7, 200, 400, 0.9, 0.9}, // transversed
		{8, 200, 400, 0.1, 0.9}, // turned a quarter counter-clockwise: top-left goes bottom-left
	} {
		for _, bo := range []binary.AppendByteOrder{binary.LittleEndian, binary.BigEndian} {
			src := withOrientation(jpegOf(t, picture(400, 200, int(c.o)), 95), c.o, bo)
			if got := Orientation(src); got != int(c.o) {
				t.Fatalf("orientation %d (%v): read %d", c.o, bo, got)
			}
			a, err := s.Add(bytes.NewReader(src))
			if err != nil {
				t.Fatal(err)
			}
			img := decodeJPEG(t, readAll(t, s, a.ID, Full))
			if b := img.Bounds(); b.Dx() != c.w || b.Dy() != c.h {
				t.Fatalf("orientation %d: %v, want %dx%d", c.o, b.Size(), c.w, c.h)
			}
			in := img.At(int(c.rx*float64(c.w)), int(c.ry*float64(c.h)))
			out := img.At(int((1-c.rx)*float64(c.w)), int((1-c.ry)*float64(c.h)))
			if !red(in) || red(out) {
				t.Fatalf("orientation %d (%v): the red block is not where an upright picture has it: %v there, %v across", c.o, bo, in, out)
			}
		}
	}
}

// pngHeader is a PNG that declares w×h in its IHDR and holds no pixel.
func pngHeader(w, h uint32) []byte {
	chunk := func(typ string, data []byte) []byte {
		b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
		b = append(b, typ...)
		b = append(b, data...)
		return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(append([]byte(typ), data...)))
	}
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 6, 0, 0, 0) // 8-bit RGBA
	out := []byte("\x89PNG\r\n\x1a\n")
	out = append(out, chunk("IHDR", ihdr)...)
	out = append(out, chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})...)
	return append(out, chunk("IEND", nil)...)
}

func TestDecompressionBombRefusedBeforeDecoding(t *testing.T) {
	s := newStore(t, DefaultConfig())
	bomb := pngHeader(100_000, 100_000) // 10 gigapixels: 40 GB decoded
	if _, err := png.DecodeConfig(bytes.NewReader(bomb)); err != nil {
		t.Fatalf("the test's PNG header does not read: %v", err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := s.Add(bytes.NewReader(bomb))
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "megapixels") {
		t.Fatalf("a 10-gigapixel PNG: %v, want ErrTooLarge naming the megapixels", err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 4<<20 {
		t.Fatalf("refusing it allocated %d bytes", grew)
	}
	// Within 50 megapixels, as a strip a pixel high: its rows, not its
	// pixels, are what a decoder and the shrinking allocate for.
	strip := pngHeader(50_000_000, 1)
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err = s.Add(bytes.NewReader(strip))
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "50000000×1") {
		t.Fatalf("a PNG of 50,000,000 × 1 pixels: %v, want ErrTooLarge naming its size", err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 4<<20 {
		t.Fatalf("refusing the strip allocated %d bytes", grew)
	}
	// Just over 50 megapixels, as a JPEG header says it.
	over := jpegOf(t, picture(8, 8, 0), 80)
	i := bytes.Index(over, []byte{0xFF, 0xC0})
	binary.BigEndian.PutUint16(over[i+5:], 7072) // height
	binary.BigEndian.PutUint16(over[i+7:], 7071) // width: 50,006,112 pixels
	if _, err := s.Add(bytes.NewReader(over)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("a 50.006-megapixel JPEG: %v, want ErrTooLarge", err)
	}
	if _, err := s.Add(io.MultiReader(bytes.NewReader(jpegOf(t, picture(8, 8, 0), 80)), io.LimitReader(zeros{}, MaxFileBytes))); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("a file over 40 MiB: %v, want ErrTooLarge", err)
	}
	list, _ := s.List()
	if len(list) != 0 {
		t.Fatalf("refused photos were kept: %v", list)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestOtherFormatsRefused(t *testing.T) {
	s := newStore(t, DefaultConfig())
	heic := append([]byte{0, 0, 0, 0x18}, "ftypheic\x00\x00\x00\x00mif1heic"...)
	if _, err := s.Add(bytes.NewReader(heic)); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "HEIC") {
		t.Fatalf("HEIC: %v, want ErrFormat naming HEIC", err)
	}
	if _, err := s.Add(strings.NewReader("GIF89a....")); !errors.Is(err, ErrFormat) {
		t.Fatalf("GIF: %v, want ErrFormat", err)
	}
	// A PNG is taken, its transparency laid on white.
	img := image.NewNRGBA(image.Rect(0, 0, 40, 20))
	var b bytes.Buffer
	png.Encode(&b, img)
	a, err := s.Add(&b)
	if err != nil {
		t.Fatal(err)
	}
	if r, g, bl, _ := decodeJPEG(t, readAll(t, s, a.ID, Full)).At(5, 5).RGBA(); r>>8 < 240 || g>>8 < 240 || bl>>8 < 240 {
		t.Fatalf("a transparent PNG pixel became %d,%d,%d, want white", r>>8, g>>8, bl>>8)
	}
}

func TestSealedAtRest(t *testing.T) {
	cfg := DefaultConfig()
	cfg.KeepOriginals = true
	s := newStore(t, cfg)
	src := jpegOf(t, picture(300, 200, 2), 90)
	a, err := s.Add(bytes.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, s, a.ID, Original); !bytes.Equal(got, src) {
		t.Fatal("the original does not read back as given")
	}
	full := readAll(t, s, a.ID, Full)
	for _, k := range []Kind{Full, Thumb, Original} {
		disk, err := os.ReadFile(s.path(a.ID, k))
		if err != nil {
			t.Fatal(err)
		}
		for _, plain := range [][]byte{src[:64], src[len(src)-64:], full[:64], full[200:264]} {
			if bytes.Contains(disk, plain) {
				t.Fatalf("the %s file holds the photo's bytes in the clear", k)
			}
		}
	}
	// Another node's key opens nothing.
	other, err := Open(s.dir, [32]byte{1}, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := other.ReadAt(a.ID, Full, 0, 100); !errors.Is(err, ErrDamaged) {
		t.Fatalf("read with another key: %v, want ErrDamaged", err)
	}
	// One byte changed on disk is found.
	disk, _ := os.ReadFile(s.path(a.ID, Thumb))
	disk[len(disk)/2] ^= 1
	os.WriteFile(s.path(a.ID, Thumb), disk, 0o600)
	if _, err := io.ReadAll(must(s.Open(a.ID, Thumb))); !errors.Is(err, ErrDamaged) {
		t.Fatalf("an altered file: %v, want ErrDamaged", err)
	}
	// Renamed to another kind, a file does not open either.
	os.Rename(s.path(a.ID, Original), s.path(a.ID, Thumb))
	if _, err := io.ReadAll(must(s.Open(a.ID, Thumb))); !errors.Is(err, ErrDamaged) {
		t.Fatalf("a file under another name: %v, want ErrDamaged", err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestReadAtInPieces(t *testing.T) {
	s := newStore(t, DefaultConfig())
	// Noise compresses badly: the full image spans several chunks.
	img := picture(1600, 1200, 3)
	for i := range img.Pix {
		img.Pix[i] ^= uint8(i * 2654435761 >> 13)
	}
	a, err := s.Add(bytes.NewReader(jpegOf(t, img, 95)))
	if err != nil {
		t.Fatal(err)
	}
	whole := readAll(t, s, a.ID, Full)
	if len(whole) < 3*chunkSize {
		t.Fatalf("the full image is %d bytes: too small to span chunks", len(whole))
	}
	for _, piece := range []int{1000, chunkSize, chunkSize + 1, MaxRead} {
		var got []byte
		for off := int64(0); ; {
			b, size, err := s.ReadAt(a.ID, Full, off, piece)
			if err != nil {
				t.Fatal(err)
			}
			if size != int64(len(whole)) {
				t.Fatalf("size %d, want %d", size, len(whole))
			}
			if len(b) == 0 {
				break
			}
			got = append(got, b...)
			off += int64(len(b))
		}
		if !bytes.Equal(got, whole) {
			t.Fatalf("pieces of %d do not make the photo", piece)
		}
	}
	if _, _, err := s.ReadAt(a.ID, Full, int64(len(whole))+1, 10); err == nil {
		t.Fatal("a read past the end was not refused")
	}
	if _, _, err := s.ReadAt(strings.Repeat("0", 64), Full, 0, 10); !errors.Is(err, ErrNotFound) {
		t.Fatalf("an unknown photo: %v, want ErrNotFound", err)
	}
	if _, _, err := s.ReadAt("../../etc/passwd", Full, 0, 10); !errors.Is(err, ErrBadID) {
		t.Fatalf("a path for an id: %v, want ErrBadID", err)
	}
}

func TestReceiveChecksTheHash(t *testing.T) {
	src := newStore(t, DefaultConfig())
	a, err := src.Add(bytes.NewReader(jpegOf(t, picture(900, 600, 4), 90)))
	if err != nil {
		t.Fatal(err)
	}
	full := readAll(t, src, a.ID, Full)
	dst := newStore(t, DefaultConfig())
	send := func(id string, k Kind, sum string, b []byte) error {
		r, err := dst.Receive(id, k, sum)
		if err != nil {
			return err
		}
		for len(b) > 0 {
			n := min(len(b), 3000)
			if _, err := r.Write(b[:n]); err != nil {
				r.Abort()
				return err
			}
			b = b[n:]
		}
		_, err = r.Commit()
		return err
	}
	bad := bytes.Clone(full)
	bad[len(bad)/2] ^= 0x40
	if err := send(a.ID, Full, a.ID, bad); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("altered bytes: %v, want ErrCorrupt", err)
	}
	if list, _ := dst.List(); len(list) != 0 {
		t.Fatalf("a refused photo is listed: %v", list)
	}
	if err := send(a.ID, Full, a.ID, full); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readAll(t, dst, a.ID, Full), full) {
		t.Fatal("the received photo does not read back")
	}
	if p, _ := dst.Info(a.ID); p.Width != 900 || p.Height != 600 || p.Has(Thumb) {
		t.Fatalf("received: %+v", p)
	}
	entries, _ := os.ReadDir(filepath.Join(dst.dir, a.ID[:2]))
	for _, e := range entries {
		if strings.Contains(e.Name(), ".part") || strings.HasSuffix(e.Name(), ".tmp") {
			t.Fatalf("%s left behind", e.Name())
		}
	}
}

func TestBudgetDropsOriginalsThenConfirmedNeverThumbs(t *testing.T) {
	cfg := DefaultConfig()
	cfg.KeepOriginals, cfg.BudgetMiB = true, 0
	s := newStore(t, cfg)
	var ids []string
	for i := range 3 {
		a, err := s.Add(bytes.NewReader(jpegOf(t, picture(1000, 800, 10+i), 95)))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.ID)
	}
	size := func(i int, k Kind) int64 { return s.onDisk(ids[i], k) }
	used := func() int64 { b, _ := s.Budget(); return b.Used }
	total := used()
	var want int64
	for i := range 3 {
		for _, k := range []Kind{Full, Thumb, Original} {
			want += size(i, k)
		}
	}
	if total != want {
		t.Fatalf("Budget says %d bytes used, the files take %d", total, want)
	}
	setLimit := func(n int64) {
		s.mu.Lock()
		s.limit = n
		s.enforce("")
		s.mu.Unlock()
	}
	has := func(i int, k Kind) bool { p, _ := s.Info(ids[i]); return p.Has(k) }
	// Room for all but the oldest original: that one goes.
	setLimit(total - size(0, Original))
	if has(0, Original) || !has(1, Original) || !has(2, Original) {
		t.Fatal("the oldest original was not the one dropped")
	}
	thumbs := size(0, Thumb) + size(1, Thumb) + size(2, Thumb)
	fulls := size(0, Full) + size(1, Full) + size(2, Full)
	// Less than the thumbnails and full images: every original goes, and
	// nothing else, as no full image is confirmed.
	setLimit(thumbs + fulls - 1)
	for i := range 3 {
		if has(i, Original) || !has(i, Full) || !has(i, Thumb) {
			t.Fatalf("photo %d: the budget dropped a full image not confirmed, or kept an original", i)
		}
	}
	if b, _ := s.Budget(); !b.Over || b.Originals != 0 || b.Full != 3 || b.Thumbs != 3 {
		t.Fatalf("over its budget with nothing to drop, the store says %+v", b)
	}
	// Headquarters confirms the middle one: its full image goes.
	if err := s.Confirm(ids[1]); err != nil {
		t.Fatal(err)
	}
	if !has(0, Full) || has(1, Full) || !has(2, Full) || !has(1, Thumb) {
		t.Fatal("the confirmed full image was not the one dropped")
	}
	if b, _ := s.Budget(); b.Over {
		t.Fatalf("within its budget, the store says %+v", b)
	}
	// A budget of one byte drops no thumbnail.
	s.Confirm(ids[0])
	s.Confirm(ids[2])
	setLimit(1)
	for i := range 3 {
		if !has(i, Thumb) || has(i, Full) {
			t.Fatalf("photo %d: at a budget of one byte, a thumbnail went or a confirmed full image stayed", i)
		}
	}
	// The budget set is the folder's, for every process.
	if err := s.SetBudget(7); err != nil {
		t.Fatal(err)
	}
	again, err := Open(s.dir, s.secret, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := again.Budget(); b.Limit != 7<<20 {
		t.Fatalf("reopened, the limit is %d, want 7 MiB", b.Limit)
	}
}

func testKey() ed25519.PrivateKey { return ed25519.NewKeyFromSeed(make([]byte, 32)) }

func verifier(pub ed25519.PublicKey) func(msg, sig []byte) bool {
	return func(msg, sig []byte) bool { return ed25519.Verify(pub, msg, sig) }
}

func signer(k ed25519.PrivateKey) func([]byte) []byte {
	return func(msg []byte) []byte { return ed25519.Sign(k, msg) }
}

// section builds a photo section from its definition (section.go).
func section(k ed25519.PrivateKey, entries ...[]byte) []byte {
	out := []byte("LIFELINE-PHOTOS\n")
	for _, e := range entries {
		out = append(out, e...)
	}
	return append(out, 0)
}

func entry(k ed25519.PrivateKey, kind byte, id string, body []byte) []byte {
	sum := sha256.Sum256(body)
	idb, _ := hex.DecodeString(id)
	head := append([]byte{kind}, idb...)
	head = append(head, sum[:]...)
	head = binary.BigEndian.AppendUint32(head, uint32(len(body)))
	sig := ed25519.Sign(k, append([]byte("lifeline/bundle-photo/v1\x00"), head...))
	return append(append(head, sig...), body...)
}

func TestSectionGolden(t *testing.T) {
	golden, err := os.ReadFile("testdata/section-v1.golden")
	if err != nil {
		t.Fatal(err)
	}
	k := testKey()
	s := newStore(t, DefaultConfig())
	res, err := s.ReadSection(bytes.NewReader(golden), verifier(k.Public().(ed25519.PublicKey)))
	if err != nil || res.Kept != 2 || res.Refused != 0 {
		t.Fatalf("the version 1 golden section: %+v, %v; want its thumbnail and full image kept", res, err)
	}
	list, _ := s.List()
	if len(list) != 1 {
		t.Fatalf("%d photos, want 1", len(list))
	}
	id := list[0].ID
	thumb, full := readAll(t, s, id, Thumb), readAll(t, s, id, Full)
	if want := section(k, entry(k, 2, id, thumb), entry(k, 1, id, full)); !bytes.Equal(golden, want) {
		t.Fatal("the golden file is not the section its definition gives")
	}
	var out bytes.Buffer
	w, err := s.WriteSection(&out, FullPhotos, nil, signer(k))
	if err != nil || w.Thumbs != 1 || w.Full != 1 {
		t.Fatalf("wrote %+v, %v", w, err)
	}
	if !bytes.Equal(out.Bytes(), golden) {
		t.Fatal("the section written is not the golden one")
	}
	out.Reset()
	if _, err := s.WriteSection(&out, Thumbs, nil, signer(k)); err != nil {
		t.Fatal(err)
	}
	if want := section(k, entry(k, 2, id, thumb)); !bytes.Equal(out.Bytes(), want) {
		t.Fatal("a thumbnails section is not the definition's")
	}
}

func TestSectionRefusesTamperedPhotoKeepsTheRest(t *testing.T) {
	k := testKey()
	src := newStore(t, DefaultConfig())
	var ids []string
	for i := range 3 {
		a, err := src.Add(bytes.NewReader(jpegOf(t, picture(300, 200, 20+i), 90)))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.ID)
	}
	var b bytes.Buffer
	if _, err := src.WriteSection(&b, FullPhotos, nil, signer(k)); err != nil {
		t.Fatal(err)
	}
	// Alter a byte in the middle of the first full image's bytes.
	sec := b.Bytes()
	full0 := readAll(t, src, ids[0], Full)
	i := bytes.Index(sec, full0)
	if i < 0 {
		t.Fatal("the full image is not in the section")
	}
	sec[i+len(full0)/2] ^= 0x10
	dst := newStore(t, DefaultConfig())
	res, err := dst.ReadSection(bytes.NewReader(sec), verifier(k.Public().(ed25519.PublicKey)))
	if err != nil {
		t.Fatal(err)
	}
	if res.Kept != 5 || res.Refused != 1 || !strings.Contains(res.Reasons[0], "does not match its hash") {
		t.Fatalf("read %+v; want 5 kept, the altered one refused", res)
	}
	if p, _ := dst.Info(ids[0]); p.Has(Full) || !p.Has(Thumb) {
		t.Fatalf("the altered photo: %+v", p)
	}
	// An altered header fails its signature: the section stops there.
	b.Reset()
	src.WriteSection(&b, Thumbs, nil, signer(k))
	sec = b.Bytes()
	sec[len(SectionMagic)+1+32+5] ^= 1 // in the first entry's sum
	dst = newStore(t, DefaultConfig())
	if _, err := dst.ReadSection(bytes.NewReader(sec), verifier(k.Public().(ed25519.PublicKey))); !errors.Is(err, ErrSection) || !strings.Contains(err.Error(), "signature") {
		t.Fatalf("an altered entry header: %v", err)
	}
	// Another key's section is refused.
	if _, err := newStore(t, DefaultConfig()).ReadSection(bytes.NewReader(b.Bytes()), verifier(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32)).Public().(ed25519.PublicKey))); !errors.Is(err, ErrSection) {
		t.Fatalf("another writer's section: %v", err)
	}
}

func FuzzOrientation(f *testing.F) {
	j := jpegOf(f, picture(8, 8, 0), 80)
	f.Add(j)
	f.Add(withOrientation(j, 6, binary.LittleEndian))
	f.Add(withOrientation(j, 8, binary.BigEndian))
	f.Fuzz(func(t *testing.T, b []byte) {
		if o := Orientation(b); o < 1 || o > 8 {
			t.Fatalf("orientation %d", o)
		}
	})
}

func FuzzReadSection(f *testing.F) {
	k := testKey()
	golden, err := os.ReadFile("testdata/section-v1.golden")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(golden)
	f.Add(section(k))
	f.Add(section(k, entry(k, 2, strings.Repeat("ab", 32), []byte("not a jpeg"))))
	verify := verifier(k.Public().(ed25519.PublicKey))
	s := newStore(f, DefaultConfig())
	f.Fuzz(func(t *testing.T, b []byte) {
		res, _ := s.ReadSection(bytes.NewReader(b), verify)
		if res.Kept+res.Had+res.Refused > len(b)/entryHead {
			t.Fatalf("%+v from %d bytes", res, len(b))
		}
	})
}

func BenchmarkAdd12Megapixels(b *testing.B) {
	img := picture(4000, 3000, 5)
	for i := range img.Pix {
		img.Pix[i] ^= uint8(i*2654435761>>17) & 0x1F
	}
	src := jpegOf(b, img, 92)
	b.SetBytes(int64(len(src)))
	s := newStore(b, DefaultConfig())
	b.ResetTimer()
	// After the first round the photo is held, and Add writes nothing:
	// what is measured is mostly decoding, shrinking and encoding.
	for b.Loop() {
		if _, err := s.Add(bytes.NewReader(src)); err != nil {
			b.Fatal(err)
		}
	}
}

// A photo whose thumbnail came first (from a bundle) and that is then
// added here gets its full image, and keeps when it came.
func TestAddCompletesAPhotoHeldInPart(t *testing.T) {
	src := jpegOf(t, picture(700, 500, 30), 90)
	a := newStore(t, DefaultConfig())
	first, err := a.Add(bytes.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	b := newStore(t, DefaultConfig())
	r, err := b.Receive(first.ID, Thumb, first.ThumbHash)
	if err != nil {
		t.Fatal(err)
	}
	r.Write(readAll(t, a, first.ID, Thumb))
	got, err := r.Commit()
	if err != nil || got.Has(Full) {
		t.Fatalf("received the thumbnail: %+v, %v", got, err)
	}
	again, err := b.Add(bytes.NewReader(src))
	if err != nil || again.Had || again.ID != first.ID || !again.Has(Full) || !again.Added.Equal(got.Added) {
		t.Fatalf("added where only its thumbnail was: %+v (%v), want the full image and the time the thumbnail came (%v)", again, err, got.Added)
	}
}

// Temporary files a kill left behind go when the store is next opened,
// once old enough not to be another process's write in progress.
func TestOpenRemovesStaleTemporaryFiles(t *testing.T) {
	s := newStore(t, DefaultConfig())
	shard := filepath.Join(s.dir, "ab")
	os.MkdirAll(shard, 0o700)
	old, fresh := filepath.Join(shard, ".ab12.full.123.tmp"), filepath.Join(shard, "ab12.full.part")
	os.WriteFile(old, []byte("x"), 0o600)
	os.WriteFile(fresh, []byte("x"), 0o600)
	long := time.Now().Add(-2 * staleAfter)
	os.Chtimes(old, long, long)
	if _, err := Open(s.dir, s.secret, DefaultConfig()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(old); err == nil {
		t.Fatal("a stale temporary file stayed")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Fatal("a fresh temporary file was removed: another process may be writing it")
	}
}

// A proof ConfirmWith keeps stays beside the photo: read back, after a
// confirmation without one, and once the photo is added again; one past
// MaxProof is refused.
func TestConfirmWithKeepsTheProof(t *testing.T) {
	s := newStore(t, DefaultConfig())
	a, err := s.Add(bytes.NewReader(jpegOf(t, picture(300, 200, 5), 90)))
	if err != nil {
		t.Fatal(err)
	}
	proof := bytes.Repeat([]byte{0x5a}, 80)
	if err := s.ConfirmWith(a.ID, proof); err != nil {
		t.Fatal(err)
	}
	if err := s.Confirm(a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Add(bytes.NewReader(jpegOf(t, picture(300, 200, 5), 90))); err != nil {
		t.Fatal(err)
	}
	if p, err := s.Info(a.ID); err != nil || !p.Confirmed || !bytes.Equal(p.Proof, proof) {
		t.Fatalf("confirmed %v, proof %x (%v); want the proof kept", p.Confirmed, p.Proof, err)
	}
	if err := s.ConfirmWith(a.ID, make([]byte, MaxProof+1)); err == nil {
		t.Fatal("a proof past the bound was kept")
	}
}

// A stick's thumbnail over the bounds of a thumbnail (bytes, or pixels
// its header claims) is refused, and the entries after it are read.
func TestSectionRefusesAThumbnailOverItsBounds(t *testing.T) {
	k := testKey()
	small := jpegOf(t, picture(64, 48, 1), 75)
	heavy := append(bytes.Clone(small), make([]byte, 2<<20)...)
	wide := jpegOf(t, picture(1200, 800, 2), 30)
	ok := jpegOf(t, picture(256, 170, 3), 75)
	id := func(seed string) string { s := sha256.Sum256([]byte(seed)); return hex.EncodeToString(s[:]) }
	sec := section(k, entry(k, 2, id("heavy"), heavy), entry(k, 2, id("wide"), wide), entry(k, 2, id("ok"), ok))
	s := newStore(t, DefaultConfig())
	res, err := s.ReadSection(bytes.NewReader(sec), verifier(k.Public().(ed25519.PublicKey)))
	if err != nil {
		t.Fatal(err)
	}
	if res.Kept != 1 || res.Refused != 2 || !strings.Contains(res.Reasons[0], "too large") || !strings.Contains(res.Reasons[1], "1200×800") {
		t.Fatalf("read %+v; want the thumbnails of 2 MiB and of 1200×800 refused, the third kept", res)
	}
	for _, seed := range []string{"heavy", "wide"} {
		if p, err := s.Info(id(seed)); err == nil && p.Has(Thumb) {
			t.Fatalf("the %s thumbnail is kept", seed)
		}
	}
	if p, err := s.Info(id("ok")); err != nil || !p.Has(Thumb) {
		t.Fatalf("the thumbnail after them: %+v, %v", p, err)
	}
}

// bitWriter writes a JPEG's entropy-coded bits, most significant first,
// a 0 stuffed after each 0xFF byte (T.81, F.1.2.3).
type bitWriter struct {
	out []byte
	acc byte
	n   uint
}

func (w *bitWriter) put(v uint32, n uint) {
	for i := int(n) - 1; i >= 0; i-- {
		w.acc = w.acc<<1 | byte(v>>uint(i)&1)
		if w.n++; w.n == 8 {
			w.out = append(w.out, w.acc)
			if w.acc == 0xFF {
				w.out = append(w.out, 0)
			}
			w.acc, w.n = 0, 0
		}
	}
}

// bytes pads the last byte with 1 bits (T.81, F.1.2.3).
func (w *bitWriter) bytes() []byte {
	for w.n != 0 {
		w.put(1, 1)
	}
	return w.out
}

// progressiveJPEG is a grey w×h progressive JPEG (T.81, annex G) of
// 1 + acScans scans: the DC scan, every block's difference 0, then acScans
// scans of the AC coefficients 1 to 63, each one end-of-band run over
// every block. Each scan is a pass over every block of the image, for a
// few bytes of the file.
func progressiveJPEG(w, h, acScans int) []byte {
	seg := func(marker byte, body []byte) []byte {
		out := binary.BigEndian.AppendUint16([]byte{0xFF, marker}, uint16(len(body)+2))
		return append(out, body...)
	}
	out := []byte{0xFF, 0xD8}
	out = append(out, seg(0xDB, append([]byte{0}, bytes.Repeat([]byte{1}, 64)...))...) // DQT: table 0, all 1
	sof := binary.BigEndian.AppendUint16([]byte{8}, uint16(h))
	sof = binary.BigEndian.AppendUint16(sof, uint16(w))
	out = append(out, seg(0xC2, append(sof, 1, 1, 0x11, 0))...) // SOF2: one component, 1×1, table 0
	// DHT: DC table 0, one code of 1 bit for category 0; AC table 0,
	// fifteen codes of 4 bits for EOBn, n = 0 to 14 (symbol n<<4).
	dc := append([]byte{0x00, 1}, make([]byte, 15)...)
	out = append(out, seg(0xC4, append(dc, 0))...)
	ac := append([]byte{0x10, 0, 0, 0, 15}, make([]byte, 12)...)
	for n := range 15 {
		ac = append(ac, byte(n<<4))
	}
	out = append(out, seg(0xC4, ac)...)
	blocks := ((w + 7) / 8) * ((h + 7) / 8)
	out = append(out, seg(0xDA, []byte{1, 1, 0x00, 0, 0, 0})...) // the DC scan
	var dcBits bitWriter
	for range blocks {
		dcBits.put(0, 1)
	}
	out = append(out, dcBits.bytes()...)
	for range acScans {
		out = append(out, seg(0xDA, []byte{1, 1, 0x00, 1, 63, 0})...)
		var b bitWriter
		for left := blocks; left > 0; {
			run := min(left, 1<<15-1)
			n := uint(0)
			for 1<<(n+1) <= run {
				n++
			}
			b.put(uint32(n), 4)
			b.put(uint32(run-1<<n), n)
			left -= run
		}
		out = append(out, b.bytes()...)
	}
	return append(out, 0xFF, 0xD9)
}

// A JPEG of many scans makes its decoder pass over every block of the
// image once a scan: 190 KB of 1,000 scans over 7,000 × 7,000 pixels took
// 16 s to decode. One over MaxScans is refused before it is decoded,
// added or received (by a session or a stick); a progressive JPEG as
// encoders make them, of ten scans, is taken.
func TestAJPEGOfTooManyScansIsRefused(t *testing.T) {
	s := newStore(t, DefaultConfig())
	ten := progressiveJPEG(640, 480, 9)
	if _, err := jpeg.Decode(bytes.NewReader(ten)); err != nil {
		t.Fatalf("the test's progressive JPEG does not decode: %v", err)
	}
	if _, err := s.Add(bytes.NewReader(ten)); err != nil {
		t.Fatalf("a progressive JPEG of ten scans: %v", err)
	}
	bomb := progressiveJPEG(640, 480, 2000)
	if _, err := s.Add(bytes.NewReader(bomb)); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "scans") {
		t.Fatalf("adding a JPEG of 2,001 scans: %v, want ErrTooLarge naming the scans", err)
	}
	sum := sha256.Sum256(bomb)
	id := hex.EncodeToString(sum[:])
	r, err := s.Receive(id, Full, id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Write(bomb); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Commit(); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "scans") {
		t.Fatalf("receiving a JPEG of 2,001 scans: %v, want ErrTooLarge naming the scans", err)
	}
	k := testKey()
	res, err := s.ReadSection(bytes.NewReader(section(k, entry(k, 1, id, bomb))), verifier(k.Public().(ed25519.PublicKey)))
	if err != nil || res.Kept != 0 || res.Refused != 1 {
		t.Fatalf("a stick's JPEG of 2,001 scans: %+v, %v; want it refused", res, err)
	}
	if list, _ := s.List(); len(list) != 1 {
		t.Fatalf("the store holds %d photos; want the one of ten scans", len(list))
	}
}

// The budget is read for each full image a peer sends, as it begins and as
// it is kept, under the store's lock: a modified laptop may send made-up
// photos of two chunks each, as fast as its link goes. Before, each
// reading read the metadata of every photo held (0.67 s with 20,000
// photos); now it reads again only the shard folders that changed since,
// whichever process changed them, and costs fewer allocations than there
// are photos held.
func TestTheBudgetReadsOnlyWhatChanged(t *testing.T) {
	cfg := DefaultConfig()
	cfg.BudgetMiB = 2048
	s := newStore(t, cfg)
	const held = 4000
	for i := range held {
		sum := sha256.Sum256(binary.BigEndian.AppendUint32(nil, uint32(i)))
		id := hex.EncodeToString(sum[:])
		if err := os.MkdirAll(filepath.Join(s.dir, id[:2]), 0o700); err != nil {
			t.Fatal(err)
		}
		for path, n := range map[string]int{s.path(id, Full): 1000, s.path(id, Thumb): 100} {
			if err := os.WriteFile(path, make([]byte, n), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(s.metaPath(id), []byte(`{"added":"2026-11-20T10:00:00Z"}`), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// Held since an hour ago.
	shards, err := os.ReadDir(s.dir)
	if err != nil {
		t.Fatal(err)
	}
	ago := time.Now().Add(-time.Hour)
	for _, d := range shards {
		if err := os.Chtimes(filepath.Join(s.dir, d.Name()), ago, ago); err != nil {
			t.Fatal(err)
		}
	}
	b, err := s.Budget()
	if err != nil || b.Photos != held || b.Full != held || b.Thumbs != held || b.Used != held*1100 {
		t.Fatalf("the budget: %+v, %v; want %d photos, each a full image and a thumbnail, %d bytes", b, err, held, held*1100)
	}
	if n := testing.AllocsPerRun(5, func() { s.Budget() }); n >= held {
		t.Fatalf("reading the budget of %d photos held makes %.0f allocations, one per photo or more", held, n)
	}
	// Over the budget, with nothing it may drop (no original, no full
	// image headquarters confirmed): a made-up full image of two chunks is
	// refused as it begins, and looking for what to drop reads no photo.
	limit := s.limit
	s.mu.Lock()
	s.limit = 1 << 20
	s.mu.Unlock()
	made := sha256.Sum256([]byte("a made-up photo"))
	madeID := hex.EncodeToString(made[:])
	refused := 0
	if n := testing.AllocsPerRun(5, func() {
		if _, _, err := s.ReceiveChunk("a peer", madeID, Full, madeID, ChunkBytes+1, 0, make([]byte, ChunkBytes)); errors.Is(err, ErrOverBudget) {
			refused++
		}
	}); n >= held || refused != 6 {
		t.Fatalf("a full image begun over the budget of %d photos held: refused %d times of 6, %.0f allocations each; want every one refused, with fewer allocations than photos", held, refused, n)
	}
	s.mu.Lock()
	s.limit = limit
	s.mu.Unlock()

	// A full image received, and one another process on the folder adds:
	// both counted.
	id, full := bigJPEG(t, 100, 80, 7)
	if _, done, err := s.ReceiveChunk("", id, Full, id, int64(len(full)), 0, full); err != nil || !done {
		t.Fatalf("a full image of one chunk: done %v, %v", done, err)
	}
	other, err := Open(s.dir, s.secret, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Add(bytes.NewReader(jpegOf(t, picture(300, 200, 3), 90))); err != nil {
		t.Fatal(err)
	}
	b, err = s.Budget()
	if err != nil || b.Photos != held+2 {
		t.Fatalf("after one received and one added by another process: %+v, %v; want %d photos", b, err, held+2)
	}
	var want int64 = held * 1100
	list, err := other.List()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range list {
		if len(p.ID) == 64 && p.Added.After(ago) {
			for k := range p.Bytes {
				fi, err := os.Stat(s.path(p.ID, k))
				if err != nil {
					t.Fatal(err)
				}
				want += fi.Size()
			}
		}
	}
	if b.Used != want {
		t.Fatalf("after one received and one added by another process: %d bytes used, the files take %d", b.Used, want)
	}
}
