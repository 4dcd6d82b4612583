package desktop

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

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

// Editing a saved record (docs/desktop.md, "Editing a record"): the record
// opens in its type's form, filled with its values as this node reads
// them, and saving gives the node only the fields whose value changed, as
// one update in the name of whoever makes it, under the checks of a new
// record. Comparing with what was loaded, not with what the record holds
// at the save, leaves alone what a peer changed meanwhile in a field the
// responder did not touch.

// formEdit is what a form editing a saved record knows of it.
type formEdit struct {
	id syncproto.RecordID
	// base and baseRaw are each field's value and its input's texts as
	// the record filled them, before the draft: both read through the
	// input, so that a value it shows another way (a time in the laptop's
	// zone, a rounded second) is the same value untouched.
	base    map[string]any
	baseRaw map[string][]string
	// seen are the versions of each field the record was filled with: a
	// save replaces those alone (node.UpdateSeen).
	seen map[string][]syncproto.Dot
	// done shows the record again, saying what the save did ("" when the
	// edit was cancelled).
	done func(notice string)
}

// typed reports whether the texts of ff's input are other than those the
// record filled it with: what an edit's draft keeps.
func (e *formEdit) typed(ff *formField, raw []string) bool {
	return !slices.Equal(raw, e.baseRaw[ff.name])
}

// changed reports whether v, ff's value, is one to save: typed over, and
// another value than the record's (not only other spaces).
func (e *formEdit) changed(ff *formField, v any) bool {
	return e.typed(ff, ff.input.raw()) && !reflect.DeepEqual(v, e.base[ff.name])
}

// editForm builds the form that edits rec, of type t, in the user's
// language: filled with the record's values, then with its draft if one
// was kept. A value this node cannot read (personal data of another
// district), or a field in conflict with such a version, is shown and
// never sent: neither could be chosen without reading it. done shows the
// record again.
func (u *UI) editForm(rec node.RecordView, t *schemas.Type, done func(notice string)) (*form, error) {
	id, err := syncproto.ParseRecordID(rec.ID)
	if err != nil {
		return nil, err
	}
	title := node.Printable(u.node.Summary(rec))
	if title == "" {
		title = node.Printable(rec.Title)
	}
	fm, box := u.newForm(t, fmt.Sprintf(u.T("edit.title"), title), func(f *schemas.Field, name string) (fyne.CanvasObject, string) {
		versions := rec.Conflicts[name]
		switch {
		case isWithheld(rec.Fields[name]):
			return editFixed(rec.Texts[name]), u.T("edit.withheld")
		case slices.ContainsFunc(versions, func(ver node.Version) bool { return isWithheld(ver.Value) }):
			return editFixed(rec.Texts[f.Name]), u.T("records.withheld")
		case len(versions) > 0:
			return nil, u.T("edit.conflict")
		}
		return nil, ""
	})
	e := &formEdit{id: id, base: map[string]any{}, baseRaw: map[string][]string{}, seen: rec.Heads, done: done}
	fm.edit = e
	fm.quiet = true
	for _, g := range fm.repeats {
		for _, row := range savedRows(rec, g.def.Name) {
			g.addRow(row, true)
		}
	}
	for _, ff := range fm.allFields() {
		name := ff.name
		ff.input.setValue(rec.Fields[name])
		e.baseRaw[name] = ff.input.raw()
		e.base[name], _ = ff.input.value() // one it cannot read is sent only if typed over
	}
	fm.quiet = false
	intro := widget.NewLabel(u.T("edit.intro"))
	intro.Wrapping = fyne.TextWrapWord
	box.Objects = slices.Insert(box.Objects, 1, fyne.CanvasObject(intro))

	fm.saveBtn = widget.NewButtonWithIcon(u.T("form.save"), theme.DocumentSaveIcon(), fm.save)
	fm.saveBtn.Importance = widget.HighImportance
	cancel := widget.NewButtonWithIcon(u.T("cancel"), theme.CancelIcon(), fm.cancelEdit)
	buttons := container.NewHBox(layout.NewSpacer(), cancel, fm.saveBtn)
	fm.content = container.NewBorder(fm.summary, buttons, nil, nil, container.NewVScroll(box))
	fm.loadDraft()
	fm.relogic()
	return fm, nil
}

// savedRows are the ids of the live rows of repeat rep in rec, oldest
// first.
func savedRows(rec node.RecordView, rep string) []string {
	seen := map[string]bool{}
	for name, v := range rec.Fields {
		r, row, field, ok := schemas.SplitRowField(name)
		if !ok || r != rep {
			continue
		}
		seen[row] = seen[row] || (field == schemas.RemoveKey && v == true)
	}
	var rows []string
	for row, removed := range seen {
		if !removed {
			rows = append(rows, row)
		}
	}
	slices.Sort(rows)
	return rows
}

// editFixed shows a value the form shows and never sends.
func editFixed(text string) *widget.Label {
	l := widget.NewLabelWithStyle(node.Printable(text), fyne.TextAlignLeading, fyne.TextStyle{Italic: true})
	l.Wrapping = fyne.TextWrapWord
	return l
}

// saveEdit gives the node the fields changed, obj, as one update. Nothing
// changed writes nothing.
func (fm *form) saveEdit(obj map[string]any) {
	if len(obj) == 0 {
		fm.removeDraft()
		fm.edit.done(fm.u.T("edit.unchanged"))
		return
	}
	var names []string
	for _, ff := range fm.fields {
		if _, ok := obj[ff.name]; ok {
			names = append(names, ff.def.Label.In(fm.u.Lang()))
		}
	}
	for _, g := range fm.repeats {
		if _, ok := obj[g.def.Name]; ok {
			names = append(names, g.def.Label.In(fm.u.Lang()))
		}
	}
	// A field a sync changed while the person edited is not saved over:
	// the record is shown again with what came, and the draft keeps what
	// was typed for the edit opened again.
	seen := map[string][]syncproto.Dot{}
	for name := range obj {
		seen[name] = fm.edit.seen[name]
	}
	var unseen bool
	fm.write(obj, func(ctx context.Context, data []byte, author string) error {
		_, err := fm.u.node.UpdateSeen(ctx, fm.edit.id, data, author, seen)
		if errors.Is(err, node.ErrUnseen) {
			unseen = true
			return nil
		}
		return err
	}, func() {
		if unseen {
			fm.edit.done(fm.u.T("edit.unseen"))
			fm.u.Refresh()
			return
		}
		fm.removeDraft()
		fm.edit.done(fmt.Sprintf(fm.u.T("edit.saved"), strings.Join(names, ", ")))
		fm.u.Refresh()
	})
}

// cancelEdit goes back to the record, discarding what was typed once the
// user says so.
func (fm *form) cancelEdit() {
	if !fm.edited() {
		fm.discardEdit()
		return
	}
	dialog.ShowConfirm(fm.u.T("cancel"), fm.u.T("edit.discard"), func(yes bool) {
		if yes {
			fm.discardEdit()
		}
	}, fm.u.win)
}

// edited reports whether anything was typed in the edit: a field typed
// over, a row added or removed.
func (fm *form) edited() bool {
	for _, g := range fm.repeats {
		if len(g.removed) > 0 || slices.ContainsFunc(g.rows, func(r *repeatRow) bool { return !r.saved }) {
			return true
		}
	}
	return slices.ContainsFunc(fm.allFields(), func(ff *formField) bool {
		return !ff.def.Calculated() && fm.edit.typed(ff, ff.input.raw())
	})
}

func (fm *form) discardEdit() {
	fm.removeDraft()
	fm.edit.done("")
}

// The draft of an edit is named by its record's id: a type's name has no
// dot, so it is never taken for a new record's. Beside the drafts, the
// file editingName names the record whose edit was on show, so that the
// app opens it again (after a restart, a language switch, a person signing
// in again) where the responder left it.
const (
	editDraftPrefix = "edit."
	editingName     = "editing"
)

func editDraftFile(dir string, id syncproto.RecordID) string {
	return filepath.Join(dir, editDraftPrefix+id.String()+draftExt)
}

// editingRecord is the id of the record whose edit was on show, or "".
func (u *UI) editingRecord() string {
	if u.draftDir() == "" {
		return ""
	}
	b, err := u.readDraftFile(filepath.Join(u.draftDir(), editingName))
	if err != nil {
		return ""
	}
	id, err := syncproto.ParseRecordID(strings.TrimSpace(string(b)))
	if err != nil {
		return ""
	}
	return id.String()
}

func (u *UI) rememberEdit(id string) {
	if u.draftDir() == "" || u.editingRecord() == id {
		return
	}
	// Failing to remember only means opening the edit again: the draft
	// keeps what was typed.
	_ = u.writeDraftFile(filepath.Join(u.draftDir(), editingName), []byte(id+"\n"))
}

// forgetEdit forgets the edit on show of the drafts folder dir.
func forgetEdit(dir string) {
	if dir != "" {
		// One left behind opens the edit again next time: nothing is lost.
		_ = os.Remove(filepath.Join(dir, editingName))
	}
}

// hasEditDraft reports whether what was typed in an edit of the record id
// is kept, unsaved, in the drafts in use.
func (u *UI) hasEditDraft(id string) bool {
	rid, err := syncproto.ParseRecordID(id)
	if err != nil || u.draftDir() == "" {
		return false
	}
	_, err = os.Stat(editDraftFile(u.draftDir(), rid))
	return err == nil
}
