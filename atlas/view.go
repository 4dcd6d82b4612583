package atlas

import "math"

// refLat is the latitude whose cosine scales longitudes (see the package
// comment).
const refLat = 17.25

var lonScale = math.Cos(refLat * math.Pi / 180)

// The closest and farthest a View may zoom, in pixels per degree of
// latitude: all of Central America, and a street.
const (
	MinScale = 20
	MaxScale = 200000
)

// A View places the map on a Width×Height surface: its centre, and Scale
// pixels per degree of latitude. Pixel (0,0) is the top left corner.
type View struct {
	Lat, Lon      float64
	Scale         float64
	Width, Height int
}

// Fit is the view that shows the whole box on a w×h surface, with a margin.
func Fit(b Bounds, w, h int) View {
	w, h = max(w, 1), max(h, 1)
	dLat := max(b.North-b.South, 0.01)
	dLon := max(b.East-b.West, 0.01) * lonScale
	scale := 0.92 * min(float64(w)/dLon, float64(h)/dLat)
	return View{
		Lat:    (b.North + b.South) / 2,
		Lon:    (b.East + b.West) / 2,
		Scale:  clampScale(scale),
		Width:  w,
		Height: h,
	}
}

// Project gives the pixel of a point.
func (v View) Project(lat, lon float64) (x, y float64) {
	x = float64(v.Width)/2 + (lon-v.Lon)*lonScale*v.Scale
	y = float64(v.Height)/2 - (lat-v.Lat)*v.Scale
	return x, y
}

// Unproject gives the point at a pixel.
func (v View) Unproject(x, y float64) (lat, lon float64) {
	lon = v.Lon + (x-float64(v.Width)/2)/(lonScale*v.Scale)
	lat = v.Lat - (y-float64(v.Height)/2)/v.Scale
	return lat, lon
}

// Zoom multiplies the scale by f, keeping the point under pixel (x, y)
// where it is, within MinScale and MaxScale.
func (v View) Zoom(f, x, y float64) View {
	lat, lon := v.Unproject(x, y)
	v.Scale = clampScale(v.Scale * f)
	// Move the centre so that (lat, lon) projects to (x, y) again.
	nx, ny := v.Project(lat, lon)
	return v.Pan(x-nx, y-ny)
}

// Pan moves the map by (dx, dy) pixels: dragging right by 10 pixels is
// Pan(10, 0).
func (v View) Pan(dx, dy float64) View {
	v.Lon -= dx / (lonScale * v.Scale)
	v.Lat += dy / v.Scale
	return v
}

// Resize keeps the centre and scale on a surface of a new size.
func (v View) Resize(w, h int) View {
	v.Width, v.Height = max(w, 1), max(h, 1)
	return v
}

func clampScale(s float64) float64 {
	if math.IsNaN(s) {
		return MinScale
	}
	return min(max(s, MinScale), MaxScale)
}
