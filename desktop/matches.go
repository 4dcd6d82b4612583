package desktop

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"lifeline/node"
	"lifeline/node/ledger"
	"lifeline/syncproto"
)

// matchMinScore is the least score of a pair the queue lists, as the
// command line's people match lists by default.
const matchMinScore = 0.5

// matchShown is how many pairs the queue lists at most.
const matchShown = 200

// matchPanel is Headquarters' queue of possible matches: pairs of people
// records that may be one person, two reports of one missing person or a
// missing person registered in a shelter, strongest first. Beside them,
// the pair picked, its two records side by side, and the decisions: Link
// (one person), Different, or Later. A decision goes through the ledger
// (node.Link); the pair leaves the queue at once. A missing person linked
// with a shelter's registration is found safe only once a person confirms
// it here.
type matchPanel struct {
	u *UI

	list     *widget.List
	msg      *widget.Label
	tab      *container.TabItem
	heading  *widget.Label
	left     *fyne.Container // the first record of the pair picked
	right    *fyne.Container // the second
	others   *fyne.Container // the other pairs in the queue of either record, and those set aside
	result   *widget.Label   // what the last decision did
	proposal *widget.Label   // what confirming a found person writes
	link     *widget.Button
	differ   *widget.Button
	later    *widget.Button
	confirm  *widget.Button
	pane     fyne.CanvasObject
	empty    *widget.Label

	// What the panel shows, on the UI thread.
	items   []matchItem
	aside   []matchItem // the pairs set aside for a stronger match of a record of items
	left1   int         // people records left out: this node cannot open their names
	crowded int         // people not compared with all their namesakes: a flood
	read1   bool        // the queue was read once
	picked  string      // the pair picked, by key
	skipped []string    // the pairs put off with Later this session, by key, in order
	found   *node.FoundProposal

	// sent are the pairs decided here that the ledger has not applied yet,
	// by key: the queue leaves them out. Read by read's goroutine, under mu.
	mu   sync.Mutex
	sent map[string]bool
	// open is set while the queue is on show: matching reads every
	// people record, which the screen's other refreshes do not need.
	open atomic.Bool
}

// matchItem is a pair in the queue.
type matchItem struct {
	m      node.Match
	a, b   syncproto.RecordID
	ra, rb node.RecordView
	// pa and pb are the people of the pair: the records, or for a
	// family's registration the member of it the pair is of.
	pa, pb node.RecordView
	title  string // kind · score
	line   string // the two names and districts, then the reasons
	why    string // for a pair set aside, why (its first reason)
	newest string // when the newer record of the two last changed
}

func (it matchItem) key() string { return it.m.A + " " + it.m.B }

func (u *UI) newMatchPanel() *matchPanel {
	p := &matchPanel{u: u, msg: widget.NewLabel(u.T("matches.loading")), heading: widget.NewLabel(""),
		left: container.NewVBox(), right: container.NewVBox(), others: container.NewVBox(), result: widget.NewLabel(""), proposal: widget.NewLabel(""),
		empty: widget.NewLabel(u.T("matches.pick")), sent: map[string]bool{}}
	for _, l := range []*widget.Label{p.msg, p.heading, p.result, p.proposal, p.empty} {
		l.Wrapping = fyne.TextWrapWord
	}
	p.heading.TextStyle.Bold = true
	p.result.Importance = widget.SuccessImportance
	p.result.Hide()
	p.proposal.Hide()
	p.link = widget.NewButton(u.T("matches.link"), func() { p.decide(ledger.LinkLinked) })
	p.link.Importance = widget.HighImportance
	p.differ = widget.NewButton(u.T("matches.different"), func() { p.decide(ledger.LinkDifferent) })
	p.later = widget.NewButton(u.T("matches.later"), p.putOff)
	p.confirm = widget.NewButton(u.T("matches.confirm"), p.confirmFound)
	p.confirm.Importance = widget.HighImportance
	p.confirm.Hide()
	p.list = newTwoLineList(func() int { return len(p.items) }, func(i int) (string, string) { return p.items[i].title, p.items[i].line })
	p.list.OnSelected = func(i widget.ListItemID) {
		if i < len(p.items) {
			p.pick(p.items[i].key())
		}
	}
	return p
}

// content is the queue on the left, the pair picked on the right.
func (p *matchPanel) content() fyne.CanvasObject {
	decisions := container.NewVBox(widget.NewSeparator(), container.NewHBox(p.link, p.differ, p.later))
	sides := container.NewGridWithColumns(2, p.left, p.right)
	p.pane = container.NewBorder(p.heading, decisions, nil, nil, container.NewVScroll(container.NewVBox(sides, p.others)))
	p.pane.Hide()
	top := container.NewVBox(p.result, p.proposal, p.confirm)
	right := container.NewBorder(top, nil, nil, nil, container.NewStack(p.empty, p.pane))
	split := container.NewHSplit(container.NewBorder(p.msg, nil, nil, nil, p.list), right)
	split.Offset = 0.5
	return split
}

// tabText is the queue's tab title, with how many pairs it lists once read.
func (p *matchPanel) tabText() string {
	if !p.read1 {
		return p.u.T("matches.tab.unread")
	}
	return fmt.Sprintf(p.u.T("matches.tab"), len(p.items))
}

// read finds the pairs not decided yet, off the UI thread, strongest
// first, then newest.
func (p *matchPanel) read(ctx context.Context) (matchRead, error) {
	n := p.u.node
	found, err := n.Matching(ctx, matchMinScore)
	if err != nil {
		return matchRead{}, err
	}
	ms := found.Matches
	p.mu.Lock()
	sent := maps.Clone(p.sent)
	p.mu.Unlock()
	held := map[string]bool{}
	// A record of several pairs, and of those set aside, is read once.
	views := map[syncproto.RecordID]node.RecordView{}
	var items []matchItem
	for _, m := range ms {
		k := m.A + " " + m.B
		if m.Decision != "" {
			held[k] = true
			continue
		}
		if sent[k] {
			continue
		}
		it, err := p.item(ctx, m, views)
		if err != nil {
			return matchRead{}, err
		}
		items = append(items, it)
	}
	// A decision the ledger applied is done.
	p.mu.Lock()
	maps.DeleteFunc(p.sent, func(k string, _ bool) bool { return held[k] })
	p.mu.Unlock()
	slices.SortStableFunc(items, func(x, y matchItem) int {
		return cmp.Or(cmp.Compare(y.m.Score, x.m.Score), strings.Compare(y.newest, x.newest))
	})
	if len(items) > matchShown {
		items = items[:matchShown]
	}
	// The pairs set aside of the records listed, to show beside them.
	listed := map[string]bool{}
	for _, it := range items {
		listed[it.m.A], listed[it.m.B] = true, true
	}
	var aside []matchItem
	for _, m := range found.SetAside {
		if !listed[m.A] && !listed[m.B] || sent[m.A+" "+m.B] {
			continue
		}
		it, err := p.item(ctx, m, views)
		if err != nil {
			return matchRead{}, err
		}
		aside = append(aside, it)
	}
	return matchRead{items: items, aside: aside, withheld: found.Withheld, crowded: found.Crowded}, nil
}

// matchRead is what read found: the pairs to list, those set aside beside
// them, how many people records were left out of matching because this
// node cannot open their names, and how many people a flood of one name
// crowded (node.Matching.Crowded).
type matchRead struct {
	items    []matchItem
	aside    []matchItem
	withheld int
	crowded  int
}

// item reads a pair's two records, or takes them from views, where it
// keeps those it reads, and says the pair in words.
func (p *matchPanel) item(ctx context.Context, m node.Match, views map[syncproto.RecordID]node.RecordView) (matchItem, error) {
	u := p.u
	it := matchItem{m: m}
	var err error
	if it.a, err = syncproto.ParseRecordID(m.A); err != nil {
		return it, err
	}
	if it.b, err = syncproto.ParseRecordID(m.B); err != nil {
		return it, err
	}
	for _, side := range []struct {
		id   syncproto.RecordID
		into *node.RecordView
	}{{it.a, &it.ra}, {it.b, &it.rb}} {
		v, ok := views[side.id]
		if !ok {
			if v, err = u.node.RecordBrief(ctx, side.id); err != nil {
				return it, err
			}
			views[side.id] = v
		}
		*side.into = v
	}
	it.pa, it.pb = it.ra, it.rb
	for _, side := range []struct {
		id   string
		rec  node.RecordView
		into *node.RecordView
	}{{m.A, it.ra, &it.pa}, {m.B, it.rb, &it.pb}} {
		if m.Member != "" && side.rec.Type == node.FamilyRegistrationType {
			if *side.into, err = u.node.Person(ctx, side.id+"/"+m.Member); err != nil {
				return it, err
			}
		}
	}
	it.newest = max(it.ra.Updated, it.rb.Updated)
	kind := u.T("matches.kind.duplicate")
	if m.Kind == node.MatchFound {
		kind = u.T("matches.kind.found")
	}
	it.title = fmt.Sprintf(u.T("matches.title"), kind, int(m.Score*100+0.5))
	line := p.person(it.pa) + " — " + p.person(it.pb)
	var reasons []string
	for _, r := range m.Reasons {
		if r = node.Printable(r); r != "" {
			reasons = append(reasons, r)
		}
	}
	if len(reasons) > 0 {
		line += " · " + strings.Join(reasons, "; ")
		if m.SetAside {
			it.why = reasons[0]
		}
	}
	it.line = line
	return it, nil
}

// person is a record's name and district: "withheld" for a name this node
// cannot open.
func (p *matchPanel) person(rv node.RecordView) string {
	u := p.u
	name := u.T("matches.withheld")
	if s, ok := rv.Fields["full_name"].(string); ok && !isWithheld(rv.Fields["full_name"]) {
		name = node.Printable(s)
	}
	if name == "" {
		name = u.T("matches.noname")
	}
	district, _ := rv.Fields["district"].(string)
	if district = node.Printable(district); district == "" {
		district = u.T("hq.nodistrict")
	}
	return fmt.Sprintf(u.T("matches.person"), name, district)
}

// show puts the queue on the screen, the pairs put off last, keeping the
// pair picked while it is listed.
func (p *matchPanel) show(r matchRead, err error) {
	if err != nil {
		p.msg.SetText(p.plain(err))
		return
	}
	p.read1 = true
	p.left1, p.crowded = r.withheld, r.crowded
	p.items = p.order(r.items)
	p.aside = r.aside
	p.list.UnselectAll()
	p.list.Refresh()
	p.count()
	if p.picked == "" {
		return
	}
	if i := p.indexOf(p.picked); i >= 0 {
		p.list.Select(i)
		return
	}
	if _, ok := p.find(p.picked); ok {
		p.pick(p.picked)
		return
	}
	p.unpick()
}

// order puts the pairs put off with Later at the end, in the order they
// were put off.
func (p *matchPanel) order(items []matchItem) []matchItem {
	var now, later []matchItem
	for _, it := range items {
		if !slices.Contains(p.skipped, it.key()) {
			now = append(now, it)
		}
	}
	for _, k := range p.skipped {
		for _, it := range items {
			if it.key() == k {
				later = append(later, it)
			}
		}
	}
	return append(now, later...)
}

// count says how many pairs are listed, on the list and its tab.
func (p *matchPanel) count() {
	u := p.u
	if len(p.items) == 0 {
		p.msg.SetText(u.T("matches.none"))
	} else {
		p.msg.SetText(fmt.Sprintf(u.T("matches.count"), len(p.items)))
	}
	if p.left1 > 0 {
		p.msg.SetText(p.msg.Text + " " + fmt.Sprintf(u.T("matches.leftout"), p.left1))
	}
	if p.crowded > 0 {
		p.msg.SetText(p.msg.Text + " " + fmt.Sprintf(u.T("matches.crowded"), p.crowded))
	}
	if p.tab != nil {
		p.tab.Text = p.tabText()
	}
}

// pick shows the two records of a pair side by side, with the decisions:
// a pair of the queue, or one set aside beside it.
func (p *matchPanel) pick(key string) {
	it, ok := p.find(key)
	if !ok {
		return
	}
	p.picked = key
	p.heading.SetText(it.title + " · " + it.line)
	p.fill(p.left, it.ra)
	p.fill(p.right, it.rb)
	p.fillOthers(it)
	p.empty.Hide()
	p.pane.Show()
}

// fillOthers lists the queue's other pairs of either record of it, then
// those set aside for a stronger match of either (a namesake: Juan Coc of
// 45 and of 19 for a report of no age), each a button that picks it: two
// people of one name in one village are told apart by seeing every
// candidate of a report together, not one pair at a time.
func (p *matchPanel) fillOthers(it matchItem) {
	p.others.Objects = nil
	for _, part := range []struct {
		items []matchItem
		head  string
	}{{p.items, "matches.others"}, {p.aside, "matches.aside"}} {
		first := true
		for _, o := range part.items {
			if o.key() == it.key() || (o.a != it.a && o.a != it.b && o.b != it.a && o.b != it.b) {
				continue
			}
			if first {
				head := widget.NewLabelWithStyle(p.u.T(part.head), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
				head.Wrapping = fyne.TextWrapWord
				p.others.Objects = append(p.others.Objects, widget.NewSeparator(), head)
				first = false
			}
			key := o.key()
			show := widget.NewButton(p.u.T("matches.show"), func() {
				if i := p.indexOf(key); i >= 0 {
					p.list.Select(i)
					return
				}
				p.list.UnselectAll()
				p.pick(key)
			})
			text := o.title + " · " + p.person(o.pa) + " — " + p.person(o.pb)
			if o.why != "" {
				text += " · " + o.why
			}
			what := widget.NewLabel(text)
			what.Wrapping = fyne.TextWrapWord
			p.others.Objects = append(p.others.Objects, container.NewBorder(nil, nil, nil, show, what))
		}
	}
	p.others.Refresh()
}

// fill shows a record's values in c, as the Records screen shows them.
func (p *matchPanel) fill(c *fyne.Container, rec node.RecordView) {
	u := p.u
	title := node.Printable(rec.Title)
	if title == "" {
		title = node.Printable(rec.Type)
	}
	caseNo := u.T("records.nocase")
	if rec.Case != "" {
		caseNo = fmt.Sprintf(u.T("records.case"), node.Printable(rec.Case))
	}
	head := widget.NewLabelWithStyle(title+" · "+caseNo, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	head.Wrapping = fyne.TextWrapWord
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
	c.Objects = []fyne.CanvasObject{head, widget.NewSeparator(), form}
	c.Refresh()
}

// unpick clears the pair picked.
func (p *matchPanel) unpick() {
	p.picked = ""
	p.left.Objects, p.right.Objects = nil, nil
	p.left.Refresh()
	p.right.Refresh()
	p.pane.Hide()
	p.empty.Show()
	p.list.UnselectAll()
}

func (p *matchPanel) indexOf(key string) int {
	for j, it := range p.items {
		if it.key() == key {
			return j
		}
	}
	return -1
}

// find is the pair of key: in the queue, or set aside beside it.
func (p *matchPanel) find(key string) (matchItem, bool) {
	if i := p.indexOf(key); i >= 0 {
		return p.items[i], true
	}
	for _, it := range p.aside {
		if it.key() == key {
			return it, true
		}
	}
	return matchItem{}, false
}

// putOff moves the pair picked to the end of the queue for this session.
func (p *matchPanel) putOff() {
	k := p.picked
	if i := p.indexOf(k); i < 0 {
		// A pair set aside is not in the queue: Later leaves it.
		p.unpick()
		return
	}
	p.skipped = append(slices.DeleteFunc(p.skipped, func(s string) bool { return s == k }), k)
	p.items = p.order(p.items)
	p.unpick()
	p.list.Refresh()
}

// decide links the pair picked as one person, or marks it as two: the
// decision is queued for the ledger, and the pair leaves the queue. A
// missing person linked with a shelter's registration shows what
// confirming it found writes, with the button that does.
func (p *matchPanel) decide(decision string) {
	u := p.u
	it, ok := p.find(p.picked)
	if !ok {
		return
	}
	var found node.FoundProposal
	isFound := decision == ledger.LinkLinked && it.m.Kind == node.MatchFound
	u.run(u.T("matches.sending"), func(ctx context.Context) error {
		// As a review: only someone who may still act here decides.
		if _, err := u.author(ctx); err != nil {
			return err
		}
		if _, err := u.node.Link(ctx, it.a, it.b, decision); err != nil {
			return errors.New(p.plain(err))
		}
		if isFound {
			var err error
			if found, err = u.node.ProposeFound(ctx, it.a, it.b); err != nil {
				return errors.New(p.plain(err))
			}
		}
		return nil
	}, func(err error) {
		if err != nil {
			return
		}
		p.mu.Lock()
		p.sent[it.key()] = true
		p.mu.Unlock()
		if j := p.indexOf(it.key()); j >= 0 {
			p.items = append(p.items[:j:j], p.items[j+1:]...)
		}
		p.aside = slices.DeleteFunc(slices.Clone(p.aside), func(o matchItem) bool { return o.key() == it.key() })
		p.unpick()
		p.list.Refresh()
		p.count()
		what := u.T("matches.done.different")
		if decision == ledger.LinkLinked {
			what = u.T("matches.done.linked")
		}
		p.result.SetText(fmt.Sprintf(what, p.person(it.pa), p.person(it.pb)) + " " + u.T("matches.ledger"))
		p.result.Show()
		p.found = nil
		p.proposal.Hide()
		p.confirm.Hide()
		if isFound {
			p.found = &found
			p.proposal.Importance = widget.MediumImportance
			if len(found.Cautions) > 0 || slices.ContainsFunc(found.Linked, func(l node.LinkedReport) bool { return len(l.Cautions) > 0 }) {
				p.proposal.Importance = widget.WarningImportance
			}
			p.proposal.SetText(p.proposalText(found))
			p.proposal.Show()
			p.confirm.Show()
		}
		u.Refresh()
	})
}

// proposalText says what confirming a missing person found writes, and
// whom to tell.
func (p *matchPanel) proposalText(f node.FoundProposal) string {
	u := p.u
	return fmt.Sprintf(u.T("matches.proposal"), node.Printable(f.FoundAtPlace)) + p.tellText(f)
}

// tellText is whom to tell of a person found, and what to check first:
// the reporter of each of their reports.
func (p *matchPanel) tellText(f node.FoundProposal) string {
	u := p.u
	s := p.reporterText(f.ReporterName, f.ReporterPhone, f.ReporterRelationship, f.Withheld)
	s += p.cautionsText(f.Cautions)
	for _, l := range f.Linked {
		report := cmp.Or(l.Case, l.ID)
		if l.Status == "missing" {
			s += "\n" + fmt.Sprintf(u.T("matches.linked.found"), report)
		} else {
			s += "\n" + fmt.Sprintf(u.T("matches.linked.left"), report, node.Printable(l.StatusText))
		}
		s += p.reporterText(l.ReporterName, l.ReporterPhone, l.ReporterRelationship, l.Withheld)
		s += p.cautionsText(l.Cautions)
	}
	return s
}

// reporterText says whom to tell of a report, after a space.
func (p *matchPanel) reporterText(name, phone, relationship string, withheld bool) string {
	u := p.u
	switch {
	case withheld:
		return " " + u.T("matches.reporter.withheld")
	case name != "" || phone != "":
		who := node.Printable(name)
		for _, x := range []string{relationship, phone} {
			if x = node.Printable(x); x != "" {
				who += ", " + x
			}
		}
		return " " + fmt.Sprintf(u.T("matches.reporter"), strings.TrimPrefix(who, ", "))
	}
	return ""
}

// cautionsText says what to check first, a line each.
func (p *matchPanel) cautionsText(cs []node.Caution) string {
	u := p.u
	var s string
	for _, c := range cs {
		switch c.Code {
		case node.CautionChild:
			s += "\n" + fmt.Sprintf(u.T("matches.caution.child"), c.Age)
		case node.CautionContactChanged:
			s += "\n" + fmt.Sprintf(u.T("matches.contact.changed"), node.Printable(c.Node), node.Printable(c.Person))
		case node.CautionRevokedNode:
			s += "\n" + fmt.Sprintf(u.T("matches."+c.Of()+".node"), node.Printable(c.Node))
		case node.CautionRevokedPerson:
			s += "\n" + fmt.Sprintf(u.T("matches."+c.Of()+".person"), node.Printable(c.Person), node.Printable(c.Node))
		case node.CautionRevokedLinker:
			s += "\n" + fmt.Sprintf(u.T("matches.caution.linker"), node.Printable(c.Node))
		case node.CautionStatus:
			if len(c.Values) == 0 {
				continue
			}
			was := node.Printable(c.Values[0])
			if len(c.Values) > 1 {
				was = fmt.Sprintf(u.T("matches.caution.statusat"), was, node.Printable(c.Values[1]))
			}
			s += "\n" + fmt.Sprintf(u.T("matches.caution.status"), was)
		case node.CautionConflict:
			values := make([]string, len(c.Values))
			for i, v := range c.Values {
				values[i] = "«" + node.Printable(v) + "»"
			}
			s += "\n" + fmt.Sprintf(u.T("matches.caution.conflict"), p.fieldLabel(c.Field), strings.Join(values, " / "))
		}
	}
	return s
}

// fieldLabel is a missing-person report's field by its label in the
// window's language, or its name.
func (p *matchPanel) fieldLabel(name string) string {
	if t, ok := p.u.node.Kits().Type(node.MissingPersonType); ok {
		if f, ok := t.Field(name); ok {
			return f.Label.In(p.u.Lang())
		}
	}
	return name
}

// confirmFound writes the proposal into the missing person's record, by
// the person signed in.
func (p *matchPanel) confirmFound() {
	u := p.u
	f := p.found
	if f == nil {
		return
	}
	missing, err1 := syncproto.ParseRecordID(f.Missing)
	shelter, err2 := syncproto.ParseRecordID(f.Shelter)
	if err := errors.Join(err1, err2); err != nil {
		u.showError(err)
		return
	}
	u.run(u.T("matches.confirming"), func(ctx context.Context) error {
		author, err := u.author(ctx)
		if err != nil {
			return err
		}
		if _, _, err := u.node.ConfirmFound(ctx, missing, shelter, author); err != nil {
			return errors.New(p.plain(err))
		}
		return nil
	}, func(err error) {
		if err != nil {
			return
		}
		p.found = nil
		p.confirm.Hide()
		// Whom to tell stays in view: confirming is when they are told.
		if tell := strings.TrimSpace(p.tellText(*f)); tell != "" {
			p.proposal.SetText(tell)
		} else {
			p.proposal.Hide()
		}
		done := fmt.Sprintf(u.T("matches.confirmed"), node.Printable(f.FoundAtPlace))
		switch n := len(slices.DeleteFunc(slices.Clone(f.Linked), func(l node.LinkedReport) bool { return l.Status != "missing" })); {
		case n == 1:
			done += " " + u.T("matches.confirmed.other")
		case n > 1:
			done += " " + fmt.Sprintf(u.T("matches.confirmed.linked"), n)
		}
		p.result.SetText(done)
		p.result.Show()
		u.Refresh()
	})
}

// plain says why matching or a decision was refused in the user's words.
func (p *matchPanel) plain(err error) string {
	u := p.u
	switch {
	case errors.Is(err, node.ErrNotReconciler):
		return fmt.Sprintf(u.T("matches.err.notallowed"), node.Printable(err.Error()))
	case errors.Is(err, node.ErrNotPeople):
		return fmt.Sprintf(u.T("matches.err.notpeople"), node.Printable(err.Error()))
	case errors.Is(err, node.ErrUndecided):
		return fmt.Sprintf(u.T("matches.err.undecided"), node.Printable(err.Error()))
	case !u.node.Enrolled():
		return u.T("matches.err.notenrolled")
	}
	return fmt.Sprintf(u.T("matches.err.other"), node.Printable(err.Error()))
}
