package desktop

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"lifeline/node"
	"lifeline/node/identity"
	"lifeline/syncproto"
)

// The app as it runs, not in line: its node starts behind the window on a
// store on disk and serves sync on loopback; a Toledo laptop syncs three
// records to it; the node's own events, the refresh on its ticker and the
// Records screen's reload off the UI thread bring them onto the screen.
func TestRecordsFromAPeerReachTheScreen(t *testing.T) {
	ctx := context.Background()
	ca, err := identity.NewCA("NEMO")
	if err != nil {
		t.Fatal(err)
	}
	cfg := node.DefaultConfig()
	cfg.DataDir = filepath.Join(t.TempDir(), "node")
	cfg.SyncAddr = "127.0.0.1:0"
	if err := node.Init(ctx, cfg, node.Identity{Name: "cayo-laptop-07", Role: syncproto.RoleField, District: "Cayo"}); err != nil {
		t.Fatal(err)
	}
	n, err := node.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.EnrollWith(ctx, ca); err != nil {
		t.Fatal(err)
	}
	peer := enrolledPeer(t, ca, "tol-laptop-02", "Toledo")
	for i := range 3 {
		rec := strings.Replace(damageRecord, "Succotz", fmt.Sprintf("San Antonio %d", i), 1)
		if _, err := peer.Add(ctx, "damage-assessment", []byte(rec), "vol-2"); err != nil {
			t.Fatal(err)
		}
	}

	// The test goroutine is the UI thread: Fyne's test driver has none,
	// and runs fyne.Do wherever it is called. What the app hands to the
	// UI thread comes here, and the test runs it in order, reading the
	// screen between two of them.
	ui := make(chan func())
	post := func(f func()) { ui <- f }
	// runUI runs what is handed to the UI thread until cond holds, looking
	// at cond after each and every 10 ms.
	runUI := func(what string, within time.Duration, cond func() bool) {
		t.Helper()
		timeout := time.After(within)
		poll := time.NewTicker(10 * time.Millisecond)
		defer poll.Stop()
		for !cond() {
			select {
			case f := <-ui:
				f()
			case <-poll.C:
			case <-timeout:
				t.Fatalf("not within %v: %s", within, what)
			}
		}
	}

	a := test.NewTempApp(t)
	w := a.NewWindow("Lifeline")
	w.Resize(fyne.NewSize(1000, 700))
	s := newSession(ctx, a, w, cfg, n, post)
	u := s.ui
	s.start()
	// The node stops before the test ends, with the UI thread running:
	// what is on its way to the screen must get there.
	stop := func() error {
		stopped := make(chan error, 1)
		go func() {
			err := s.stop()
			u.bg.Wait()
			stopped <- err
		}()
		var err error
		done := false
		runUI("the node stops", 30*time.Second, func() bool {
			select {
			case err = <-stopped:
				done = true
			default:
			}
			return done
		})
		return err
	}
	stopped := false
	defer func() {
		if !stopped {
			stop()
		}
	}()

	var addr string
	runUI("the node behind the window serves sync", 30*time.Second, func() bool {
		if d := u.daemon.Load(); d != nil {
			addr = d.Addr()
		}
		return addr != ""
	})
	synced := make(chan error, 1)
	go func() {
		res, err := peer.Sync(ctx, addr)
		if err == nil && res.Sent != 3 {
			err = fmt.Errorf("the peer sent %d changes, want 3", res.Sent)
		}
		synced <- err
	}()
	v := u.screens.records
	runUI("the Records screen lists the peer's three records", 30*time.Second, func() bool {
		return v.list.Length() == 3 && v.count.Text == "3 records"
	})
	if err := <-synced; err != nil {
		t.Fatal(err)
	}
	got := strings.Join(v.summaries(), "\n")
	for i := range 3 {
		if !strings.Contains(got, fmt.Sprintf("San Antonio %d", i)) {
			t.Fatalf("the list shows %q, not San Antonio %d", got, i)
		}
	}
	stopped = true
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// Headquarters set up in the app, its authority made there, runs the
// ledger, started as lifeline run --bootstrap starts it: its own records
// are confirmed, and the Sync screen says what confirmed means. A node
// without the authority in its folder starts none.
func TestHQSetUpInTheAppConfirmsItsOwnChanges(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	field := node.DefaultConfig()
	field.DataDir = filepath.Join(dir, "field")
	if got := withLedger(field); got.Bootstrap || got.SyncAddr != "" {
		t.Fatalf("a folder without the authority: bootstrap %v, sync at %q", got.Bootstrap, got.SyncAddr)
	}

	cfg := node.DefaultConfig()
	cfg.DataDir = filepath.Join(dir, "hq")
	n, err := Create(ctx, cfg, node.Identity{Name: "hq-belmopan", Role: syncproto.RoleHQ, District: "Belize"}, Enrollment{MakeCA: true, Passphrase: []byte(testPassphrase)})
	if err != nil {
		t.Fatal(err)
	}
	n.Close()
	if got := withLedger(cfg); !got.Bootstrap || !strings.HasSuffix(got.SyncAddr, ":"+HQSyncPort) {
		t.Fatalf("the first HQ: bootstrap %v, sync at %q", got.Bootstrap, got.SyncAddr)
	}
	cfg.SyncAddr = "127.0.0.1:0" // the test's own port, not 7420
	cfg = withLedger(cfg)
	if cfg.SyncAddr != "127.0.0.1:0" {
		t.Fatalf("the address given became %q", cfg.SyncAddr)
	}
	n, _, err = OpenNode(ctx, cfg, node.Identity{})
	if err != nil {
		t.Fatal(err)
	}
	s, ui := runSession(t, cfg, n)
	if _, err := n.Add(ctx, "damage-assessment", recordsJSON("Belize", "Hattieville", 3), "hq-belmopan"); err != nil {
		t.Fatal(err)
	}
	ui.until(t, "HQ's own record is confirmed", 60*time.Second, func() bool {
		st, err := n.Status(ctx)
		return err == nil && st.Unconfirmed == 0 && st.Records["damage-assessment"] == 1
	})
	if said := screenTexts(s.ui.screens.sync.content()); !strings.Contains(said, "Confirmed means headquarters' ledger recorded the change") {
		t.Fatalf("the Sync screen says:\n%s", said)
	}
}
