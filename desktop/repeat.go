package desktop

import (
	"fmt"
	"image/color"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"lifeline/schemas"
)

// A repeat of a kit (docs/kits.md, "Repeat groups") shows as a group of
// rows, each row the repeat's nested fields, with a button to add a row
// and one on each row to remove it. A row on show has an id: a saved
// row's own, or for a row added in the form, one made when it is added,
// which names its fields in the form's logic and its draft and is never
// sent: the node gives a new row its id when it is saved.

// repeatGroup is a repeat of the form's type and its rows on show.
type repeatGroup struct {
	fm   *form
	def  *schemas.Field
	rows []*repeatRow // in order of their ids: saved rows, then added
	// removed are the saved rows removed in this edit, to be sent as
	// removed.
	removed []string
	box     *fyne.Container // hidden while the kit does not ask the repeat
	list    *fyne.Container
	add     *widget.Button
	err     *widget.Label
}

// repeatRow is one row of a repeat on show.
type repeatRow struct {
	g       *repeatGroup
	id      string
	saved   bool // the record holds it: an edit sends only what changed
	fields  []*formField
	box     *fyne.Container
	heading *widget.Label
	remove  *widget.Button
}

func (fm *form) newRepeat(f *schemas.Field) *repeatGroup {
	u, lang := fm.u, fm.u.Lang()
	g := &repeatGroup{fm: fm, def: f}
	title := widget.NewLabelWithStyle(fieldLabel(f, lang), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	g.box = container.NewVBox(widget.NewSeparator(), title)
	if help := f.Help.In(lang); help != "" {
		h := widget.NewLabelWithStyle(help, fyne.TextAlignLeading, fyne.TextStyle{Italic: true})
		h.Wrapping = fyne.TextWrapWord
		g.box.Add(h)
	}
	g.list = container.NewVBox()
	g.add = widget.NewButtonWithIcon(fmt.Sprintf(u.T("form.row.add"), f.Label.In(lang)), theme.ContentAddIcon(), g.addNew)
	g.err = newErrorLine()
	g.box.Add(g.list)
	g.box.Add(container.NewHBox(g.add))
	g.box.Add(g.err)
	fm.repeats = append(fm.repeats, g)
	return g
}

// addNew adds an empty row, as the responder asks.
func (g *repeatGroup) addNew() {
	if len(g.rows) >= schemas.MaxRows {
		return
	}
	g.addRow(schemas.NewRowIDs(1)[0], false)
	g.changed()
}

// addRow shows the row id, saved or added in the form, at the end.
func (g *repeatGroup) addRow(id string, saved bool) *repeatRow {
	fm := g.fm
	r := &repeatRow{g: g, id: id, saved: saved}
	r.heading = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	r.remove = widget.NewButtonWithIcon(fm.u.T("form.row.remove"), theme.DeleteIcon(), func() {
		g.removeRow(r)
		g.changed()
	})
	body := container.NewVBox()
	for _, nf := range g.def.Fields {
		fb, ff := fm.newFieldBox(nf, schemas.RowField(g.def.Name, id, nf.Name), r)
		body.Add(fb)
		if ff != nil {
			r.fields = append(r.fields, ff)
			fm.byName[ff.name] = ff
		}
	}
	// The row's fields set in from its heading, so that where one row
	// ends and the next begins shows.
	indent := canvasSpacer(theme.Padding() * 4)
	r.box = container.NewVBox(container.NewBorder(nil, nil, nil, r.remove, r.heading),
		container.NewBorder(nil, nil, indent, nil, body))
	g.rows = append(g.rows, r)
	g.list.Add(r.box)
	g.renumber()
	return r
}

// removeRow takes row r off the form; a saved row is sent as removed.
func (g *repeatGroup) removeRow(r *repeatRow) {
	i := slices.Index(g.rows, r)
	if i < 0 {
		return
	}
	g.rows = slices.Delete(g.rows, i, i+1)
	g.list.Remove(r.box)
	for _, ff := range r.fields {
		delete(g.fm.byName, ff.name)
	}
	if r.saved {
		g.removed = append(g.removed, r.id)
	}
	g.renumber()
}

// changed follows a row added or removed: the logic (count() and the
// rows' own), and the draft.
func (g *repeatGroup) changed() {
	if g.fm.quiet {
		return
	}
	g.fm.relogic()
	g.fm.writeDraft()
}

func (g *repeatGroup) renumber() {
	for i, r := range g.rows {
		if text := fmt.Sprintf(g.fm.u.T("form.row"), i+1); r.heading.Text != text {
			r.heading.SetText(text)
		}
	}
	if len(g.rows) >= schemas.MaxRows {
		g.add.Disable()
	} else {
		g.add.Enable()
	}
}

// blank reports whether nothing is typed in the row.
func (r *repeatRow) blank() bool {
	for _, ff := range r.fields {
		if !ff.def.Calculated() && !blank(ff.input.raw()) {
			return false
		}
	}
	return true
}

// rowsJSON is the repeat as the node takes it (docs/kits.md, "JSON"): a
// row added as an object of its fields, without an id; a saved row, in
// an edit, with its id and the fields changed; a saved row removed as
// its id and remove. A row added and left empty is no row; a field not
// asked, or calculated, is not sent.
func (g *repeatGroup) rowsJSON() []map[string]any {
	var list []map[string]any
	for _, r := range g.rows {
		m := map[string]any{}
		for _, ff := range r.fields {
			if ff.def.Calculated() || !ff.relevant {
				continue
			}
			v, err := ff.input.value()
			switch {
			case err != nil:
			case r.saved:
				if g.fm.edit.changed(ff, v) {
					m[ff.def.Name] = v // nil clears it
				}
			case v != nil:
				m[ff.def.Name] = v
			}
		}
		if len(m) == 0 {
			continue
		}
		if r.saved {
			m[schemas.RowKey] = r.id
		}
		list = append(list, m)
	}
	for _, id := range g.removed {
		list = append(list, map[string]any{schemas.RowKey: id, schemas.RemoveKey: true})
	}
	return list
}

// repeatOf finds the repeat an error of the node names: a field of a row
// the form does not know by that id (nf its definition), or the repeat
// itself, or one of its rows by position ("household[2]").
func (fm *form) repeatOf(name string) (*repeatGroup, *schemas.Field) {
	for _, g := range fm.repeats {
		if rep, _, field, ok := schemas.SplitRowField(name); ok && rep == g.def.Name {
			for _, nf := range g.def.Fields {
				if nf.Name == field {
					return g, nf
				}
			}
			return g, nil
		}
		if name == g.def.Name || strings.HasPrefix(name, g.def.Name+"[") {
			return g, nil
		}
	}
	return nil, nil
}

// A draft keeps the rows: each field of a row by its name, and each row
// added as <repeat>.<row>.remove set to false, so that a row left empty
// is kept too; each saved row removed in an edit the same set to true.
func (fm *form) draftRows(d map[string][]string) {
	for _, g := range fm.repeats {
		for _, r := range g.rows {
			if !r.saved {
				d[schemas.RowField(g.def.Name, r.id, schemas.RemoveKey)] = []string{"false"}
			}
		}
		for _, id := range g.removed {
			d[schemas.RowField(g.def.Name, id, schemas.RemoveKey)] = []string{"true"}
		}
	}
}

// loadDraftRows shows the rows a draft keeps: the rows added, at most
// schemas.MaxRows a repeat, and takes off those removed. Its fields'
// texts are for the caller to fill.
func (fm *form) loadDraftRows(d map[string][]string) {
	var names []string
	for name := range d {
		names = append(names, name)
	}
	slices.Sort(names) // rows in order of their ids
	for _, name := range names {
		rep, id, field, ok := schemas.SplitRowField(name)
		if !ok || field != schemas.RemoveKey || len(d[name]) != 1 {
			continue
		}
		i := slices.IndexFunc(fm.repeats, func(g *repeatGroup) bool { return g.def.Name == rep })
		if i < 0 {
			continue
		}
		g := fm.repeats[i]
		j := slices.IndexFunc(g.rows, func(r *repeatRow) bool { return r.id == id })
		switch {
		case d[name][0] == "true" && j >= 0 && g.rows[j].saved:
			g.removeRow(g.rows[j])
		case d[name][0] == "false" && j < 0 && len(g.rows) < schemas.MaxRows:
			g.addRow(id, false)
		}
	}
}

// canvasSpacer is an empty space of width w.
func canvasSpacer(w float32) fyne.CanvasObject {
	r := canvas.NewRectangle(color.Transparent)
	r.SetMinSize(fyne.NewSize(w, 1))
	return r
}
