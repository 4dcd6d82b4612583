package atlas

import "math"

// A Layer is a kind of point on the map.
type Layer uint8

// The layers, in the order they are drawn (later on top).
const (
	Shelters Layer = iota + 1 // shelters, by occupancy against capacity
	Damage                    // damage assessments, by damage level
	Missing                   // persons still missing
)

// Layers lists the layers in drawing order.
var Layers = []Layer{Shelters, Damage, Missing}

// A Point is one record on the map.
type Point struct {
	ID       string // the record's id
	Layer    Layer
	Lat, Lon float64
	// Level is a damage assessment's damage level, 0 none to 4 destroyed;
	// -1 when not assessed.
	Level int
	// Occupancy and Capacity are a shelter's people and places; Capacity 0
	// when unknown.
	Occupancy, Capacity int
	District            string
}

// ClusterCell is the side, in pixels, of the grid squares within which
// points are drawn as one cluster.
const ClusterCell = 36

// A Mark is what is drawn at one place: a single point, or a cluster of
// Count points.
type Mark struct {
	X, Y    float64 // centre, in pixels
	Count   int
	Members []int // indexes into the points given to Cluster
	// MaxLevel is the highest damage level among the members, -1 if none.
	MaxLevel int
}

// Single says whether the mark is one point.
func (m Mark) Single() bool { return m.Count == 1 }

// Radius is how far from its centre the mark is drawn, in pixels.
func (m Mark) Radius(points []Point) float64 {
	if m.Single() {
		return pointRadius(points[m.Members[0]])
	}
	return math.Min(9+3*math.Log10(float64(m.Count)), 17)
}

// Cluster groups the points that fall in the same ClusterCell×ClusterCell
// square of the view: a square holding one point gives a single mark at
// that point, a square holding more gives one mark at their mean position
// with their count. Points off the view are left out.
func Cluster(v View, points []Point) []Mark {
	cols := v.Width/ClusterCell + 1
	rows := v.Height/ClusterCell + 1
	cell := make([]int32, cols*rows) // index+1 into marks, 0 for none
	var marks []Mark
	for i, p := range points {
		x, y := v.Project(p.Lat, p.Lon)
		if !(x >= 0 && y >= 0 && x < float64(v.Width) && y < float64(v.Height)) {
			continue
		}
		c := int(y)/ClusterCell*cols + int(x)/ClusterCell
		level := -1
		if p.Layer == Damage {
			level = p.Level
		}
		if cell[c] == 0 {
			marks = append(marks, Mark{X: x, Y: y, Count: 1, Members: []int{i}, MaxLevel: level})
			cell[c] = int32(len(marks))
			continue
		}
		m := &marks[cell[c]-1]
		n := float64(m.Count)
		m.X = (m.X*n + x) / (n + 1)
		m.Y = (m.Y*n + y) / (n + 1)
		m.Count++
		m.Members = append(m.Members, i)
		m.MaxLevel = max(m.MaxLevel, level)
	}
	return marks
}

// Hit is the index of the mark drawn under pixel (x, y), the nearest if
// several, with a few pixels to spare for a finger; false if none.
func Hit(marks []Mark, points []Point, x, y float64) (int, bool) {
	const slack = 4
	best, bestD := -1, math.Inf(1)
	for i, m := range marks {
		d := math.Hypot(m.X-x, m.Y-y)
		if d <= m.Radius(points)+slack && d < bestD {
			best, bestD = i, d
		}
	}
	return best, best >= 0
}

func pointRadius(p Point) float64 {
	switch p.Layer {
	case Damage:
		if p.Level >= 3 {
			return 7
		}
		return 5
	case Shelters:
		if p.Capacity > 0 {
			return math.Min(5+math.Sqrt(float64(p.Capacity))/4, 11)
		}
		return 5
	default:
		return 6
	}
}
