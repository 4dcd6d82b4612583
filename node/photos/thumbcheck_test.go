package photos

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"image"
	"image/color"
	"testing"
)

// receiveAll receives b whole as a kind of photo id, announced by its
// own hash.
func receiveAll(s *Store, id string, k Kind, b []byte) error {
	sum := sha256.Sum256(b)
	r, err := s.Receive(id, k, hex.EncodeToString(sum[:]))
	if err != nil {
		return err
	}
	if _, err := r.Write(b); err != nil {
		r.Abort()
		return err
	}
	_, err = r.Commit()
	return err
}

// forgedThumbs are thumbnails a modified node may send for a photo whose
// thumbnail is thumb: another picture of the same size, the photo upside
// down, the photo with a white bar drawn across its middle, the photo with
// its colours turned, and the photo cut to another shape.
func forgedThumbs(t *testing.T, thumb []byte) map[string][]byte {
	t.Helper()
	src := decodeJPEG(t, thumb)
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	other, flipped, barred, turned := image.NewRGBA(b), image.NewRGBA(b), image.NewRGBA(b), image.NewRGBA(b)
	for y := range h {
		for x := range w {
			r, g, bl, _ := src.At(b.Min.X+x, b.Min.Y+y).RGBA()
			c := color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8), 255}
			other.SetRGBA(x, y, color.RGBA{uint8(x), 180, uint8(y), 255})
			flipped.SetRGBA(w-1-x, h-1-y, c)
			barred.SetRGBA(x, y, c)
			if y > h/3 && y < h/2 {
				barred.SetRGBA(x, y, color.RGBA{255, 255, 255, 255})
			}
			turned.SetRGBA(x, y, color.RGBA{c.B, c.R, c.G, 255})
		}
	}
	return map[string][]byte{
		"another picture": jpegOf(t, other, 75),
		"upside down":     jpegOf(t, flipped, 75),
		"a bar drawn":     jpegOf(t, barred, 75),
		"colours turned":  jpegOf(t, turned, 75),
		"another shape":   jpegOf(t, barred.SubImage(image.Rect(0, 0, w, h/2)), 75),
	}
}

// A node that holds a photo's full image takes only a thumbnail of it:
// each forged one is refused, and the photo's own taken. Before, the
// first thumbnail that came was kept, whatever it showed.
func TestAThumbnailNotOfItsPhotoIsRefused(t *testing.T) {
	src := newStore(t, DefaultConfig())
	a, err := src.Add(bytes.NewReader(jpegOf(t, picture(1200, 800, 2), 90)))
	if err != nil {
		t.Fatal(err)
	}
	full, thumb := readAll(t, src, a.ID, Full), readAll(t, src, a.ID, Thumb)
	dst := newStore(t, DefaultConfig())
	if err := receiveAll(dst, a.ID, Full, full); err != nil {
		t.Fatal(err)
	}
	for what, forged := range forgedThumbs(t, thumb) {
		if err := receiveAll(dst, a.ID, Thumb, forged); !errors.Is(err, ErrNotItsThumb) {
			t.Errorf("%s: %v; want it refused as not of its photo", what, err)
		}
		if p, _ := dst.Info(a.ID); p.Has(Thumb) {
			t.Fatalf("%s: kept", what)
		}
	}
	if err := receiveAll(dst, a.ID, Thumb, thumb); err != nil {
		t.Fatalf("the photo's own thumbnail: %v", err)
	}
	if p, _ := dst.Info(a.ID); p.ThumbHash != a.ThumbHash || !bytes.Equal(readAll(t, dst, a.ID, Thumb), thumb) {
		t.Fatal("the photo's own thumbnail is not what is held")
	}
}

// A thumbnail that comes before its full image is held unchecked until the
// full image comes, and dropped then if it is not of it: the photo's own
// is then taken. And the node that took the photo, adding it again, keeps
// its own thumbnail, not the one received. Before, the first thumbnail
// kept stayed for good, and Add kept it while listing its own thumbnail's
// hash, so that the node then sent bytes that did not match what it
// declared.
func TestAThumbnailBeforeItsPhotoIsCheckedWhenThePhotoComes(t *testing.T) {
	img := jpegOf(t, picture(1200, 800, 3), 90)
	src := newStore(t, DefaultConfig())
	a, err := src.Add(bytes.NewReader(img))
	if err != nil {
		t.Fatal(err)
	}
	full, thumb := readAll(t, src, a.ID, Full), readAll(t, src, a.ID, Thumb)
	forged := forgedThumbs(t, thumb)["a bar drawn"]
	dst := newStore(t, DefaultConfig())
	if err := receiveAll(dst, a.ID, Thumb, forged); err != nil {
		t.Fatalf("a thumbnail before its full image: %v; want it held", err)
	}
	if err := receiveAll(dst, a.ID, Full, full); err != nil {
		t.Fatal(err)
	}
	if p, _ := dst.Info(a.ID); p.Has(Thumb) || p.ThumbHash != "" || !p.Has(Full) {
		t.Fatalf("after the full image: %+v; want the full image and no thumbnail", p)
	}
	if err := receiveAll(dst, a.ID, Thumb, thumb); err != nil {
		t.Fatalf("the photo's own thumbnail: %v", err)
	}

	taker := newStore(t, DefaultConfig())
	if err := receiveAll(taker, a.ID, Thumb, forged); err != nil {
		t.Fatal(err)
	}
	if _, err := taker.Add(bytes.NewReader(img)); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(readAll(t, taker, a.ID, Thumb))
	if p, _ := taker.Info(a.ID); p.ThumbHash != a.ThumbHash || hex.EncodeToString(sum[:]) != a.ThumbHash {
		t.Fatalf("the taker lists thumbnail %.12s and holds %.12x; want its own, %.12s", p.ThumbHash, sum, a.ThumbHash)
	}
}
