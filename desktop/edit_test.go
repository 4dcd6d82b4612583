package desktop

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"lifeline/node"
	"lifeline/syncproto"
)

const missingPerson = `{"full_name":"Maria Pop","district":"Cayo","age":34,"last_seen_place":"Succotz ferry","status":"missing",` +
	`"reporter_name":"Ana Cho","reported_at":"2026-11-20T09:00:00-06:00","last_seen_at":"2026-11-19T17:45:00-06:00"}`

// addMissing saves a missing person on n, as a responder did earlier.
func addMissing(t *testing.T, n *node.Node) syncproto.RecordID {
	t.Helper()
	id, err := n.Add(context.Background(), "missing-person", []byte(missingPerson), "ana")
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// editRecord opens record id on u's Records screen and taps Edit, and
// returns the form that edits it.
func editRecord(t *testing.T, u *UI, id syncproto.RecordID) *form {
	t.Helper()
	u.bg.Wait()
	v := u.screens.records
	v.open(id.String())
	u.bg.Wait()
	if v.editBtn == nil {
		t.Fatalf("record %s shows no Edit button", id)
	}
	test.Tap(v.editBtn)
	if v.editing == nil || v.editing.edit.id != id {
		t.Fatal("Edit does not open the record in its form")
	}
	return v.editing
}

// recordNow reads record id as u's node holds it now.
func recordNow(t *testing.T, u *UI, id syncproto.RecordID) node.RecordView {
	t.Helper()
	rec, err := u.node.Record(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// A missing person found safe is marked so in the app: the record opens
// in its form with its values, and saving writes one change of exactly the
// two fields changed, in the node's name where no one signs in.
func TestEditMarksAMissingPersonFoundSafe(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	id := addMissing(t, u.node)
	fm := editRecord(t, u, id)
	for name, want := range map[string]string{"full_name": "Maria Pop", "age": "34", "last_seen_place": "Succotz ferry", "found_at_place": ""} {
		if got := fm.input(t, name).entry.Text; got != want {
			t.Errorf("%s shows %q, want %q", name, got, want)
		}
	}
	if got := fm.input(t, "status").sel.Selected; got != "Missing" {
		t.Errorf("status shows %q", got)
	}
	if got := fm.input(t, "district").sel.Selected; got != "Cayo" {
		t.Errorf("district shows %q", got)
	}

	fm.input(t, "status").sel.SetSelected("Found safe")
	test.Type(fm.input(t, "found_at_place").entry, "Ladyville shelter")
	if _, err := os.Stat(fm.draftFile()); err != nil {
		t.Fatalf("no draft of the edit while typing: %v", err)
	}
	test.Tap(fm.saveBtn)
	u.bg.Wait()

	rec := recordNow(t, u, id)
	if len(rec.History) != 2 {
		t.Fatalf("%d changes in the history, want the first and the edit", len(rec.History))
	}
	change := rec.History[len(rec.History)-1]
	if got := slices.Sorted(maps.Keys(change.Fields)); !slices.Equal(got, []string{"found_at_place", "status"}) {
		t.Fatalf("the edit changed %q, want status and found_at_place alone", got)
	}
	if change.Fields["status"] != "found-safe" || change.Fields["found_at_place"] != "Ladyville shelter" {
		t.Errorf("the edit wrote %v", change.Fields)
	}
	if change.Author != "cayo-laptop-07" {
		t.Errorf("the edit is by %q, want the node's name", change.Author)
	}
	if rec.Fields["full_name"] != "Maria Pop" || rec.Fields["age"] != int64(34) {
		t.Errorf("the record holds %v after the edit", rec.Fields)
	}

	v := u.screens.records
	if v.editing != nil {
		t.Fatal("the form is still on show after saving")
	}
	if v.record.Fields["status"] != "found-safe" {
		t.Errorf("the record view shows status %v", v.record.Fields["status"])
	}
	if detail := strings.Join(labelTexts(v.detail), "\n"); !strings.Contains(detail, "Saved the changes: Case status, Place found.") {
		t.Errorf("the record does not say what was saved:\n%s", detail)
	}
	if _, err := os.Stat(fm.draftFile()); !os.IsNotExist(err) {
		t.Errorf("the edit's draft is still there after saving: %v", err)
	}
	if got := u.editingRecord(); got != "" {
		t.Errorf("the edit saved is still the edit on show: %q", got)
	}
}

// An edit the node refuses writes nothing and says why on the field, as a
// new record's form does; a save that changes nothing writes nothing.
func TestInvalidOrUnchangedEditWritesNothing(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	id := addMissing(t, u.node)
	fm := editRecord(t, u, id)
	fm.input(t, "age").entry.SetText("-3")
	fm.input(t, "last_seen_place").entry.SetText("")
	fm.input(t, "status").sel.SetSelected("Found safe")
	test.Tap(fm.saveBtn)
	u.bg.Wait()

	if n := len(recordNow(t, u, id).History); n != 1 {
		t.Fatalf("a refused edit wrote: %d changes", n)
	}
	for name, want := range map[string]string{"age": "Must be at least 0.", "last_seen_place": "Required: fill this in."} {
		if e := fm.byName[name].err; !e.Visible() || e.Text != want {
			t.Errorf("%s says %q (shown: %v), want %q", name, e.Text, e.Visible(), want)
		}
	}
	if e := fm.byName["status"].err; e.Text != "" {
		t.Errorf("status, which is right, says %q", e.Text)
	}
	if !fm.summary.Visible() || !strings.Contains(fm.summary.Text, "Age (years)") {
		t.Errorf("the summary says %q", fm.summary.Text)
	}
	if u.screens.records.editing != fm || fm.input(t, "status").sel.Selected != "Found safe" {
		t.Fatal("a refused edit left its form, or lost what was typed")
	}

	// Put back as it was (the age with spaces round it): nothing changed.
	fm.input(t, "age").entry.SetText(" 34 ")
	fm.input(t, "last_seen_place").entry.SetText("Succotz ferry")
	fm.input(t, "status").sel.SetSelected("Missing")
	test.Tap(fm.saveBtn)
	u.bg.Wait()
	if n := len(recordNow(t, u, id).History); n != 1 {
		t.Fatalf("an unchanged save wrote: %d changes", n)
	}
	v := u.screens.records
	if v.editing != nil {
		t.Fatal("an unchanged save left the form on show")
	}
	if detail := strings.Join(labelTexts(v.detail), "\n"); !strings.Contains(detail, "Nothing was changed, so nothing was saved.") {
		t.Errorf("the record does not say nothing was saved:\n%s", detail)
	}

	// Nor does opening it and saving at once.
	fm = editRecord(t, u, id)
	test.Tap(fm.saveBtn)
	u.bg.Wait()
	if n := len(recordNow(t, u, id).History); n != 1 {
		t.Fatalf("saving an edit untouched wrote: %d changes", n)
	}
}

// A personal value headquarters cannot open (a Cayo laptop sealed it with
// its own key) is shown in the form, read-only, and never sent back: the
// laptop that reads it still reads what it wrote.
func TestWithheldFieldIsNotEditedNorSent(t *testing.T) {
	ctx := context.Background()
	u := newTestUI(t, syncproto.RoleHQ, "Belize")
	ca := enrollTestUI(t, u)
	cayo := enrolledPeer(t, ca, "cayo-laptop-02", "Cayo")
	id := addMissing(t, cayo)
	recordsBundle(t, cayo, u.node)
	if _, ok := recordNow(t, u, id).Fields["full_name"].(node.Withheld); !ok {
		t.Fatal("HQ reads full_name: the test needs it withheld")
	}

	fm := editRecord(t, u, id)
	for _, name := range []string{"full_name", "reporter_name"} {
		if _, ok := fm.byName[name]; ok {
			t.Errorf("%s, withheld, can be edited", name)
		}
	}
	texts := strings.Join(labelTexts(fm.content), "\n")
	if strings.Count(texts, "personal data of another district") < 2 || !strings.Contains(texts, "This computer cannot read this value") {
		t.Fatalf("the form shows:\n%s", texts)
	}
	fm.input(t, "status").sel.SetSelected("Found safe")
	test.Tap(fm.saveBtn)
	u.bg.Wait()

	rec := recordNow(t, u, id)
	if change := rec.History[len(rec.History)-1]; len(rec.History) != 2 || len(change.Fields) != 1 || change.Fields["status"] != "found-safe" {
		t.Fatalf("the edit wrote %d changes, the last %v", len(rec.History), change.Fields)
	}
	recordsBundle(t, u.node, cayo)
	there, err := cayo.Record(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if there.Fields["full_name"] != "Maria Pop" || there.Fields["reporter_name"] != "Ana Cho" || there.Fields["status"] != "found-safe" {
		t.Fatalf("the laptop that wrote it reads %v", there.Fields)
	}
}

// A field in conflict shows the version that wins for now, says that a
// value saved settles it, and a value saved does.
func TestEditOfAFieldInConflictSettlesIt(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	peer := recordsPeer(t, u)
	id := recordsConflict(t, u, peer, "Bullet Tree North", "Bullet Tree South")
	fm := editRecord(t, u, id)
	if got, want := fm.input(t, "village").entry.Text, recordNow(t, u, id).Fields["village"]; got != want {
		t.Errorf("village shows %q, want the version that wins, %q", got, want)
	}
	if texts := strings.Join(labelTexts(fm.content), "\n"); !strings.Contains(texts, "In conflict: shown is the version that wins for now. Saving a value here settles the conflict") {
		t.Fatalf("the form does not say the village is in conflict:\n%s", texts)
	}
	fm.input(t, "village").entry.SetText("Bullet Tree Falls")
	test.Tap(fm.saveBtn)
	u.bg.Wait()
	recordsResolved(t, u, id, "Bullet Tree Falls")
}

// What is typed in an edit is kept, sealed, in a draft of its record: a
// restart or a language switch opens the edit again as it was left, and
// Cancel discards it once the user says so.
func TestEditDraftSurvivesARestart(t *testing.T) {
	const canary = "Qzxv Canary-5150 Wbnt"
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	id := addMissing(t, u.node)
	other := addMissing(t, u.node)
	fm := editRecord(t, u, id)
	fm.input(t, "status").sel.SetSelected("Found injured")
	test.Type(fm.input(t, "case_notes").entry, canary)
	fm.input(t, "age").entry.SetText("")
	if found := holding(t, u.drafts, canary); len(found) > 0 {
		t.Fatalf("the typed value is in the clear in %q", found)
	}

	again := func(u *UI) *form {
		t.Helper()
		v := u.screens.records
		if v.editing == nil || v.editing.edit.id != id {
			t.Fatal("the edit left on show does not open again")
		}
		fm := v.editing
		if got := fm.input(t, "case_notes").entry.Text; got != canary {
			t.Errorf("case notes %q", got)
		}
		if got := fm.input(t, "age").entry.Text; got != "" {
			t.Errorf("age, cleared, shows %q", got)
		}
		if got := fm.input(t, "full_name").entry.Text; got != "Maria Pop" {
			t.Errorf("full name, untouched, shows %q", got)
		}
		return fm
	}
	u2 := reopen(u)
	fm = again(u2)
	if got := fm.input(t, "status").sel.Selected; got != "Found injured" {
		t.Errorf("status %q after a restart", got)
	}
	if err := u2.SetLang("es"); err != nil {
		t.Fatal(err)
	}
	u2.bg.Wait()
	fm = again(u2)
	if got := fm.input(t, "status").sel.Selected; got != "Localizada con lesiones" {
		t.Errorf("status %q in Spanish", got)
	}
	if err := u2.SetLang("en"); err != nil {
		t.Fatal(err)
	}
	u2.bg.Wait()

	// Another record picked: the edit goes, its draft stays and is said.
	v := u2.screens.records
	v.open(other.String())
	u2.bg.Wait()
	if v.editing != nil {
		t.Fatal("the edit stays on show over another record")
	}
	v.open(id.String())
	u2.bg.Wait()
	if detail := strings.Join(labelTexts(v.detail), "\n"); !strings.Contains(detail, "not saved yet, are kept") {
		t.Errorf("the record does not say an edit of it is kept:\n%s", detail)
	}
	test.Tap(v.editBtn)
	fm = again(u2)

	// Cancel asks first; once the user says so, the draft goes and nothing
	// was written.
	test.Tap(findButton(fm.content, "Cancel"))
	yes := overlayButton(u2.win, "Yes")
	if yes == nil || v.editing != fm {
		t.Fatal("Cancel with changes typed does not ask first")
	}
	test.Tap(yes)
	if v.editing != nil {
		t.Fatal("Cancel does not go back to the record")
	}
	if _, err := os.Stat(fm.draftFile()); !os.IsNotExist(err) {
		t.Errorf("the edit's draft is still there after Cancel: %v", err)
	}
	if n := len(recordNow(t, u2, id).History); n != 1 {
		t.Errorf("Cancel wrote: %d changes", n)
	}
	if reopen(u2).screens.records.editing != nil {
		t.Error("an edit cancelled opens again at the next start")
	}
}

// overlayButton is the button that says label on the top overlay of win
// (a dialog), or nil.
func overlayButton(win fyne.Window, label string) *widget.Button {
	top := win.Canvas().Overlays().Top()
	if top == nil {
		return nil
	}
	var find func(o fyne.CanvasObject) *widget.Button
	find = func(o fyne.CanvasObject) *widget.Button {
		switch x := o.(type) {
		case *widget.Button:
			if x.Text == label {
				return x
			}
			return nil
		case *fyne.Container:
			for _, c := range x.Objects {
				if b := find(c); b != nil {
					return b
				}
			}
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(x).Objects() {
				if b := find(c); b != nil {
					return b
				}
			}
		}
		return nil
	}
	return find(top)
}

// Where people sign in, the edit is by the person signed in, its draft is
// theirs, and it leaves the screen with them and comes back with them.
func TestEditIsByWhoeverIsSignedIn(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	id := addMissing(t, u.node)
	if _, err := u.node.AddPerson(context.Background(), "Ana Cho", []byte(anaPass)); err != nil { // Argon2id 1
		t.Fatal(err)
	}
	u.RequireSignIn()
	signInAs(t, u, "Ana Cho", anaPass) // Argon2id 2
	fm := editRecord(t, u, id)
	if want := filepath.Join(u.drafts, u.personDrafts("Ana Cho")); fm.dir != want {
		t.Fatalf("the edit's draft goes to %s, want Ana's folder %s", fm.dir, want)
	}
	fm.input(t, "status").sel.SetSelected("Reunited with family")
	test.Tap(fm.saveBtn)
	u.bg.Wait()
	rec := recordNow(t, u, id)
	if change := rec.History[len(rec.History)-1]; len(rec.History) != 2 || change.Author != "Ana Cho" {
		t.Fatalf("the edit is by %q (%d changes), want Ana Cho", change.Author, len(rec.History))
	}

	fm = editRecord(t, u, id)
	test.Type(fm.input(t, "case_notes").entry, "With her sister in Benque")
	test.Tap(findButton(u.header, "Switch person"))
	if v := u.screens.records; v.editing != nil {
		t.Fatal("with no one signed in, Ana's edit is on show")
	}
	if _, err := os.Stat(fm.draftFile()); err != nil {
		t.Fatalf("Ana's edit is not kept for her: %v", err)
	}
	signInAs(t, u, "Ana Cho", anaPass) // Argon2id 3
	if fm := u.screens.records.editing; fm == nil || fm.input(t, "case_notes").entry.Text != "With her sister in Benque" {
		t.Fatal("Ana signed in again does not find the edit she left")
	}
}

// The record's form fits the smallest screen the app is used on, its
// Save button reached by scrolling.
func TestEditFitsASmallScreen(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	id := addMissing(t, u.node)
	u.tabs.SelectIndex(1)
	for _, lang := range []string{"en", "es"} {
		if err := u.SetLang(lang); err != nil {
			t.Fatal(err)
		}
		fm := editRecord(t, u, id)
		if min := u.win.Content().MinSize(); min.Width > 1024 || min.Height > 600 {
			t.Errorf("in %s, the window with the form needs %v, more than 1024×600", lang, min)
		}
		if _, ok := fm.content.(*fyne.Container).Objects[0].(*container.Scroll); !ok {
			t.Errorf("the form's fields do not scroll")
		}
	}
}

// A field edited while a sync brought another version of it is not saved
// over that version unseen: nothing is written, the record is shown again
// with it, and what was typed is kept for the edit opened again, whose
// save then writes it. Before, the save replaced the version that came,
// which the person never saw.
func TestAnEditIsNotSavedOverAVersionThatCameMeanwhile(t *testing.T) {
	ctx := context.Background()
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	peer := recordsPeer(t, u)
	id, err := u.node.Add(ctx, "damage-assessment", recordsJSON("Cayo", "Bullet Tree", 2), "ana")
	if err != nil {
		t.Fatal(err)
	}
	recordsBundle(t, u.node, peer)
	fm := editRecord(t, u, id)
	// The other laptop's correction comes by a sync while the form is open.
	if _, err := peer.Update(ctx, id, []byte(`{"village":"Bullet Tree Falls"}`), "luis"); err != nil {
		t.Fatal(err)
	}
	recordsBundle(t, peer, u.node)
	fm.input(t, "village").entry.SetText("Bullet Tree North")
	test.Tap(fm.saveBtn)
	u.bg.Wait()
	if got := recordNow(t, u, id).Fields["village"]; got != "Bullet Tree Falls" {
		t.Fatalf("the village is %v after the save; want the version that came, Bullet Tree Falls, kept", got)
	}
	v := u.screens.records
	if v.editing != nil || !strings.Contains(v.notice, "changed on another node") {
		t.Fatalf("the record is not shown again saying why: editing %v, notice %q", v.editing != nil, v.notice)
	}
	for _, l := range objectsIn[*widget.Label](v.detail) {
		if l.Text == v.notice && l.Importance != widget.WarningImportance {
			t.Errorf("the notice that nothing was saved is shown with importance %v, not as a warning", l.Importance)
		}
	}
	// Seen now, the edit opened again saves what was typed.
	fm = editRecord(t, u, id)
	if got := fm.input(t, "village").entry.Text; got != "Bullet Tree North" {
		t.Fatalf("the edit opened again holds %q, want what was typed", got)
	}
	test.Tap(fm.saveBtn)
	u.bg.Wait()
	if got := recordNow(t, u, id).Fields["village"]; got != "Bullet Tree North" {
		t.Fatalf("the village is %v after the second save, want Bullet Tree North", got)
	}
}
