package atlas_test

import (
	"image"
	"math"
	"slices"
	"testing"

	"lifeline/atlas"
	"lifeline/schemas"
)

// Towns whose district is known independently of the map: coordinates from
// the English Wikipedia article of each town (its infobox, degrees and
// minutes converted to decimals), districts from the Statistical Institute
// of Belize's list of municipalities.
var towns = []struct {
	name     string
	lat, lon float64
	district string
}{
	{"Belize City", 17.4986, -88.1967, "Belize"},
	{"Belmopan", 17.2510, -88.7590, "Cayo"},
	{"San Ignacio", 17.1561, -89.0714, "Cayo"},
	{"Corozal Town", 18.3936, -88.3883, "Corozal"},
	{"Orange Walk Town", 18.0812, -88.5625, "Orange Walk"},
	{"Dangriga", 16.9697, -88.2311, "Stann Creek"},
	{"Punta Gorda", 16.0983, -88.8097, "Toledo"},
}

func TestDistrictOfTowns(t *testing.T) {
	for _, tc := range towns {
		if got := atlas.DistrictOf(tc.lat, tc.lon); got != tc.district {
			t.Errorf("%s (%.4f, %.4f): district %q, want %q", tc.name, tc.lat, tc.lon, got, tc.district)
		}
	}
	for _, p := range []struct {
		name     string
		lat, lon float64
	}{
		{"the Caribbean east of Lighthouse Reef", 16.5, -87.0},
		{"Flores, Guatemala", 16.9300, -89.8900},
		{"Chetumal, Mexico", 18.5000, -88.3000},
	} {
		if got := atlas.DistrictOf(p.lat, p.lon); got != "" {
			t.Errorf("%s: district %q, want none", p.name, got)
		}
	}
}

func TestDistrictsAreSchemasDistricts(t *testing.T) {
	var names []string
	for _, d := range atlas.Districts() {
		names = append(names, d.Name)
	}
	if !slices.Equal(names, schemas.Districts) {
		t.Fatalf("districts %q, want %q", names, schemas.Districts)
	}
	b := atlas.BelizeBounds()
	// Belize lies between about 15.9° and 18.5° N, 87.5° and 89.2° W.
	if b.South < 15.7 || b.North > 18.6 || b.West < -89.3 || b.East > -87.3 || b.South > 16 || b.North < 18.4 {
		t.Errorf("Belize's bounds %+v are not Belize's", b)
	}
}

func TestProjection(t *testing.T) {
	v := atlas.View{Lat: 17.25, Lon: -88.75, Scale: 400, Width: 1000, Height: 600}
	x, y := v.Project(17.25, -88.75)
	if x != 500 || y != 300 {
		t.Fatalf("the centre projects to (%v, %v), want (500, 300)", x, y)
	}
	// North is up; a degree of latitude is Scale pixels, one of longitude
	// Scale·cos 17.25°.
	x1, y1 := v.Project(18.25, -87.75)
	if math.Abs(y-y1-400) > 1e-9 || math.Abs(x1-x-400*0.9550199444571866) > 1e-9 {
		t.Fatalf("one degree north-east is (%v, %v) pixels away", x1-x, y-y1)
	}
	for _, p := range [][2]float64{{15.9, -89.2}, {18.5, -87.5}, {17.4986, -88.1967}, {0, 0}} {
		for _, w := range []atlas.View{v, v.Zoom(7.5, 120, 33), v.Pan(-300, 1234), atlas.Fit(atlas.BelizeBounds(), 1280, 800)} {
			lat, lon := w.Unproject(w.Project(p[0], p[1]))
			if math.Abs(lat-p[0]) > 1e-9 || math.Abs(lon-p[1]) > 1e-9 {
				t.Errorf("%v in view %+v comes back as (%v, %v)", p, w, lat, lon)
			}
		}
	}
	// Zooming keeps the place under the pointer where it was.
	lat, lon := v.Unproject(120, 33)
	z := v.Zoom(3, 120, 33)
	if zx, zy := z.Project(lat, lon); math.Abs(zx-120) > 1e-6 || math.Abs(zy-33) > 1e-6 || z.Scale != 1200 {
		t.Errorf("after zooming at (120, 33) that place is at (%v, %v), scale %v", zx, zy, z.Scale)
	}
	// Fit shows every corner of the box.
	f := atlas.Fit(atlas.BelizeBounds(), 640, 480)
	b := atlas.BelizeBounds()
	for _, c := range [][2]float64{{b.South, b.West}, {b.North, b.East}} {
		if x, y := f.Project(c[0], c[1]); x < 0 || y < 0 || x > 640 || y > 480 {
			t.Errorf("corner %v is at (%v, %v), off a 640×480 fitted view", c, x, y)
		}
	}
}

// at is the point at the centre of pixel (x, y) plus (dx, dy) pixels.
func at(v atlas.View, x, y, dx, dy float64, layer atlas.Layer, level int) atlas.Point {
	lat, lon := v.Unproject(x+0.5+dx, y+0.5+dy)
	return atlas.Point{ID: "p", Layer: layer, Lat: lat, Lon: lon, Level: level}
}

func TestCluster(t *testing.T) {
	v := atlas.View{Lat: 17.25, Lon: -88.75, Scale: 400, Width: 720, Height: 360}
	c := float64(atlas.ClusterCell)
	var pts []atlas.Point
	// Five points in the square at column 2, row 1; three in column 10, row
	// 5, one of them destroyed; one alone in column 0, row 0 and one alone
	// in column 15, row 8; two off the view.
	for i := range 5 {
		pts = append(pts, at(v, 2*c+3, 1*c+3, float64(i*5), float64(i*2), atlas.Damage, 1))
	}
	for i := range 3 {
		pts = append(pts, at(v, 10*c+1, 5*c+1, float64(i*10), 30, atlas.Damage, 2*i))
	}
	pts = append(pts, at(v, 4, 4, 0, 0, atlas.Missing, -1), at(v, 15*c+10, 8*c+10, 0, 0, atlas.Shelters, -1))
	pts = append(pts, at(v, -5, 10, 0, 0, atlas.Damage, 4), at(v, 10, 400, 0, 0, atlas.Damage, 4))

	marks := atlas.Cluster(v, pts)
	var counts []int
	for _, m := range marks {
		counts = append(counts, m.Count)
	}
	slices.Sort(counts)
	if !slices.Equal(counts, []int{1, 1, 3, 5}) {
		t.Fatalf("mark counts %v, want [1 1 3 5]", counts)
	}
	for _, m := range marks {
		switch m.Count {
		case 3:
			if m.MaxLevel != 4 {
				t.Errorf("the cluster of three has highest level %d, want 4", m.MaxLevel)
			}
			// The mean of the three: x 10c+1.5+10, y 5c+1.5+30.
			if math.Abs(m.X-(10*c+11.5)) > 1e-6 || math.Abs(m.Y-(5*c+31.5)) > 1e-6 {
				t.Errorf("the cluster of three is at (%v, %v)", m.X, m.Y)
			}
			i, ok := atlas.Hit(marks, pts, m.X+3, m.Y-2)
			if !ok || marks[i].Count != 3 {
				t.Errorf("a tap beside the cluster of three hits %v %v", i, ok)
			}
		case 1:
			if p := pts[m.Members[0]]; p.Layer == atlas.Missing {
				i, ok := atlas.Hit(marks, pts, 4.5, 4.5)
				if !ok || marks[i].Members[0] != m.Members[0] {
					t.Errorf("a tap on the lone missing person hits %v %v", i, ok)
				}
			}
		}
	}
	if i, ok := atlas.Hit(marks, pts, 300, 100); ok {
		t.Errorf("a tap on empty sea hits mark %d", i)
	}
}

func TestRender(t *testing.T) {
	const w, h = 900, 700
	v := atlas.Fit(atlas.BelizeBounds(), w, h)
	belmopan := atlas.Point{ID: "b", Layer: atlas.Damage, Lat: 17.2510, Lon: -88.7590, Level: 4}
	pg := atlas.Point{ID: "pg", Layer: atlas.Damage, Lat: 16.0983, Lon: -88.8097, Level: 0}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	marks := atlas.Render(img, v, []atlas.Point{belmopan, pg}, "en")
	if len(marks) != 2 {
		t.Fatalf("%d marks drawn, want 2", len(marks))
	}
	x, y := v.Project(belmopan.Lat, belmopan.Lon)
	if got := img.RGBAAt(int(x), int(y)); got != atlas.DamageColors[4] {
		t.Errorf("pixel of the destroyed building at Belmopan is %v, want %v", got, atlas.DamageColors[4])
	}
	x, y = v.Project(pg.Lat, pg.Lon)
	if got := img.RGBAAt(int(x), int(y)); got != atlas.DamageColors[0] {
		t.Errorf("pixel of the undamaged building at Punta Gorda is %v, want %v", got, atlas.DamageColors[0])
	}
	x, y = v.Project(16.5, -87.0)
	if got := img.RGBAAt(int(x), int(y)); got != atlas.Sea {
		t.Errorf("pixel of the sea east of Lighthouse Reef is %v, want %v", got, atlas.Sea)
	}
	// Inland Cayo, away from points, names and borders, is land.
	x, y = v.Project(16.95, -88.95)
	if got := img.RGBAAt(int(x), int(y)); got != atlas.Land {
		t.Errorf("pixel of inland Cayo is %v, want %v", got, atlas.Land)
	}

	// An image whose bounds do not start at (0, 0) is drawn within them.
	off := image.NewRGBA(image.Rect(100, 50, 100+w, 50+h))
	atlas.Render(off, v, []atlas.Point{belmopan}, "es")
	x, y = v.Project(belmopan.Lat, belmopan.Lon)
	if got := off.RGBAAt(100+int(x), 50+int(y)); got != atlas.DamageColors[4] {
		t.Errorf("on an offset image, the destroyed building's pixel is %v", got)
	}
}

func TestRenderAnyView(t *testing.T) {
	// Tiny, huge zoom and far away views draw without trouble.
	for _, tc := range []struct {
		v    atlas.View
		w, h int
	}{
		{atlas.Fit(atlas.BelizeBounds(), 1, 1), 1, 1},
		{atlas.View{Lat: 17.4986, Lon: -88.1967, Scale: atlas.MaxScale}, 300, 200},
		{atlas.View{Lat: -40, Lon: 120, Scale: atlas.MinScale}, 300, 200},
	} {
		img := image.NewRGBA(image.Rect(0, 0, tc.w, tc.h))
		atlas.Render(img, tc.v, []atlas.Point{{Layer: atlas.Shelters, Lat: 17.4986, Lon: -88.1967, Occupancy: 5, Capacity: 4}}, "en")
	}
}
