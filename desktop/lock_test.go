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
	fdesktop "fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/storage"
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

// Fyne hands the window's shortcuts, and the files dropped on it, to the
// app past the lock's cover: Ctrl+S with nothing focused (a tap on the
// cover takes the focus from the passphrase), Ctrl+Shift+S, and photos
// dropped, would reach the form beneath. While the window is locked they
// do nothing: the responder's half-typed record is not saved by whoever
// finds the laptop, nor a stranger's photo put in it.
func TestTheLockLetsNoKeyNorDropThrough(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	fm := fillDamage(t, u)
	test.Type(fm.input(t, "damage_level").entry, "4")
	test.Type(fm.input(t, "household_size").entry, "5")

	// The lock a sealed key brings where no people sign in.
	u.sealed = true
	now := time.Now()
	l := u.gate
	l.after, l.now, l.last = 10*time.Minute, func() time.Time { return now }, now
	l.tick()
	now = now.Add(10 * time.Minute)
	l.tick()
	if !l.isLocked() {
		t.Fatal("not locked after ten quiet minutes")
	}
	c := u.win.Canvas()
	test.TapCanvas(c, fyne.NewPos(2, 2))
	if c.Focused() != nil {
		t.Fatal("a tap on the cover left the focus on the passphrase: the keys below would not reach the window")
	}
	save := &fdesktop.CustomShortcut{KeyName: fyne.KeyS, Modifier: fyne.KeyModifierShortcutDefault}
	another := &fdesktop.CustomShortcut{KeyName: fyne.KeyS, Modifier: fyne.KeyModifierShortcutDefault | fyne.KeyModifierShift}
	c.(fyne.Shortcutable).TypedShortcut(save)
	c.(fyne.Shortcutable).TypedShortcut(another)
	u.dropPhotos(fyne.NewPos(10, 10), []fyne.URI{storage.NewFileURI(photoJPEG(t, t.TempDir(), 120, 90, 9))})
	u.bg.Wait()
	if n := len(records(t, u, fm.t.Name)); n != 0 {
		t.Fatalf("keys typed at the locked window saved %d records", n)
	}
	if ps, err := u.node.Photos(); err != nil || len(ps) != 0 || len(fm.input(t, "photos").photos.refs) != 0 {
		t.Fatalf("a photo dropped on the locked window was kept (%v): %d in the node, %q in the form", err, len(ps), fm.input(t, "photos").photos.refs)
	}

	// Unlocked, the same keys save it.
	l.unlock()
	c.Unfocus()
	c.(fyne.Shortcutable).TypedShortcut(save)
	u.bg.Wait()
	if n := len(records(t, u, fm.t.Name)); n != 1 {
		t.Fatalf("Ctrl+S on the unlocked window saved %d records, want 1; the form says %q", n, fm.summary.Text)
	}
}

// What a responder copied (a name from a form, to paste in another
// field) does not stay on the clipboard once the window locks: whoever
// comes to the laptop next, or finds it locked, cannot paste it into
// another program. Before, it stayed until something else was copied.
func TestTheLockEmptiesTheClipboard(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	fm := fillDamage(t, u)
	head := fm.input(t, "head_of_household").entry
	test.Type(head, "Maria Tzul")
	head.TypedShortcut(&fyne.ShortcutSelectAll{})
	head.TypedShortcut(&fyne.ShortcutCopy{Clipboard: u.app.Clipboard()})
	if got := u.app.Clipboard().Content(); got != "Maria Tzul" {
		t.Fatalf("the clipboard holds %q once the name is copied", got)
	}
	u.sealed = true // the lock a sealed key brings where no people sign in
	now := time.Now()
	l := u.gate
	l.after, l.now, l.last = 10*time.Minute, func() time.Time { return now }, now
	l.tick()
	now = now.Add(10 * time.Minute)
	l.tick()
	if !l.isLocked() {
		t.Fatal("not locked after ten quiet minutes")
	}
	if got := u.app.Clipboard().Content(); got != "" {
		t.Fatalf("the locked window left %q on the clipboard", got)
	}
}

// The sign-in that covers the window as the app starts leaves the
// clipboard as it was: nothing of the app's was on show to be copied, and
// what is there may be the passphrase the person is about to paste. Once
// the window has been on show, signing out empties it.
func TestTheFirstSignInLeavesTheClipboard(t *testing.T) {
	ctx := context.Background()
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	if _, err := u.node.AddPerson(ctx, "Ana Cho", []byte(anaPass)); err != nil {
		t.Fatal(err)
	}
	clip := u.app.Clipboard()
	clip.SetContent(anaPass)
	u.RequireSignIn()
	if got := clip.Content(); got != anaPass {
		t.Fatalf("the sign-in at start left %q on the clipboard, want what was copied before", got)
	}
	signInAs(t, u, "Ana Cho", anaPass)
	clip.SetContent("Maria Tzul")
	test.Tap(findButton(u.header, "Switch person"))
	if got := clip.Content(); got != "" {
		t.Fatalf("signing out left %q on the clipboard", got)
	}
}
