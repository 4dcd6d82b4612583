package desktop

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"lifeline/node"
	"lifeline/syncproto"
)

// hqQueueShown is how many records in conflict the queue lists at most.
const hqQueueShown = 500

// hqKeptShown is how many changes kept aside the screen lists at most.
const hqKeptShown = 200

// The formats an export writes, as file extensions.
const (
	hqCSV     = "csv"
	hqGeoJSON = "geojson"
)

// The columns of the situation table: each damage level has its own, so
// that no count is cut or hidden at any width.
const (
	hqColDistrict = iota
	hqColDamage0
	hqColDamage1
	hqColDamage2
	hqColDamage3
	hqColDamage4
	hqColDisplaced
	hqColShelters
	hqColOccupancy
	hqColSheltered
	hqColMissing
	hqColConflicts
	hqColumns
)

var hqColumnKeys = [hqColumns]string{"hq.col.district", "hq.col.damage0", "hq.col.damage1", "hq.col.damage2", "hq.col.damage3",
	"hq.col.damage4", "hq.col.displaced", "hq.col.shelters", "hq.col.occupancy", "hq.col.sheltered", "hq.col.missing", "hq.col.conflicts"}

// hqColumnWidths are the widths of the situation table's columns, enough
// for each heading in English and Spanish.
var hqColumnWidths = [hqColumns]float32{130, 90, 90, 90, 90, 90, 110, 150, 180, 190, 130, 120}

// hqView is the Headquarters screen: the situation per district and the
// records per type, the records awaiting review, those in conflict, the
// changes kept aside, and exports for the analysts' spreadsheets and maps.
// Each list has a tab of its own, so that each has the screen's height on
// a small laptop.
type hqView struct {
	u *UI

	summary  *widget.Label
	figures  *widget.Table // districts × the report's figures
	counts   *widget.Table // record types × districts
	queue    *widget.List
	queueMsg *widget.Label
	detail   *widget.Label // the versions of the record picked, in a dialog
	sides    *container.AppTabs
	keptTab  *container.TabItem
	keptList *widget.List
	keptMsg  *widget.Label
	review   *reviewPanel
	matches  *matchPanel
	mapv     *mapView // the Map tab (map.go)

	kind     *widget.Select
	types    []string // type names, by kind select index
	personal *widget.Check
	photos   *widget.Check // the export writes the records' photos too (photos.go)
	warn     *widget.Label
	geojson  *widget.Button
	result   *widget.Label

	// What the screen shows, on the UI thread.
	rows      []node.DistrictReport // the report's total, then its districts
	typeNames []string              // the rows of the counts table
	conflicts []hqConflict
	picked    string // the id of the record whose versions show, or ""
	kept      []node.QuarantinedChange
	keptTotal int

	mu sync.Mutex
	// loading is set while a load runs; again asks it for one more, when
	// records changed meanwhile.
	loading, again bool
}

// hqConflict is a record in the conflict queue.
type hqConflict struct {
	id      string
	title   string // the record's summary, else its type's title
	fields  string // the labels of the fields in conflict
	details string // every version of each field in conflict
}

func (u *UI) hqScreen() fyne.CanvasObject {
	u.screens.hq = u.newHQView()
	return u.screens.hq.content()
}

func (u *UI) newHQView() *hqView {
	v := &hqView{u: u, summary: widget.NewLabel(u.T("hq.loading")), queueMsg: widget.NewLabel(""),
		detail: widget.NewLabel(""), warn: widget.NewLabel(u.T("hq.export.warn")), result: widget.NewLabel(""),
		keptMsg: widget.NewLabel(""), review: u.newReviewPanel(), matches: u.newMatchPanel()}
	v.summary.TextStyle.Bold = true
	for _, l := range []*widget.Label{v.summary, v.queueMsg, v.detail, v.warn, v.result, v.keptMsg} {
		l.Wrapping = fyne.TextWrapWord
	}
	v.warn.Importance = widget.WarningImportance
	v.warn.Hide()

	v.figures = widget.NewTable(func() (int, int) { return len(v.rows) + 1, hqColumns }, newHQCell, v.fillFigure)
	v.figures.StickyRowCount, v.figures.StickyColumnCount = 1, 1
	for col, w := range hqColumnWidths {
		v.figures.SetColumnWidth(col, w)
	}
	v.counts = widget.NewTable(func() (int, int) { return len(v.typeNames) + 1, len(v.rows) + 1 }, newHQCell, v.fillCount)
	v.counts.StickyRowCount, v.counts.StickyColumnCount = 1, 1
	v.counts.SetColumnWidth(0, 290)

	v.queue = newTwoLineList(func() int { return len(v.conflicts) }, func(i int) (string, string) {
		return v.conflicts[i].title, fmt.Sprintf(v.u.T("hq.queue.fields"), v.conflicts[i].fields)
	})
	v.queue.OnSelected = v.pick
	v.keptList = newTwoLineList(func() int { return len(v.kept) }, func(i int) (string, string) { return v.keptLines(v.kept[i]) })
	v.keptList.OnSelected = v.pickKept

	var titles []string
	for _, k := range u.node.Kits().Kits() {
		for _, t := range k.Types {
			v.types = append(v.types, t.Name)
			titles = append(titles, t.Title.In(u.Lang()))
		}
	}
	v.kind = widget.NewSelect(titles, func(string) { v.exportable() })
	v.personal = widget.NewCheck(u.T("hq.export.personal"), func(on bool) {
		if on {
			v.warn.Show()
		} else {
			v.warn.Hide()
		}
		v.exportable()
	})
	v.photos = widget.NewCheck(u.T("hq.export.photos"), nil)
	v.geojson = widget.NewButton(u.T("hq.export.geojson"), func() { v.chooseFolder(hqGeoJSON) })
	if i := slices.Index(v.types, "damage-assessment"); i >= 0 {
		v.kind.SetSelectedIndex(i)
	} else if len(v.types) > 0 {
		v.kind.SetSelectedIndex(0)
	}

	u.whenRefreshed(v.load)
	v.load()
	return v
}

func (v *hqView) content() fyne.CanvasObject {
	u := v.u
	heading := func(key string) *widget.Label {
		return widget.NewLabelWithStyle(u.T(key), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	top := container.NewBorder(nil, nil, nil, widget.NewButton(u.T("hq.refresh"), v.load), v.summary)
	situation := container.NewVSplit(v.figures, container.NewBorder(heading("hq.records"), nil, nil, nil, v.counts))
	situation.Offset = 0.6
	queue := container.NewBorder(v.queueMsg, nil, nil, nil, v.queue)
	kept := container.NewBorder(v.keptMsg, nil, nil, nil, v.keptList)
	v.keptTab = container.NewTabItem(fmt.Sprintf(u.T("hq.kept"), v.keptTotal), kept)
	v.review.tab = container.NewTabItem(v.review.tabText(), v.review.content())
	v.matches.tab = container.NewTabItem(v.matches.tabText(), v.matches.content())
	v.sides = container.NewAppTabs(container.NewTabItem(u.T("hq.situation"), situation), v.review.tab,
		v.matches.tab, container.NewTabItem(u.T("hq.queue"), queue), v.keptTab)
	v.mapv = u.newMapView()
	v.sides.Append(container.NewTabItem(u.T("hq.map"), v.mapv.content()))
	v.sides.OnSelected = func(t *container.TabItem) {
		onShow := t == v.review.tab
		matchesOn := t == v.matches.tab
		reviewOpened := v.review.open.Swap(onShow) != onShow && onShow
		matchesOpened := v.matches.open.Swap(matchesOn) != matchesOn && matchesOn
		if reviewOpened || matchesOpened {
			v.load() // each queue is read again while on show only
		}
	}
	charts := u.newChartsView()
	chartsTab := container.NewTabItem(u.T("hq.charts"), charts.content())
	v.sides.Append(chartsTab)
	shown := v.sides.OnSelected
	v.sides.OnSelected = func(t *container.TabItem) {
		shown(t)
		if t == chartsTab {
			charts.load() // drawn again each time it is shown
		}
	}
	csvButton := widget.NewButton(u.T("hq.export.csv"), func() { v.chooseFolder(hqCSV) })
	gpkgButton := widget.NewButton(u.T("hq.export.gpkg"), v.chooseGeoPackage)
	export := container.NewVBox(widget.NewSeparator(),
		container.NewBorder(nil, nil, heading("hq.export"), container.NewHBox(v.personal, v.photos, csvButton, v.geojson, gpkgButton), v.kind),
		v.warn, v.result)
	return container.NewBorder(top, export, nil, nil, v.sides)
}

func newHQCell() fyne.CanvasObject {
	l := widget.NewLabel("Orange Walk 0000")
	l.Truncation = fyne.TextTruncateEllipsis
	return l
}

// figure is the text of one cell of the situation table (row 0 is the
// header), and how much attention it asks for: only what someone must act
// on is coloured (homes at levels 3 and 4, people still missing, full
// shelters, records in conflict), in a district's row; the total is only
// bold.
func (v *hqView) figure(row, col int) (string, widget.Importance) {
	if row == 0 {
		return v.u.T(hqColumnKeys[col]), widget.MediumImportance
	}
	d := v.rows[row-1]
	text, attention := v.figureOf(d, row-1, col)
	if row == 1 || attention == widget.MediumImportance {
		return text, widget.MediumImportance
	}
	return text, attention
}

func (v *hqView) figureOf(d node.DistrictReport, i, col int) (string, widget.Importance) {
	calm := widget.MediumImportance
	when := func(alert bool, level widget.Importance) widget.Importance {
		if alert {
			return level
		}
		return calm
	}
	switch col {
	case hqColDistrict:
		return v.districtName(i), calm
	case hqColDamage0, hqColDamage1, hqColDamage2, hqColDamage3, hqColDamage4:
		level := col - hqColDamage0
		c := d.Damage[level]
		return fmt.Sprint(c), when(level >= 3 && c > 0, widget.DangerImportance)
	case hqColDisplaced:
		return fmt.Sprint(d.Displaced), calm
	case hqColShelters:
		return fmt.Sprintf("%d / %d", d.SheltersOpen, d.Shelters), calm
	case hqColOccupancy:
		return fmt.Sprintf("%d / %d", d.Occupancy, d.Capacity), when(d.Capacity > 0 && d.Occupancy >= d.Capacity, widget.WarningImportance)
	case hqColSheltered:
		return fmt.Sprintf("%d (%d)", d.People, d.Families), calm
	case hqColMissing:
		return fmt.Sprint(d.Missing), when(d.Missing > 0, widget.DangerImportance)
	case hqColConflicts:
		return fmt.Sprint(d.Conflicts), when(d.Conflicts > 0, widget.WarningImportance)
	}
	return "", calm
}

// districtName names row i of the report: the total, a district, or the
// records naming none.
func (v *hqView) districtName(i int) string {
	switch {
	case i == 0:
		return v.u.T("hq.total")
	case v.rows[i].District == "":
		return v.u.T("hq.nodistrict")
	}
	return v.rows[i].District
}

func (v *hqView) fillFigure(id widget.TableCellID, o fyne.CanvasObject) {
	if id.Row > len(v.rows) {
		return
	}
	text, attention := v.figure(id.Row, id.Col)
	styleCell(o.(*widget.Label), text, id.Row <= 1 || id.Col == hqColDistrict, attention)
}

// count is the text of one cell of the records table: record types down,
// districts across.
func (v *hqView) count(row, col int) string {
	switch {
	case row == 0 && col == 0:
		return v.u.T("hq.col.type")
	case row == 0:
		return v.districtName(col - 1)
	case col == 0:
		if t, err := v.u.node.Type(v.typeNames[row-1]); err == nil {
			return t.Title.In(v.u.Lang())
		}
		return node.Printable(v.typeNames[row-1])
	}
	return fmt.Sprint(v.rows[col-1].Records[v.typeNames[row-1]])
}

func (v *hqView) fillCount(id widget.TableCellID, o fyne.CanvasObject) {
	if id.Row > len(v.typeNames) || id.Col > len(v.rows) {
		return
	}
	styleCell(o.(*widget.Label), v.count(id.Row, id.Col), id.Row == 0 || id.Col <= 1, widget.MediumImportance)
}

// styleCell sets a table cell's text: bold for headings and totals, and
// for a figure that asks for attention, in its colour too, so that it
// stands out without colour as well.
func styleCell(l *widget.Label, text string, bold bool, attention widget.Importance) {
	l.TextStyle.Bold = bold || attention != widget.MediumImportance
	l.Importance = attention
	l.SetText(text)
}

// load counts the records again, off the UI thread, one count at a time:
// records that change during a count are counted once more after it.
func (v *hqView) load() {
	v.mu.Lock()
	if v.loading {
		v.again = true
		v.mu.Unlock()
		return
	}
	v.loading = true
	v.mu.Unlock()
	v.u.background(func() {
		for {
			rep, queue, inConflict, err := v.read(v.u.ctx)
			kept, keptTotal, kerr := v.readKept(v.u.ctx)
			// Finding the records awaiting review reads every record: it
			// is done once, then again only while the queue is on show.
			var review []reviewItem
			var toReview, waiting int
			var rerr error
			reread := v.review.open.Load() || !v.review.readOnce.Swap(true)
			if reread {
				review, toReview, waiting, rerr = v.review.read(v.u.ctx)
			}
			// Matching reads every people record: only while on show.
			var matches matchRead
			var merr error
			rematch := v.matches.open.Load()
			if rematch {
				matches, merr = v.matches.read(v.u.ctx)
			}
			if v.u.ctx.Err() != nil {
				return
			}
			v.u.do(func() {
				if rematch {
					v.matches.show(matches, merr)
				}
				v.show(rep, queue, inConflict, err)
				v.showKept(kept, keptTotal, kerr)
				if reread {
					v.review.show(review, toReview, waiting, rerr)
				}
				if v.sides != nil {
					v.sides.Refresh()
				}
			})
			v.mu.Lock()
			if !v.again {
				v.loading = false
				v.mu.Unlock()
				return
			}
			v.again = false
			v.mu.Unlock()
		}
	})
}

// read makes the report and the conflict queue, with how many records are
// in conflict in all.
func (v *hqView) read(ctx context.Context) (node.Report, []hqConflict, int, error) {
	rep, err := v.u.node.Report(ctx)
	if err != nil {
		return rep, nil, 0, err
	}
	// The count is the report's, which the store keeps: only the records
	// shown are read, however many a modified laptop put in conflict.
	var queue []hqConflict
	for r, err := range v.u.node.Records(ctx, node.Query{OnlyConflict: true, Limit: hqQueueShown}) {
		if err != nil {
			return rep, nil, 0, err
		}
		queue = append(queue, v.conflict(r))
	}
	return rep, queue, rep.Total.Conflicts, nil
}

// conflict describes a record in conflict for the queue.
func (v *hqView) conflict(r node.RecordView) hqConflict {
	u := v.u
	c := hqConflict{id: r.ID, title: node.Printable(u.node.Summary(r))}
	if c.title == "" {
		c.title = node.Printable(r.Title)
	}
	if c.title == "" {
		c.title = node.Printable(r.Type)
	}
	var names []string
	for _, name := range r.Order {
		if _, ok := r.Conflicts[name]; ok {
			names = append(names, name)
		}
	}
	if _, ok := r.Conflicts[syncproto.DeletedField]; ok {
		names = append(names, syncproto.DeletedField)
	}
	var labels []string
	var details strings.Builder
	fmt.Fprintf(&details, "%s\n%s\n", c.title, r.ID)
	for _, name := range names {
		label := r.Labels[name]
		if name == syncproto.DeletedField {
			label = u.T("hq.deleted")
		}
		if label == "" {
			label = name
		}
		label = node.Printable(label)
		labels = append(labels, label)
		fmt.Fprintf(&details, "\n%s:\n", label)
		for _, ver := range r.Conflicts[name] {
			fmt.Fprintf(&details, "  • %s", fmt.Sprintf(u.T("hq.version"), node.Printable(ver.Text), u.byline(ver.Author, ver.Via, ver.Node), hqTime(ver.At)))
			if ver.Ahead > 0 {
				fmt.Fprintf(&details, " "+u.T("hq.ahead"), ver.Ahead)
			}
			details.WriteByte('\n')
		}
	}
	c.fields = strings.Join(labels, ", ")
	c.details = strings.TrimSuffix(details.String(), "\n")
	return c
}

// show puts a count on the screen.
func (v *hqView) show(rep node.Report, queue []hqConflict, inConflict int, err error) {
	u := v.u
	if err != nil {
		v.summary.SetText(node.Printable(err.Error()))
		return
	}
	// The total comes first and stays in sight while the districts scroll.
	v.rows = append([]node.DistrictReport{rep.Total}, rep.Districts...)
	v.figures.StickyRowCount, v.counts.StickyColumnCount = 2, 2
	v.typeNames = u.node.Kits().TypeNames()
	records := 0
	for t, c := range rep.Total.Records {
		records += c
		if !slices.Contains(v.typeNames, t) {
			v.typeNames = append(v.typeNames, t)
		}
	}
	v.summary.SetText(fmt.Sprintf(u.T("hq.summary"), hqTime(rep.At), records, rep.Total.Conflicts))
	for col := 1; col <= len(v.rows); col++ {
		v.counts.SetColumnWidth(col, 110)
	}
	v.figures.Refresh()
	v.counts.Refresh()

	v.conflicts = queue
	v.queue.UnselectAll()
	v.queue.Refresh()
	if v.picked != "" {
		// The versions on show follow what arrived meanwhile.
		i := slices.IndexFunc(queue, func(c hqConflict) bool { return c.id == v.picked })
		if i < 0 {
			v.detail.SetText(u.T("hq.queue.resolved"))
		} else {
			v.detail.SetText(queue[i].details)
		}
	}
	v.queueMsg.SetText(howMany(inConflict, len(queue), u.T("hq.queue.none"), u.T("hq.queue.count"), u.T("hq.queue.more")))
}

// howMany says how much of a list of total is shown: none, all of it, or
// the first shown. none, count and more are the texts for each.
func howMany(total, shown int, none, count, more string) string {
	switch {
	case total == 0:
		return none
	case total > shown:
		return fmt.Sprintf(more, total, shown)
	}
	return fmt.Sprintf(count, total)
}

// readKept lists the newest changes kept aside, with how many there are.
func (v *hqView) readKept(ctx context.Context) ([]node.QuarantinedChange, int, error) {
	total, err := v.u.node.QuarantineCount(ctx)
	if err != nil || total == 0 {
		return nil, 0, err
	}
	kept, err := v.u.node.Quarantine(ctx, hqKeptShown)
	return kept, total, err
}

// showKept puts the changes kept aside on the screen. They are a peer's
// claims: every text in them is shown escaped.
func (v *hqView) showKept(kept []node.QuarantinedChange, total int, err error) {
	u := v.u
	if err != nil {
		v.keptMsg.SetText(node.Printable(err.Error()))
		return
	}
	v.kept, v.keptTotal = kept, total
	v.keptList.UnselectAll()
	v.keptList.Refresh()
	v.keptMsg.SetText(howMany(total, len(kept), u.T("hq.kept.none"), u.T("hq.kept.count"), u.T("hq.kept.more")))
	if v.keptTab != nil {
		v.keptTab.Text = fmt.Sprintf(u.T("hq.kept"), total)
	}
}

// keptLines are the two lines a change kept aside shows in the list.
func (v *hqView) keptLines(q node.QuarantinedChange) (title, reason string) {
	typeTitle := q.Type
	if t, err := v.u.node.Type(q.Type); err == nil {
		typeTitle = t.Title.In(v.u.Lang())
	}
	short := q.Record
	if len(short) > 8 {
		short = short[:8]
	}
	return fmt.Sprintf(v.u.T("hq.kept.row"), node.Printable(typeTitle), short, node.Printable(q.Origin)), node.Printable(q.Reason)
}

// keptDetail says all the screen knows of a change kept aside.
func (v *hqView) keptDetail(q node.QuarantinedChange) string {
	u := v.u
	title, _ := v.keptLines(q)
	verdict := u.T("hq.kept.waits")
	switch {
	case q.Final:
		verdict = u.T("hq.kept.final")
	case q.WaitsForField != "":
		verdict = fmt.Sprintf(u.T("hq.kept.waits.field"), node.Printable(q.WaitsForField))
	}
	author := node.Printable(q.Author)
	if author == "" {
		author = "—"
	}
	return title + "\n\n" + fmt.Sprintf(u.T("hq.kept.detail"), q.Record, node.Printable(q.Type), q.Dot, hqTime(q.At),
		node.Printable(q.Origin), author, showTime(q.Since), node.Printable(q.Reason)) + "\n" + verdict
}

// pickKept shows why a change was kept aside.
func (v *hqView) pickKept(i widget.ListItemID) {
	if i >= len(v.kept) {
		return
	}
	l := widget.NewLabel(v.keptDetail(v.kept[i]))
	l.Wrapping = fyne.TextWrapWord
	d := dialog.NewCustom(v.u.T("hq.kept.title"), v.u.T("hq.queue.close"), container.NewVScroll(l), v.u.win)
	d.SetOnClosed(v.keptList.UnselectAll)
	d.Resize(fyne.NewSize(640, 420))
	d.Show()
}

// pick shows the versions of the fields in conflict of queue row i.
func (v *hqView) pick(i widget.ListItemID) {
	if i >= len(v.conflicts) || v.picked != "" {
		return
	}
	id := v.conflicts[i].id
	v.picked = id
	v.detail.SetText(v.conflicts[i].details)
	d := dialog.NewCustomConfirm(v.u.T("hq.queue"), v.u.T("hq.queue.open"), v.u.T("hq.queue.close"), container.NewVScroll(v.detail),
		func(resolve bool) {
			v.picked = ""
			v.queue.UnselectAll()
			if resolve {
				v.resolve(id)
			}
		}, v.u.win)
	d.Resize(fyne.NewSize(640, 420))
	d.Show()
}

// resolve opens a record on the Records screen, where its conflicts are
// decided.
func (v *hqView) resolve(id string) {
	if err := v.u.Show("records", id); err != nil {
		v.u.showError(err)
	}
}

// hqTime shows an RFC 3339 time as local time.
func hqTime(at string) string {
	return showStamp(at, at)
}

// selectedType is the record type picked for export, or "".
func (v *hqView) selectedType() string {
	if i := v.kind.SelectedIndex(); i >= 0 && i < len(v.types) {
		return v.types[i]
	}
	return ""
}

// exportable enables GeoJSON for the types whose records have a location
// an export may include.
func (v *hqView) exportable() {
	t, err := v.u.node.Type(v.selectedType())
	if err == nil && node.HasLocation(t, node.ExportOptions{Personal: v.personal.Checked}) {
		v.geojson.Enable()
		return
	}
	v.geojson.Disable()
}

// chooseFolder asks for the folder to export into.
func (v *hqView) chooseFolder(format string) {
	typeName := v.selectedType()
	if typeName == "" {
		v.u.showError(errors.New(v.u.T("hq.export.typeunknown")))
		return
	}
	personal := v.personal.Checked
	askFolder(v.u.win, func(dir string) { v.exportTo(dir, typeName, format, personal) })
}

// exportTo writes the records of a type into a new file in dir, named
// after the type and the day, off the UI thread, and says where.
func (v *hqView) exportTo(dir, typeName, format string, personal bool) {
	u := v.u
	export := u.node.ExportCSV
	if format == hqGeoJSON {
		export = u.node.ExportGeoJSON
	}
	var count int
	var path string
	ph := v.newPhotoExport()
	u.job(u.T("hq.exporting"), func(ctx context.Context, progress func(string)) error {
		f, p, err := createExport(u.node, dir, typeName, format)
		if err != nil {
			return err
		}
		path = p
		w := bufio.NewWriter(&jobWriter{ctx: ctx, w: f, progress: func(b int64) { progress(fmt.Sprintf(u.T("job.written"), megabytes(b))) }})
		count, err = export(ctx, typeName, w, ph.options(personal))
		if err == nil {
			err = w.Flush()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = ph.write(ctx, p)
		}
		if err != nil {
			os.Remove(p)
			return fmt.Errorf("%s: %w", p, err)
		}
		return nil
	}, func(err error) string {
		switch {
		case errors.Is(err, context.Canceled) && u.ctx.Err() == nil:
			v.result.SetText(u.T("hq.export.cancelled"))
		case err != nil:
			v.result.SetText("")
			return ""
		case personal:
			v.result.SetText(fmt.Sprintf(u.T("hq.exported.personal"), count, path))
		default:
			v.result.SetText(fmt.Sprintf(u.T("hq.exported"), count, path))
		}
		if err == nil {
			v.result.SetText(v.result.Text + ph.said())
		}
		return v.result.Text
	})
}

// createExport makes a new file in dir for an export of a type today,
// never over an earlier one: damage-assessment-2026-11-27.csv, then
// damage-assessment-2026-11-27-2.csv. Only its owner reads it: an export
// may carry personal data. A folder in n's data folder is refused
// (node.CheckExportPath), nothing made there.
func createExport(n *node.Node, dir, typeName, ext string) (*os.File, string, error) {
	base := typeName + "-" + time.Now().Format(time.DateOnly)
	if err := n.CheckExportPath(filepath.Join(dir, base+"."+ext)); err != nil {
		return nil, "", err
	}
	for i := 1; ; i++ {
		name := base
		if i > 1 {
			name = fmt.Sprintf("%s-%d", base, i)
		}
		path := filepath.Join(dir, name+"."+ext)
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) && i < 1000 {
			continue
		}
		return f, path, err
	}
}
