package desktop

import (
	"context"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"lifeline/node"
	"lifeline/syncproto"
)

// onScreen makes the screen the window opens on w×h (0×0: not known)
// for the rest of the test.
func onScreen(t *testing.T, w, h float32) {
	prev := screenSize
	t.Cleanup(func() { screenSize = prev })
	screenSize = func() (fyne.Size, bool) { return fyne.NewSize(w, h), w > 0 }
}

// fits fails the test when what needs more than the screen of w×h.
func fits(t *testing.T, what string, need fyne.Size, w, h float32) {
	t.Helper()
	if need.Width > w || need.Height > h {
		t.Errorf("%s needs %v, more than a %v×%v screen", what, need, w, h)
	}
}

// The window opens within a rugged laptop's 1024×600 screen, and where
// the screen's size is not known; on a large screen, at 1100×760. What
// the window holds, every tab of an HQ in both languages and the set-up,
// asks for no more: a window cannot be smaller than its content, and
// what a screen cannot hold is out of reach.
func TestWindowFitsASmallScreen(t *testing.T) {
	onScreen(t, 1920, 1080)
	if got := windowSize(); got != fyne.NewSize(1100, 760) {
		t.Errorf("on a 1920×1080 screen the window opens at %v, want 1100×760", got)
	}
	onScreen(t, 0, 0)
	fits(t, "the window on a screen of unknown size", windowSize(), 1024, 600)
	onScreen(t, 1280, 800)
	fits(t, "the window", windowSize(), 1280, 800)
	onScreen(t, 1024, 600)
	size := windowSize()
	fits(t, "the window", size, 1024, 600)

	u := newTestUI(t, syncproto.RoleHQ, "Cayo")
	u.win.Resize(size)
	for _, lang := range []string{"en", "es"} {
		if err := u.SetLang(lang); err != nil {
			t.Fatal(err)
		}
		for i, tab := range u.tabs.Items {
			u.tabs.SelectIndex(i)
			fits(t, lang+": the "+tab.Text+" tab", u.win.Content().MinSize(), size.Width, size.Height)
		}
	}

	w := test.NewTempWindow(t, nil)
	w.Resize(size)
	s := newSetup(context.Background(), w, node.DefaultConfig(), "en", func(*node.Node, node.Config) {})
	for range 2 {
		fits(t, s.v.lang+": the set-up", w.Content().MinSize(), size.Width, size.Height)
		s.v.langBtn.OnTapped()
	}
}

// Tabbing into a field below what the window shows scrolls it into view.
func TestTabIntoALowFieldScrollsItIntoView(t *testing.T) {
	onScreen(t, 1024, 600)
	w := test.NewTempWindow(t, nil)
	w.Resize(windowSize())
	s := newSetup(context.Background(), w, node.DefaultConfig(), "en", func(*node.Node, node.Config) {})
	low := s.v.keyPass2
	c := w.Canvas()
	var f focusFollower
	for i := 0; i < 40 && c.Focused() != low; i++ {
		c.FocusNext()
		f.follow(w)
	}
	if c.Focused() != low {
		t.Fatal("Tab never reaches the second passphrase field")
	}
	scroll := s.v.scroll
	if scroll.Offset.Y <= 0 {
		t.Fatalf("the form did not scroll (offset %v)", scroll.Offset)
	}
	inView(t, scroll, low)
	// Back up with Shift-Tab: the first field comes back into view.
	for i := 0; i < 40 && c.Focused() != s.v.name; i++ {
		c.FocusPrevious()
		f.follow(w)
	}
	inView(t, scroll, s.v.name)
}

// inView fails the test unless o shows whole in s.
func inView(t *testing.T, s *container.Scroll, o fyne.CanvasObject) {
	t.Helper()
	d := fyne.CurrentApp().Driver()
	top := d.AbsolutePositionForObject(o).Y - d.AbsolutePositionForObject(s).Y
	if top < 0 || top+o.Size().Height > s.Size().Height+1 {
		t.Fatalf("the field is at %v in a view %v high (scrolled by %v)", top, s.Size().Height, s.Offset.Y)
	}
}

// Enter confirms the dialog on top, Esc dismisses it; a dialog of work
// in progress stays, and other keys go where they went.
func TestEnterAndEscAnswerDialogs(t *testing.T) {
	w := test.NewTempWindow(t, nil)
	w.Resize(fyne.NewSize(800, 500))
	var other []fyne.KeyName
	w.Canvas().SetOnTypedKey(func(e *fyne.KeyEvent) { other = append(other, e.Name) })
	answerDialogs(w)
	press := func(k fyne.KeyName) { w.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: k}) }
	top := func() fyne.CanvasObject { return w.Canvas().Overlays().Top() }

	for _, c := range []struct {
		key  fyne.KeyName
		want bool
	}{{fyne.KeyEscape, false}, {fyne.KeyReturn, true}, {fyne.KeyEnter, true}} {
		answer := "none"
		dialog.ShowConfirm("Remove?", "Remove Ana from this laptop?", func(ok bool) {
			answer = map[bool]string{true: "yes", false: "no"}[ok]
		}, w)
		press(c.key)
		if want := map[bool]string{true: "yes", false: "no"}[c.want]; answer != want || top() != nil {
			t.Fatalf("%s on a confirmation: answered %s (want %s), a dialog still up: %v", c.key, answer, want, top() != nil)
		}
	}
	dialog.ShowInformation("Lifeline", "Saved.", w)
	press(fyne.KeyEscape)
	if top() != nil {
		t.Fatal("Esc leaves an information dialog up")
	}
	dialog.ShowError(context.DeadlineExceeded, w)
	press(fyne.KeyReturn)
	if top() != nil {
		t.Fatal("Enter leaves an error dialog up")
	}
	busy := dialog.NewCustomWithoutButtons("Working…", widget.NewProgressBar(), w)
	busy.Show()
	press(fyne.KeyEscape)
	if top() == nil {
		t.Fatal("Esc closed a dialog of work in progress")
	}
	busy.Hide()
	press(fyne.KeyF5)
	if len(other) != 2 || other[0] != fyne.KeyEscape || other[1] != fyne.KeyF5 {
		t.Fatalf("keys passed on: %v, want the Esc no dialog took and F5", other)
	}
}
