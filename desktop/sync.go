package desktop

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"lifeline/node"
	"lifeline/node/atomicfile"
	"lifeline/node/identity"
	"lifeline/node/peersync"
	"lifeline/syncproto"
)

// syncView is the Sync screen: where this node stands, the peers it has
// seen, sync now, and bundles for when there is no network.
type syncView struct {
	u       *UI
	summary *widget.Label
	records *widget.Label
	peers   *widget.Table
	rows    []node.PeerStatus
	none    *widget.Label
	addr    *widget.Entry
	result  *widget.Label
	// renew says the node's certificate ends soon, with the buttons to
	// renew it; shown only then.
	renew     *fyne.Container
	renewText *widget.Label
	// confirmed says what "confirmed" waits for, on this node.
	confirmed *widget.Label
	// net holds Sync now and the address, or, before the node is
	// enrolled, what to do to enroll it (enrolled swaps them).
	net      *fyne.Container
	enrolled func()
}

func (u *UI) syncScreen() fyne.CanvasObject { return u.newSyncView().content() }

func (u *UI) newSyncView() *syncView {
	v := &syncView{u: u, summary: widget.NewLabel(""), records: widget.NewLabel(""), result: widget.NewLabel(""),
		none: widget.NewLabel(u.T("sync.nopeers")), addr: widget.NewEntry()}
	v.summary.TextStyle = fyne.TextStyle{Bold: true}
	v.summary.Wrapping = fyne.TextWrapWord
	v.none.Wrapping = fyne.TextWrapWord
	v.result.Wrapping = fyne.TextWrapWord
	v.addr.SetPlaceHolder(u.T("sync.addr"))
	v.addr.OnSubmitted = func(string) { v.syncNow() }
	// What was typed and said stays over a language switch; the address
	// last typed, over a restart.
	if prev := u.screens.sync; prev != nil {
		v.addr.SetText(prev.addr.Text)
		v.result.SetText(prev.result.Text)
	} else if a, err := loadSyncAddrs(u.node.Config().DataDir); err == nil {
		v.addr.SetText(a.Last)
	}
	u.screens.sync = v
	v.renewText = widget.NewLabel("")
	v.renewText.Wrapping = fyne.TextWrapWord
	v.renewText.Importance = widget.WarningImportance
	v.renew = container.NewVBox(v.renewText, container.NewHBox(
		widget.NewButton(u.T("sync.request"), func() { askFolder(u.win, v.writeRequest) }),
		widget.NewButton(u.T("sync.install"), func() { askFile(u.win, v.installCert) })))
	v.renew.Hide()
	v.peers = widget.NewTable(func() (int, int) { return len(v.rows) + 1, 5 },
		func() fyne.CanvasObject { return widget.NewLabel("relay-punta-gorda-01") },
		func(id widget.TableCellID, o fyne.CanvasObject) { o.(*widget.Label).SetText(v.cell(id)) })
	for col, w := range []float32{200, 130, 110, 170, 220} {
		v.peers.SetColumnWidth(col, w)
	}
	u.whenRefreshed(v.load)
	v.load()
	return v
}

func (v *syncView) content() fyne.CanvasObject {
	u := v.u
	now := widget.NewButton(u.T("sync.now"), v.syncNow)
	now.Importance = widget.HighImportance
	with := widget.NewButton(u.T("sync.with"), v.syncWith)
	export := widget.NewButton(u.T("sync.export"), v.askExport)
	imp := widget.NewButton(u.T("sync.import"), func() { askFile(u.win, v.importBundle) })
	online := container.NewVBox(container.NewHBox(now, widget.NewButton(u.T("sync.refresh"), v.load)),
		container.NewBorder(nil, nil, nil, with, v.addr))
	v.net = container.NewStack(online)
	if !u.node.Enrolled() {
		warn := widget.NewLabel(u.T("sync.notenrolled"))
		warn.Wrapping = fyne.TextWrapWord
		request := widget.NewButton(u.T("sync.request"), func() { askFolder(u.win, v.writeRequest) })
		install := widget.NewButton(u.T("sync.install"), func() { askFile(u.win, v.installCert) })
		v.net.Objects = []fyne.CanvasObject{container.NewVBox(warn, container.NewHBox(request, install))}
		// Once a certificate is installed, sync with an address works
		// at once; finding peers by gossip, after a restart.
		v.enrolled = func() {
			v.net.Objects = []fyne.CanvasObject{online}
			v.net.Refresh()
		}
	}
	v.confirmed = widget.NewLabel(v.confirmText())
	v.confirmed.Wrapping = fyne.TextWrapWord
	types := widget.NewSelect(v.typeTitles(), nil)
	types.PlaceHolder = u.T("sync.importtype")
	importFile := widget.NewButton(u.T("sync.importfile"), func() {
		t := v.typeByTitle(types.Selected)
		if t == "" {
			u.showError(errors.New(u.T("sync.importtype")))
			return
		}
		askFile(u.win, func(path string) { v.importFile(t, path) })
	})
	top := container.NewVBox(v.summary, v.confirmed, v.records, v.renew, v.net, v.result,
		widget.NewSeparator(), widget.NewLabelWithStyle(u.T("sync.bundles"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		container.NewHBox(export, imp),
		container.NewBorder(nil, nil, nil, importFile, types),
		widget.NewSeparator(), widget.NewLabelWithStyle(u.T("sync.peers"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), v.none)
	return container.NewBorder(top, nil, nil, nil, v.peers)
}

// cell is the text of one cell of the peers table; row 0 is the header.
func (v *syncView) cell(id widget.TableCellID) string {
	u := v.u
	if id.Row == 0 {
		return u.T([]string{"sync.col.name", "sync.col.role", "sync.col.district", "sync.col.contact", "sync.col.state"}[id.Col])
	}
	p := v.rows[id.Row-1]
	switch id.Col {
	case 0:
		if p.Name == "" {
			return fmt.Sprintf(u.T("records.node"), p.Node[:min(8, len(p.Node))]+"…")
		}
		return node.Printable(p.Name)
	case 1:
		return u.T("role." + string(p.Role))
	case 2:
		return node.Printable(p.District)
	case 3:
		last := p.LastSync
		if last == "" {
			last = p.LastSeen
		}
		return when(u, last)
	}
	var state []string
	if p.Gossip != "" {
		state = append(state, u.T("sync.gossip."+p.Gossip))
	}
	if p.Error != "" {
		state = append(state, fmt.Sprintf(u.T("sync.error"), node.Printable(p.Error)))
	}
	return strings.Join(state, "; ")
}

// when shows an RFC 3339 time as local time, or "never".
func when(u *UI, at string) string {
	return showStamp(at, u.T("sync.never"))
}

// load reads the node's status off the UI thread and shows it.
func (v *syncView) load() {
	u := v.u
	u.background(func() {
		st, err := u.node.Status(u.ctx)
		u.do(func() {
			if err != nil {
				v.summary.SetText(node.Printable(err.Error()))
				return
			}
			v.show(st)
		})
	})
}

func (v *syncView) show(st node.Status) {
	u := v.u
	if st.Unconfirmed > 0 {
		v.summary.SetText(fmt.Sprintf(u.T("sync.unconfirmed"), st.Unconfirmed))
	} else {
		v.summary.SetText(u.T("sync.allconfirmed"))
	}
	total := 0
	for _, n := range st.Records {
		total += n
	}
	v.records.SetText(fmt.Sprintf(u.T("sync.records"), total, st.Conflicts))
	if st.Renew {
		v.renewText.SetText(fmt.Sprintf(u.T("sync.renew"), when(u, st.Certificate)))
		v.renew.Show()
	} else {
		v.renew.Hide()
	}
	v.rows = st.Peers
	if len(v.rows) == 0 {
		v.none.Show()
	} else {
		v.none.Hide()
	}
	v.peers.Refresh()
}

// syncTarget is a peer "Sync now" tries: its address, and its name where
// this node knows it.
type syncTarget struct{ addr, name string }

func (t syncTarget) label() string {
	if t.name == "" {
		return t.addr
	}
	return node.Printable(t.name) + " (" + t.addr + ")"
}

// syncOutcome is how one peer's sync went.
type syncOutcome struct {
	target syncTarget
	res    peersync.Result
	err    error
	took   time.Duration
}

// syncTargets lists whom "Sync now" tries, each address once: the one
// typed, then those remembered, then the peers known with an address.
func syncTargets(typed string, remembered []string, peers []node.PeerStatus) []syncTarget {
	var out []syncTarget
	seen := map[string]bool{}
	names := map[string]string{}
	for _, p := range peers {
		if p.Addr != "" && p.Name != "" {
			names[p.Addr] = p.Name
		}
	}
	add := func(addr string) {
		if addr == "" || seen[addr] || checkSyncAddr(addr) != nil {
			return
		}
		seen[addr] = true
		out = append(out, syncTarget{addr: addr, name: names[addr]})
	}
	add(typed)
	for _, a := range remembered {
		add(a)
	}
	for _, p := range peers {
		add(p.Addr)
	}
	return out
}

// syncNow syncs, behind the window, with the address typed, the addresses
// remembered and the peers known, one after the other, and says how each
// went; the running node is asked to sync with the peers it finds on the
// network too.
func (v *syncView) syncNow() { v.syncTo(true) }

// syncWith syncs with the address typed alone.
func (v *syncView) syncWith() { v.syncTo(false) }

// syncTo runs "Sync now" (all true) or "Sync with this address".
func (v *syncView) syncTo(all bool) {
	u := v.u
	typed := strings.TrimSpace(v.addr.Text)
	if typed != "" {
		if err := checkSyncAddr(typed); err != nil {
			v.result.SetText(fmt.Sprintf(u.T("sync.badaddr"), node.Printable(typed), err))
			u.win.Canvas().Focus(v.addr)
			return
		}
	} else if !all {
		v.result.SetText(u.T("sync.addr.needed"))
		u.win.Canvas().Focus(v.addr)
		return
	}
	gossip := false
	if d := u.daemon.Load(); all && d != nil {
		gossip = d.SyncNow()
	}
	dir := u.node.Config().DataDir
	var (
		outcomes []syncOutcome
		tried    int
		none     bool
	)
	v.result.SetText(u.T("sync.syncing"))
	u.job(u.T("sync.syncing"), func(ctx context.Context, progress func(string)) error {
		addrs, _ := loadSyncAddrs(dir) // a damaged file remembers nothing
		if typed != "" && addrs.Last != typed {
			addrs.Last = typed
			addrs.save(dir)
		}
		var targets []syncTarget
		if all {
			st, err := u.node.Status(ctx)
			if err != nil {
				return err
			}
			targets = syncTargets(typed, addrs.Known, st.Peers)
		} else {
			targets = syncTargets(typed, nil, nil)
		}
		tried = len(targets)
		if len(targets) == 0 {
			none = true
			return nil
		}
		for i, t := range targets {
			progress(fmt.Sprintf(u.T("sync.trying"), i+1, len(targets), t.label()))
			start := time.Now()
			res, err := u.node.Sync(ctx, t.addr)
			outcomes = append(outcomes, syncOutcome{target: t, res: res, err: err, took: time.Since(start)})
			if err == nil {
				addrs.remember(t.addr)
				addrs.save(dir)
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
		return nil
	}, func(err error) string {
		var report string
		switch {
		case none && gossip:
			report = u.T("sync.now.started")
		case none:
			report = u.T("sync.addr.needed")
			u.win.Canvas().Focus(v.addr)
		default:
			report = v.report(outcomes, tried, err, gossip)
		}
		v.result.SetText(report)
		if len(outcomes) > 0 {
			u.Refresh()
		}
		v.load()
		return report
	})
}

// report says how a "Sync now" went: when, how many peers answered, then
// one line for each peer tried.
func (v *syncView) report(outcomes []syncOutcome, tried int, err error, gossip bool) string {
	u := v.u
	answered := 0
	var lines []string
	for _, o := range outcomes {
		name := o.target.label()
		if o.err == nil {
			answered++
			if o.res.Peer.Name != "" {
				name = node.Printable(o.res.Peer.Name)
			}
			lines = append(lines, fmt.Sprintf(u.T("sync.peer.done"), name, o.res.Sent, o.res.Received))
			continue
		}
		why := plainError(u, o.err)
		if why == u.T("err.timeout") {
			why = fmt.Sprintf(u.T("sync.peer.noanswer"), seconds(o.took))
		}
		lines = append(lines, fmt.Sprintf(u.T("sync.peer.failed"), name, why))
	}
	at := showTime(time.Now())
	var head string
	switch {
	case errors.Is(err, context.Canceled):
		head = fmt.Sprintf(u.T("sync.cancelled"), at, len(outcomes), tried)
	case answered == 0:
		head = fmt.Sprintf(u.T("sync.noneanswered"), at, tried)
	default:
		head = fmt.Sprintf(u.T("sync.answered"), at, answered, tried)
	}
	if gossip {
		lines = append(lines, u.T("sync.also.gossip"))
	}
	return strings.Join(append([]string{head}, lines...), "\n")
}

// typeTitles are the record types' titles in the user's language.
func (v *syncView) typeTitles() []string {
	var titles []string
	for _, k := range v.u.node.Kits().Kits() {
		for _, t := range k.Types {
			titles = append(titles, t.Title.In(v.u.Lang()))
		}
	}
	return titles
}

// typeByTitle is the name of the type with that title, or "".
func (v *syncView) typeByTitle(title string) string {
	for _, k := range v.u.node.Kits().Kits() {
		for _, t := range k.Types {
			if t.Title.In(v.u.Lang()) == title {
				return t.Name
			}
		}
	}
	return ""
}

// writeRequest writes this node's enrollment request into dir, to carry to
// headquarters. A file of its name there is replaced, never written
// through: on a stick handed over, it may be a link to a file of this
// laptop.
func (v *syncView) writeRequest(dir string) {
	u := v.u
	self := u.node.Self()
	path := filepath.Join(dir, self.Name+".request")
	u.job(u.T("busy"), func(context.Context, func(string)) error {
		req, err := u.node.EnrollmentRequest()
		if err != nil {
			return err
		}
		return atomicfile.Write(path, req, 0o600)
	}, func(err error) string {
		if err == nil {
			v.result.SetText(fmt.Sprintf(u.T("sync.requested"), path, signCommand(path, self.Role, self.District)))
		}
		return ""
	})
}

// signCommand is the command that signs, at headquarters, the request at
// path of a node of that role and district: pasted into a shell there, it
// runs as it is, whatever spaces or quotes the path and district hold. It
// names HQ's data folder as lifeline does by default ($LIFELINE_DATA,
// else ./data), so that HQ learns of the node at once, and writes the
// certificate beside the request.
func signCommand(path string, role syncproto.Role, district string) string {
	out := strings.TrimSuffix(path, ".request") + ".crt"
	args := []string{"lifeline", "ca", "sign", "--data", `"${LIFELINE_DATA:-data}"`,
		"--request", shellQuote(path), "--role", shellQuote(string(role)), "--district", shellQuote(district)}
	if role == syncproto.RoleHQ {
		args = append(args, "--hq")
	}
	return strings.Join(append(args, "--out", shellQuote(out)), " ")
}

// shellQuote is s as one word of a POSIX shell: as it is when it holds
// nothing a shell reads, else in single quotes (a single quote in it
// closes them, is escaped, and opens them again).
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:@%+=,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// confirmText says what "confirmed" waits for, on this node.
func (v *syncView) confirmText() string {
	if v.u.node.Self().Role.Decides() {
		return v.u.T("sync.confirm.hq")
	}
	return v.u.T("sync.confirm.field")
}

// installCert installs the certificate headquarters signed.
func (v *syncView) installCert(path string) {
	u := v.u
	u.job(u.T("sync.installing"), func(ctx context.Context, _ func(string)) error {
		b, err := identity.ReadPEMFile(path, "an enrollment bundle")
		if err != nil {
			return err
		}
		if err := u.node.Install(ctx, b); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		return nil
	}, func(err error) string {
		if err == nil {
			v.result.SetText(u.T("sync.installed"))
			if v.enrolled != nil {
				v.enrolled()
				v.enrolled = nil
			}
			u.banner.installed = true
			u.checkCertificate()
		}
		return ""
	})
}

// importFile saves the records of a JSON-lines file (.gz unzipped) as one
// durable batch, behind the window: the status line says how far it got,
// and Cancel stops it. The file is saved whole or not at all, so that a
// cancelled or refused import saves nothing and can be run again.
func (v *syncView) importFile(typeName, path string) {
	u := v.u
	name := filepath.Base(path)
	var added, skipped int
	var size int64
	if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() {
		size = fi.Size()
	}
	u.job(fmt.Sprintf(u.T("sync.importing.file"), name), func(ctx context.Context, progress func(string)) error {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		var in io.Reader = f
		zipped := strings.HasSuffix(path, ".gz")
		if zipped {
			if in, err = gzip.NewReader(f); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
		}
		author, err := u.author(ctx)
		if err != nil {
			return err
		}
		res, err := u.node.Import(ctx, typeName, in, author, func(n int, read int64) {
			if zipped {
				// What is read of the file, not of what it unzips to.
				read, _ = f.Seek(0, io.SeekCurrent)
			}
			if size > 0 {
				progress(fmt.Sprintf(u.T("sync.importread.part"), n, min(100, read*100/size)))
			} else {
				progress(fmt.Sprintf(u.T("sync.importread"), n))
			}
		})
		added, skipped = res.Added, res.Skipped
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		return nil
	}, func(err error) string {
		var report string
		var need *signInNeeded
		switch {
		case errors.As(err, &need):
			return "" // the sign-in, which says why
		case err == nil:
			report = fmt.Sprintf(u.T("sync.imported.file"), name, added, skipped)
			u.Refresh()
		case errors.Is(err, context.Canceled) && u.ctx.Err() == nil:
			report = fmt.Sprintf(u.T("sync.import.cancelled"), name)
		default:
			report = fmt.Sprintf(u.T("sync.import.failed"), name, plainError(u, err))
		}
		v.result.SetText(report)
		v.load()
		return report
	})
}

// readerChoice is one answer to "who may read it" when writing a bundle:
// what the responder reads, and the names node.Recipients takes.
type readerChoice struct {
	label string
	names []string
}

// readerChoices lists whom a bundle can be written for, of those this node
// can encrypt for: headquarters with the district's relays (for a field
// laptop, whose stick goes to one or the other), headquarters alone, the
// district's relays alone, then each other node it knows. A stick gets
// lost; the file on it is readable only by those chosen and this node.
func (v *syncView) readerChoices(ctx context.Context) []readerChoice {
	u, n := v.u, v.u.node
	can := func(names ...string) bool {
		_, err := n.Recipients(ctx, names)
		return err == nil
	}
	self := n.Self()
	relays := ""
	if self.Role == syncproto.RoleField && self.District != "" {
		relays = node.RecipientRelays + self.District
	}
	var out []readerChoice
	if can(node.RecipientHQ) {
		if relays != "" && can(node.RecipientHQ, relays) {
			out = append(out, readerChoice{fmt.Sprintf(u.T("sync.for.hqrelays"), self.District), []string{node.RecipientHQ, relays}})
		}
		out = append(out, readerChoice{u.T("sync.for.hq"), []string{node.RecipientHQ}})
	}
	if relays != "" && can(relays) {
		out = append(out, readerChoice{fmt.Sprintf(u.T("sync.for.relays"), self.District), []string{relays}})
	}
	known, _ := n.KnownNodes(ctx)
	known = slices.DeleteFunc(known, func(k node.KnownNode) bool { return k.Node == self.ID || !can(k.Node.String()) })
	// A laptop enrolled again as the replacement of a stolen one may carry
	// its name while the stolen one is not revoked yet: two of a name are
	// told apart by what the command line names them by.
	named := map[string]int{}
	for _, k := range known {
		named[k.Name]++
	}
	for _, k := range known {
		label := k.Name
		if label == "" {
			label = fmt.Sprintf(u.T("records.node"), k.Node.String()[:8]+"…")
		}
		if k.District != "" {
			label += " (" + string(k.Role) + ", " + k.District + ")"
		} else {
			label += " (" + string(k.Role) + ")"
		}
		if k.Name != "" && named[k.Name] > 1 {
			label += fmt.Sprintf(u.T("sync.for.which"), k.Node.String()[:8], k.NotAfter.Format(time.DateOnly))
		}
		out = append(out, readerChoice{node.Printable(label), []string{k.Node.String()}})
	}
	return out
}

// askExport asks who may read the bundle, then for the folder (a USB
// stick) to write it into.
func (v *syncView) askExport() {
	u := v.u
	u.background(func() {
		choices := v.readerChoices(u.ctx)
		u.do(func() {
			if len(choices) == 0 {
				u.showError(errors.New(u.T("sync.for.none")))
				return
			}
			labels := make([]string, len(choices))
			for i, c := range choices {
				labels[i] = c.label
			}
			who := widget.NewSelect(labels, nil)
			who.SetSelectedIndex(0)
			dialog.ShowForm(u.T("sync.export"), u.T("ok"), u.T("cancel"),
				[]*widget.FormItem{widget.NewFormItem(u.T("sync.for"), who)}, func(ok bool) {
					if !ok || who.SelectedIndex() < 0 {
						return
					}
					c := choices[who.SelectedIndex()]
					askFolder(u.win, func(dir string) { v.exportBundle(dir, c) })
				}, u.win)
		})
	})
}

// exportBundle writes everything this node holds into a new bundle file in
// dir (a USB stick), encrypted for the readers chosen and this node, named
// after the node and the time, and says where and for whom. It runs
// behind the window, saying how much is written; a bundle cancelled or
// failed is removed, never left half-written on the stick.
func (v *syncView) exportBundle(dir string, readers readerChoice) {
	u := v.u
	name := fmt.Sprintf("lifeline-%s-%s.bundle", u.node.Self().Name, time.Now().Format("20060102-150405"))
	path := filepath.Join(dir, name)
	var n int
	u.job(u.T("sync.exporting"), func(ctx context.Context, progress func(string)) error {
		to, err := u.node.Recipients(ctx, readers.names)
		if err != nil {
			return err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return err
		}
		w := &jobWriter{ctx: ctx, w: f, progress: func(b int64) {
			progress(fmt.Sprintf(u.T("job.written"), megabytes(b)))
		}}
		res, err := u.node.ExportBundleFor(ctx, w, nil, to)
		if err == nil {
			err = f.Sync() // on the stick before the end line says so
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(path)
			return fmt.Errorf("bundle %s: %w", path, err)
		}
		n = res.Changes
		return nil
	}, func(err error) string {
		var report string
		switch {
		case err == nil:
			report = fmt.Sprintf(u.T("sync.exported"), n, path, readers.label)
		case errors.Is(err, context.Canceled) && u.ctx.Err() == nil:
			report = u.T("sync.export.cancelled")
		default:
			return ""
		}
		v.result.SetText(report)
		return report
	})
}

// importBundle checks a bundle whole and applies it.
func (v *syncView) importBundle(path string) { v.importBundleThen(path, nil) }

// importBundleThen imports, then calls then (if not nil) with the outcome.
func (v *syncView) importBundleThen(path string, then func(error)) {
	u := v.u
	var n int
	u.job(u.T("sync.importing"), func(ctx context.Context, _ func(string)) error {
		res, err := u.node.ImportBundle(ctx, path)
		n = res.Applied
		if err != nil {
			return fmt.Errorf("bundle %s: %w", path, err)
		}
		return nil
	}, func(err error) string {
		report := ""
		switch {
		case err == nil:
			report = fmt.Sprintf(u.T("sync.imported"), n)
		case errors.Is(err, context.Canceled) && u.ctx.Err() == nil:
			report = u.T("sync.importbundle.cancelled")
		}
		if report != "" {
			v.result.SetText(report)
		}
		if err == nil {
			u.Refresh()
		}
		v.load()
		if then != nil {
			then(err)
		}
		return report
	})
}
