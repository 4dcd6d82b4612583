package desktop

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"lifeline/node"
	"lifeline/syncproto"
)

// openType picks a kit and a kind of record on the "New record" screen, as
// a responder does, and returns the form it shows.
func openType(t *testing.T, u *UI, kitTitle, typeTitle string) *form {
	t.Helper()
	u.bg.Wait() // the other screens' loading
	s := u.screens.form
	s.kitPick.SetSelected(kitTitle)
	if s.typePick.Selected != typeTitle {
		s.typePick.SetSelected(typeTitle)
	}
	fm := u.recordForm()
	if fm == nil {
		t.Fatalf("no form after picking %q, %q", kitTitle, typeTitle)
	}
	return fm
}

func (fm *form) input(t *testing.T, name string) *fieldInput {
	t.Helper()
	ff, ok := fm.byName[name]
	if !ok {
		t.Fatalf("the form of %s has no field %q", fm.t.Name, name)
	}
	return ff.input
}

// records returns the records of a type the node holds.
func records(t *testing.T, u *UI, typeName string) []node.RecordView {
	t.Helper()
	var out []node.RecordView
	for v, err := range u.node.Records(u.ctx, node.Query{Type: typeName}) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

// saveOne taps Save and returns the one record of the form's type the
// node then holds.
func (fm *form) saveOne(t *testing.T, u *UI) node.RecordView {
	t.Helper()
	test.Tap(fm.saveBtn)
	u.bg.Wait()
	recs := records(t, u, fm.t.Name)
	if len(recs) != 1 {
		t.Fatalf("%d records saved, want 1; the form says %q", len(recs), fm.summary.Text)
	}
	return recs[0]
}

// fillDamage opens the form of a damage assessment and fills it as a
// responder would, but for damage_level and household_size.
func fillDamage(t *testing.T, u *UI) *form {
	t.Helper()
	fm := openType(t, u, "Initial damage assessment", "Building damage assessment")
	fm.input(t, "district").sel.SetSelected("Cayo")
	test.Type(fm.input(t, "village").entry, "San Ignacio")
	test.Type(fm.input(t, "lat").entry, "17.1589")
	test.Type(fm.input(t, "lon").entry, "-89.0696")
	fm.input(t, "structure_type").sel.SetSelected("Timber on stilts")
	test.Type(fm.input(t, "reported_by").entry, "vol-193")
	test.Tap(fm.input(t, "reported_at").button)
	return fm
}

func TestSavedDamageAssessmentHoldsWhatWasTyped(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	fm := fillDamage(t, u)
	test.Type(fm.input(t, "damage_level").entry, "3")
	test.Type(fm.input(t, "household_size").entry, "5")
	test.Tap(fm.input(t, "displaced").check)
	fm.input(t, "needs").group.SetSelected([]string{"Tarpaulin", "Drinking water"})
	test.Type(fm.input(t, "notes").entry, "Roof gone on the east side")
	fm.input(t, "photos").photos.add("IMG_2041.jpg", "IMG_2042.jpg")
	if _, err := os.Stat(fm.draftFile()); err != nil {
		t.Fatalf("no draft while typing: %v", err)
	}
	refreshed := false
	u.whenRefreshed(func() { refreshed = true })

	rec := fm.saveOne(t, u)
	got := rec.Fields
	want := map[string]any{
		"district":       "Cayo",
		"village":        "San Ignacio",
		"lat":            17.1589,
		"lon":            -89.0696,
		"structure_type": "stilted timber",
		"damage_level":   int64(3),
		"household_size": int64(5),
		"displaced":      true,
		"needs":          []any{"water", "tarpaulin"}, // in the kit's order
		"notes":          "Roof gone on the east side",
		"photos":         []any{"IMG_2041.jpg", "IMG_2042.jpg"},
		"reported_by":    "vol-193",
	}
	for name, w := range want {
		if !reflect.DeepEqual(got[name], w) {
			t.Errorf("%s = %#v, want %#v", name, got[name], w)
		}
	}
	if _, ok := got["reported_at"]; !ok {
		t.Error("reported_at, filled with Now, was not saved")
	}
	for _, name := range []string{"address", "structure_use", "injured", "dead", "head_of_household", "phone"} {
		if v, ok := got[name]; ok {
			t.Errorf("%s left empty was saved as %#v", name, v)
		}
	}

	if !fm.summary.Visible() || fm.summary.Text != "Saved: record "+rec.ID[:8] {
		t.Errorf("after saving the form says %q, want the record's short id %s", fm.summary.Text, rec.ID[:8])
	}
	if s := fm.input(t, "village").entry.Text; s != "" {
		t.Errorf("the form still holds village %q after saving", s)
	}
	if _, err := os.Stat(fm.draftFile()); !os.IsNotExist(err) {
		t.Errorf("the draft is still there after saving: %v", err)
	}
	if !refreshed {
		t.Error("the other screens were not told of the new record")
	}
}

func TestSavedRoadReportHoldsItsLocationAndDate(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	fm := openType(t, u, "Road status", "Road segment status")
	fm.input(t, "district").sel.SetSelected("Cayo")
	fm.input(t, "road").sel.SetSelected("George Price Highway")
	test.Type(fm.input(t, "segment").entry, "Belmopan to Teakettle")
	loc := fm.input(t, "location")
	test.Type(loc.lat, "17.2510")
	test.Type(loc.lon, "-88.7590")
	fm.input(t, "passable").sel.SetSelected("Closed")
	fm.input(t, "hazards").group.SetSelected([]string{"Flooding"})
	test.Type(fm.input(t, "water_depth_m").entry, "0,5") // a decimal comma
	test.Type(fm.input(t, "expected_reopening").entry, "2024-11-29")
	test.Type(fm.input(t, "reported_by").entry, "vol-193")
	test.Type(fm.input(t, "reported_at").entry, "2024-11-27 14:30")

	rec := fm.saveOne(t, u)
	got := rec.Fields
	if want := map[string]float64{"lat": 17.2510, "lon": -88.7590}; !reflect.DeepEqual(got["location"], want) {
		t.Errorf("location = %#v, want %#v", got["location"], want)
	}
	if got["expected_reopening"] != "2024-11-29" || got["water_depth_m"] != 0.5 || got["passable"] != "closed" {
		t.Errorf("saved %#v", got)
	}
}

func TestValueOutOfBoundsIsShownOnItsField(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	fm := fillDamage(t, u)
	test.Type(fm.input(t, "damage_level").entry, "7")
	// household_size, required, is left empty.

	test.Tap(fm.saveBtn)
	u.bg.Wait()

	if n := len(records(t, u, "damage-assessment")); n != 0 {
		t.Fatalf("%d records saved from a wrong form", n)
	}
	for name, want := range map[string]string{"damage_level": "Must be at most 4.", "household_size": "Required: fill this in."} {
		e := fm.byName[name].err
		if !e.Visible() || e.Text != want {
			t.Errorf("%s says %q (shown: %v), want %q", name, e.Text, e.Visible(), want)
		}
	}
	if e := fm.byName["village"].err; e.Text != "" {
		t.Errorf("village, which is right, says %q", e.Text)
	}
	if !fm.summary.Visible() || !strings.Contains(fm.summary.Text, "Damage level (0-4)") || !strings.Contains(fm.summary.Text, "Occupants") {
		t.Errorf("the summary says %q", fm.summary.Text)
	}
	if s := fm.input(t, "village").entry.Text; s != "San Ignacio" {
		t.Errorf("a refused form lost what was typed: village %q", s)
	}

	// Fixing the value clears its message.
	fm.input(t, "damage_level").entry.SetText("4")
	if e := fm.byName["damage_level"].err; e.Text != "" {
		t.Errorf("damage_level still says %q once fixed", e.Text)
	}
}

func TestLetterInIntegerFieldIsRefusedBeforeSaving(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	fm := fillDamage(t, u)
	test.Type(fm.input(t, "household_size").entry, "5")
	test.Type(fm.input(t, "damage_level").entry, "3a")

	e := fm.byName["damage_level"].err
	if !e.Visible() || e.Text != "Type a whole number, e.g. 3." {
		t.Fatalf("while typing, damage_level says %q (shown: %v)", e.Text, e.Visible())
	}
	test.Tap(fm.saveBtn)
	u.bg.Wait()
	if n := len(records(t, u, "damage-assessment")); n != 0 {
		t.Fatalf("%d records saved with a letter in an integer", n)
	}
	if !e.Visible() || !strings.Contains(fm.summary.Text, "Damage level") {
		t.Errorf("after save, damage_level says %q and the summary %q", e.Text, fm.summary.Text)
	}
}

func TestDraftSurvivesLanguageSwitchAndRestart(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	fm := fillDamage(t, u)
	test.Type(fm.input(t, "damage_level").entry, "x")
	test.Tap(fm.input(t, "displaced").check)
	fm.input(t, "needs").group.SetSelected([]string{"Drinking water", "Tarpaulin"})

	if err := u.SetLang("es"); err != nil {
		t.Fatal(err)
	}
	u.bg.Wait()
	es := u.recordForm()
	if es == nil || es == fm {
		t.Fatal("the language switch did not rebuild the form")
	}
	if got := es.byName["village"].label.Text; got != "Aldea, pueblo o ciudad *" {
		t.Errorf("village is labelled %q in Spanish", got)
	}
	if got := es.input(t, "village").entry.Text; got != "San Ignacio" {
		t.Errorf("village %q after the switch", got)
	}
	if got := es.input(t, "structure_type").sel.Selected; got != "Madera sobre pilotes" {
		t.Errorf("structure type %q after the switch", got)
	}
	if got := es.input(t, "needs").group.Selected; !reflect.DeepEqual(got, []string{"Agua potable", "Lona"}) {
		t.Errorf("needs %q after the switch", got)
	}
	if !es.input(t, "displaced").check.Checked {
		t.Error("displaced unchecked after the switch")
	}
	if e := es.byName["damage_level"].err; !e.Visible() || e.Text != "Escriba un número entero, p. ej. 3." {
		t.Errorf("the letter in damage_level says %q in Spanish", e.Text)
	}

	// The app closed and opened again over the same node and drafts.
	u2 := newUI(u.ctx, u.app, u.win, u.node, u.drafts, u.inline, u.post)
	u2.bg.Wait()
	again := u2.recordForm()
	if again == nil {
		t.Fatal("a new app does not open the form last used")
	}
	if got := again.input(t, "reported_by").entry.Text; got != "vol-193" {
		t.Errorf("reported_by %q after a restart", got)
	}

	again.clear()
	if _, err := os.Stat(again.draftFile()); !os.IsNotExist(err) {
		t.Fatalf("Clear left the draft: %v", err)
	}
	if err := u2.SetLang("en"); err != nil {
		t.Fatal(err)
	}
	u2.bg.Wait()
	if got := u2.recordForm().input(t, "village").entry.Text; got != "" {
		t.Errorf("village %q came back after Clear", got)
	}
}

// Another screen edits a record's field with a fieldInput: what the record
// holds, put in the widgets, reads back as the same value.
func TestFieldValuesRoundTripThroughTheirWidgets(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	u.bg.Wait()
	for typeName, obj := range map[string]string{
		"road-segment": `{"district": "Toledo", "road": "Southern Highway", "segment": "Golden Stream bridge",
			"location": {"lat": 16.3431, "lon": -88.9312}, "passable": "restricted",
			"hazards": ["flooding", "debris"], "water_depth_m": 0.35, "expected_reopening": "2024-12-02",
			"reported_by": "vol-12", "reported_at": "2024-11-27T11:35:23Z",
			"notes": "Two lanes\nunder water", "photos": ["a.jpg", "b.jpg"]}`,
		"damage-assessment": `{"district": "Cayo", "village": "Bullet Tree", "lat": 17.19, "lon": -89.1,
			"structure_type": "thatch", "damage_level": 2, "household_size": 4, "displaced": true,
			"reported_by": "vol-9", "reported_at": "2024-11-27T05:00:00-06:00"}`,
	} {
		ty, err := u.node.Type(typeName)
		if err != nil {
			t.Fatal(err)
		}
		id, err := u.node.Add(u.ctx, typeName, []byte(obj), "test")
		if err != nil {
			t.Fatal(err)
		}
		first, err := u.node.Record(u.ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		again := map[string]any{}
		for _, f := range ty.Fields {
			in := u.newFieldInput(f, func() {})
			in.setValue(first.Fields[f.Name])
			v, err := in.value()
			if err != nil {
				t.Fatalf("%s.%s: %v", typeName, f.Name, err)
			}
			if v != nil {
				again[f.Name] = v
			}
		}
		data, err := json.Marshal(again)
		if err != nil {
			t.Fatal(err)
		}
		id2, err := u.node.Add(u.ctx, typeName, data, "test")
		if err != nil {
			t.Fatalf("%s: the values read back are refused: %v", typeName, err)
		}
		second, err := u.node.Record(u.ctx, id2)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(first.Fields, second.Fields) {
			t.Errorf("%s: read back as\n%#v\nwant\n%#v", typeName, second.Fields, first.Fields)
		}
	}
}
