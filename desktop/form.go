package desktop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"lifeline/node"
	"lifeline/schemas"
	"lifeline/syncproto"
)

// recordScreen is the "New record" tab: a kit, a kind of record of the
// kit, and that kind's form.
type recordScreen struct {
	u        *UI
	kitPick  *widget.Select
	typePick *widget.Select
	kits     map[string]*schemas.Kit  // by title in the user's language
	types    map[string]*schemas.Type // the picked kit's, by title
	holder   *fyne.Container
	form     *form // nil until a kind of record is picked
}

// newRecordScreen is where a responder fills a record. The form is
// generated from the kit; what is typed is kept as a draft at each change,
// so that neither closing the app nor switching language loses it, and the
// kind of record last picked opens again.
func (u *UI) newRecordScreen() fyne.CanvasObject {
	lang := u.Lang()
	s := &recordScreen{u: u, kits: map[string]*schemas.Kit{}}
	var titles []string
	for _, k := range u.node.Kits().Kits() {
		title := k.Title.In(lang)
		s.kits[title] = k
		titles = append(titles, title)
	}
	s.holder = container.NewStack(widget.NewLabel(u.T("form.start")))
	s.typePick = widget.NewSelect(nil, s.pickType)
	s.typePick.PlaceHolder = u.T("form.type.pick")
	s.kitPick = widget.NewSelect(titles, s.pickKit)
	s.kitPick.PlaceHolder = u.T("form.kit.pick")

	if err := u.sealClearDrafts(); err != nil {
		u.showError(fmt.Errorf(u.T("form.err.draft"), err))
	}
	s.openLast()

	u.screens.form = s
	u.win.Canvas().AddShortcut(saveShortcut, func(fyne.Shortcut) { u.saveShownForm() })
	u.win.SetOnDropped(u.dropPhotos)

	pickers := container.New(layout.NewFormLayout(),
		widget.NewLabel(u.T("form.kit")), s.kitPick,
		widget.NewLabel(u.T("form.type")), s.typePick)
	return container.NewBorder(pickers, nil, nil, nil, s.holder)
}

// recordForm is the form the "New record" screen shows, or nil.
func (u *UI) recordForm() *form {
	if s := u.screens.form; s != nil {
		return s.form
	}
	return nil
}

// openLast picks the kind of record last picked, as the drafts in use
// remember it, which opens its form filled from its draft.
func (s *recordScreen) openLast() {
	t, ok := s.u.node.Kits().Type(s.u.openType())
	if !ok {
		return
	}
	for title, k := range s.kits {
		if k.Name == t.Kit {
			s.kitPick.SetSelected(title)
		}
	}
	if title := t.Title.In(s.u.Lang()); s.typePick.Selected != title {
		s.typePick.SetSelected(title)
	}
}

// reload shows the screen as the drafts now in use keep it, when another
// person signs in: the form on show goes (its draft is kept where it was
// typed), and the kind of record last picked in these drafts opens.
func (s *recordScreen) reload() {
	s.kitPick.ClearSelected() // which clears the kind of record, and the form
	s.typePick.ClearSelected()
	s.openLast()
}

func (s *recordScreen) pickKit(title string) {
	s.types = map[string]*schemas.Type{}
	var titles []string
	if k, ok := s.kits[title]; ok {
		for _, t := range k.Types {
			title := t.Title.In(s.u.Lang())
			s.types[title] = t
			titles = append(titles, title)
		}
	}
	s.typePick.SetOptions(titles)
	if len(titles) == 1 {
		s.typePick.SetSelected(titles[0])
	} else {
		s.typePick.ClearSelected()
	}
}

func (s *recordScreen) pickType(title string) {
	t, ok := s.types[title]
	if !ok {
		s.form = nil
		s.holder.Objects = []fyne.CanvasObject{widget.NewLabel(s.u.T("form.start"))}
		s.holder.Refresh()
		return
	}
	s.form = s.u.openForm(t)
	s.holder.Objects = []fyne.CanvasObject{s.form.content}
	s.holder.Refresh()
	s.u.rememberType(t.Name)
}

// The kind of record last picked is kept beside the drafts, so that the
// app opens where the responder left it.
const openTypeName = "open"

// draftDir is the folder the forms keep their drafts in now, "" for none
// (UI.noDrafts).
func (u *UI) draftDir() string {
	if u.noDrafts {
		return ""
	}
	return filepath.Join(u.drafts, u.draftsSub)
}

func (u *UI) openTypeFile() string { return filepath.Join(u.draftDir(), openTypeName) }

// openType is the kind of record last picked, or "". One that does not
// open is forgotten: the next pick replaces it.
func (u *UI) openType() string {
	if u.draftDir() == "" {
		return ""
	}
	b, err := u.readDraftFile(u.openTypeFile())
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func (u *UI) rememberType(name string) {
	if u.draftDir() == "" || u.openType() == name {
		return
	}
	// Failing to remember only means picking the kind again: not worth a
	// dialog.
	_ = u.writeDraftFile(u.openTypeFile(), []byte(name+"\n"))
}

// form is the form of one record type, generated from its schema: a new
// record's, or a saved record's being edited (edit.go).
type form struct {
	u *UI
	t *schemas.Type
	// edit is the saved record the form edits, nil for a new record.
	edit *formEdit
	// dir is the folder its draft is kept in, chosen as it opens (the
	// person signed in's), "" for none: a save that ends after someone
	// else signed in clears the draft of the one who saved.
	dir    string
	fields []*formField // the type's own, in its order
	// repeats are the type's repeat groups, with their rows on show.
	repeats []*repeatGroup
	// byName finds a field of the form by its name in the record, a
	// row's as <repeat>.<row>.<field>.
	byName map[string]*formField
	// fixed, if not nil, gives what stands in place of a field's input
	// (newForm), for the rows added later too.
	fixed fixedFunc
	// summary says what the last save did: the record it saved, or which
	// fields to fix.
	summary *widget.Label
	saveBtn *widget.Button
	// againBtn is "Save and start another", nil for an edit (quick.go).
	againBtn *widget.Button
	// position is "Use my position", nil for a type without lat and lon.
	position *positionButton
	content  fyne.CanvasObject
	// quiet is set while the form fills its own widgets (from the draft,
	// or clearing them), which is no change to write back.
	quiet bool
	// draftFailed is set once the user was told the draft cannot be
	// written, so that every keystroke does not say it again.
	draftFailed bool
}

// formField is one field of a form: its label, its input, and the line
// under it that says what is wrong with its value.
type formField struct {
	// name is the field's name in the record: <repeat>.<row>.<field> for
	// a field of a row.
	name string
	def  *schemas.Field
	row  *repeatRow // nil for a field of the type itself
	// box holds all of the field, hidden while the kit does not ask it.
	box   *fyne.Container
	label *widget.Label
	// input takes the value; a calculated field's is not shown: calc
	// shows what the kit computes.
	input *fieldInput
	calc  *widget.Label
	err   *widget.Label
	// As the kit's logic last said: asked, required.
	relevant, required bool
	// What is wrong, by precedence: what the UI cannot read, what the
	// node refused at the last save, the kit's constraint message.
	parseErr, nodeErr error
	logicMsg          string
}

// render shows on the error line what is wrong with the field's value.
func (ff *formField) render() {
	var msg string
	switch {
	case ff.parseErr != nil:
		msg = ff.parseErr.Error()
	case ff.nodeErr != nil:
		msg = ff.nodeErr.Error()
	default:
		msg = ff.logicMsg
	}
	if msg = node.Printable(msg); ff.err.Text != msg {
		ff.err.SetText(msg)
	}
}

// newErrorLine is the line under a field that says what is wrong with
// it. It is always laid out, one line high, empty or not, so that
// nothing moves under the pointer when a message comes or goes; a
// message longer than the line ends in an ellipsis (after a save, the
// top of the form names the fields to fix).
func newErrorLine() *widget.Label {
	l := widget.NewLabel("")
	l.Importance = widget.DangerImportance
	l.Truncation = fyne.TextTruncateEllipsis
	return l
}

// allFields are the form's fields, the type's then each row's.
func (fm *form) allFields() []*formField {
	all := slices.Clone(fm.fields)
	for _, g := range fm.repeats {
		for _, r := range g.rows {
			all = append(all, r.fields...)
		}
	}
	return all
}

// title names a field for the line at the top: a row's with its repeat
// and row.
func (ff *formField) title(lang string) string {
	if ff.row == nil {
		return ff.def.Label.In(lang)
	}
	return fmt.Sprintf("%s (%s): %s", ff.row.g.def.Label.In(lang), ff.row.heading.Text, ff.def.Label.In(lang))
}

// openForm builds the form of t in the user's language, filled from its
// draft if one was kept.
func (u *UI) openForm(t *schemas.Type) *form {
	fm, box := u.newForm(t, t.Title.In(u.Lang()), nil)
	fm.saveBtn = widget.NewButtonWithIcon(u.T("form.save"), theme.DocumentSaveIcon(), fm.save)
	fm.saveBtn.Importance = widget.HighImportance
	clearBtn := widget.NewButtonWithIcon(u.T("form.clear"), theme.ContentClearIcon(), func() {
		dialog.ShowConfirm(u.T("form.clear"), u.T("form.clear.confirm"), func(yes bool) {
			if yes {
				fm.clear()
			}
		}, u.win)
	})
	fm.againBtn = widget.NewButtonWithIcon(u.T("form.again"), theme.ContentAddIcon(), fm.saveAndAnother)
	buttons := container.NewHBox(layout.NewSpacer(), clearBtn, fm.againBtn, fm.saveBtn)
	fm.content = container.NewBorder(fm.summary, buttons, nil, nil, container.NewVScroll(box))
	fm.fillDefaults()
	fm.fillRemembered()
	fm.loadDraft()
	fm.relogic()
	return fm
}

// fixedFunc gives what stands in place of the input of field f, named
// name in the record, and a note to show under it (newForm).
type fixedFunc func(f *schemas.Field, name string) (value fyne.CanvasObject, note string)

// newForm makes the form of t under heading, and the box of its fields
// for the caller to scroll: each field's label, help, input and the line
// that says what is wrong with its value; each repeat a group of rows.
// fixed, if not nil, may give what stands in place of a field's input (a
// value shown and never sent: the field is then no field of the form)
// and a note to show under the field.
func (u *UI) newForm(t *schemas.Type, heading string, fixed fixedFunc) (*form, *fyne.Container) {
	fm := &form{u: u, t: t, dir: u.draftDir(), byName: make(map[string]*formField, len(t.Fields)), fixed: fixed}
	fm.summary = widget.NewLabel("")
	fm.summary.Wrapping = fyne.TextWrapWord
	fm.summary.Hide()

	title := widget.NewLabelWithStyle(heading, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.Wrapping = fyne.TextWrapWord
	box := container.NewVBox(title, widget.NewLabel(u.T("form.required")))
	// "Use my position" goes beside lat, its line under lon, or under lat
	// if lon comes first or is no input.
	var latBox, lonBox *fyne.Container
	for _, f := range t.Fields {
		if f.Type == schemas.Repeat {
			box.Add(fm.newRepeat(f).box)
			continue
		}
		fb, ff := fm.newFieldBox(f, f.Name, nil)
		box.Add(fb)
		if ff == nil {
			continue
		}
		fm.fields = append(fm.fields, ff)
		fm.byName[f.Name] = ff
		switch {
		case f.Name == "lat" && fm.position != nil:
			latBox = fb
		case f.Name == "lon" && latBox != nil:
			lonBox = fb
		}
	}
	switch {
	case lonBox != nil:
		lonBox.Add(fm.position.status)
	case latBox != nil:
		latBox.Add(fm.position.status)
	}
	return fm, box
}

// newFieldBox makes the box of field f, named name in the record, of row
// (nil for a field of the type): its label, help, input or calculated
// value, and error line. The field is nil when fm.fixed stands in place
// of its input.
func (fm *form) newFieldBox(f *schemas.Field, name string, row *repeatRow) (*fyne.Container, *formField) {
	lang := fm.u.Lang()
	label := widget.NewLabelWithStyle(fieldLabel(f, lang), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	fb := container.NewVBox(widget.NewSeparator(), label)
	if help := f.Help.In(lang); help != "" {
		h := widget.NewLabelWithStyle(help, fyne.TextAlignLeading, fyne.TextStyle{Italic: true})
		h.Wrapping = fyne.TextWrapWord
		fb.Add(h)
	}
	var value fyne.CanvasObject
	var note string
	if fm.fixed != nil {
		value, note = fm.fixed(f, name)
	}
	if value != nil {
		fb.Add(value)
		if note != "" {
			fb.Add(formNote(note))
		}
		return fb, nil
	}
	ff := &formField{name: name, def: f, row: row, box: fb, label: label, relevant: true}
	ff.input = fm.u.newFieldInput(f, func() { fm.changed(ff) })
	ff.input.onSave = fm.shortcutSave
	ff.err = newErrorLine()
	switch {
	case f.Calculated():
		ff.calc = widget.NewLabel("—")
		fb.Add(ff.calc)
	case row == nil && f.Name == "lat" && hasPosition(fm.t):
		fm.position = fm.newPositionButton()
		fb.Add(fm.position.beside(ff.input.object))
	default:
		fb.Add(ff.input.object)
	}
	if note != "" {
		fb.Add(formNote(note))
	}
	fb.Add(ff.err)
	return fb, ff
}

// formNote is a line of warning under a field.
func formNote(s string) *widget.Label {
	l := widget.NewLabel(s)
	l.Wrapping, l.Importance = fyne.TextWrapWord, widget.WarningImportance
	return l
}

// fieldLabel is a field's label in lang, marked when the field is required.
func fieldLabel(f *schemas.Field, lang string) string {
	if f.Required.Always {
		return f.Label.In(lang) + " *"
	}
	return f.Label.In(lang)
}

// changed checks what the UI can check of the field's new value, shows
// what the kit's logic makes of the form now, and keeps the draft.
func (fm *form) changed(ff *formField) {
	if fm.quiet {
		return
	}
	_, ff.parseErr = ff.input.value()
	ff.nodeErr = nil
	fm.relogic()
	fm.writeDraft()
}

// save stores the form as a new record, or for an edit, the fields
// changed: the fields the UI can check are checked first; the node checks
// the rest, and its objections are shown on the fields they concern.
func (fm *form) save() { fm.saveThen(nil) }

// saveThen saves the form as save does; once a new record is stored, the
// new empty form holds kept, raw texts by field name (quick.go).
func (fm *form) saveThen(kept map[string][]string) {
	fm.summary.Hide()
	fm.relogic()
	obj := map[string]any{}
	var bad []*formField
	for _, ff := range fm.allFields() {
		ff.nodeErr = nil
		if ff.def.Calculated() || !ff.relevant {
			// The kit computes it, or does not ask it: never sent.
			ff.parseErr = nil
			ff.render()
			continue
		}
		v, err := ff.input.value()
		ff.parseErr = err
		if err == nil && v == nil && ff.required && ff.row != nil && !ff.row.saved && !ff.row.blank() {
			// The node would name the row by an id it makes: said here,
			// on the field, as the kit's logic requires it.
			ff.nodeErr = errors.New(fm.u.T("form.rule.required"))
		}
		ff.render()
		switch {
		case err != nil || ff.nodeErr != nil:
			bad = append(bad, ff)
		case ff.row != nil: // sent with its row, below
		case fm.edit != nil:
			if fm.edit.changed(ff, v) {
				obj[ff.name] = v // nil clears it
			}
		case v != nil:
			obj[ff.name] = v
		}
	}
	for _, g := range fm.repeats {
		g.err.SetText("")
		if !g.box.Visible() {
			continue
		}
		if rows := g.rowsJSON(); len(rows) > 0 {
			obj[g.def.Name] = rows
		}
	}
	if len(bad) > 0 {
		fm.showAttention(bad, nil)
		return
	}
	if fm.edit != nil {
		fm.saveEdit(obj)
		return
	}
	fm.warnThenAdd(obj, kept) // possibly already reported (dupwarn.go)
}

// add stores obj as a new record; the new empty form holds kept.
func (fm *form) add(obj map[string]any, kept map[string][]string) {
	var id syncproto.RecordID
	fm.write(obj, func(ctx context.Context, data []byte, author string) (err error) {
		id, err = fm.u.node.Add(ctx, fm.t.Name, data, author)
		return err
	}, func() {
		fm.remember()
		fm.clear()
		if len(kept) > 0 {
			fm.restore(kept)
		}
		fm.summary.Importance = widget.SuccessImportance
		fm.summary.SetText(fmt.Sprintf(fm.u.T("form.saved"), shortID(id)))
		fm.summary.Show()
		fm.u.Refresh()
	})
}

// write hands obj to the node with put, off the UI thread, in the name of
// whoever makes the change, then runs done on the UI thread. The node's
// objections to a value are shown on its field, not in a dialog.
func (fm *form) write(obj map[string]any, put func(ctx context.Context, data []byte, author string) error, done func()) {
	data, err := json.Marshal(obj)
	if err != nil {
		fm.u.showError(err)
		return
	}
	var invalid *schemas.ValidationError
	fm.setSaving(true)
	fm.u.run(fm.u.T("form.saving"), func(ctx context.Context) error {
		author, err := fm.u.author(ctx)
		if err != nil {
			return err
		}
		err = put(ctx, data, author)
		if errors.As(err, &invalid) {
			return nil // shown on the fields, not in a dialog
		}
		return err
	}, func(err error) {
		fm.setSaving(false)
		switch {
		case err != nil: // run has shown it
		case invalid != nil:
			fm.showInvalid(invalid)
		default:
			done()
		}
	})
}

// shortID is the part of a record id a person reads out.
func shortID(id syncproto.RecordID) string { return id.String()[:8] }

// showInvalid puts each of the node's objections on its field.
func (fm *form) showInvalid(invalid *schemas.ValidationError) {
	msgs := map[*formField][]string{}
	var bad []*formField
	var general []string
	groups := map[*repeatGroup][]string{}
	for _, e := range invalid.Errs {
		ff, ok := fm.byName[e.Field]
		if !ok {
			// A row the node named by the id it made for it, or the
			// repeat itself.
			if g, nf := fm.repeatOf(e.Field); g != nil {
				msg := e.Msg
				if nf != nil {
					msg = nf.Label.In(fm.u.Lang()) + ": " + fm.u.ruleText(nf, e)
				}
				groups[g] = append(groups[g], msg)
				general = append(general, g.def.Label.In(fm.u.Lang())+": "+msg)
				continue
			}
			general = append(general, e.Msg)
			continue
		}
		if msgs[ff] == nil {
			bad = append(bad, ff)
		}
		msgs[ff] = append(msgs[ff], fm.u.ruleText(ff.input.field, e))
	}
	for _, ff := range bad {
		ff.nodeErr = errors.New(strings.Join(msgs[ff], "; "))
		ff.render()
	}
	for g, m := range groups {
		g.err.SetText(node.Printable(strings.Join(m, "; ")))
	}
	fm.showAttention(bad, general)
}

// showAttention says at the top which fields to fix.
func (fm *form) showAttention(bad []*formField, general []string) {
	var names []string
	for _, ff := range bad {
		names = append(names, ff.title(fm.u.Lang()))
	}
	names = append(names, general...)
	fm.summary.Importance = widget.DangerImportance
	fm.summary.SetText(fmt.Sprintf(fm.u.T("form.attention"), strings.Join(names, "; ")))
	fm.summary.Show()
}

// ruleText says a broken rule in the user's language, with the field's
// bound; the node's own words stand for the rules a form cannot foresee.
func (u *UI) ruleText(f *schemas.Field, e *schemas.FieldError) string {
	other := fmt.Sprintf(u.T("form.rule.other"), e.Msg)
	switch {
	case e.Rule == "required":
		return u.T("form.rule.required")
	case e.Rule == "constraint" && f.ConstraintMessage.In(u.Lang()) != "":
		return f.ConstraintMessage.In(u.Lang())
	}
	kind, ok := map[schemas.FieldType]string{schemas.Integer: "number", schemas.Decimal: "number",
		schemas.Text: "text", schemas.Multi: "multi", schemas.Photo: "photo"}[f.Type]
	if !ok {
		return other
	}
	var limit float64
	switch {
	case e.Rule == "min" && f.Min != nil:
		limit = *f.Min
	case e.Rule == "max" && f.Max != nil:
		limit = *f.Max
	case e.Rule == "max" && f.Type == schemas.Text:
		limit = schemas.DefaultMaxText
	case e.Rule == "max" && f.Type == schemas.Photo:
		limit = schemas.DefaultMaxPhotos
	default:
		return other
	}
	return fmt.Sprintf(u.T("form.rule."+e.Rule+"."+kind), strconv.FormatFloat(limit, 'f', -1, 64))
}

// clear empties the form and discards its draft.
func (fm *form) clear() {
	fm.quiet = true
	for _, g := range fm.repeats {
		for len(g.rows) > 0 {
			g.removeRow(g.rows[0])
		}
		g.removed = nil
		g.err.SetText("")
	}
	for _, ff := range fm.fields {
		ff.input.setRaw(nil)
		ff.parseErr, ff.nodeErr = nil, nil
	}
	fm.fillDefaults()
	fm.fillRemembered()
	fm.quiet = false
	fm.relogic()
	fm.summary.Hide()
	fm.removeDraft()
}

// A draft is the raw texts of a form's widgets by field name, as JSON, in
// a sealed file per record type (drafts.go), or for an edit, those of the
// fields changed, in a file per record: small enough to write at every
// change.
func (fm *form) draftFile() string {
	if fm.edit != nil {
		return editDraftFile(fm.dir, fm.edit.id)
	}
	return filepath.Join(fm.dir, fm.t.Name+draftExt)
}

func (fm *form) writeDraft() {
	if fm.dir == "" {
		return
	}
	d := map[string][]string{}
	for _, ff := range fm.allFields() {
		if ff.def.Calculated() {
			continue
		}
		raw := ff.input.raw()
		saved := fm.edit != nil && (ff.row == nil || ff.row.saved)
		if saved && fm.edit.typed(ff, raw) || !saved && !blank(raw) {
			d[ff.name] = raw
		}
	}
	fm.draftRows(d)
	if len(d) == 0 {
		fm.removeDraft()
		return
	}
	b, err := json.Marshal(d)
	if err == nil {
		err = fm.u.writeDraftFile(fm.draftFile(), b)
	}
	if err != nil && !fm.draftFailed {
		fm.draftFailed = true
		fm.u.showError(fmt.Errorf(fm.u.T("form.err.draft"), err))
	}
}

func (fm *form) removeDraft() {
	if fm.dir == "" {
		return
	}
	if err := os.Remove(fm.draftFile()); err != nil && !errors.Is(err, os.ErrNotExist) && !fm.draftFailed {
		fm.draftFailed = true
		fm.u.showError(fmt.Errorf(fm.u.T("form.err.draft"), err))
	}
}

// loadDraft fills the form from its draft. A draft that does not open
// (another node's key sealed it, it was altered, it holds no form) is set
// aside, and the form says so and starts empty: what is typed next must
// not replace it unseen. One that cannot be read for another reason is
// left as it is: the next change writes a good one.
func (fm *form) loadDraft() {
	if fm.dir == "" {
		return
	}
	b, err := fm.u.readDraftFile(fm.draftFile())
	var d map[string][]string
	if err == nil && json.Unmarshal(b, &d) != nil {
		err = fmt.Errorf("%w: it holds no form", errDraft)
	}
	if errors.Is(err, errDraft) {
		fm.setAsideDraft(err)
		return
	}
	if err != nil {
		return
	}
	fm.quiet = true
	fm.loadDraftRows(d)
	for _, ff := range fm.allFields() {
		if raw, ok := d[ff.name]; ok && !ff.def.Calculated() {
			ff.input.setRaw(raw)
		}
	}
	fm.quiet = false
	for _, ff := range fm.allFields() {
		_, ff.parseErr = ff.input.value()
	}
	fm.relogic()
}

// setAsideDraft sets aside the form's draft, which does not open for the
// reason why, and says so at the top of the form.
func (fm *form) setAsideDraft(why error) {
	var msg string
	if aside, err := setAsideDraft(fm.draftFile()); err == nil {
		msg = fmt.Sprintf(fm.u.T("form.draft.aside"), why, fm.u.draftName(filepath.Join(fm.dir, aside)))
	} else {
		msg = fmt.Sprintf(fm.u.T("form.draft.lost"), why)
	}
	fm.summary.Importance = widget.DangerImportance
	fm.summary.SetText(msg)
	fm.summary.Show()
}

func blank(raw []string) bool {
	for _, s := range raw {
		if strings.TrimSpace(s) != "" {
			return false
		}
	}
	return true
}

// fieldInput is the widget that takes one field's value, suited to the
// field's type. Its raw texts are what a draft keeps; value is what a
// record stores. Other screens use it to edit a field of a record:
// setValue with the field's decoded value, then value for the update.
type fieldInput struct {
	u     *UI
	field *schemas.Field
	// Which widgets are set depends on the field's type.
	entry    *formEntry         // text, integer, decimal, date, datetime, ref
	sel      *widget.Select     // choice
	check    *widget.Check      // bool
	group    *widget.CheckGroup // multi
	lat, lon *formEntry         // geo
	photos   *photoField        // photo (photos.go)
	// button fills the entry: a calendar, or now.
	button *widget.Button
	object fyne.CanvasObject // what to lay out
	// onSave, if set, runs on Ctrl+S typed in one of its entries.
	onSave func()
}

// longText is the length above which text gets several lines.
const longText = 200

// localTime is how a date and time is typed and shown: the laptop's zone.
const localTime = "2006-01-02 15:04"

// newFieldInput makes the widget for f, labelled in the user's language;
// changed runs after each change the user makes.
func (u *UI) newFieldInput(f *schemas.Field, changed func()) *fieldInput {
	in := &fieldInput{u: u, field: f}
	onText := func(string) { changed() }
	newEntry := func(hint string) *formEntry {
		e := newFormEntry()
		e.PlaceHolder = hint
		e.limit = entryLimit(f)
		e.tooLong = func(chars int) {
			u.showError(fmt.Errorf(u.T("form.paste.toolong"), f.Label.In(u.Lang()), e.limit, chars))
		}
		e.OnChanged = onText
		e.save = func() {
			if in.onSave != nil {
				in.onSave()
			}
		}
		return e
	}
	switch f.Type {
	case schemas.Text:
		in.entry = newEntry("")
		if f.Max == nil || *f.Max > longText {
			in.entry.MultiLine = true
			in.entry.Wrapping = fyne.TextWrapWord
			in.entry.SetMinRowsVisible(3)
		}
		in.object = in.entry
	case schemas.Integer, schemas.Decimal:
		in.entry = newEntry(bounds(f))
		in.object = in.entry
	case schemas.Bool:
		in.check = widget.NewCheck(u.T("form.yes"), func(bool) { changed() })
		in.object = in.check
	case schemas.Choice:
		var opts []string
		if !f.Required.Always {
			opts = append(opts, u.T("form.none"))
		}
		for _, c := range f.Choices {
			opts = append(opts, c.Label().In(u.Lang()))
		}
		in.sel = widget.NewSelect(opts, onText)
		in.sel.PlaceHolder = u.T("form.choose")
		in.object = in.sel
	case schemas.Multi:
		var opts []string
		for _, c := range f.Choices {
			opts = append(opts, c.Label().In(u.Lang()))
		}
		in.group = widget.NewCheckGroup(opts, func([]string) { changed() })
		in.object = in.group
	case schemas.Date:
		in.entry = newEntry(u.T("form.date.hint"))
		in.button = widget.NewButtonWithIcon("", theme.CalendarIcon(), in.pickDate)
		in.object = container.NewBorder(nil, nil, nil, in.button, in.entry)
	case schemas.DateTime:
		in.entry = newEntry(u.T("form.datetime.hint"))
		in.button = widget.NewButtonWithIcon(u.T("form.now"), theme.HistoryIcon(), func() {
			in.entry.SetText(time.Now().Format(localTime))
		})
		in.object = container.NewBorder(nil, nil, nil, in.button, in.entry)
	case schemas.Geo:
		in.lat = newEntry(u.T("form.lat"))
		in.lon = newEntry(u.T("form.lon"))
		in.object = container.NewGridWithColumns(2, in.lat, in.lon)
	case schemas.Photo:
		in.photos = u.newPhotoField(changed)
		in.object = in.photos.object
	default: // ref, and any type a newer kit brings
		hint := ""
		if t, ok := u.node.Kits().Type(f.Ref); ok {
			hint = fmt.Sprintf(u.T("form.ref.hint"), t.Title.In(u.Lang()))
		}
		in.entry = newEntry(hint)
		in.object = in.entry
	}
	return in
}

// entryLimit is how many characters a paste may leave in an entry of f:
// a text field's maximum, as the kit or the node bounds it; for a number,
// a date, a position or a reference, far more than any needs.
func entryLimit(f *schemas.Field) int {
	switch {
	case f.Type != schemas.Text:
		return 256
	case f.Max != nil:
		return int(*f.Max)
	}
	return schemas.DefaultMaxText
}

// bounds says a number field's bounds, e.g. "0 – 4".
func bounds(f *schemas.Field) string {
	num := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	switch {
	case f.Min != nil && f.Max != nil:
		return num(*f.Min) + " – " + num(*f.Max)
	case f.Min != nil:
		return "≥ " + num(*f.Min)
	case f.Max != nil:
		return "≤ " + num(*f.Max)
	}
	return ""
}

func (in *fieldInput) pickDate() {
	start := time.Now()
	if d, err := time.Parse(time.DateOnly, strings.TrimSpace(in.entry.Text)); err == nil {
		start = d
	}
	var d *dialog.CustomDialog
	cal := widget.NewCalendar(start, func(t time.Time) {
		in.entry.SetText(t.Format(time.DateOnly))
		d.Hide()
	})
	d = dialog.NewCustom(in.u.T("form.calendar"), in.u.T("cancel"), cal, in.u.win)
	d.Show()
}

// choiceValue is the stored value of a choice shown as label, or "".
func (in *fieldInput) choiceValue(label string) string {
	for _, c := range in.field.Choices {
		if c.Label().In(in.u.Lang()) == label {
			return c.Value
		}
	}
	return ""
}

// choiceLabel is the label a choice's value shows as.
func (in *fieldInput) choiceLabel(value string) string {
	if c, ok := in.field.Choice(value); ok {
		return c.Label().In(in.u.Lang())
	}
	return ""
}

// raw is what the widgets hold, as texts a draft keeps. Choices are kept
// by value, not label, so that a draft opens in either language.
func (in *fieldInput) raw() []string {
	switch in.field.Type {
	case schemas.Bool:
		if in.check.Checked {
			return []string{"true"}
		}
		return nil
	case schemas.Choice:
		if v := in.choiceValue(in.sel.Selected); v != "" {
			return []string{v}
		}
		return nil
	case schemas.Multi:
		// In the kit's order, whatever the order ticked: the same choices
		// are the same value.
		var vals []string
		for _, c := range in.field.Choices {
			if slices.Contains(in.group.Selected, c.Label().In(in.u.Lang())) {
				vals = append(vals, c.Value)
			}
		}
		return vals
	case schemas.Geo:
		return []string{in.lat.Text, in.lon.Text}
	case schemas.Photo:
		return in.photos.raw()
	}
	return []string{in.entry.Text}
}

// setRaw puts raw texts back in the widgets; nil empties them.
func (in *fieldInput) setRaw(raw []string) {
	at := func(i int) string {
		if i < len(raw) {
			return raw[i]
		}
		return ""
	}
	switch in.field.Type {
	case schemas.Bool:
		in.check.SetChecked(at(0) == "true")
	case schemas.Choice:
		if label := in.choiceLabel(at(0)); label != "" {
			in.sel.SetSelected(label)
		} else {
			in.sel.ClearSelected()
		}
	case schemas.Multi:
		var labels []string
		for _, v := range raw {
			if label := in.choiceLabel(v); label != "" {
				labels = append(labels, label)
			}
		}
		in.group.SetSelected(labels)
	case schemas.Geo:
		in.lat.SetText(at(0))
		in.lon.SetText(at(1))
	case schemas.Photo:
		in.photos.set(at(0))
	default:
		in.entry.SetText(at(0))
	}
}

// setValue shows a field's value as schemas.Field.Decode gives it.
func (in *fieldInput) setValue(v any) { in.setRaw(rawOf(in.field, v)) }

// rawOf turns a decoded value into the raw texts of f's widgets.
func rawOf(f *schemas.Field, v any) []string {
	switch x := v.(type) {
	case nil:
		return nil
	case bool:
		if x {
			return []string{"true"}
		}
		return nil
	case int64:
		return []string{strconv.FormatInt(x, 10)}
	case float64:
		return []string{strconv.FormatFloat(x, 'f', -1, 64)}
	case map[string]float64:
		return []string{strconv.FormatFloat(x["lat"], 'f', -1, 64), strconv.FormatFloat(x["lon"], 'f', -1, 64)}
	case []any:
		s := make([]string, len(x))
		for i, e := range x {
			s[i] = fmt.Sprint(e)
		}
		if f.Type == schemas.Photo {
			return []string{strings.Join(s, "\n")}
		}
		return s
	case string:
		if f.Type == schemas.DateTime {
			if t, err := time.Parse(time.RFC3339Nano, x); err == nil {
				layout := localTime
				if t.Second() != 0 || t.Nanosecond() != 0 {
					layout = time.DateTime
				}
				return []string{t.Local().Format(layout)}
			}
		}
		return []string{x}
	}
	return []string{fmt.Sprint(v)}
}

// value is the field's value as the JSON of a record holds it, or nil when
// the field is left empty. An error, in the user's language, is input the
// UI can tell is wrong before the node sees it.
func (in *fieldInput) value() (any, error) {
	f := in.field
	switch f.Type {
	case schemas.Bool:
		switch {
		case in.check.Checked:
			return true, nil
		case f.Required.Always:
			return false, nil
		}
		return nil, nil // unchecked and optional: not said
	case schemas.Choice:
		if v := in.choiceValue(in.sel.Selected); v != "" {
			return v, nil
		}
		return nil, nil
	case schemas.Multi:
		if raw := in.raw(); len(raw) > 0 {
			return raw, nil
		}
		return nil, nil
	case schemas.Geo:
		lat, lon := strings.TrimSpace(in.lat.Text), strings.TrimSpace(in.lon.Text)
		if lat == "" && lon == "" {
			return nil, nil
		}
		y, errLat := parseDecimal(lat)
		x, errLon := parseDecimal(lon)
		if errLat != nil || errLon != nil {
			return nil, errors.New(in.u.T("form.err.geo"))
		}
		return map[string]float64{"lat": y, "lon": x}, nil
	case schemas.Photo:
		return in.photos.value(), nil
	}

	s := strings.TrimSpace(in.entry.Text)
	if s == "" {
		return nil, nil
	}
	switch f.Type {
	case schemas.Integer:
		i, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, errors.New(in.u.T("form.err.integer"))
		}
		return i, nil
	case schemas.Decimal:
		x, err := parseDecimal(s)
		if err != nil {
			return nil, errors.New(in.u.T("form.err.decimal"))
		}
		return x, nil
	case schemas.Date:
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return nil, errors.New(in.u.T("form.err.date"))
		}
		return d.Format(time.DateOnly), nil
	case schemas.DateTime:
		t, err := parseLocalTime(s)
		if err != nil {
			return nil, errors.New(in.u.T("form.err.datetime"))
		}
		return t.Format(time.RFC3339Nano), nil
	case schemas.Ref:
		id, err := syncproto.ParseRecordID(s)
		if err != nil {
			return nil, errors.New(in.u.T("form.err.ref"))
		}
		return id.String(), nil
	}
	return s, nil
}

// parseDecimal reads a number as people type it, with a decimal point or
// a decimal comma.
func parseDecimal(s string) (float64, error) {
	if !strings.Contains(s, ".") {
		s = strings.Replace(s, ",", ".", 1)
	}
	x, err := strconv.ParseFloat(s, 64)
	if err == nil && (math.IsNaN(x) || math.IsInf(x, 0)) {
		err = strconv.ErrSyntax
	}
	return x, err
}

// parseLocalTime reads a date and time typed in the laptop's zone, or one
// with its zone (as a draft or a paste may carry).
func parseLocalTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	var err error
	for _, layout := range []string{localTime, time.DateTime, "2006-01-02T15:04", "2006-01-02T15:04:05"} {
		var t time.Time
		if t, err = time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, err
}
