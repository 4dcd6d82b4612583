package desktop

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"lifeline/node"
	"lifeline/node/nodetest"
	"lifeline/syncproto"
)

// jobThread plays the UI thread for a window whose work runs behind it,
// as in the app (not in line): what the work hands to the UI comes to the
// test, which runs it and reads the screen between two. While held, the
// goroutine that handed something waits, once the test took it, until
// release: the test then acts at a point of the work it knows.
type jobThread struct {
	ui      uiThread
	held    atomic.Bool
	release chan struct{}
}

func (j *jobThread) post(f func()) {
	j.ui <- f
	if j.held.Load() {
		<-j.release
	}
}

// let lets the work held go on, and the work after it run unheld.
func (j *jobThread) let() {
	if j.held.CompareAndSwap(true, false) {
		close(j.release)
	}
}

// newJobTestUI is a window over a new node of that role and district
// whose work runs behind it; edit changes the node's configuration. The
// window and node close when the test ends, once their work ended.
func newJobTestUI(t *testing.T, role syncproto.Role, district string, edit func(*node.Config)) (*UI, *jobThread) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	dir := t.TempDir()
	cfg := node.DefaultConfig()
	cfg.DataDir = filepath.Join(dir, "node")
	if edit != nil {
		edit(&cfg)
	}
	if err := node.Init(ctx, cfg, node.Identity{Name: "cayo-laptop-07", Role: role, District: district}); err != nil {
		t.Fatal(err)
	}
	n, err := node.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	th := &jobThread{ui: make(uiThread), release: make(chan struct{})}
	a := test.NewTempApp(t)
	w := a.NewWindow("Lifeline")
	w.Resize(fyne.NewSize(1000, 700))
	u := newUI(ctx, a, w, n, filepath.Join(dir, "drafts"), false, th.post)
	t.Cleanup(func() {
		th.let()
		cancel()
		th.settle(t, u)
		w.Close()
		n.Close()
	})
	th.settle(t, u)
	return u, th
}

// settle runs what the work hands to the UI until no work runs.
func (j *jobThread) settle(t *testing.T, u *UI) {
	t.Helper()
	idle := make(chan struct{})
	go func() { u.bg.Wait(); close(idle) }()
	j.ui.until(t, "the work behind the window ends", 30*time.Second, func() bool {
		select {
		case <-idle:
			return true
		default:
			return false
		}
	})
}

// lineSays is what the job line at the foot of the window says, "" when
// it is hidden.
func lineSays(u *UI) string {
	if !u.jobs.box.Visible() {
		return ""
	}
	return u.jobs.label.Text
}

// Sync with a peer that takes the connection and never answers: the job
// line says it syncs, the New record form takes typing meanwhile (nothing
// covers the window), and Cancel ends the sync at once, however long the
// peer would be waited for: the line says it was cancelled, and the app
// hangs up on the peer.
func TestJobCancelSyncWithSilentPeer(t *testing.T) {
	u, th := newJobTestUI(t, syncproto.RoleField, "Cayo", func(c *node.Config) {
		c.HandshakeTimeout = time.Hour // only Cancel ends the wait
	})
	enrollTestUI(t, u)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	conns := make(chan net.Conn, 8)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns <- c // says nothing
		}
	}()
	defer func() {
		l.Close()
		for {
			select {
			case c := <-conns:
				c.Close()
			default:
				return
			}
		}
	}()

	s := u.screens.form
	s.kitPick.SetSelected("Initial damage assessment")
	s.typePick.SetSelected("Building damage assessment")
	th.settle(t, u)
	fm := u.recordForm()
	if fm == nil {
		t.Fatal("no form after picking the damage assessment")
	}

	u.tabs.SelectIndex(2)
	v := u.screens.sync
	addr := l.Addr().String()
	test.Type(v.addr, addr)
	v.syncNow()
	th.ui.until(t, "the job line says it syncs with the address typed", 30*time.Second, func() bool {
		return strings.HasPrefix(lineSays(u), "Syncing… (1 of 1) "+addr)
	})
	var conn net.Conn
	select {
	case conn = <-conns:
	case <-time.After(30 * time.Second * nodetest.Patience):
		t.Fatal("the app did not connect to the peer")
	}

	// Data entry goes on while the sync waits.
	if top := u.win.Canvas().Overlays().Top(); top != nil {
		t.Fatalf("something covers the window while syncing: %T", top)
	}
	u.tabs.SelectIndex(0)
	village := fm.input(t, "village").entry
	test.Type(village, "San Ignacio")
	if village.Text != "San Ignacio" {
		t.Fatalf("typed San Ignacio while syncing, the field holds %q", village.Text)
	}
	if !u.jobs.cancel.Visible() || !u.jobs.busy() {
		t.Fatal("typing in the form ended the sync")
	}

	test.Tap(u.jobs.cancel)
	th.ui.until(t, "the job line says the sync was cancelled", 30*time.Second, func() bool {
		return strings.Contains(lineSays(u), "cancelled, after ")
	})
	if got := lineSays(u); !strings.HasPrefix(got, "Sync at ") || strings.Contains(got, "deadline") || !u.jobs.close.Visible() || u.jobs.cancel.Visible() {
		t.Fatalf("after Cancel the line says %q (OK shown %v, Cancel shown %v)", got, u.jobs.close.Visible(), u.jobs.cancel.Visible())
	}
	// The app hung up: the peer reads the end of the connection.
	conn.SetReadDeadline(time.Now().Add(30 * time.Second * nodetest.Patience))
	if _, err := io.ReadAll(conn); err != nil {
		t.Fatalf("the app did not hang up on the peer: %v", err)
	}
	conn.Close()
	if village.Text != "San Ignacio" {
		t.Fatalf("after the sync the field holds %q", village.Text)
	}
	test.Tap(u.jobs.close)
	if lineSays(u) != "" {
		t.Fatalf("OK left the line saying %q", lineSays(u))
	}
}

// A bundle written to a stick says how much is written; Cancel stops it
// and leaves no file on the stick. Written again to the end, the bundle
// is whole: the node it is for reads the record in it.
func TestJobBundleExportCancelLeavesNoFile(t *testing.T) {
	ctx := context.Background()
	u, th := newJobTestUI(t, syncproto.RoleField, "Cayo", nil)
	ca := enrollTestUI(t, u)
	peer := enrolledPeer(t, ca, "cayo-laptop-03", "Cayo")
	if _, err := u.node.ImportBundle(ctx, bundleOf(t, peer)); err != nil { // the app meets the peer
		t.Fatal(err)
	}
	mine, err := u.node.Add(ctx, "damage-assessment", []byte(damageRecord), "vol-1")
	if err != nil {
		t.Fatal(err)
	}
	v := u.screens.sync
	choices := v.readerChoices(ctx)
	if len(choices) == 0 {
		t.Fatal("no one to write a bundle for")
	}
	usb := t.TempDir()

	th.held.Store(true)
	v.exportBundle(usb, choices[0])
	th.ui.until(t, "the job line says how much is written", 30*time.Second, func() bool {
		return strings.HasPrefix(lineSays(u), "Writing the bundle… ") && strings.HasSuffix(lineSays(u), " MB written.")
	})
	test.Tap(u.jobs.cancel)
	th.let()
	th.ui.until(t, "the job line says the bundle was cancelled", 30*time.Second, func() bool {
		return lineSays(u) == "Writing the bundle cancelled: no file was left on the stick."
	})
	th.settle(t, u)
	if left, err := os.ReadDir(usb); err != nil || len(left) != 0 {
		t.Fatalf("after Cancel the stick holds %v (%v)", left, err)
	}

	test.Tap(u.jobs.close)
	v.exportBundle(usb, choices[0])
	th.ui.until(t, "the job line says the bundle is written", 30*time.Second, func() bool {
		return strings.HasPrefix(lineSays(u), "Wrote ")
	})
	th.settle(t, u)
	files, _ := filepath.Glob(filepath.Join(usb, "*.bundle"))
	if len(files) != 1 || !strings.Contains(lineSays(u), files[0]) {
		t.Fatalf("the stick holds %v; the line says %q", files, lineSays(u))
	}
	if _, err := peer.ImportBundle(ctx, files[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := peer.Record(ctx, mine); err != nil {
		t.Fatalf("the peer lacks the record the bundle carried: %v", err)
	}
}

// Headquarters' export of records says how much is written; Cancel stops
// it and leaves no file in the folder. Exported again to the end, the
// file holds every record.
func TestJobRecordExportCancelLeavesNoFile(t *testing.T) {
	u, th := newJobTestUI(t, syncproto.RoleHQ, "Cayo", nil)
	const n = 60 // some 15 KB of CSV: written in several blocks
	for i := range n {
		hqAdd(t, u, "damage-assessment", fmt.Sprintf(hqAssessment, 1+i%4, 1+i%9))
	}
	v := u.newHQView()
	th.settle(t, u)
	dir := t.TempDir()

	th.held.Store(true)
	v.exportTo(dir, "damage-assessment", hqCSV, true)
	th.ui.until(t, "the job line says how much is written", 30*time.Second, func() bool {
		return strings.HasPrefix(lineSays(u), "Exporting… ") && strings.HasSuffix(lineSays(u), " MB written.")
	})
	test.Tap(u.jobs.cancel)
	th.let()
	th.ui.until(t, "the job line says the export was cancelled", 30*time.Second, func() bool {
		return lineSays(u) == "Export cancelled: no file was left in the folder."
	})
	th.settle(t, u)
	if left, err := os.ReadDir(dir); err != nil || len(left) != 0 {
		t.Fatalf("after Cancel the folder holds %v (%v)", left, err)
	}

	test.Tap(u.jobs.close)
	v.exportTo(dir, "damage-assessment", hqCSV, true)
	th.ui.until(t, "the job line says the records are written", 30*time.Second, func() bool {
		return strings.HasPrefix(lineSays(u), "Records written: ")
	})
	th.settle(t, u)
	files, _ := filepath.Glob(filepath.Join(dir, "damage-assessment-*.csv"))
	if len(files) != 1 || lineSays(u) != fmt.Sprintf("Records written: %d, to %s, personal data included.", n, files[0]) {
		t.Fatalf("the folder holds %v; the line says %q", files, lineSays(u))
	}
	f, err := os.Open(files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) != n+1 {
		t.Fatalf("the CSV has %d rows (%v), want a header and %d records", len(rows), err, n)
	}
}

// Where the node's people sign in, an import with no one signed in
// brings the sign-in, which says why, and saves nothing; signed in, the
// same file is imported.
func TestJobImportAsksWhoSignsIn(t *testing.T) {
	ctx := context.Background()
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	if _, err := u.node.AddPerson(ctx, "Ana Cho", []byte(anaPass)); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "damage.ndjson")
	if err := os.WriteFile(file, []byte(strings.Repeat(damageRecord+"\n", 3)), 0o600); err != nil {
		t.Fatal(err)
	}
	v := u.screens.sync
	v.importFile("damage-assessment", file)
	if !u.gate.isLocked() || u.gate.view.who == nil {
		t.Fatalf("an import with no one signed in brings no sign-in; the line says %q", lineSays(u))
	}
	if got := lineSays(u); got != "" {
		t.Fatalf("the line says %q under the sign-in", got)
	}
	if n := len(records(t, u, "damage-assessment")); n != 0 {
		t.Fatalf("%d records saved with no one signed in", n)
	}
	signInAs(t, u, "Ana Cho", anaPass)
	v.importFile("damage-assessment", file)
	if got := lineSays(u); got != "Imported damage.ndjson: 3 new records, 0 already here." {
		t.Fatalf("signed in, the line says %q", got)
	}
	if n := len(records(t, u, "damage-assessment")); n != 3 {
		t.Fatalf("%d records saved, want 3", n)
	}
}
