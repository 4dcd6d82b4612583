package desktop

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/test"

	"lifeline/node"
	"lifeline/syncproto"
)

// keyPassphrase seals the node keys of these tests. Every Argon2id run
// costs seconds under the race detector: the tests share one sealed node
// and count their tries.
const keyPassphrase = "a long walk to Punta Gorda"

// A node whose key is sealed opens behind the passphrase screen: a wrong
// passphrase is said there and the screen stays; the right one opens the
// node. Once it runs, the window locks after a quiet spell, dialogs and
// all, and opens again only with the passphrase, checked against the
// sealed key file.
func TestSealedNodeUnlocksAndLocks(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a := test.NewTempApp(t)
	cfg := node.DefaultConfig()
	cfg.DataDir = filepath.Join(t.TempDir(), "node")
	sealed := cfg
	sealed.SealKey, sealed.Passphrase = true, func() ([]byte, error) { return []byte(keyPassphrase), nil }
	if err := node.Init(ctx, sealed, node.Identity{Name: "cayo-laptop-07", Role: syncproto.RoleField, District: "Cayo"}); err != nil {
		t.Fatal(err)
	}
	if err := Headless(ctx, cfg, node.Identity{}, "test", &lockedBuffer{}); !errors.Is(err, node.ErrKeySealed) {
		t.Fatalf("headless with no passphrase: %v", err)
	}

	var (
		opened *node.Node
		with   node.Config
	)
	v := unlockScreen(ctx, cfg, "en", func(n *node.Node, _ string, c node.Config) { opened, with = n, c })
	v.background = func(work func()) { work() }
	w := a.NewWindow("Lifeline")
	w.Resize(fyne.NewSize(1000, 700))
	w.SetContent(v.content())

	test.Tap(v.button)
	if !v.errLabel.Visible() || v.errLabel.Text != text("en", "lock.empty") {
		t.Fatalf("nothing typed: %q", v.errLabel.Text)
	}
	test.Type(v.pass, "a long walk to Belmopan")
	test.Tap(v.button)
	if opened != nil || !v.errLabel.Visible() || v.errLabel.Text != "Wrong passphrase: try again." || v.pass.Text != "" || v.button.Disabled() {
		t.Fatalf("a wrong passphrase: opened %v, %q, entry %q", opened, v.errLabel.Text, v.pass.Text)
	}
	test.Type(v.pass, keyPassphrase)
	v.pass.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn}) // Enter submits, as the button does
	if opened == nil {
		t.Fatalf("the right passphrase did not open the node: %q", v.errLabel.Text)
	}
	defer opened.Close()
	if opened.Self().Name != "cayo-laptop-07" || with.Passphrase == nil || v.errLabel.Visible() {
		t.Fatalf("opened %+v", opened.Self())
	}

	// The main window over the node, and its lock.
	u := newUI(ctx, a, w, opened, filepath.Join(t.TempDir(), "drafts"), true, nil)
	defer u.bg.Wait()
	now := time.Now()
	clock := func() time.Time { return now }
	l := u.gate
	l.after, l.now, l.last = 10*time.Minute, clock, now
	touch := l.touch
	u.onInput.Store(&touch)
	l.tick()

	now = now.Add(9 * time.Minute)
	l.tick()
	if l.isLocked() {
		t.Fatal("locked before ten quiet minutes")
	}
	// The pointer moving over the window is input; so is a change of tab.
	test.MoveMouse(w.Canvas(), fyne.NewPos(4, 4))
	now = now.Add(9 * time.Minute)
	l.tick()
	if l.isLocked() {
		t.Fatal("locked though the pointer moved 9 minutes ago")
	}
	u.tabs.SelectIndex(1)
	now = now.Add(9 * time.Minute)
	l.tick()
	now = now.Add(9 * time.Minute)
	l.tick()
	if l.isLocked() {
		t.Fatal("locked though the tab changed 9 minutes ago")
	}

	info := dialog.NewInformation("Record", "Rosa Tzul, +501 622 0000", w)
	info.Show()
	l.tick() // a dialog opening is input too
	now = now.Add(10 * time.Minute)
	l.tick()
	if !l.isLocked() || w.Canvas().Overlays().Top() != fyne.CanvasObject(l.cover) {
		t.Fatal("not locked after ten quiet minutes, over the dialog")
	}
	if !strings.Contains(l.view.intro.Text, "10 minutes") {
		t.Fatalf("the lock says %q", l.view.intro.Text)
	}
	if w.Canvas().Focused() != l.view.pass {
		t.Fatal("the passphrase entry has not the focus")
	}
	// A dialog a background task opens while locked goes beneath the cover.
	dialog.NewInformation("Sync", "Synced with hq-belmopan", w).Show()
	l.tick()
	if w.Canvas().Overlays().Top() != fyne.CanvasObject(l.cover) {
		t.Fatal("a dialog shows over the lock")
	}

	test.Type(l.view.pass, "a long walk to Belmopan")
	test.Tap(l.view.button)
	if !l.isLocked() || l.view.errLabel.Text != "Wrong passphrase: try again." {
		t.Fatalf("a wrong passphrase: locked %v, %q", l.isLocked(), l.view.errLabel.Text)
	}
	test.Type(l.view.pass, keyPassphrase)
	test.Tap(l.view.button)
	if l.isLocked() || l.cover != nil {
		t.Fatal("the right passphrase did not unlock the window")
	}
	if len(w.Canvas().Overlays().List()) != 2 {
		t.Fatalf("%d dialogs after unlocking, want the two shown", len(w.Canvas().Overlays().List()))
	}
	now = now.Add(9 * time.Minute)
	l.tick()
	if l.isLocked() {
		t.Fatal("locked again at once")
	}
}

// The set-up offers a passphrase for the node's key: typed twice, long
// enough; left empty, a warning says what that means.
func TestSetupSealsTheNewKey(t *testing.T) {
	ctx := context.Background()
	test.NewTempApp(t)
	v := newSetupView("en")
	v.name.SetText("cayo-laptop-07")
	v.role.SetSelected(text("en", "role.field"))
	v.district.SetSelected("Cayo")
	if !v.keyWarn.Visible() {
		t.Fatal("no warning for a key left in the clear")
	}
	if cfg := v.sealWith(node.DefaultConfig()); cfg.SealKey || cfg.Passphrase != nil {
		t.Fatal("sealed with no passphrase typed")
	}
	test.Type(v.keyPass, "hurricane")
	if v.keyWarn.Visible() {
		t.Fatal("the warning stays with a passphrase typed")
	}
	test.Type(v.keyPass2, "hurricane")
	if _, _, err := v.values(); err == nil || !strings.Contains(err.Error(), "at least 12") {
		t.Fatalf("a weak passphrase: %v", err)
	}
	v.keyPass.SetText(keyPassphrase)
	v.keyPass2.SetText(keyPassphrase + "!")
	if _, _, err := v.values(); err == nil || !strings.Contains(err.Error(), "differ") {
		t.Fatalf("two passphrases that differ: %v", err)
	}
	v.keyPass2.SetText(keyPassphrase)
	id, e, err := v.values()
	if err != nil {
		t.Fatal(err)
	}
	cfg := node.DefaultConfig()
	cfg.DataDir = filepath.Join(t.TempDir(), "node")
	cfg = v.sealWith(cfg)
	n, err := Create(ctx, cfg, id, e)
	if err != nil {
		t.Fatal(err)
	}
	n.Close()
	if sealed, err := node.KeySealed(cfg.DataDir); err != nil || !sealed {
		t.Fatalf("the set-up's node key is not sealed: %v", err)
	}
	v.keyPass.SetText("")
	if !v.keyWarn.Visible() {
		t.Fatal("no warning once the passphrase is emptied")
	}
	// Typed in the second entry alone, it is not a passphrase left empty:
	// the key would be made in the clear by one who meant to seal it.
	if _, _, err := v.values(); err == nil || !strings.Contains(err.Error(), "differ") {
		t.Fatalf("a passphrase typed in the second entry alone: %v", err)
	}
}
