package desktop

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"lifeline/node"
)

// "Possibly already reported": before a new missing-person report,
// sheltered person or family's registration at a shelter is saved (each
// person of the family's household), the laptop matches it against the people
// records it holds and can open, and shows those it may report again, with
// Save anyway, Open that record and Cancel. The warning never blocks the
// save: the person typing decides, and a check that fails saves as if
// nothing were found. Records whose names this laptop cannot open (another
// district's) are not compared, and the warning says how many.

// dupShown is how many records the warning lists at most; the rest are
// counted.
const dupShown = 3

// warnThenAdd saves a new record as add does, once the person typing has
// seen the people records it may report again, if there are any.
func (fm *form) warnThenAdd(obj map[string]any, kept map[string][]string) {
	u := fm.u
	switch fm.t.Name {
	case node.MissingPersonType, node.ShelteredPersonType, node.FamilyRegistrationType:
	default:
		fm.add(obj, kept)
		return
	}
	var found node.Reporting
	var failed error
	// The check is part of the save: Ctrl+S pressed again meanwhile
	// saves nothing more.
	fm.setSaving(true)
	u.run(u.T("dup.checking"), func(ctx context.Context) error {
		found, failed = u.node.PossiblyReported(ctx, fm.t.Name, obj)
		return nil
	}, func(error) {
		fm.setSaving(false)
		if failed != nil || len(found.Records) == 0 {
			fm.add(obj, kept)
			return
		}
		fm.showPossiblyReported(found, func() { fm.add(obj, kept) })
	})
}

// showPossiblyReported shows the warning; save saves the record.
func (fm *form) showPossiblyReported(found node.Reporting, save func()) {
	u := fm.u
	var d *dialog.CustomDialog
	rows := container.NewVBox(widget.NewLabel(u.T("dup.intro")))
	for i, r := range found.Records {
		if i == dupShown {
			rows.Add(widget.NewLabel(fmt.Sprintf(u.T("dup.more"), len(found.Records)-dupShown)))
			break
		}
		line := widget.NewLabel(fm.reportedLine(r))
		line.Wrapping = fyne.TextWrapWord
		why := widget.NewLabel(node.Printable(strings.Join(r.Reasons, "; ")))
		why.Wrapping = fyne.TextWrapWord
		why.Importance = widget.LowImportance
		id := r.ID
		open := widget.NewButtonWithIcon(u.T("dup.open"), theme.SearchIcon(), func() {
			d.Hide()
			if err := u.Show("records", id); err != nil {
				u.showError(err)
			}
		})
		rows.Add(container.NewBorder(nil, nil, nil, open, container.NewVBox(line, why)))
	}
	if len(found.AskAge) > 0 {
		// People of one name and ages too far apart for one person: a
		// father and a son. Only an age tells which this is.
		names := make([]string, len(found.AskAge))
		for i, n := range found.AskAge {
			names[i] = node.Printable(n)
		}
		ask := widget.NewLabel(fmt.Sprintf(u.T("dup.askage"), strings.Join(names, ", ")))
		ask.Wrapping = fyne.TextWrapWord
		ask.Importance = widget.WarningImportance
		rows.Add(ask)
	}
	if found.Withheld > 0 {
		note := widget.NewLabel(fmt.Sprintf(u.T("dup.withheld"), found.Withheld))
		note.Wrapping = fyne.TextWrapWord
		rows.Add(note)
	}
	cancel := widget.NewButtonWithIcon(u.T("cancel"), theme.CancelIcon(), func() { d.Hide() })
	anyway := widget.NewButtonWithIcon(u.T("dup.save"), theme.DocumentSaveIcon(), func() {
		d.Hide()
		save()
	})
	anyway.Importance = widget.HighImportance
	body := container.NewBorder(nil, container.NewHBox(layout.NewSpacer(), cancel, anyway), nil, nil, container.NewVScroll(rows))
	d = dialog.NewCustomWithoutButtons(u.T("dup.title"), body, u.win)
	d.Resize(fyne.NewSize(560, 360))
	d.Show()
}

// reportedLine says who a record is and who reported them when: "Maria
// Cal, 34, San Antonio, Toledo — reported 2026-12-02 09:15 CST by Juana
// Cal". Every text comes from another node's record: made printable.
func (fm *form) reportedLine(r node.Reported) string {
	u := fm.u
	name := node.Printable(r.Name)
	if name == "" {
		name = u.T("matches.noname")
	}
	who := []string{name}
	if r.Age >= 0 {
		who = append(who, strconv.FormatInt(r.Age, 10))
	}
	for _, s := range []string{r.Village, r.District} {
		if s = node.Printable(s); s != "" {
			who = append(who, s)
		}
	}
	when := showStamp(r.At, u.T("dup.unknown"))
	by := node.Printable(r.By)
	if by == "" {
		by = u.T("dup.unknown")
	}
	key := "dup.missing"
	if r.Type != node.MissingPersonType {
		key = "dup.sheltered"
	}
	line := fmt.Sprintf(u.T(key), strings.Join(who, ", "), when, by)
	if r.Case != "" {
		line += " (" + node.Printable(r.Case) + ")"
	}
	if r.For != "" { // a member of the family being registered
		line = fmt.Sprintf(u.T("dup.for"), node.Printable(r.For)) + line
	}
	return line
}
