package desktop

import (
	"context"
	"fmt"
	"image"
	"math"
	"slices"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"lifeline/atlas"
	"lifeline/node"
	"lifeline/syncproto"
)

// mapView is the Map tab of the Headquarters screen: Belize's districts
// with the records on them (package atlas draws it). It shows the records
// that the Records screen's filter shows: that screen's search, kit,
// district, status and conflicts apply here too, and the line above the
// map says so. A relay opens on its own district.
type mapView struct {
	u *UI

	canvas *mapCanvas
	layers map[atlas.Layer]*widget.Check
	note   *widget.Label
	fit    *widget.Button
	job    recordsQueue

	mu sync.Mutex
	// all are the points this node keeps; shown those the filter and the
	// layers let through, drawn on the canvas.
	all, shown []atlas.Point
	filter     recordsFilter
}

func (u *UI) newMapView() *mapView {
	m := &mapView{u: u, note: widget.NewLabel(u.T("map.loading")), layers: map[atlas.Layer]*widget.Check{}}
	m.note.Wrapping = fyne.TextWrapWord
	m.canvas = newMapCanvas(m)
	for _, l := range atlas.Layers {
		c := widget.NewCheck(u.T(mapLayerKeys[l]), func(bool) { m.narrow() })
		c.SetChecked(true)
		m.layers[l] = c
	}
	fitText := u.T("map.fit")
	if self := u.node.Self(); self.Role == syncproto.RoleRelay && self.District != "" {
		fitText = fmt.Sprintf(u.T("map.fit.district"), self.District)
	}
	m.fit = widget.NewButton(fitText, m.canvas.fitHome)
	if r := u.screens.records; r != nil {
		m.filter = r.applied
		r.onFilter = func(f recordsFilter) {
			m.mu.Lock()
			same := f == m.filter
			m.filter = f
			m.mu.Unlock()
			if !same { // a change of records reloads through whenRefreshed
				m.load()
			}
		}
	}
	u.whenRefreshed(m.load)
	m.load()
	return m
}

var mapLayerKeys = map[atlas.Layer]string{atlas.Damage: "map.layer.damage", atlas.Shelters: "map.layer.shelters", atlas.Missing: "map.layer.missing"}

func (m *mapView) content() fyne.CanvasObject {
	u := m.u
	tools := container.NewHBox(m.layers[atlas.Damage], m.layers[atlas.Shelters], m.layers[atlas.Missing],
		widget.NewButton("+", func() { m.canvas.zoom(2) }), widget.NewButton("−", func() { m.canvas.zoom(0.5) }), m.fit)
	hint := widget.NewLabel(u.T("map.hint"))
	hint.Wrapping = fyne.TextWrapWord
	return container.NewBorder(container.NewVBox(tools, m.note), hint, nil, nil, m.canvas)
}

// load reads the points again and the records the filter lets through,
// off the UI thread.
func (m *mapView) load() {
	m.mu.Lock()
	f := m.filter
	m.mu.Unlock()
	m.job.run(m.u, func(ctx context.Context) func() {
		all, err := m.u.node.MapPoints(ctx, node.MapFilter{})
		if err == nil && f != (recordsFilter{}) && m.u.screens.records != nil {
			var rows []recordsRow
			rows, _, err = m.u.screens.records.match(ctx, f, math.MaxInt)
			keep := make(map[string]bool, len(rows))
			for _, r := range rows {
				keep[r.id.String()] = true
			}
			all = slices.DeleteFunc(all, func(p atlas.Point) bool { return !keep[p.ID] })
		}
		if err != nil {
			return func() { m.note.SetText(node.Printable(err.Error())) }
		}
		return func() {
			m.mu.Lock()
			m.all = all
			m.mu.Unlock()
			m.narrow()
		}
	})
}

// narrow keeps the points of the layers ticked, and says what shows.
func (m *mapView) narrow() {
	on := map[atlas.Layer]bool{}
	for l, c := range m.layers {
		on[l] = c.Checked
	}
	m.mu.Lock()
	m.shown = slices.DeleteFunc(slices.Clone(m.all), func(p atlas.Point) bool { return !on[p.Layer] })
	n, f := len(m.shown), m.filter
	m.mu.Unlock()
	text := fmt.Sprintf(m.u.T("map.count"), n)
	if n == 1 {
		text = m.u.T("map.count.one")
	}
	if f != (recordsFilter{}) {
		text += " " + m.u.T("map.filtered")
	}
	m.note.SetText(text)
	m.canvas.Refresh()
}

// points are the points on show, for drawing and tapping.
func (m *mapView) points() []atlas.Point {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.shown
}

// tapped opens a point's record on the Records screen, as picking it in
// the list would.
func (m *mapView) tapped(p atlas.Point) {
	if err := m.u.Show("records", p.ID); err != nil {
		m.u.showError(err)
	}
}

// mapCanvas draws the map and takes the pointer: scroll zooms at the
// pointer, a drag pans, a tap opens a point or zooms into a cluster. The
// view is kept in the raster's pixels; scale turns the widget's positions
// into them.
type mapCanvas struct {
	widget.BaseWidget
	m *mapView

	mu     sync.Mutex
	view   atlas.View
	scale  float32 // pixels per unit of the widget's size
	fitted bool
}

func newMapCanvas(m *mapView) *mapCanvas {
	c := &mapCanvas{m: m, scale: 1}
	c.ExtendBaseWidget(c)
	return c
}

func (c *mapCanvas) CreateRenderer() fyne.WidgetRenderer {
	r := canvas.NewRaster(c.draw)
	return &mapRenderer{c: c, raster: r, objects: []fyne.CanvasObject{r}}
}

func (c *mapCanvas) MinSize() fyne.Size { return fyne.NewSize(200, 160) }

// home is what "fit" shows: the relay's district, else all of Belize.
func (c *mapCanvas) home() atlas.Bounds {
	self := c.m.u.node.Self()
	if self.Role == syncproto.RoleRelay {
		if b, ok := atlas.DistrictBounds(self.District); ok {
			return b
		}
	}
	return atlas.BelizeBounds()
}

// viewFor is the view on a surface of w×h pixels, fitted home the first
// time.
func (c *mapCanvas) viewFor(w, h int) atlas.View {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.fitted && w > 1 && h > 1 {
		c.view, c.fitted = atlas.Fit(c.home(), w, h), true
	}
	c.view = c.view.Resize(w, h)
	return c.view
}

// draw is the raster's image of w×h pixels.
func (c *mapCanvas) draw(w, h int) image.Image {
	if size := c.Size(); size.Width > 0 {
		c.mu.Lock()
		c.scale = float32(w) / size.Width
		c.mu.Unlock()
	}
	v := c.viewFor(w, h)
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	atlas.Render(img, v, c.m.points(), c.m.u.Lang())
	return img
}

// current is the view for the widget's size now.
func (c *mapCanvas) current() (atlas.View, float32) {
	size := c.Size()
	c.mu.Lock()
	scale := c.scale
	c.mu.Unlock()
	return c.viewFor(int(size.Width*scale), int(size.Height*scale)), scale
}

func (c *mapCanvas) setView(v atlas.View) {
	c.mu.Lock()
	c.view, c.fitted = v, true
	c.mu.Unlock()
	c.Refresh()
}

func (c *mapCanvas) fitHome() {
	v, _ := c.current()
	c.setView(atlas.Fit(c.home(), v.Width, v.Height))
}

func (c *mapCanvas) zoom(f float64) {
	v, _ := c.current()
	c.setView(v.Zoom(f, float64(v.Width)/2, float64(v.Height)/2))
}

// Scrolled zooms at the pointer: a wheel's notch is about 1.2 times.
func (c *mapCanvas) Scrolled(e *fyne.ScrollEvent) {
	v, s := c.current()
	f := math.Pow(2, float64(e.Scrolled.DY)/40)
	c.setView(v.Zoom(f, float64(e.Position.X*s), float64(e.Position.Y*s)))
}

func (c *mapCanvas) Dragged(e *fyne.DragEvent) {
	v, s := c.current()
	c.setView(v.Pan(float64(e.Dragged.DX*s), float64(e.Dragged.DY*s)))
}

func (c *mapCanvas) DragEnd() {}

func (c *mapCanvas) Tapped(e *fyne.PointEvent) {
	v, s := c.current()
	pts := c.m.points()
	marks := atlas.Cluster(v, pts)
	i, ok := atlas.Hit(marks, pts, float64(e.Position.X*s), float64(e.Position.Y*s))
	if !ok {
		return
	}
	if mk := marks[i]; mk.Single() {
		c.m.tapped(pts[mk.Members[0]])
		return
	}
	c.setView(zoomInto(v, marks[i], pts))
}

// zoomInto is the view that shows a cluster's points, at least twice as
// close as before.
func zoomInto(v atlas.View, mk atlas.Mark, pts []atlas.Point) atlas.View {
	b := atlas.Bounds{South: math.Inf(1), West: math.Inf(1), North: math.Inf(-1), East: math.Inf(-1)}
	for _, i := range mk.Members {
		p := pts[i]
		b = atlas.Bounds{South: min(b.South, p.Lat), West: min(b.West, p.Lon), North: max(b.North, p.Lat), East: max(b.East, p.Lon)}
	}
	f := atlas.Fit(b, v.Width, v.Height)
	if f.Scale < 2*v.Scale {
		x, y := v.Project((b.North+b.South)/2, (b.East+b.West)/2)
		return v.Zoom(2, x, y).Pan(float64(v.Width)/2-x, float64(v.Height)/2-y)
	}
	return f
}

type mapRenderer struct {
	c       *mapCanvas
	raster  *canvas.Raster
	objects []fyne.CanvasObject
}

func (r *mapRenderer) Layout(size fyne.Size)        { r.raster.Resize(size) }
func (r *mapRenderer) MinSize() fyne.Size           { return r.c.MinSize() }
func (r *mapRenderer) Refresh()                     { r.raster.Refresh() }
func (r *mapRenderer) Objects() []fyne.CanvasObject { return r.objects }
func (r *mapRenderer) Destroy()                     {}
