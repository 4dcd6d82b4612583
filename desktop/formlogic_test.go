package desktop

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"lifeline/fieldkits"
	"lifeline/syncproto"
)

// A kit of defaults and a rule that requires a field: what an XLSForm
// brings.
const visitKit = `kit: home-visits
version: 1.0.0
title: {en: Home visits, es: Visitas}
description: {en: One record per visit., es: Un registro por visita.}
types:
  - name: home-visit
    version: 1
    priority: 5
    title: {en: Home visit, es: Visita}
    summary: [district]
    fields:
      - name: district
        type: choice
        required: true
        label: {en: District, es: Distrito}
        choices:
          - {value: Cayo, en: Cayo, es: Cayo}
      - name: visited_on
        type: date
        default: "today()"
        label: {en: Visited on, es: Visitado el}
      - name: status
        type: choice
        default: open
        label: {en: Status, es: Estado}
        choices:
          - {value: open, en: Open, es: Abierto}
          - {value: closed, en: Closed, es: Cerrado}
      - name: people
        type: integer
        default: "2"
        label: {en: People, es: Personas}
      - name: closed_reason
        type: text
        max: 200
        relevant: "${status} = 'closed'"
        required: "${status} = 'closed'"
        label: {en: Why closed, es: Motivo del cierre}
`

// A new form starts with the kit's defaults; a field required by a rule
// is asked, and marked required, only while the rule holds.
func TestFormFillsDefaultsAndMarksRequiredIf(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	k, err := fieldkits.Parse("home-visits.yaml", []byte(visitKit))
	if err != nil {
		t.Fatal(err)
	}
	belize := time.FixedZone("Belize", -6*60*60) // UTC−6 all year
	before := time.Now().In(belize).Format(time.DateOnly)
	fm, _ := u.newForm(k.Types[0], "Home visit", nil)
	fm.fillDefaults()
	fm.relogic()
	after := time.Now().In(belize).Format(time.DateOnly)

	if got := fm.input(t, "visited_on").entry.Text; got != before && got != after {
		t.Errorf("visited on %q, want today in Belize, %s", got, after)
	}
	if got := fm.input(t, "status").sel.Selected; got != "Open" {
		t.Errorf("status %q, want Open", got)
	}
	if got := fm.input(t, "people").entry.Text; got != "2" {
		t.Errorf("people %q, want 2", got)
	}
	reason := fm.byName["closed_reason"]
	if reason.box.Visible() {
		t.Error("why closed is asked of an open visit")
	}
	fm.input(t, "status").sel.SetSelected("Closed")
	if !reason.box.Visible() || reason.label.Text != "Why closed *" {
		t.Errorf("a closed visit: why closed shown %v, labelled %q", reason.box.Visible(), reason.label.Text)
	}
	fm.input(t, "status").sel.SetSelected("Open")
	if reason.box.Visible() {
		t.Error("why closed is still asked once the visit is open again")
	}
}

// A text pasted into a field by mistake, longer than the field holds, is
// refused before the entry takes it, saying so: Fyne lays out an entry's
// whole text at every key, and 100,000 characters pasted took 71 s, then
// 35 s for each key after, the window held all the while. What fits is
// pasted as before.
func TestAPasteLongerThanTheFieldHoldsIsRefused(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	fm := fillDamage(t, u)
	notes := fm.input(t, "notes").entry // the kit's notes hold 2,000 characters
	test.Type(notes, "Roof gone. ")
	clip := u.app.Clipboard()
	clip.SetContent(strings.Repeat("water up to the windows ", 4000))
	u.win.Canvas().Focus(notes)
	notes.TypedShortcut(&fyne.ShortcutPaste{Clipboard: clip})
	if notes.Text != "Roof gone. " {
		t.Fatalf("the notes hold %d characters after the paste", len(notes.Text))
	}
	want := "Notes holds at most 2000 characters; with the text on the clipboard it would hold 96011. Nothing was pasted."
	if said := screenTexts(u.win.Canvas().Overlays().Top()); !strings.Contains(said, want) {
		t.Fatalf("the refusal says %q", said)
	}
	u.win.Canvas().Overlays().Top().Hide()
	u.win.Canvas().Overlays().Remove(u.win.Canvas().Overlays().Top())

	clip.SetContent("East wall cracked.")
	notes.TypedShortcut(&fyne.ShortcutPaste{Clipboard: clip})
	if notes.Text != "Roof gone. East wall cracked." {
		t.Fatalf("a paste that fits leaves %q", notes.Text)
	}
}
