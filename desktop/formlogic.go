package desktop

import (
	"encoding/json"
	"time"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	fdesktop "fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"

	"lifeline/schemas"
)

// The form follows the kit's logic (docs/kits.md, "Logic") as it is
// typed: after each change, schemas.Type.Logic says of every field whether
// it is asked, required, meets its constraint, and what the kit computes
// for it. The form holds no rule of its own: the node's Apply, on save,
// decides what is stored.

// cborFalse marks a row on show as live for At: a row whose fields are
// all empty is still a row (count() counts it, its fields are asked).
var cborFalse = []byte{0xf4}

// values are the form's values as the kit's logic reads them: each
// field's canonical CBOR, as the node would store it. A value the UI or
// the type refuses reads as empty; a calculated field is left to At.
func (fm *form) values() schemas.Values {
	vals := schemas.Values{}
	for _, ff := range fm.allFields() {
		if ff.def.Calculated() {
			continue
		}
		v, err := ff.input.value()
		if err != nil || v == nil {
			continue
		}
		if raw := fm.encode(ff, v); raw != nil {
			vals[ff.name] = raw
		}
	}
	for _, g := range fm.repeats {
		for _, r := range g.rows {
			vals[schemas.RowField(g.def.Name, r.id, schemas.RemoveKey)] = cborFalse
		}
	}
	return vals
}

// encode turns a field's value into the CBOR the type gives it, or nil
// when the type refuses it: through the type's own parser, so that the
// form's logic reads exactly what the node would store.
func (fm *form) encode(ff *formField, v any) []byte {
	var obj map[string]any
	if ff.row == nil {
		obj = map[string]any{ff.def.Name: v}
	} else {
		obj = map[string]any{ff.row.g.def.Name: []map[string]any{{schemas.RowKey: ff.row.id, ff.def.Name: v}}}
	}
	data, err := json.Marshal(obj)
	if err != nil {
		return nil
	}
	in, err := fm.t.ParseJSON(data, schemas.Update)
	if err != nil || len(in.Fields) != 1 || in.Fields[0].Name != ff.name {
		return nil
	}
	return in.Fields[0].Value
}

// relogic shows what the kit's logic makes of every field now: hidden
// while not asked, marked required when it applies, the kit's message
// under a value that fails its constraint, a calculated value as
// computed. Cheap: a few microseconds a field.
func (fm *form) relogic() {
	logic := fm.t.Logic(fm.values(), schemas.Today(time.Now()))
	lang := fm.u.Lang()
	for _, g := range fm.repeats {
		p := logic.At(g.def, "")
		setVisible(g.box, p.Relevant)
	}
	for _, ff := range fm.allFields() {
		row := ""
		if ff.row != nil {
			row = ff.row.id
		}
		p := logic.At(ff.def, row)
		ff.relevant, ff.required = p.Relevant, p.Required
		setVisible(ff.box, p.Relevant)
		label := ff.def.Label.In(lang)
		if p.Required || ff.def.Required.Always {
			label += " *"
		}
		if ff.label.Text != label {
			ff.label.SetText(label)
		}
		ff.logicMsg = ""
		if !p.ConstraintOK {
			ff.logicMsg = p.Message.In(lang)
			if ff.logicMsg == "" {
				ff.logicMsg = fm.u.T("form.rule.constraint")
			}
		}
		if ff.calc != nil {
			text := "—"
			if p.Calculated != nil {
				text = ff.def.Format(p.Calculated, lang)
			}
			if ff.calc.Text != text {
				ff.calc.SetText(text)
			}
		}
		ff.render()
	}
}

func setVisible(o fyne.CanvasObject, show bool) {
	switch {
	case show && !o.Visible():
		o.Show()
	case !show && o.Visible():
		o.Hide()
	}
}

// fillDefaults puts the kit's defaults of a new record in the form, as
// the node's Apply computes them for a record given nothing.
func (fm *form) fillDefaults() {
	var in schemas.Input
	_ = fm.t.Apply(nil, &in, schemas.Create, schemas.Today(time.Now())) // it objects to what is missing: only its defaults are wanted
	quiet := fm.quiet
	fm.quiet = true
	for _, fc := range in.Fields {
		ff, ok := fm.byName[fc.Name]
		if !ok || ff.def.Calculated() || ff.def.Default == "" {
			continue
		}
		if v, err := ff.def.Decode(fc.Value); err == nil {
			ff.input.setValue(v)
		}
	}
	fm.quiet = quiet
}

// Ctrl+S (Cmd+S on a Mac) saves the form on show. An entry that has the
// keyboard takes every shortcut itself, so the form's entries pass this
// one to their form; elsewhere the window's canvas does.
var saveShortcut = &fdesktop.CustomShortcut{KeyName: fyne.KeyS, Modifier: fyne.KeyModifierShortcutDefault}

func isSaveShortcut(s fyne.Shortcut) bool {
	c, ok := s.(*fdesktop.CustomShortcut)
	return ok && c.KeyName == fyne.KeyS && c.Modifier == fyne.KeyModifierShortcutDefault
}

// shortcutSave saves the form as its Save button does, unless a save is
// under way.
func (fm *form) shortcutSave() {
	if fm.saveBtn == nil || fm.saveBtn.Disabled() {
		return
	}
	fm.save()
}

// formCovered says whether something covers the forms: the sign-in or
// the passphrase screen, or a dialog (a warning, a save under way). Fyne
// hands the app the window's keys whatever covers it; they save only a
// form in sight.
func (u *UI) formCovered() bool {
	return u.covered() || u.win.Canvas().Overlays().Top() != nil
}

// saveShownForm saves the form on show: the new record's, or the edit
// of a record on the Records screen.
func (u *UI) saveShownForm() {
	if u.tabs == nil || u.tabs.Selected() == nil || u.formCovered() {
		return
	}
	switch u.tabs.Selected().Text {
	case u.T("tab.new"):
		if fm := u.recordForm(); fm != nil {
			fm.shortcutSave()
		}
	case u.T("tab.records"):
		if v := u.screens.records; v != nil && v.editing != nil {
			v.editing.shortcutSave()
		}
	}
}

// formEntry is an entry of a form: Ctrl+S typed in it saves the form.
type formEntry struct {
	widget.Entry
	save func()
	// limit is how many characters the entry may hold once a paste is
	// in (0 for any number); a paste that would pass it is refused, and
	// tooLong told how many it would hold. Fyne lays out an entry's
	// whole text at every key: 100,000 characters pasted by mistake
	// took 71 s to paste, and 35 s each key after.
	limit   int
	tooLong func(chars int)
}

func newFormEntry() *formEntry {
	e := &formEntry{}
	e.ExtendBaseWidget(e)
	return e
}

// TypedShortcut saves the form on Ctrl+S, and leaves every other
// shortcut to the entry.
func (e *formEntry) TypedShortcut(s fyne.Shortcut) {
	if p, ok := s.(*fyne.ShortcutPaste); ok && e.limit > 0 && p.Clipboard != nil {
		chars := utf8.RuneCountInString(e.Text) - utf8.RuneCountInString(e.SelectedText()) + utf8.RuneCountInString(p.Clipboard.Content())
		if chars > e.limit {
			if e.tooLong != nil {
				e.tooLong(chars)
			}
			return
		}
	}
	if isSaveShortcut(s) && e.save != nil {
		e.save()
		return
	}
	if isSaveAnotherShortcut(s) { // the window's: pass it on
		if c, ok := fyne.CurrentApp().Driver().CanvasForObject(e).(fyne.Shortcutable); ok {
			c.TypedShortcut(s)
		}
		return
	}
	e.Entry.TypedShortcut(s)
}
