package desktop

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/widget"

	"lifeline/node"
	"lifeline/node/gps"
)

// UI is the app's main window over one open node.
type UI struct {
	ctx  context.Context
	app  fyne.App
	win  fyne.Window
	node *node.Node
	// daemon is the node while it runs behind the window (SetDaemon).
	daemon atomic.Pointer[node.Daemon]
	// person is who signed in, where the node's people sign in: the
	// author of the changes made in the app ("" while no one is).
	person atomic.Pointer[string]
	// gate covers the window with the sign-in of the node's people, or
	// the passphrase of its key, at start, after a quiet spell and when
	// someone signs out.
	gate *locker
	// sealed says the node's key is sealed: with no people signing in,
	// the quiet spell's lock asks its passphrase.
	sealed bool
	// drafts is the folder unsaved forms are kept in, so that closing the
	// app loses nothing typed.
	drafts string
	// draftsSub is the subfolder of drafts the forms keep their drafts in
	// now: the person signed in's (personDrafts), or "" for drafts itself
	// where no one signs in. noDrafts is set while the node's people sign
	// in and no one is signed in: the forms then keep none. Both change
	// with the person signed in (useDrafts), on the UI thread.
	draftsSub string
	noDrafts  bool

	// bg counts work running off the UI thread; tests wait for it.
	bg sync.WaitGroup
	// inline runs background work and its UI updates on the caller's
	// goroutine, in order: Fyne's test driver has no UI thread, and runs
	// fyne.Do on whatever goroutine calls it, so tests take the work in
	// line instead of racing with it.
	inline bool
	// post, when set, hands functions to the UI thread instead of
	// fyne.Do: a test that runs the app's goroutines for real plays the
	// UI thread itself.
	post func(func())
	// gpsSource opens the GPS receiver for the forms' "Use my position":
	// findGPS, or in tests a Reader of sentences the test writes.
	gpsSource func(ctx context.Context) (*gps.Reader, error)

	tabs   *container.AppTabs
	header *fyne.Container
	// screens are the screens on show; the language switch makes new ones.
	screens struct {
		form    *recordScreen
		records *recordsView
		sync    *syncView
		hq      *hqView
	}
	// jobs is the status line of long work at the foot of the window.
	jobs *jobLine
	// banner says, above everything, what keeps the node from syncing.
	banner syncBanner
	// onRefresh are called, on the UI thread, after records changed here
	// or arrived from a peer.
	onRefresh []func()
	// onInput, when set, is called on the pointer's moving or tapping
	// where no widget takes it (the app's lock counts it as input).
	onInput atomic.Pointer[func()]
	// kits are the kits the screens were made with, each's name and
	// version (kitVersions); kitNotice says, under the header, which came
	// newer since the app opened ("" for none).
	kits      map[string]string
	kitNotice string
}

// inputSeen passes input the window saw on to onInput.
func (u *UI) inputSeen() {
	if f := u.onInput.Load(); f != nil {
		(*f)()
	}
}

// SetDaemon tells the window the node runs (nil once it stopped), for what
// only a running node does: sync with the peers it found.
func (u *UI) SetDaemon(d *node.Daemon) { u.daemon.Store(d) }

// New builds the main window's content over n in win. ctx ends the work the
// UI started. drafts is the folder for unsaved forms (made if missing).
func New(ctx context.Context, a fyne.App, win fyne.Window, n *node.Node, drafts string) *UI {
	return newUI(ctx, a, win, n, drafts, false, nil)
}

func newUI(ctx context.Context, a fyne.App, win fyne.Window, n *node.Node, drafts string, inline bool, post func(func())) *UI {
	u := &UI{ctx: ctx, app: a, win: win, node: n, drafts: drafts, inline: inline, post: post, gpsSource: findGPS}
	u.sealed, _ = node.KeySealed(n.Config().DataDir)
	signs, err := n.SignsIn(ctx)
	u.noDrafts = err != nil || signs // no one is signed in yet
	u.jobs = u.newJobLine()
	u.gate = newLocker(win, 0, u.idleScreen, func() int { return u.tabs.SelectedIndex() })
	u.gate.clip = a.Clipboard()
	u.kits = kitVersions(n)
	u.build()
	return u
}

// background runs work off the UI thread (in line in tests), counted in
// u.bg. work hands its results to the UI with u.do.
func (u *UI) background(work func()) {
	if u.inline {
		work()
		return
	}
	u.bg.Add(1)
	go func() {
		defer u.bg.Done()
		work()
	}()
}

// do runs f on the UI thread (in line in tests).
func (u *UI) do(f func()) {
	switch {
	case u.inline:
		f()
	case u.post != nil:
		u.post(f)
	default:
		fyne.Do(f)
	}
}

// T is key's text in the user's language.
func (u *UI) T(key string) string { return text(u.node.Lang(), key) }

// Lang is the user's language: "en" or "es".
func (u *UI) Lang() string { return u.node.Lang() }

// SetLang switches the language of everything shown, keeping what was
// typed (forms keep their drafts).
func (u *UI) SetLang(lang string) error {
	if err := u.node.SetLang(lang); err != nil {
		return err
	}
	u.rebuild()
	return nil
}

// rebuild makes every screen again, keeping what each showed: the tab on
// show, the Records screen's filters and record, and the forms, which
// open again from their drafts.
func (u *UI) rebuild() {
	selected := 0
	if u.tabs != nil {
		selected = u.tabs.SelectedIndex()
	}
	var records *recordsState
	if v := u.screens.records; v != nil {
		records = v.state()
	}
	u.build()
	if selected < len(u.tabs.Items) {
		u.tabs.SelectIndex(selected)
	}
	if records != nil {
		records.restore(u.screens.records)
	}
}

// kitVersions is the version of each kit n holds, by the kit's name.
func kitVersions(n *node.Node) map[string]string {
	out := map[string]string{}
	for _, k := range n.Kits().Kits() {
		out[k.Name] = k.Version
	}
	return out
}

// takeNewKits makes the screens again when a kit headquarters published
// came by sync since they were made, so that a form asks what the new
// kit asks: what was typed stays, kept in its draft, and a record keeps
// the version of its kind it was made with. The header then names each
// kit that came and its version. It reports whether any came.
func (u *UI) takeNewKits() bool {
	now := kitVersions(u.node)
	var came []string
	for _, k := range u.node.Kits().Kits() {
		if u.kits[k.Name] != k.Version {
			came = append(came, fmt.Sprintf("%s %s", node.Printable(k.Title.In(u.Lang())), node.Printable(k.Version)))
		}
	}
	if len(came) == 0 {
		return false
	}
	u.kits = now
	u.kitNotice = strings.Join(came, ", ")
	u.rebuild()
	return true
}

// recordsState is what the Records screen was asked to show: its
// filters, by position (their words change with the language), and the
// record picked.
type recordsState struct {
	kit, district, status int
	search                string
	conflicts             bool
	selected              string
}

func (v *recordsView) state() *recordsState {
	return &recordsState{kit: v.kit.SelectedIndex(), district: v.district.SelectedIndex(), status: v.status.SelectedIndex(),
		search: v.search.Text, conflicts: v.conflicts.Checked, selected: v.selected}
}

// restore shows in v what s asked for.
func (s *recordsState) restore(v *recordsView) {
	for _, sel := range []struct {
		w *widget.Select
		i int
	}{{v.kit, s.kit}, {v.district, s.district}, {v.status, s.status}} {
		if sel.i >= 0 && sel.i < len(sel.w.Options) && sel.w.SelectedIndex() != sel.i {
			sel.w.SetSelectedIndex(sel.i)
		}
	}
	if v.search.Text != s.search {
		v.search.SetText(s.search)
	}
	if v.conflicts.Checked != s.conflicts {
		v.conflicts.SetChecked(s.conflicts)
	}
	if s.selected != "" {
		v.open(s.selected)
	}
}

// build makes the window's content in the current language.
func (u *UI) build() {
	u.onRefresh = nil
	self := u.node.Self()
	u.header = container.NewStack()
	u.showHeader()
	u.tabs = container.NewAppTabs(
		container.NewTabItem(u.T("tab.new"), u.newRecordScreen()),
		container.NewTabItem(u.T("tab.records"), u.recordsScreen()),
		container.NewTabItem(u.T("tab.sync"), u.syncScreen()),
	)
	if self.Role.InLedger() {
		u.tabs.Append(container.NewTabItem(u.T("tab.hq"), u.hqScreen()))
	}
	u.win.SetTitle(u.T("app.title") + " — " + self.Name)
	u.jobs.relabel(u)
	u.win.Canvas().AddShortcut(saveAnotherShortcut, func(fyne.Shortcut) { u.saveAnotherShownForm() })
	top := container.NewVBox(u.newBanner(), u.header)
	u.whenRefreshed(u.checkCertificate)
	u.checkCertificate()
	u.win.SetContent(container.NewStack(newActivity(u.inputSeen), container.NewBorder(top, u.jobs.box, nil, nil, fitScroll(u.tabs))))
}

// showHeader fills the band above the tabs: the node, and on its right
// who is signed in, with the way to switch person, the people of this
// laptop and the language.
func (u *UI) showHeader() {
	self := u.node.Self()
	lang := widget.NewButton(u.T("lang.switch"), func() {
		next := "es"
		if u.Lang() == "es" {
			next = "en"
		}
		u.SetLang(next)
	})
	right := container.NewHBox()
	if who := u.signedIn(); who != "" {
		right.Add(widget.NewLabel(fmt.Sprintf(u.T("signin.as"), node.Printable(who))))
		right.Add(widget.NewButton(u.T("signin.switch"), func() { u.signIn(u.T("signin.intro"), "") }))
	}
	right.Add(widget.NewButton(u.T("people.open"), func() { u.showPeople() }))
	right.Add(lang)
	band := container.NewVBox(container.NewBorder(nil, nil,
		widget.NewLabelWithStyle(fmt.Sprintf("%s · %s · %s", self.Name, u.T("role."+string(self.Role)), self.District), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		right))
	if u.kitNotice != "" {
		notice := widget.NewLabel(fmt.Sprintf(u.T("kits.came"), u.kitNotice))
		notice.Wrapping = fyne.TextWrapWord
		band.Add(container.NewBorder(nil, nil, nil, widget.NewButton(u.T("ok"), func() {
			u.kitNotice = ""
			u.showHeader()
		}), notice))
	}
	u.header.Objects = []fyne.CanvasObject{band}
	u.header.Refresh()
}

// Tabs name the main window's tabs, for Show.
var Tabs = []string{"new", "records", "sync", "hq"}

// Show brings a tab to the front ("new", "records", "sync" or "hq"), and on
// the records tab, opens record if it is not empty.
func (u *UI) Show(tab, record string) error {
	i := slices.Index(Tabs, tab)
	if i < 0 || i >= len(u.tabs.Items) {
		return fmt.Errorf("no %q tab on this node (it has %s)", tab, strings.Join(Tabs[:len(u.tabs.Items)], ", "))
	}
	u.tabs.SelectIndex(i)
	if record != "" {
		if tab != "records" {
			return fmt.Errorf("a record opens on the records tab, not %q", tab)
		}
		u.screens.records.open(record)
	}
	return nil
}

// Refresh tells every screen that records changed; when a new kit came
// with them, it makes the screens again with it (takeNewKits).
func (u *UI) Refresh() {
	if u.takeNewKits() {
		return
	}
	for _, f := range u.onRefresh {
		f()
	}
}

// whenRefreshed registers f to run when records change.
func (u *UI) whenRefreshed(f func()) { u.onRefresh = append(u.onRefresh, f) }

// run does work off the UI thread, then done (if not nil) on it (both in
// line in tests). While work
// runs, a progress bar shows what, so that nothing seems frozen.
func (u *UI) run(what string, work func(ctx context.Context) error, done func(error)) {
	bar := widget.NewProgressBarInfinite()
	d := dialog.NewCustomWithoutButtons(what, bar, u.win)
	d.Show()
	u.background(func() {
		err := work(u.ctx)
		u.do(func() {
			bar.Stop()
			d.Hide()
			if err != nil {
				u.showError(err)
			}
			if done != nil {
				done(err)
			}
		})
	})
}

// showError tells the user what failed, in words: never a stack trace,
// made printable: it may quote another node (a peer's refusal, a value).
// A change refused for want of someone signed in brings the sign-in,
// which says why.
func (u *UI) showError(err error) {
	var need *signInNeeded
	if errors.As(err, &need) {
		u.signIn(u.T("signin.intro"), signInRefused(u.Lang(), need.who, need.err))
		return
	}
	dialog.ShowError(errors.New(node.Printable(err.Error())), u.win)
}

// askFolder asks in win for a folder and hands its path to do; nothing is
// done when the dialog is cancelled or fails.
func askFolder(win fyne.Window, do func(dir string)) {
	dialog.ShowFolderOpen(func(dir fyne.ListableURI, err error) {
		if err == nil && dir != nil {
			do(dir.Path())
		}
	}, win)
}

// askFile asks in win for a file to read and hands its path to do; nothing
// is done when the dialog is cancelled or fails.
func askFile(win fyne.Window, do func(path string)) { fileAsk(win, do).Show() }

// fileAsk is askFile's dialog, not shown yet. It offers regular files
// only (regularFiles).
func fileAsk(win fyne.Window, do func(path string)) *dialog.FileDialog {
	d := dialog.NewFileOpen(func(f fyne.URIReadCloser, err error) {
		if err == nil && f != nil {
			path := f.URI().Path()
			f.Close()
			do(path)
		}
	}, win)
	d.SetFilter(regularFiles{})
	return d
}

// regularFiles lets a file dialog offer regular files only, and of those
// the ones its filter, if any, matches. Fyne opens the file picked before
// it hands it over, on the UI thread: a pipe on a stick handed over, or a
// link there to a serial device, would hold the window until something
// wrote into it.
type regularFiles struct{ storage.FileFilter }

func (r regularFiles) Matches(u fyne.URI) bool {
	fi, err := os.Stat(u.Path())
	return err == nil && fi.Mode().IsRegular() && (r.FileFilter == nil || r.FileFilter.Matches(u))
}

// newTwoLineList is a list whose rows are two lines cut to its width, the
// first in bold; lines gives row i's, for i below length.
func newTwoLineList(length func() int, lines func(i int) (first, second string)) *widget.List {
	return widget.NewList(length, func() fyne.CanvasObject {
		first := widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		first.Truncation = fyne.TextTruncateEllipsis
		second := widget.NewLabel("")
		second.Truncation = fyne.TextTruncateEllipsis
		return container.NewVBox(first, second)
	}, func(i widget.ListItemID, o fyne.CanvasObject) {
		if i >= length() {
			return
		}
		first, second := lines(i)
		c := o.(*fyne.Container)
		c.Objects[0].(*widget.Label).SetText(first)
		c.Objects[1].(*widget.Label).SetText(second)
	})
}
