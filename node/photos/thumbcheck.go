package photos

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"os"
)

// A thumbnail is made from the picture before its full image is encoded,
// so no node can make it again from the full image byte for byte. But it
// is the full image shrunk: compared with the full image shrunk to its
// size, block by block, one of the photo differs little (its own JPEG's
// loss), and another picture, or the photo with something drawn on it or
// its colours changed, differs much. So a node that holds the full image
// (its id is its hash: it is the photo as taken) checks a thumbnail
// against it.
//
// Measured on Add's thumbnails (JPEG quality 82 and 75, as DefaultConfig
// makes them) of drawn pictures, at most 11 levels of 255 in a block's
// brightness and in its mean colour; of noise, 14 and 17; made at quality
// 30, 17 and 26. Another picture: 171 and 230; the photo with a bar of
// white text drawn over a sixth of it: 83 and 147; its colours turned
// (red to blue, green to red): 73 and 215. The bounds lie between.
const (
	maxThumbBright = 48
	maxThumbColour = 48
)

// ErrNotItsThumb is wrapped by the refusal of a thumbnail that is not of
// the full image this store holds of its photo.
var ErrNotItsThumb = errors.New("thumbnail not of its photo")

// checkThumb checks a thumbnail (its JPEG bytes) against the full image of
// photo id this store holds; nil when it holds none, or one that does not
// decode (its bytes are the photo's all the same: it shows nothing, and
// the thumbnail cannot be checked).
func (s *Store) checkThumb(id string, thumb []byte) error {
	rc, err := s.Open(id, Full)
	if err != nil {
		return nil
	}
	full, err := jpeg.Decode(rc)
	rc.Close()
	if err != nil {
		return nil
	}
	t, err := jpeg.Decode(bytes.NewReader(thumb))
	if err != nil {
		return fmt.Errorf("%w: %s: it does not decode: %v", ErrNotItsThumb, id, err)
	}
	bright, colour, ok := thumbDiff(full, t)
	switch {
	case !ok:
		return fmt.Errorf("%w: %s: a thumbnail of %d×%d, not of the shape of the full image held (%d×%d)", ErrNotItsThumb, id, t.Bounds().Dx(), t.Bounds().Dy(), full.Bounds().Dx(), full.Bounds().Dy())
	case bright > maxThumbBright || colour > maxThumbColour:
		return fmt.Errorf("%w: %s: a block of it differs from the full image held by %.0f levels of brightness and %.0f of colour, at most %d of each", ErrNotItsThumb, id, bright, colour, maxThumbBright)
	}
	return nil
}

// dropBadThumb drops the thumbnail held of photo id, which came before its
// full image, when it is not of the full image: another is then asked for.
// A thumbnail that does not read stays as it is. It is called with mu
// held.
func (s *Store) dropBadThumb(id string) {
	p, err := s.info(id)
	if err != nil || !p.Has(Thumb) {
		return
	}
	rc, err := s.Open(id, Thumb)
	if err != nil {
		return
	}
	b, err := io.ReadAll(io.LimitReader(rc, MaxThumbBytes))
	rc.Close()
	if err != nil || s.checkThumb(id, b) == nil {
		return
	}
	p.ThumbHash = ""
	if s.writeMeta(p) == nil {
		os.Remove(s.path(id, Thumb))
	}
}

// thumbDiff compares a thumbnail with the full image shrunk to its size,
// as Add makes one, by 8×8 blocks of the thumbnail: the largest mean
// absolute difference of brightness in a block (which a JPEG keeps at
// every pixel), and the largest difference of a block's mean colour (a
// JPEG keeps its colours at every other pixel, so they differ pixel by
// pixel where the picture is the same), in 8-bit levels. A thumbnail not
// of the full image's shape is no thumbnail of it (ok false).
func thumbDiff(full, thumb image.Image) (bright, colour float64, ok bool) {
	fb, tb := full.Bounds(), thumb.Bounds()
	tw, th := tb.Dx(), tb.Dy()
	if w, h := fit(fb.Dx(), fb.Dy(), max(tw, th)); w != tw || h != th {
		return 0, 0, false
	}
	want := shrink(full, tw, th)
	row := make([]uint8, tw*3)
	bw := (tw + 7) / 8
	blocks := make([]struct {
		bright, n int64
		rgb       [3]int64
	}, bw*((th+7)/8))
	for y := range th {
		readRow(thumb, tb.Min.Y+y, row)
		w := want.Pix[y*want.Stride:]
		for x := range tw {
			b := &blocks[y/8*bw+x/8]
			b.bright += abs(luma(row[3*x:]) - luma(w[4*x:]))
			for c := range 3 {
				b.rgb[c] += int64(row[3*x+c]) - int64(w[4*x+c])
			}
			b.n++
		}
	}
	for _, b := range blocks {
		bright = max(bright, float64(b.bright)/1000/float64(b.n))
		for c := range 3 {
			colour = max(colour, float64(abs(b.rgb[c]))/float64(b.n))
		}
	}
	return bright, colour, true
}

// luma is the brightness of an RGB pixel (ITU-R BT.601, as JPEG's Y), in
// thousandths of a level.
func luma(p []uint8) int64 { return 299*int64(p[0]) + 587*int64(p[1]) + 114*int64(p[2]) }

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
