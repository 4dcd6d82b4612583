package desktop

import (
	"fmt"
	"image"
	"slices"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"

	"lifeline/atlas"
	"lifeline/syncproto"
)

const mapAssessment = `{"district":%q,"village":%q,"lat":%v,"lon":%v,"structure_type":"thatch",
	"damage_level":%d,"household_size":4,"reported_by":"vol-1","reported_at":"2026-11-27T10:00:00Z"}`

// hqMap is the Map tab of a Headquarters screen built as the window builds
// it, sized as on a laptop.
func hqMap(t *testing.T, u *UI) *mapView {
	t.Helper()
	var tab *fyne.Container
	for _, it := range u.tabs.Items {
		if it.Text == u.T("tab.hq") {
			tab, _ = it.Content.(*fyne.Container)
		}
	}
	if tab == nil {
		t.Fatalf("no Headquarters tab among %d", len(u.tabs.Items))
	}
	v := u.newHQView()
	v.content()
	if !slices.ContainsFunc(v.sides.Items, func(it *container.TabItem) bool { return it.Text == "Map" && it.Content != nil }) {
		t.Fatalf("the Headquarters screen has no Map tab")
	}
	v.mapv.canvas.Resize(fyne.NewSize(800, 500))
	u.bg.Wait()
	return v.mapv
}

func mapIDs(m *mapView) []string {
	var ids []string
	for _, p := range m.points() {
		ids = append(ids, p.ID)
	}
	slices.Sort(ids)
	return ids
}

func TestMapShowsTheRecordsFilteredAndOpensOne(t *testing.T) {
	u := newTestUI(t, syncproto.RoleHQ, "Belize")
	succotz := hqAdd(t, u, "damage-assessment", fmt.Sprintf(mapAssessment, "Cayo", "Succotz", 17.09, -89.11, 4))
	pg := hqAdd(t, u, "damage-assessment", fmt.Sprintf(mapAssessment, "Toledo", "Punta Gorda", 16.0983, -88.8097, 1))
	missing := hqAdd(t, u, "missing-person", `{"full_name":"Maria Pop","district":"Toledo","last_seen_place":"Punta Gorda market",
		"last_seen_location":{"lat":16.2,"lon":-88.9},"status":"missing","reporter_name":"Ana Cho","reported_at":"2026-11-27T09:00:00Z"}`)
	hqAdd(t, u, "missing-person", `{"full_name":"Jose Cal","district":"Toledo","last_seen_place":"Punta Gorda market",
		"last_seen_location":{"lat":16.3,"lon":-88.95},"status":"found-safe","reporter_name":"Ana Cho","reported_at":"2026-11-27T09:00:00Z"}`)
	u.Refresh()
	u.bg.Wait()

	m := hqMap(t, u)
	all := []string{succotz.String(), pg.String(), missing.String()}
	slices.Sort(all)
	if got := mapIDs(m); !slices.Equal(got, all) {
		t.Fatalf("the map shows %v, want the two assessments and the person still missing %v", got, all)
	}
	if got := m.note.Text; got != "3 records on the map." {
		t.Errorf("the map says %q", got)
	}

	// The Records screen's search narrows the map too.
	r := u.screens.records
	r.search.SetText("succotz")
	u.bg.Wait()
	if got := mapIDs(m); !slices.Equal(got, []string{succotz.String()}) {
		t.Fatalf("with the search succotz the map shows %v, want only %s", got, succotz)
	}
	if got, want := m.note.Text, "1 record on the map. Only those the filter of the Records screen shows."; got != want {
		t.Errorf("the map says %q, want %q", got, want)
	}
	r.search.SetText("")
	u.bg.Wait()
	// Unticking a layer hides its points.
	m.layers[atlas.Missing].SetChecked(false)
	if got := len(m.points()); got != 2 {
		t.Fatalf("without the missing layer %d points show, want 2", got)
	}

	// Tapping the destroyed building at Succotz opens it on the Records
	// screen. The view is fitted to the canvas: its point is where the
	// view projects it.
	v, s := m.canvas.current()
	x, y := v.Project(17.09, -89.11)
	m.canvas.Tapped(&fyne.PointEvent{Position: fyne.NewPos(float32(x)/s, float32(y)/s)})
	u.bg.Wait()
	if got := u.tabs.Selected().Text; got != u.T("tab.records") {
		t.Fatalf("after the tap the %q tab shows, want Records", got)
	}
	if r.selected != succotz.String() || r.record.ID != succotz.String() {
		t.Fatalf("the Records screen opened %q (%q), want %s", r.selected, r.record.ID, succotz)
	}

	// The map draws what it shows: the destroyed building's colour at its
	// place.
	img := m.canvas.draw(v.Width, v.Height).(*image.RGBA)
	if got := img.RGBAAt(int(x), int(y)); got != atlas.DamageColors[4] {
		t.Errorf("the map's pixel at Succotz is %v, want level 4's %v", got, atlas.DamageColors[4])
	}
}

func TestMapTapOnClusterZoomsIn(t *testing.T) {
	u := newTestUI(t, syncproto.RoleRelay, "Toledo")
	for i := range 5 {
		hqAdd(t, u, "damage-assessment", fmt.Sprintf(mapAssessment, "Toledo", "Punta Gorda", 16.0983+float64(i)*0.0005, -88.8097, 2))
	}
	u.Refresh()
	u.bg.Wait()
	m := hqMap(t, u)
	if got := m.fit.Text; got != "Fit Toledo" {
		t.Errorf("a Toledo relay's fit button says %q", got)
	}
	v, s := m.canvas.current()
	// A relay opens on its district: Toledo fills the view.
	tb, _ := atlas.DistrictBounds("Toledo")
	if x0, y0 := v.Project(tb.North, tb.West); x0 < 0 || y0 < 0 {
		t.Errorf("Toledo's corner is off the view at (%v, %v)", x0, y0)
	}
	marks := atlas.Cluster(v, m.points())
	if len(marks) != 1 || marks[0].Count != 5 {
		t.Fatalf("marks %+v, want one cluster of 5", marks)
	}
	m.canvas.Tapped(&fyne.PointEvent{Position: fyne.NewPos(float32(marks[0].X)/s, float32(marks[0].Y)/s)})
	after, _ := m.canvas.current()
	if after.Scale < 2*v.Scale {
		t.Fatalf("tapping the cluster zoomed from %v to %v pixels a degree", v.Scale, after.Scale)
	}
	if got := u.tabs.Selected().Text; got == u.T("tab.records") {
		t.Errorf("tapping a cluster opened the Records screen")
	}
}
