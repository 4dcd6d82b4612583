package desktop

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
	"github.com/go-gl/glfw/v3.3/glfw"
)

// The size the window asks for where the screen allows it, and the room
// left around it for the title bar, a panel or a task bar.
var (
	preferredSize = fyne.NewSize(1100, 760)
	screenMargin  = fyne.NewSize(24, 72)
	// safeSize is what the window opens at when the screen's size is not
	// known: it fits the 1024×600 screens of rugged laptops.
	safeSize = fyne.NewSize(1000, 528)
)

// screenSize is the size of the screen the window opens on, in Fyne's
// units, or false when it is not known. Tests set it.
var screenSize = primaryScreen

// windowSize is the size the window opens at: the preferred size, cut to
// the screen less its margin. Whatever the screen, every screen of the
// app scrolls (fitScroll), so nothing is out of reach.
func windowSize() fyne.Size {
	s, ok := screenSize()
	if !ok || s.Width <= 0 || s.Height <= 0 {
		return safeSize
	}
	return fyne.NewSize(
		max(320, min(preferredSize.Width, s.Width-screenMargin.Width)),
		max(240, min(preferredSize.Height, s.Height-screenMargin.Height)))
}

// primaryScreen asks GLFW, under Fyne's desktop driver, for the primary
// monitor's mode, and turns its pixels into Fyne's units as the driver
// does (its scale from the monitor's size in millimetres, and the user's
// FYNE_SCALE). It must run on the main goroutine, after the app made its
// first window (which starts GLFW); anywhere else (the test driver, a
// mobile one) GLFW refuses, and the size is not known.
func primaryScreen() (size fyne.Size, ok bool) {
	defer func() {
		if recover() != nil {
			size, ok = fyne.Size{}, false
		}
	}()
	if !strings.HasPrefix(fmt.Sprintf("%T", fyne.CurrentApp().Driver()), "*glfw.") || runtime.GOOS == "js" {
		return fyne.Size{}, false
	}
	m := glfw.GetPrimaryMonitor()
	if m == nil {
		return fyne.Size{}, false
	}
	mode := m.GetVideoMode()
	if mode == nil || mode.Width <= 0 || mode.Height <= 0 {
		return fyne.Size{}, false
	}
	scale := float32(1)
	if os.Getenv("WAYLAND_DISPLAY") == "" && os.Getenv("FYNE_DISABLE_DPI_DETECTION") == "" {
		// Fyne's own reckoning: 120 dpi is a scale of one, never less.
		if mm, _ := m.GetPhysicalSize(); mm > 0 {
			if dpi := float32(mode.Width) / (float32(mm) / 25.4); dpi >= 10 && dpi <= 1000 {
				scale = max(1, dpi/120)
			}
		}
	}
	if user := fyne.CurrentApp().Settings().Scale(); user > 0 {
		scale *= user
	}
	return fyne.NewSize(float32(mode.Width)/scale, float32(mode.Height)/scale), true
}

// fitScroll lets content be smaller than what it needs, scrolling in
// both directions: a window's smallest size is its content's, and a
// window the screen cannot hold hides its foot (Save, the language
// button) below the screen's edge. Where there is room, the content
// fills it, as if unscrolled.
func fitScroll(content fyne.CanvasObject) *container.Scroll {
	return container.NewScroll(content)
}

// focusFollower scrolls the field that takes the focus into view, when
// the focus moves with the keyboard (Tab) to a field below or above what
// a scroll shows. Fyne says nothing when the focus moves: the window
// looks, on the UI thread, a few times a second (follow).
type focusFollower struct {
	last fyne.Focusable
}

// followFocus follows the focus in w until ctx ends.
func followFocus(ctx context.Context, w fyne.Window) {
	var f focusFollower
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fyne.Do(func() { f.follow(w) })
		}
	}
}

// follow brings the focused object into view in each scroll around it,
// the innermost first, once each time the focus moves.
func (f *focusFollower) follow(w fyne.Window) {
	c := w.Canvas()
	focused := c.Focused()
	if focused == f.last {
		return
	}
	f.last = focused
	obj, ok := focused.(fyne.CanvasObject)
	if !ok || obj == nil {
		return
	}
	roots := []fyne.CanvasObject{c.Content()}
	for _, o := range c.Overlays().List() {
		roots = append(roots, o)
	}
	var scrolls []*container.Scroll
	for _, r := range roots {
		scrolls = append(scrolls, findScrolls(r, 0)...)
	}
	for i := len(scrolls) - 1; i >= 0; i-- {
		scrollIntoView(scrolls[i], obj)
	}
}

// findScrolls lists the visible scrolls under o, outer before inner,
// through the containers, tabs and pop-ups the app builds (a widget's
// own parts are not reachable, and need not be).
func findScrolls(o fyne.CanvasObject, depth int) []*container.Scroll {
	if o == nil || !o.Visible() || depth > 64 {
		return nil
	}
	switch o := o.(type) {
	case *container.Scroll:
		return append([]*container.Scroll{o}, findScrolls(o.Content, depth+1)...)
	case *fyne.Container:
		var out []*container.Scroll
		for _, c := range o.Objects {
			out = append(out, findScrolls(c, depth+1)...)
		}
		return out
	case *container.AppTabs:
		if t := o.Selected(); t != nil {
			return findScrolls(t.Content, depth+1)
		}
	case *container.Split:
		return append(findScrolls(o.Leading, depth+1), findScrolls(o.Trailing, depth+1)...)
	case *widget.PopUp:
		return findScrolls(o.Content, depth+1)
	}
	return nil
}

// scrollIntoView moves s so that obj shows whole (its top, if it is
// taller than s), when obj lies in s's content.
func scrollIntoView(s *container.Scroll, obj fyne.CanvasObject) {
	d := fyne.CurrentApp().Driver()
	at := d.AbsolutePositionForObject(obj)
	view := d.AbsolutePositionForObject(s)
	content := view.Subtract(s.Offset)
	cs := s.Content.Size()
	size := obj.Size()
	if at.X < content.X || at.Y < content.Y || at.X+size.Width > content.X+cs.Width+1 || at.Y+size.Height > content.Y+cs.Height+1 {
		return // not in this scroll
	}
	off := s.Offset
	top := at.Y - content.Y
	switch {
	case top < off.Y:
		off.Y = top
	case top+size.Height > off.Y+s.Size().Height:
		off.Y = min(top, top+size.Height-s.Size().Height)
	}
	left := at.X - content.X
	switch {
	case left < off.X:
		off.X = left
	case left+size.Width > off.X+s.Size().Width:
		off.X = min(left, left+size.Width-s.Size().Width)
	}
	if off != s.Offset {
		s.ScrollToOffset(off)
	}
}

// answerDialogs lets the keyboard answer the dialog on top of w while no
// field has the focus: Enter taps its confirming button (the one marked
// important, or its only one), Esc its dismissing one (the other). A
// dialog without buttons (work in progress) is left alone, as is any
// pop-up that is not a dialog (the lock's cover). Other keys go where
// they went before.
func answerDialogs(w fyne.Window) {
	c := w.Canvas()
	prev := c.OnTypedKey()
	c.SetOnTypedKey(func(e *fyne.KeyEvent) {
		if !answerDialog(c, e.Name) && prev != nil {
			prev(e)
		}
	})
}

// answerDialog taps the button of the top dialog that key answers, and
// says whether there was one.
func answerDialog(c fyne.Canvas, key fyne.KeyName) bool {
	var b *widget.Button
	switch buttons := dialogButtons(c.Overlays().Top()); key {
	case fyne.KeyReturn, fyne.KeyEnter:
		for _, x := range buttons {
			if x.Importance == widget.HighImportance {
				b = x
			}
		}
		if b == nil && len(buttons) == 1 {
			b = buttons[0]
		}
	case fyne.KeyEscape:
		for _, x := range buttons {
			if x.Importance != widget.HighImportance || len(buttons) == 1 {
				b = x
				break
			}
		}
	}
	if b == nil || b.Disabled() || b.OnTapped == nil {
		return false
	}
	b.OnTapped()
	return true
}

// dialogButtons are the buttons of a dialog Fyne's dialog package made:
// a modal pop-up whose content is its icon, background, content, buttons
// and title, in that order (fyne.io/fyne/v2/dialog, base.go). Nil for
// anything else.
func dialogButtons(o fyne.CanvasObject) []*widget.Button {
	p, ok := o.(*widget.PopUp)
	if !ok || !p.Visible() {
		return nil
	}
	box, ok := p.Content.(*fyne.Container)
	if !ok || len(box.Objects) != 5 {
		return nil
	}
	if _, ok := box.Objects[4].(*widget.Label); !ok {
		return nil
	}
	var out []*widget.Button
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch o := o.(type) {
		case *widget.Button:
			if o.Visible() {
				out = append(out, o)
			}
		case *fyne.Container:
			for _, x := range o.Objects {
				walk(x)
			}
		}
	}
	walk(box.Objects[3])
	return out
}
