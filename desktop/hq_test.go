package desktop

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"lifeline/node"
	"lifeline/schemas"
	"lifeline/syncproto"
)

func hqAdd(t *testing.T, u *UI, typ, data string) syncproto.RecordID {
	t.Helper()
	id, err := u.node.Add(context.Background(), typ, []byte(data), "vol-193")
	if err != nil {
		t.Fatalf("add %s: %v", typ, err)
	}
	return id
}

// cellText is the label a table shows in a cell, filled the way the table
// fills it.
func cellText(tb *widget.Table, row, col int) *widget.Label {
	o := tb.CreateCell()
	tb.UpdateCell(widget.TableCellID{Row: row, Col: col}, o)
	return o.(*widget.Label)
}

const hqAssessment = `{"district":"Cayo","village":"Succotz","lat":17.1,"lon":-89.1,"structure_type":"thatch",
	"damage_level":%d,"household_size":%d,"displaced":true,"head_of_household":"Marta Chun",
	"reported_by":"vol-1","reported_at":"2026-11-27T10:00:00Z"}`

func TestHQTableCountsEachDistrict(t *testing.T) {
	u := newTestUI(t, syncproto.RoleHQ, "Cayo")
	v := u.newHQView()
	for _, level := range []int{4, 3, 3, 1} {
		hqAdd(t, u, "damage-assessment", fmt.Sprintf(hqAssessment, level, 5))
	}
	hqAdd(t, u, "shelter", `{"shelter_name":"San Ignacio Community Centre","district":"Cayo","status":"full","occupancy":250,"capacity":250}`)
	hqAdd(t, u, "shelter-registration", `{"shelter_name":"San Ignacio Community Centre","district":"Cayo","family_head_name":"Ana Cho",
		"members":6,"arrived_at":"2026-11-27T18:00:00Z","registered_by":"vol-2"}`)
	hqAdd(t, u, "missing-person", `{"full_name":"Maria Pop","district":"Toledo","last_seen_place":"Punta Gorda market",
		"status":"missing","reporter_name":"Ana Cho","reported_at":"2026-11-27T09:00:00Z"}`)
	u.Refresh()

	// Rows: the header, the total, then the districts. The expected
	// figures are those of the records made above: levels 4, 3, 3 and 1,
	// five occupants each, all displaced.
	cayo := slices.Index(schemas.Districts, "Cayo") + 2
	want := map[int]string{
		hqColDistrict: "Cayo", hqColDamage0: "0", hqColDamage1: "1", hqColDamage2: "0", hqColDamage3: "2", hqColDamage4: "1",
		hqColDisplaced: "20", hqColShelters: "1 / 1", hqColOccupancy: "250 / 250", hqColSheltered: "6 (1)", hqColMissing: "0", hqColConflicts: "0",
	}
	for col, w := range want {
		if got := cellText(v.figures, cayo, col).Text; got != w {
			t.Errorf("Cayo, %s: %q, want %q", u.T(hqColumnKeys[col]), got, w)
		}
	}
	for col, level := range []int{hqColDamage0, hqColDamage1, hqColDamage2, hqColDamage3, hqColDamage4} {
		if got, want := cellText(v.figures, 0, level).Text, fmt.Sprintf("Damage %d", col); got != want {
			t.Errorf("header of level %d: %q, want %q", col, got, want)
		}
	}
	// Only what asks for attention is coloured, and bold too: homes at
	// levels 3 and 4, people still missing, a full shelter.
	attention := map[int]widget.Importance{hqColDamage3: widget.DangerImportance, hqColDamage4: widget.DangerImportance,
		hqColOccupancy: widget.WarningImportance}
	for col := hqColDamage0; col < hqColumns; col++ {
		l := cellText(v.figures, cayo, col)
		if l.Importance != attention[col] || l.TextStyle.Bold != (attention[col] != widget.MediumImportance) {
			t.Errorf("Cayo, %s: importance %v, bold %v; want %v", u.T(hqColumnKeys[col]), l.Importance, l.TextStyle.Bold, attention[col])
		}
	}
	toledo := slices.Index(schemas.Districts, "Toledo") + 2
	if l := cellText(v.figures, toledo, hqColMissing); l.Text != "1" || l.Importance != widget.DangerImportance {
		t.Errorf("Toledo, missing: %q, importance %v", l.Text, l.Importance)
	}
	if l := cellText(v.figures, toledo, hqColDamage4); l.Text != "0" || l.Importance != widget.MediumImportance {
		t.Errorf("Toledo, level 4: %q, importance %v", l.Text, l.Importance)
	}
	rows, cols := v.figures.Length()
	if rows != len(schemas.Districts)+2 || cols != hqColumns {
		t.Fatalf("table of %d×%d, want a header, the six districts and the total", rows, cols)
	}
	if got, missing := cellText(v.figures, 1, hqColDistrict).Text, cellText(v.figures, 1, hqColMissing); got != "Total" || missing.Text != "1" ||
		missing.Importance != widget.MediumImportance {
		t.Errorf("first row %q, missing %q (importance %v: the total is bold, not coloured)", got, missing.Text, missing.Importance)
	}
	if got := cellText(v.figures, 1, hqColDamage4).Text; got != "1" {
		t.Errorf("total at level 4: %q", got)
	}

	// Records per type: types down, districts across.
	row := slices.Index(v.typeNames, "damage-assessment") + 1
	if got := cellText(v.counts, row, cayo).Text; got != "4" {
		t.Errorf("damage assessments in Cayo: %q", got)
	}
	if !strings.HasSuffix(v.summary.Text, "· records: 7 · in conflict: 0") {
		t.Errorf("summary %q", v.summary.Text)
	}
	if v.queueMsg.Text != "No record is in conflict." || len(v.conflicts) != 0 {
		t.Errorf("queue %q %v", v.queueMsg.Text, v.conflicts)
	}
}

// Two nodes change a record without seeing each other's change; the
// record joins the conflict queue, and picking it shows both versions.
func TestHQConflictQueueListsRecordsInConflict(t *testing.T) {
	ctx := context.Background()
	u := newTestUI(t, syncproto.RoleHQ, "Cayo")
	other := recordsPeer(t, u)
	id := hqAdd(t, u, "damage-assessment", `{"district":"Cayo","village":"Succotz","lat":17.1,"lon":-89.1,"structure_type":"thatch",
		"damage_level":1,"household_size":4,"reported_by":"vol-1","reported_at":"2026-11-27T10:00:00Z"}`)
	recordsBundle(t, u.node, other)
	for n, change := range map[*node.Node]string{u.node: `{"damage_level":2}`, other: `{"damage_level":4}`} {
		if _, err := n.Update(ctx, id, []byte(change), n.Self().Name); err != nil {
			t.Fatal(err)
		}
	}
	recordsBundle(t, other, u.node)

	v := u.newHQView()
	if len(v.conflicts) != 1 || v.conflicts[0].id != id.String() || v.conflicts[0].fields != "Damage level (0-4)" {
		t.Fatalf("queue %+v", v.conflicts)
	}
	if !strings.HasPrefix(v.queueMsg.Text, "Records in conflict: 1, oldest first.") {
		t.Errorf("queue says %q", v.queueMsg.Text)
	}
	v.queue.Select(0)
	if !strings.Contains(v.detail.Text, "Damage level (0-4):") || !strings.Contains(v.detail.Text, "by cayo-laptop-02") ||
		!strings.Contains(v.detail.Text, "by cayo-laptop-07") {
		t.Errorf("picked, the detail says:\n%s", v.detail.Text)
	}
	cayo := slices.Index(schemas.Districts, "Cayo") + 2
	if got := cellText(v.figures, cayo, hqColConflicts).Text; got != "1" {
		t.Errorf("Cayo, in conflict: %q", got)
	}
	v.resolve(id.String())
	if got := u.tabs.Selected().Text; got != "Records" {
		t.Errorf("resolving opens the %q tab", got)
	}
}

// An export writes a new file named after the type and the day into the
// folder picked; personal data only when the box is ticked.
func TestHQExportWritesIntoTheFolder(t *testing.T) {
	u := newTestUI(t, syncproto.RoleHQ, "Cayo")
	hqAdd(t, u, "damage-assessment", fmt.Sprintf(hqAssessment, 3, 5))
	v := u.newHQView()
	if v.selectedType() != "damage-assessment" || v.personal.Checked || v.geojson.Disabled() {
		t.Fatalf("export starts with %q, personal %v, GeoJSON disabled %v", v.selectedType(), v.personal.Checked, v.geojson.Disabled())
	}
	dir := t.TempDir()
	v.exportTo(dir, "damage-assessment", hqCSV, false)
	files, _ := filepath.Glob(filepath.Join(dir, "damage-assessment-*.csv"))
	if len(files) != 1 {
		t.Fatalf("files %v", files)
	}
	if v.result.Text != "Records written: 1, to "+files[0]+"." {
		t.Errorf("result %q", v.result.Text)
	}
	f, err := os.Open(files[0])
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(rows) != 2 || slices.Contains(rows[0], "head_of_household") {
		t.Fatalf("CSV %q (%v)", rows, err)
	}

	// A second export the same day does not overwrite the first.
	v.exportTo(dir, "damage-assessment", hqCSV, true)
	second := strings.TrimSuffix(files[0], ".csv") + "-2.csv"
	b, err := os.ReadFile(second)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "Marta Chun") || !strings.Contains(v.result.Text, "personal data included") {
		t.Errorf("with personal data: %q\n%s", v.result.Text, b)
	}

	v.exportTo(dir, "damage-assessment", hqGeoJSON, false)
	files, _ = filepath.Glob(filepath.Join(dir, "damage-assessment-*.geojson"))
	if len(files) != 1 {
		t.Fatalf("GeoJSON files %v", files)
	}
	var fc struct {
		Features []struct{ Properties map[string]any }
	}
	b, _ = os.ReadFile(files[0])
	if err := json.Unmarshal(b, &fc); err != nil || len(fc.Features) != 1 {
		t.Fatalf("GeoJSON %s (%v)", b, err)
	}

	// Families registered at a shelter have no location to map.
	v.kind.SetSelectedIndex(slices.Index(v.types, "shelter-registration"))
	if !v.geojson.Disabled() {
		t.Error("GeoJSON enabled for a type without a location")
	}
}

// An export into the node's data folder, or a folder inside it, is
// refused, saying so, and nothing is written there: a CSV of personal data
// would lie in the clear beside the files the node seals, as the command
// line refuses it (node.CheckExportPath).
func TestHQExportNotIntoTheDataFolder(t *testing.T) {
	u := newTestUI(t, syncproto.RoleHQ, "Cayo")
	hqAdd(t, u, "damage-assessment", fmt.Sprintf(hqAssessment, 3, 5))
	v := u.newHQView()
	c := u.newChartsView()
	c.content()
	c.personal.SetChecked(true)
	data := u.node.Config().DataDir
	inside := filepath.Join(data, "exports")
	if err := os.Mkdir(inside, 0o700); err != nil {
		t.Fatal(err)
	}
	list := func(dir string) []string {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		return names
	}
	for _, dir := range []string{data, inside} {
		for _, format := range []string{hqCSV, hqGeoJSON, hqGPKG, "pdf"} {
			before := list(dir)
			switch format {
			case hqGPKG:
				v.exportGeoPackageTo(dir, "damage-assessment", true)
			case "pdf":
				c.writeReport(dir)
			default:
				v.exportTo(dir, "damage-assessment", format, true)
			}
			if !strings.Contains(lineSays(u), "not written into the node's data folder") {
				t.Errorf("a %s export into %s: the line says %q, want the refusal", format, dir, lineSays(u))
			}
			if after := list(dir); !slices.Equal(after, before) {
				t.Errorf("a %s export into %s left %q there, %q before", format, dir, after, before)
			}
			test.Tap(u.jobs.close)
		}
	}
}

// A change the write policy refuses is kept aside and shown to HQ with
// its reason: a Toledo laptop deleting a Cayo missing person, carried to
// HQ by the Toledo laptop's own bundle.
func TestHQShowsChangesKeptAside(t *testing.T) {
	ctx := context.Background()
	u := newTestUI(t, syncproto.RoleHQ, "Belize")
	ca := enrollTestUI(t, u)
	cayo := enrolledPeer(t, ca, "cayo-laptop-02", "Cayo")
	toledo := enrolledPeer(t, ca, "toledo-laptop-01", "Toledo")
	v := u.newHQView()
	u.win.SetContent(v.content())
	u.bg.Wait()
	if v.keptMsg.Text != "No change from a peer was kept aside: every one fit its kit and the write policy." || v.keptTab.Text != "Kept aside (0)" {
		t.Fatalf("before: %q, tab %q", v.keptMsg.Text, v.keptTab.Text)
	}

	// A missing person: national, so the Toledo laptop holds it too.
	id, err := cayo.Add(ctx, "missing-person", []byte(`{"full_name":"Maria Pop","district":"Cayo","last_seen_place":"Succotz","status":"missing","reporter_name":"Ana Cho","reported_at":"2026-11-20T09:00:00-06:00"}`), "ana")
	if err != nil {
		t.Fatal(err)
	}
	recordsBundle(t, cayo, toledo)
	if err := toledo.Delete(ctx, id, "ben"); err != nil {
		t.Fatal(err)
	}
	res, err := u.node.ImportBundle(ctx, bundleOf(t, toledo))
	t.Logf("import: %+v %v", res, err)
	u.Refresh()
	u.bg.Wait()

	if v.keptTab.Text != "Kept aside (1)" || len(v.kept) != 1 {
		t.Fatalf("tab %q, list %+v", v.keptTab.Text, v.kept)
	}
	if !strings.HasPrefix(v.keptMsg.Text, "Changes kept aside: 1, newest first.") {
		t.Errorf("panel says %q", v.keptMsg.Text)
	}
	title, reason := v.keptLines(v.kept[0])
	if want := "Missing person " + id.String()[:8] + " — from toledo-laptop-01"; title != want {
		t.Errorf("row %q, want %q", title, want)
	}
	if reason != "deletes a record of Cayo; toledo-laptop-01 is of Toledo" {
		t.Errorf("reason %q", reason)
	}
	detail := v.keptDetail(v.kept[0])
	// The deletion waits for a move of the record's district to Toledo,
	// which would make it the laptop's to delete, and says so: it does not
	// merge by itself.
	for _, want := range []string{"Author: ben", "Record: " + id.String(), "Waiting: it merges only if the record's district is changed to one that allows it."} {
		if !strings.Contains(detail, want) {
			t.Errorf("detail lacks %q:\n%s", want, detail)
		}
	}
	// The record itself stands: the deletion is not merged.
	if _, err := u.node.Record(ctx, id); err != nil {
		t.Errorf("the record Toledo tried to delete: %v", err)
	}
}

// tableTexts are the texts of the cells a table draws and shows, in its
// rendering: those scrolled out of sight are not drawn.
func tableTexts(o fyne.CanvasObject) []string {
	if !o.Visible() {
		return nil
	}
	switch x := o.(type) {
	case *widget.Label:
		return []string{x.Text}
	case *fyne.Container:
		var out []string
		for _, c := range x.Objects {
			out = append(out, tableTexts(c)...)
		}
		return out
	case fyne.Widget:
		var out []string
		for _, c := range test.WidgetRenderer(x).Objects() {
			out = append(out, tableTexts(c)...)
		}
		return out
	}
	return nil
}

// On a 1024×600 laptop the situation table is wider than the screen: it
// scrolls sideways, and the district names stay in view beside the last
// columns.
func TestHQTableKeepsDistrictsInSightOnASmallScreen(t *testing.T) {
	u := newTestUI(t, syncproto.RoleHQ, "Cayo")
	u.win.Resize(fyne.NewSize(1024, 600))
	hqAdd(t, u, "damage-assessment", fmt.Sprintf(hqAssessment, 4, 5))
	v := u.newHQView()
	u.win.SetContent(v.content())
	u.win.Resize(fyne.NewSize(1024, 600))
	if w := v.figures.Size().Width; w <= 0 || w > 1024 {
		t.Fatalf("the table is %v wide", w)
	}
	first := tableTexts(v.figures)
	if !slices.Contains(first, "Damage 0") || !slices.Contains(first, "Cayo") {
		t.Fatalf("before scrolling the table shows %q", first)
	}
	v.figures.ScrollTo(widget.TableCellID{Row: 2, Col: hqColConflicts})
	shown := tableTexts(v.figures)
	for _, want := range []string{"In conflict", "Missing", "Belize", "Cayo", "Orange Walk", "Total"} {
		if !slices.Contains(shown, want) {
			t.Errorf("scrolled to the last column, the table does not show %q: %q", want, shown)
		}
	}
	if slices.Contains(shown, "Damage 0") {
		t.Errorf("scrolled to the last column, the first columns still show: %q", shown)
	}
}
