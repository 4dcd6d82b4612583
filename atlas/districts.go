package atlas

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"sync"
)

//go:embed districts.json
var districtsJSON []byte

// A Polygon is an outer ring and its holes, each a closed list of
// [longitude, latitude] pairs.
type Polygon [][][2]float64

// An Area is a named piece of land: a district, the cayes that Natural
// Earth gives no district (Name ""), or a neighbouring country.
type Area struct {
	Name     string
	Polygons []Polygon
	Bounds   Bounds
}

// Bounds is a box of latitudes and longitudes.
type Bounds struct{ South, West, North, East float64 }

// Contains says whether the point is in the box, edges included.
func (b Bounds) Contains(lat, lon float64) bool {
	return lat >= b.South && lat <= b.North && lon >= b.West && lon <= b.East
}

func (b Bounds) union(o Bounds) Bounds {
	return Bounds{min(b.South, o.South), min(b.West, o.West), max(b.North, o.North), max(b.East, o.East)}
}

var emptyBounds = Bounds{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}

type geography struct {
	districts  []Area // the six, in the order of schemas.Districts' names
	cayes      []Area // land with no district
	neighbours []Area
	belize     Bounds
}

var loadGeography = sync.OnceValue(func() *geography {
	var f struct {
		Districts []struct {
			Name     string
			Polygons []Polygon
		} `json:"districts"`
		Neighbours []struct {
			Name     string
			Polygons []Polygon
		} `json:"neighbours"`
	}
	if err := json.Unmarshal(districtsJSON, &f); err != nil {
		// The file is part of the program: a broken one is a build error.
		panic(fmt.Sprintf("atlas: embedded districts.json: %v", err))
	}
	g := &geography{belize: emptyBounds}
	for _, d := range f.Districts {
		a := area(d.Name, d.Polygons)
		g.belize = g.belize.union(a.Bounds)
		if d.Name == "" {
			g.cayes = append(g.cayes, a)
		} else {
			g.districts = append(g.districts, a)
		}
	}
	for _, n := range f.Neighbours {
		g.neighbours = append(g.neighbours, area(n.Name, n.Polygons))
	}
	return g
})

func area(name string, polys []Polygon) Area {
	a := Area{Name: name, Polygons: polys, Bounds: emptyBounds}
	for _, p := range polys {
		for _, ring := range p {
			for _, c := range ring {
				a.Bounds = a.Bounds.union(Bounds{c[1], c[0], c[1], c[0]})
			}
		}
	}
	return a
}

// Districts are Belize's six districts, named as schemas.Districts names
// them. The slice is shared: do not change it.
func Districts() []Area { return loadGeography().districts }

// BelizeBounds is the box around all of Belize's land, cayes included.
func BelizeBounds() Bounds { return loadGeography().belize }

// DistrictBounds is the box around one district, false if no district has
// that name.
func DistrictBounds(name string) (Bounds, bool) {
	for _, d := range loadGeography().districts {
		if d.Name == name {
			return d.Bounds, true
		}
	}
	return Bounds{}, false
}

// DistrictOf names the district a point lies in, or "" when it lies in none
// (at sea, abroad, or on a caye that Natural Earth gives no district). Near
// a coast or a border the answer is only as good as Natural Earth's 1:10m
// lines, a few hundred metres.
func DistrictOf(lat, lon float64) string {
	for _, d := range loadGeography().districts {
		if d.Bounds.Contains(lat, lon) && d.contains(lat, lon) {
			return d.Name
		}
	}
	return ""
}

func (a Area) contains(lat, lon float64) bool {
	for _, p := range a.Polygons {
		in := false
		for _, ring := range p { // holes flip it back: even-odd
			if inRing(ring, lon, lat) {
				in = !in
			}
		}
		if in {
			return true
		}
	}
	return false
}

// inRing is the even-odd crossing test.
func inRing(ring [][2]float64, x, y float64) bool {
	in := false
	for i, j := 0, len(ring)-1; i < len(ring); j, i = i, i+1 {
		xi, yi, xj, yj := ring[i][0], ring[i][1], ring[j][0], ring[j][1]
		if (yi > y) != (yj > y) && x < (xj-xi)*(y-yi)/(yj-yi)+xi {
			in = !in
		}
	}
	return in
}
