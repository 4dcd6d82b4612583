package photos

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
)

// ErrFormat is wrapped by the refusal of a file that is no JPEG or PNG.
var ErrFormat = errors.New("not a JPEG or PNG photo")

// ErrTooLarge is wrapped by the refusal of a file or image over the
// bounds (MaxFileBytes, MaxPixels).
var ErrTooLarge = errors.New("photo too large")

// format names a file's image format by its first bytes: "jpeg", "png",
// "heic", or "" for anything else.
func format(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}):
		return "jpeg"
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return "png"
	case len(b) >= 12 && string(b[4:8]) == "ftyp":
		switch string(b[8:12]) {
		case "heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1", "avif":
			return "heic"
		}
	}
	return ""
}

// decode checks an image's header against the bounds before it decodes
// a pixel: a small file may declare a huge image.
func decode(b []byte) (image.Image, error) {
	f := format(b)
	switch f {
	case "heic":
		return nil, fmt.Errorf("%w: a HEIC/HEIF photo (as iPhones take): no pure-Go reader is good enough to trust; set the phone to take JPEG (Settings, Camera, Formats, Most Compatible) or convert it", ErrFormat)
	case "":
		return nil, fmt.Errorf("%w: its first bytes are no JPEG or PNG header", ErrFormat)
	}
	var cfg image.Config
	var err error
	if f == "jpeg" {
		cfg, err = jpeg.DecodeConfig(bytes.NewReader(b))
	} else {
		cfg, err = png.DecodeConfig(bytes.NewReader(b))
	}
	if err != nil {
		return nil, fmt.Errorf("%w: a damaged %s header: %v", ErrFormat, f, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("%w: a %s of %d×%d pixels", ErrFormat, f, cfg.Width, cfg.Height)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > MaxPixels {
		return nil, fmt.Errorf("%w: %d×%d is %.1f megapixels, over the %d the store takes", ErrTooLarge, cfg.Width, cfg.Height, float64(px)/1e6, MaxPixels/1_000_000)
	}
	if max(cfg.Width, cfg.Height) > MaxEdge {
		return nil, fmt.Errorf("%w: %d×%d is over %d pixels on its long edge", ErrTooLarge, cfg.Width, cfg.Height, MaxEdge)
	}
	if f == "jpeg" {
		var sc scans
		sc.Write(b)
		if err := sc.check(); err != nil {
			return nil, err
		}
	}
	var img image.Image
	if f == "jpeg" {
		img, err = jpeg.Decode(bytes.NewReader(b))
	} else {
		img, err = png.Decode(bytes.NewReader(b))
	}
	if err != nil {
		return nil, fmt.Errorf("%w: a damaged %s: %v", ErrFormat, f, err)
	}
	return img, nil
}

// MaxScans bounds the scans of a JPEG. A decoder passes over every block
// of the image once a scan, and a scan may be a few bytes: 190 KB of
// 1,000 scans over 7,000 × 7,000 pixels take 16 s to decode. Encoders
// write one (baseline, as this store does) or about ten (progressive).
const MaxScans = 100

// scans counts the scans of a JPEG as its bytes are written, as a decoder
// meets them (T.81, B.1, and image/jpeg's leniency): outside a segment,
// bytes up to 0xFF are passed over, as are 0xFF 0x00, fill bytes and
// restart markers; another marker but the end of the image is followed
// by its segment's length, and a start of scan (0xDA) counts one.
type scans struct {
	state  uint8
	marker byte
	skip   int // bytes left of the segment
	n      int
}

const (
	scanSeek = iota
	scanMarker
	scanLen1
	scanLen2
	scanSegment
	scanEnd
)

func (c *scans) Write(p []byte) (int, error) {
	for i := 0; i < len(p); i++ {
		b := p[i]
		switch c.state {
		case scanSeek:
			if b == 0xFF {
				c.state = scanMarker
			}
		case scanMarker:
			switch {
			case b == 0xFF:
			case b == 0xD9:
				c.state = scanEnd
			case b == 0x00 || b == 0x01 || b >= 0xD0 && b <= 0xD8:
				c.state = scanSeek
			default:
				c.marker, c.state = b, scanLen1
			}
		case scanLen1:
			c.skip, c.state = int(b)<<8, scanLen2
		case scanLen2:
			c.skip += int(b) - 2
			if c.marker == 0xDA {
				c.n++
			}
			c.state = scanSegment
			if c.skip <= 0 {
				c.state = scanSeek
			}
		case scanSegment:
			k := min(c.skip, len(p)-i)
			i += k - 1
			if c.skip -= k; c.skip == 0 {
				c.state = scanSeek
			}
		case scanEnd:
			return len(p), nil
		}
	}
	return len(p), nil
}

// check refuses a JPEG of more than MaxScans scans.
func (c *scans) check() error {
	if c.n > MaxScans {
		return fmt.Errorf("%w: a JPEG of %d scans or more, over the %d the store takes", ErrTooLarge, c.n, MaxScans)
	}
	return nil
}

// fit is the size of w×h shrunk to a long edge of at most edge, never
// grown.
func fit(w, h, edge int) (int, int) {
	long := max(w, h)
	if long <= edge {
		return w, h
	}
	return max(1, (w*edge+long/2)/long), max(1, (h*edge+long/2)/long)
}

// shrink averages the pixels of src into an image of dw×dh (each no
// larger than src's): a box filter, which is what downscaling a photo
// needs. Transparent pixels are laid on white, since JPEG has no alpha.
func shrink(src image.Image, dw, dh int) *image.RGBA {
	b := src.Bounds()
	sw, sh := b.Dx(), b.Dy()
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	xmap := make([]int, sw)
	for x := range sw {
		xmap[x] = x * dw / sw
	}
	acc := make([]uint64, dw*3)
	cnt := make([]uint64, dw)
	row := make([]uint8, sw*3)
	flush := func(dy int) {
		o := dst.Pix[dy*dst.Stride:]
		for x := range dw {
			c := max(cnt[x], 1)
			o[4*x], o[4*x+1], o[4*x+2], o[4*x+3] = uint8(acc[3*x]/c), uint8(acc[3*x+1]/c), uint8(acc[3*x+2]/c), 0xFF
		}
		clear(acc)
		clear(cnt)
	}
	cur := 0
	for sy := range sh {
		if dy := sy * dh / sh; dy != cur {
			flush(cur)
			cur = dy
		}
		readRow(src, b.Min.Y+sy, row)
		for x := range sw {
			dx := xmap[x]
			acc[3*dx] += uint64(row[3*x])
			acc[3*dx+1] += uint64(row[3*x+1])
			acc[3*dx+2] += uint64(row[3*x+2])
			cnt[dx]++
		}
	}
	flush(cur)
	return dst
}

// readRow reads one row of src as 8-bit RGB, fast for what JPEG and the
// common PNGs decode to.
func readRow(src image.Image, y int, row []uint8) {
	b := src.Bounds()
	switch m := src.(type) {
	case *image.YCbCr:
		yo := (y - m.Rect.Min.Y) * m.YStride
		for x := b.Min.X; x < b.Max.X; x++ {
			i := 3 * (x - b.Min.X)
			c := m.COffset(x, y)
			row[i], row[i+1], row[i+2] = color.YCbCrToRGB(m.Y[yo+x-m.Rect.Min.X], m.Cb[c], m.Cr[c])
		}
	case *image.RGBA:
		// What the full image is when the thumbnail is made. Premultiplied:
		// laid on white, what alpha leaves is added.
		o := m.PixOffset(b.Min.X, y)
		for x := range b.Dx() {
			p := m.Pix[o+4*x : o+4*x+4]
			w := 0xFF - p[3]
			row[3*x], row[3*x+1], row[3*x+2] = p[0]+w, p[1]+w, p[2]+w
		}
	case *image.Gray:
		for x := b.Min.X; x < b.Max.X; x++ {
			i := 3 * (x - b.Min.X)
			g := m.Pix[m.PixOffset(x, y)]
			row[i], row[i+1], row[i+2] = g, g, g
		}
	default:
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := src.At(x, y).RGBA()
			// Premultiplied: laying it on white adds what alpha leaves.
			w := 0xFFFF - a
			i := 3 * (x - b.Min.X)
			row[i], row[i+1], row[i+2] = uint8((r+w)>>8), uint8((g+w)>>8), uint8((bl+w)>>8)
		}
	}
}

// orient turns an image as EXIF orientation o says it must be turned to
// be seen upright.
func orient(src *image.RGBA, o int) *image.RGBA {
	if o <= 1 || o > 8 {
		return src
	}
	w, h := src.Rect.Dx(), src.Rect.Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := range dh {
		for x := range dw {
			var sx, sy int
			switch o {
			case 2: // mirrored
				sx, sy = w-1-x, y
			case 3: // upside down
				sx, sy = w-1-x, h-1-y
			case 4: // mirrored upside down
				sx, sy = x, h-1-y
			case 5: // mirrored, turned a quarter counter-clockwise
				sx, sy = y, x
			case 6: // to be turned a quarter clockwise
				sx, sy = y, h-1-x
			case 7: // mirrored, turned a quarter clockwise
				sx, sy = w-1-y, h-1-x
			case 8: // to be turned a quarter counter-clockwise
				sx, sy = w-1-y, x
			}
			copy(dst.Pix[y*dst.Stride+4*x:y*dst.Stride+4*x+4], src.Pix[sy*src.Stride+4*sx:])
		}
	}
	return dst
}

// encodeJPEG writes img as a JPEG of quality q.
func encodeJPEG(img image.Image, q int) ([]byte, error) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
