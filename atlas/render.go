package atlas

import (
	"image"
	"image/color"
	"image/draw"
	"math"
	"strconv"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"
)

// The map's colours. The damage ramp is ColorBrewer's YlOrRd, which readers
// with any common colour-vision deficiency see as a ramp from light to dark;
// levels 3 and 4 are also drawn larger and outlined darker.
var (
	Sea        = color.RGBA{0xcf, 0xe3, 0xef, 0xff}
	Land       = color.RGBA{0xf4, 0xf1, 0xe8, 0xff}
	Abroad     = color.RGBA{0xdd, 0xda, 0xd2, 0xff}
	borderInk  = color.RGBA{0x5a, 0x5a, 0x5a, 0xff}
	abroadInk  = color.RGBA{0xa8, 0xa4, 0x9a, 0xff}
	textInk    = color.RGBA{0x22, 0x22, 0x22, 0xff}
	white      = color.RGBA{0xff, 0xff, 0xff, 0xff}
	clusterInk = color.RGBA{0x33, 0x33, 0x33, 0xff}

	// DamageColors are the fills of damage levels 0 to 4.
	DamageColors = [5]color.RGBA{
		{0xff, 0xff, 0xb2, 0xff},
		{0xfe, 0xcc, 0x5c, 0xff},
		{0xfd, 0x8d, 0x3c, 0xff},
		{0xf0, 0x3b, 0x20, 0xff},
		{0xbd, 0x00, 0x26, 0xff},
	}
	unassessed = color.RGBA{0xbd, 0xbd, 0xbd, 0xff}

	// Shelter fills: room, nearly full (80% or more), full or over.
	shelterRoom   = color.RGBA{0x92, 0xc5, 0xde, 0xff}
	shelterNearly = color.RGBA{0x21, 0x66, 0xac, 0xff}
	shelterFull   = color.RGBA{0x05, 0x30, 0x61, 0xff}
	shelterInk    = color.RGBA{0x21, 0x66, 0xac, 0xff}

	missingFill = color.RGBA{0x76, 0x2a, 0x83, 0xff}
)

var fonts = sync.OnceValues(func() (*opentype.Font, *opentype.Font) {
	regular, err := opentype.Parse(goregular.TTF)
	if err != nil {
		panic("atlas: Go regular font: " + err.Error())
	}
	bold, err := opentype.Parse(gobold.TTF)
	if err != nil {
		panic("atlas: Go bold font: " + err.Error())
	}
	return regular, bold
})

// faces are made per drawing: a font.Face is not safe for concurrent use.
func faces(px float64) (regular, bold font.Face) {
	r, b := fonts()
	opts := &opentype.FaceOptions{Size: px, DPI: 72, Hinting: font.HintingFull}
	regular, _ = opentype.NewFace(r, opts) // errors only for bad options
	bold, _ = opentype.NewFace(b, opts)
	return regular, bold
}

// Render draws the map of view v into img, filling all of it: the sea, the
// neighbouring countries, the districts with their names, then the points
// (clustered where they would overlap, see Cluster) and, when the image is
// large enough, a legend in language lang ("en" or "es"; others read
// English). The view is fitted to the image's size first. It returns the
// marks it drew, for Hit. Render may be called from several goroutines at
// once, on different images.
func Render(img *image.RGBA, v View, points []Point, lang string) []Mark {
	b := img.Bounds()
	v = v.Resize(b.Dx(), b.Dy())
	// Draw in the image's own coordinates, whatever its origin.
	dst := &image.RGBA{Pix: img.Pix[img.PixOffset(b.Min.X, b.Min.Y):], Stride: img.Stride, Rect: image.Rect(0, 0, b.Dx(), b.Dy())}
	draw.Draw(dst, dst.Rect, image.NewUniform(Sea), image.Point{}, draw.Src)

	g := loadGeography()
	z := vector.NewRasterizer(v.Width, v.Height)
	for _, a := range g.neighbours {
		fillArea(dst, z, v, a, Abroad)
	}
	strokeAreas(dst, z, v, g.neighbours, 1, abroadInk)
	for _, a := range g.cayes {
		fillArea(dst, z, v, a, Land)
	}
	for _, a := range g.districts {
		fillArea(dst, z, v, a, Land)
	}
	strokeAreas(dst, z, v, g.cayes, 0.8, borderInk)
	strokeAreas(dst, z, v, g.districts, 1.4, borderInk)

	regular, bold := faces(13)
	defer regular.Close()
	defer bold.Close()
	for _, a := range g.districts {
		labelDistrict(dst, v, a, bold)
	}

	marks := Cluster(v, points)
	// Single points first, by layer, then clusters on top.
	for _, l := range Layers {
		for _, m := range marks {
			if m.Single() && points[m.Members[0]].Layer == l {
				drawPoint(dst, m, points[m.Members[0]])
			}
		}
	}
	for _, m := range marks {
		if !m.Single() {
			drawCluster(dst, m, points, regular)
		}
	}
	drawLegend(dst, lang, regular, bold)
	return marks
}

// box is the part of dst that an area's bounds cover, widened by pad
// pixels; empty when the area is off the view. Rasterizing only that part
// keeps a small district from costing a pass over the whole image.
func box(dst *image.RGBA, v View, bd Bounds, pad float64) image.Rectangle {
	x0, y0 := v.Project(bd.North, bd.West)
	x1, y1 := v.Project(bd.South, bd.East)
	x0, y0 = max(x0-pad, -1), max(y0-pad, -1)
	x1, y1 = min(x1+pad, float64(v.Width)+1), min(y1+pad, float64(v.Height)+1)
	if x0 >= x1 || y0 >= y1 {
		return image.Rectangle{}
	}
	return image.Rect(int(math.Floor(x0)), int(math.Floor(y0)), int(math.Ceil(x1)), int(math.Ceil(y1))).Intersect(dst.Rect)
}

func fillArea(dst *image.RGBA, z *vector.Rasterizer, v View, a Area, c color.RGBA) {
	r := box(dst, v, a.Bounds, 1)
	if r.Empty() {
		return
	}
	z.Reset(r.Dx(), r.Dy())
	ox, oy := float64(r.Min.X), float64(r.Min.Y)
	for _, p := range a.Polygons {
		for _, ring := range p {
			for i, pt := range ring {
				x, y := v.Project(pt[1], pt[0])
				if i == 0 {
					z.MoveTo(float32(x-ox), float32(y-oy))
				} else {
					z.LineTo(float32(x-ox), float32(y-oy))
				}
			}
			z.ClosePath()
		}
	}
	z.Draw(dst, r, image.NewUniform(c), image.Point{})
}

// strokeAreas draws the outlines of areas as one path of thin quadrilaterals,
// one per segment, all turning the same way so that their overlaps add up.
func strokeAreas(dst *image.RGBA, z *vector.Rasterizer, v View, areas []Area, width float64, c color.RGBA) {
	all := emptyBounds
	for _, a := range areas {
		all = all.union(a.Bounds)
	}
	r := box(dst, v, all, width+1)
	if r.Empty() {
		return
	}
	z.Reset(r.Dx(), r.Dy())
	ox, oy := float64(r.Min.X), float64(r.Min.Y)
	h := width / 2
	for _, a := range areas {
		if box(dst, v, a.Bounds, width+1).Empty() {
			continue
		}
		for _, p := range a.Polygons {
			for _, ring := range p {
				for i := 1; i < len(ring); i++ {
					x0, y0 := v.Project(ring[i-1][1], ring[i-1][0])
					x1, y1 := v.Project(ring[i][1], ring[i][0])
					quad(z, x0-ox, y0-oy, x1-ox, y1-oy, h)
				}
			}
		}
	}
	z.Draw(dst, r, image.NewUniform(c), image.Point{})
}

func quad(z *vector.Rasterizer, x0, y0, x1, y1, h float64) {
	dx, dy := x1-x0, y1-y0
	n := math.Hypot(dx, dy)
	if n == 0 {
		return
	}
	// Half a pixel past each end closes the joints.
	ex, ey := dx/n*h, dy/n*h
	nx, ny := -ey, ex
	x0, y0, x1, y1 = x0-ex, y0-ey, x1+ex, y1+ey
	z.MoveTo(float32(x0+nx), float32(y0+ny))
	z.LineTo(float32(x1+nx), float32(y1+ny))
	z.LineTo(float32(x1-nx), float32(y1-ny))
	z.LineTo(float32(x0-nx), float32(y0-ny))
	z.ClosePath()
}

// labelDistrict writes a district's name at the centroid of its largest
// polygon, if the district is wide enough on screen for it.
func labelDistrict(dst *image.RGBA, v View, a Area, face font.Face) {
	var best Polygon
	bestArea := 0.0
	for _, p := range a.Polygons {
		if ar := math.Abs(ringArea(p[0])); ar > bestArea {
			best, bestArea = p, ar
		}
	}
	if best == nil {
		return
	}
	lat, lon := centroid(best[0])
	x, y := v.Project(lat, lon)
	x0, _ := v.Project(0, a.Bounds.West)
	x1, _ := v.Project(0, a.Bounds.East)
	w := font.MeasureString(face, a.Name).Ceil()
	if float64(w) > x1-x0 {
		return
	}
	haloText(dst, face, a.Name, int(x)-w/2, int(y)+5, textInk)
}

func ringArea(r [][2]float64) float64 {
	s := 0.0
	for i, j := 0, len(r)-1; i < len(r); j, i = i, i+1 {
		s += r[j][0]*r[i][1] - r[i][0]*r[j][1]
	}
	return s / 2
}

func centroid(r [][2]float64) (lat, lon float64) {
	var cx, cy, s float64
	for i, j := 0, len(r)-1; i < len(r); j, i = i, i+1 {
		f := r[j][0]*r[i][1] - r[i][0]*r[j][1]
		cx += (r[j][0] + r[i][0]) * f
		cy += (r[j][1] + r[i][1]) * f
		s += f
	}
	if s == 0 {
		return r[0][1], r[0][0]
	}
	return cy / (3 * s), cx / (3 * s)
}

func haloText(dst *image.RGBA, face font.Face, s string, x, y int, c color.RGBA) {
	d := font.Drawer{Dst: dst, Face: face, Src: image.NewUniform(white)}
	for _, o := range [][2]int{{-1, 0}, {1, 0}, {0, -1}, {0, 1}, {-1, -1}, {1, 1}, {-1, 1}, {1, -1}} {
		d.Dot = fixed.P(x+o[0], y+o[1])
		d.DrawString(s)
	}
	d.Src = image.NewUniform(c)
	d.Dot = fixed.P(x, y)
	d.DrawString(s)
}

func drawPoint(dst *image.RGBA, m Mark, p Point) {
	r := pointRadius(p)
	switch p.Layer {
	case Damage:
		fill, ink := unassessed, borderInk
		if p.Level >= 0 && p.Level < len(DamageColors) {
			fill = DamageColors[p.Level]
		}
		if p.Level >= 3 {
			ink = textInk
			disc(dst, m.X, m.Y, r+1.5, ink)
		} else {
			disc(dst, m.X, m.Y, r+1, ink)
		}
		disc(dst, m.X, m.Y, r, fill)
	case Shelters:
		fill := shelterRoom
		switch {
		case p.Capacity <= 0:
			fill = white
		case p.Occupancy >= p.Capacity:
			fill = shelterFull
		case p.Occupancy*5 >= p.Capacity*4:
			fill = shelterNearly
		}
		square(dst, m.X, m.Y, r+1, shelterInk)
		square(dst, m.X, m.Y, r, fill)
		if p.Capacity > 0 && p.Occupancy >= p.Capacity {
			square(dst, m.X, m.Y, r/2, white)
			square(dst, m.X, m.Y, r/2-1.5, fill)
		}
	case Missing:
		diamond(dst, m.X, m.Y, r+1.5, white)
		diamond(dst, m.X, m.Y, r, missingFill)
	}
}

func drawCluster(dst *image.RGBA, m Mark, points []Point, face font.Face) {
	r := m.Radius(points)
	if m.MaxLevel >= 3 {
		disc(dst, m.X, m.Y, r+3, DamageColors[m.MaxLevel])
	}
	disc(dst, m.X, m.Y, r+1, white)
	disc(dst, m.X, m.Y, r, clusterInk)
	s := strconv.Itoa(m.Count)
	if m.Count >= 10000 {
		s = strconv.Itoa(m.Count/1000) + "k"
	}
	w := font.MeasureString(face, s).Ceil()
	d := font.Drawer{Dst: dst, Face: face, Src: image.NewUniform(white), Dot: fixed.P(int(m.X)-w/2, int(m.Y)+5)}
	d.DrawString(s)
}

// disc fills the pixels whose centres lie within r of (cx, cy).
func disc(dst *image.RGBA, cx, cy, r float64, c color.RGBA) {
	fillShape(dst, cx, cy, r, c, func(dx, dy float64) bool { return dx*dx+dy*dy <= r*r })
}

func square(dst *image.RGBA, cx, cy, r float64, c color.RGBA) {
	fillShape(dst, cx, cy, r, c, func(dx, dy float64) bool { return math.Abs(dx) <= r && math.Abs(dy) <= r })
}

func diamond(dst *image.RGBA, cx, cy, r float64, c color.RGBA) {
	fillShape(dst, cx, cy, r, c, func(dx, dy float64) bool { return math.Abs(dx)+math.Abs(dy) <= r })
}

func fillShape(dst *image.RGBA, cx, cy, r float64, c color.RGBA, in func(dx, dy float64) bool) {
	x0, x1 := max(int(cx-r)-1, 0), min(int(cx+r)+1, dst.Rect.Dx()-1)
	y0, y1 := max(int(cy-r)-1, 0), min(int(cy+r)+1, dst.Rect.Dy()-1)
	for y := y0; y <= y1; y++ {
		for x := x0; x <= x1; x++ {
			if in(float64(x)+0.5-cx, float64(y)+0.5-cy) {
				dst.SetRGBA(x, y, c)
			}
		}
	}
}
