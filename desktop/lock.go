package desktop

import (
	"context"
	"errors"
	"fmt"
	"image/color"
	"slices"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"lifeline/node"
)

// DefaultLockAfter is how long the app waits without input before it
// locks, when the node's key is sealed or its people sign in: the
// passphrase screen, or the sign-in, covers the window until a passphrase
// is typed again.
const DefaultLockAfter = 10 * time.Minute

// unlockView is a passphrase screen: the node key's, before a node whose
// key is sealed opens and over the window when the app locked after a
// quiet spell; or the sign-in of the node's people (who is set), over the
// window at start, after a quiet spell and when someone signs out.
type unlockView struct {
	lang     string
	intro    *widget.Label
	who      *widget.Select // the people who sign in; nil on the key's screen
	pass     *widget.Entry
	button   *widget.Button
	errLabel *widget.Label
	title    string
	action   string // the button's text
	// try opens the node, checks the passphrase against the sealed key
	// file, or signs a person in (who is "" but for the sign-in): it runs
	// Argon2id, off the UI thread, and returns the name signed in. done
	// runs on the UI thread once try accepts a passphrase; refused says
	// why it did not, on the UI thread too.
	try     func(who string, passphrase []byte) (string, error)
	done    func(who string)
	refused func(who string, err error) string
	// background runs work off the UI thread, and do hands what it shows
	// back to it (tests run both in line).
	background func(work func())
	do         func(func())
}

// newUnlockView is the screen of the node key's passphrase.
func newUnlockView(lang, intro string, try func([]byte) error, done func()) *unlockView {
	v := newPassView(lang, "lock.title", "lock.unlock", intro)
	v.try = func(_ string, p []byte) (string, error) { return "", try(p) }
	v.done = func(string) { done() }
	v.refused = func(_ string, err error) string {
		if errors.Is(err, node.ErrPassphrase) {
			return text(lang, "lock.wrong")
		}
		return node.Printable(err.Error())
	}
	return v
}

// newPassView is a passphrase screen titled by the text of title, whose
// button says the text of action; its caller sets try, done and refused.
func newPassView(lang, title, action, intro string) *unlockView {
	v := &unlockView{lang: lang, intro: widget.NewLabel(intro), pass: widget.NewPasswordEntry(), errLabel: widget.NewLabel(""),
		title: text(lang, title), action: text(lang, action),
		background: func(work func()) { go work() }, do: fyne.Do}
	v.intro.Wrapping = fyne.TextWrapWord
	v.pass.SetPlaceHolder(text(lang, "lock.pass"))
	v.pass.OnSubmitted = func(string) { v.submit() }
	v.button = widget.NewButton(v.action, v.submit)
	v.button.Importance = widget.HighImportance
	v.errLabel.Importance = widget.DangerImportance
	v.errLabel.Wrapping = fyne.TextWrapWord
	v.errLabel.Hide()
	return v
}

func (v *unlockView) content() fyne.CanvasObject {
	title := widget.NewLabelWithStyle(v.title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	form := container.NewVBox(title, v.intro)
	if v.who != nil {
		form.Add(v.who)
	}
	form.Add(v.pass)
	form.Add(v.errLabel)
	form.Add(v.button)
	// A column of a readable width, in the middle of the window.
	return container.NewCenter(container.New(&widthLayout{width: 420}, form))
}

// submit tries the passphrase typed. A wrong one is said under the entry,
// which is emptied, and the screen stays.
func (v *unlockView) submit() {
	if v.button.Disabled() {
		return // Enter pressed while a passphrase is being tried
	}
	who := ""
	if v.who != nil {
		if who = v.who.Selected; who == "" {
			v.fail(text(v.lang, "signin.pick"))
			return
		}
	}
	if v.pass.Text == "" {
		v.fail(text(v.lang, "lock.empty"))
		return
	}
	p := []byte(v.pass.Text)
	v.button.Disable()
	v.button.SetText(text(v.lang, "lock.checking"))
	v.background(func() {
		name, err := v.try(who, p)
		v.do(func() {
			v.button.SetText(v.action)
			v.button.Enable()
			v.pass.SetText("")
			if err != nil {
				v.fail(v.refused(who, err))
				return
			}
			v.errLabel.Hide()
			v.done(name)
		})
	})
}

func (v *unlockView) fail(msg string) {
	v.errLabel.SetText(msg)
	v.errLabel.Show()
}

// widthLayout lays its objects out one above the other, width wide.
type widthLayout struct{ width float32 }

func (l *widthLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Resize(size)
		o.Move(fyne.NewPos(0, 0))
	}
}

func (l *widthLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	s := fyne.NewSize(l.width, 0)
	for _, o := range objs {
		s = s.Max(fyne.NewSize(l.width, o.MinSize().Height))
	}
	return s
}

// Unlock shows the passphrase screen in win for the node of cfg.DataDir,
// whose key is sealed. done gets the node, opened as OpenNode opens it,
// with the passphrase typed (in cfg, to open it again), on the UI thread.
// A wrong passphrase is said on the screen, which stays.
func Unlock(ctx context.Context, win fyne.Window, cfg node.Config, lang string, done func(n *node.Node, note string, cfg node.Config)) {
	v := unlockScreen(ctx, cfg, lang, done)
	win.SetTitle(text(lang, "app.title") + " — " + text(lang, "lock.title"))
	win.SetContent(container.NewPadded(v.content()))
	win.Canvas().Focus(v.pass)
}

func unlockScreen(ctx context.Context, cfg node.Config, lang string, done func(*node.Node, string, node.Config)) *unlockView {
	var (
		n    *node.Node
		note string
	)
	var v *unlockView
	v = newUnlockView(lang, text(lang, "lock.intro.open"), func(p []byte) error {
		c := cfg
		c.Passphrase = func() ([]byte, error) { return p, nil }
		var err error
		if n, note, err = OpenNode(ctx, c, node.Identity{}); err == nil {
			cfg = c
		}
		return err
	}, func() { done(n, note, cfg) })
	return v
}

// locker covers the window with a passphrase screen (unlockView): when
// nobody has used it for a while, and when the app asks (the sign-in at
// start, someone signing out). It shows the window again once the screen
// accepts a passphrase. The node keeps running behind it: records still
// arrive and are passed on.
//
// Fyne gives an app no hook on every input, so what counts as input is
// what the window can see: the pointer moving or tapping where no widget
// takes it (an activity widget lies beneath the content), a key typed with
// nothing focused, and, looked at on every tick, a change of the focused
// widget, of what is typed in it, of the tab or of the dialogs shown.
type locker struct {
	win fyne.Window
	// after is how long without input locks the window; zero never does.
	after time.Duration
	now   func() time.Time
	// idle makes the screen that covers the window after a quiet spell,
	// or nil when nothing guards it (no key sealed, no people signing in).
	idle func() *unlockView

	mu     sync.Mutex
	last   time.Time
	seen   string // what the window showed at the last tick
	locked bool
	cover  *widget.PopUp
	view   *unlockView
	// tab says which tab is shown, for the fingerprint.
	tab func() int
	// clip is the system's clipboard, emptied as the window locks once
	// it has been on show (shown): what the app shows is what may be
	// copied, and the lock that covers it at start leaves what was copied
	// before, a passphrase to sign in with, as it is.
	clip  fyne.Clipboard
	shown bool
}

func newLocker(win fyne.Window, after time.Duration, idle func() *unlockView, tab func() int) *locker {
	l := &locker{win: win, after: after, now: time.Now, idle: idle, tab: tab}
	l.last = l.now()
	c := win.Canvas()
	typedKey, typedRune := c.OnTypedKey(), c.OnTypedRune()
	c.SetOnTypedKey(func(e *fyne.KeyEvent) {
		l.touch()
		if typedKey != nil {
			typedKey(e)
		}
	})
	c.SetOnTypedRune(func(r rune) {
		l.touch()
		if typedRune != nil {
			typedRune(r)
		}
	})
	return l
}

// run ticks until ctx ends, handing each tick to the UI thread with do.
func (l *locker) run(ctx context.Context, do func(func())) {
	every := min(l.after/4, 15*time.Second)
	if every <= 0 {
		every = time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			do(l.tick)
		}
	}
}

// touch records input now.
func (l *locker) touch() {
	l.mu.Lock()
	l.last = l.now()
	l.mu.Unlock()
}

// tick, on the UI thread, counts a change of what the window shows as
// input, and locks the window once it has had none for l.after.
func (l *locker) tick() {
	if l.isLocked() {
		// A dialog a background task opened since goes beneath the cover.
		if top := l.win.Canvas().Overlays().Top(); top != nil && top != fyne.CanvasObject(l.cover) {
			ov := l.win.Canvas().Overlays()
			removeOverlay(ov, l.cover)
			ov.Add(l.cover)
			l.focus()
		}
		return
	}
	l.shown = true
	if l.after <= 0 {
		return
	}
	if seen := l.fingerprint(); seen != l.seen {
		l.seen = seen
		l.touch()
	}
	l.mu.Lock()
	idle := l.now().Sub(l.last) >= l.after
	l.mu.Unlock()
	if !idle {
		return
	}
	if v := l.idle(); v != nil {
		l.lock(v)
		return
	}
	l.touch() // nothing guards the window: asked again after another spell
}

// minutes is l.after in whole minutes, at least one, for the screens.
func (l *locker) minutes() int { return max(1, int(l.after.Round(time.Minute)/time.Minute)) }

// fingerprint is what input changes on the window: the focused widget
// and, in an entry, its text and cursor; the tab; the top dialog.
func (l *locker) fingerprint() string {
	c := l.win.Canvas()
	s := fmt.Sprintf("%p", c.Focused())
	if e, ok := c.Focused().(*widget.Entry); ok {
		s += fmt.Sprintf(" %d:%d %d %x", e.CursorRow, e.CursorColumn, len(e.Text), fnv(e.Text))
	}
	if l.tab != nil {
		s += fmt.Sprintf(" tab %d", l.tab())
	}
	return s + fmt.Sprintf(" %p %d", c.Overlays().Top(), len(c.Overlays().List()))
}

// fnv is a 64-bit FNV-1a hash: a change of an entry's text, without
// keeping the text.
func fnv(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * 1099511628211
	}
	return h
}

// covered says the lock covers the window. Fyne hands the window's
// shortcuts (Ctrl+S with nothing focused) and the files dropped on it to
// the app whatever covers it: they do nothing then, so that whoever finds
// the window locked cannot save or fill the form beneath.
func (u *UI) covered() bool { return u.gate != nil && u.gate.isLocked() }

func (l *locker) isLocked() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.locked
}

// lock covers the window, its dialogs included, with v, until v accepts
// a passphrase, and empties the clipboard: what was copied from a record
// or a form (a name, a phone number) is not left for whoever comes to the
// laptop next to paste. Locked already, the window keeps the screen it
// has.
func (l *locker) lock(v *unlockView) {
	l.mu.Lock()
	if l.locked {
		l.mu.Unlock()
		return
	}
	l.locked = true
	l.mu.Unlock()
	if l.clip != nil && l.shown {
		l.clip.SetContent("")
	}
	done := v.done
	v.done = func(who string) {
		l.unlock()
		done(who)
	}
	l.view = v
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameBackground))
	l.cover = widget.NewModalPopUp(container.NewStack(bg, v.content()), l.win.Canvas())
	// As large as the window, whatever its size: the modal pop-up keeps
	// its content within the canvas.
	l.cover.Resize(fyne.NewSize(1<<20, 1<<20))
	l.cover.Show()
	l.focus()
}

// focus puts the cursor where the screen is typed in: the passphrase, or
// the name when none is picked yet.
func (l *locker) focus() {
	if l.view.who != nil && l.view.who.Selected == "" {
		l.win.Canvas().Focus(l.view.who)
		return
	}
	l.win.Canvas().Focus(l.view.pass)
}

// unlock, on the UI thread, takes the cover away.
func (l *locker) unlock() {
	removeOverlay(l.win.Canvas().Overlays(), l.cover)
	l.cover.Hide() // now only marks it hidden
	l.cover, l.view = nil, nil
	l.mu.Lock()
	l.locked = false
	l.mu.Unlock()
	l.shown = true
	l.seen = l.fingerprint()
	l.touch()
}

// removeOverlay takes o out of the canvas's overlays and keeps those
// above it, which Fyne's Remove would drop with it; their pop-ups still
// count themselves shown, as they are.
func removeOverlay(ov fyne.OverlayStack, o fyne.CanvasObject) {
	list := ov.List()
	i := slices.Index(list, o)
	if i < 0 {
		return
	}
	above := slices.Clone(list[i+1:])
	ov.Remove(o)
	for _, a := range above {
		ov.Add(a)
	}
}

// closeOverlays closes the dialogs and pop-ups on the canvas c.
func closeOverlays(c fyne.Canvas) {
	ov := c.Overlays()
	for top := ov.Top(); top != nil; top = ov.Top() {
		if p, ok := top.(*widget.PopUp); ok {
			p.Hide() // marks it hidden, as removing alone does not
		}
		ov.Remove(top)
	}
}

// activity lies beneath the window's content: the pointer moving over
// the window, or tapping, where no widget of the content takes it, is
// input. It draws nothing.
type activity struct {
	widget.BaseWidget
	touch func()
}

func newActivity(touch func()) *activity {
	a := &activity{touch: touch}
	a.ExtendBaseWidget(a)
	return a
}

func (a *activity) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(canvas.NewRectangle(color.Transparent))
}

func (a *activity) MouseIn(*desktop.MouseEvent)    { a.touch() }
func (a *activity) MouseMoved(*desktop.MouseEvent) { a.touch() }
func (a *activity) MouseOut()                      {}
func (a *activity) Tapped(*fyne.PointEvent)        { a.touch() }
