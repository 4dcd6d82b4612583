package desktop

import (
	"encoding/json"
	"fmt"
	"path/filepath"

	"fyne.io/fyne/v2"
	fdesktop "fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"

	"lifeline/schemas"
)

// Repeated entry: a responder enters dozens of records in a row, so a new
// form starts with what is the same from one record to the next. Its
// district is the laptop's own, when the type asks a district and the
// laptop's is one of its choices; the assessor is the one last saved with
// this kind of record; and "Save and start another" keeps where the last
// record was (district, village, position).

// rememberedFields are the fields whose value last saved is put in the
// next new form of the type: who assesses is the same person all day.
// Only a text field of the type itself that the kit does not mark
// personal is remembered.
var rememberedFields = []string{"reported_by"}

// keptFields are the fields "Save and start another" keeps, with any geo
// field: where the responder stands, not what was found there.
var keptFields = []string{"district", "village", "lat", "lon"}

// rememberedExt ends the name of the file, in the drafts folder and
// sealed as drafts are, that keeps a type's remembered values. It ends in
// draftExt, so that it moves with the drafts when a person signs in.
const rememberedExt = ".remembered" + draftExt

func (fm *form) rememberedFile() string {
	return filepath.Join(fm.dir, fm.t.Name+rememberedExt)
}

// rememberable tells whether ff's value is remembered from one saved
// record to the next new form.
func rememberable(ff *formField) bool {
	if ff.row != nil || ff.def.Personal || ff.def.Type != schemas.Text || ff.def.Calculated() {
		return false
	}
	for _, n := range rememberedFields {
		if ff.def.Name == n {
			return true
		}
	}
	return false
}

// remember keeps the values of the remembered fields the form holds as it
// is saved, for the next new form. A field left empty forgets what it
// kept.
func (fm *form) remember() {
	if fm.dir == "" || fm.edit != nil {
		return
	}
	d := map[string][]string{}
	for _, ff := range fm.fields {
		if rememberable(ff) && ff.relevant && !blank(ff.input.raw()) {
			d[ff.name] = ff.input.raw()
		}
	}
	b, err := json.Marshal(d)
	if err == nil {
		err = fm.u.writeDraftFile(fm.rememberedFile(), b)
	}
	if err != nil && !fm.draftFailed {
		fm.draftFailed = true
		fm.u.showError(fmt.Errorf(fm.u.T("form.err.draft"), err))
	}
}

// fillRemembered puts in a new form the laptop's district and the values
// remembered from the last record saved of its type. A remembered file
// that does not open is ignored: the responder types the value again.
func (fm *form) fillRemembered() {
	if fm.edit != nil {
		return
	}
	quiet := fm.quiet
	fm.quiet = true
	defer func() { fm.quiet = quiet }()
	if ff, ok := fm.byName["district"]; ok && ff.row == nil && ff.def.Type == schemas.Choice && !ff.def.Calculated() {
		own := fm.u.node.Self().District
		for _, c := range ff.def.Choices {
			if own != "" && c.Value == own {
				ff.input.setValue(own)
				break
			}
		}
	}
	if fm.dir == "" {
		return
	}
	b, err := fm.u.readDraftFile(fm.rememberedFile())
	if err != nil {
		return
	}
	var d map[string][]string
	if json.Unmarshal(b, &d) != nil {
		return
	}
	for _, ff := range fm.fields {
		if raw, ok := d[ff.name]; ok && rememberable(ff) {
			ff.input.setRaw(raw)
		}
	}
}

// kept returns the raw texts of the fields "Save and start another"
// keeps.
func (fm *form) kept() map[string][]string {
	d := map[string][]string{}
	for _, ff := range fm.fields {
		keep := ff.def.Type == schemas.Geo
		for _, n := range keptFields {
			keep = keep || ff.def.Name == n
		}
		if keep && !ff.def.Calculated() && !ff.def.Personal && !blank(ff.input.raw()) {
			d[ff.name] = ff.input.raw()
		}
	}
	return d
}

// restore puts kept texts back in the (new, empty) form, and keeps them
// as its draft.
func (fm *form) restore(d map[string][]string) {
	fm.quiet = true
	for _, ff := range fm.fields {
		if raw, ok := d[ff.name]; ok {
			ff.input.setRaw(raw)
		}
	}
	fm.quiet = false
	for _, ff := range fm.fields {
		_, ff.parseErr = ff.input.value()
	}
	fm.relogic()
	fm.writeDraft()
}

// saveAndAnother saves the form as Save does, then starts a new record of
// the same type keeping where the last one was.
func (fm *form) saveAndAnother() {
	fm.saveThen(fm.kept())
}

// Ctrl+Shift+S (Cmd+Shift+S on a Mac) is "Save and start another" on
// the New record screen: the hand stays on the keyboard from one record
// to the next. The window's canvas takes it, and the form's entries pass
// it on to the canvas (formEntry.TypedShortcut).
var saveAnotherShortcut = &fdesktop.CustomShortcut{KeyName: fyne.KeyS, Modifier: fyne.KeyModifierShortcutDefault | fyne.KeyModifierShift}

func isSaveAnotherShortcut(s fyne.Shortcut) bool {
	c, ok := s.(*fdesktop.CustomShortcut)
	return ok && c.KeyName == saveAnotherShortcut.KeyName && c.Modifier == saveAnotherShortcut.Modifier
}

// saveAnotherShownForm saves the new record on show and starts another
// keeping the location, as its button does, unless a save is under way.
// An edit on the Records screen has no "another": nothing happens there.
func (u *UI) saveAnotherShownForm() {
	if u.tabs == nil || u.tabs.Selected() == nil || u.tabs.Selected().Text != u.T("tab.new") || u.formCovered() {
		return
	}
	if fm := u.recordForm(); fm != nil && fm.againBtn != nil && !fm.againBtn.Disabled() {
		fm.saveAndAnother()
	}
}

// setSaving disables the form's save buttons while a save is under way:
// one record per press, however tired the hand.
func (fm *form) setSaving(on bool) {
	for _, b := range []*widget.Button{fm.saveBtn, fm.againBtn} {
		switch {
		case b == nil:
		case on:
			b.Disable()
		default:
			b.Enable()
		}
	}
}
