package desktop

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	fdesktop "fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"

	"lifeline/node"
	"lifeline/schemas"
	"lifeline/syncproto"
)

// The family form of the shelter-registration kit (1.3.0): a household
// repeat of name, sex, age, and pregnant, which the kit asks only of a
// woman of 12 to 50.
const (
	shelterKit  = "Shelter registration"
	familyType  = "Family registration at a shelter"
	shelterType = "Shelter"
)

// rowInput is the input of field of the i-th row on show of repeat rep.
func (fm *form) rowInput(t *testing.T, rep string, i int, field string) *formField {
	t.Helper()
	g := fm.repeat(t, rep)
	if i >= len(g.rows) {
		t.Fatalf("%s shows %d rows, not a row %d", rep, len(g.rows), i+1)
	}
	name := schemas.RowField(rep, g.rows[i].id, field)
	ff, ok := fm.byName[name]
	if !ok {
		t.Fatalf("row %d of %s has no field %s", i+1, rep, field)
	}
	return ff
}

func (fm *form) repeat(t *testing.T, rep string) *repeatGroup {
	t.Helper()
	for _, g := range fm.repeats {
		if g.def.Name == rep {
			return g
		}
	}
	t.Fatalf("the form of %s has no repeat %s", fm.t.Name, rep)
	return nil
}

// rowsOf reads the live rows of repeat rep of a record as the node holds
// it: row id to field to value.
func rowsOf(rec node.RecordView, rep string) map[string]map[string]any {
	rows := map[string]map[string]any{}
	removed := map[string]bool{}
	for name, v := range rec.Fields {
		r, row, field, ok := schemas.SplitRowField(name)
		if !ok || r != rep {
			continue
		}
		if field == schemas.RemoveKey {
			removed[row] = v == true
			continue
		}
		if rows[row] == nil {
			rows[row] = map[string]any{}
		}
		rows[row][field] = v
	}
	for row := range removed {
		if removed[row] {
			delete(rows, row)
		}
	}
	return rows
}

// fillFamily fills what a family's record requires, but its household.
func fillFamily(t *testing.T, u *UI) *form {
	t.Helper()
	fm := openType(t, u, shelterKit, familyType)
	test.Type(fm.input(t, "shelter_name").entry, "San Ignacio Community Centre")
	fm.input(t, "district").sel.SetSelected("Cayo")
	test.Type(fm.input(t, "family_head_name").entry, "Ana Chi")
	test.Type(fm.input(t, "members").entry, "2")
	test.Tap(fm.input(t, "arrived_at").button)
	test.Type(fm.input(t, "registered_by").entry, "vol-193")
	return fm
}

// The pregnant question of a household member is asked of a woman of 12
// to 50 and of no one else, as the kit's relevant says, and follows each
// answer as it is given.
func TestRepeatAsksPregnantOnlyOfWomenOf12To50(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	fm := openType(t, u, shelterKit, familyType)
	g := fm.repeat(t, "household")
	if len(g.rows) != 0 {
		t.Fatalf("a new family shows %d household rows", len(g.rows))
	}
	test.Tap(g.add)
	if got := g.add.Text; got != "Add to Household members" {
		t.Errorf("the add button says %q", got)
	}
	pregnant := fm.rowInput(t, "household", 0, "pregnant")
	if pregnant.box.Visible() {
		t.Error("pregnant is asked before sex and age are known")
	}
	for _, c := range []struct {
		sex, age string
		asked    bool
	}{
		{"Male", "30", false},
		{"Female", "70", false},
		{"Female", "30", true},
		{"Female", "11", false},
		{"Female", "12", true},
		{"Female", "50", true},
		{"Female", "51", false},
		{"Male", "12", false},
	} {
		fm.rowInput(t, "household", 0, "sex").input.sel.SetSelected(c.sex)
		fm.rowInput(t, "household", 0, "age").input.entry.SetText(c.age)
		if got := pregnant.box.Visible(); got != c.asked {
			t.Errorf("%s of %s: pregnant asked %v, want %v", c.sex, c.age, got, c.asked)
		}
	}
}

// A shelter's occupancy above its capacity says the kit's message in the
// app's language under the field as it is typed, and spaces left shows
// capacity less occupancy, computed, read-only.
func TestFormShowsConstraintInSpanishAndCalculation(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	if err := u.SetLang("es"); err != nil {
		t.Fatal(err)
	}
	fm := openType(t, u, "Registro de albergues", "Albergue")
	occupancy, spaces := fm.byName["occupancy"], fm.byName["spaces_left"]
	if spaces.calc == nil || isIn(spaces.box, spaces.input.object) {
		t.Fatal("spaces_left, calculated, is typed in an input")
	}
	test.Type(fm.input(t, "capacity").entry, "100")
	test.Type(occupancy.input.entry, "120")
	if got, want := occupancy.err.Text, "La ocupación no puede superar la capacidad del albergue."; got != want {
		t.Errorf("occupancy above capacity says %q, want %q", got, want)
	}
	if got := spaces.calc.Text; got != "-20" {
		t.Errorf("spaces left shows %q, want -20", got)
	}
	occupancy.input.entry.SetText("80")
	if got := occupancy.err.Text; got != "" {
		t.Errorf("occupancy within capacity says %q", got)
	}
	if got := spaces.calc.Text; got != "20" {
		t.Errorf("spaces left shows %q, want 20", got)
	}

	// Saved, the node computes the same.
	test.Type(fm.input(t, "shelter_name").entry, "Belmopan Comprehensive School")
	fm.input(t, "district").sel.SetSelected("Cayo")
	rec := fm.saveOne(t, u)
	if got := rec.Fields["spaces_left"]; got != int64(20) {
		t.Errorf("the record holds spaces_left %v, want 20", got)
	}
}

// isIn reports whether o is among the objects of c, any level down.
func isIn(c fyne.CanvasObject, o fyne.CanvasObject) bool {
	if c == o {
		return true
	}
	if box, ok := c.(*fyne.Container); ok {
		for _, x := range box.Objects {
			if isIn(x, o) {
				return true
			}
		}
	}
	return false
}

// A family of two is saved with both rows, each as typed; the pregnant
// answer only where it was asked.
func TestRepeatSavesAFamilyOfTwo(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	fm := fillFamily(t, u)
	g := fm.repeat(t, "household")
	test.Tap(g.add)
	test.Tap(g.add)
	test.Type(fm.rowInput(t, "household", 0, "name").input.entry, "Ana Chi")
	fm.rowInput(t, "household", 0, "sex").input.sel.SetSelected("Female")
	test.Type(fm.rowInput(t, "household", 0, "age").input.entry, "31")
	test.Tap(fm.rowInput(t, "household", 0, "pregnant").input.check)
	test.Type(fm.rowInput(t, "household", 1, "name").input.entry, "Luis Chi")
	fm.rowInput(t, "household", 1, "sex").input.sel.SetSelected("Male")
	test.Type(fm.rowInput(t, "household", 1, "age").input.entry, "4")

	rec := fm.saveOne(t, u)
	rows := rowsOf(rec, "household")
	var got []map[string]any
	for _, id := range slices.Sorted(maps.Keys(rows)) {
		got = append(got, rows[id])
	}
	want := []map[string]any{
		{"name": "Ana Chi", "sex": "female", "age": int64(31), "pregnant": true},
		{"name": "Luis Chi", "sex": "male", "age": int64(4)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the household saved is %v, want %v; the form says %q", got, want, fm.summary.Text)
	}
	if n := len(fm.repeat(t, "household").rows); n != 0 {
		t.Errorf("the form shows %d rows after saving, want none", n)
	}
}

// A row added and left without its name is not sent: the name, which
// the kit requires, says so on the row.
func TestRepeatRowWithoutItsNameIsNotSaved(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	fm := fillFamily(t, u)
	test.Tap(fm.repeat(t, "household").add)
	test.Type(fm.rowInput(t, "household", 0, "age").input.entry, "7")
	if got := fm.rowInput(t, "household", 0, "name").label.Text; got != "Name *" {
		t.Errorf("a row's name is labelled %q", got)
	}
	test.Tap(fm.saveBtn)
	u.bg.Wait()
	if n := len(records(t, u, "shelter-registration")); n != 0 {
		t.Fatalf("%d records saved with a row without its name", n)
	}
	if got := fm.rowInput(t, "household", 0, "name").err.Text; got != "Required: fill this in." {
		t.Errorf("the row's name says %q", got)
	}
}

// familyWithTwo is a family record saved with two household members,
// as another responder's laptop did.
const familyWithTwo = `{"shelter_name":"San Ignacio Community Centre","district":"Cayo","family_head_name":"Ana Chi","members":2,` +
	`"arrived_at":"2026-11-20T09:00:00-06:00","registered_by":"vol-12","household":[` +
	`{"name":"Ana Chi","sex":"female","age":31},{"name":"Luis Chi","sex":"male","age":4}]}`

// An edit shows a record's rows; a row removed and another changed are
// saved as such: the removed row is gone, the other holds the new value.
func TestEditRemovesARowAndChangesAnother(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	id, err := u.node.Add(context.Background(), "shelter-registration", []byte(familyWithTwo), "ana")
	if err != nil {
		t.Fatal(err)
	}
	u.tabs.SelectIndex(1)
	fm := editRecord(t, u, id)
	g := fm.repeat(t, "household")
	if len(g.rows) != 2 {
		t.Fatalf("the edit shows %d rows, want 2", len(g.rows))
	}
	if a, l := fm.rowInput(t, "household", 0, "name").input.entry.Text, fm.rowInput(t, "household", 1, "name").input.entry.Text; a != "Ana Chi" || l != "Luis Chi" {
		t.Fatalf("the rows show %q and %q", a, l)
	}
	if !fm.rowInput(t, "household", 0, "pregnant").box.Visible() {
		t.Error("pregnant is not asked of Ana, 31")
	}
	luis := g.rows[1].id
	test.Tap(g.rows[1].remove)
	fm.rowInput(t, "household", 0, "age").input.entry.SetText("32")
	test.Tap(fm.saveBtn)
	u.bg.Wait()
	if u.screens.records.editing != nil {
		t.Fatalf("the edit is still on show: %q", fm.summary.Text)
	}
	rec := recordNow(t, u, id)
	rows := rowsOf(rec, "household")
	if len(rows) != 1 {
		t.Fatalf("the record holds %d live rows, want 1: %v", len(rows), rows)
	}
	if _, ok := rows[luis]; ok {
		t.Error("Luis's row, removed, is still live")
	}
	for _, r := range rows {
		if want := (map[string]any{"name": "Ana Chi", "sex": "female", "age": int64(32)}); !reflect.DeepEqual(r, want) {
			t.Errorf("Ana's row holds %v, want %v", r, want)
		}
	}
	if got := rec.Fields[schemas.RowField("household", luis, schemas.RemoveKey)]; got != true {
		t.Errorf("Luis's row's remove is %v, want true", got)
	}
	if n := len(rec.History); n != 2 {
		t.Errorf("%d changes, want the record's and one edit", n)
	}
}

// Rows added and typed in are kept in the draft: the app opened again
// shows them, the empty one too.
func TestDraftKeepsRows(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	fm := openType(t, u, shelterKit, familyType)
	g := fm.repeat(t, "household")
	test.Tap(g.add)
	test.Tap(g.add)
	test.Type(fm.rowInput(t, "household", 0, "name").input.entry, "Ana Chi")
	fm.rowInput(t, "household", 0, "sex").input.sel.SetSelected("Female")

	again := reopen(u).recordForm()
	if again == nil || again == fm {
		t.Fatal("the app opened again shows no new form")
	}
	if n := len(again.repeat(t, "household").rows); n != 2 {
		t.Fatalf("the draft gives %d rows, want 2", n)
	}
	if got := again.rowInput(t, "household", 0, "name").input.entry.Text; got != "Ana Chi" {
		t.Errorf("the first row's name is %q", got)
	}
	if got := again.rowInput(t, "household", 0, "sex").input.sel.Selected; got != "Female" {
		t.Errorf("the first row's sex is %q", got)
	}
	if got := again.rowInput(t, "household", 1, "name").input.entry.Text; got != "" {
		t.Errorf("the second row's name is %q", got)
	}
}

// The line under a field keeps its room whether it says something or
// not: the field below does not move when a message comes or goes.
func TestFormErrorLineKeepsTheLayout(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	fm := openType(t, u, shelterKit, shelterType)
	scroll := fm.content.(*fyne.Container).Objects[0].(*container.Scroll)
	box := scroll.Content.(*fyne.Container)
	below := fm.byName["spaces_left"].box
	where := func() fyne.Position {
		box.Refresh() // lays the fields out again
		return below.Position()
	}
	test.Type(fm.input(t, "capacity").entry, "10")
	before := where()
	test.Type(fm.input(t, "occupancy").entry, "12")
	if fm.byName["occupancy"].err.Text == "" {
		t.Fatal("occupancy above capacity says nothing")
	}
	if after := where(); after != before {
		t.Errorf("the field below moved from %v to %v when the message came", before, after)
	}
	fm.input(t, "occupancy").entry.SetText("8")
	if after := where(); after != before {
		t.Errorf("the field below moved from %v to %v when the message went", before, after)
	}
}

// Ctrl+S saves the form: typed in an entry, which has the keyboard, or
// with nothing focused, to the window.
func TestFormSavesOnCtrlS(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	fm := openType(t, u, shelterKit, shelterType)
	name := fm.input(t, "shelter_name").entry
	test.Type(name, "Belmopan Comprehensive School")
	fm.input(t, "district").sel.SetSelected("Cayo")
	ctrlS := &fdesktop.CustomShortcut{KeyName: fyne.KeyS, Modifier: fyne.KeyModifierShortcutDefault}
	u.win.Canvas().Focus(name)
	// What the driver does with a shortcut while an entry has the keyboard.
	u.win.Canvas().Focused().(fyne.Shortcutable).TypedShortcut(ctrlS)
	u.bg.Wait()
	if n := len(records(t, u, "shelter")); n != 1 {
		t.Fatalf("Ctrl+S in an entry saved %d records, want 1; the form says %q", n, fm.summary.Text)
	}

	test.Type(fm.input(t, "shelter_name").entry, "Hopkins Primary School")
	fm.input(t, "district").sel.SetSelected("Cayo")
	u.win.Canvas().Unfocus()
	u.win.Canvas().(fyne.Shortcutable).TypedShortcut(ctrlS)
	u.bg.Wait()
	if n := len(records(t, u, "shelter")); n != 2 {
		t.Fatalf("Ctrl+S to the window saved %d records in all, want 2; the form says %q", n, fm.summary.Text)
	}

	// On the Records screen, it saves the edit on show.
	id, err := syncproto.ParseRecordID(records(t, u, "shelter")[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	u.tabs.SelectIndex(1)
	edit := editRecord(t, u, id)
	edit.input(t, "capacity").entry.SetText("350")
	u.win.Canvas().Unfocus()
	u.win.Canvas().(fyne.Shortcutable).TypedShortcut(ctrlS)
	u.bg.Wait()
	if got := recordNow(t, u, id).Fields["capacity"]; got != int64(350) {
		t.Errorf("Ctrl+S on the edit left capacity %v, want 350; the form says %q", got, edit.summary.Text)
	}
}

// At each change the form asks the kit's logic of every field: it reads
// the record once for all of them, so that what it takes per field does
// not grow with the rows. A family of 200 rows, which another node may
// write, is typed in as one of 20; asking of each field alone read the
// whole record for each, and a repeat of 30 questions in 200 rows took
// seconds a keystroke.
func TestFormLogicPerFieldDoesNotGrowWithTheRows(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	fm := openType(t, u, shelterKit, familyType)
	g := fm.repeat(t, "household")
	perField := func(rows int) float64 {
		t.Helper()
		fm.quiet = true
		for len(g.rows) < rows {
			g.addNew()
		}
		fm.quiet = false
		fm.relogic() // once before, so that only what a change costs is counted
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		fm.relogic()
		runtime.ReadMemStats(&after)
		return float64(after.TotalAlloc-before.TotalAlloc) / float64(len(fm.allFields()))
	}
	few := perField(20)
	if many := perField(schemas.MaxRows); many > 2*few {
		t.Fatalf("the form's logic takes %.0f bytes a field with %d rows, %.0f with 20", many, schemas.MaxRows, few)
	}
}

// A record of a family of 198, within the kit's 200 rows, shows on the
// Records screen at a cost per field that does not grow with its rows.
// Before, each field was added to the screen's form in turn, every
// addition laying out all the fields before it again: the family took
// 17 s to show, the window held all the while.
func TestARecordOfManyRowsShowsAtACostPerFieldThatDoesNotGrow(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	ctx := context.Background()
	members := func(from, n int) string {
		var rows []string
		for i := from; i < from+n; i++ {
			rows = append(rows, fmt.Sprintf(`{"name":"Member %d Chi","sex":"female","age":%d}`, i, 20+i%50))
		}
		return strings.Join(rows, ",")
	}
	family := func(rows int) node.RecordView {
		t.Helper()
		// Rows come 20 at a time, as a family's members are registered.
		first := min(rows, 20)
		id, err := u.node.Add(ctx, "shelter-registration", []byte(strings.Replace(familyWithTwo,
			`{"name":"Ana Chi","sex":"female","age":31},{"name":"Luis Chi","sex":"male","age":4}`, members(0, first), 1)), "ana")
		if err != nil {
			t.Fatal(err)
		}
		for from := first; from < rows; from += 20 {
			if _, err := u.node.Update(ctx, id, []byte(`{"household":[`+members(from, min(20, rows-from))+`]}`), "ana"); err != nil {
				t.Fatal(err)
			}
		}
		rec, err := u.node.Record(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return rec
	}
	v := recordsScreenFor(t, u)
	perField := func(rec node.RecordView) float64 {
		t.Helper()
		v.selected = rec.ID
		v.showRecord(rec) // once before, so that the fonts are measured
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		v.showRecord(rec)
		runtime.ReadMemStats(&after)
		return float64(after.TotalAlloc-before.TotalAlloc) / float64(len(rec.Order))
	}
	few := perField(family(20))
	if many := perField(family(198)); many > 2*few {
		t.Fatalf("showing a record takes %.0f bytes a field with 198 rows, %.0f with 20", many, few)
	}
}
