package desktop

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"lifeline/node"
	"lifeline/node/ledger"
	"lifeline/syncproto"
)

// hqReviewShown is how many records awaiting review the queue lists at
// most.
const hqReviewShown = 200

// reviewPanel is Headquarters' review queue: the records nobody reviewed
// yet, newest first (on a relay, those of its district), and beside them
// the record picked, with what it says and the three decisions. A decision
// goes through the ledger (node.Review); the record leaves the queue at
// once, and the ledger writes the review into it shortly after.
type reviewPanel struct {
	// typedBy is who was signed in when the reason was last typed: a
	// reason is the words of whoever typed it, not of the next person.
	typedBy string
	u       *UI

	list    *widget.List
	msg     *widget.Label
	tab     *container.TabItem
	detail  *fyne.Container // the record picked
	reason  *widget.Entry
	problem *widget.Label // what is wrong with the decision asked for
	result  *widget.Label // what the last decision did
	approve *widget.Button
	correct *widget.Button
	reject  *widget.Button
	pane    fyne.CanvasObject // the detail with its decisions, shown once a record is picked
	empty   *widget.Label     // in place of pane while none is

	// What the panel shows, on the UI thread.
	items   []reviewItem
	total   int // records awaiting review, those listed among them
	waiting int // reviews made here that the ledger has not written yet
	picked  string

	// sent are the records reviewed here whose review the record does not
	// hold yet, by id: the queue leaves them out. creators are who made
	// each record listed, read once: a record's first change never
	// changes. Both are read by load's goroutine, under mu.
	mu   sync.Mutex
	sent map[string]bool
	// open is set while the queue is on show, readOnce once it was read:
	// finding the records awaiting review reads every record, which the
	// screen's other refreshes do not need.
	open, readOnce atomic.Bool
	creators       map[string]reviewCreator
}

// reviewItem is a record in the review queue.
type reviewItem struct {
	id    syncproto.RecordID
	title string // the record's summary, else its type's title
	line  string // district · by whom · when · case · type
	rec   node.RecordView
}

// reviewCreator is who made a record, and when, as its first change says.
type reviewCreator struct{ by, at string }

func (u *UI) newReviewPanel() *reviewPanel {
	p := &reviewPanel{u: u, msg: widget.NewLabel(u.T("review.loading")), reason: widget.NewEntry(), problem: widget.NewLabel(""),
		result: widget.NewLabel(""), empty: widget.NewLabel(u.T("review.pick")), detail: container.NewVBox(),
		sent: map[string]bool{}, creators: map[string]reviewCreator{}}
	for _, l := range []*widget.Label{p.msg, p.problem, p.result, p.empty} {
		l.Wrapping = fyne.TextWrapWord
	}
	p.problem.Importance = widget.DangerImportance
	p.problem.Hide()
	p.result.Importance = widget.SuccessImportance
	p.result.Hide()
	p.reason.SetPlaceHolder(u.T("review.reason.hint"))
	p.reason.OnChanged = func(string) {
		p.problem.Hide()
		p.typedBy = u.signedIn()
	}
	p.approve = widget.NewButton(u.T("review.approve"), func() { p.decide(node.ReviewApproved) })
	p.approve.Importance = widget.HighImportance
	p.correct = widget.NewButton(u.T("review.correct"), func() { p.decide(node.ReviewNeedsCorrection) })
	p.reject = widget.NewButton(u.T("review.reject"), func() { p.decide(node.ReviewRejected) })
	p.list = newTwoLineList(func() int { return len(p.items) }, func(i int) (string, string) { return p.items[i].title, p.items[i].line })
	p.list.OnSelected = func(i widget.ListItemID) {
		if i < len(p.items) {
			p.pick(p.items[i].id.String())
		}
	}
	return p
}

// content is the queue on the left, the record picked on the right.
func (p *reviewPanel) content() fyne.CanvasObject {
	u := p.u
	decisions := container.NewVBox(widget.NewSeparator(), widget.NewLabel(u.T("review.reason")), p.reason, p.problem,
		container.NewHBox(p.approve, p.correct, p.reject))
	p.pane = container.NewBorder(nil, decisions, nil, nil, container.NewVScroll(p.detail))
	p.pane.Hide()
	right := container.NewBorder(p.result, nil, nil, nil, container.NewStack(p.empty, p.pane))
	split := container.NewHSplit(container.NewBorder(p.msg, nil, nil, nil, p.list), right)
	split.Offset = 0.5
	return split
}

// tabText is the queue's tab title, with how many records await review.
func (p *reviewPanel) tabText() string { return fmt.Sprintf(p.u.T("review.tab"), p.total) }

// read lists the records awaiting review, off the UI thread, with how
// many there are and how many reviews made here the ledger has not
// written yet.
func (p *reviewPanel) read(ctx context.Context) (items []reviewItem, total, waiting int, err error) {
	n := p.u.node
	self := n.Self()
	p.mu.Lock()
	sent := maps.Clone(p.sent)
	p.mu.Unlock()
	pending := map[string]bool{}
	for rv, err := range n.Reviewed(ctx, node.Query{Newest: true}, node.ReviewPending) {
		if err != nil {
			return nil, 0, 0, err
		}
		if !self.Role.Decides() {
			// A relay reviews the records of its district only.
			if d, _ := rv.Fields["district"].(string); d != self.District {
				continue
			}
		}
		if sent[rv.ID] {
			pending[rv.ID] = true
			continue
		}
		if total++; len(items) < hqReviewShown {
			it, err := p.item(ctx, rv)
			if err != nil {
				return nil, 0, 0, err
			}
			items = append(items, it)
		}
	}
	// A review the record holds now is done; the creators kept are those
	// of the records listed.
	p.mu.Lock()
	for id := range p.sent {
		if sent[id] && !pending[id] {
			delete(p.sent, id)
		}
	}
	waiting = len(pending)
	listed := map[string]bool{}
	for _, it := range items {
		listed[it.rec.ID] = true
	}
	maps.DeleteFunc(p.creators, func(id string, _ reviewCreator) bool { return !listed[id] })
	p.mu.Unlock()
	return items, total, waiting, nil
}

// item describes a record for the queue: its type, district, case
// number, the node that made it by its name, and when.
func (p *reviewPanel) item(ctx context.Context, rv node.RecordView) (reviewItem, error) {
	u := p.u
	it := reviewItem{rec: rv, title: node.Printable(u.node.Summary(rv))}
	var err error
	if it.id, err = syncproto.ParseRecordID(rv.ID); err != nil {
		return it, err
	}
	if it.title == "" {
		it.title = node.Printable(rv.Title)
	}
	if it.title == "" {
		it.title = node.Printable(rv.Type)
	}
	typeTitle := node.Printable(rv.Title)
	if typeTitle == "" {
		typeTitle = node.Printable(rv.Type)
	}
	district, _ := rv.Fields["district"].(string)
	district = node.Printable(district)
	if district == "" {
		district = u.T("hq.nodistrict")
	}
	caseNo := u.T("records.nocase")
	if rv.Case != "" {
		caseNo = fmt.Sprintf(u.T("records.case"), node.Printable(rv.Case))
	}
	p.mu.Lock()
	c, ok := p.creators[rv.ID]
	p.mu.Unlock()
	if !ok {
		brief, err := u.node.RecordBrief(ctx, it.id)
		if err != nil {
			return it, err
		}
		c = reviewCreator{by: "—", at: recordsTime(rv.Updated)}
		if len(brief.History) > 0 {
			first := brief.History[0]
			c = reviewCreator{by: u.byline(first.Author, first.Via, first.Node), at: recordsTime(first.At)}
		}
		p.mu.Lock()
		p.creators[rv.ID] = c
		p.mu.Unlock()
	}
	// Who and when first: the end of a long line is cut in a narrow list.
	parts := []string{district, fmt.Sprintf(u.T("records.by"), c.by), c.at, caseNo, typeTitle}
	if r := rv.Review; r != nil && r.Corrected {
		// Back in the queue once corrected: what was asked comes first.
		parts = append([]string{fmt.Sprintf(u.T("review.queue.corrected"), node.Printable(r.Reason))}, parts...)
	}
	it.line = strings.Join(parts, " · ")
	return it, nil
}

// show puts the queue on the screen, keeping the record picked while it
// awaits review.
func (p *reviewPanel) show(items []reviewItem, total, waiting int, err error) {
	u := p.u
	if err != nil {
		p.msg.SetText(node.Printable(err.Error()))
		return
	}
	p.items, p.total, p.waiting = items, total, waiting
	p.list.UnselectAll()
	p.list.Refresh()
	msg := howMany(total, len(items), u.T("review.none"), u.T("review.count"), u.T("review.more"))
	if waiting > 0 {
		msg += " " + fmt.Sprintf(u.T("review.waiting"), waiting)
	}
	p.msg.SetText(msg)
	if p.tab != nil {
		p.tab.Text = p.tabText()
	}
	if p.picked == "" {
		return
	}
	for i, it := range items {
		if it.id.String() == p.picked {
			p.list.Select(i)
			return
		}
	}
	p.unpick()
}

// pick shows what a record in the queue says, with the decisions.
func (p *reviewPanel) pick(id string) {
	u := p.u
	i := -1
	for j, it := range p.items {
		if it.id.String() == id {
			i = j
		}
	}
	if i < 0 {
		return
	}
	if id != p.picked {
		p.reason.SetText("")
		p.problem.Hide()
	}
	p.picked = id
	it := p.items[i]
	rec := it.rec
	heading := widget.NewLabelWithStyle(it.title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	heading.Wrapping = fyne.TextWrapWord
	line := widget.NewLabel(it.line)
	line.Wrapping = fyne.TextWrapWord
	idLabel := widget.NewLabel(rec.ID)
	idLabel.Selectable = true
	form := container.New(layout.NewFormLayout())
	t, _ := u.node.Kits().Type(rec.Type)
	for _, name := range rec.Order {
		shown := rec.Texts[name]
		if f, ok := fieldOf(t, name); ok && !isWithheld(rec.Fields[name]) {
			shown = fieldText(f, rec.Fields[name], u.Lang())
		}
		label := node.Printable(rec.Labels[name])
		if label == "" {
			label = node.Printable(name)
		}
		value := widget.NewLabel(node.Printable(shown))
		value.Wrapping = fyne.TextWrapWord
		if isWithheld(rec.Fields[name]) {
			value.TextStyle.Italic = true
		}
		form.Add(widget.NewLabelWithStyle(label, fyne.TextAlignTrailing, fyne.TextStyle{Bold: true}))
		form.Add(value)
	}
	p.detail.Objects = []fyne.CanvasObject{heading, line, idLabel, widget.NewSeparator(), form}
	p.detail.Refresh()
	p.empty.Hide()
	p.pane.Show()
}

// unpick clears the record picked.
func (p *reviewPanel) unpick() {
	p.picked = ""
	p.reason.SetText("")
	p.problem.Hide()
	p.detail.Objects = nil
	p.detail.Refresh()
	p.pane.Hide()
	p.empty.Show()
	p.list.UnselectAll()
}

// reasonProblem says what is wrong with a decision's reason, in the
// user's words, or "" when nothing is: asking for a correction or
// rejecting needs a reason the author can act on, on one line, of at most
// ledger.MaxReviewReason characters.
func (p *reviewPanel) reasonProblem(decision, reason string) string {
	u := p.u
	switch {
	case decision != node.ReviewApproved && reason == "":
		return u.T("review.err.reason." + decision)
	case utf8.RuneCountInString(reason) > ledger.MaxReviewReason:
		return fmt.Sprintf(u.T("review.err.long"), utf8.RuneCountInString(reason), ledger.MaxReviewReason)
	case !utf8.ValidString(reason) || strings.ContainsFunc(reason, unicode.IsControl):
		return u.T("review.err.oneline")
	}
	return ""
}

// decide reviews the record picked: its review is queued for the ledger,
// and the record leaves the queue.
func (p *reviewPanel) decide(decision string) {
	u := p.u
	id := p.picked
	i := -1
	for j, it := range p.items {
		if it.id.String() == id {
			i = j
		}
	}
	if id == "" || i < 0 {
		return
	}
	it := p.items[i]
	reason := strings.TrimSpace(p.reason.Text)
	if problem := p.reasonProblem(decision, reason); problem != "" {
		p.problem.SetText(problem)
		p.problem.Show()
		return
	}
	p.problem.Hide()
	u.run(u.T("review.sending"), func(ctx context.Context) error {
		// Whoever was removed or revoked since they signed in reviews
		// no more, as they make no more changes.
		if _, err := u.author(ctx); err != nil {
			return err
		}
		if err := u.node.Review(ctx, it.id, decision, reason); err != nil {
			return errors.New(p.plain(err))
		}
		return nil
	}, func(err error) {
		if err != nil {
			return
		}
		p.mu.Lock()
		p.sent[id] = true
		p.mu.Unlock()
		if j := p.indexOf(id); j >= 0 {
			p.items = append(p.items[:j:j], p.items[j+1:]...)
			p.total--
			p.waiting++
		}
		p.unpick()
		p.list.Refresh()
		done := fmt.Sprintf(u.T("review.done"), it.title, u.T("review.state."+decision))
		if reason != "" {
			done = fmt.Sprintf(u.T("review.done.reason"), it.title, u.T("review.state."+decision), node.Printable(reason))
		}
		p.result.SetText(done + " " + u.T("review.ledger"))
		p.result.Show()
		if p.tab != nil {
			p.tab.Text = p.tabText()
		}
		u.Refresh()
	})
}

func (p *reviewPanel) indexOf(id string) int {
	for j, it := range p.items {
		if it.id.String() == id {
			return j
		}
	}
	return -1
}

// plain says why a review was refused in the user's words: those the
// panel knows, else the node's own, made printable.
func (p *reviewPanel) plain(err error) string {
	u := p.u
	switch {
	case errors.Is(err, node.ErrNotReviewer):
		return u.T("review.err.notreviewer")
	case !u.node.Enrolled():
		return u.T("review.err.notenrolled")
	case errors.Is(err, ledger.ErrReview):
		return fmt.Sprintf(u.T("review.err.refused"), node.Printable(err.Error()))
	}
	return fmt.Sprintf(u.T("review.err.other"), node.Printable(err.Error()))
}

// reviewLine says a record's review plainly: "Needs correction: wrong
// village — by hq-belmopan at 2026-12-05 10:02 CST", the reviewer by the
// name on its certificate, the time in local time with its zone.
func (u *UI) reviewLine(r *node.RecordReview) string {
	if r == nil {
		return u.T("review.state.pending")
	}
	by := node.Printable(r.By)
	if by == "" {
		short := r.Node
		if len(short) > 8 {
			short = short[:8] + "…"
		}
		by = fmt.Sprintf(u.T("records.node"), node.Printable(short))
	}
	state := u.T("review.state." + r.Decision)
	line := fmt.Sprintf(u.T("review.line"), state, by, showTime(r.At))
	if r.Reason != "" {
		line = fmt.Sprintf(u.T("review.line.reason"), state, node.Printable(r.Reason), by, showTime(r.At))
	}
	if r.Corrected {
		line += u.T("review.corrected")
	}
	return line
}

// reviewImportance is how much a review asks of the record's author: a
// correction or a rejection is to be read first.
func reviewImportance(r *node.RecordReview) widget.Importance {
	switch r.State() {
	case node.ReviewNeedsCorrection:
		return widget.WarningImportance
	case node.ReviewRejected:
		return widget.DangerImportance
	case node.ReviewApproved:
		return widget.SuccessImportance
	}
	return widget.MediumImportance
}

// signedIn clears the reason another person typed: one the next person
// signing in would otherwise send in their own name.
func (p *reviewPanel) signedIn(who string) {
	if p.reason.Text != "" && p.typedBy != who {
		p.reason.SetText("")
	}
}
