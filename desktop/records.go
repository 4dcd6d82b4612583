package desktop

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"lifeline/node"
	"lifeline/schemas"
	"lifeline/syncproto"
)

// recordsShown is how many matches the list shows at most: enough to scroll
// through, few enough to draw at once on an old laptop.
const recordsShown = 500

// The status filter's choices, by the index of the status select: not
// confirmed is saved or sent; the last two are a record's review.
var recordsStatuses = []string{"", node.StatusSaved, node.StatusSent, node.StatusConfirmed, "unconfirmed",
	node.ReviewNeedsCorrection, node.ReviewRejected}

// recordsView is the Records screen: the records of a kit, newest first,
// narrowed by a search and filters, and beside them the record picked, with
// its history and its conflicts to resolve.
type recordsView struct {
	u *UI

	kit       *widget.Select
	kits      []string // kit names, by kit select index less one
	search    *widget.Entry
	district  *widget.Select
	status    *widget.Select
	conflicts *widget.Check
	count     *widget.Label
	list      *widget.List
	// limit is how many matches the list shows at most.
	limit int
	// applied is the filter the list last applied; onFilter, when set, is
	// told each one (the map shows the same records, map.go).
	applied  recordsFilter
	onFilter func(recordsFilter)
	// shown are the rows of the list, on the UI thread.
	shown []recordsRow

	// detail holds the record picked; selected is its id.
	detail   *fyne.Container
	selected string
	record   node.RecordView
	history  *fyne.Container
	// older shows more of the history, going back in time.
	older *widget.Button
	// pane shows the detail, scrolled, or in its place the form editing
	// the record picked (editing, nil when none is).
	pane    *fyne.Container
	scroll  *container.Scroll
	editing *form
	editBtn *widget.Button
	// resume is the id of a record whose edit opens once it is shown.
	resume string
	// notice says what the last edit of the record picked did.
	notice string
	// linked are the records linked with the record picked as one
	// person, on a node of the ledger.
	linked []linkedRecord
	// The conflict controls of the record picked, by field: a "keep this"
	// button per version, and where a value can be typed, its entry and
	// button.
	keep  map[string][]*widget.Button
	typed map[string]*widget.Entry
	use   map[string]*widget.Button
	// typedBy is who was signed in when a value was last typed there: a
	// value typed is the words of whoever typed it, not of the next
	// person.
	typedBy string

	listJob, detailJob recordsQueue
	// thumbs are the thumbnails the list showed, by photo id, on the UI
	// thread: a photo's bytes never change.
	thumbs map[string]fyne.Resource

	mu sync.Mutex
	// loaded are the rows of the kit last read; they are stale when
	// records changed since (wanted moved on).
	loaded *recordsSet
	wanted int
}

// recordsRow is one record in the list.
type recordsRow struct {
	id       syncproto.RecordID
	summary  string
	district string
	conflict bool
	// text is everything a search matches, case number included, in
	// lower case.
	text   string
	caseNo string
	status string
	// review is the record's review, nil while none.
	review *node.RecordReview
	// photo is the id of the record's first photo, "" for none.
	photo string
}

// recordsSet is the rows of one kit as read at one time.
type recordsSet struct {
	kit     string
	version int // the recordsView.wanted it was read for
	rows    []recordsRow
}

// recordsFilter is what the user asked the list for.
type recordsFilter struct {
	kit, search, district, status string
	onlyConflict                  bool
}

func (u *UI) recordsScreen() fyne.CanvasObject {
	v := u.newRecordsView()
	u.screens.records = v
	return v.content()
}

func (u *UI) newRecordsView() *recordsView {
	v := &recordsView{u: u, limit: recordsShown, count: widget.NewLabel(""), search: widget.NewEntry(),
		detail: container.NewVBox(widget.NewLabel(u.T("records.pick")))}
	v.count.Wrapping = fyne.TextWrapWord
	v.scroll = container.NewVScroll(v.detail)
	v.pane = container.NewStack(v.scroll)

	kits := []string{u.T("records.kit.all")}
	for _, k := range u.node.Kits().Kits() {
		v.kits = append(v.kits, k.Name)
		kits = append(kits, k.Title.In(u.Lang()))
	}
	v.kit = widget.NewSelect(kits, nil)
	v.kit.SetSelectedIndex(0)
	v.district = widget.NewSelect(append([]string{u.T("records.district.all")}, schemas.Districts...), nil)
	v.district.SetSelectedIndex(0)
	v.status = widget.NewSelect([]string{u.T("records.status.all"), u.T("status.saved"), u.T("status.sent"), u.T("status.confirmed"),
		u.T("records.status.unconfirmed"), u.T("review.state.needs-correction"), u.T("review.state.rejected")}, nil)
	v.status.SetSelectedIndex(0)
	v.conflicts = widget.NewCheck(u.T("records.onlyconflicts"), nil)
	v.search.SetPlaceHolder(u.T("records.search"))

	// Set after the first selections, so that building starts one query.
	changed := func(string) { v.filter() }
	v.kit.OnChanged, v.district.OnChanged, v.status.OnChanged, v.search.OnChanged = changed, changed, changed, changed
	v.conflicts.OnChanged = func(bool) { v.filter() }

	v.list = widget.NewList(func() int { return len(v.shown) }, v.newRow, v.fillRow)
	v.list.OnSelected = func(i widget.ListItemID) {
		if i < len(v.shown) && v.shown[i].id.String() != v.selected {
			v.open(v.shown[i].id.String())
		}
	}
	u.whenRefreshed(v.reload)
	v.reload()
	v.resumeEdit()
	return v
}

func (v *recordsView) content() fyne.CanvasObject {
	top := container.NewVBox(v.kit, v.search, container.NewGridWithColumns(2, v.district, v.status), v.conflicts, v.count)
	split := container.NewHSplit(container.NewBorder(top, nil, nil, nil, v.list), v.pane)
	split.Offset = 0.4
	return split
}

func (v *recordsView) newRow() fyne.CanvasObject {
	title := widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.Truncation = fyne.TextTruncateEllipsis
	sub := widget.NewLabel("")
	sub.Truncation = fyne.TextTruncateEllipsis
	mark := widget.NewIcon(theme.WarningIcon())
	thumb := canvas.NewImageFromResource(nil)
	thumb.FillMode = canvas.ImageFillContain
	thumb.SetMinSize(fyne.NewSquareSize(listThumbEdge))
	return container.NewBorder(nil, nil, thumb, mark, container.NewVBox(title, sub))
}

func (v *recordsView) fillRow(i widget.ListItemID, o fyne.CanvasObject) {
	if i >= len(v.shown) {
		return
	}
	r := v.shown[i]
	c := o.(*fyne.Container)
	texts, thumb, mark := c.Objects[0].(*fyne.Container), c.Objects[1].(*canvas.Image), c.Objects[2]
	v.fillThumb(thumb, r.photo)
	texts.Objects[0].(*widget.Label).SetText(r.summary)
	texts.Objects[1].(*widget.Label).SetText(v.rowLine(r))
	if r.conflict || r.asksCorrection() {
		mark.Show()
	} else {
		mark.Hide()
	}
}

// asksCorrection says whether a record's review sends it back to its
// author: asked to correct it, or rejected.
func (r recordsRow) asksCorrection() bool {
	s := r.review.State()
	return s == node.ReviewNeedsCorrection || s == node.ReviewRejected
}

// rowLine is the second line of a row: a review that asks something of
// the author first, in words, so that it shows before the line is cut;
// then case number, status, conflict, and an approval.
func (v *recordsView) rowLine(r recordsRow) string {
	var parts []string
	if r.asksCorrection() {
		state := v.u.T("review.state." + r.review.Decision)
		if r.review.Reason != "" {
			state += ": " + node.Printable(r.review.Reason)
		}
		parts = append(parts, "⚠ "+state)
	}
	if r.caseNo != "" {
		parts = append(parts, fmt.Sprintf(v.u.T("records.case"), r.caseNo))
	} else {
		parts = append(parts, v.u.T("records.nocase"))
	}
	parts = append(parts, v.statusText(r.status))
	if r.conflict {
		parts = append(parts, v.u.T("records.conflict"))
	}
	switch {
	case r.review.State() == node.ReviewApproved:
		parts = append(parts, v.u.T("review.state.approved"))
	case r.review != nil && r.review.Corrected:
		parts = append(parts, v.u.T("records.corrected"))
	}
	return strings.Join(parts, " · ")
}

// statusText says how far this node's changes of a record got. A record
// this node never changed came from a peer.
func (v *recordsView) statusText(status string) string {
	if status == "" {
		return v.u.T("records.status.received")
	}
	return v.u.T("status." + status)
}

// reload reads the records again, and the record picked, after they
// changed.
func (v *recordsView) reload() {
	v.mu.Lock()
	v.wanted++
	v.mu.Unlock()
	v.filter()
	if v.selected != "" {
		v.open(v.selected)
	}
}

// filter shows the records that match what the user asked, off the UI
// thread: a search may read thousands of records.
func (v *recordsView) filter() {
	f := recordsFilter{search: strings.ToLower(strings.TrimSpace(v.search.Text)), onlyConflict: v.conflicts.Checked}
	if i := v.kit.SelectedIndex(); i > 0 {
		f.kit = v.kits[i-1]
	}
	if i := v.district.SelectedIndex(); i > 0 {
		f.district = v.district.Selected
	}
	if i := v.status.SelectedIndex(); i > 0 {
		f.status = recordsStatuses[i]
	}
	if v.applied = f; v.onFilter != nil {
		v.onFilter(f)
	}
	limit := v.limit
	v.count.SetText(v.u.T("records.loading"))
	v.listJob.run(v.u, func(ctx context.Context) func() {
		shown, total, err := v.match(ctx, f, limit)
		if err != nil {
			return func() { v.count.SetText(node.Printable(err.Error())) }
		}
		return func() { v.show(shown, total) }
	})
}

// match returns the first limit rows that match f, and how many match in
// all.
func (v *recordsView) match(ctx context.Context, f recordsFilter, limit int) ([]recordsRow, int, error) {
	v.mu.Lock()
	set, wanted := v.loaded, v.wanted
	v.mu.Unlock()
	if set == nil || set.version != wanted || set.kit != f.kit {
		var err error
		if set, err = v.load(ctx, f.kit); err != nil {
			return nil, 0, err
		}
		set.version = wanted
		v.mu.Lock()
		v.loaded = set
		v.mu.Unlock()
	}
	var shown []recordsRow
	total := 0
	for _, r := range set.rows {
		if err := ctx.Err(); err != nil {
			return nil, 0, err
		}
		if (f.district != "" && r.district != f.district) || (f.onlyConflict && !r.conflict) {
			continue
		}
		if f.search != "" && !strings.Contains(r.text, f.search) {
			continue
		}
		if f.status != "" && !recordsStatusIs(r, f.status) {
			continue
		}
		total++
		if len(shown) < limit {
			shown = append(shown, r)
		}
	}
	return shown, total, nil
}

// recordsStatusIs reports whether a record's status, or its review, is
// the one the filter asks for. Not confirmed means changed here and not
// confirmed yet.
func recordsStatusIs(r recordsRow, want string) bool {
	switch want {
	case "unconfirmed":
		return r.status == node.StatusSaved || r.status == node.StatusSent
	case node.ReviewNeedsCorrection, node.ReviewRejected:
		return r.review.State() == want
	}
	return r.status == want
}

// load reads the records of a kit (of every kit when empty), newest first.
func (v *recordsView) load(ctx context.Context, kit string) (*recordsSet, error) {
	n := v.u.node
	q := node.Query{Newest: true}
	for _, k := range n.Kits().Kits() {
		if k.Name == kit && len(k.Types) == 1 {
			q.Type = k.Types[0].Name
		}
	}
	set := &recordsSet{kit: kit}
	for rv, err := range n.Records(ctx, q) {
		if err != nil {
			return nil, err
		}
		if kit != "" && rv.Kit != kit {
			continue
		}
		id, err := syncproto.ParseRecordID(rv.ID)
		if err != nil {
			return nil, err
		}
		r := recordsRow{id: id, summary: node.Printable(n.Summary(rv)), conflict: len(rv.Conflicts) > 0, caseNo: node.Printable(rv.Case), status: rv.Status,
			review: rv.Review}
		if r.summary == "" {
			r.summary = node.Printable(rv.Title)
		}
		r.district, _ = rv.Fields["district"].(string)
		r.photo = firstPhoto(n, rv)
		text := []string{r.summary, rv.ID, rv.Title, rv.Case}
		if rv.Review != nil {
			text = append(text, rv.Review.Reason)
		}
		for _, name := range rv.Order {
			text = append(text, rv.Texts[name])
		}
		for _, vs := range rv.Conflicts {
			for _, ver := range vs {
				text = append(text, ver.Text)
			}
		}
		r.text = strings.ToLower(strings.Join(text, "\n"))
		set.rows = append(set.rows, r)
	}
	return set, nil
}

// show puts matches in the list, keeping the record picked selected.
func (v *recordsView) show(shown []recordsRow, total int) {
	v.shown = shown
	switch {
	case total == 0:
		v.count.SetText(v.u.T("records.none"))
	case total > len(shown):
		v.count.SetText(fmt.Sprintf(v.u.T("records.count.capped"), len(shown), total))
	default:
		if total == 1 {
			v.count.SetText(v.u.T("records.count.one"))
		} else {
			v.count.SetText(fmt.Sprintf(v.u.T("records.count"), total))
		}
	}
	v.list.Refresh()
	i := slices.IndexFunc(shown, func(r recordsRow) bool { return r.id.String() == v.selected })
	if i < 0 {
		v.list.UnselectAll()
		return
	}
	v.list.Select(i)
}

// open reads one record with its history, off the UI thread, and shows it.
// Another record than the one picked closes the edit on show, whose draft
// stays.
func (v *recordsView) open(id string) {
	if id != v.selected {
		v.stopEditing()
		v.notice = ""
	}
	if v.resume != id {
		v.resume = ""
	}
	v.selected = id
	u := v.u
	v.detailJob.run(u, func(ctx context.Context) func() {
		rid, err := syncproto.ParseRecordID(id)
		var rec node.RecordView
		var linked []linkedRecord
		if err == nil {
			rec, err = u.node.Record(ctx, rid)
		}
		if err == nil {
			linked, err = v.linkedWith(ctx, rec)
		}
		return func() {
			switch {
			case err == nil:
				if v.selected == id {
					v.linked = linked
					v.showRecord(rec)
				}
			case v.resume == id: // the edit left on show is of a record gone since
				v.resume = ""
				forgetEdit(u.draftDir())
			default:
				u.showError(err)
			}
		}
	})
}

// showRecord fills the detail: what the record says, its conflicts side by
// side, and its history. Every text another node chose goes through
// node.Printable.
func (v *recordsView) showRecord(rec node.RecordView) {
	u := v.u
	v.record = rec
	v.keep, v.typed, v.use = map[string][]*widget.Button{}, map[string]*widget.Entry{}, map[string]*widget.Button{}
	t, _ := u.node.Kits().Type(rec.Type)

	title := node.Printable(u.node.Summary(rec))
	if title == "" {
		title = node.Printable(rec.Title)
	}
	heading := widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	heading.Wrapping = fyne.TextWrapWord
	caseNo := u.T("records.nocase")
	if rec.Case != "" {
		caseNo = fmt.Sprintf(u.T("records.case"), node.Printable(rec.Case))
	}
	facts := []string{node.Printable(rec.Title), caseNo, v.statusText(rec.Status), fmt.Sprintf(u.T("records.updated"), recordsTime(rec.Updated))}
	if rec.Deleted {
		facts = append(facts, u.T("records.deleted"))
	}
	// The id can be copied, to read it out over the radio.
	id := widget.NewLabel(rec.ID)
	id.Selectable = true
	box := container.NewVBox(heading, widget.NewLabel(strings.Join(facts, " · ")), id)
	if rec.Review != nil {
		review := widget.NewLabel(u.reviewLine(rec.Review))
		review.Wrapping, review.Importance, review.TextStyle.Bold = fyne.TextWrapWord, reviewImportance(rec.Review), true
		box.Add(review)
	}
	if kit := v.kitLine(rec, t); kit != "" {
		box.Add(widget.NewLabel(kit))
	}
	if len(v.linked) > 0 {
		box.Add(widget.NewSeparator())
		box.Add(recordsHeading(u.T("records.linked")))
		for _, l := range v.linked {
			id := l.id
			open := widget.NewButtonWithIcon(u.T("dup.open"), theme.SearchIcon(), func() {
				if err := u.Show("records", id); err != nil {
					u.showError(err)
				}
			})
			what := widget.NewLabel(l.line)
			what.Wrapping = fyne.TextWrapWord
			box.Add(container.NewBorder(nil, nil, nil, open, what))
		}
	}
	if v.notice != "" {
		notice := widget.NewLabel(v.notice)
		notice.Wrapping, notice.Importance = fyne.TextWrapWord, widget.SuccessImportance
		if v.notice == u.T("edit.unseen") {
			notice.Importance = widget.WarningImportance // nothing was saved
		}
		box.Add(notice)
	}
	v.editBtn = nil
	if t != nil && !rec.Deleted {
		v.editBtn = widget.NewButtonWithIcon(u.T("edit.button"), theme.DocumentCreateIcon(), func() { v.edit(v.record) })
		box.Add(container.NewHBox(v.editBtn))
		if v.editing == nil && u.hasEditDraft(rec.ID) {
			box.Add(formNote(u.T("edit.kept")))
		}
	}

	if len(rec.Conflicts) > 0 {
		box.Add(widget.NewSeparator())
		box.Add(recordsHeading(u.T("records.conflicts")))
		for _, name := range recordsFieldOrder(t, rec.Conflicts) {
			box.Add(v.conflictRow(rec, t, name))
		}
	}

	box.Add(widget.NewSeparator())
	box.Add(recordsHeading(u.T("records.fields")))
	// The form is made at once: adding each field to it lays out all
	// before it again, and a record of 200 rows holds 600 fields.
	var fields []fyne.CanvasObject
	for _, name := range rec.Order {
		shown := rec.Texts[name]
		if f, ok := fieldOf(t, name); ok && f.Type == schemas.DateTime && !isWithheld(rec.Fields[name]) {
			shown = fieldText(f, rec.Fields[name], u.Lang())
		}
		value := widget.NewLabel(node.Printable(shown))
		value.Wrapping = fyne.TextWrapWord
		if isWithheld(rec.Fields[name]) {
			value.TextStyle.Italic = true
		}
		fields = append(fields, widget.NewLabelWithStyle(v.label(rec, name), fyne.TextAlignTrailing, fyne.TextStyle{Bold: true}))
		if f, ok := fieldOf(t, name); ok && f.Type == schemas.Photo && len(photoRefs(rec.Fields[name])) > 0 {
			fields = append(fields, u.photoStrip(photoRefs(rec.Fields[name])))
			continue
		}
		fields = append(fields, value)
	}
	box.Add(container.New(layout.NewFormLayout(), fields...))

	for _, d := range rec.Decisions {
		origin, _, _ := strings.Cut(d.Change, ":")
		box.Add(widget.NewLabel(fmt.Sprintf(u.T("records.decided"), v.label(rec, d.Field), u.byline(d.By, d.Via, origin), recordsTime(d.At))))
	}

	box.Add(widget.NewSeparator())
	box.Add(recordsHeading(u.T("records.history")))
	v.history = container.NewVBox()
	v.older = widget.NewButton("", nil)
	box.Add(v.history)
	box.Add(container.NewHBox(v.older))
	v.showOlder(rec, t)

	v.detail.Objects = []fyne.CanvasObject{box}
	v.detail.Refresh()
	if v.resume == rec.ID {
		v.resume = ""
		v.edit(rec)
	}
}

// historyShown is how many changes of a record's history it shows at
// first, newest first, and how many more each press of "Older changes"
// adds. A record edited thousands of times, as another node may write
// it, would otherwise hold the window for minutes while its history is
// laid out.
const historyShown = 50

// showOlder adds to the history shown of rec the next historyShown
// changes, going back in time, and says on the button how many are left;
// the caller lays the detail out again.
func (v *recordsView) showOlder(rec node.RecordView, t *schemas.Type) {
	u := v.u
	shown := v.history.Objects
	from := len(shown)
	for i := len(rec.History) - 1 - from; i >= 0 && len(shown) < from+historyShown; i-- {
		e := rec.History[i]
		head := widget.NewLabelWithStyle(fmt.Sprintf(u.T("records.change"), recordsTime(e.At), u.byline(e.Author, e.Via, e.Node), u.T("status."+e.Status)),
			fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		var lines []string
		for _, name := range recordsFieldOrder(t, e.Fields) {
			lines = append(lines, v.label(rec, name)+": "+node.Printable(v.valueText(t, name, e.Fields[name])))
		}
		changes := widget.NewLabel(strings.Join(lines, "\n"))
		changes.Wrapping = fyne.TextWrapWord
		shown = append(shown, container.NewVBox(head, changes))
	}
	// Set at once: adding each to the box lays out all before it again.
	v.history.Objects = shown
	left := len(rec.History) - len(shown)
	if left == 0 {
		v.older.Hide()
		return
	}
	v.older.SetText(fmt.Sprintf(u.T("records.history.older"), min(left, historyShown), left))
	v.older.OnTapped = func() {
		v.showOlder(rec, t)
		v.detail.Refresh()
	}
	v.older.Show()
}

// linkedRecord is a record linked with the record picked as one person.
type linkedRecord struct {
	id   string
	line string // its case number, kind and summary
}

// linkedWith reads the records linked with rec as one person (on a node
// of the ledger; none elsewhere), each with its case number: every one of
// them stands for the person.
func (v *recordsView) linkedWith(ctx context.Context, rec node.RecordView) ([]linkedRecord, error) {
	u := v.u
	if !u.node.Self().Role.InLedger() || !node.IsPeopleType(rec.Type) {
		return nil, nil
	}
	id, err := syncproto.ParseRecordID(rec.ID)
	if err != nil {
		return nil, err
	}
	ls, err := u.node.LinkedWith(ctx, id)
	if err != nil {
		return nil, err
	}
	var out []linkedRecord
	for _, l := range ls {
		caseNo := u.T("records.nocase")
		if l.Case != "" {
			caseNo = fmt.Sprintf(u.T("records.case"), node.Printable(l.Case))
		}
		parts := []string{caseNo}
		// A record linked that this node does not hold (yet) is listed
		// by its case number alone.
		if lid, err := syncproto.ParseRecordID(l.ID); err == nil {
			if lv, err := u.node.RecordBrief(ctx, lid); err == nil {
				parts = append(parts, node.Printable(lv.Title), node.Printable(u.node.Summary(lv)))
			}
		}
		out = append(out, linkedRecord{id: l.ID, line: strings.Join(parts, " · ")})
	}
	return out, nil
}

// kitLine says which version of its kit's form the record was written
// with (the highest of its changes'), and the kit's version when this
// computer holds that form version.
func (v *recordsView) kitLine(rec node.RecordView, t *schemas.Type) string {
	u := v.u
	if rec.Version == 0 {
		return ""
	}
	var kit *schemas.Kit
	for _, k := range u.node.Kits().Kits() {
		if k.Name == rec.Kit {
			kit = k
		}
	}
	if kit == nil || t == nil {
		return fmt.Sprintf(u.T("records.kit.unknown"), rec.Version)
	}
	title, version := node.Printable(kit.Title.In(u.Lang())), node.Printable(kit.Version)
	switch {
	case rec.Version == t.Version:
		return fmt.Sprintf(u.T("records.kit"), title, version, rec.Version)
	case rec.Version < t.Version:
		return fmt.Sprintf(u.T("records.kit.older"), rec.Version, t.Version, title, version)
	}
	return fmt.Sprintf(u.T("records.kit.newer"), rec.Version, t.Version, title, version)
}

// edit shows the form that edits rec in place of the record, and
// remembers it as the edit on show.
func (v *recordsView) edit(rec node.RecordView) {
	u := v.u
	t, ok := u.node.Kits().Type(rec.Type)
	if !ok || rec.Deleted {
		return
	}
	v.stopEditing()
	fm, err := u.editForm(rec, t, func(notice string) {
		v.stopEditing()
		v.notice = notice
		v.showRecord(v.record)
	})
	if err != nil {
		u.showError(err)
		return
	}
	v.notice = ""
	v.editing = fm
	v.pane.Objects = []fyne.CanvasObject{fm.content}
	v.pane.Refresh()
	u.rememberEdit(rec.ID)
}

// stopEditing shows the record picked in place of its edit, which is no
// longer the edit on show; what was typed stays in its draft until it is
// saved or cancelled.
func (v *recordsView) stopEditing() {
	if v.editing == nil {
		return
	}
	forgetEdit(v.editing.dir)
	v.closeEdit()
}

// closeEdit takes the edit off the screen, still the edit on show of the
// drafts it was typed in.
func (v *recordsView) closeEdit() {
	v.editing = nil
	v.pane.Objects = []fyne.CanvasObject{v.scroll}
	v.pane.Refresh()
}

// resumeEdit opens the edit left on show in the drafts in use, if any.
func (v *recordsView) resumeEdit() {
	if id := v.u.editingRecord(); id != "" {
		v.resume = id
		v.open(id)
	}
}

// reloadEdits shows the edit the drafts now in use left on show, when
// another person signs in: the one on show goes, its draft written and
// moved already (useDrafts), kept for whoever typed it.
func (v *recordsView) reloadEdits() {
	if v.editing != nil {
		v.closeEdit()
	}
	v.resumeEdit()
}

// conflictRow shows a field's versions in columns, each with the button
// that keeps it, and where the field is text, a number or a date, an entry
// for the right value.
func (v *recordsView) conflictRow(rec node.RecordView, t *schemas.Type, name string) fyne.CanvasObject {
	u := v.u
	versions := rec.Conflicts[name]
	// A version this node cannot read is never kept, nor put aside for a
	// value typed blind: the field is resolved where it is read.
	withheld := slices.ContainsFunc(versions, func(ver node.Version) bool { return isWithheld(ver.Value) })
	columns := container.NewGridWithColumns(len(versions))
	for _, ver := range versions {
		value := widget.NewLabelWithStyle(node.Printable(ver.Text), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		value.Wrapping = fyne.TextWrapWord
		if name == syncproto.DeletedField {
			value.SetText(v.valueText(t, name, ver.Value))
		}
		by := widget.NewLabel(fmt.Sprintf(u.T("records.by"), u.byline(ver.Author, ver.Via, ver.Node)))
		by.Wrapping = fyne.TextWrapWord
		card := container.NewVBox(value, by, widget.NewLabel(recordsTime(ver.At)))
		if ver.Ahead > 0 {
			ahead := widget.NewLabel(fmt.Sprintf(u.T("records.ahead"), ver.Ahead))
			ahead.Wrapping, ahead.Importance = fyne.TextWrapWord, widget.WarningImportance
			card.Add(ahead)
		}
		if !withheld {
			keep := widget.NewButton(u.T("records.keep"), func() { v.resolve(name, ver.Value) })
			v.keep[name] = append(v.keep[name], keep)
			card.Add(keep)
		}
		columns.Add(widget.NewCard("", "", card))
	}
	row := container.NewVBox(recordsHeading(v.label(rec, name)), columns)
	if withheld {
		note := widget.NewLabel(u.T("records.withheld"))
		note.Wrapping, note.Importance = fyne.TextWrapWord, widget.WarningImportance
		row.Add(note)
		return row
	}
	var f *schemas.Field
	if t != nil {
		f, _ = t.Field(name)
	}
	if f != nil && slices.Contains([]schemas.FieldType{schemas.Text, schemas.Integer, schemas.Decimal, schemas.Date, schemas.DateTime}, f.Type) {
		entry := widget.NewEntry()
		entry.SetPlaceHolder(u.T("records.newvalue"))
		entry.OnChanged = func(string) { v.typedBy = u.signedIn() }
		use := widget.NewButton(u.T("records.use"), func() { v.useTyped(f, entry.Text) })
		v.typed[name], v.use[name] = entry, use
		row.Add(container.NewBorder(nil, nil, nil, use, entry))
	}
	return row
}

// signedIn clears the values typed to settle conflicts when who is not
// the person who typed them.
func (v *recordsView) signedIn(who string) {
	if v.typedBy == who {
		return
	}
	for _, e := range v.typed {
		e.SetText("")
	}
}

// useTyped resolves a conflict with the value the user typed.
func (v *recordsView) useTyped(f *schemas.Field, typed string) {
	typed = strings.TrimSpace(typed)
	var value any = typed
	switch {
	case typed == "":
		value = nil
	case f.Type == schemas.Integer:
		i, err := strconv.ParseInt(typed, 10, 64)
		if err != nil {
			v.u.showError(fmt.Errorf(v.u.T("records.notnumber"), typed))
			return
		}
		value = i
	case f.Type == schemas.Decimal:
		x, err := strconv.ParseFloat(typed, 64)
		if err != nil {
			v.u.showError(fmt.Errorf(v.u.T("records.notnumber"), typed))
			return
		}
		value = x
	}
	v.resolve(f.Name, value)
}

// resolve sets a field in conflict to one value, which replaces the
// versions shown, then refreshes every screen. A version that came while
// the person decided is not replaced unseen: nothing is written, the
// person is told, and the record is shown again with it.
func (v *recordsView) resolve(field string, value any) {
	u := v.u
	if isWithheld(value) {
		return // never offered: a value this node cannot read is not written back
	}
	id := v.record.ID
	seen := v.record.Heads[field]
	u.run(u.T("records.resolving"), func(ctx context.Context) error {
		rid, err := syncproto.ParseRecordID(id)
		if err != nil {
			return err
		}
		author, err := u.author(ctx)
		if err != nil {
			return err
		}
		_, err = u.node.Decide(ctx, rid, field, value, seen, author)
		if errors.Is(err, node.ErrUnseen) {
			return unseenError(fmt.Sprintf(u.T("records.unseen"), v.label(v.record, field)))
		}
		return err
	}, func(err error) {
		if err == nil || errors.Is(err, node.ErrUnseen) {
			u.Refresh()
		}
	})
}

// unseenError says, in the person's language, that a field's versions
// changed while they decided it.
type unseenError string

func (e unseenError) Error() string { return string(e) }
func (e unseenError) Unwrap() error { return node.ErrUnseen }

// byline is who made a change: the author the writing node names, and that
// node by the name on its certificate ("Ana Cho, via cayo-laptop-07"), or
// by the start of its id when this node does not hold its certificate.
func (u *UI) byline(author, via, nodeID string) string {
	who := node.Printable(via)
	if who == "" {
		short := nodeID
		if len(short) > 8 {
			short = short[:8] + "…"
		}
		who = fmt.Sprintf(u.T("records.node"), node.Printable(short))
	}
	if author == "" {
		return who
	}
	return fmt.Sprintf(u.T("records.via"), node.PrintableAuthor(author), who)
}

// label is a field's label in the user's language (the field's name, made
// printable, for a field the kits here do not declare).
func (v *recordsView) label(rec node.RecordView, name string) string {
	if name == syncproto.DeletedField {
		return v.u.T("records.deleted")
	}
	if l := rec.Labels[name]; l != "" {
		return node.Printable(l)
	}
	return node.Printable(name)
}

// valueText shows a value as the record's history holds it (decoded, not
// formatted): choices by their labels, lists joined with commas.
func (v *recordsView) valueText(t *schemas.Type, name string, value any) string {
	var f *schemas.Field
	if t != nil {
		f, _ = t.Field(name)
	}
	switch {
	case value == nil:
		return v.u.T("records.cleared")
	case isWithheld(value):
		return node.WithheldText[v.u.Lang()]
	}
	return fieldText(f, value, v.u.Lang())
}

// isWithheld reports whether a value is one this node holds no key to
// open: personal data of another district, shown as such and never
// written back.
func isWithheld(value any) bool {
	_, ok := value.(node.Withheld)
	return ok
}

// recordsFieldOrder lists the names of m in the order the type declares
// its fields, then the others by name.
func recordsFieldOrder[V any](t *schemas.Type, m map[string]V) []string {
	var names []string
	if t != nil {
		for _, f := range t.Fields {
			if _, ok := m[f.Name]; ok {
				names = append(names, f.Name)
			}
		}
	}
	var rest []string
	for name := range m {
		if !slices.Contains(names, name) {
			rest = append(rest, name)
		}
	}
	slices.Sort(rest)
	return append(names, rest...)
}

func recordsHeading(s string) *widget.Label {
	return widget.NewLabelWithStyle(s, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
}

// recordsTime shows an RFC 3339 time as local time.
func recordsTime(at string) string {
	return showStamp(at, at)
}

// recordsQueue runs jobs off the UI thread one at a time, and only the
// newest of those waiting: typing a search cancels the query of the
// previous key. A job returns what to do on the UI thread, or nil.
type recordsQueue struct {
	mu      sync.Mutex
	running bool
	next    func(context.Context) func()
	cancel  context.CancelFunc
}

func (q *recordsQueue) run(u *UI, job func(context.Context) func()) {
	q.mu.Lock()
	q.next = job
	if q.cancel != nil {
		q.cancel()
	}
	start := !q.running
	q.running = true
	q.mu.Unlock()
	if start {
		u.background(func() { q.drain(u) })
	}
}

// drain runs the jobs waiting until there are none.
func (q *recordsQueue) drain(u *UI) {
	for {
		q.mu.Lock()
		job := q.next
		if job == nil {
			q.running, q.cancel = false, nil
			q.mu.Unlock()
			return
		}
		q.next = nil
		ctx, cancel := context.WithCancel(u.ctx)
		q.cancel = cancel
		q.mu.Unlock()
		done := job(ctx)
		if ctx.Err() == nil && done != nil {
			u.do(done)
		}
		cancel()
	}
}
